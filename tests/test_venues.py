"""Venues: sections, seat grids (names, aisles, accessible seats, replacing), seats taken
out of use as the checkout sees them, and the Venues page; real PostgreSQL, app role."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, literal_column, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import Identity
from core.checkout.errors import SeatTaken
from core.checkout.holds import HoldRequest, hold_tickets, release_hold
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import Venue
from core.services.venues import (
    ROW_PITCH,
    SEAT_PITCH,
    VENUE_DOCUMENT,
    SeatGridSpec,
    SectionInput,
    VenueInput,
    block_seats,
    create_section,
    create_venue,
    generate_seat_grid,
    get_venue,
    list_section_seats,
    list_venues,
    plan_seat_grid,
    unblock_seats,
    update_section,
    update_venue,
)
from tests.apptest import make_person, messages, open_page
from tests.checkout_fixtures import SaleEvent, make_sale_event
from tests.factories import assign_staff


@pytest.fixture(scope="module")
def marketer(owner: Engine) -> Identity:
    return make_person(owner, ["marketing"])


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _venue(organizer: Identity, name: str | None = None) -> uuid.UUID:
    venue = create_venue(
        organizer.actor(),
        VenueInput(name=name or f"Hall {_tag()}", address="1 Via Roma", city="Milan", country="IT"),
    )
    return venue.venue_id


def _section(organizer: Identity, venue_id: uuid.UUID, name: str = "Stalls") -> uuid.UUID:
    return create_section(organizer.actor(), venue_id, SectionInput(name=name)).section_id


def _seats(owner: Engine, section_id: uuid.UUID) -> list[tuple]:
    with owner.connect() as conn:
        return conn.execute(
            text(
                "SELECT row_name, seat_number, x, y, is_accessible, status, notes"
                " FROM venue_seats WHERE section_id = :s ORDER BY y, x"
            ),
            {"s": section_id},
        ).all()


def _sale(owner: Engine, seats: int, seller: Identity) -> SaleEvent:
    """A published event selling one new section of `seats` seats (row A), worked by
    `seller` (who may then hold its seats)."""
    with Session(owner) as s, s.begin():
        sale = make_sale_event(s, capacity=seats, seats=seats)
        assign_staff(s, sale.event_id, seller.user_id)
        return sale


def _event_seats(owner: Engine, event_id: uuid.UUID) -> dict[uuid.UUID, tuple[str, str | None]]:
    with owner.connect() as conn:
        rows = conn.execute(
            text("SELECT seat_id, status, blocked_reason FROM event_seats WHERE event_id = :e"),
            {"e": event_id},
        ).all()
    return {row[0]: (row[1], row[2]) for row in rows}


# -- planning a grid (no database) -------------------------------------------------------


def test_a_planned_grid_has_named_rows_aisles_and_accessible_seats() -> None:
    seats = plan_seat_grid(
        SeatGridSpec(
            rows=3,
            seats_per_row=10,
            aisles_after=(7, 4),
            accessible_first_row_ends=True,
            accessible_seats=("c5",),
        )
    )
    assert len(seats) == 30
    assert [s.row_name for s in seats[::10]] == ["A", "B", "C"]
    assert [s.seat_number for s in seats[:10]] == [str(n) for n in range(1, 11)]
    x = {s.seat_number: s.x for s in seats[:10]}
    assert x["4"] == 3 * SEAT_PITCH and x["5"] == 5 * SEAT_PITCH, "an aisle after seat 4"
    assert x["7"] == 7 * SEAT_PITCH and x["8"] == 9 * SEAT_PITCH, "an aisle after seat 7"
    assert {s.y for s in seats if s.row_name == "C"} == {2 * ROW_PITCH}
    assert {f"{s.row_name}{s.seat_number}" for s in seats if s.is_accessible} == {
        "A1",
        "A10",
        "C5",
    }


def test_numbered_rows_and_names_past_z() -> None:
    numbered = plan_seat_grid(
        SeatGridSpec(rows=12, seats_per_row=3, row_naming="numbers", accessible_seats=("11-2",))
    )
    assert numbered[-1].row_name == "12"
    assert [(s.row_name, s.seat_number) for s in numbered if s.is_accessible] == [("11", "2")]
    lettered = plan_seat_grid(SeatGridSpec(rows=28, seats_per_row=1))
    assert [s.row_name for s in lettered[24:]] == ["Y", "Z", "AA", "AB"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (SeatGridSpec(rows=0, seats_per_row=10), "rows"),
        (SeatGridSpec(rows=101, seats_per_row=10), "rows"),
        (SeatGridSpec(rows=5, seats_per_row=0), "seats_per_row"),
        (SeatGridSpec(rows=100, seats_per_row=100), "seats_per_row"),
        (SeatGridSpec(rows=5, seats_per_row=10, aisles_after=(10,)), "aisles_after"),
        (SeatGridSpec(rows=5, seats_per_row=10, accessible_seats=("F1",)), "accessible_seats"),
        (SeatGridSpec(rows=5, seats_per_row=10, accessible_seats=("A11",)), "accessible_seats"),
        (SeatGridSpec(rows=5, seats_per_row=10, accessible_seats=("front",)), "accessible_seats"),
        (
            SeatGridSpec(rows=5, seats_per_row=10, row_naming="numbers", accessible_seats=("12",)),
            "accessible_seats",
        ),
    ],
)
def test_a_bad_grid_names_the_field(spec: SeatGridSpec, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        plan_seat_grid(spec)
    assert raised.value.field == field


# -- venues and sections -------------------------------------------------------------------


def test_venues_and_sections_are_created_edited_and_listed(organizer: Identity) -> None:
    actor = organizer.actor()
    name = f"Palazzo {_tag()}"
    venue_id = _venue(organizer, name)
    venue = get_venue(actor, venue_id)
    assert venue.name == name and venue.slug.startswith("palazzo") and venue.sections == ()

    changed = update_venue(
        actor,
        venue_id,
        VenueInput(name=name, address="2 Via Roma", city="Milan", country="IT", capacity=300),
    )
    assert changed.address == "2 Via Roma" and changed.capacity == 300

    section_id = _section(organizer, venue_id, "Front Row")
    with pytest.raises(Conflict):
        _section(organizer, venue_id, "Front Row")
    renamed = update_section(
        actor,
        section_id,
        SectionInput(name="Front Row VIP", section_type="vip", price_multiplier=Decimal("3")),
    )
    assert (renamed.name, renamed.section_type, renamed.price_multiplier) == (
        "Front Row VIP",
        "vip",
        Decimal("3.00"),
    )
    listed = {v.venue_id: v for v in list_venues(actor, name)}
    assert listed[venue_id].sections == 1 and listed[venue_id].seats == 0
    assert list_venues(actor, f"nomatch{_tag()}") == ()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"city": ""}, "city"),
        ({"status": "closed"}, "status"),
        ({"capacity": -1}, "capacity"),
        ({"contact_email": "not-an-email"}, "contact_email"),
    ],
)
def test_bad_venue_input_names_the_field(organizer: Identity, overrides: dict, field: str) -> None:
    values = {"name": f"Hall {_tag()}", "address": "1 Road", "city": "Paris", "country": "FR"}
    values.update(overrides)
    with pytest.raises(ValidationError) as raised:
        create_venue(organizer.actor(), VenueInput(**values))
    assert raised.value.field == field


def test_a_role_without_events_manage_is_refused(marketer: Identity) -> None:
    with pytest.raises(PermissionDenied):
        list_venues(marketer.actor())
    with pytest.raises(PermissionDenied):
        create_venue(marketer.actor(), VenueInput(name="X", address="Y", city="Z", country="IT"))


# -- generating seats ------------------------------------------------------------------------


def test_generating_a_grid_writes_every_seat_in_one_go(owner: Engine, organizer: Identity) -> None:
    actor = organizer.actor()
    venue_id = _venue(organizer)
    section_id = _section(organizer, venue_id)
    result = generate_seat_grid(
        actor,
        section_id,
        SeatGridSpec(rows=4, seats_per_row=6, aisles_after=(3,), accessible_first_row_ends=True),
    )
    assert (result.seats, result.rows, result.accessible, result.replaced) == (24, 4, 2, 0)
    seats = _seats(owner, section_id)
    assert len(seats) == 24
    assert sorted({s[0] for s in seats}) == ["A", "B", "C", "D"]
    row_a = [s for s in seats if s[0] == "A"]
    assert [s[1] for s in row_a] == ["1", "2", "3", "4", "5", "6"]
    assert row_a[3][2] - row_a[2][2] == 2 * SEAT_PITCH, "the aisle leaves a seat's gap"
    assert [s[1] for s in row_a if s[4]] == ["1", "6"]
    assert all(s[5] == "available" for s in seats)
    section = get_venue(actor, venue_id).sections[0]
    assert (section.capacity, section.seats, section.accessible) == (24, 24, 2)

    # A second section goes below the first on the venue's seat map.
    balcony = _section(organizer, venue_id, "Balcony")
    generate_seat_grid(actor, balcony, SeatGridSpec(rows=2, seats_per_row=4))
    assert min(s[3] for s in _seats(owner, balcony)) > max(s[3] for s in seats)
    listed = {v.venue_id: v for v in list_venues(actor)}
    assert (listed[venue_id].sections, listed[venue_id].seats) == (2, 32)

    with pytest.raises(Conflict) as raised:
        generate_seat_grid(actor, section_id, SeatGridSpec(rows=1, seats_per_row=1))
    assert raised.value.field == "replace" and "already has 24 seats" in raised.value.message
    assert len(_seats(owner, section_id)) == 24, "a refused grid changes nothing"
    with pytest.raises(NotFound):
        generate_seat_grid(actor, uuid.uuid4(), SeatGridSpec(rows=1, seats_per_row=1))


def test_replacing_is_refused_while_a_seat_is_held_and_events_get_the_new_seats(
    owner: Engine, organizer: Identity
) -> None:
    actor = organizer.actor()
    sale = _sale(owner, 4, organizer)
    assert sale.section_id is not None
    hold_tickets(actor, HoldRequest(sale.event_id, "grid-buyer", seat_ids=[sale.seat_ids[0]]))
    with pytest.raises(Conflict) as raised:
        generate_seat_grid(
            actor, sale.section_id, SeatGridSpec(rows=2, seats_per_row=3), replace=True
        )
    assert raised.value.field == "replace" and "1 held" in raised.value.message
    assert set(_event_seats(owner, sale.event_id)) == set(sale.seat_ids)

    release_hold(actor, sale.event_id, "grid-buyer")
    result = generate_seat_grid(
        actor, sale.section_id, SeatGridSpec(rows=2, seats_per_row=3), replace=True
    )
    assert (result.seats, result.replaced) == (6, 4)
    new_seats = list_section_seats(actor, sale.section_id)
    assert [s.label for s in new_seats] == ["A1", "A2", "A3", "B1", "B2", "B3"]
    per_event = _event_seats(owner, sale.event_id)
    assert set(per_event) == {s.seat_id for s in new_seats}
    assert {status for status, _ in per_event.values()} == {"available"}
    # The new seats sell.
    hold = hold_tickets(
        actor, HoldRequest(sale.event_id, "new-buyer", seat_ids=[new_seats[4].seat_id])
    )
    assert hold.seat_ids == (new_seats[4].seat_id,)


# -- seats out of use ------------------------------------------------------------------------


def test_blocked_seats_are_out_of_use_for_every_event_until_unblocked(
    owner: Engine, organizer: Identity
) -> None:
    actor = organizer.actor()
    sale = _sale(owner, 5, organizer)
    assert sale.section_id is not None
    section_id, seats = sale.section_id, sale.seat_ids
    hold_tickets(actor, HoldRequest(sale.event_id, "early-buyer", seat_ids=[seats[0]]))
    # The event itself blocked seat 3 for its own reason.
    with owner.begin() as conn:
        conn.execute(
            text(
                "UPDATE event_seats SET status = 'blocked', blocked_reason = 'Press only'"
                " WHERE event_id = :e AND seat_id = :s"
            ),
            {"e": sale.event_id, "s": seats[3]},
        )

    with pytest.raises(ValidationError) as raised:
        block_seats(actor, section_id, [seats[1]], " ")
    assert raised.value.field == "reason"
    with pytest.raises(ValidationError) as raised:
        block_seats(actor, section_id, [uuid.uuid4()], "Camera platform")
    assert raised.value.field == "seat_ids"

    result = block_seats(actor, section_id, [seats[0], seats[1]], "Camera platform")
    assert (result.seats, result.event_seats, result.sold_or_held) == (2, 1, 1)
    physical = {s.seat_id: (s.status, s.notes) for s in list_section_seats(actor, section_id)}
    assert physical[seats[0]] == physical[seats[1]] == ("blocked", "Camera platform")
    per_event = _event_seats(owner, sale.event_id)
    assert per_event[seats[1]] == ("blocked", "Camera platform")
    assert per_event[seats[0]][0] == "held", "a held seat stays held for its buyer"
    with pytest.raises(SeatTaken):
        hold_tickets(actor, HoldRequest(sale.event_id, "late-buyer", seat_ids=[seats[1]]))

    block_seats(actor, section_id, [seats[3]], "Broken armrest", status="maintenance")
    assert _event_seats(owner, sale.event_id)[seats[3]] == ("blocked", "Press only")

    freed = unblock_seats(actor, section_id, [seats[1], seats[3]])
    assert (freed.seats, freed.event_seats) == (2, 1)
    per_event = _event_seats(owner, sale.event_id)
    assert per_event[seats[1]] == ("available", None)
    assert per_event[seats[3]] == ("blocked", "Press only"), "the event's own block stays"
    physical = {s.seat_id: s.status for s in list_section_seats(actor, section_id)}
    assert physical[seats[1]] == physical[seats[3]] == "available"
    assert physical[seats[0]] == "blocked"
    hold = hold_tickets(actor, HoldRequest(sale.event_id, "late-buyer", seat_ids=[seats[1]]))
    assert hold.seat_ids == (seats[1],)


def test_the_venue_search_uses_the_full_text_index(owner: Engine) -> None:
    english = literal_column("'english'")
    query = select(Venue.id).where(
        VENUE_DOCUMENT.op("@@")(func.websearch_to_tsquery(english, "milan"))
    )
    sql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with owner.connect() as conn:
        # venues has no row-level security, so the app role's plan is the owner's.
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
    assert "idx_venues_fts" in plan, plan


# -- the page ------------------------------------------------------------------------------


def _button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return matches[0]


def test_the_page_generates_a_seat_grid(owner: Engine, organizer: Identity) -> None:
    name = f"Teatro {_tag()}"
    venue_id = _venue(organizer, name)
    section_id = _section(organizer, venue_id, "Orchestra")
    at = open_page("venues.py", organizer)
    assert not at.exception
    assert at.title[0].value == "Venues"
    at.text_input(key="venues_search").input(name).run()
    assert list(at.dataframe[0].value["Name"]) == [name]
    assert at.selectbox(key="venues_pick").value == str(venue_id)
    assert "has no seats yet" in messages(at)

    at.number_input(key=f"grid_rows_{section_id}").set_value(3)
    at.number_input(key=f"grid_seats_{section_id}").set_value(8)
    at.multiselect(key=f"grid_aisles_{section_id}").set_value([4])
    at.run()
    assert any("Preview: 24 seats in 3 rows" in c.value for c in at.caption)
    assert at.get("plotly_chart"), "the preview is drawn"
    at = _button(at, "Generate seats").click().run()
    assert not at.exception
    assert "Generated 24 seats in 3 rows for Orchestra." in messages(at)
    seats = _seats(owner, section_id)
    assert len(seats) == 24 and sorted({s[0] for s in seats}) == ["A", "B", "C"]
    # The section now has seats: generating again asks before replacing them.
    assert _button(at, "Replace the 24 seats")


def test_the_page_blocks_seats_with_a_reason(owner: Engine, organizer: Identity) -> None:
    name = f"Loft {_tag()}"
    venue_id = _venue(organizer, name)
    section_id = _section(organizer, venue_id)
    generate_seat_grid(organizer.actor(), section_id, SeatGridSpec(rows=1, seats_per_row=4))
    seat = list_section_seats(organizer.actor(), section_id)[2]
    at = open_page("venues.py", organizer)
    at.text_input(key="venues_search").input(name).run()
    at.multiselect(key=f"block_pick_{section_id}").set_value([str(seat.seat_id)])
    at.text_input(key=f"block_reason_{section_id}").input("Sound desk")
    at = _button(at, "Block seats").click().run()
    assert not at.exception
    assert "Blocked 1 seat: out of sale for every event" in messages(at)
    assert [s[5:] for s in _seats(owner, section_id) if s[1] == "3"] == [("blocked", "Sound desk")]


def test_a_role_without_events_manage_gets_no_access(marketer: Identity) -> None:
    at = open_page("venues.py", marketer)
    assert not at.exception
    assert [t.value for t in at.title] == ["No access"]
    assert not at.dataframe and not at.text_input
