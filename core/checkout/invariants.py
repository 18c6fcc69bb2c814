"""The checkout's invariants, checked from the records themselves (not from counters).

Tests and the benchmark call `find_violations` after hammering the checkout: an empty
list means nothing was oversold, no seat was sold twice, no code went over its limit and
every order adds up.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

_LIVE = "('pending', 'completed')"
# Tickets of an item still sold: its quantity less what refunds gave back (migration 0010).
_SOLD = "oi.quantity - oi.refunded_quantity"

CHECKS: dict[str, str] = {
    # Sold (live order items) plus unexpired holds within each ticket type's capacity.
    "ticket type over capacity": f"""
        SELECT tt.id::text FROM ticket_types tt
         WHERE (CAST(:event AS uuid) IS NULL OR tt.event_id = :event)
           AND coalesce((SELECT sum({_SOLD}) FROM order_items oi JOIN orders o
                          ON o.id = oi.order_id WHERE oi.ticket_type_id = tt.id
                           AND oi.refunded_at IS NULL AND o.status IN {_LIVE}), 0)
             + coalesce((SELECT sum(l.quantity) FROM ticket_inventory_locks l
                          WHERE l.ticket_type_id = tt.id AND l.expires_at > now()
                        AND l.order_id IS NULL), 0)
               > tt.total_capacity""",
    # The remaining counter agrees with what was really sold.
    "remaining capacity disagrees with sales": f"""
        SELECT tt.id::text FROM ticket_types tt
         WHERE (CAST(:event AS uuid) IS NULL OR tt.event_id = :event)
           AND tt.total_capacity - tt.remaining_capacity
               <> coalesce((SELECT sum({_SOLD}) FROM order_items oi JOIN orders o
                             ON o.id = oi.order_id WHERE oi.ticket_type_id = tt.id
                              AND oi.refunded_at IS NULL AND o.status IN {_LIVE}), 0)""",
    # Events whose own capacity is exceeded by sales and holds across their types.
    "event over capacity": f"""
        SELECT e.id::text FROM events e
         WHERE e.capacity IS NOT NULL AND (CAST(:event AS uuid) IS NULL OR e.id = :event)
           AND coalesce((SELECT sum({_SOLD}) FROM order_items oi JOIN orders o
                          ON o.id = oi.order_id WHERE o.event_id = e.id
                           AND oi.refunded_at IS NULL AND o.status IN {_LIVE}), 0)
             + coalesce((SELECT sum(l.quantity) FROM ticket_inventory_locks l
                          WHERE l.event_id = e.id AND l.expires_at > now()
                        AND l.order_id IS NULL), 0)
               > e.capacity""",
    # A seat is in at most one live sale or unexpired hold per event (a refunded seat has
    # left its sale).
    "seat sold or held twice": f"""
        SELECT event_id::text || '/' || seat_id::text FROM (
            SELECT o.event_id, s.seat_id FROM order_items oi
              JOIN orders o ON o.id = oi.order_id, unnest(oi.seat_ids) AS s(seat_id)
             WHERE oi.refunded_at IS NULL AND o.status IN {_LIVE}
               AND NOT s.seat_id = ANY(coalesce(oi.refunded_seat_ids, '{{}}'))
            UNION ALL
            SELECT l.event_id, unnest(l.seat_ids) FROM ticket_inventory_locks l
             WHERE l.expires_at > now() AND l.order_id IS NULL
        ) claims
         WHERE CAST(:event AS uuid) IS NULL OR event_id = :event
         GROUP BY event_id, seat_id HAVING count(*) > 1""",
    # Codes: live orders using a code never exceed its limit, and the counter agrees.
    "discount code over its limit or miscounted": f"""
        SELECT dc.code FROM discount_codes dc
          LEFT JOIN LATERAL (SELECT count(DISTINCT o.id) AS uses FROM order_items oi
                               JOIN orders o ON o.id = oi.order_id
                              WHERE oi.discount_code_id = dc.id
                                AND o.status IN {_LIVE}) u ON true
         WHERE true
           AND ((dc.usage_limit IS NOT NULL AND u.uses > dc.usage_limit)
                OR u.uses <> dc.current_usage)""",
    "promotional code over its limit or miscounted": f"""
        SELECT pc.code FROM promotional_codes pc
          LEFT JOIN LATERAL (SELECT count(DISTINCT o.id) AS uses FROM order_items oi
                               JOIN orders o ON o.id = oi.order_id
                              WHERE oi.promotional_code_id = pc.id
                                AND o.status IN {_LIVE}) u ON true
         WHERE true
           AND ((pc.usage_limit IS NOT NULL AND u.uses > pc.usage_limit)
                OR u.uses <> pc.usage_count)""",
    # What each item gave back is what its refund rows say, within what it cost, and all
    # of it once every ticket is refunded from a paid order.
    "item refunds do not add up": """
        SELECT oi.id::text FROM order_items oi
          JOIN orders o ON o.id = oi.order_id
          LEFT JOIN LATERAL (SELECT coalesce(sum(r.amount), 0) AS amount,
                                    coalesce(sum(r.quantity), 0) AS quantity
                               FROM order_refunds r WHERE r.order_item_id = oi.id) r ON true
         WHERE (CAST(:event AS uuid) IS NULL OR o.event_id = :event)
           AND (oi.refunded_amount <> r.amount
                OR oi.refunded_amount > oi.final_price + oi.tax_amount
                OR (r.quantity > 0 AND r.quantity <> oi.refunded_quantity)
                OR (oi.refunded_quantity = oi.quantity AND r.quantity = oi.quantity
                    AND oi.refunded_amount <> oi.final_price + oi.tax_amount))""",
    # Every order adds up to its items.
    "order totals do not add up": """
        SELECT o.order_number FROM orders o
          JOIN LATERAL (SELECT sum(subtotal) s, sum(discount_amount) d, sum(tax_amount) t
                          FROM order_items WHERE order_id = o.id) i ON true
         WHERE (CAST(:event AS uuid) IS NULL OR o.event_id = :event)
           AND (o.subtotal <> i.s OR o.discount_amount <> i.d OR o.tax_amount <> i.t
                OR o.total_amount <> o.subtotal - o.discount_amount + o.tax_amount)""",
}


def find_violations(
    session: Session, event_id: uuid.UUID | None = None, *, limit: int = 20
) -> list[str]:
    """Every broken invariant as 'what: which rows', for one event or the whole database."""
    found: list[str] = []
    for name, sql in CHECKS.items():
        rows = (
            session.execute(
                text(f"SELECT * FROM ({sql}) v LIMIT {int(limit)}"), {"event": event_id}
            )
            .scalars()
            .all()
        )
        if rows:
            found.append(f"{name}: {', '.join(map(str, rows))}")
    return found
