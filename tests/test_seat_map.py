"""Seat map: statuses, prices and orders per seat in one query, blocking and unblocking in
step with the checkout, and the page's chart, on a database of this module's own (the app
role, so row-level security applies)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import Identity, PermissionDenied
from core.checkout.errors import SeatTaken
from core.checkout.holds import HoldRequest, hold_tickets
from core.errors import Conflict, NotFound, ValidationError
from core.models import EventSeat, User, Venue, VenueSection
from core.services.box_office import (
    Buyer,
    Payment,
    SaleRequest,
    hold_seats,
    new_checkout_session_id,
    new_idempotency_key,
    quote_sale,
    take_payment,
)
from core.services.seat_map import block_seats, get_seat_map, list_seat_map_events, unblock_seats
from tests.apptest import make_person, open_page
from tests.factories import assign_staff, make_event, make_seated_section, make_ticket_type

PAGE = "seat_map.py"
BUYER = Buyer("Seat Buyer", "seat.buyer@example.com")


@pytest.fixture(scope="module")
def db(secure_database):
    return secure_database


@dataclass(frozen=True)
class SeatedShow:
    event_id: uuid.UUID
    title: str
    venue_id: uuid.UUID
    # Seat ids per section name, in row then number order.
    seats: dict[str, list[uuid.UUID]]
    ticket_types: dict[str, uuid.UUID]

    def all_seats(self) -> list[uuid.UUID]:
        return [s for seats in self.seats.values() for s in seats]


def make_seated_show(
    owner: Engine,
    organizer: Identity,
    sections: Sequence[tuple[str, int, int]] = (("Front Row", 2, 20), ("Stalls", 10, 26)),
    *,
    status: str = "published",
) -> SeatedShow:
    """A venue with `sections` (name, rows, seats per row) laid out left to right with x/y
    coordinates, an event of `organizer` there, one ticket type per section (50.00, then
    25.00 more per section) and an available event_seats row for every seat."""
    with Session(owner) as s, s.begin():
        tag = uuid.uuid4().hex[:8]
        venue = Venue(name=f"Seat Hall {tag}", address="1 Runway Road", city="Milan", country="IT")
        s.add(venue)
        s.flush()
        event_row = make_event(
            s,
            s.get(User, organizer.user_id),
            title=f"Seated Show {tag}",
            status=status,
            published_at=datetime.now(UTC),
            venue_id=venue.id,
        )
        seats: dict[str, list[uuid.UUID]] = {}
        types: dict[str, uuid.UUID] = {}
        x0 = 0
        for i, (name, rows, per_row) in enumerate(sections):
            section = VenueSection(
                venue_id=venue.id, name=name, capacity=rows * per_row, section_type="general"
            )
            s.add(section)
            s.flush()
            s.execute(
                text(
                    "INSERT INTO venue_seats (section_id, row_name, seat_number, x, y)"
                    " SELECT :s, chr(65 + r), n::text, :x0 + (n - 1) * 24, r * 30"
                    " FROM generate_series(0, :rows - 1) r, generate_series(1, :per) n"
                ),
                {"s": section.id, "x0": x0, "rows": rows, "per": per_row},
            )
            seats[name] = list(
                s.execute(
                    text(
                        "SELECT id FROM venue_seats WHERE section_id = :s"
                        " ORDER BY row_name, seat_number::int"
                    ),
                    {"s": section.id},
                ).scalars()
            )
            x0 += per_row * 24 + 48
            types[name] = make_ticket_type(
                s,
                event_row,
                name=f"{name} ticket",
                base_price=Decimal("50.00") + 25 * i,
                total_capacity=rows * per_row,
                remaining_capacity=rows * per_row,
                seating_section_id=section.id,
            ).id
        s.execute(
            text(
                "INSERT INTO event_seats (event_id, seat_id)"
                " SELECT :e, vs.id FROM venue_seats vs JOIN venue_sections sec"
                " ON sec.id = vs.section_id WHERE sec.venue_id = :v"
            ),
            {"e": event_row.id, "v": venue.id},
        )
        return SeatedShow(event_row.id, event_row.title, venue.id, seats, types)


def expire_holds(owner: Engine, event_id: uuid.UUID, session_id: str) -> None:
    """Let a session's holds run out, as the clock would."""
    with owner.begin() as conn:
        conn.execute(
            text(
                "UPDATE ticket_inventory_locks SET expires_at = now() - interval '1 minute'"
                " WHERE event_id = :e AND session_id = :s"
            ),
            {"e": event_id, "s": session_id},
        )
        conn.execute(
            text(
                "UPDATE event_seats SET held_until = now() - interval '1 minute'"
                " WHERE event_id = :e AND hold_id IN (SELECT id FROM ticket_inventory_locks"
                " WHERE session_id = :s)"
            ),
            {"e": event_id, "s": session_id},
        )


def sell(organizer: Identity, show: SeatedShow, seat_ids: Sequence[uuid.UUID]) -> str:
    actor = organizer.actor()
    session_id = new_checkout_session_id()
    quote = quote_sale(actor, SaleRequest(show.event_id, session_id, BUYER, {}, seat_ids))
    sale = take_payment(
        actor,
        Payment(show.event_id, session_id, BUYER, "cash", quote.total, new_idempotency_key()),
    )
    return sale.order_number


def statuses(owner: Engine, event_id: uuid.UUID, seat_ids: Sequence[uuid.UUID]) -> list[str]:
    with owner.connect() as conn:
        found = dict(
            conn.execute(
                text(
                    "SELECT seat_id, status FROM event_seats"
                    " WHERE event_id = :e AND seat_id = ANY(:s)"
                ),
                {"e": event_id, "s": list(seat_ids)},
            ).all()
        )
    return [found[s] for s in seat_ids]


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


# -- services ---------------------------------------------------------------------------


def test_each_seat_has_its_status_price_and_order(owner: Engine, organizer: Identity) -> None:
    show = make_seated_show(owner, organizer)
    front, stalls = show.seats["Front Row"], show.seats["Stalls"]
    number = sell(organizer, show, front[:2])
    mine = new_checkout_session_id()
    hold_seats(organizer.actor(), show.event_id, mine, front[2:4])
    gone = new_checkout_session_id()
    hold_seats(organizer.actor(), show.event_id, gone, stalls[:1])
    expire_holds(owner, show.event_id, gone)
    block_seats(organizer.actor(), show.event_id, stalls[5:6], "Camera platform")

    seat_map = get_seat_map(organizer.actor(), show.event_id, mine)
    assert len(seat_map.seats) == 300
    assert dict(seat_map.counts) == {"available": 295, "held": 2, "sold": 2, "blocked": 1}
    seats = seat_map.by_id()
    sold = seats[front[0]]
    assert (sold.status, sold.order_number, sold.price, sold.label) == (
        "sold",
        number,
        Decimal("50.00"),
        "A1",
    )
    assert [seats[s].held_by_me for s in front[2:4]] == [True, True]
    assert seats[stalls[0]].status == "available", "an expired hold frees the seat"
    blocked = seats[stalls[5]]
    assert (blocked.status, blocked.blocked_reason) == ("blocked", "Camera platform")
    assert (seats[stalls[1]].price, seats[stalls[1]].ticket_type) == (
        Decimal("75.00"),
        "Stalls ticket",
    )
    assert (seats[stalls[27]].x, seats[stalls[27]].y) == (480 + 48 + 24, 30.0)
    front_outline = next(s for s in seat_map.sections if s.name == "Front Row")
    assert (front_outline.x0, front_outline.x1, front_outline.y1, front_outline.seats) == (
        0.0,
        456.0,
        30.0,
        40,
    )
    assert seat_map.can_block
    assert show.event_id in {e.event_id for e in list_seat_map_events(organizer.actor())}


def test_blocking_follows_the_checkout(owner: Engine, organizer: Identity) -> None:
    show = make_seated_show(owner, organizer, (("Front Row", 1, 10),))
    seats = show.seats["Front Row"]
    actor = organizer.actor()
    sell(organizer, show, seats[:1])
    live = new_checkout_session_id()
    hold_seats(actor, show.event_id, live, seats[1:2])
    stale = new_checkout_session_id()
    hold_seats(actor, show.event_id, stale, seats[2:3])
    expire_holds(owner, show.event_id, stale)

    with pytest.raises(Conflict, match="A1 is sold"):
        block_seats(actor, show.event_id, seats[:1], "Sound desk")
    with pytest.raises(Conflict, match="A2 is held"):
        block_seats(actor, show.event_id, seats[1:2], "Sound desk")
    with pytest.raises(ValidationError) as no_reason:
        block_seats(actor, show.event_id, seats[3:4], "  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(ValidationError) as no_seats:
        block_seats(actor, show.event_id, [], "Sound desk")
    assert no_seats.value.field == "seat_ids"
    with pytest.raises(NotFound):
        block_seats(actor, show.event_id, [uuid.uuid4()], "Sound desk")
    assert statuses(owner, show.event_id, seats[:4]) == ["sold", "held", "held", "available"]

    change = block_seats(actor, show.event_id, seats[2:5], "Sound desk")
    assert change.changed == ("Front Row A3", "Front Row A4", "Front Row A5")
    assert change.unchanged == ()
    again = block_seats(actor, show.event_id, seats[4:6], "Camera platform")
    assert again.changed == ("Front Row A6",) and again.unchanged == ("Front Row A5",)
    assert statuses(owner, show.event_id, seats[2:6]) == ["blocked"] * 4
    reasons = get_seat_map(actor, show.event_id).by_id()
    assert [reasons[s].blocked_reason for s in seats[4:6]] == ["Sound desk", "Camera platform"]
    with pytest.raises(SeatTaken, match="A4"):
        hold_tickets(actor, HoldRequest(show.event_id, new_checkout_session_id(), {}, seats[3:4]))

    back = unblock_seats(actor, show.event_id, seats[:4])
    assert back.changed == ("Front Row A3", "Front Row A4")
    assert back.unchanged == ("Front Row A1", "Front Row A2")
    hold_tickets(actor, HoldRequest(show.event_id, new_checkout_session_id(), {}, seats[3:4]))
    assert statuses(owner, show.event_id, seats[:6]) == [
        "sold",
        "held",
        "available",
        "held",
        "blocked",
        "blocked",
    ]
    with owner.connect() as conn:
        actions = conn.execute(
            text(
                "SELECT action FROM audit_logs WHERE record_id = :e AND table_name = 'event_seats'"
                " ORDER BY created_at"
            ),
            {"e": str(show.event_id)},
        ).scalars()
        assert list(actions) == ["event.seats.blocked"] * 2 + ["event.seats.unblocked"]


def test_only_the_events_organizer_or_an_admin_blocks(owner: Engine, organizer: Identity) -> None:
    show = make_seated_show(owner, organizer, (("Front Row", 1, 4),))
    seat = show.seats["Front Row"][:1]
    staff = make_person(owner, ["staff"])
    with Session(owner) as s, s.begin():
        assign_staff(s, show.event_id, staff.user_id)
    other = make_person(owner, ["organizer"])
    admin = make_person(owner, ["admin"])
    marketing = make_person(owner, ["marketing"])

    assert not get_seat_map(staff.actor(), show.event_id).can_block
    assert not get_seat_map(other.actor(), show.event_id).can_block
    for person in (staff, other):
        with pytest.raises(PermissionDenied):
            block_seats(person.actor(), show.event_id, seat, "Sound desk")
    with pytest.raises(PermissionDenied):
        get_seat_map(marketing.actor(), show.event_id)
    assert block_seats(admin.actor(), show.event_id, seat, "Sound desk").changed == (
        "Front Row A1",
    )


def test_seats_without_coordinates_are_laid_out(owner: Engine, organizer: Identity) -> None:
    with Session(owner) as s, s.begin():
        venue, _, seat_rows = make_seated_section(s, 12)
        event_row = make_event(s, s.get(User, organizer.user_id), venue_id=venue.id)
        s.add_all(EventSeat(event_id=event_row.id, seat_id=seat.id) for seat in seat_rows)
        event_id = event_row.id
    seat_map = get_seat_map(organizer.actor(), event_id)
    positions = {(s.x, s.y) for s in seat_map.seats}
    assert len(positions) == 12, "every seat somewhere of its own"
    assert [s.number for s in seat_map.seats] == [str(n) for n in range(1, 13)]


# -- the page -----------------------------------------------------------------------------


def open_seat_map(identity: Identity, show: SeatedShow) -> AppTest:
    at = open_page(PAGE, identity)
    assert [t.value for t in at.title] == ["Seat map"], [t.value for t in at.title]
    at.text_input(key="sm_search").input(show.title).run()
    at.selectbox(key="sm_event").set_value(str(show.event_id)).run()
    assert not at.exception
    return at


def chart(at: AppTest) -> dict:
    [element] = at.get("plotly_chart")
    return json.loads(element.proto.spec)


def coordinates(values: list | dict) -> list[float]:
    """A trace's x or y: plotly sends numeric arrays base64-encoded ({dtype, bdata})."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), values["dtype"]).tolist()
    return [float("nan") if v is None else v for v in values]


def points(spec: dict) -> int:
    """Seats drawn (an empty status keeps its legend entry with one blank point)."""
    return sum(1 for trace in spec["data"] for x in coordinates(trace["x"]) if x == x)


def test_the_page_draws_every_seat_coloured_by_status(owner: Engine, organizer: Identity) -> None:
    show = make_seated_show(owner, organizer)
    sell(organizer, show, show.seats["Front Row"][:3])
    at = open_seat_map(organizer, show)
    assert [m.value for m in at.metric] == ["297", "0", "3", "0"]
    spec = chart(at)
    traces = {t["name"]: t for t in spec["data"]}
    assert all(t["type"] == "scattergl" for t in traces.values())
    assert points(spec) == 300
    assert set(traces) == {"Available (297)", "Held (0)", "Sold (3)", "Blocked (0)"}
    sold = traces["Sold (3)"]["customdata"][0]
    assert sold[1:4] == ["Front Row", "A", "1"] and sold[4] == "$50.00"
    assert sold[5].startswith("FW-")
    assert len(spec["layout"]["shapes"]) == 2, "one outline per section"
    assert {a["text"].split(" · ")[0] for a in spec["layout"]["annotations"]} == {
        "Front Row",
        "Stalls",
    }
    assert spec["layout"]["dragmode"] == "select"
    assert "No seats chosen." in [c.value for c in at.caption]

    block_seats(organizer.actor(), show.event_id, show.seats["Stalls"][:4], "Camera platform")
    at.run()
    assert [m.value for m in at.metric] == ["293", "0", "3", "4"]
    assert "Blocked (4)" in {t["name"] for t in chart(at)["data"]}


def test_staff_see_the_map_without_blocking(owner: Engine, organizer: Identity) -> None:
    show = make_seated_show(owner, organizer, (("Front Row", 1, 8),))
    staff = make_person(owner, ["staff"])
    with Session(owner) as s, s.begin():
        assign_staff(s, show.event_id, staff.user_id)
    at = open_seat_map(staff, show)
    assert points(chart(at)) == 8


def test_staff_see_only_the_maps_of_the_events_they_work(
    owner: Engine, organizer: Identity
) -> None:
    show = make_seated_show(owner, organizer, (("Front Row", 1, 3),))
    outsider = make_person(owner, ["staff"])
    with pytest.raises(PermissionDenied, match="events you organise or work"):
        get_seat_map(outsider.actor(), show.event_id)
    assert show.event_id not in {e.event_id for e in list_seat_map_events(outsider.actor())}
    with pytest.raises(PermissionDenied, match="events you organise or work"):
        hold_seats(outsider.actor(), show.event_id, "outsider", show.seats["Front Row"][:1])


def test_a_5000_seat_venue_is_one_query_and_one_trace_per_status(db, organizer: Identity) -> None:
    # How fast it draws is measured by `python -m bench.seat_map`, not here.
    show = make_seated_show(
        db.owner, organizer, (("Floor", 50, 60), ("Balcony", 25, 60), ("Box", 10, 50))
    )
    with counted_statements(db.app) as seen:
        seat_map = get_seat_map(organizer.actor(), show.event_id, "someone")
    assert len(seat_map.seats) == 5000
    seat_reads = [s for s in seen if "FROM event_seats es" in s]
    assert len(seat_reads) == 1 and len(seen) <= 5, seen

    at = open_seat_map(organizer, show)
    assert points(chart(at)) == 5000
    # Scattergl, one trace per status: the browser draws 5,000 points on the GPU path.
    assert {t["type"] for t in chart(at)["data"]} == {"scattergl"}
