"""Admin → Webhooks: endpoints (create with a secret shown once, edit, rotate the secret,
enable or disable, send a test ping), deliveries with filters, a delivery's request and
responses, and replays of one delivery or of every failed one since a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from core.models.api import WEBHOOK_DELIVERY_STATUSES
from core.outbox import EVENT_TYPES, PING
from core.webhooks import (
    EndpointView,
    create_endpoint,
    get_delivery,
    list_deliveries,
    list_endpoints,
    replay,
    rotate_secret,
    send_test_ping,
    set_active,
    update_endpoint,
)
from dashboard import session
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, show_flash

FLASH = "webhooks.flash"
# A secret just made: shown on the next run only, then gone from the session.
NEW_SECRET = "webhooks.new_secret"
ALL = "All"
STATUS_LABELS = {
    "active": "Active",
    "failing": "Active, failing",
    "disabled": "Disabled by the dispatcher",
    "inactive": "Switched off",
}

session.signed_in()
st.title("Webhooks")
st.caption(
    "Signed HTTP callbacks to partner systems when orders, events, ticket types, sponsor"
    " assets or data requests change (Standard Webhooks). Every message is retried for"
    " about three days; an endpoint failing for five days is disabled. See docs/WEBHOOKS.md."
)
show_flash(FLASH)

fresh = st.session_state.pop(NEW_SECRET, None)
if fresh:
    st.success(
        f"Signing secret for {md(fresh[0])}: copy it now. It is shown this once and kept"
        " sealed; a lost secret can only be replaced by rotating.",
        icon=":material/key:",
    )
    st.code(fresh[1], language=None)

actor = session.actor()

try:
    endpoints = list_endpoints(actor)
except Exception as exc:
    show_error(exc)
    st.stop()
by_id = {e.endpoint_id: e for e in endpoints}


def _label(e: EndpointView) -> str:
    return f"{e.name} ({e.url})"


def _endpoints_table(items: list[EndpointView]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Name": [e.name for e in items],
            "URL": [e.url for e in items],
            "Event types": [", ".join(e.events) for e in items],
            "Status": [STATUS_LABELS[e.status] for e in items],
            "Failing since": pd.to_datetime([e.failing_since for e in items], utc=True),
            "Previous secret signs until": pd.to_datetime(
                [e.previous_secret_expires_at for e in items], utc=True
            ),
            "Created": pd.to_datetime([e.created_at for e in items], utc=True),
        }
    )


endpoints_tab, deliveries_tab = kept_tabs(["Endpoints", "Deliveries"], key="tab")

with endpoints_tab:
    if endpoints:
        table = _endpoints_table(endpoints)
        st.dataframe(table, hide_index=True, width="stretch")
        download_table(table, "webhook-endpoints", key="endpoints_table")
    else:
        st.info("No webhook endpoint yet.", icon=":material/info:")
    for e in endpoints:
        if e.status == "disabled":
            st.error(
                f"**{md(e.name)}** is disabled: {md(e.disabled_reason or '')} New events are"
                " not queued for it while it is disabled; deliveries already queued wait.",
                icon=":material/block:",
            )
        elif e.status == "inactive" and e.disabled_reason:
            st.warning(f"**{md(e.name)}** is off: {md(e.disabled_reason)}", icon=":material/block:")

    st.subheader("Add an endpoint")
    with st.form("webhook_new", clear_on_submit=False):
        name = st.text_input("Name", key="new_name")
        url = st.text_input("URL", key="new_url", placeholder="https://partner.example.com/hooks")
        events = st.multiselect(
            "Event types",
            list(EVENT_TYPES),
            key="new_events",
            help="\n".join(f"{t.name}: {t.description}" for t in EVENT_TYPES.values()),
        )
        description = st.text_area("Description", key="new_description")
        if st.form_submit_button("Create endpoint"):
            try:
                made, secret = create_endpoint(
                    actor, name=name, url=url, events=events, description=description
                )
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[NEW_SECRET] = (made.name, secret)
                st.session_state[FLASH] = f"Endpoint {made.name} was created."
                st.rerun()

    if endpoints:
        st.subheader("Manage an endpoint")
        chosen_id = st.selectbox(
            "Endpoint", list(by_id), format_func=lambda i: _label(by_id[i]), key="manage_id"
        )
        chosen = by_id[chosen_id]
        st.markdown(f"Status: **{STATUS_LABELS[chosen.status]}**")
        with st.form(f"webhook_edit_{chosen_id}"):
            new_name = st.text_input("Name", value=chosen.name, key=f"edit_name_{chosen_id}")
            new_url = st.text_input("URL", value=chosen.url, key=f"edit_url_{chosen_id}")
            new_events = st.multiselect(
                "Event types",
                list(EVENT_TYPES),
                default=[e for e in chosen.events if e in EVENT_TYPES],
                key=f"edit_events_{chosen_id}",
            )
            new_description = st.text_area(
                "Description", value=chosen.description or "", key=f"edit_description_{chosen_id}"
            )
            if st.form_submit_button("Save changes"):
                try:
                    update_endpoint(
                        actor,
                        chosen_id,
                        name=new_name,
                        url=new_url,
                        events=new_events,
                        description=new_description,
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = f"Endpoint {new_name} was saved."
                    st.rerun()
        ping_col, toggle_col = st.columns(2)
        if ping_col.button("Send test ping", key=f"ping_{chosen_id}"):
            try:
                pinged = send_test_ping(actor, chosen_id)
            except Exception as exc:
                show_error(exc)
            else:
                if pinged.status == "success":
                    st.success(
                        f"The endpoint answered HTTP {pinged.response_code} in"
                        f" {pinged.duration_ms} ms.",
                        icon=":material/check_circle:",
                    )
                else:
                    st.error(
                        f"The ping failed: {md(pinged.error_message or '')}",
                        icon=":material/error:",
                    )
        toggle = "Disable" if chosen.is_active else "Enable"
        if toggle_col.button(toggle, key=f"toggle_{chosen_id}"):
            try:
                set_active(actor, chosen_id, not chosen.is_active)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[FLASH] = f"Endpoint {chosen.name}: {toggle.lower()}d."
                st.rerun()
        question = (
            f"Rotate the signing secret of {chosen.name}? The old secret keeps signing beside"
            " the new one for 24 hours, so the receiver can switch without losing a message."
        )
        if confirmed("Rotate secret", question, key=f"rotate_{chosen_id}"):
            try:
                secret = rotate_secret(actor, chosen_id)
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[NEW_SECRET] = (chosen.name, secret)
                st.session_state[FLASH] = f"The secret of {chosen.name} was rotated."
                st.rerun()

with deliveries_tab:
    cols = st.columns(4)
    endpoint_filter = cols[0].selectbox(
        "Endpoint",
        [ALL, *by_id],
        format_func=lambda i: i if i == ALL else by_id[i].name,
        key="filter_endpoint",
    )
    status_filter = cols[1].selectbox(
        "Status", [ALL, *WEBHOOK_DELIVERY_STATUSES], key="filter_status"
    )
    type_filter = cols[2].selectbox("Event type", [ALL, *EVENT_TYPES, PING.name], key="filter_type")
    since_day = cols[3].date_input(
        "Since", value=datetime.now(UTC).date() - timedelta(days=7), key="filter_since"
    )
    limit = number_input(st, "Show at most", value=50, step=10, key="filter_limit")
    since = datetime.combine(since_day, time.min, tzinfo=UTC) if since_day else None
    try:
        deliveries = list_deliveries(
            actor,
            endpoint_id=None if endpoint_filter == ALL else endpoint_filter,
            status=None if status_filter == ALL else status_filter,
            event_type=None if type_filter == ALL else type_filter,
            since=since,
            limit=int(limit or 50),
        )
    except Exception as exc:
        show_error(exc)
        deliveries = []
    if deliveries:
        table = pd.DataFrame(
            {
                "Created": pd.to_datetime([d.created_at for d in deliveries], utc=True),
                "Endpoint": [d.endpoint_name for d in deliveries],
                "Event type": [d.event_type for d in deliveries],
                "Status": [d.status for d in deliveries],
                "Attempts": [d.attempt_count for d in deliveries],
                "Response": [d.response_code for d in deliveries],
                "Next retry": pd.to_datetime([d.next_retry_at for d in deliveries], utc=True),
                "Error": [d.error_message for d in deliveries],
                "Webhook id": [d.message_id for d in deliveries],
            }
        )
        st.dataframe(table, hide_index=True, width="stretch")
        download_table(table, "webhook-deliveries", key="deliveries_table")

        st.subheader("A delivery")
        shown = {d.delivery_id: d for d in deliveries}
        picked = st.selectbox(
            "Delivery",
            list(shown),
            format_func=lambda i: (
                f"{shown[i].created_at:%Y-%m-%d %H:%M:%S} · {shown[i].event_type} ·"
                f" {shown[i].status} · {shown[i].message_id}"
            ),
            key="delivery_id",
        )
        try:
            detail = get_delivery(actor, picked)
        except Exception as exc:
            show_error(exc)
        else:
            st.markdown(f"**POST** `{detail.url}`")
            st.markdown("Request headers")
            st.code(json.dumps(detail.request_headers, indent=2), language="json")
            st.markdown("Request body")
            st.code(json.dumps(json.loads(detail.request_body), indent=2), language="json")
            if detail.attempts:
                st.markdown("Responses")
                st.dataframe(
                    pd.DataFrame(
                        {
                            "Attempt": [a.get("attempt") for a in detail.attempts],
                            "At": [a.get("at") for a in detail.attempts],
                            "Code": [a.get("response_code") for a in detail.attempts],
                            "Duration (ms)": [a.get("duration_ms") for a in detail.attempts],
                            "Error": [a.get("error") for a in detail.attempts],
                            "Body (first 2 KiB)": [a.get("response_body") for a in detail.attempts],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                )
            else:
                st.info("Not attempted yet.", icon=":material/schedule:")
            if st.button("Replay this delivery", key="replay_one"):
                try:
                    queued = replay(actor, delivery_id=picked)
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = (
                        "The delivery is queued again (same webhook id)."
                        if queued
                        else "The delivery is already waiting to be sent."
                    )
                    st.rerun()
    else:
        st.info("No delivery matches these filters.", icon=":material/info:")

    st.subheader("Replay failed deliveries")
    cols = st.columns(2)
    replay_day = cols[0].date_input(
        "Failed since", value=datetime.now(UTC).date() - timedelta(days=1), key="replay_since"
    )
    replay_endpoint = cols[1].selectbox(
        "Of endpoint",
        [ALL, *by_id],
        format_func=lambda i: i if i == ALL else by_id[i].name,
        key="replay_endpoint",
    )
    replay_since = datetime.combine(replay_day, time.min, tzinfo=UTC) if replay_day else None
    scope = "every endpoint" if replay_endpoint == ALL else by_id[replay_endpoint].name
    question = (
        f"Send every failed delivery since {replay_day} to {scope} again? Receivers get them"
        " with their original webhook ids."
    )
    if confirmed("Replay failed deliveries", question, key="replay_all"):
        try:
            count = replay(
                actor,
                failed_since=replay_since,
                endpoint_id=None if replay_endpoint == ALL else replay_endpoint,
            )
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state[FLASH] = f"{count:,} failed deliveries are queued again."
            st.rerun()
