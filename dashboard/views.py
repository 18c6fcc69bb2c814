"""Screens the router draws itself: sign-in, password reset, forced change, no access, sidebar."""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.auth import (
    Identity,
    change_password,
    load_identity,
    reset_password,
    sign_in_with_password,
)
from dashboard import registry, session
from dashboard.runtime import show_error
from dashboard.text import md

NO_ACCESS = "You don't have access to this page."
RESET_URL_PATH = "reset-password"
RESET_PAGE = registry.PAGES_DIR / "reset_password.py"


def show_flash() -> None:
    message = session.pop_flash()
    if message:
        kind, text = message
        {"error": st.error, "warning": st.warning}.get(kind, st.info)(md(text))


def _narrow() -> DeltaGenerator:
    """A centred column: forms of two fields look lost across a wide page."""
    return st.columns([1, 2, 1])[1]


def sign_in_view() -> None:
    """The sign-in screen for the configured provider."""
    with _narrow():
        _sign_in()


def _sign_in() -> None:
    st.title("Sign in")
    st.caption("Fashionistas Operations is for staff and partners with an account.")
    show_flash()
    if session.auth_mode() == "oidc":
        _oidc_sign_in()
    else:
        _password_sign_in()


def _password_sign_in() -> None:
    with st.form("sign_in"):
        email = st.text_input("Email", key="sign_in_email", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="sign_in_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        ip_address, user_agent = session.client_info()
        try:
            identity = sign_in_with_password(
                email.strip(), password, ip_address=ip_address, user_agent=user_agent
            )
        except Exception as exc:
            show_error(exc)
        else:
            session.start(identity)
            st.rerun()
    st.page_link(
        RESET_PAGE,
        label="Forgot your password? Set a new one with the token an administrator gave you",
        icon=":material/key:",
    )


def _oidc_sign_in() -> None:
    if st.user.is_logged_in:
        # The provider knows the person but core.auth refused them (the flash says why).
        st.button("Sign out of the identity provider", on_click=st.logout)
        return
    if st.button("Sign in with your company account", type="primary", icon=":material/login:"):
        try:
            st.login()
        except Exception as exc:  # missing [auth] secrets or Authlib: a setup error
            show_error(exc)


def reset_password_view() -> None:
    """Set a new password with a reset token (from an invitation or an administrator)."""
    with _narrow():
        _reset_password()


def _reset_password() -> None:
    st.title("Set a new password")
    st.caption("Enter the reset token an administrator gave you. Tokens work once, for 60 minutes.")
    token_from_link = st.query_params.get("token", "")
    with st.form("reset_password"):
        token = st.text_input("Reset token", value=token_from_link, key="reset_token")
        new_password = st.text_input(
            "New password", type="password", key="reset_new", help="At least 12 characters"
        )
        repeat = st.text_input("Repeat the new password", type="password", key="reset_repeat")
        submitted = st.form_submit_button("Set password", type="primary")
    if submitted:
        if new_password != repeat:
            st.error("The two new passwords differ; type the same password twice.")
        else:
            try:
                reset_password(token.strip(), new_password)
            except Exception as exc:
                show_error(exc)
            else:
                st.query_params.clear()
                st.success("Your password is set. Sign in with it now.")
    st.page_link(
        registry.PAGES_DIR / registry.default_page().file,
        label="Back to sign-in",
        icon=":material/login:",
    )


def change_password_form(identity: Identity, *, key: str) -> bool:
    """A change-password form; True once the password was changed in this run."""
    with st.form(key, clear_on_submit=True):
        current = st.text_input("Current password", type="password", key=f"{key}_current")
        new_password = st.text_input(
            "New password", type="password", key=f"{key}_new", help="At least 12 characters"
        )
        repeat = st.text_input("Repeat the new password", type="password", key=f"{key}_repeat")
        submitted = st.form_submit_button("Change password", type="primary")
    if not submitted:
        return False
    if new_password != repeat:
        st.error("The two new passwords differ; type the same password twice.")
        return False
    try:
        change_password(session.actor(), current, new_password)
    except Exception as exc:
        show_error(exc)
        return False
    return True


def forced_change_view(identity: Identity) -> None:
    """Nothing else is reachable until a must-change password is replaced."""
    with _narrow():
        _forced_change(identity)


def _forced_change(identity: Identity) -> None:
    st.title("Choose a new password")
    st.info(
        "Your password was set by an administrator or is temporary. "
        "Choose your own password to continue."
    )
    if change_password_form(identity, key="forced_change"):
        fresh = load_identity(identity.session_token)
        if fresh is None:
            session.sign_out(session.DEACTIVATED, "error")
        else:
            session.start(fresh)
        st.rerun()


def no_access_view() -> None:
    st.title("No access")
    st.warning(NO_ACCESS, icon=":material/lock:")


def sidebar(identity: Identity | None) -> None:
    """The signed-in person, their roles and sign-out."""
    if identity is None:
        return
    with st.sidebar:
        st.markdown(f"**{md(identity.full_name)}**")
        st.caption(md(identity.email))
        roles = ", ".join(sorted(identity.roles)) or "no role"
        st.caption(f"Roles: {roles}")
        if st.button("Sign out", icon=":material/logout:", key="sign_out"):
            session.sign_out()
            st.rerun()
