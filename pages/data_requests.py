"""Data requests: GDPR data-subject requests from intake to completion — the work list
with deadlines, identity verification, assignment, status, discovery, the export bundle
(a background job with progress), erasure, rectification and restriction."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from core.gdpr.discovery import TITLES, discover_request
from core.gdpr.erasure import MatchesToReview, erase, find_matches
from core.gdpr.export import export_bundle, request_export
from core.gdpr.rectification import RECTIFIABLE, current_values, rectify, set_restriction
from core.gdpr.requests import (
    REQUEST_TYPES,
    STATUSES,
    VERIFICATION_METHODS,
    RequestDraft,
    RequestSummary,
    assign,
    complete,
    create_request,
    get_request,
    list_assignees,
    list_requests,
    reject,
    start_processing,
    verify_identity,
)
from core.gdpr.review import MatchView, decide_matches, list_matches
from dashboard import session
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, show_flash

ANY = "Any"
FLASH = "dsr.flash"
PICKED = "dsr_pick"
DIFF = "dsr.diff"
NEW_FORM = "dsr.new_form"
STOPPED = "dsr.erasure_stopped"
DECISION_LABELS = {
    "keep": "Keep: someone else's record",
    "erase": "Erase: it is this person's",
}
DUE_LABELS = {"overdue": "Overdue", "due_soon": "Due within 7 days", "on_time": "", "closed": ""}
DUE_FILTERS = {ANY: None, "Overdue": "overdue", "Due within 7 days": "due_soon"}
SORTS = {
    "Due date (soonest first)": ("Due", True),
    "Received (newest first)": ("Received", False),
    "Status": ("Status", True),
    "Type": ("Type", True),
}
METHOD_LABELS = {
    "email_link": "Confirmed by email link",
    "id_document": "ID document checked",
    "account_login": "Signed in to their account",
    "phone_call": "Phone call with security questions",
    "other": "Other (see notes)",
}

session.signed_in()
st.title("Data requests")
st.caption(
    "GDPR data-subject requests: access, portability, erasure, rectification and"
    " restriction, each due one month after it was received."
)

show_flash(FLASH)

actor = session.actor()
try:
    assignees = list_assignees(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
assignee_names = {str(a.user_id): a.full_name for a in assignees}


def _done(message: str) -> None:
    st.session_state[FLASH] = message
    st.rerun()


def _table(rows: list[RequestSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Subject": [r.subject_email for r in rows],
            "Name": [r.subject_name or "" for r in rows],
            "Type": [r.request_type for r in rows],
            "Status": [r.status for r in rows],
            "Received": pd.to_datetime([r.submitted_at for r in rows], utc=True),
            "Due": pd.to_datetime([r.due_at for r in rows], utc=True),
            "Deadline": [DUE_LABELS[r.due] for r in rows],
            "Assigned to": [r.assignee_name or "" for r in rows],
            "Identity verified": [r.identity_verified_at is not None for r in rows],
        }
    )


def _matches_table(matches: list[MatchView]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "#": list(range(1, len(matches) + 1)),
            "Record": [m.record for m in matches],
            "Field": [f"{m.cell.table}.{m.cell.column}" for m in matches],
            "Found": [", ".join(m.matched) for m in matches],
            "Value now": [m.value for m in matches],
            "Decision": [DECISION_LABELS.get(m.decision or "", "to decide") for m in matches],
            "Reason": [m.reason or "" for m in matches],
            "Decided by": [m.decided_by or "" for m in matches],
            "Decided at": pd.to_datetime([m.decided_at for m in matches], utc=True),
        }
    )


def _highlight(row: pd.Series) -> list[str]:
    colour = {"Overdue": "#fde2e1", "Due within 7 days": "#fff4d6"}.get(row["Deadline"], "")
    return [f"background-color: {colour}" if colour else ""] * len(row)


work_list, intake = kept_tabs(["Requests", "New request"], key="tab")

with intake:
    form_id = st.session_state.get(NEW_FORM, 0)
    with st.form(f"dsr_new_{form_id}"):
        left, right = st.columns(2)
        email = left.text_input("Subject's email", key="dsr_new_email")
        kind = right.selectbox("Request type", REQUEST_TYPES, key="dsr_new_type")
        received_day = left.date_input(
            "Received on (UTC)", value=datetime.now(UTC).date(), key="dsr_new_day"
        )
        channel = right.selectbox(
            "Received through", ("web form", "e-mail", "letter", "phone"), key="dsr_new_channel"
        )
        method = left.selectbox(
            "Identity verified by",
            (None, *VERIFICATION_METHODS),
            format_func=lambda m: "Not verified yet" if m is None else METHOD_LABELS[m],
            key="dsr_new_method",
        )
        notes = st.text_area("Notes", key="dsr_new_notes", max_chars=2000)
        submitted = st.form_submit_button("Record request", type="primary", key="dsr_new_submit")
    if submitted:
        now = datetime.now(UTC)
        received = datetime.combine(received_day, time(0, 0), tzinfo=UTC)
        if received_day == now.date():
            received = now
        try:
            new_id = create_request(
                actor,
                RequestDraft(
                    subject_email=email,
                    request_type=kind,
                    received_at=received,
                    verification_method=method,
                    notes=notes,
                    channel=channel,
                ),
            )
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state[NEW_FORM] = form_id + 1
            st.session_state[PICKED] = str(new_id)
            _done(f"Request recorded for {email.strip()}; it is due in one month.")

with work_list:
    filters = st.columns([2, 2, 2, 2, 3])
    status = filters[0].selectbox("Status", (ANY, *STATUSES), key="dsr_status")
    kind_filter = filters[1].selectbox("Type", (ANY, *REQUEST_TYPES), key="dsr_type")
    assignee_filter = filters[2].selectbox(
        "Assigned to",
        (ANY, *assignee_names),
        format_func=lambda k: assignee_names.get(k, k),
        key="dsr_assignee",
    )
    due_filter = filters[3].selectbox("Deadline", tuple(DUE_FILTERS), key="dsr_due")
    search = filters[4].text_input("Search", placeholder="Email or name", key="dsr_search")
    sort_by = st.selectbox("Sort by", tuple(SORTS), key="dsr_sort")
    try:
        rows = list_requests(
            actor,
            status=None if status == ANY else status,
            request_type=None if kind_filter == ANY else kind_filter,
            assignee=None if assignee_filter == ANY else uuid.UUID(assignee_filter),
            due=DUE_FILTERS[due_filter],
            search=search,
        )
    except Exception as exc:
        show_error(exc)
        st.stop()
    if not rows:
        st.info(
            "No requests match these filters. Clear them, or record a request on the"
            " **New request** tab.",
            icon=":material/inbox:",
        )
    else:
        table = _table(rows)
        column, ascending = SORTS[sort_by]
        order = table.sort_values(column, ascending=ascending, kind="stable").index
        table = table.loc[order].reset_index(drop=True)
        rows = [rows[i] for i in order]
        overdue = sum(r.due == "overdue" for r in rows)
        soon = sum(r.due == "due_soon" for r in rows)
        metrics = st.columns(3)
        metrics[0].metric("Requests", len(rows))
        metrics[1].metric("Overdue", overdue)
        metrics[2].metric("Due within 7 days", soon)
        st.dataframe(
            table.style.apply(_highlight, axis=1),
            hide_index=True,
            width="stretch",
            column_config={
                "Received": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                "Due": st.column_config.DatetimeColumn(format="YYYY-MM-DD"),
            },
        )
        download_table(table, "data-requests", key="dsr_csv")

    st.divider()
    options = {str(r.request_id): r for r in rows}
    if st.session_state.get(PICKED) not in options:
        st.session_state.pop(PICKED, None)
    if not options:
        st.stop()
    picked = st.selectbox(
        "Open a request",
        tuple(options),
        format_func=lambda k: (
            # No status here: a selectbox keeps showing the label it was opened with.
            f"{options[k].subject_email} · {options[k].request_type}"
            f" · received {options[k].submitted_at:%Y-%m-%d}"
        ),
        key=PICKED,
    )

request_id = uuid.UUID(picked)
try:
    detail = get_request(actor, request_id)
except Exception as exc:
    show_error(exc)
    st.stop()
summary = detail.summary
is_open = summary.status in ("pending", "processing")

st.subheader(f"{summary.request_type.capitalize()} request · {md(summary.subject_email)}")
top = st.columns(4)
top[0].metric("Status", summary.status)
top[1].metric("Due", f"{summary.due_at:%Y-%m-%d}")
top[2].metric("Assigned to", md(summary.assignee_name or "nobody"))
top[3].metric("Account", md(summary.subject_name or "no account"))
if summary.due == "overdue":
    st.error("This request is past its one-month deadline.", icon=":material/alarm:")
elif summary.due == "due_soon":
    st.warning("This request is due within 7 days.", icon=":material/schedule:")
if detail.rejection_reason:
    st.info(f"Rejected: {md(detail.rejection_reason)}")
if detail.notes:
    st.caption(f"Notes: {md(detail.notes)}")

if is_open:
    st.markdown("##### Identity and assignment")
    ident, owner_col = st.columns(2)
    with ident:
        if summary.identity_verified_at is not None:
            st.success(
                f"Identity verified {summary.identity_verified_at:%Y-%m-%d %H:%M} UTC:"
                f" {METHOD_LABELS.get(detail.identity_verification_method or '', 'recorded')}",
                icon=":material/verified_user:",
            )
        else:
            st.warning("Identity not verified yet.", icon=":material/gpp_maybe:")
            method = st.selectbox(
                "Verification method",
                VERIFICATION_METHODS,
                format_func=METHOD_LABELS.get,
                key="dsr_verify_method",
            )
            if st.button("Record identity verification", key="dsr_verify"):
                try:
                    verify_identity(actor, request_id, method)
                except Exception as exc:
                    show_error(exc)
                else:
                    _done("Identity verification recorded.")
    with owner_col:
        choices = ("", *assignee_names)
        current = str(summary.assigned_to) if summary.assigned_to else ""
        who = st.selectbox(
            "Assignee",
            choices,
            index=choices.index(current) if current in choices else 0,
            format_func=lambda k: assignee_names.get(k, "Nobody"),
            key="dsr_assign_to",
        )
        if st.button("Assign", key="dsr_assign"):
            try:
                assign(actor, request_id, uuid.UUID(who) if who else None)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"Assigned to {assignee_names.get(who, 'nobody')}.")

    st.markdown("##### Status")
    moves = st.columns(3)
    if summary.status == "pending" and moves[0].button(
        "Start processing", type="primary", key="dsr_start"
    ):
        try:
            start_processing(actor, request_id)
        except Exception as exc:
            show_error(exc)
        else:
            _done("The request is being processed.")
    if (
        summary.status == "processing"
        and summary.request_type != "erasure"
        and moves[1].button("Mark completed", key="dsr_complete")
    ):
        try:
            complete(actor, request_id)
        except Exception as exc:
            show_error(exc)
        else:
            _done("The request is completed.")
    with moves[2].popover("Reject…"):
        reason = st.text_area("Reason (told to the requester)", key="dsr_reject_reason")
        if st.button("Reject the request", key="dsr_reject"):
            try:
                reject(actor, request_id, reason)
            except Exception as exc:
                show_error(exc)
            else:
                _done("The request is rejected.")

if detail.outcome:
    with st.expander("Outcome", expanded=not is_open):
        st.json(detail.outcome)
        if summary.request_type == "erasure" and not is_open:
            try:
                reviewed = list_matches(actor, request_id)
            except Exception as exc:
                show_error(exc)
            else:
                if reviewed:
                    st.caption("Matches reviewed before the erasure completed:")
                    st.dataframe(_matches_table(reviewed), hide_index=True, width="stretch")

exported_and_closed = summary.status == "completed" and detail.export_file is not None
if not is_open and summary.request_type != "restriction" and not exported_and_closed:
    st.stop()

if is_open:
    st.markdown("##### What we hold about this person")
if is_open and st.toggle("Search every table now", key="dsr_discover"):
    try:
        with st.spinner("Searching every table…"):
            found = discover_request(actor, request_id)
    except Exception as exc:
        show_error(exc)
    else:
        counts = pd.DataFrame(
            {
                "Category": [TITLES[name] for name in found.categories],
                "Records": [len(rows) for rows in found.categories.values()],
            }
        )
        st.dataframe(counts, hide_index=True, width="stretch")
        held = [name for name, rows in found.categories.items() if rows]
        if held:
            shown = st.selectbox("Show", held, format_func=TITLES.get, key="dsr_category")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            k: json.dumps(v) if isinstance(v, dict | list) else v
                            for k, v in r.items()
                        }
                        for r in found.categories[shown]
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
        else:
            st.info("Nothing is held about this person.")


def _running(job: object) -> bool:
    return getattr(job, "status", None) in ("pending", "running")


def export_panel() -> None:
    """The export job's progress while it runs; the download once done."""
    try:
        current = get_request(actor, request_id)
    except Exception as exc:
        show_error(exc)
        return
    job = current.export_job
    if _running(detail.export_job) and not _running(job):
        # Finished since the page was drawn: redraw it all, which stops the polling.
        st.rerun()
    if job is not None and _running(job):
        st.progress(
            min(1.0, float(job.progress) / 100),
            text=job.progress_message or "Queued; the worker picks it up in a moment",
        )
        return
    if job is not None and job.status == "failed":
        st.error(f"The export failed: {md(job.error)}", icon=":material/error:")
    if current.export_file and current.exported_at is not None:
        st.caption(
            f"Exported {current.exported_at:%Y-%m-%d %H:%M} UTC · fingerprint"
            f" {(current.export_fingerprint or '')[:12]}…"
        )
        try:
            name, data = export_bundle(actor, request_id)
        except Exception as exc:
            show_error(exc)
        else:
            st.download_button(
                "Download the bundle (zip)",
                data,
                file_name=name,
                mime="application/zip",
                icon=":material/download:",
                key="dsr_download",
            )


if exported_and_closed:
    st.markdown("##### Export")
    export_panel()
elif summary.status == "processing":
    st.markdown("##### Export (access and portability)")
    st.caption(
        "A zip with JSON and CSV per category, built in the background. An erasure is"
        " based on this export."
    )
    if st.button("Build the export", key="dsr_export"):
        try:
            request_export(actor, request_id)
        except Exception as exc:
            show_error(exc)
        else:
            _done("The export is queued.")
    # Poll every two seconds only while a job is queued or running.
    st.fragment(export_panel, run_every=2 if _running(detail.export_job) else None)()


def erasure_panel() -> None:
    """Matches in other people's records, their decisions, and completing the erasure."""
    st.markdown("##### Erasure")
    st.caption(
        "Anonymizes the person everywhere the registry of personal data finds them (orders"
        " keep their numbers, amounts, dates and tax), redacts audit entries, and proves"
        " with a scan of every text and JSON column that their e-mail, name and phone are"
        " gone, except where a match below is kept with a reason."
    )
    stopped = st.session_state.pop(STOPPED, None)
    if stopped:
        st.warning(stopped, icon=":material/rule:")
    try:
        matches = list_matches(actor, request_id)
    except Exception as exc:
        show_error(exc)
        return
    undecided = [m for m in matches if m.decision is None]
    st.markdown("###### Matches in other records")
    st.caption(
        "Places outside the person's own records that hold their e-mail, name or phone:"
        " someone else's order with the same number, a namesake, a text mentioning them."
        " Decide each: erase it (it is this person's after all) or keep it, saying whose"
        " it is. The scan also runs when the erasure completes; new matches stop it."
    )
    if st.button("Check for matches", key="dsr_find_matches", icon=":material/search:"):
        try:
            with st.spinner("Trying the erasure and scanning every table…"):
                scanned = find_matches(actor, request_id)
        except Exception as exc:
            show_error(exc)
        else:
            _done(
                f"The scan found {scanned.found} match(es) outside the person's own records"
                f" ({scanned.new} new, {scanned.undecided} to decide)."
                if scanned.found
                else "No matches outside the person's own records: the erasure can complete."
            )
    if matches:
        table = _matches_table(matches)
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                "Decided at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
            },
        )
        numbers = {str(m.match_id): i for i, m in enumerate(matches, start=1)}
        with st.form("dsr_decide", clear_on_submit=True):
            every = st.checkbox(f"All undecided matches ({len(undecided)})", key="dsr_match_all")
            chosen = st.multiselect(
                "Or these matches",
                tuple(numbers),
                format_func=lambda k: (
                    f"#{numbers[k]} {matches[numbers[k] - 1].record}"
                    f" · {matches[numbers[k] - 1].cell.column}"
                ),
                key="dsr_match_pick",
            )
            decision = st.radio(
                "Decision",
                ("keep", "erase"),
                format_func=DECISION_LABELS.get,
                key="dsr_match_decision",
            )
            reason = st.text_input(
                "Reason (required to keep: whose record it is)",
                max_chars=500,
                key="dsr_match_reason",
            )
            submitted = st.form_submit_button("Record decision", key="dsr_match_submit")
        if submitted:
            ids = [m.match_id for m in undecided] if every else [uuid.UUID(k) for k in chosen]
            try:
                n = decide_matches(actor, request_id, ids, decision, reason)
            except Exception as exc:
                show_error(exc)
            else:
                _done(f"{n} decision(s) recorded.")
    else:
        st.caption("No matches recorded yet.")
    if undecided:
        st.info(
            f"{len(undecided)} match(es) still need a decision; completing stops while the"
            " scan finds them.",
            icon=":material/pending_actions:",
        )
    if confirmed(
        "Complete erasure",
        f"Erase every personal record of {summary.subject_email}, keeping only the matches"
        " decided 'keep'? This cannot be undone.",
        key="dsr_erase",
    ):
        try:
            result = erase(actor, request_id)
        except MatchesToReview as exc:
            st.session_state[STOPPED] = exc.message
            st.rerun()
        except Exception as exc:
            show_error(exc)
        else:
            done = ", ".join(f"{t}: {n}" for t, n in sorted(result.counts.items()))
            _done(
                f"The person is erased ({done}; {result.matches_kept} match(es) kept,"
                f" {result.matches_erased} erased); the request is completed."
            )


if summary.request_type == "erasure" and summary.status == "processing":
    erasure_panel()

if summary.request_type == "rectification" and summary.status == "processing":
    st.markdown("##### Rectification")
    diff = st.session_state.pop(DIFF, None)
    if diff:
        st.dataframe(pd.DataFrame(diff), hide_index=True, width="stretch")
    if summary.user_id is None:
        st.info("The request is not linked to an account; there is nothing to rectify.")
    else:
        try:
            values = current_values(actor, request_id)
        except Exception as exc:
            show_error(exc)
            st.stop()
        with st.form("dsr_rectify"):
            cols = st.columns(3)
            entered = {
                name: cols[i % 3].text_input(
                    label, value=values.get(name) or "", key=f"dsr_r_{name}"
                )
                for i, (name, (_, _, label)) in enumerate(RECTIFIABLE.items())
            }
            apply = st.form_submit_button("Apply corrections", key="dsr_rectify_submit")
        if apply:
            try:
                changes = rectify(actor, request_id, entered)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[DIFF] = [
                    {"Field": c.label, "Before": c.before or "", "After": c.after or ""}
                    for c in changes
                ]
                _done(f"{len(changes)} field(s) corrected; the audit trail keeps the diff.")

if summary.request_type == "restriction" and summary.user_id is not None:
    st.markdown("##### Restriction of marketing")
    if detail.marketing_restricted_at is not None:
        st.info(
            f"Marketing is restricted since {detail.marketing_restricted_at:%Y-%m-%d %H:%M}"
            " UTC: segments keep the person but leave them out of sizes and sends.",
            icon=":material/block:",
        )
        if st.button("Lift the restriction", key="dsr_lift"):
            try:
                set_restriction(actor, request_id, False)
            except Exception as exc:
                show_error(exc)
            else:
                _done("The restriction is lifted.")
    elif summary.status == "processing":
        if st.button("Restrict marketing", type="primary", key="dsr_restrict"):
            try:
                set_restriction(actor, request_id, True)
            except Exception as exc:
                show_error(exc)
            else:
                _done("Marketing to this person is restricted.")
    else:
        st.caption("No restriction in force.")
