"""Who is signed in (Identity), loading it on every rerun, and the permission check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import text

from core.auth.sessions import open_session, touch
from core.db import Actor, unit_of_work


@dataclass(frozen=True)
class Identity:
    """A signed-in person as the UI keeps it in its session state.

    `session_token` is the raw token of their sign-in session: the database believes it,
    not `user_id` (docs/SECURITY.md). It never leaves the server process and is kept out
    of repr so it cannot land in a log.
    """

    user_id: uuid.UUID
    email: str
    full_name: str
    roles: frozenset[str]
    permissions: frozenset[str]
    must_change_password: bool
    session_token: str = field(default="", repr=False)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def actor(self, ip_address: str | None = None, user_agent: str | None = None) -> Actor:
        return Actor(
            user_id=self.user_id,
            ip_address=ip_address,
            user_agent=user_agent,
            session_token=self.session_token,
        )


_IDENTITY = text(
    """
    SELECT u.email, u.full_name, u.must_change_password,
           ARRAY(SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                  WHERE ur.user_id = u.id),
           ARRAY(SELECT DISTINCT p.name FROM user_roles ur
                   JOIN role_permissions rp ON rp.role_id = ur.role_id
                   JOIN permissions p ON p.id = rp.permission_id
                  WHERE ur.user_id = u.id)
      FROM users u WHERE u.id = :u AND u.status = 'active'
    """
)


def load_identity(session_token: str) -> Identity | None:
    """The identity behind the sign-in session `session_token` as it is now, extending the
    session by its idle window; None when the session has ended (signed out, idle too
    long, the account deactivated or gone).

    Runs as that session, so row-level security shows it nothing but its own rows.
    """
    if not session_token:
        return None
    with unit_of_work(Actor(user_id=None, session_token=session_token)) as uow:
        user_id, _ = touch(uow.session, session_token)
        row = None
        if user_id is not None:
            row = uow.session.execute(_IDENTITY, {"u": user_id}).first()
        uow.commit()
    if user_id is None or row is None:
        return None
    email, full_name, must_change, roles, permissions = row
    return Identity(
        user_id=user_id,
        email=email,
        full_name=full_name,
        roles=frozenset(roles),
        permissions=frozenset(permissions),
        must_change_password=must_change,
        session_token=session_token,
    )


def issue_identity(user_id: uuid.UUID) -> Identity | None:
    """The identity of the active account `user_id` with a session opened as the owner;
    None when it is not active. For trusted code holding the owner's credential (tests,
    benchmarks, command-line tools); people sign in through core.auth.signin."""
    token = open_session(user_id)
    return load_identity(token) if token else None


def require(actor: Actor, *permissions: str) -> None:
    """Raise PermissionDenied unless the actor's active account holds one of `permissions`.

    For a check on its own; a service that opens a unit of work anyway calls
    `uow.require(...)` inside it instead.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(*permissions)
