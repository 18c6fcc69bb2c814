"""Admin → API keys: create a key (its secret shown once), the keys with their status and
last use, revoke, rotate, and a chart of each key's requests, errors and latency."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from core.api_keys import SCOPES, create_key, list_keys, revoke_key, rotate_key, usage_summary
from core.api_keys.keys import STATUSES
from core.auth import list_users
from dashboard import session
from dashboard.charts import lines, show_chart
from dashboard.forms import number_input
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.widgets import confirmed, download_table, kept_tabs, show_flash

ANY = "Any"
# A new key's secret survives exactly one rerun (the one right after it was made).
ONCE = "api_keys.once"
FLASH = "api_keys.flash"
PERIODS = {"Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30}

session.signed_in()
st.title("API keys")
st.caption(
    "Keys let partners' systems use the API. A key acts as its owner: it can never see or do"
    " more than that person could here, and its scopes narrow that further."
)

show_flash(FLASH)
actor = session.actor()

once = st.session_state.pop(ONCE, None)
if once:
    what, prefix, secret = once
    st.success(md(f"{what}: {prefix}. Copy the key now (the button at the right of it)."))
    st.code(secret, language=None)
    st.warning(
        "This key will not be shown again: only its prefix and a hash of it are kept. If it"
        " is lost, rotate or revoke it and make a new one.",
        icon=":material/warning:",
    )

keys_tab, create_tab, usage_tab = kept_tabs(["Keys", "Create a key", "Usage"], key="tab")

try:
    keys = list_keys(actor, include_revoked=True)
except Exception as exc:
    show_error(exc)
    st.stop()

with create_tab:
    try:
        people = list_users(actor, status="active")
    except Exception as exc:
        show_error(exc)
        people = []
    emails = [p.email for p in people]
    with st.form("api_key_create", clear_on_submit=False):
        name = st.text_input("Name", key="create_name", placeholder="Box office partner")
        owner = st.selectbox(
            "Owner",
            emails,
            index=None,
            key="create_owner",
            placeholder="The account the key acts as",
            format_func=lambda e: next(
                (f"{p.full_name} <{p.email}>" for p in people if p.email == e), e
            ),
        )
        scopes = st.multiselect("Scopes", SCOPES, key="create_scopes")
        cols = st.columns(2)
        expires = cols[0].date_input(
            "Expires on (optional)", value=None, key="create_expires", format="YYYY-MM-DD"
        )
        rate_limit = number_input(
            cols[1], "Rate limit (requests per minute)", key="create_rate", value=100, step=1
        )
        if st.form_submit_button("Create key", type="primary", key="create_submit"):
            try:
                created = create_key(
                    actor,
                    owner_email=owner or "",
                    name=name,
                    scopes=scopes,
                    expires_at=(
                        datetime.combine(expires, time(23, 59, 59), tzinfo=UTC) if expires else None
                    ),
                    rate_limit=None if rate_limit is None else int(rate_limit),
                )
            except Exception as exc:
                show_error(exc)
            else:
                st.session_state[ONCE] = ("Key created", created.prefix, created.secret)
                st.rerun()


def _table(rows: list) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Name": [k.name for k in rows],
            "Prefix": [k.prefix for k in rows],
            "Owner": [k.owner_email or "—" for k in rows],
            "Status": [k.status for k in rows],
            "Scopes": [", ".join(k.scopes) for k in rows],
            "Rate limit / min": [k.rate_limit for k in rows],
            "Created": pd.to_datetime([k.created_at for k in rows], utc=True),
            "Expires": pd.to_datetime([k.expires_at for k in rows], utc=True),
            "Last used": pd.to_datetime([k.last_used_at for k in rows], utc=True),
            "Last used from": [k.last_used_ip or "" for k in rows],
            "Old key valid until": pd.to_datetime([k.grace_until for k in rows], utc=True),
        }
    )


def _label(key) -> str:
    return f"{key.name} ({key.prefix}, {key.owner_email or 'no owner'})"


with keys_tab:
    if not keys:
        st.info(
            "No API keys yet. Make one under **Create a key**; it is shown once.",
            icon=":material/key:",
        )
    else:
        filters = st.columns(2)
        owners = sorted({k.owner_email for k in keys if k.owner_email})
        owner_filter = filters[0].selectbox("Owner", (ANY, *owners), key="filter_owner")
        status_filter = filters[1].selectbox("Status", (ANY, *STATUSES), key="filter_status")
        shown = [
            k
            for k in keys
            if (owner_filter == ANY or k.owner_email == owner_filter)
            and (status_filter == ANY or k.status == status_filter)
        ]
        if not shown:
            st.info("No key matches these filters.", icon=":material/filter_alt_off:")
        else:
            table = _table(shown)
            fmt = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
            st.dataframe(
                table,
                hide_index=True,
                width="stretch",
                column_config={
                    c: fmt for c in ("Created", "Expires", "Last used", "Old key valid until")
                },
            )
            download_table(table, "api-keys", key="keys_table")

        live = [k for k in keys if k.status in ("active", "rotating")]
        if live:
            st.subheader("Revoke a key")
            choice = st.selectbox(
                "Key to revoke",
                [k.key_id for k in live],
                format_func=lambda i: _label(next(k for k in live if k.key_id == i)),
                key="revoke_choice",
            )
            chosen = next(k for k in live if k.key_id == choice)
            question = (
                f"Revoke {chosen.name} ({chosen.prefix})? Every request with it is refused"
                " from now on; this cannot be undone."
            )
            if confirmed("Revoke key", question, key="revoke", confirm_label="Yes, revoke"):
                try:
                    revoke_key(actor, choice)
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[FLASH] = f"Revoked {chosen.name} ({chosen.prefix})."
                    st.rerun()

        active = [k for k in keys if k.status == "active"]
        if active:
            st.subheader("Rotate a key")
            st.caption(
                "A new key replaces the old one with the same owner, scopes, limit and"
                " expiry; the old key keeps working for the grace period, then stops."
            )
            cols = st.columns([3, 2], vertical_alignment="bottom")
            rotate_choice = cols[0].selectbox(
                "Key to rotate",
                [k.key_id for k in active],
                format_func=lambda i: _label(next(k for k in active if k.key_id == i)),
                key="rotate_choice",
            )
            grace = number_input(
                cols[1], "Grace period (minutes)", key="rotate_grace", value=60, step=1
            )
            if st.button("Rotate key", key="rotate"):
                try:
                    new = rotate_key(
                        actor, rotate_choice, grace_minutes=int(grace) if grace is not None else 60
                    )
                except Exception as exc:
                    show_error(exc)
                else:
                    st.session_state[ONCE] = ("Key rotated; the new key is", new.prefix, new.secret)
                    st.rerun()


def _key_label(bucket) -> str:
    return f"{bucket.key_name} ({bucket.key_prefix})" if bucket.key_name else "no key"


with usage_tab:
    period = st.selectbox("Period", tuple(PERIODS), key="usage_period")
    until = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    try:
        buckets = usage_summary(actor, since=until - timedelta(days=PERIODS[period]), until=until)
    except Exception as exc:
        show_error(exc)
        buckets = []
    if not buckets:
        st.info("No API requests in this period.", icon=":material/query_stats:")
    else:
        usage = pd.DataFrame(
            {
                "Hour": pd.to_datetime([b.hour for b in buckets], utc=True),
                "Key": [
                    f"{b.key_name} ({b.key_prefix})" if b.key_name else "no key" for b in buckets
                ],
                "Requests": [b.requests for b in buckets],
                "Errors": [b.errors for b in buckets],
                "Server errors": [b.server_errors for b in buckets],
                "Median latency (ms)": [round(b.p50_ms, 1) for b in buckets],
                "95th percentile latency (ms)": [round(b.p95_ms, 1) for b in buckets],
            }
        )
        totals = st.columns(3)
        totals[0].metric("Requests", f"{int(usage['Requests'].sum()):,}")
        totals[1].metric("Errors (4xx and 5xx)", f"{int(usage['Errors'].sum()):,}")
        totals[2].metric("Keys used", f"{usage['Key'].nunique():,}")
        for column, title, key in (
            ("Requests", "Requests per hour", "usage_requests"),
            ("Errors", "Errors per hour", "usage_errors"),
            ("95th percentile latency (ms)", "95th percentile latency per hour", "usage_p95"),
        ):
            show_chart(
                lines(usage, "Hour", column, color="Key", title=title),
                usage[["Hour", "Key", column]],
                key,
                key=key,
            )
