"""The seat map page for a 5,000-seat venue, beside its one core query.

    python -m bench.seat_map [--seats-per-row 100] [--rows 50] [--repeat 7]

Uses DATABASE_URL's server (or the embedded server in ./.data/bench-postgres). Creates a
scratch database `bench_seats_<tag>`, migrates it and, through the organizer services (the
path a person takes), builds a venue with one section of rows × seats, an event there and a
ticket type selling that section; then sells a block of seats through the checkout so
several statuses show. It then times, interleaved, a rerun of the seat map page with the
event chosen (AppTest signed in as the organizer: router, core call, figure and drawing:
what each click costs) and `get_seat_map` alone, and prints their medians and the ratio.
The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from bench.scratch import scratch_database
from core.auth import issue_identity
from core.auth.permissions import role_id
from core.db import use_engine

GOAL_SECONDS = 1.0


def build(owner, rows: int, per_row: int) -> tuple[uuid.UUID, uuid.UUID, str]:
    """An organizer and a published seated event; returns (user id, event id, title)."""
    from core.checkout.holds import HoldRequest, hold_tickets
    from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order
    from core.services.events import EventInput, create_event, publish_event
    from core.services.ticket_types import TicketTypeDraft, create_ticket_type
    from core.services.venues import (
        SeatGridSpec,
        SectionInput,
        VenueInput,
        create_section,
        create_venue,
        generate_seat_grid,
        list_section_seats,
    )

    user_id = uuid.uuid4()
    with owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, full_name, user_type, status)"
                " VALUES (:u, 'seats@bench.example', 'Bench Organizer', 'organizer', 'active')"
            ),
            {"u": user_id},
        )
        conn.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {"u": user_id, "r": role_id("organizer")},
        )
    identity = issue_identity(user_id)
    assert identity is not None
    actor = identity.actor(user_agent="bench/seat_map")
    venue = create_venue(
        actor, VenueInput(name="Arena", address="1 Bench Way", city="Paris", country="FR")
    )
    section = create_section(
        actor, venue.venue_id, SectionInput(name="Floor", capacity=rows * per_row)
    )
    generate_seat_grid(
        actor,
        section.section_id,
        SeatGridSpec(rows=rows, seats_per_row=per_row, aisles_after=(per_row // 2,)),
    )
    start = datetime.now(UTC) + timedelta(days=30)
    title = "Five thousand seats"
    event = create_event(
        actor,
        EventInput(
            title=title,
            start_date=start,
            end_date=start + timedelta(hours=2),
            type="fashion_show",
            venue_id=venue.venue_id,
        ),
    )
    create_ticket_type(
        actor,
        event.event_id,
        TicketTypeDraft(
            name="Floor",
            tier="general",
            price=Decimal("60.00"),
            capacity=rows * per_row,
            sale_start=datetime.now(UTC) - timedelta(days=1),
            sale_end=start,
            section_id=section.section_id,
        ),
    )
    publish_event(actor, event.event_id)
    seats = [s.seat_id for s in list_section_seats(actor, section.section_id)]
    buyer = Buyer(name="Bench Buyer", email="buyer@bench.example")
    for n, block in enumerate((seats[:10], seats[200:210])):
        session_id = f"bench-{n}"
        hold_tickets(actor, HoldRequest(event.event_id, session_id, seat_ids=block))
        total = quote_order(actor, event.event_id, session_id, None, buyer).total
        place_order(
            actor,
            OrderRequest(
                event_id=event.event_id,
                session_id=session_id,
                buyer=buyer,
                payment_method="cash",
                expected_total=total,
                idempotency_key=f"bench-{n}",
            ),
        )
    hold_tickets(actor, HoldRequest(event.event_id, "bench-held", seat_ids=seats[400:420]))
    return user_id, event.event_id, title


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seat_map", description=__doc__)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--seats-per-row", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)

    from core.services.seat_map import get_seat_map
    from tests.apptest import open_page

    with scratch_database("bench_seats", pool_size=2) as (owner, app):
        use_engine(app, owner=owner)
        user_id, event_id, title = build(owner, args.rows, args.seats_per_row)
        identity = issue_identity(user_id)
        assert identity is not None
        actor = identity.actor(user_agent="bench/seat_map")

        page_times: list[float] = []
        core_times: list[float] = []
        seats = 0
        for i in range(args.repeat + 1):
            at = open_page("seat_map.py", identity)
            at.text_input(key="sm_search").input(title).run()
            at.selectbox(key="sm_event").set_value(str(event_id)).run()
            # One interaction's worth: a rerun of the page with the event chosen.
            started = time.perf_counter()
            at.run()
            page_elapsed = time.perf_counter() - started
            if at.exception or [t.value for t in at.title] != ["Seat map"]:
                print(f"the page failed: {at.exception or at.title}", file=sys.stderr)
                return 1
            started = time.perf_counter()
            seats = len(get_seat_map(actor, event_id).seats)
            core_elapsed = time.perf_counter() - started
            if i:
                page_times.append(page_elapsed)
                core_times.append(core_elapsed)
        page_ms = statistics.median(page_times) * 1000
        core_ms = statistics.median(core_times) * 1000
        print(
            f"{seats:,} seats, {args.repeat} runs each after one warm-up\n"
            f"seat map page, one rerun with the event chosen  median {page_ms:.0f} ms"
            f"  (goal < {GOAL_SECONDS:g} s)\n"
            f"get_seat_map alone                              median {core_ms:.0f} ms\n"
            f"ratio page / core  {page_ms / core_ms:.1f}"
        )
        return 0 if page_ms < GOAL_SECONDS * 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
