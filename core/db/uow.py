"""The unit of work: one transaction per service call, carrying who acts.

`with unit_of_work(actor) as uow:` opens a session and a transaction whose first
statement stores the actor, IP address and user agent as transaction-local settings
(`set_config(..., true)`), so row-level-security policies and audit triggers read them
and they vanish with the transaction: a pooled connection carries nothing to its next
user. Leaving the block without `uow.commit()` rolls everything back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.db.engine import get_sessionmaker
from core.errors import ConcurrentUpdate, DomainError, PermissionDenied, from_database_error


@dataclass(frozen=True)
class Actor:
    """Who performs an action, as the audit trail and row-level security see it."""

    user_id: uuid.UUID | None
    ip_address: str | None = None
    user_agent: str | None = None
    # A job, command-line tool or benchmark: trusted code with no person behind it. It
    # passes permission checks; an anonymous actor (no user, not system) passes none.
    is_system: bool = False

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """A background job or command-line tool acting without a signed-in person."""
        return cls(user_id=None, ip_address=None, user_agent=name, is_system=True)


# One round trip opens every unit of work (core/checkout/wire.py sends the same statement
# pipelined). Switching a transaction to read-only is allowed after its first snapshot
# (only the way back is not), so it can ride along here too.
ACTOR_CONTEXT = text(
    "SELECT set_config('app.user_id', :user_id, true),"
    " set_config('app.ip_address', :ip_address, true),"
    " set_config('app.user_agent', :user_agent, true),"
    " set_config('lock_timeout', coalesce(:lock_timeout, current_setting('lock_timeout')),"
    " true),"
    " set_config('transaction_read_only', :read_only, true)"
)


class UnitOfWork:
    """A session in one transaction; commit explicitly or it rolls back."""

    session: Session

    def __init__(
        self, actor: Actor, *, read_only: bool = False, lock_timeout_ms: int | None = None
    ):
        self.actor = actor
        self.read_only = read_only
        self.lock_timeout_ms = lock_timeout_ms
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = get_sessionmaker()()
        try:
            self.session.execute(
                ACTOR_CONTEXT,
                {
                    "user_id": str(self.actor.user_id) if self.actor.user_id else "",
                    "ip_address": self.actor.ip_address or "",
                    "user_agent": self.actor.user_agent or "",
                    "lock_timeout": (
                        f"{int(self.lock_timeout_ms)}ms"
                        if self.lock_timeout_ms is not None
                        else None
                    ),
                    "read_only": "on" if self.read_only else "off",
                },
            )
        except BaseException:
            self.session.close()
            raise
        return self

    def require(self, *permissions: str) -> None:
        """Raise PermissionDenied unless the actor holds one of `permissions`.

        Asked inside this transaction (no extra round trip to open another), of the
        database rather than a cached identity, so a role taken away stops working at once.
        System actors pass; anonymous ones never do.
        """
        if self.actor.is_system:
            return
        if self.actor.user_id is not None:
            allowed = self.session.execute(
                text("SELECT bool_or(app_has_permission(p)) FROM unnest(CAST(:ps AS text[])) p"),
                {"ps": list(permissions)},
            ).scalar_one()
            if allowed:
                return
        raise PermissionDenied(
            f"You are not allowed to do that (it needs {' or '.join(permissions)})."
        )

    def commit(self) -> None:
        """Commit the whole unit; raises a DomainError when the database refuses it."""
        try:
            self.session.commit()
        except (DBAPIError, StaleDataError) as exc:
            self.session.rollback()
            translated = _translate(exc)
            if translated is not None:
                raise translated from exc
            raise
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()
        translated = _translate(exc)
        if translated is not None:
            raise translated from exc


_STALE = "Someone else changed this record since it was read; reload it and try again."


def _translate(exc: BaseException | None) -> DomainError | None:
    if isinstance(exc, StaleDataError):
        # The ORM's version check (ticket types) found the row at another version.
        return ConcurrentUpdate(_STALE)
    if isinstance(exc, DBAPIError):
        return from_database_error(exc)
    return None


def unit_of_work(
    actor: Actor, *, read_only: bool = False, lock_timeout_ms: int | None = None
) -> UnitOfWork:
    """Open a unit of work for `actor`; see the module docstring."""
    return UnitOfWork(actor, read_only=read_only, lock_timeout_ms=lock_timeout_ms)


def require_transaction(session: Session) -> None:
    """Refuse to run a helper that must share its caller's transaction outside one."""
    if not session.in_transaction():
        raise RuntimeError("this helper must run inside a unit of work")
