"""Ticket types per event (seated tiers take a venue section) and discount codes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, ts_text
from core.demo.ids import UniqueNames, new_id
from core.demo.money import money, percent_of
from core.demo.world import World
from core.demo.writer import TableLoad

if TYPE_CHECKING:
    from core.demo.events import EventRec
    from core.demo.venues import SectionRec

BASE_PRICE = {
    "fashion_show": 95,
    "exhibition": 35,
    "workshop": 120,
    "conference": 290,
    "party": 75,
    "networking": 45,
}
SECTION_TIERS = {"vip": "vip", "premium": "premium", "general": "general", "backstage": "exclusive"}
# Admission-only tiers: (name, tier, price factor, demand weight, max per order).
ADMISSION_TIERS = (
    ("General Admission", "general", 1.0, 1.0, 10),
    ("Premium", "premium", 1.8, 0.35, 8),
    ("VIP", "vip", 3.2, 0.15, 4),
    ("Exclusive Experience", "exclusive", 6.0, 0.05, 2),
)
FEATURES = {
    "general": ["Entry to the show"],
    "premium": ["Entry to the show", "Premium seating area", "Welcome drink"],
    "vip": ["Priority entry", "Front rows", "Champagne reception", "Gift bag"],
    "exclusive": ["Backstage access", "Meet the designer", "Champagne reception", "Gift bag"],
}
MAX_PER_ORDER = {"general": 10, "premium": 8, "vip": 4, "exclusive": 2}
GLOBAL_CODES = (
    ("WELCOME10", "percentage", 10, 0, None, "10% off your first fashion week ticket"),
    ("STUDENT15", "percentage", 15, 0, 5_000, "Student discount, 15% up to $50"),
    ("FASHIONWEEK25", "fixed_amount", 2_500, 10_000, None, "$25 off orders from $100"),
)


# eq=False: ticket types are compared by identity, which is all the sales generator needs.
@dataclass(slots=True, eq=False)
class TicketTypeRec:
    id: str
    name: str
    tier: str
    price: int
    weight: float
    max_per_order: int
    section: SectionRec | None = None
    # Seats (indexes into the venue's seats) this type sells, in selling order.
    seats: list[int] = field(default_factory=list)
    capacity: int = 0
    sold: int = 0


@dataclass(slots=True)
class CodeRec:
    """A discount or promotional code as the pricing engine sees it."""

    id: str
    code: str
    kind: str
    # Percent for percentage codes, cents for fixed amounts, 0 for a free item.
    value: int
    min_cents: int
    max_cents: int | None
    start: int
    end: int
    limit: int | None
    event_ids: list[str]
    ticket_type_ids: frozenset[str] | None
    description: str
    created_by: str | None
    usage: int = 0

    def discount(self, subtotal: int) -> int:
        """The discount this code gives on a line of `subtotal` cents (never above it)."""
        if self.kind == "percentage":
            cut = percent_of(subtotal, self.value)
            return min(cut, self.max_cents) if self.max_cents is not None else cut
        if self.kind == "fixed_amount":
            return min(self.value, subtotal)
        return 0


def _round_price(dollars: float) -> int:
    """To the nearest $5, in cents."""
    return max(5, round(dollars / 5) * 5) * 100


def plan(world: World) -> None:
    """Ticket types for every event (seated events sell their sections), discount codes."""
    rng = world.rng
    for event in world.events:
        base = BASE_PRICE[event.type] * event.venue.city.price_factor * rng.uniform(0.85, 1.2)
        if event.seated:
            _seated_types(world, event, base)
        else:
            tiers = ADMISSION_TIERS if rng.random() < 0.5 else ADMISSION_TIERS[:3]
            for name, tier, factor, weight, max_per_order in tiers:
                event.ticket_types.append(
                    TicketTypeRec(
                        new_id(rng), name, tier, _round_price(base * factor), weight, max_per_order
                    )
                )
    _discount_codes(world)


def _seated_types(world: World, event: EventRec, base: float) -> None:
    rng, venue = world.rng, event.venue
    total = sum(s.sellable for s in venue.sections if s.section_type in SECTION_TIERS)
    for index, section in enumerate(venue.sections):
        tier = SECTION_TIERS.get(section.section_type)
        if tier is None:  # press seats are given out, not sold
            continue
        first = section.first_seat
        seats = [
            i
            for i in range(first, first + section.rows * section.per_row)
            if venue.seats[i].blocked is None
        ]
        assert all(venue.seats[i].section == index for i in seats)
        event.ticket_types.append(
            TicketTypeRec(
                new_id(rng),
                section.name,
                tier,
                _round_price(base * float(section.multiplier)),
                len(seats) / total * (1.4 if tier in ("vip", "premium") else 1.0),
                MAX_PER_ORDER[tier],
                section,
                seats,
                capacity=len(seats),
            )
        )
    # Standing room behind the seats takes what the seats cannot.
    event.ticket_types.append(
        TicketTypeRec(new_id(rng), "Standing Room", "general", _round_price(base * 0.6), 0.12, 10)
    )


def _discount_codes(world: World) -> None:
    rng, clock = world.rng, world.clock
    creators = world.users_by_type["organizer"] + world.users_by_type["marketing"]
    names = UniqueNames()
    first = clock.t0 - (world.scale.history_days + 150) * DAY
    last = clock.t0 + (world.scale.future_days + 30) * DAY
    n = world.scale.discount_codes
    for code, kind, value, minimum, maximum, description in GLOBAL_CODES[:n]:
        world.discount_codes.append(
            CodeRec(
                new_id(rng), names.take(code), kind, value, minimum, maximum, first, last, None,
                [], None, description, rng.choice(creators).id,
            )
        )  # fmt: skip
    selling = [e for e in world.events if e.status != "draft"]
    for i in range(n - len(world.discount_codes)):
        event = selling[i % len(selling)] if i < len(selling) else rng.choice(selling)
        percent = rng.random() < 0.7
        value = (
            rng.choice((10, 15, 20, 25, 50))
            if percent
            else rng.choice((1_000, 2_000, 2_500, 5_000))
        )
        word = rng.choice(("EARLY", "VIP", "PRESS", "FRIENDS", "LASTCALL", "GROUP", "ALUMNI"))
        city = "".join(c for c in event.venue.city.name.upper() if c.isalpha())[:6]
        restricted = None
        if rng.random() < 0.3:
            restricted = frozenset(t.id for t in event.ticket_types if t.tier == "general")
        world.discount_codes.append(
            CodeRec(
                id=new_id(rng),
                code=names.take(f"{city}-{word}{value if percent else value // 100}"),
                kind="percentage" if percent else "fixed_amount",
                value=value,
                min_cents=0 if percent else value * 4,
                max_cents=rng.choice((None, 10_000)) if percent else None,
                start=event.sale_start,
                end=event.start,
                limit=rng.choice((None, 25, 50, 100, 250, 500)),
                event_ids=[event.id],
                ticket_type_ids=restricted,
                description=f"{word.title()} offer for {event.title}",
                created_by=rng.choice(creators).id,
            )
        )


def tables(world: World) -> Iterator[TableLoad]:
    """Ticket types (capacities from the sales plan) and discount codes with their links."""
    yield _ticket_types(world)
    rng = world.rng
    codes = world.discount_codes
    yield TableLoad(
        "discount_codes",
        (
            "id", "code", "description", "discount_type", "discount_value",
            "minimum_order_amount", "maximum_discount_amount", "start_date", "end_date",
            "usage_limit", "current_usage", "is_active", "is_one_time_use",
            "applies_to_all_events", "created_by", "created_at", "updated_at",
        ),
        [
            (
                c.id,
                c.code,
                c.description,
                c.kind,
                str(c.value) if c.kind == "percentage" else money(c.value),
                money(c.min_cents),
                None if c.max_cents is None else money(c.max_cents),
                ts_text(c.start),
                ts_text(c.end),
                c.limit,
                c.usage,
                c.end > world.clock.t0,
                False,
                not c.event_ids,
                c.created_by,
                ts_text(c.start - 3 * DAY),
                ts_text(max(c.start - 3 * DAY, min(c.end, world.clock.t0 - HOUR))),
            )
            for c in codes
        ],
    )  # fmt: skip
    yield TableLoad(
        "discount_code_events",
        ("id", "discount_code_id", "event_id", "created_at"),
        [(new_id(rng), c.id, e, ts_text(c.start - 3 * DAY)) for c in codes for e in c.event_ids],
    )
    yield TableLoad(
        "discount_code_ticket_types",
        ("id", "discount_code_id", "ticket_type_id", "created_at"),
        [
            (new_id(rng), c.id, t, ts_text(c.start - 3 * DAY))
            for c in codes
            for t in sorted(c.ticket_type_ids or ())
        ],
    )


def _ticket_types(world: World) -> TableLoad:
    t0 = world.clock.t0

    def rows():
        for e in world.events:
            created = ts_text(e.created + HOUR)
            for t in e.ticket_types:
                remaining = t.capacity - t.sold
                assert remaining >= 0, (e.title, t.name, t.capacity, t.sold)
                yield (
                    t.id,
                    e.id,
                    t.name,
                    f"{t.name} for {e.title}",
                    money(t.price),
                    Jsonb(FEATURES[t.tier]),
                    t.max_per_order,
                    t.capacity,
                    remaining,
                    ts_text(e.sale_start),
                    ts_text(e.sale_end),
                    e.status in ("published", "postponed") and e.sale_end > t0,
                    t.tier == "vip",
                    t.tier,
                    None if t.section is None else t.section.id,
                    created,
                    created,
                )

    return TableLoad(
        "ticket_types",
        (
            "id", "event_id", "name", "description", "base_price", "features",
            "max_quantity_per_order", "total_capacity", "remaining_capacity", "sale_start_date",
            "sale_end_date", "is_active", "is_featured", "tier", "seating_section_id",
            "created_at", "updated_at",
        ),
        rows(),
        sum(len(e.ticket_types) for e in world.events),
    )  # fmt: skip
