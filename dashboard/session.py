"""Who is signed in to this browser session, kept fresh on every rerun.

Session state holds the Identity core.auth returned (with its sign-in session's token) and
the time of the last rerun. Each rerun ends the session after FASHIONISTAS_SESSION_MINUTES
without activity, and reloads the identity through its database session, which also
extends that session: a deactivated account, a sign-out elsewhere or changed roles take
effect at once, and signing out here ends the database session too.
"""

from __future__ import annotations

import contextlib
import time

import streamlit as st

from core.auth import Identity, end_session, load_identity, sign_in_with_oidc, why_ended
from core.config import Settings
from core.db import Actor
from core.errors import DomainError

IDENTITY = "auth.identity"
LAST_ACTIVITY = "auth.last_activity"
FLASH = "auth.flash"
# The OIDC email core.auth refused, so a refused person is not re-checked on every rerun.
OIDC_REFUSED = "auth.oidc_refused"

EXPIRED = "Your session ended after {minutes} minutes without activity. Please sign in again."
DEACTIVATED = "Your account is no longer active. Ask an administrator if this is a mistake."
SIGNED_OUT = "You are signed out."
ENDED = "Your session has ended. Please sign in again."
PASSWORD_CHANGED = "Your password was changed, which ended this session. Please sign in again."


def auth_mode() -> str:
    """`password` or `oidc`, from FASHIONISTAS_AUTH."""
    return Settings.from_env().auth_provider


def session_minutes() -> float:
    """Minutes of inactivity after which a session ends (FASHIONISTAS_SESSION_MINUTES)."""
    return float(Settings.from_env().session_minutes)


def client_info() -> tuple[str | None, str | None]:
    """The browser's IP address and user agent, for the audit trail."""
    ip_address = getattr(st.context, "ip_address", None)
    headers = st.context.headers
    user_agent = headers.get("User-Agent") if headers else None
    # Outside a real browser session (AppTest, scripts) these may be absent or stand-ins.
    return (
        ip_address if isinstance(ip_address, str) else None,
        user_agent if isinstance(user_agent, str) else "dashboard",
    )


def actor() -> Actor:
    """The signed-in person as core services need them; anonymous before sign-in."""
    ip_address, user_agent = client_info()
    identity = st.session_state.get(IDENTITY)
    if isinstance(identity, Identity):
        return identity.actor(ip_address=ip_address, user_agent=user_agent)
    return Actor(user_id=None, ip_address=ip_address, user_agent=user_agent)


def start(identity: Identity) -> None:
    """Remember a freshly signed-in person and start the inactivity clock."""
    st.session_state.pop(FLASH, None)
    st.session_state[IDENTITY] = identity
    st.session_state[LAST_ACTIVITY] = time.time()


def flash(message: str, kind: str = "info") -> None:
    """A message the sign-in page shows once (why the person was signed out)."""
    st.session_state[FLASH] = (kind, message)


def pop_flash() -> tuple[str, str] | None:
    return st.session_state.pop(FLASH, None)


def sign_out(message: str | None = SIGNED_OUT, kind: str = "info") -> None:
    """End the sign-in session in the database and forget everything this browser session
    held; OIDC also drops the identity cookie."""
    identity = st.session_state.get(IDENTITY)
    if isinstance(identity, Identity) and identity.session_token:
        # With the database away the session still ends by idling.
        with contextlib.suppress(DomainError):
            end_session(identity.session_token)
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if message:
        flash(message, kind)
    if auth_mode() == "oidc" and st.user.is_logged_in:
        # Redirects through the provider's logout and starts a new session.
        st.logout()


def current_identity() -> Identity | None:
    """The signed-in person after expiry and refresh checks, or None (sign-in needed)."""
    identity = st.session_state.get(IDENTITY)
    if not isinstance(identity, Identity):
        return _oidc_identity() if auth_mode() == "oidc" else None

    now = time.time()
    last = st.session_state.get(LAST_ACTIVITY)
    minutes = session_minutes()
    if not isinstance(last, (int, float)) or now - last > minutes * 60:
        sign_out(EXPIRED.format(minutes=f"{minutes:g}"), "warning")
        return None

    fresh = load_identity(identity.session_token)
    if fresh is None:
        message, kind = _why(why_ended(identity.session_token) or "", minutes)
        sign_out(message, kind)
        return None
    st.session_state[IDENTITY] = fresh
    st.session_state[LAST_ACTIVITY] = now
    return fresh


def _why(reason: str, minutes: float) -> tuple[str, str]:
    """What to tell a person whose database session ended, by its reason."""
    if reason == "expired":
        return EXPIRED.format(minutes=f"{minutes:g}"), "warning"
    if reason in ("deactivated", "erased"):
        return DEACTIVATED, "error"
    if reason == "password_changed":
        return PASSWORD_CHANGED, "warning"
    if reason == "signed_out":
        return SIGNED_OUT, "info"
    return ENDED, "warning"


def _oidc_identity() -> Identity | None:
    """Turn the provider's sign-in (st.user) into an Identity, once per session."""
    if not st.user.is_logged_in:
        return None
    claims = st.user.to_dict()
    email = str(claims.get("email") or "")
    if st.session_state.get(OIDC_REFUSED) == email:
        return None
    ip_address, user_agent = client_info()
    try:
        identity = sign_in_with_oidc(claims, ip_address=ip_address, user_agent=user_agent)
    except DomainError as exc:  # UnknownIdentity, mostly
        st.session_state[OIDC_REFUSED] = email
        flash(exc.message, "error")
        return None
    start(identity)
    return identity


def signed_in() -> Identity:
    """The identity the router checked on this rerun; stops a page reached without one."""
    identity = st.session_state.get(IDENTITY)
    if not isinstance(identity, Identity):
        st.stop()
    return identity
