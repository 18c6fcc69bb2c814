"""Sign-in by password or by an OpenID Connect identity, password changes and resets, and
the first admin of an empty database.

Sign-in happens before anyone is known, so it reads and updates accounts only through the
narrow SECURITY DEFINER functions of migration 0003 (auth_account, auth_record_failure,
auth_record_success, auth_set_reset_token, auth_redeem_reset_token); the app role never
sees another person's users row.
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
from core.config import Settings
from core.db import Actor, get_owner_engine, unit_of_work
from core.errors import (
    AccountLocked,
    NotFound,
    ResetTokenInvalid,
    SignInFailed,
    UnknownIdentity,
    ValidationError,
)

log = logging.getLogger(__name__)

MAX_FAILURES = 5
RESET_TOKEN_MINUTES = 60

_ACCOUNT = text("SELECT * FROM auth_account(:email)")


def sign_in_with_password(
    email: str, password: str, *, ip_address: str | None = None, user_agent: str | None = None
) -> Identity:
    """Check the password of `email`'s active account and return who signed in.

    Raises SignInFailed (wrong password, unknown or inactive account: one message for all)
    and AccountLocked (five failures in a row; it lasts 15 minutes or until an admin
    unlocks it). Every attempt on a known account is written to the audit log.
    """
    actor = Actor(user_id=None, ip_address=ip_address, user_agent=user_agent)
    with unit_of_work(actor) as uow:
        account = uow.session.execute(_ACCOUNT, {"email": email}).first()
        if account is None or account.status != "active" or account.password_hash is None:
            passwords.verify_password(None, password)  # same cost as a real check
            raise SignInFailed()
        if account.locked_until is not None and account.locked_until > account.checked_at:
            raise AccountLocked()
        if not passwords.verify_password(account.password_hash, password):
            attempts = uow.session.execute(
                text("SELECT auth_record_failure(:u, :ip, :ua)"),
                {"u": account.user_id, "ip": ip_address or "", "ua": user_agent or ""},
            ).scalar_one()
            uow.commit()
            log.info("failed sign-in for user %s (%s in a row)", account.user_id, attempts)
            if attempts >= MAX_FAILURES:
                raise AccountLocked()
            raise SignInFailed()
        new_hash = (
            passwords.hash_password(password)
            if passwords.needs_rehash(account.password_hash)
            else None
        )
        _record_success(uow.session, account.user_id, "password", new_hash, actor)
        uow.commit()
    return _identity(account.user_id)


def sign_in_with_oidc(
    claims: Mapping[str, Any],
    *,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> Identity:
    """Map an identity provider's claims (st.user.to_dict()) to an invited, active account.

    Uses "email" (and "email_verified", which must be true when present). An invited
    (pending) account becomes active on its first sign-in. Raises UnknownIdentity when the
    email is missing, unverified, or has no invited or active account.
    """
    email = str(claims.get("email") or "").strip()
    if not email:
        raise UnknownIdentity("The identity provider did not share an email address.")
    if "email_verified" in claims and claims["email_verified"] is not True:
        raise UnknownIdentity(
            f"The identity provider has not verified {email}; verify it there and sign in again."
        )
    actor = Actor(user_id=None, ip_address=ip_address, user_agent=user_agent)
    with unit_of_work(actor) as uow:
        account = uow.session.execute(_ACCOUNT, {"email": email}).first()
        if account is None or account.status not in ("active", "pending"):
            raise UnknownIdentity(
                f"There is no active account for {email}; ask an admin to invite you."
            )
        _record_success(uow.session, account.user_id, "oidc", None, actor)
        uow.commit()
    return _identity(account.user_id)


def _record_success(
    session: Session, user_id: uuid.UUID, method: str, new_hash: str | None, actor: Actor
) -> None:
    session.execute(
        text("SELECT auth_record_success(:u, :m, :h, :ip, :ua)"),
        {
            "u": user_id,
            "m": method,
            "h": new_hash,
            "ip": actor.ip_address or "",
            "ua": actor.user_agent or "",
        },
    )


def _identity(user_id: uuid.UUID) -> Identity:
    identity = load_identity(user_id)
    if identity is None:  # deactivated between the check and now
        raise SignInFailed()
    return identity


def change_password(actor: Actor, current_password: str, new_password: str) -> None:
    """Change the acting user's own password (and end a forced change).

    Raises ValidationError: field "current_password" when it is wrong, field
    "new_password" when shorter than 12 characters or equal to the current one;
    NotFound when the actor has no account.
    """
    passwords.check_new_password(new_password, current_password)
    with unit_of_work(actor) as uow:
        current = uow.session.execute(
            text("SELECT password_hash FROM users WHERE id = :u AND status = 'active'"),
            {"u": actor.user_id},
        ).first()
        if current is None:
            raise NotFound("Your account was not found; sign in again.")
        if not passwords.verify_password(current[0], current_password):
            raise ValidationError("The current password is wrong.", field="current_password")
        uow.session.execute(
            text("UPDATE users SET password_hash = :h, must_change_password = false WHERE id = :u"),
            {"h": passwords.hash_password(new_password), "u": actor.user_id},
        )
        assert actor.user_id is not None
        record(uow.session, actor, "auth.password_changed", actor.user_id)
        uow.commit()


def request_password_reset(email: str) -> str | None:
    """Make a reset token for `email`'s account, valid for 60 minutes; None when there is
    no active or invited account (the caller shows the same message either way).

    Only the token's hash is stored; the token itself goes to the person (by email).
    """
    token, digest = passwords.new_token()
    with unit_of_work(Actor.system("password reset")) as uow:
        found = uow.session.execute(
            text("SELECT auth_set_reset_token(:e, :h, :m)"),
            {"e": email, "h": digest, "m": RESET_TOKEN_MINUTES},
        ).scalar_one()
        uow.commit()
    return token if found is not None else None


def reset_password(token: str, new_password: str) -> None:
    """Set a new password with a reset (or invitation) token; the token works once.

    Raises ValidationError(field="new_password") for a password that breaks the rules,
    ResetTokenInvalid for an unknown, used or expired token.
    """
    passwords.check_new_password(new_password)
    with unit_of_work(Actor.system("password reset")) as uow:
        found = uow.session.execute(
            text("SELECT auth_redeem_reset_token(:t, :h)"),
            {"t": passwords.token_hash(token), "h": passwords.hash_password(new_password)},
        ).scalar_one()
        if found is None:
            raise ResetTokenInvalid()
        uow.commit()


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
        if session.execute(text("SELECT EXISTS (SELECT 1 FROM users)")).scalar_one():
            return None
        password = passwords.generate_password()
        user_id = session.execute(
            text(
                "INSERT INTO users (email, password_hash, full_name, user_type, status,"
                " email_verified, must_change_password)"
                " VALUES (:e, :h, 'Administrator', 'admin', 'active', true, true) RETURNING id"
            ),
            {"e": settings.admin_email, "h": passwords.hash_password(password)},
        ).scalar_one()
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
