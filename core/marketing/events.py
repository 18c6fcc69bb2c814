"""The events marketing can attach sponsorships and campaigns to."""

from __future__ import annotations

from core.auth.permissions import ANALYTICS_VIEW, CAMPAIGNS_MANAGE, SPONSORS_MANAGE
from core.db import Actor, unit_of_work
from core.services.event_choices import EventChoice, read_event_choices

__all__ = ["EventChoice", "list_event_choices"]


def list_event_choices(actor: Actor) -> tuple[EventChoice, ...]:
    """Events the actor can see (row-level security), newest first. Raises
    PermissionDenied without sponsors.manage, campaigns.manage or analytics.view."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SPONSORS_MANAGE, CAMPAIGNS_MANAGE, ANALYTICS_VIEW)
        return read_event_choices(uow.session)
