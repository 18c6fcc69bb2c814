"""Audit log: who changed what, filtered by table, record, actor, action and dates, newest
first with keyset paging; each entry's field-by-field diff; CSV export of the filtered
view; the hash chain verified on demand. `?table=orders&record=<id>` opens a record's
history (the History links on orders, events and users)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from core.audit.browse import (
    EXPORT_CAP,
    AuditEntry,
    AuditFilters,
    Cursor,
    audit_filter_choices,
    browse_audit_log,
    export_audit_csv,
)
from core.audit.chain import verify_chain
from dashboard import session
from dashboard.runtime import show_error
from dashboard.text import md

ANY = "Any"
PAGE_SIZE = 25
FILTERS = "audit.filters"
# ("older" | "newer", cursor token) or None for the newest page.
POSITION = "audit.position"
# The query parameters last applied, so a deep link sets the filters once, not on every rerun.
LINKED = "audit.linked"
VERIFIED = "audit.verified"
QUICK_ENTRIES = 100_000
QUICK = f"The latest {QUICK_ENTRIES:,}"
EVERYTHING = "Everything"

session.signed_in()
st.title("Audit log")
st.caption(
    "Every change to users, roles, events, ticketing, orders, codes, seats, sponsorships,"
    " campaigns, API keys, webhooks, data requests and settings, written by the database"
    " with who did it and from where. Entries are sealed into a hash chain shortly after"
    " they are written; no one can change or delete them unnoticed."
)

actor = session.actor()

# A deep link (?table=orders&record=...) replaces the filters once.
link = {k: st.query_params.get(k, "") for k in ("table", "record", "action", "actor")}
if any(link.values()) and st.session_state.get(LINKED) != link:
    st.session_state[LINKED] = link
    st.session_state[FILTERS] = AuditFilters(
        table=link["table"] or None,
        record_id=link["record"] or None,
        action=link["action"] or None,
        actor_email=link["actor"] or None,
    )
    st.session_state.pop(POSITION, None)

filters: AuditFilters = st.session_state.get(FILTERS, AuditFilters())

try:
    choices = audit_filter_choices(actor)
except Exception as exc:
    show_error(exc)
    st.stop()

with st.form("audit_filters"):
    c1, c2, c3 = st.columns(3)
    tables = [ANY, *sorted(set(choices.tables) | ({filters.table} if filters.table else set()))]
    table = c1.selectbox("Table", tables, index=tables.index(filters.table or ANY))
    record = c2.text_input(
        "Record id", value=filters.record_id or "", help="Needs a table; composite keys a:b"
    )
    email = c3.text_input("Actor (email)", value=filters.actor_email or "")
    c4, c5, c6 = st.columns(3)
    actions = [ANY, *sorted(set(choices.actions) | ({filters.action} if filters.action else set()))]
    action = c4.selectbox("Action", actions, index=actions.index(filters.action or ANY))
    since = c5.date_input("From", value=filters.since, format="YYYY-MM-DD")
    until = c6.date_input("Until", value=filters.until, format="YYYY-MM-DD")
    applied = st.form_submit_button("Apply filters", icon=":material/filter_alt:")
if applied:
    filters = AuditFilters(
        table=None if table == ANY else table,
        record_id=record.strip() or None,
        actor_email=email.strip() or None,
        action=None if action == ANY else action,
        since=since if isinstance(since, date) else None,
        until=until if isinstance(until, date) else None,
    )
    st.session_state[FILTERS] = filters
    st.session_state.pop(POSITION, None)
    st.query_params.clear()
    st.session_state.pop(LINKED, None)
if filters != AuditFilters() and st.button("Clear filters", icon=":material/filter_alt_off:"):
    st.session_state[FILTERS] = AuditFilters()
    st.session_state.pop(POSITION, None)
    st.query_params.clear()
    st.session_state.pop(LINKED, None)
    st.rerun()

position = st.session_state.get(POSITION)
try:
    older = Cursor.parse(position[1]) if position and position[0] == "older" else None
    newer = Cursor.parse(position[1]) if position and position[0] == "newer" else None
    page = browse_audit_log(actor, filters, older_than=older, newer_than=newer, page_size=PAGE_SIZE)
except Exception as exc:
    show_error(exc)
    st.stop()


def _show(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _diff_table(entry: AuditEntry) -> pd.DataFrame:
    changes = entry.changes()
    return pd.DataFrame(
        {
            "Field": [c.field for c in changes],
            "Old": [_show(c.old) for c in changes],
            "New": [_show(c.new) for c in changes],
        }
    )


if page.unknown_actor:
    st.warning(
        md(f"No user has the email {filters.actor_email}; check the spelling."),
        icon=":material/person_off:",
    )
elif not page.entries:
    if position:
        st.info("No more entries this way.", icon=":material/info:")
    else:
        st.info(
            "No audit entries match these filters. Widen the dates or clear a filter.",
            icon=":material/info:",
        )

for entry in page.entries:
    record_label = f" · {entry.record_id}" if entry.record_id else ""
    title = (
        f"{entry.created_at:%Y-%m-%d %H:%M:%S} · **{md(entry.action)}** · {md(entry.table_name)}"
        f"{md(record_label)} · {md(entry.actor)}"
    )
    with st.expander(title):
        meta = [f"IP {entry.ip_address or '—'}", f"user agent {entry.user_agent or '—'}"]
        meta.append("sealed" if entry.sealed else "waiting to be sealed")
        if entry.is_redacted:
            meta.append("personal data erased (GDPR)")
        st.caption(md(" · ".join(meta) + f" · seq {entry.seq}"))
        diff = _diff_table(entry)
        if diff.empty:
            st.caption("No field values recorded.")
        else:
            st.dataframe(diff, hide_index=True, width="stretch")

prev_col, next_col, _ = st.columns([1, 1, 4])
if prev_col.button("Newer", icon=":material/chevron_left:", disabled=not page.has_newer):
    assert page.newer is not None
    st.session_state[POSITION] = ("newer", page.newer.token())
    st.rerun()
if next_col.button("Older", icon=":material/chevron_right:", disabled=not page.has_older):
    assert page.older is not None
    st.session_state[POSITION] = ("older", page.older.token())
    st.rerun()


def _export() -> bytes:
    # Runs when the button is clicked, not on every rerun.
    return "".join(export_audit_csv(actor, filters)).encode()


st.download_button(
    "Download CSV of this view",
    _export,
    file_name="audit-log.csv",
    mime="text/csv",
    icon=":material/download:",
    help=f"At most {EXPORT_CAP:,} entries, newest first; narrow the filters for more.",
    key="audit_csv",
)
st.caption(f"The export holds at most {EXPORT_CAP:,} entries, newest first.")

st.subheader("Tamper evidence")
st.caption(
    f"{choices.pending:,} entries waiting to be sealed (the sealer runs every few seconds)."
    " Verifying seals what it can first, then re-checks the sealed entries' hashes."
)
scope = st.radio(
    "Entries to verify",
    (QUICK, EVERYTHING),
    horizontal=True,
    help="Verifying everything reads the whole log: minutes on millions of entries.",
)
if st.button("Verify chain", icon=":material/verified:"):
    try:
        with st.spinner("Verifying sealed entries…"):
            st.session_state[VERIFIED] = verify_chain(
                actor, seal_first=True, latest=QUICK_ENTRIES if scope == QUICK else None
            )
    except Exception as exc:
        show_error(exc)
report = st.session_state.get(VERIFIED)
if report is not None:
    if report.ok:
        st.success(report.summary(), icon=":material/verified:")
    else:
        st.error(report.summary(), icon=":material/gpp_bad:")
