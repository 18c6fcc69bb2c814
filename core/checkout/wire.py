"""A unit of work in one round trip, for the checkout steps that are one function call.

`core.db.unit_of_work` pays a round trip per statement (BEGIN, the actor context, each
statement, COMMIT) and the ORM session's Python on each. hold_tickets and place_order
(without a code) are one server-side call each (migration 0004), so here they are sent
together in a psycopg pipeline: BEGIN, the same actor context, the call and COMMIT go to
the server at once, and the ticket-type locks the call takes are released by the COMMIT
right behind it, without waiting for this process to be scheduled again.

The guarantees are core.db.uow's: one transaction carrying the actor (the same
`set_config` statement), `require` asked inside it before anything else runs (one round
trip of its own for a signed-in person; system actors pass and anonymous ones fail
without one), nothing committed unless `commit()` is reached, database errors translated
the same way (a checkout refusal into its domain error, a lock timeout into Busy, a
connection that cannot be made or is lost into Unavailable, the connection then dropped
from the pool).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from core.checkout.refusals import refusal
from core.db import Actor
from core.db.engine import get_engine
from core.db.uow import ACTOR_CONTEXT, check_session, context_params
from core.errors import PermissionDenied, from_database_error

# The unit of work's own statement, with psycopg's placeholders instead of SQLAlchemy's.
SET_CONTEXT = re.sub(r"(?<!:):(\w+)", r"%(\1)s", ACTOR_CONTEXT.text)
PERMISSION = "SELECT bool_or(app_has_permission(p)) FROM unnest(%(ps)s::text[]) p"


class PipelinedWork:
    """`with PipelinedWork(actor, lock_timeout_ms=...) as work:` then `work.require(...)`,
    `cursor = work.call(sql, params)`, `work.commit()` (the one round trip), then read
    `cursor`. Leaving the block without commit() rolls back."""

    def __init__(self, actor: Actor, *, lock_timeout_ms: int | None = None):
        self.actor = actor
        self.lock_timeout_ms = lock_timeout_ms
        self._committed = False
        # Whether the actor's session was found valid (core.db.uow.check_session); read
        # with the first answer that comes back, so it costs no round trip of its own.
        self._session_checked = not actor.require_session

    def __enter__(self) -> PipelinedWork:
        try:
            self._conn: Connection = get_engine().connect()
        except SQLAlchemyError as exc:
            translated = from_database_error(exc)
            if translated is not None:
                raise translated from exc
            raise
        try:
            self._raw: psycopg.Connection = self._conn.connection.driver_connection
            self._pipelining = self._raw.pipeline()
            self._pipeline = self._pipelining.__enter__()
            self._context = self._raw.cursor()
            self._context.execute(
                SET_CONTEXT, context_params(self.actor, lock_timeout_ms=self.lock_timeout_ms)
            )
        except BaseException as exc:
            translated = self._close(exc)
            if translated is not None:
                raise translated from exc
            raise
        return self

    def require(self, *permissions: str) -> None:
        """As UnitOfWork.require: PermissionDenied unless the actor holds one of
        `permissions`, asked inside this transaction before anything else is sent."""
        if self.actor.is_system:
            return
        if self.actor.user_id is not None:
            cursor = self._raw.cursor()
            cursor.execute(PERMISSION, {"ps": list(permissions)})
            row = cursor.fetchone()  # the pipeline's first round trip
            self._check_session()
            if row is not None and row[0]:
                return
        raise PermissionDenied(
            f"You are not allowed to do that (it needs {' or '.join(permissions)})."
        )

    def call(self, sql: str, params: Mapping[str, Any]) -> psycopg.Cursor:
        """Queue `sql`; its rows can be read after the next round trip."""
        cursor = self._raw.cursor()
        cursor.execute(sql, dict(params))
        return cursor

    def sync(self) -> None:
        """Send what is queued and wait for it (a round trip, nothing committed)."""
        self._pipeline.sync()
        self._check_session()

    def commit(self) -> None:
        if not self._session_checked:
            # Nothing read back yet: make sure the actor's session holds before committing.
            self._pipeline.sync()
            self._check_session()
        self._raw.commit()
        self._committed = True

    def _check_session(self) -> None:
        if not self._session_checked:
            check_session(self.actor, self._context.fetchone())
            self._session_checked = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        translated = self._close(exc)
        if translated is not None:
            raise translated from exc

    def _close(self, exc: BaseException | None) -> BaseException | None:
        raw = getattr(self, "_raw", None)
        try:
            if raw is not None:
                if getattr(self, "_pipelining", None) is not None:
                    try:
                        self._pipelining.__exit__(None, None, None)
                    except psycopg.Error as late:
                        exc = exc or late
                if not self._committed and not raw.broken and not raw.closed:
                    try:
                        raw.rollback()
                    except psycopg.Error as late:
                        exc = exc or late
        finally:
            if raw is not None and (raw.broken or raw.closed):
                self._conn.invalidate()
            self._conn.close()
        return _translate(exc)


def _translate(exc: BaseException | None) -> BaseException | None:
    """A psycopg error as core.db.uow would have raised it: a domain error, or else the
    SQLAlchemy DBAPIError wrapping it."""
    if not isinstance(exc, psycopg.Error):
        return None
    wrapped = DBAPIError.instance(None, None, exc, psycopg.Error)
    return refusal(wrapped) or from_database_error(wrapped) or wrapped
