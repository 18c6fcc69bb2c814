"""Sign-in sessions: the database's proof of who acts.

A sign-in (password or OpenID Connect) opens a row in `auth_sessions` through the sign-in
path and hands the raw token to the caller; Identity and Actor carry it and every unit of
work sets it (`app.session`), and `app_current_user_id()` answers with its user only while
the session is valid: not signed out, not idle past its window, its account still active
(migration 0012). Only the token's SHA-256 is stored.

Who may do what here is the database's rule, not this module's: the app role may extend
or end a session whose token it holds, never open one; the sign-in role opens them after a
password or the identity provider vouched, and for a running job as its creator; the owner
(tests, benchmarks, command line) may open one for anyone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, Row, text
from sqlalchemy.exc import DBAPIError

from core.config import Settings
from core.db import Actor, get_auth_engine, get_owner_engine, unit_of_work
from core.errors import from_database_error

# A job's session lasts this long after its last progress report (a job that dies leaves
# a session that ends by itself).
JOB_SESSION_MINUTES = 60
# Why a session ended, as auth_touch_session reports it.
ENDED_REASONS = (
    "signed_out",
    "deactivated",
    "password_changed",
    "erased",
    "job_finished",
    "key_revoked",  # an API key's session, its key revoked (migration 0016)
    "expired",
    "unknown",
)


def idle_minutes(settings: Settings | None = None) -> int:
    """A browser session's idle window (FASHIONISTAS_SESSION_MINUTES, 1 to 1440)."""
    minutes = (settings or Settings.from_env()).session_minutes
    return max(1, min(1440, int(minutes)))


def sign_in_call(sql: str, params: Mapping[str, Any]) -> Row[Any] | None:
    """Run one sign-in function on the sign-in role's connection, in its own transaction;
    database errors come back as domain errors where they are one."""
    return _call(get_auth_engine(), sql, params)


def _call(engine: Engine, sql: str, params: Mapping[str, Any]) -> Row[Any] | None:
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql), dict(params)).first()
    except DBAPIError as exc:
        translated = from_database_error(exc)
        if translated is not None:
            raise translated from exc
        raise


def open_session(user_id: uuid.UUID, *, minutes: int | None = None) -> str | None:
    """A session for an active account, opened as the owner; the raw token, or None.

    For trusted code that holds the owner's credential (tests, benchmarks, command-line
    tools): people sign in through core.auth.signin instead.
    """
    row = _call(
        get_owner_engine(),
        "SELECT auth_open_session(:u, 'issued', :m)",
        {"u": user_id, "m": minutes or idle_minutes()},
    )
    return None if row is None else row[0]


def open_job_session(job_id: uuid.UUID) -> str | None:
    """A session for the person who queued the running job `job_id`, or None (no such
    running job, nobody queued it, or their account is no longer active)."""
    row = sign_in_call(
        "SELECT auth_open_job_session(:j, :m)", {"j": job_id, "m": JOB_SESSION_MINUTES}
    )
    return None if row is None else row[0]


def touch(session: Any, token: str) -> tuple[uuid.UUID | None, str | None]:
    """Extend the session `token` inside the caller's unit of work `session`; returns
    (its user, None) while it is valid, else (None, why it ended)."""
    row = session.execute(
        text("SELECT acting_user, ended FROM auth_touch_session(:t)"), {"t": token}
    ).one()
    return row.acting_user, row.ended


def keep_alive(token: str) -> bool:
    """Extend the session `token` by its idle window; False when it has ended."""
    with unit_of_work(Actor(user_id=None, session_token=token)) as uow:
        user_id, _ = touch(uow.session, token)
        uow.commit()
    return user_id is not None


def why_ended(token: str) -> str | None:
    """Why the session `token` ended (one of ENDED_REASONS), or None when it has not."""
    with unit_of_work(Actor(user_id=None, session_token=token)) as uow:
        user_id, reason = touch(uow.session, token)
        uow.commit()
    return None if user_id is not None else reason


def end_session(token: str, reason: str = "signed_out") -> bool:
    """End the session `token` ("signed_out" or "job_finished"); False when it had already
    ended. Its holder's next unit of work acts as nobody."""
    with unit_of_work(Actor(user_id=None)) as uow:
        ended = uow.session.execute(
            text("SELECT auth_end_session(:t, :r)"), {"t": token, "r": reason}
        ).scalar_one()
        uow.commit()
    return bool(ended)


def purge() -> int:
    """Forget expired throttle rows, sessions ended a day ago and expired reset tokens
    (the worker runs it every few minutes); returns how many rows went."""
    row = sign_in_call("SELECT auth_purge()", {})
    return 0 if row is None else int(row[0])
