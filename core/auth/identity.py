"""Who is signed in (Identity), loading it on every rerun, and the permission check."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from core.db import Actor, unit_of_work


@dataclass(frozen=True)
class Identity:
    """A signed-in person as the UI keeps it in its session state."""

    user_id: uuid.UUID
    email: str
    full_name: str
    roles: frozenset[str]
    permissions: frozenset[str]
    must_change_password: bool

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def actor(self, ip_address: str | None = None, user_agent: str | None = None) -> Actor:
        return Actor(user_id=self.user_id, ip_address=ip_address, user_agent=user_agent)


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


def load_identity(user_id: uuid.UUID) -> Identity | None:
    """The identity of `user_id` as it is now; None when deactivated or gone.

    Runs as that user, so row-level security shows it nothing but its own rows.
    """
    with unit_of_work(Actor(user_id=user_id), read_only=True) as uow:
        row = uow.session.execute(_IDENTITY, {"u": user_id}).first()
    if row is None:
        return None
    email, full_name, must_change, roles, permissions = row
    return Identity(
        user_id=user_id,
        email=email,
        full_name=full_name,
        roles=frozenset(roles),
        permissions=frozenset(permissions),
        must_change_password=must_change,
    )


def require(actor: Actor, *permissions: str) -> None:
    """Raise PermissionDenied unless the actor's active account holds one of `permissions`.

    For a check on its own; a service that opens a unit of work anyway calls
    `uow.require(...)` inside it instead.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(*permissions)
