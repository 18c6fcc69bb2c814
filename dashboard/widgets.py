"""UI pieces every page shares: table downloads, confirmation of destructive actions,
earlier/later buttons.

Drawing only: no core calls here (a page hands in what to run), so a page stays the one
place that decides what runs.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.runtime import show_error

_PENDING = "widgets.confirm.{key}"


def show_flash(key: str) -> None:
    """Show, once, the success message an action left in `st.session_state[key]` before
    its rerun (a message written just before `st.rerun()` would never be seen)."""
    message = st.session_state.pop(key, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def download_table(table: pd.DataFrame, name: str, *, key: str, excel: bool = False) -> None:
    """A CSV download of `table` (and an Excel one when `excel`), saved as `name`.csv/.xlsx."""
    columns = st.columns(2 if excel else 1, gap="small")
    columns[0].download_button(
        "Download CSV",
        table.to_csv(index=False).encode(),
        file_name=f"{name}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=f"{key}_csv",
    )
    if excel:
        buffer = io.BytesIO()
        # Excel cannot store time-zone-aware datetimes; the sheet shows them in UTC.
        sheet = table.copy()
        for column in sheet.columns:
            if isinstance(sheet[column].dtype, pd.DatetimeTZDtype):
                sheet[column] = sheet[column].dt.tz_convert("UTC").dt.tz_localize(None)
        sheet.to_excel(buffer, index=False, sheet_name=name[:31] or "data")
        columns[1].download_button(
            "Download Excel",
            buffer.getvalue(),
            file_name=f"{name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/table_view:",
            key=f"{key}_xlsx",
        )


def confirmed(label: str, question: str, *, key: str, confirm_label: str | None = None) -> bool:
    """A two-step button for a destructive action: True on the rerun the person confirms.

    The first click shows `question` with a confirm and a cancel button; only the confirm
    returns True (once). The page then calls the core service.
    """
    pending = _PENDING.format(key=key)
    if not st.session_state.get(pending):
        if st.button(label, key=f"{key}_ask"):
            st.session_state[pending] = True
            st.rerun()
        return False
    st.warning(question, icon=":material/warning:")
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
