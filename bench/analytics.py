"""The marketing dashboards' queries on the large data set, beside a plain count(*).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fashionistas_large \\
        .venv/bin/python -m bench.analytics [--repeat 5] [--skip-pages]

Needs the `large` demo in DATABASE_URL's database (see the README). Signs in (in the
session state, as the tests do) as an active marketing user, so the services run as the
app role under row-level security exactly as the pages call them. For date ranges of 30,
90 and 365 days ending today it times, interleaved, `--repeat` times after one warm-up:

- each dashboard's core call: every query the page needs for its figures, in its one
  read-only transaction (get_sponsor_dashboard, get_campaign_dashboard), and
- PostgreSQL's plain `SELECT count(*)` over the same date range of the dashboard's raw
  table (sponsor_analytics, campaign_analytics), as the owner.

The ratio dashboard / count(*) is what the analysis costs over a scan of the same rows.
It runs twice: with the rollups emptied (every figure from the daily rows), then after
`refresh_analytics_rollups()` (timed), when the days before the refresh come from the
daily campaign rollups and whole months of ranges over 92 days from the monthly ones.
Last, each dashboard page rendered through AppTest (the router, the options, the core
call and the drawing) with its default 30 days, after the refresh (as a nightly
`python -m core refresh-analytics` leaves them); goal: under one second. It leaves the
rollups refreshed. Exit status 1 when a page misses the goal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.analytics.campaigns import CampaignFilter, get_campaign_dashboard
from core.analytics.rollups import refresh_rollups
from core.analytics.sponsors import SponsorFilter, get_sponsor_dashboard
from core.analytics.window import DateWindow
from core.auth import Identity, issue_identity
from core.db import Actor, get_owner_engine

GOAL_SECONDS = 1.0
DAYS = (30, 90, 365)
PAGES = {"sponsor_roi.py": "Sponsor ROI", "campaign_analytics.py": "Campaign analytics"}


def _marketer() -> uuid.UUID:
    with get_owner_engine().connect() as conn:
        return conn.execute(
            text(
                "SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id"
                " JOIN roles r ON r.id = ur.role_id AND r.name = 'marketing'"
                " WHERE u.status = 'active' ORDER BY u.email LIMIT 1"
            )
        ).scalar_one()


def _count(table: str, window: DateWindow) -> Callable[[], object]:
    sql = text(f"SELECT count(*) FROM {table} WHERE date >= :a AND date < :b")

    def run() -> object:
        with get_owner_engine().connect() as conn:
            return conn.execute(sql, {"a": window.start, "b": window.stop}).scalar_one()

    return run


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _time(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median ms of each call, the calls interleaved, after one warm-up round."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(repeat + 1):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            if i:
                samples[name].append(time.perf_counter() - started)
    return {name: _median_ms(s) for name, s in samples.items()}


def _queries(actor: Actor, repeat: int, label: str) -> None:
    today = datetime.now(UTC).date()
    print(f"\n{label}")
    print(f"{'dashboard':<20}{'days':>6}{'core ms':>10}{'count ms':>10}{'ratio':>8}  rows counted")
    for days in DAYS:
        window = DateWindow(today - timedelta(days=days - 1), today)
        cases = {
            "sponsor ROI": (
                lambda w=window: get_sponsor_dashboard(actor, SponsorFilter(w)),
                "sponsor_analytics",
            ),
            "campaign analytics": (
                lambda w=window: get_campaign_dashboard(actor, CampaignFilter(w)),
                "campaign_analytics",
            ),
        }
        calls: dict[str, Callable[[], object]] = {}
        for name, (core, table) in cases.items():
            calls[f"{name} core"] = core
            calls[f"{name} count"] = _count(table, window)
        medians = _time(calls, repeat)
        for name, (_, table) in cases.items():
            rows = _count(table, window)()
            core_ms, count_ms = medians[f"{name} core"], medians[f"{name} count"]
            print(
                f"{name:<20}{days:>6}{core_ms:>10.1f}{count_ms:>10.1f}"
                f"{core_ms / count_ms:>8.1f}  {rows:,} {table}"
            )


def _pages(identity: Identity, repeat: int) -> bool:
    from tests.apptest import open_page  # late: Streamlit's testing module is heavy

    print(f"\n{'page':<24}{'page ms':>10}  < 1 s")
    met_all = True
    for page, title in PAGES.items():
        samples = []
        for i in range(repeat + 1):
            started = time.perf_counter()
            at = open_page(page, identity)
            elapsed = time.perf_counter() - started
            if at.exception or [t.value for t in at.title[:1]] != [title]:
                print(f"{page}: {at.exception or [t.value for t in at.title]}", file=sys.stderr)
                return False
            if i:
                samples.append(elapsed)
        ms = _median_ms(samples)
        met = ms < GOAL_SECONDS * 1000
        met_all &= met
        print(f"{page:<24}{ms:>10.0f}  {'yes' if met else 'NO'}")
    return met_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-pages", action="store_true", help="only the core queries")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        print("DATABASE_URL must name the database holding the large demo", file=sys.stderr)
        return 2
    identity = issue_identity(_marketer())
    assert identity is not None, "the marketing user is not active"
    actor = identity.actor(user_agent="bench/analytics")
    with get_owner_engine().connect() as conn:
        sizes = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("sponsor_analytics", "campaign_analytics", "email_analytics")
        }
    print(
        ", ".join(f"{n:,} {t}" for t, n in sizes.items())
        + f"; signed in as {identity.email} (marketing)"
    )

    with get_owner_engine().begin() as conn:
        views = conn.execute(
            text("SELECT matviewname FROM pg_matviews WHERE schemaname = current_schema()")
        ).scalars()
        for view in list(views):
            conn.execute(text(f"REFRESH MATERIALIZED VIEW {view} WITH NO DATA"))
    _queries(actor, args.repeat, "rollups empty: every figure from the daily rows")
    started = time.perf_counter()
    refresh_rollups(actor)
    print(f"\nrefresh_analytics_rollups() from empty: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    refresh_rollups(actor)
    again = time.perf_counter() - started
    print(f"refresh_analytics_rollups() again (concurrently): {again:.1f} s")
    _queries(actor, args.repeat, "rollups refreshed (daily ones up to today, monthly ones)")

    ok = True
    if not args.skip_pages:
        ok = _pages(identity, args.repeat)
    print(f"\nmedians of {args.repeat} runs each, after one warm-up")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
