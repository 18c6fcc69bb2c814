"""Each organizer page rendered through AppTest on the large data set, beside its core call.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fashionistas_large \\
        .venv/bin/python -m bench.pages [--repeat 7] [--page orders.py ...]

Needs the `large` demo loaded into DATABASE_URL's database (see the README). It changes
nothing there: it signs in (in the session state, as the tests do) as the demo organizer
whose event has the most orders, and per page, interleaved, runs

- the page: a fresh AppTest of `dashboard/app.py` opened on that page (the router, the
  identity refresh, every core call the page makes and the drawing), and
- its main core call alone (the query the page cannot do without),

each `--repeat` times after one warm-up. It prints the medians, the ratio page / core
(what Streamlit and the page add on top of the database) and whether the page stays under
the goal of one second. Exit status 1 when a page misses it or shows an exception.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text

from core.auth import Identity, issue_identity
from core.db import Actor, get_owner_engine

GOAL_SECONDS = 1.0


@dataclass(frozen=True)
class Case:
    page: str
    core: Callable[[Actor], object]
    what: str


def _organizer() -> uuid.UUID:
    """The demo organizer whose event has the most orders (the heaviest lists)."""
    with get_owner_engine().connect() as conn:
        return conn.execute(
            text(
                "SELECT e.organizer_id FROM events e"
                " JOIN user_roles ur ON ur.user_id = e.organizer_id"
                " JOIN roles r ON r.id = ur.role_id AND r.name = 'organizer'"
                " JOIN users u ON u.id = e.organizer_id AND u.status = 'active'"
                " ORDER BY (SELECT count(*) FROM orders o WHERE o.event_id = e.id) DESC"
                " LIMIT 1"
            )
        ).scalar_one()


def cases() -> list[Case]:
    """The pages of the organizer workspace and the core call each cannot do without, with
    the arguments the page uses when it first opens."""
    from core.services.attendees import list_attendees
    from core.services.box_office import get_sale_options, list_sale_events
    from core.services.discounts import list_discount_codes
    from core.services.events import list_events
    from core.services.orders import list_order_events, search_orders
    from core.services.overview import get_overview_counts
    from core.services.seat_map import get_seat_map, list_seat_map_events
    from core.services.ticket_types import get_event_ticket_types, list_manageable_events
    from core.services.venues import list_venues

    def ticket_types(actor: Actor) -> object:
        first = list_manageable_events(actor, limit=50)[0]
        return get_event_ticket_types(actor, first.event_id)

    def seat_map(actor: Actor) -> object:
        first = list_seat_map_events(actor, limit=50)[0]
        return get_seat_map(actor, first.event_id)

    def box_office(actor: Actor) -> object:
        first = list_sale_events(actor, limit=50)[0]
        return get_sale_options(actor, first.event_id)

    def attendees(actor: Actor) -> object:
        # The page opens on the first event of the picker, 500 rows shown.
        first = list_order_events(actor)[0]
        return list_attendees(actor, first.event_id, limit=500)

    # The event pickers' first choice is what each page opens on.
    return [
        Case("overview.py", get_overview_counts, "get_overview_counts"),
        Case("events.py", lambda a: list_events(a, limit=50), "list_events, 50 rows"),
        Case("venues.py", lambda a: list_venues(a), "list_venues"),
        Case("ticket_types.py", ticket_types, "get_event_ticket_types of the first event"),
        Case("seat_map.py", seat_map, "get_seat_map of the first seated event"),
        Case("box_office.py", box_office, "get_sale_options of the first event on sale"),
        Case("orders.py", lambda a: search_orders(a, limit=25), "search_orders, newest 25"),
        Case(
            "discount_codes.py",
            lambda a: list_discount_codes(a, limit=100),
            "list_discount_codes, 100",
        ),
        Case("attendees.py", attendees, "list_attendees, 500 of the first event"),
    ]


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pages", description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--page", action="append", help="only this page file (repeatable)")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL"):
        print("DATABASE_URL must name the database holding the large demo", file=sys.stderr)
        return 2

    from dashboard import registry
    from tests.apptest import open_page  # late: Streamlit's testing module is heavy

    identity: Identity | None = issue_identity(_organizer())
    assert identity is not None, "the organizer is not active"
    actor = identity.actor(user_agent="bench/pages")
    chosen = [c for c in cases() if not args.page or c.page in args.page]
    titles = {spec.file: spec.title for spec in registry.PAGES}

    with get_owner_engine().connect() as conn:
        orders = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
    print(f"{orders:,} orders; signed in as {identity.email} ({', '.join(identity.roles)})")
    print(f"{'page':<20}{'page ms':>10}{'core ms':>10}{'page/core':>11}  {'< 1 s':<6}core call")
    failed = False
    for case in chosen:
        page_times: list[float] = []
        core_times: list[float] = []
        for i in range(args.repeat + 1):
            started = time.perf_counter()
            at = open_page(case.page, identity)
            page_elapsed = time.perf_counter() - started
            if at.exception:
                print(f"{case.page}: the page raised {at.exception[0].value}", file=sys.stderr)
                return 1
            # A page the router did not open (a wrong URL path falls back to the overview)
            # would be timed in silence otherwise.
            if [t.value for t in at.title[:1]] != [titles[case.page]]:
                print(f"{case.page}: opened {[t.value for t in at.title]}", file=sys.stderr)
                return 1
            started = time.perf_counter()
            case.core(actor)
            core_elapsed = time.perf_counter() - started
            if i:  # the first round warms caches and imports
                page_times.append(page_elapsed)
                core_times.append(core_elapsed)
        page_ms, core_ms = _median_ms(page_times), _median_ms(core_times)
        met = page_ms < GOAL_SECONDS * 1000
        failed |= not met
        print(
            f"{case.page:<20}{page_ms:>10.0f}{core_ms:>10.1f}{page_ms / core_ms:>11.1f}"
            f"  {'yes' if met else 'NO':<6}{case.what}"
        )
    print(f"medians of {args.repeat} runs each, after one warm-up")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
