"""Audit rows for changes made by core/auth, written in the change's own transaction."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import Actor, require_transaction


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
    """Add one audit_logs row for `actor` (never holding a password or a token)."""
    require_transaction(session)
    session.execute(
        text(
            "INSERT INTO audit_logs (user_id, action, table_name, record_id, old_data, new_data,"
            " ip_address, user_agent) VALUES (:u, :a, :t, :r, :o, :n, :ip, :ua)"
        ),
        {
            "u": actor.user_id,
            "a": action,
            "t": table,
            "r": str(record_id),
            "o": Jsonb(old) if old is not None else None,
            "n": Jsonb(new) if new is not None else None,
            "ip": actor.ip_address,
            "ua": actor.user_agent,
        },
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

    The audit policy (migration 0003) accepts only the acting person's own rows, so a
    system actor on the app role could not write one; jobs leave their trail in their log.
    """
    if actor.user_id is not None:
        record(session, actor, action, record_id, old=old, new=new, table=table)
