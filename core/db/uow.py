"""The unit of work: one transaction per service call, carrying who acts.

`with unit_of_work(actor) as uow:` opens a session and a transaction whose first
statement stores the actor's session token, user id, IP address and user agent as
transaction-local settings (`set_config(..., true)`), so row-level-security policies and
audit triggers read them and they vanish with the transaction: a pooled connection carries
nothing to its next user. Leaving the block without `uow.commit()` rolls everything back.

The database believes the session token, not the user id: on the app role
`app_current_user_id()` is the user of the valid session named by `app.session` (migration
0012), so a connection that only claims `app.user_id` acts as nobody. Only the owner's
connections (migrations, demo, command line) are taken at their word. An actor with
`require_session` (an API key's, which the API keeps a few seconds) is refused with
Unauthenticated when that first statement finds its session ended, instead of acting as
nobody: a revoked key stops at its very next unit of work.

Every database error leaves the block as a DomainError where one applies
(core.errors.from_database_error): a refused constraint as ValidationError or Conflict, a
lock timeout as Busy, and a connection that could not be made or was lost (a restart, a
terminated backend) as Unavailable, whether it happens on opening, on a statement, on
commit or on the rollback after it. The session is closed in every case, and a broken
connection is dropped from the pool rather than handed to the next unit of work.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.db.engine import get_sessionmaker
from core.errors import (
    ConcurrentUpdate,
    DomainError,
    PermissionDenied,
    Unauthenticated,
    from_database_error,
)
from core.models.limits import IP_ADDRESS, USER_AGENT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who performs an action, as the audit trail and row-level security see it."""

    user_id: uuid.UUID | None
    ip_address: str | None = None
    user_agent: str | None = None
    # A job, command-line tool or benchmark: trusted code with no person behind it. It
    # passes permission checks; an anonymous actor (no user, not system) passes none.
    is_system: bool = False
    # The raw token of the person's sign-in session (core.auth opens it): the database
    # takes the acting person from it. Kept out of repr so it never lands in a log.
    session_token: str | None = field(default=None, repr=False)
    # The unit of work refuses (Unauthenticated) when `session_token` no longer names a
    # valid session, instead of acting as nobody: an API key's actor, whose principal the
    # API keeps for a few seconds, so a revoked key stops at its very next request.
    require_session: bool = False

    def __post_init__(self) -> None:
        # Whatever the browser or a proxy sends: kept to the audit columns' limits (they
        # describe the request, they are not input to refuse).
        if self.ip_address is not None and len(self.ip_address) > IP_ADDRESS:
            object.__setattr__(self, "ip_address", self.ip_address[:IP_ADDRESS])
        if self.user_agent is not None and len(self.user_agent) > USER_AGENT:
            object.__setattr__(self, "user_agent", self.user_agent[:USER_AGENT])

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """A background job or command-line tool acting without a signed-in person."""
        return cls(user_id=None, ip_address=None, user_agent=name, is_system=True)


# One round trip opens every unit of work (core/checkout/wire.py sends the same statement
# pipelined). Switching a transaction to read-only is allowed after its first snapshot
# (only the way back is not), so it can ride along here too. Its last column says, for an
# actor that requires its session, whether the session just set is still valid (the
# target list is evaluated left to right, so app_current_user_id() sees app.session);
# for every other actor it is NULL and costs nothing.
ACTOR_CONTEXT = text(
    "SELECT set_config('app.session', :session, true),"
    " set_config('app.user_id', :user_id, true),"
    " set_config('app.ip_address', :ip_address, true),"
    " set_config('app.user_agent', :user_agent, true),"
    " set_config('lock_timeout', coalesce(:lock_timeout, current_setting('lock_timeout')),"
    " true),"
    " set_config('transaction_read_only', :read_only, true),"
    " CASE WHEN CAST(:check_session AS boolean) THEN app_current_user_id() IS NOT NULL END"
)
# The position of that column in ACTOR_CONTEXT's row.
SESSION_VALID = 6


def context_params(
    actor: Actor, *, read_only: bool = False, lock_timeout_ms: int | None = None
) -> dict[str, Any]:
    """The parameters of ACTOR_CONTEXT for `actor` (core/checkout/wire.py sends the same)."""
    return {
        "session": actor.session_token or "",
        "user_id": str(actor.user_id) if actor.user_id else "",
        "ip_address": actor.ip_address or "",
        "user_agent": actor.user_agent or "",
        "lock_timeout": f"{int(lock_timeout_ms)}ms" if lock_timeout_ms is not None else None,
        "read_only": "on" if read_only else "off",
        "check_session": bool(actor.require_session and actor.session_token),
    }


def check_session(actor: Actor, row: Any) -> None:
    """Raise Unauthenticated when `actor` requires its session and ACTOR_CONTEXT's `row`
    says it has ended (a key revoked, its owner deactivated or erased, the key expired)."""
    ended = row is None or row[SESSION_VALID] is not True
    if actor.require_session and actor.session_token and ended:
        raise Unauthenticated()


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
            row = self.session.execute(
                ACTOR_CONTEXT,
                context_params(
                    self.actor, read_only=self.read_only, lock_timeout_ms=self.lock_timeout_ms
                ),
            ).one()
            check_session(self.actor, row)
        except BaseException as exc:
            self._close()
            translated = _translate(exc)
            if translated is not None:
                raise translated from exc
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
        """Commit the whole unit; raises a DomainError when the database refuses it
        (Unavailable when the connection is lost: whether the commit took is then not
        known, so only an idempotent request may be retried blindly)."""
        try:
            self.session.commit()
        except (SQLAlchemyError, StaleDataError) as exc:
            self._rollback()
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
        late: BaseException | None = None
        try:
            if not self._committed:
                late = self._rollback()
        finally:
            late = self._close() or late
        # The error that ended the block is the one to report; a rollback or close that
        # failed after it (the connection is gone) only says the same again. After a
        # block that ended well, nothing was left to undo: its result stands.
        translated = _translate(exc)
        if translated is not None:
            raise translated from exc
        if late is not None:
            log.warning("rollback after a unit of work failed: %s", late)

    def _rollback(self) -> BaseException | None:
        try:
            self.session.rollback()
        except SQLAlchemyError as exc:
            return exc
        return None

    def _close(self) -> BaseException | None:
        try:
            self.session.close()
        except SQLAlchemyError as exc:
            return exc
        return None


_STALE = "Someone else changed this record since it was read; reload it and try again."


def _translate(exc: BaseException | None) -> DomainError | None:
    if isinstance(exc, StaleDataError):
        # The ORM's version check (ticket types) found the row at another version.
        return ConcurrentUpdate(_STALE)
    if isinstance(exc, SQLAlchemyError):
        # DBAPIError, and the pool's TimeoutError / DisconnectionError (Unavailable).
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
