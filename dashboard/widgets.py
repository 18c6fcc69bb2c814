"""UI pieces every page shares: table downloads, tabs that keep their place, confirmation
of destructive actions, earlier/later buttons.

Drawing only: no core calls here (a page hands in what to run), so a page stays the one
place that decides what runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core.spreadsheets import EXCEL_MIME, table_csv, table_xlsx
from dashboard.runtime import show_error
from dashboard.text import md

_PENDING = "widgets.confirm.{key}"


def show_flash(key: str) -> None:
    """Show, once, the success message an action left in `st.session_state[key]` before
    its rerun (a message written just before `st.rerun()` would never be seen). The
    message is text: the names it quotes are not Markdown."""
    message = st.session_state.pop(key, None)
    if message:
        st.success(md(message), icon=":material/check_circle:")


def download_table(table: pd.DataFrame, name: str, *, key: str, excel: bool = False) -> None:
    """A CSV download of `table` (and an Excel one when `excel`), saved as `name`.csv/.xlsx.
    The files come from core.spreadsheets, so no cell of them is a live formula."""
    columns = st.columns(2 if excel else 1, gap="small")
    columns[0].download_button(
        "Download CSV",
        table_csv(table),
        file_name=f"{name}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"{key}_csv",
    )
    if excel:
        columns[1].download_button(
            "Download Excel",
            table_xlsx(table, sheet=name),
            file_name=f"{name}.xlsx",
            mime=EXCEL_MIME,
            icon=":material/table_view:",
            key=f"{key}_xlsx",
        )


def kept_tabs(labels: Sequence[str], *, key: str, link: bool = True) -> Sequence[Any]:
    """Tabs that stay where the person put them: the open tab is a widget value kept in
    `st.session_state[key]`, so the rerun after an action (a flash message above, a new
    row in a list) opens the same tab again instead of the first. With `link` the open
    tab is also the URL's `?key=label`, so a link or a reload opens it too; tabs drawn
    many times on one page (each chart's) keep their place without crowding the URL.

    Switching tabs reruns the page (that is how the server learns the tab)."""
    if link:
        return st.tabs(list(labels), key=key, bind="query-params")
    return st.tabs(list(labels), key=key, on_change="rerun")


def confirmed(label: str, question: str, *, key: str, confirm_label: str | None = None) -> bool:
    """A two-step button for a destructive action: True on the rerun the person confirms.

    The first click shows `question` (text, not Markdown: it names what is at stake)
    with a confirm and a cancel button; only the confirm returns True (once). The page
    then calls the core service. `label` is shown as Markdown.
    """
    pending = _PENDING.format(key=key)
    if not st.session_state.get(pending):
        if st.button(label, key=f"{key}_ask"):
            st.session_state[pending] = True
            st.rerun()
        return False
    st.warning(md(question), icon=":material/warning:")
    yes, no = st.columns(2, gap="small")
    if yes.button(confirm_label or f"Yes, {label.lower()}", type="primary", key=f"{key}_yes"):
        st.session_state.pop(pending, None)
        return True
    if no.button("Cancel", key=f"{key}_no"):
        st.session_state.pop(pending, None)
        st.rerun()
    return False


def pick_event(events: Sequence[Any], *, key: str) -> uuid.UUID:
    """A selectbox over events (anything with event_id, title, start_date and status);
    returns the chosen event's id. `events` must not be empty."""
    by_id = {str(e.event_id): e for e in events}
    picked = st.selectbox(
        "Event",
        tuple(by_id),
        format_func=lambda k: (
            f"{by_id[k].title} · {by_id[k].start_date:%Y-%m-%d} · {by_id[k].status}"
        ),
        key=key,
    )
    return uuid.UUID(picked)


def move_buttons(
    columns: Sequence[Any],
    labels: tuple[str, str],
    move: Callable[[int], object],
    *,
    keys: tuple[str, str],
    disabled: tuple[bool, bool] = (False, False),
) -> None:
    """Two buttons in `columns` that move something one place earlier and later: a click
    calls `move(-1)` or `move(1)` (the page's core call) and reruns, or shows its error."""
    for column, label, key, off, step in zip(
        columns[:2], labels, keys, disabled, (-1, 1), strict=True
    ):
        if column.button(label, key=key, disabled=off):
            try:
                move(step)
            except Exception as exc:
                show_error(exc)
            else:
                st.rerun()
