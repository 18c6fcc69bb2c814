"""Venues in the fashion-week cities, their seating sections and seat grids."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, ts_text
from core.demo.ids import new_id
from core.demo.vocab import CITIES, VENUE_NAMES, City
from core.demo.world import World
from core.demo.writer import TableLoad

# Section templates: (name, section_type, rows, seats per row, price multiplier, tier).
# Sections of one tier sit side by side; tiers stack away from the stage or runway.
LAYOUTS: dict[str, tuple[tuple[str, str, int, int, str, int], ...]] = {
    "runway": (
        ("Front Row", "vip", 2, 24, "3.00", 0),
        ("Premium Stalls", "premium", 4, 24, "1.80", 1),
        ("General Left", "general", 6, 18, "1.00", 2),
        ("General Right", "general", 6, 18, "1.00", 2),
        ("Press Box", "press", 2, 10, "1.00", 3),
        ("Backstage Lounge", "backstage", 1, 12, "5.00", 3),
    ),
    "theatre": (
        ("Orchestra VIP", "vip", 3, 20, "3.00", 0),
        ("Orchestra", "premium", 6, 26, "1.80", 1),
        ("Mezzanine", "general", 8, 30, "1.00", 2),
        ("Balcony", "general", 6, 30, "0.80", 3),
        ("Press Row", "press", 1, 16, "1.00", 4),
        ("Green Room", "backstage", 1, 10, "5.00", 4),
    ),
    "hall": (
        ("VIP Tables", "vip", 3, 16, "3.20", 0),
        ("Premium Floor", "premium", 5, 30, "1.70", 1),
        ("Floor East", "general", 8, 24, "1.00", 2),
        ("Floor West", "general", 8, 24, "1.00", 2),
        ("Floor South", "general", 6, 30, "0.90", 3),
        ("Press Pit", "press", 2, 12, "1.00", 4),
        ("Backstage", "backstage", 2, 10, "5.00", 4),
    ),
}
LAYOUT_CYCLE = ("runway", "theatre", "hall")
SEAT_PITCH, ROW_PITCH, SECTION_GAP, TIER_GAP = 24, 30, 48, 60
BLOCK_REASONS = (
    ("blocked", "Camera platform"),
    ("blocked", "Sound desk"),
    ("maintenance", "Broken seat, awaiting repair"),
)


@dataclass(slots=True)
class SectionRec:
    id: str
    name: str
    section_type: str
    multiplier: str
    rows: int
    per_row: int
    first_seat: int
    x: int
    y: int
    sellable: int = 0


@dataclass(slots=True)
class SeatRec:
    id: str
    section: int
    row_name: str
    number: int
    x: int
    y: int
    accessible: bool
    # (venue_seats.status, notes) for seats out of use; None when usable.
    blocked: tuple[str, str] | None = None


@dataclass
class VenueRec:
    id: str
    name: str
    slug: str
    city: City
    layout: str
    status: str
    sections: list[SectionRec] = field(default_factory=list)
    seats: list[SeatRec] = field(default_factory=list)
    capacity: int = 0
    created: int = 0


def row_name(index: int) -> str:
    """A, B, ..., Z, AA, AB, ... for row index 0, 1, ..."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def section_shapes(layout: str, rows_factor: int) -> list[tuple[str, str, int, int, str, int]]:
    """The layout's sections with general sections grown by the scale's rows factor."""
    return [
        (name, kind, rows * rows_factor if kind == "general" else rows, per_row, mult, tier)
        for name, kind, rows, per_row, mult, tier in LAYOUTS[layout]
    ]


def seat_count(n_venues: int, rows_factor: int) -> int:
    """Seats across the first n venues (they take the layouts in LAYOUT_CYCLE order)."""
    return sum(
        rows * per_row
        for i in range(n_venues)
        for _, _, rows, per_row, _, _ in section_shapes(LAYOUT_CYCLE[i % 3], rows_factor)
    )


def section_count(n_venues: int) -> int:
    """Sections across the first n venues."""
    return sum(len(LAYOUTS[LAYOUT_CYCLE[i % 3]]) for i in range(n_venues))


def plan(world: World) -> None:
    """Venues cycling through the cities and layouts, each with its seat grid."""
    rng, t0 = world.rng, world.clock.t0
    n = world.scale.venues
    for i in range(n):
        city = CITIES[i % len(CITIES)]
        name = f"{VENUE_NAMES[(i * 7) % len(VENUE_NAMES)]} {city.name}"
        # Big worlds keep a couple of venues out of use, as real portfolios do.
        status = "active"
        if n >= 10 and i == n - 1:
            status = "under_maintenance"
        elif n >= 10 and i == n - 2:
            status = "inactive"
        venue = VenueRec(
            id=new_id(rng),
            name=name,
            slug=world.slug("venues", name),
            city=city,
            layout=LAYOUT_CYCLE[i % 3],
            status=status,
            created=t0 - rng.randint(600, 1_400) * DAY,
        )
        _lay_out(world, venue)
        world.venues.append(venue)


def _lay_out(world: World, venue: VenueRec) -> None:
    rng = world.rng
    tiers: dict[int, list[tuple[str, str, int, int, str, int]]] = {}
    for shape in section_shapes(venue.layout, world.scale.rows_factor):
        tiers.setdefault(shape[5], []).append(shape)
    y = 0
    for tier in sorted(tiers):
        x = 0
        depth = 0
        for name, kind, rows, per_row, mult, _ in tiers[tier]:
            section = SectionRec(
                new_id(rng), name, kind, mult, rows, per_row, len(venue.seats), x, y
            )
            venue.sections.append(section)
            index = len(venue.sections) - 1
            for r in range(rows):
                for s in range(per_row):
                    # The two aisle seats of a general section's last row take wheelchairs.
                    accessible = kind == "general" and r == rows - 1 and s < 2
                    venue.seats.append(
                        SeatRec(
                            new_id(rng),
                            index,
                            row_name(r),
                            s + 1,
                            x + s * SEAT_PITCH,
                            y + r * ROW_PITCH,
                            accessible,
                        )
                    )
            x += per_row * SEAT_PITCH + SECTION_GAP
            depth = max(depth, rows * ROW_PITCH)
        y += depth + TIER_GAP
    candidates = [
        i
        for i, seat in enumerate(venue.seats)
        if not seat.accessible
        and venue.sections[seat.section].section_type in ("general", "premium")
    ]
    for i in rng.sample(candidates, rng.randint(2, 4)):
        venue.seats[i].blocked = rng.choice(BLOCK_REASONS)
    for index, section in enumerate(venue.sections):
        seats = venue.seats[
            section.first_seat : section.first_seat + section.rows * section.per_row
        ]
        section.sellable = sum(1 for s in seats if s.blocked is None)
        assert all(s.section == index for s in seats)


def tables(world: World) -> Iterator[TableLoad]:
    """venues (capacity from the sales plan), venue_sections, venue_seats."""
    yield _venues(world)
    yield _sections(world)
    yield _seats(world)


def _venues(world: World) -> TableLoad:
    rng, pools = world.rng, world.pools

    def rows():
        for v in world.venues:
            c = v.city
            slug = v.slug
            yield (
                v.id,
                v.name,
                slug,
                f"{v.name} hosts runway shows, presentations and parties during "
                f"{c.name} Fashion Week. {rng.choice(pools.sentences)}",
                rng.choice(pools.streets),
                c.name,
                c.state,
                c.country,
                c.postal_code,
                f"{c.latitude + rng.uniform(-0.05, 0.05):.6f}",
                f"{c.longitude + rng.uniform(-0.05, 0.05):.6f}",
                v.capacity,
                f"https://cdn.fashionistas.example/venues/{slug}/floor-plan.pdf",
                Jsonb(
                    [f"https://cdn.fashionistas.example/venues/{slug}/{n}.jpg" for n in (1, 2, 3)]
                ),
                Jsonb(
                    {
                        "wifi": True,
                        "cloakroom": True,
                        "backstage_rooms": rng.randint(2, 8),
                        "catering": rng.random() < 0.7,
                        "parking_spaces": rng.choice((0, 20, 60, 150)),
                    }
                ),
                ["wheelchair", "step_free_access", "accessible_toilets"]
                if v.layout != "runway"
                else ["wheelchair", "step_free_access"],
                rng.choice(pools.first_names) + " " + rng.choice(pools.last_names),
                f"events@{slug}.example.com",
                rng.choice(pools.phones),
                f"https://{slug}.example.com",
                v.status,
                Jsonb({"layout": v.layout, "seats": len(v.seats)}),
                ts_text(v.created),
                ts_text(v.created + 30 * DAY),
            )

    return TableLoad(
        "venues",
        (
            "id", "name", "slug", "description", "address", "city", "state", "country",
            "postal_code", "latitude", "longitude", "capacity", "floor_plan_url", "images",
            "facilities", "accessibility_features", "contact_name", "contact_email",
            "contact_phone", "website", "status", "meta_data", "created_at", "updated_at",
        ),
        rows(),
        len(world.venues),
    )  # fmt: skip


def _sections(world: World) -> TableLoad:
    def rows():
        for v in world.venues:
            created = ts_text(v.created)
            for s in v.sections:
                yield (
                    s.id,
                    v.id,
                    s.name,
                    f"{s.rows} rows of {s.per_row} seats",
                    s.rows * s.per_row,
                    s.section_type,
                    s.multiplier,
                    Jsonb(
                        {
                            "x": s.x,
                            "y": s.y,
                            "width": s.per_row * SEAT_PITCH,
                            "height": s.rows * ROW_PITCH,
                        }
                    ),
                    s.section_type == "general",
                    created,
                    created,
                )

    return TableLoad(
        "venue_sections",
        (
            "id", "venue_id", "name", "description", "capacity", "section_type",
            "price_multiplier", "coordinates", "accessibility", "created_at", "updated_at",
        ),
        rows(),
        section_count(len(world.venues)),
    )  # fmt: skip


def _seats(world: World) -> TableLoad:
    wheelchair = ["wheelchair"]

    def rows():
        for v in world.venues:
            created = ts_text(v.created)
            sections = v.sections
            for seat in v.seats:
                status, notes = seat.blocked or ("available", None)
                yield (
                    seat.id,
                    sections[seat.section].id,
                    seat.row_name,
                    str(seat.number),
                    status,
                    seat.x,
                    seat.y,
                    seat.accessible,
                    wheelchair if seat.accessible else None,
                    notes,
                    created,
                    created,
                )

    return TableLoad(
        "venue_seats",
        (
            "id", "section_id", "row_name", "seat_number", "status", "x", "y", "is_accessible",
            "accessibility_features", "notes", "created_at", "updated_at",
        ),
        rows(),
        sum(len(v.seats) for v in world.venues),
    )  # fmt: skip
