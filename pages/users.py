"""Users & roles: find people, invite them, set their roles, deactivate, reactivate, make
reset tokens, and see and lift sign-in throttles."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from core.auth import (
    deactivate_user,
    invite_user,
    issue_reset_token,
    lift_throttle,
    list_throttles,
    list_users,
    reactivate_user,
    set_roles,
)
from core.auth.permissions import ALL_ROLES
from core.models.identity import USER_STATUSES
from dashboard import session
from dashboard.registry import PAGES_DIR
from dashboard.runtime import show_error
from dashboard.text import md
from dashboard.views import RESET_URL_PATH
from dashboard.widgets import download_table, kept_tabs

ANY = "Any"
SORTS = {
    "Name": ("Name", True),
    "Email": ("Email", True),
    "Status": ("Status", True),
    "Last sign-in (newest first)": ("Last sign-in", False),
}
# One-time results (a fresh token) survive exactly one rerun, then disappear.
ONCE = "users.once"
CONFIRM = "users.confirm_deactivate"

session.signed_in()
st.title("Users & roles")
st.caption("Invite people, give them roles, and take access away when they leave.")


def _show_token(what: str, email: str, token: str) -> None:
    base = str(st.context.url or "").rstrip("/")
    base = base.rsplit("/", 1)[0] if base.endswith("/users") else base
    st.success(md(f"{what} for {email}. Give them this token; it is shown only now."))
    st.code(token, language=None)
    st.caption(md(f"Or the link: {base}/{RESET_URL_PATH}?token={token} (valid for 60 minutes)"))


once = st.session_state.pop(ONCE, None)
if once:
    _show_token(*once)

filters = st.columns([3, 2, 2, 2])
search = filters[0].text_input("Search", key="users_search", placeholder="Name or email")
role = filters[1].selectbox("Role", (ANY, *ALL_ROLES), key="users_role")
status = filters[2].selectbox("Status", (ANY, *USER_STATUSES), key="users_status")
sort_by = filters[3].selectbox("Sort by", tuple(SORTS), key="users_sort")

try:
    users = list_users(
        session.actor(),
        search=search.strip(),
        role=None if role == ANY else role,
        status=None if status == ANY else status,
    )
except Exception as exc:
    show_error(exc)
    st.stop()

table = pd.DataFrame(
    {
        "Name": [u.full_name for u in users],
        "Email": [u.email for u in users],
        "Roles": [", ".join(u.roles) for u in users],
        "Status": [u.status for u in users],
        "Last sign-in": pd.to_datetime([u.last_login for u in users], utc=True),
    }
)
column, ascending = SORTS[sort_by]
table = table.sort_values(column, ascending=ascending, na_position="last", kind="stable")
st.dataframe(
    table,
    hide_index=True,
    column_config={
        "Last sign-in": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
    },
)
download_table(table, "users", key="users")
st.caption(f"{len(users):,} people")

invite_tab, manage_tab, throttle_tab = kept_tabs(
    ["Invite someone", "Change a person", "Sign-in throttles"], key="tab"
)

with invite_tab, st.form("invite", clear_on_submit=True):
    email = st.text_input("Email", key="invite_email")
    full_name = st.text_input("Full name", key="invite_name")
    roles = st.multiselect("Roles", ALL_ROLES, key="invite_roles")
    if st.form_submit_button("Invite", type="primary"):
        try:
            invitation = invite_user(
                session.actor(), email=email.strip(), full_name=full_name.strip(), roles=roles
            )
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state[ONCE] = ("Invited", email.strip(), invitation.reset_token)
            st.rerun()

with throttle_tab:
    st.caption(
        "Wrong passwords slow down the address they come from: after 3 for one email, or 10"
        " for any, each next attempt waits twice as long (up to 15 minutes). Nobody is locked"
        " out: the right password from another address still works. Addresses are forgotten"
        " a day (per email) or an hour (per address) after their last failure."
    )
    try:
        throttles = list_throttles(session.actor())
    except Exception as exc:
        show_error(exc)
        throttles = []
    if not throttles:
        st.info("No address has failed to sign in recently.")
    else:
        st.dataframe(
            pd.DataFrame(
                {
                    "Address": [t.ip_address or "unknown" for t in throttles],
                    "Email typed": [t.email or "any" for t in throttles],
                    "Failures": [t.failures for t in throttles],
                    "Last failure": pd.to_datetime([t.last_failed_at for t in throttles], utc=True),
                    "Waits until": pd.to_datetime([t.blocked_until for t in throttles], utc=True),
                    "Slowed now": [t.throttled for t in throttles],
                }
            ),
            hide_index=True,
            column_config={
                "Last failure": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
                "Waits until": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            },
            key="throttles_table",
        )
        addresses = sorted({t.ip_address for t in throttles})
        address = st.selectbox(
            "Address",
            addresses,
            format_func=lambda a: a or "unknown",
            key="throttle_address",
        )
        if st.button("Lift the throttle of this address", key="lift_throttle"):
            try:
                lifted = lift_throttle(session.actor(), address)
            except Exception as exc:
                show_error(exc)
            else:
                st.toast(f"Throttle lifted for {address or 'unknown'} ({lifted} rows).")
                st.rerun()

with manage_tab:
    if not users:
        st.info("No one matches the filters.")
        st.stop()
    chosen = {str(u.user_id): u for u in users}
    picked = st.selectbox(
        "Person",
        tuple(chosen),
        format_func=lambda key: f"{chosen[key].full_name} <{chosen[key].email}>",
        key="users_pick",
    )
    person = chosen[picked]
    user_id = uuid.UUID(picked)
    actor = session.actor()
    st.page_link(
        PAGES_DIR / "audit_log.py",
        label="History in the audit log",
        icon=":material/history:",
        query_params={"table": "users", "record": picked},
    )

    # Roles outside the dashboard's catalogue (demo attendees, models) stay choosable so
    # saving other roles does not silently drop them.
    role_options = (*ALL_ROLES, *(r for r in person.roles if r not in ALL_ROLES))
    new_roles = st.multiselect(
        "Roles", role_options, default=list(person.roles), key=f"roles_{picked}"
    )
    if st.button("Save roles", key="save_roles", icon=":material/save:"):
        try:
            set_roles(actor, user_id, new_roles)
        except Exception as exc:
            show_error(exc)
        else:
            st.toast(md(f"Roles of {person.email} saved."))
            st.rerun()

    st.write(f"Status: **{person.status}**")
    actions = st.columns(4)
    if person.status == "active":
        if actions[0].button("Deactivate…", key="deactivate", icon=":material/block:"):
            st.session_state[CONFIRM] = picked
    elif actions[0].button("Reactivate", key="reactivate", icon=":material/check_circle:"):
        try:
            reactivate_user(actor, user_id)
        except Exception as exc:
            show_error(exc)
        else:
            st.rerun()
    if actions[1].button("New reset token", key="reset_token", icon=":material/key:"):
        try:
            token = issue_reset_token(actor, user_id)
        except Exception as exc:
            show_error(exc)
        else:
            st.session_state[ONCE] = ("A reset token was made", person.email, token)
            st.rerun()

    if st.session_state.get(CONFIRM) == picked:
        st.warning(
            md(
                f"Deactivate {person.full_name} <{person.email}>? They are signed out at once"
                " and cannot sign in until someone reactivates them."
            )
        )
        yes, no = st.columns(2)
        if yes.button("Yes, deactivate", key="confirm_deactivate", type="primary"):
            st.session_state.pop(CONFIRM, None)
            try:
                deactivate_user(actor, user_id)
            except Exception as exc:
                show_error(exc)
            else:
                st.rerun()
        if no.button("Cancel", key="cancel_deactivate"):
            st.session_state.pop(CONFIRM, None)
            st.rerun()
