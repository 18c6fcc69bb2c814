"""Sign-in by password or by an OpenID Connect identity, password changes and resets, and
the first admin of an empty database.

This is the sign-in path: it runs on the sign-in role's connection (core.db.get_auth_engine)
and reaches accounts only through the SECURITY DEFINER functions of migration 0012, which
the app role may not execute. Password hashes never reach the app role; a session opened
here is what the database later believes about who acts.

Throttling instead of a lockout: wrong passwords are counted per (address, typed email) and
per address, each with delays that double up to a ceiling; a throttled attempt is refused
before any password is checked, the same way for unknown and known emails, and the right
password from an address that is not failing still works (docs/SECURITY.md).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth import passwords
from core.auth.audit import record
from core.auth.identity import Identity, load_identity
from core.auth.permissions import ADMIN
from core.auth.sessions import idle_minutes, sign_in_call
from core.config import Settings
from core.db import Actor, get_owner_engine
from core.errors import (
    NotFound,
    ResetTokenInvalid,
    SignInFailed,
    SignInThrottled,
    UnknownIdentity,
    ValidationError,
)

log = logging.getLogger(__name__)

RESET_TOKEN_MINUTES = 60
# Longer than any real address (254 characters): refused before the database is asked.
MAX_EMAIL_LENGTH = 320


def sign_in_with_password(
    email: str, password: str, *, ip_address: str | None = None, user_agent: str | None = None
) -> Identity:
    """Check the password of `email`'s active account and return who signed in, with a
    new sign-in session.

    Raises SignInThrottled (too many recent failures from this address for this email or
    for any; nothing is checked then) and SignInFailed (wrong password, unknown or inactive
    account: one message and the same cost for all). Every failure on a known account and
    every sign-in is written to the audit log.
    """
    email = email.strip()
    if len(email) > MAX_EMAIL_LENGTH or len(password) > passwords.MAX_LENGTH:
        passwords.verify_password(None, password[: passwords.MAX_LENGTH])
        raise SignInFailed()
    check = sign_in_call(
        "SELECT wait_seconds, account, stored_hash FROM auth_sign_in_check(:e, :ip)",
        {"e": email, "ip": ip_address or ""},
    )
    assert check is not None
    if check.wait_seconds > 0:
        raise SignInThrottled(check.wait_seconds)
    # Verified always (against a dummy hash when there is no account): an unknown email
    # costs the same as a wrong password, so timing tells nothing.
    matches = passwords.verify_password(check.stored_hash, password)
    if check.account is None or not matches:
        wait = sign_in_call(
            "SELECT auth_sign_in_failed(:e, :ip, :ua)",
            {"e": email, "ip": ip_address or "", "ua": user_agent or ""},
        )
        log.info("failed sign-in (throttle now %s s)", wait[0] if wait else 0)
        raise SignInFailed()
    new_hash = (
        passwords.hash_password(password) if passwords.needs_rehash(check.stored_hash) else None
    )
    opened = sign_in_call(
        "SELECT auth_sign_in_succeeded(:u, :e, :ip, :ua, :h, :m)",
        {
            "u": check.account,
            "e": email,
            "ip": ip_address or "",
            "ua": user_agent or "",
            "h": new_hash,
            "m": idle_minutes(),
        },
    )
    return _identity(opened[0] if opened else None)


def sign_in_with_oidc(
    claims: Mapping[str, Any],
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> Identity:
    """Map an identity provider's claims (st.user.to_dict()) to an invited or active
    account, with a new sign-in session.

    Uses "email" (and "email_verified", which must be true when present). An invited
    (pending) account becomes active on its first sign-in. Raises UnknownIdentity when the
    email is missing, unverified, or has no invited or active account.
    """
    email = str(claims.get("email") or "").strip()
    if not email or len(email) > MAX_EMAIL_LENGTH:
        raise UnknownIdentity("The identity provider did not share an email address.")
    if "email_verified" in claims and claims["email_verified"] is not True:
        raise UnknownIdentity(
            f"The identity provider has not verified {email}; verify it there and sign in again."
        )
    opened = sign_in_call(
        "SELECT auth_oidc_sign_in(:e, :ip, :ua, :m)",
        {"e": email, "ip": ip_address or "", "ua": user_agent or "", "m": idle_minutes()},
    )
    token = opened[0] if opened else None
    if token is None:
        raise UnknownIdentity(
            f"There is no active account for {email}; ask an admin to invite you."
        )
    return _identity(token)


def _identity(token: str | None) -> Identity:
    identity = load_identity(token) if token else None
    if identity is None:  # deactivated between the check and now
        raise SignInFailed()
    return identity


def change_password(actor: Actor, current_password: str, new_password: str) -> None:
    """Change the acting person's own password, end a forced change and every other
    session of theirs.

    Raises ValidationError: field "current_password" when it is wrong, field
    "new_password" when shorter than 12 characters or equal to the current one;
    NotFound when the actor's session has ended.
    """
    passwords.check_new_password(new_password, current_password)
    current = sign_in_call(
        "SELECT account, stored_hash FROM auth_session_password(:t)",
        {"t": actor.session_token or ""},
    )
    if current is None or current.account is None:
        raise NotFound("Your session has ended; sign in again.")
    if not passwords.verify_password(current.stored_hash, current_password):
        raise ValidationError("The current password is wrong.", field="current_password")
    changed = sign_in_call(
        "SELECT auth_change_password(:t, :h, :ip, :ua)",
        {
            "t": actor.session_token or "",
            "h": passwords.hash_password(new_password),
            "ip": actor.ip_address or "",
            "ua": actor.user_agent or "",
        },
    )
    if changed is None or changed[0] is None:
        raise NotFound("Your session has ended; sign in again.")


def reset_password(token: str, new_password: str) -> None:
    """Set a new password with a reset (or invitation) token; the token works once, and
    every session of the account ends.

    Raises ValidationError(field="new_password") for a password that breaks the rules,
    ResetTokenInvalid for an unknown, used or expired token.
    """
    passwords.check_new_password(new_password)
    if not token or len(token) > 256:
        raise ResetTokenInvalid()
    found = sign_in_call(
        "SELECT auth_redeem_reset_token(:t, :h)",
        {"t": token, "h": passwords.hash_password(new_password)},
    )
    if found is None or found[0] is None:
        raise ResetTokenInvalid()


def ensure_first_admin(settings: Settings | None = None) -> tuple[str, str] | None:
    """Create an admin with a generated password when the users table is empty.

    Returns (email, password) when it created one (the caller shows them once; they are
    never logged), None otherwise. The admin must change the password at first sign-in.
    Runs as the owner: no one is signed in to create the first account.
    """
    settings = settings or Settings.from_env()
    with Session(get_owner_engine()) as session, session.begin():
        # Two processes starting at once must not both create one.
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('ensure_first_admin'))"))
        # The audit rows of this transaction name where they come from, as a unit of work's do.
        session.execute(text("SELECT set_config('app.user_agent', 'bootstrap', true)"))
        if session.execute(text("SELECT EXISTS (SELECT 1 FROM users)")).scalar_one():
            return None
        password = passwords.generate_password()
        user_id: uuid.UUID = session.execute(
            text(
                "INSERT INTO users (email, full_name, user_type, status, email_verified,"
                " must_change_password)"
                " VALUES (:e, 'Administrator', 'admin', 'active', true, true) RETURNING id"
            ),
            {"e": settings.admin_email},
        ).scalar_one()
        session.execute(
            text("INSERT INTO user_credentials (user_id, password_hash) VALUES (:u, :h)"),
            {"u": user_id, "h": passwords.hash_password(password)},
        )
        session.execute(
            text(
                "INSERT INTO user_roles (user_id, role_id) SELECT :u, id FROM roles WHERE name = :r"
            ),
            {"u": user_id, "r": ADMIN},
        )
        record(
            session,
            Actor.system("bootstrap"),
            "users.first_admin_created",
            user_id,
            new={"email": settings.admin_email, "roles": [ADMIN]},
        )
    log.info("created the first admin account %s", settings.admin_email)
    return settings.admin_email, password
