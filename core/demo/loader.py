"""Plan a demo world in memory, then stream it into an empty database in one transaction."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from random import Random

from sqlalchemy import Engine

from core.demo import (
    analytics,
    cms,
    compliance,
    events,
    marketing,
    people,
    sales,
    showcase,
    sponsors,
    staffing,
    system,
    tickets,
    venues,
)
from core.demo.clock import Clock
from core.demo.pools import build_pools
from core.demo.scales import DEFAULT_SEED, get_scale
from core.demo.world import World
from core.demo.writer import CopyWriter, DryWriter, TableLoad, Writer, audit_triggers_off

log = logging.getLogger(__name__)


_HAS_USERS = """
SELECT EXISTS (
  SELECT 1 FROM users u
   WHERE NOT EXISTS (SELECT 1 FROM audit_logs a
                      WHERE a.action = 'users.first_admin_created' AND a.table_name = 'users'
                        AND a.record_id = u.id::text))
"""


class DemoDataExists(Exception):
    """The target database already has users; demo data only goes into an empty one."""


def build_world(scale: str, seed: int, anchor: date) -> World:
    """Plan every small table and the sales totals; big tables are generated while written."""
    size = get_scale(scale)
    world = World(
        scale=size,
        seed=seed,
        rng=Random(seed),
        pools=build_pools(seed, size.pool_size),
        clock=Clock(anchor, size.history_days),
    )
    # Order matters: each step draws from the one random stream and uses earlier steps.
    for step in (compliance, people, venues, events, showcase, sponsors, tickets, marketing, sales):
        step.plan(world)
    return world


def table_loads(world: World) -> Iterator[TableLoad]:
    """Every table's rows, parents before children (foreign keys are checked per COPY)."""
    yield compliance.key_table(world)
    yield from people.tables(world)
    yield from venues.tables(world)
    yield from events.tables(world)
    yield from staffing.tables(world)
    yield from showcase.tables(world)
    yield from sponsors.tables(world)
    yield from marketing.tables(world)
    yield from tickets.tables(world)
    yield from marketing.promo_tables(world)
    yield from sales.tables(world)
    yield from analytics.tables(world)
    yield from compliance.tables(world)
    yield from system.tables(world)
    yield from cms.tables(world)


def _today() -> date:
    return datetime.now(UTC).date()


def count_demo(
    scale: str = "small", seed: int = DEFAULT_SEED, anchor: date | None = None
) -> dict[str, int]:
    """The row counts `load_demo` would produce, computed without a database."""
    world = build_world(scale, seed, anchor or _today())
    writer = DryWriter()
    for load in table_loads(world):
        writer.write(load)
    return writer.counts


def load_demo(
    engine: Engine,
    scale: str = "small",
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    *,
    anchor: date | None = None,
) -> dict[str, int]:
    """Fill an empty, migrated database with a fashion-week world; {table: rows loaded}.

    Dates are relative to `anchor` (default: today in UTC), so events are upcoming whenever
    the demo is loaded; the same seed and anchor give the same rows. Everything goes in with
    COPY inside one transaction: on any error nothing is kept. Raises DemoDataExists when
    the database already has users, ValueError for an unknown scale.
    """
    get_scale(scale)
    anchor = anchor or _today()
    started = time.monotonic()
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.transaction():
            # The first admin (core.auth.ensure_first_admin) may already be there.
            if conn.execute(_HAS_USERS).fetchone()[0]:
                raise DemoDataExists(
                    "the database already has users; demo data is only loaded into an empty "
                    "database (create one, run `python -m core migrate` on it, then load the demo)"
                )
            # Index builds after each COPY (see CopyWriter) sort in memory when they can.
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            world = build_world(scale, seed, anchor)
            log.info("planned the %s demo in %.1f s", scale, time.monotonic() - started)
            conn.execute(
                "SELECT ensure_partitions(%s, 3, %s)",
                (world.clock.months_back(), world.clock.anchor),
            )
            writer: Writer = CopyWriter(conn, progress)
            with audit_triggers_off(conn):
                for load in table_loads(world):
                    writer.write(load)
            # Box-office orders continue the numbering (numbers run per year, so the count
            # of all orders is past every year's last number).
            conn.execute("SELECT setval('order_number_seq', greatest(count(*), 1)) FROM orders")
        conn.execute("ANALYZE")
        conn.commit()
        # The demo's own sample of audit rows (and the first admin's) join the chain now
        # that their transaction has ended.
        while conn.execute("SELECT audit_seal(100000)").fetchone()[0] == 100_000:
            pass
        conn.commit()
    finally:
        raw.close()
    log.info(
        "loaded %s demo rows in %.1f s",
        f"{sum(writer.counts.values()):,}",
        time.monotonic() - started,
    )
    return writer.counts
