"""Who is coming to an event: one row per seat sold, or per item for unseated tickets.

The list is read per event through idx_orders_event_id_created_at and the items' order
index. Pages show a limited number of rows; an export asks for the whole list (`limit`
None) and turns it into a table with `attendee_table`, so CSV, Excel and the screen
share one set of columns. The schema records no check-in, so there is no such column.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import text

from core.auth.permissions import BOX_OFFICE_SELL
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import ValidationError
from core.models.ticketing import LIVE_ORDER_STATUSES
from core.services.event_staff import require_sale_access

DEFAULT_LIMIT = 500
MAX_SEARCH_CHARS = 200


@dataclass(frozen=True)
class Attendee:
    buyer_name: str
    buyer_email: str
    ticket_type: str
    tier: str
    section: str | None
    seat: str | None
    # Tickets this row stands for: 1 for a seat, the item's quantity otherwise.
    quantity: int
    order_number: str
    order_id: uuid.UUID
    # The order's status, or "refunded" for an item refunded on its own.
    status: str
    ordered_at: datetime


@dataclass(frozen=True)
class AttendeeList:
    event_id: uuid.UUID
    event_title: str
    rows: tuple[Attendee, ...]
    # Matching rows and tickets in the whole list, however many `rows` holds.
    total_rows: int
    total_tickets: int

    @property
    def truncated(self) -> bool:
        return len(self.rows) < self.total_rows


# The items are gathered before the seats are unnested: planned the other way round, the
# per-seat lookups made PostgreSQL expect hundreds of thousands of rows.
_ATTENDEES = """
    WITH lines AS (
        SELECT o.billing_name, o.billing_email, oi.ticket_type_id,
               -- A partly refunded item: its tickets not given back (seats are per row).
               CASE WHEN oi.refunded_at IS NULL THEN oi.quantity - oi.refunded_quantity
                    ELSE oi.quantity END AS quantity,
               oi.seat_ids, coalesce(oi.refunded_seat_ids, '{{}}') AS refunded_seat_ids,
               o.order_number, o.id AS order_id,
               CASE WHEN oi.refunded_at IS NOT NULL AND o.status = ANY(:live)
                    THEN 'refunded' ELSE o.status END AS status,
               o.created_at
          FROM orders o JOIN order_items oi ON oi.order_id = o.id
         WHERE o.event_id = :event_id AND {where}
    ), rows AS (
        SELECT l.billing_name, l.billing_email, tt.name AS ticket_type, tt.tier,
               sec.name AS section,
               CASE WHEN vs.id IS NOT NULL THEN coalesce(vs.row_name, '') || vs.seat_number
                    END AS seat,
               CASE WHEN vs.id IS NULL THEN l.quantity ELSE 1 END AS quantity,
               l.order_number, l.order_id,
               CASE WHEN s.id = ANY(l.refunded_seat_ids) AND l.status = ANY(:live)
                    THEN 'refunded' ELSE l.status END
                   AS status,
               l.created_at, vs.row_name, vs.seat_number
          FROM lines l
          JOIN ticket_types tt ON tt.id = l.ticket_type_id
          LEFT JOIN LATERAL unnest(l.seat_ids) AS s(id) ON true
          LEFT JOIN venue_seats vs ON vs.id = s.id
          LEFT JOIN venue_sections sec ON sec.id = vs.section_id
         WHERE {seat_where}
    )
    SELECT billing_name, billing_email, ticket_type, tier, section, seat, quantity,
           order_number, order_id, status, created_at,
           count(*) OVER (), sum(quantity) OVER ()
      FROM rows
     ORDER BY lower(billing_name), order_number, ticket_type, section, row_name,
              length(seat_number), seat_number
     LIMIT :limit
"""


def list_attendees(
    actor: Actor,
    event_id: uuid.UUID,
    *,
    search: str = "",
    include_cancelled: bool = False,
    limit: int | None = DEFAULT_LIMIT,
) -> AttendeeList:
    """The attendees of one event by buyer name: buyer, email, ticket type, section and
    seat, order number and status. `search` matches part of the buyer's name or email or
    the order number; cancelled, refunded and failed tickets are left out unless
    `include_cancelled`. At most `limit` rows (None: the whole list, for an export); the
    totals always count the whole list.

    Raises NotFound (no such event, or one the actor cannot see), ValidationError (bad
    limit, overlong search), PermissionDenied (box_office.sell, and an event the actor
    organises or works; an admin sees every event's).
    """
    search = (search or "").strip()
    if len(search) > MAX_SEARCH_CHARS:
        raise ValidationError(f"Search for at most {MAX_SEARCH_CHARS} characters.", field="search")
    if limit is not None and limit < 1:
        raise ValidationError("Show at least one attendee.", field="limit")
    where = ["true"]
    params: dict[str, Any] = {
        "event_id": event_id,
        "limit": limit,
        "live": list(LIVE_ORDER_STATUSES),
    }
    if not include_cancelled:
        where.append("o.status = ANY(:live) AND oi.refunded_at IS NULL")
    if search:
        where.append(
            "(o.billing_name ILIKE :pattern OR o.billing_email ILIKE :pattern"
            " OR o.order_number ILIKE :pattern)"
        )
        params["pattern"] = f"%{escape_like(search)}%"
    # A seat refunded from an item still on sale is no attendee either.
    seat_where = (
        "true" if include_cancelled else "NOT coalesce(s.id = ANY(l.refunded_seat_ids), false)"
    )
    sql = _ATTENDEES.format(where=" AND ".join(where), seat_where=seat_where)
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(BOX_OFFICE_SELL)
        # The seat unnesting inflates the cost estimate past JIT's threshold; compiling
        # took longer than the query itself (3 s against 0.6 s for the largest event of
        # the large data set). Transaction-local, like everything a unit of work sets.
        uow.session.execute(text("SELECT set_config('jit', 'off', true)"))
        title = require_sale_access(uow.session, actor, event_id)
        result = uow.session.execute(text(sql), params).all()
    rows = tuple(Attendee(*row[:11]) for row in result)
    total_rows = int(result[0][11]) if result else 0
    total_tickets = int(result[0][12]) if result else 0
    return AttendeeList(event_id, title, rows, total_rows, total_tickets)


COLUMNS = (
    "Buyer",
    "Email",
    "Ticket type",
    "Tier",
    "Section",
    "Seat",
    "Tickets",
    "Order",
    "Status",
    "Ordered at",
)


def attendee_table(rows: Sequence[Attendee]) -> pd.DataFrame:
    """The attendee rows as a table, the same columns on screen, in CSV and in Excel."""
    return pd.DataFrame(
        [
            (
                a.buyer_name,
                a.buyer_email,
                a.ticket_type,
                a.tier,
                a.section or "",
                a.seat or "",
                a.quantity,
                a.order_number,
                a.status,
                a.ordered_at,
            )
            for a in rows
        ],
        columns=list(COLUMNS),
    ).astype({"Ordered at": "datetime64[ns, UTC]"})
