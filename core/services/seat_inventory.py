"""Each event's copy of its venue's seats (event_seats), which the checkout sells from.

An event gets the seats of a section as soon as one of its ticket types sells that section,
and again when a section those ticket types sell is given a new seat grid. A seat out of use
at the venue (venue_seats.status 'blocked' or 'maintenance') starts blocked for the event with
the venue's reason, so the venue can lift its own block later.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import require_transaction

_OPEN = text(
    """
    INSERT INTO event_seats (event_id, seat_id, status, blocked_reason)
    SELECT tt.event_id, vs.id,
           CASE WHEN vs.status IN ('blocked', 'maintenance') THEN 'blocked' ELSE 'available' END,
           CASE WHEN vs.status IN ('blocked', 'maintenance') THEN vs.notes END
      FROM ticket_types tt
      JOIN venue_seats vs ON vs.section_id = tt.seating_section_id
     WHERE tt.seating_section_id = :section
       AND (CAST(:event AS uuid) IS NULL OR tt.event_id = :event)
     ORDER BY tt.event_id, vs.id
    ON CONFLICT (event_id, seat_id) DO NOTHING
    """
)


def open_section_seats(
    session: Session, section_id: uuid.UUID, event_id: uuid.UUID | None = None
) -> int:
    """Give every event (or only `event_id`) with a ticket type selling `section_id` the
    section's seats it lacks; returns how many it added. Runs in the caller's unit of work."""
    require_transaction(session)
    result = session.execute(_OPEN, {"section": section_id, "event": event_id})
    return result.rowcount or 0
