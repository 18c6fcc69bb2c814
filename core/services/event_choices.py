"""The events a person may pick from a list (orders, attendees, sponsorships, campaigns,
collections, shows): one row shape and one query, read inside the caller's unit of work so
each service keeps its own permission check and row-level security applies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import require_transaction


@dataclass(frozen=True)
class EventChoice:
    event_id: uuid.UUID
    title: str
    start_date: datetime
    status: str


def read_event_choices(
    session: Session, *, include_cancelled: bool = True, sales_only: bool = False, limit: int = 1000
) -> tuple[EventChoice, ...]:
    """Events the session's actor can see, newest start first, at most `limit`; with
    `sales_only`, only those whose orders they see (organised, worked, or all for an
    admin: app_my_event_ids(), migration 0013)."""
    require_transaction(session)
    rows = session.execute(
        text(
            "SELECT id, title, start_date, status FROM events"
            " WHERE (:cancelled OR status <> 'cancelled')"
            "   AND (NOT :sales_only OR id = ANY(app_my_event_ids()))"
            " ORDER BY start_date DESC, id LIMIT :limit"
        ),
        {"cancelled": include_cancelled, "sales_only": sales_only, "limit": limit},
    )
    return tuple(EventChoice(*row) for row in rows)
