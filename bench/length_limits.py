"""What migration 0010's length limits cost on a large database, next to the alternatives.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fashionistas_large \\
        .venv/bin/python -m bench.length_limits

Needs a database at revision 0009 (the large demo loaded by a checkout before 0010, or
`python -m core migrate` stopped there); it is migrated to head for real. Measures:

1. migration 0010 itself (every CHECK added NOT VALID, the new columns, the backfill, the
   functions and triggers), the time the altered tables stay ACCESS EXCLUSIVE locked;
2. validating every NOT VALID constraint afterwards, one per transaction under SHARE
   UPDATE EXCLUSIVE (reads and writes go on), per table;
3. for comparison, on `orders` alone, inside a transaction that is rolled back: its free-
   text columns changed to varchar(n) (a rewrite, every index rebuilt) and the same limits
   as validated CHECKs in one ALTER TABLE (one scan), both under ACCESS EXCLUSIVE.
"""

from __future__ import annotations

import collections
import time

from alembic import command
from sqlalchemy import text

from core.db import get_owner_engine
from core.migrate import _NOT_VALID, alembic_config, current_revision

# orders' free-text columns and the limits 0010 gives them.
ORDERS = {
    "order_number": 32,
    "payment_intent_id": 255,
    "payment_method": 100,
    "idempotency_key": 200,
    "billing_email": 254,
    "billing_name": 200,
    "billing_phone": 32,
    "notes": 5000,
    "ip_address": 45,
    "user_agent": 1000,
    "encrypted_payment_details": 4096,
}


def _timed(conn, sql: str) -> float:
    started = time.monotonic()
    with conn.begin() as tx:
        conn.execute(text(sql))
        elapsed = time.monotonic() - started
        tx.rollback()
    return elapsed


def main() -> int:
    engine = get_owner_engine()
    if current_revision(engine) != "0009":
        print(f"the database is at {current_revision(engine)}, not 0009; load it before 0010")
        return 1
    with engine.connect() as conn:
        rows, size = conn.execute(
            text(
                "SELECT (SELECT sum(reltuples)::bigint FROM pg_class WHERE relkind = 'r'"
                " AND relnamespace = 'public'::regnamespace),"
                " pg_size_pretty(pg_database_size(current_database()))"
            )
        ).one()
        conn.commit()
        print(f"database: about {rows:,} rows, {size}")

        varchar = ", ".join(f"ALTER COLUMN {c} TYPE varchar({n})" for c, n in ORDERS.items())
        checks = ", ".join(
            f"ADD CONSTRAINT bench_{c} CHECK (char_length({c}) <= {n})" for c, n in ORDERS.items()
        )
        compare = {
            "orders to varchar(n) (rolled back)": _timed(conn, f"ALTER TABLE orders {varchar}"),
            "orders, validated CHECKs in one ALTER (rolled back)": _timed(
                conn, f"ALTER TABLE orders {checks}"
            ),
        }

        started = time.monotonic()
        command.upgrade(alembic_config(conn), "0010")
        conn.commit()
        migration = time.monotonic() - started

        pending = conn.execute(_NOT_VALID).all()
        conn.commit()
        per_table: dict[str, float] = collections.defaultdict(float)
        started = time.monotonic()
        for table, name, _ in pending:
            still = conn.execute(
                text(
                    "SELECT NOT convalidated FROM pg_constraint"
                    " WHERE conrelid = CAST(:t AS regclass) AND quote_ident(conname) = :n"
                ),
                {"t": table, "n": name},
            ).scalar()
            conn.commit()
            if not still:
                continue
            began = time.monotonic()
            conn.execute(text(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}"))
            conn.commit()
            per_table[table] += time.monotonic() - began
        validation = time.monotonic() - started

    print(f"migration 0010 (ACCESS EXCLUSIVE until it commits): {migration:6.1f} s")
    print(f"validation of {len(pending)} constraints (reads, writes go on): {validation:6.1f} s")
    for table, seconds in sorted(per_table.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {table:28s} {seconds:6.1f} s")
    for what, seconds in compare.items():
        print(f"{what} (ACCESS EXCLUSIVE): {seconds:6.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
