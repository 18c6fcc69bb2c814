"""Ticket types: create and edit with validation naming the field, the optimistic version,
on and off sale, live availability, who may change them; and the page in AppTest. On a
database of this module's own (the app role, so row-level security applies)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import Identity, PermissionDenied
from core.checkout.errors import SaleClosed
from core.checkout.holds import HoldRequest, hold_tickets
from core.errors import ConcurrentUpdate, ValidationError
from core.models import User, Venue, VenueSection
from core.services.box_office import (
    Buyer,
    Payment,
    SaleRequest,
    new_checkout_session_id,
    new_idempotency_key,
    quote_sale,
    take_payment,
)
from core.services.ticket_types import (
    TicketTypeDraft,
    create_ticket_type,
    get_event_ticket_types,
    list_manageable_events,
    set_ticket_type_active,
    update_ticket_type,
)
from tests.apptest import make_person, messages, open_page, shown
from tests.factories import make_event

PAGE = "ticket_types.py"
D = Decimal
NOW = datetime.now(UTC).replace(microsecond=0)


def make_show(
    owner: Engine, organizer: Identity, *, status: str = "published"
) -> tuple[uuid.UUID, str, uuid.UUID]:
    """An event of `organizer` at a venue with one section; (event id, title, section id)."""
    with Session(owner) as s, s.begin():
        tag = uuid.uuid4().hex[:8]
        venue = Venue(name=f"Tier Hall {tag}", address="2 Runway Road", city="Paris", country="FR")
        s.add(venue)
        s.flush()
        section = VenueSection(
            venue_id=venue.id, name="Balcony", capacity=0, section_type="general"
        )
        s.add(section)
        s.flush()
        event = make_event(
            s,
            s.get(User, organizer.user_id),
            title=f"Tier Show {tag}",
            status=status,
            published_at=datetime.now(UTC),
            venue_id=venue.id,
            tax_rate=D("0.10"),
        )
        return event.id, event.title, section.id


def draft(**overrides: object) -> TicketTypeDraft:
    values: dict[str, object] = {
        "name": "General",
        "tier": "general",
        "price": D("30.00"),
        "capacity": 10,
        "sale_start": NOW - timedelta(days=1),
        "sale_end": NOW + timedelta(days=10),
    }
    values.update(overrides)
    return TicketTypeDraft(**values)  # type: ignore[arg-type]


BUYER = Buyer("Tier Buyer", "tier.buyer@example.com")


def sell(identity: Identity, event_id: uuid.UUID, ticket_type_id: uuid.UUID, n: int) -> None:
    session_id = new_checkout_session_id()
    quote = quote_sale(
        identity.actor(), SaleRequest(event_id, session_id, BUYER, {ticket_type_id: n})
    )
    take_payment(
        identity.actor(),
        Payment(event_id, session_id, BUYER, "cash", quote.total, new_idempotency_key()),
    )


# -- services ---------------------------------------------------------------------------


def test_create_and_read_with_live_availability(owner: Engine, organizer: Identity) -> None:
    event_id, title, section_id = make_show(owner, organizer)
    actor = organizer.actor()
    general = create_ticket_type(actor, event_id, draft(max_per_order=4))
    vip = create_ticket_type(
        actor,
        event_id,
        draft(name="VIP", tier="vip", price=D("120.005"), capacity=5, section_id=section_id),
    )
    assert (general.capacity, general.sold, general.held, general.free) == (10, 0, 0, 10)
    assert vip.price == D("120.01") and vip.section_name == "Balcony" and vip.version == 1

    sell(organizer, event_id, general.ticket_type_id, 3)
    hold_tickets(actor, HoldRequest(event_id, "someone", {general.ticket_type_id: 2}))
    data = get_event_ticket_types(actor, event_id)
    assert data.title == title and [s.name for s in data.sections] == ["Balcony"]
    row = next(t for t in data.ticket_types if t.name == "General")
    assert (row.capacity, row.sold, row.held, row.free, row.max_per_order) == (10, 3, 2, 5, 4)
    assert row.version > general.version, "a sale moves the version on"
    assert event_id in {e.event_id for e in list_manageable_events(actor, search=title)}


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"name": "  "}, "name", "Name is required"),
        ({"tier": "gold"}, "tier", "Tier must be one of"),
        ({"price": D("-1")}, "base_price", "Price must be 0 or more"),
        ({"capacity": -5}, "total_capacity", "Capacity must be 0 or more"),
        ({"sale_end": NOW - timedelta(days=2)}, "sale_end_date", "Sale end must be after"),
        ({"max_per_order": 0}, "max_quantity_per_order", "Per-order limit"),
        ({"tax_rate": D("1.5")}, "tax_rate", "Tax rate must be"),
        ({"section_id": uuid.uuid4()}, "seating_section_id", "not part of the event's venue"),
        ({"sale_start": datetime(2026, 1, 1)}, "sale_start_date", "time zone"),
    ],
)
def test_bad_input_names_the_field(
    owner: Engine, organizer: Identity, overrides: dict, field: str, words: str
) -> None:
    event_id, _, _ = make_show(owner, organizer)
    with pytest.raises(ValidationError, match=words) as refused:
        create_ticket_type(organizer.actor(), event_id, draft(**overrides))
    assert refused.value.field == field
    assert get_event_ticket_types(organizer.actor(), event_id).ticket_types == ()


def test_an_edit_at_a_stale_version_is_refused(owner: Engine, organizer: Identity) -> None:
    event_id, _, _ = make_show(owner, organizer)
    actor = organizer.actor()
    created = create_ticket_type(actor, event_id, draft())
    first = update_ticket_type(actor, created.ticket_type_id, created.version, draft(price=D("35")))
    assert (first.price, first.version) == (D("35.00"), created.version + 1)
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
        update_ticket_type(actor, created.ticket_type_id, created.version, draft(price=D("99")))
    with pytest.raises(ConcurrentUpdate):
        set_ticket_type_active(actor, created.ticket_type_id, created.version, False)
    [now] = get_event_ticket_types(actor, event_id).ticket_types
    assert (now.price, now.version) == (D("35.00"), first.version)


def test_capacity_never_below_sold_and_held(owner: Engine, organizer: Identity) -> None:
    event_id, _, _ = make_show(owner, organizer)
    actor = organizer.actor()
    tt = create_ticket_type(actor, event_id, draft(capacity=10))
    sell(organizer, event_id, tt.ticket_type_id, 4)
    hold_tickets(actor, HoldRequest(event_id, "holder", {tt.ticket_type_id: 2}))
    [current] = get_event_ticket_types(actor, event_id).ticket_types
    with pytest.raises(ValidationError, match=r"below 6 \(4 sold, 2 held\)") as refused:
        update_ticket_type(actor, tt.ticket_type_id, current.version, draft(capacity=5))
    assert refused.value.field == "total_capacity"
    smaller = update_ticket_type(actor, tt.ticket_type_id, current.version, draft(capacity=6))
    assert (smaller.capacity, smaller.sold, smaller.held, smaller.free) == (6, 4, 2, 0)
    with owner.connect() as conn:
        assert (
            conn.execute(
                text("SELECT remaining_capacity FROM ticket_types WHERE id = :t"),
                {"t": tt.ticket_type_id},
            ).scalar()
            == 2
        )


def test_off_sale_types_cannot_be_held(owner: Engine, organizer: Identity) -> None:
    event_id, _, _ = make_show(owner, organizer)
    actor = organizer.actor()
    tt = create_ticket_type(actor, event_id, draft())
    off = set_ticket_type_active(actor, tt.ticket_type_id, tt.version, False)
    assert not off.is_active
    with pytest.raises(SaleClosed):
        hold_tickets(actor, HoldRequest(event_id, "x", {tt.ticket_type_id: 1}))
    on = set_ticket_type_active(actor, tt.ticket_type_id, off.version, True)
    hold_tickets(actor, HoldRequest(event_id, "x", {tt.ticket_type_id: 1}))
    assert on.is_active
    with owner.connect() as conn:
        # The audit trigger (migration 0005) records each change with the acting person.
        actions = conn.execute(
            text(
                "SELECT action, user_id, new_data ->> 'is_active' FROM audit_logs"
                " WHERE table_name = 'ticket_types' AND record_id = :t ORDER BY seq"
            ),
            {"t": str(tt.ticket_type_id)},
        ).all()
        assert [tuple(a) for a in actions] == [
            ("ticket_types.insert", organizer.user_id, "true"),
            ("ticket_types.update", organizer.user_id, "false"),
            ("ticket_types.update", organizer.user_id, "true"),
        ]


def test_only_the_organizer_or_an_admin_changes_them(owner: Engine, organizer: Identity) -> None:
    event_id, title, _ = make_show(owner, organizer)
    tt = create_ticket_type(organizer.actor(), event_id, draft())
    other = make_person(owner, ["organizer"])
    staff = make_person(owner, ["staff"])
    admin = make_person(owner, ["admin"])
    assert event_id not in {e.event_id for e in list_manageable_events(other.actor(), search=title)}
    with pytest.raises(PermissionDenied):
        update_ticket_type(other.actor(), tt.ticket_type_id, tt.version, draft(price=D("1")))
    with pytest.raises(PermissionDenied):
        get_event_ticket_types(staff.actor(), event_id)
    with pytest.raises(PermissionDenied):
        create_ticket_type(staff.actor(), event_id, draft())
    changed = update_ticket_type(admin.actor(), tt.ticket_type_id, tt.version, draft(price=D("1")))
    assert changed.price == D("1.00")


# -- the page -----------------------------------------------------------------------------


def open_ticket_types(identity: Identity, title: str, event_id: uuid.UUID) -> AppTest:
    at = open_page(PAGE, identity)
    assert [t.value for t in at.title] == ["Ticket types"], [t.value for t in at.title]
    at.text_input(key="tt_search").input(title).run()
    at.selectbox(key="tt_event").set_value(str(event_id)).run()
    assert not at.exception
    return at


def _button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return matches[0]


def test_the_page_lists_types_with_availability_and_saves_an_edit(
    owner: Engine, organizer: Identity
) -> None:
    event_id, title, _ = make_show(owner, organizer)
    tt = create_ticket_type(organizer.actor(), event_id, draft(capacity=8))
    sell(organizer, event_id, tt.ticket_type_id, 3)
    at = open_ticket_types(organizer, title, event_id)
    table = at.dataframe[0].value
    assert table[["Name", "Capacity", "Sold", "Held", "Free"]].values.tolist() == [
        ["General", 8, 3, 0, 5]
    ]

    prefix = f"tt_edit_{tt.ticket_type_id}_"
    at.text_input(key=f"{prefix}name").input("General admission")
    at.number_input(key=f"{prefix}price").set_value(45.5)
    at.number_input(key=f"{prefix}limit").set_value(6)
    at = _button(at, "Save changes").click().run()
    assert not at.exception
    assert "General admission saved." in messages(at)
    [saved] = get_event_ticket_types(organizer.actor(), event_id).ticket_types
    assert (saved.name, saved.price, saved.max_per_order, saved.sold) == (
        "General admission",
        D("45.50"),
        6,
        3,
    )
    assert at.dataframe[0].value["Name"].tolist() == ["General admission"]


def test_the_page_shows_validation_and_keeps_the_values(owner: Engine, organizer: Identity) -> None:
    event_id, title, _ = make_show(owner, organizer)
    tt = create_ticket_type(organizer.actor(), event_id, draft(capacity=8))
    sell(organizer, event_id, tt.ticket_type_id, 3)
    at = open_ticket_types(organizer, title, event_id)
    prefix = f"tt_edit_{tt.ticket_type_id}_"
    at.number_input(key=f"{prefix}capacity").set_value(2)
    at = _button(at, "Save changes").click().run()
    assert "Capacity cannot go below 3 (3 sold, 0 held)." in [shown(e.value) for e in at.error]
    assert at.number_input(key=f"{prefix}capacity").value == 2

    start = date.today() + timedelta(days=5)
    at.number_input(key=f"{prefix}capacity").set_value(8)
    at.date_input(key=f"{prefix}sd").set_value(start)
    at.date_input(key=f"{prefix}ed").set_value(start - timedelta(days=1))
    at = _button(at, "Save changes").click().run()
    assert "Sale end must be after the sale start." in [shown(e.value) for e in at.error]
    [unchanged] = get_event_ticket_types(organizer.actor(), event_id).ticket_types
    assert (unchanged.capacity, unchanged.version) == (8, tt.version + 1)


def test_a_stale_edit_on_the_page_says_reload(owner: Engine, organizer: Identity) -> None:
    event_id, title, _ = make_show(owner, organizer)
    tt = create_ticket_type(organizer.actor(), event_id, draft())
    at = open_ticket_types(organizer, title, event_id)
    prefix = f"tt_edit_{tt.ticket_type_id}_"
    # Someone else saves while this form is open.
    update_ticket_type(organizer.actor(), tt.ticket_type_id, tt.version, draft(price=D("31")))
    at.number_input(key=f"{prefix}price").set_value(99.0)
    at = _button(at, "Save changes").click().run()
    assert not at.exception
    assert any("changed by someone else" in shown(e.value) for e in at.error)
    [current] = get_event_ticket_types(organizer.actor(), event_id).ticket_types
    assert current.price == D("31.00"), "the other person's change stands"

    at = _button(at, "Reload").click().run()
    assert at.number_input(key=f"{prefix}price").value == 31.0
    at.number_input(key=f"{prefix}price").set_value(32.0)
    at = _button(at, "Save changes").click().run()
    assert "General saved." in messages(at)
    [current] = get_event_ticket_types(organizer.actor(), event_id).ticket_types
    assert current.price == D("32.00")


def test_the_page_adds_and_takes_a_type_off_sale(owner: Engine, organizer: Identity) -> None:
    event_id, title, section_id = make_show(owner, organizer)
    at = open_ticket_types(organizer, title, event_id)
    assert "This event has no ticket types yet; add one below." in messages(at)
    prefix = f"tt_new_{event_id}_"
    at.text_input(key=f"{prefix}name").input("Balcony seats")
    at.selectbox(key=f"{prefix}tier").set_value("premium")
    at.number_input(key=f"{prefix}price").set_value(60.0)
    at.number_input(key=f"{prefix}capacity").set_value(40)
    at.selectbox(key=f"{prefix}section").set_value(str(section_id))
    at.date_input(key=f"{prefix}ed").set_value(date.today() + timedelta(days=3))
    at = _button(at, "Add ticket type").click().run()
    assert not at.exception, at.exception
    assert "Balcony seats added." in messages(at)
    [added] = get_event_ticket_types(organizer.actor(), event_id).ticket_types
    assert (added.tier, added.price, added.capacity, added.section_id) == (
        "premium",
        D("60.00"),
        40,
        section_id,
    )

    at = _button(at, "Take off sale").click().run()
    assert "Balcony seats is off sale." in messages(at)
    [off] = get_event_ticket_types(organizer.actor(), event_id).ticket_types
    assert not off.is_active and replace(off, is_active=True, version=added.version) == added
