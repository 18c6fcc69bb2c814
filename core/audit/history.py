"""The audit history of a record together with its children: an order with its items,
payments and refunds (defect 4 of issue 15).

The children are found through their own tables, then each one's entries through the
audit log's (table_name, record_id, created_at, seq) index: one index probe per record and
partition, never a scan of the log, and nothing more for an audited write to maintain.
No code deletes an order's items, payments or refunds (payments and refunds restrict
deleting the order, refunds their item), so the current tables name every child an order
ever had.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import require_transaction

# The audited tables whose rows belong to an order, by their column naming it.
ORDER_CHILDREN: dict[str, str] = {
    "order_items": "order_id",
    "order_payments": "order_id",
    "order_refunds": "order_id",
}

_KEYS = " UNION ALL ".join(
    [
        "SELECT 'orders' AS table_name, CAST(:o AS text) AS record_id",
        *(
            f"SELECT '{table}', id::text FROM {table} WHERE {column} = :o"
            for table, column in ORDER_CHILDREN.items()
        ),
    ]
)
# Each key is its own probe of the (table_name, record_id, created_at, seq) index: OFFSET 0
# keeps the LATERAL subquery from being flattened into a join the planner might run as a
# scan of the whole log (it does for small logs, where that is cheaper; the plan must not
# depend on how big the log has grown).
_ORDER_HISTORY = text(
    f"""
    SELECT a.created_at, a.seq, a.user_id, u.full_name, u.email, a.action, a.table_name,
           a.record_id, a.old_data, a.new_data, a.is_redacted
      FROM ({_KEYS}) k
      CROSS JOIN LATERAL (
        SELECT * FROM audit_logs x
         WHERE x.table_name = k.table_name AND x.record_id = k.record_id
        OFFSET 0
      ) a
      LEFT JOIN users u ON u.id = a.user_id
     ORDER BY a.created_at, a.seq
    """
)


@dataclass(frozen=True)
class HistoryRow:
    """One audit entry of a record or of one of its children, oldest first."""

    created_at: datetime
    seq: int
    user_id: uuid.UUID | None
    full_name: str | None
    email: str | None
    action: str
    table_name: str
    record_id: str | None
    old_data: dict[str, Any] | None
    new_data: dict[str, Any] | None
    is_redacted: bool


def order_history(session: Session, order_id: uuid.UUID) -> list[HistoryRow]:
    """Every audit entry of the order `order_id` and of its items, payments and refunds,
    in the order they were written, inside the caller's transaction (row-level security
    on audit_logs shows them to admins only).

    Raises RuntimeError outside a transaction.
    """
    require_transaction(session)
    return [HistoryRow(*row) for row in session.execute(_ORDER_HISTORY, {"o": order_id})]


def order_history_sql() -> str:
    """The history query, for bench/audit.py to EXPLAIN."""
    return str(_ORDER_HISTORY)
