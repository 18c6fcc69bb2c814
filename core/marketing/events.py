"""The events marketing can attach sponsorships and campaigns to."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from core.auth.permissions import ANALYTICS_VIEW, CAMPAIGNS_MANAGE, SPONSORS_MANAGE
from core.db import Actor, unit_of_work


@dataclass(frozen=True)
class EventChoice:
    event_id: uuid.UUID
    title: str
    start_date: datetime
    status: str


def list_event_choices(actor: Actor) -> tuple[EventChoice, ...]:
    """Events the actor can see (row-level security), newest first. Raises
    PermissionDenied without sponsors.manage, campaigns.manage or analytics.view."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE, CAMPAIGNS_MANAGE, ANALYTICS_VIEW)
        rows = uow.session.execute(
            text("SELECT id, title, start_date, status FROM events ORDER BY start_date DESC, id")
        )
        return tuple(EventChoice(*row) for row in rows)
