"""Retention & keys: what the retention policy would remove now, running it after a
confirmation, editing a category's period; the encryption key registry and key rotation."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from core.crypto import KeyVersionRow, list_key_versions, rotate_key
from core.retention import RetentionPlan, plan_retention, run_retention, set_retention_period
from dashboard import session
from dashboard.charts import plot
from dashboard.runtime import show_error
from dashboard.widgets import confirmed, download_table, kept_tabs, show_flash

# The last run's or rotation's outcome, shown once after the rerun that follows it.
LAST_RUN = "retention.last_run"
FLASH = "retention.flash"
ACTIONS = {"delete": "Delete", "anonymise": "Anonymise", "clear": "Clear"}

session.signed_in()
st.title("Retention & keys")
st.caption(
    "How long each kind of data is kept, what has expired, and the keys that encrypt"
    " payment details. Audit log entries are never deleted."
)

show_flash(FLASH)

actor = session.actor()


def _plan_table(plan: RetentionPlan, rows_label: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Category": [line.label for line in plan.lines],
            "Setting": [line.key for line in plan.lines],
            "Action": [ACTIONS.get(line.action, line.action) for line in plan.lines],
            "Period": [line.period or "not configured" for line in plan.lines],
            "Cutoff": pd.to_datetime([line.cutoff for line in plan.lines], utc=True),
            rows_label: [line.rows for line in plan.lines],
            "Whole months dropped": [", ".join(line.partitions) for line in plan.lines],
            "Why": [line.why for line in plan.lines],
        }
    )


def _keys_table(keys: list[KeyVersionRow]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Key": [k.key_name for k in keys],
            "Version": [k.key_version for k in keys],
            "Active": [k.is_active for k in keys],
            "Reference": [k.key_reference for k in keys],
            "Key configured here": [k.configured for k in keys],
            "Ciphertexts": [k.rows for k in keys],
            "Created": pd.to_datetime([k.created_at for k in keys], utc=True),
            "Rotated at": pd.to_datetime([k.rotated_at for k in keys], utc=True),
            "Algorithm": [k.algorithm for k in keys],
        }
    )


retention_tab, keys_tab = kept_tabs(["Retention", "Encryption keys"], key="tab")

with retention_tab:
    last = st.session_state.pop(LAST_RUN, None)
    if isinstance(last, RetentionPlan):
        st.success(
            f"Retention ran as of {last.as_of:%Y-%m-%d %H:%M} UTC and treated {last.total:,}"
            " rows; the run is recorded in the audit log.",
            icon=":material/check_circle:",
        )
        result = _plan_table(last, "Rows treated")
        st.dataframe(result, hide_index=True, width="stretch")
        download_table(result, "retention-run", key="retention_result")

    try:
        plan = plan_retention(actor)
    except Exception as exc:
        show_error(exc)
        st.stop()

    st.subheader("Dry run: what a run would do now")
    table = _plan_table(plan, "Rows affected")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"Cutoff": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
    download_table(table, "retention-dry-run", key="retention_plan")
    if plan.total:
        chart = px.bar(
            table[table["Rows affected"] > 0],
            x="Rows affected",
            y="Category",
            orientation="h",
            title="Rows past their period",
        )
        plot(chart, width="stretch")
        question = (
            f"Delete or anonymise {plan.total:,} rows in"
            f" {sum(1 for line in plan.lines if line.rows)} categories? This cannot be undone."
        )
        if confirmed("Run retention", question, key="retention_run"):
            bar = st.progress(0.0, text="Starting retention…")

            def _progress(done: int, total: int, label: str) -> None:
                bar.progress(done / max(total, 1), text=f"{label}…")

            try:
                st.session_state[LAST_RUN] = run_retention(actor, progress=_progress)
            except Exception as exc:
                show_error(exc)
            else:
                st.rerun()
    else:
        st.info(
            "Nothing is past its retention period: a run now would change nothing.",
            icon=":material/info:",
        )

    st.subheader("Change a period")
    with st.form("retention_period", clear_on_submit=False):
        labels = {line.key: line.label for line in plan.lines}
        cols = st.columns([3, 2, 1], vertical_alignment="bottom")
        key = cols[0].selectbox(
            "Category", tuple(labels), format_func=labels.get, key="retention_category"
        )
        period = cols[1].text_input(
            "Period",
            placeholder="P90D",
            help="An ISO 8601 duration (P90D, P1Y, P2Y6M) or days",
            key="retention_period",
        )
        if cols[2].form_submit_button("Save period"):
            try:
                stored = set_retention_period(actor, key, period)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[FLASH] = f"{labels[key]} are now kept for {stored}."
                st.rerun()

with keys_tab:
    try:
        keys = list_key_versions(actor)
    except Exception as exc:
        show_error(exc)
        st.stop()
    if not keys:
        st.info("No encryption key is registered yet.", icon=":material/info:")
    else:
        registry = _keys_table(keys)
        st.dataframe(registry, hide_index=True, width="stretch")
        download_table(registry, "encryption-keys", key="keys_table")

        st.subheader("Rotate a key")
        st.caption(
            "Make a new key with `python -m core new-key`, put it in the environment (or"
            " .streamlit/secrets.toml) under a new name, then rotate to `env:THAT_NAME`. Every"
            " ciphertext is re-encrypted with it; rotating again to the same reference resumes"
            " an interrupted rotation."
        )
        names = sorted({k.key_name for k in keys})
        cols = st.columns(2)
        name = cols[0].selectbox("Key", names, key="rotate_name")
        reference = cols[1].text_input(
            "New key reference", key="rotate_reference", placeholder="env:FASHIONISTAS_KEY_V3"
        )
        question = (
            f"Rotate {name} to {reference or '(no reference)'} and re-encrypt its ciphertexts?"
        )
        if confirmed("Rotate key", question, key="rotate_key", confirm_label="Yes, rotate"):
            bar = st.progress(0.0, text="Registering the new key version…")

            def _rotated(done: int, total: int) -> None:
                bar.progress(done / total if total else 1.0, text=f"{done:,} of {total:,}")

            try:
                report = rotate_key(actor, name, reference.strip(), progress=_rotated)
            except Exception as exc:
                show_error(exc)
            else:
                verb = "Resumed and finished" if report.resumed else "Rotated"
                st.session_state[FLASH] = (
                    f"{verb} {report.key_name}: version {report.active_version} is active and"
                    f" {report.total:,} ciphertexts were re-encrypted."
                )
                st.rerun()
