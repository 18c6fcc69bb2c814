"""Ticket revenue, defined once: gross, refunds and net.

- **gross**: what buyers paid for orders, the payments taken (`order_payments`);
- **refunds**: what was given back on them (`order_refunds`: a refunded item, a refunded
  or cancelled order);
- **net**: gross less refunds.

Money is counted where it moved, not from an order's status: a completed order refunded
in part still counts its whole payment in gross and its refund in refunds, and a pending
order has paid nothing yet. The definition is SQL in migration 0013, because the figures
span every order and row-level security shows most people few orders or none:
`overview_order_totals()` (the Overview's tiles) and `order_net_amount(order)` (what each
discount code brought in, `discount_code_usage`) are the one implementation; this module
reads them (docs/ANALYTICS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import require_transaction

_TOTALS = text("SELECT o_completed_orders, o_gross, o_refunds FROM overview_order_totals()")


@dataclass(frozen=True)
class Revenue:
    gross: Decimal
    refunds: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunds


def ticket_revenue(session: Session) -> tuple[int, Revenue]:
    """Completed orders and the gross, refunds and net over every order, in the orders'
    currency (the platform sells in USD), in the caller's transaction. The database raises
    (PermissionDenied through the unit of work) without overview.view."""
    require_transaction(session)
    completed, gross, refunds = session.execute(_TOTALS).one()
    return int(completed), Revenue(Decimal(gross), Decimal(refunds))
