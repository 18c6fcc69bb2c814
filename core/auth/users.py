"""Managing users: list, invite, set roles, deactivate, reactivate, make reset tokens.

Every service needs users.manage and runs as the acting admin (row-level security lets
admins see every account). The audit trigger (migration 0005) records every change to
users and user_roles in the same transaction; invitations and role changes also write a
summary row naming the roles. The last active admin can be neither deactivated nor
demoted. Deactivating an account ends its sessions in the database at once (migration
0012's trigger), so its holder acts as nobody from their next request on.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.audit import record
from core.auth.identity import require
from core.auth.permissions import ADMIN, ROLES, USERS_MANAGE
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import Conflict, NotFound, ValidationError

INVITATION_HOURS = 72
RESET_TOKEN_MINUTES = 60
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_STATUSES = ("active", "inactive", "pending", "suspended")


@dataclass(frozen=True)
class UserSummary:
    user_id: uuid.UUID
    email: str
    full_name: str
    status: str
    roles: tuple[str, ...]
    last_login: datetime | None


@dataclass(frozen=True)
class Invitation:
    user_id: uuid.UUID
    # The invitee sets a password with it (reset_password); valid for 72 hours.
    reset_token: str


def list_users(
    actor: Actor, *, search: str = "", role: str | None = None, status: str | None = None
) -> list[UserSummary]:
    """Accounts matching `search` (email or name), `role` and `status`, by name.

    Raises PermissionDenied without users.manage.
    """
    require(actor, USERS_MANAGE)
    with unit_of_work(actor, read_only=True) as uow:
        rows = uow.session.execute(
            text(
                """
                SELECT u.id, u.email, u.full_name, u.status,
                       ARRAY(SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                              WHERE ur.user_id = u.id ORDER BY r.name),
                       u.last_login
                  FROM users u
                 WHERE (:search = '' OR u.email ILIKE :pattern OR u.full_name ILIKE :pattern)
                   AND (CAST(:status AS text) IS NULL OR u.status = :status)
                   AND (CAST(:role AS text) IS NULL OR EXISTS (
                         SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                          WHERE ur.user_id = u.id AND r.name = :role))
                 ORDER BY u.full_name, u.email
                """
            ),
            {
                "search": search.strip(),
                "pattern": f"%{escape_like(search.strip())}%",
                "status": status,
                "role": role,
            },
        ).all()
    return [UserSummary(r[0], r[1], r[2], r[3], tuple(r[4]), r[5]) for r in rows]


def invite_user(actor: Actor, *, email: str, full_name: str, roles: Sequence[str]) -> Invitation:
    """Create a pending account with `roles` and a token to set its password.

    The invitee may also sign in by OpenID Connect with this email. Raises
    ValidationError (email, full_name, roles), Conflict when the email is taken,
    PermissionDenied without users.manage.
    """
    require(actor, USERS_MANAGE)
    email = email.strip()
    full_name = full_name.strip()
    if not _EMAIL.match(email):
        raise ValidationError("Email must look like name@example.com.", field="email")
    if not full_name:
        raise ValidationError("Full name is required.", field="full_name")
    wanted = _check_roles(roles)
    with unit_of_work(actor) as uow:
        taken = uow.session.execute(
            text("SELECT 1 FROM users WHERE lower(email) = lower(:e)"), {"e": email}
        ).first()
        if taken:
            raise Conflict("A user with this email already exists.", field="email")
        user_id = uow.session.execute(
            text(
                "INSERT INTO users (email, full_name, user_type, status)"
                " VALUES (:e, :n, :t, 'pending') RETURNING id"
            ),
            {"e": email, "n": full_name, "t": wanted[0]},
        ).scalar_one()
        _add_roles(uow.session, user_id, wanted)
        token = _issue_token(uow.session, user_id, INVITATION_HOURS * 60)
        record(
            uow.session,
            actor,
            "users.invited",
            user_id,
            new={"email": email, "full_name": full_name, "roles": list(wanted)},
        )
        uow.commit()
    return Invitation(user_id=user_id, reset_token=token)


def set_roles(actor: Actor, user_id: uuid.UUID, roles: Sequence[str]) -> None:
    """Give `user_id` exactly `roles`.

    Raises ValidationError (unknown or no roles), NotFound, Conflict when it would take
    the admin role from the last active admin, PermissionDenied without users.manage.
    """
    require(actor, USERS_MANAGE)
    wanted = _check_roles(roles)
    with unit_of_work(actor) as uow:
        _lock_admins(uow.session)
        _status(uow.session, user_id)
        old = _roles_of(uow.session, user_id)
        if ADMIN in old and ADMIN not in wanted:
            _keep_an_admin(uow.session, user_id, "lose the admin role")
        # Add before removing: an admin dropping their own admin role is still one while
        # row-level security checks the insert.
        _add_roles(uow.session, user_id, [r for r in wanted if r not in old])
        uow.session.execute(
            text(
                "DELETE FROM user_roles ur USING roles r WHERE r.id = ur.role_id"
                " AND ur.user_id = :u AND NOT (r.name = ANY(:keep))"
            ),
            {"u": user_id, "keep": list(wanted)},
        )
        record(
            uow.session,
            actor,
            "users.roles_changed",
            user_id,
            old={"roles": sorted(old)},
            new={"roles": sorted(wanted)},
        )
        uow.commit()


def deactivate_user(actor: Actor, user_id: uuid.UUID) -> None:
    """Stop `user_id` from signing in; their next rerun finds no identity.

    Raises NotFound, Conflict for the last active admin, PermissionDenied without
    users.manage.
    """
    require(actor, USERS_MANAGE)
    with unit_of_work(actor) as uow:
        _lock_admins(uow.session)
        old = _status(uow.session, user_id)
        if ADMIN in _roles_of(uow.session, user_id) and old == "active":
            _keep_an_admin(uow.session, user_id, "be deactivated")
        _set_status(uow.session, user_id, "inactive")
        uow.commit()


def reactivate_user(actor: Actor, user_id: uuid.UUID) -> None:
    """Let a deactivated or suspended account sign in again.

    Raises NotFound, PermissionDenied without users.manage.
    """
    require(actor, USERS_MANAGE)
    with unit_of_work(actor) as uow:
        _status(uow.session, user_id)
        _set_status(uow.session, user_id, "active")
        uow.commit()


def issue_reset_token(actor: Actor, user_id: uuid.UUID) -> str:
    """A one-time token (valid 60 minutes) with which `user_id` sets a new password; the
    admin hands it over. The database makes it and keeps only its hash; a new token
    replaces an older one.

    Raises NotFound (no active or invited account), PermissionDenied without users.manage.
    """
    require(actor, USERS_MANAGE)
    with unit_of_work(actor) as uow:
        token = _issue_token(uow.session, user_id, RESET_TOKEN_MINUTES)
        uow.commit()
    return token


def _issue_token(session: Session, user_id: uuid.UUID, minutes: int) -> str:
    token = session.execute(
        text("SELECT auth_issue_reset_token(:u, :m)"), {"u": user_id, "m": minutes}
    ).scalar_one()
    if token is None:
        raise NotFound("There is no active or invited account to reset.", field="user_id")
    return token


def _check_roles(roles: Sequence[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(r.strip() for r in roles))
    if not wanted:
        raise ValidationError("Choose at least one role.", field="roles")
    unknown = [r for r in wanted if r not in ROLES]
    if unknown:
        raise ValidationError(
            f"Unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}.", field="roles"
        )
    return wanted


def _lock_admins(session: Session) -> None:
    # Two admins demoting each other at once must not leave none: one waits for the other.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('users.admin_set'))"))


def _status(session: Session, user_id: uuid.UUID) -> str:
    status = session.execute(
        text("SELECT status FROM users WHERE id = :u FOR UPDATE"), {"u": user_id}
    ).scalar()
    if status is None:
        raise NotFound("This user does not exist.", field="user_id")
    return status


def _roles_of(session: Session, user_id: uuid.UUID) -> set[str]:
    return set(
        session.execute(
            text(
                "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
                " WHERE ur.user_id = :u"
            ),
            {"u": user_id},
        ).scalars()
    )


def _keep_an_admin(session: Session, user_id: uuid.UUID, what: str) -> None:
    others = session.execute(
        text(
            "SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
            " JOIN users u ON u.id = ur.user_id"
            " WHERE r.name = :admin AND u.status = 'active' AND u.id <> :u"
        ),
        {"admin": ADMIN, "u": user_id},
    ).scalar_one()
    if others == 0:
        raise Conflict(f"The last admin cannot {what}; make someone else an admin first.")


def _add_roles(session: Session, user_id: uuid.UUID, roles: Sequence[str]) -> None:
    if roles:
        session.execute(
            text(
                "INSERT INTO user_roles (user_id, role_id)"
                " SELECT :u, id FROM roles WHERE name = ANY(:roles)"
            ),
            {"u": user_id, "roles": list(roles)},
        )


def _set_status(session: Session, user_id: uuid.UUID, new: str) -> None:
    # The audit trigger records the change (users.update, old and new status).
    session.execute(text("UPDATE users SET status = :s WHERE id = :u"), {"s": new, "u": user_id})
