"""Audit rows for what services do beyond a row change, written in the change's own
transaction through the database's `audit_record` (migration 0011).

The app role cannot insert audit rows itself. `audit_record` takes the acting person from
the transaction (`app_current_user_id()`), the IP address and user agent from its
settings, refuses an action the `audit_actions` catalogue does not list for the
application (a new action needs a migration adding it), refuses with no person acting an
action that is not a job's, and masks secret-looking keys.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import Actor, require_transaction

_RECORD = text("SELECT audit_record(:a, :t, :r, :o, :n)")


def record(
    session: Session,
    actor: Actor,
    action: str,
    record_id: uuid.UUID,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    table: str = "users",
) -> None:
    """Add one audit row for `action` on `table`'s `record_id` (never a password or a
    token) under the person acting in `session`'s transaction, who must be `actor`.

    Raises RuntimeError outside a transaction, or when the transaction acts for someone
    else than `actor` (a programming error: the row would name the wrong person); the
    database refuses (a PermissionDenied from the unit of work) an action not listed in
    audit_actions, or one a job may not record without a person.
    """
    require_transaction(session)
    recorded = session.execute(
        _RECORD,
        {
            "a": action,
            "t": table,
            "r": str(record_id),
            "o": Jsonb(old) if old is not None else None,
            "n": Jsonb(new) if new is not None else None,
        },
    ).scalar_one()
    if recorded != actor.user_id:
        raise RuntimeError(
            f"audit row {action} was recorded for {recorded}, but the caller acts as"
            f" {actor.user_id}"
        )


def record_by_person(
    session: Session,
    actor: Actor,
    action: str,
    record_id: uuid.UUID,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    table: str = "users",
) -> None:
    """`record` a change a person made; nothing for a job without one.

    A job's own runs leave their trail in the job log, and the rows they change are in
    the audit log through the triggers; the catalogue lets a job record only what is
    about the job itself (a retention run, the first admin).
    """
    if actor.user_id is not None:
        record(session, actor, action, record_id, old=old, new=new, table=table)
