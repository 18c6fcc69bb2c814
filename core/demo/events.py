"""Events around the anchor (past and upcoming), their agendas and categories."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, MINUTE, to_datetime, ts_or_none, ts_text
from core.demo.ids import new_id
from core.demo.money import rate_text
from core.demo.vocab import SEASON_TITLES, THEMES
from core.demo.world import World
from core.demo.writer import TableLoad

if TYPE_CHECKING:
    from core.demo.tickets import TicketTypeRec
    from core.demo.venues import VenueRec

# Shares of events by type and by status; counts are split by largest remainder.
TYPE_SHARES = (
    ("fashion_show", 0.35),
    ("exhibition", 0.15),
    ("workshop", 0.15),
    ("conference", 0.10),
    ("party", 0.15),
    ("networking", 0.10),
)
STATUS_SHARES = (
    ("completed", 0.30),
    ("published", 0.50),
    ("draft", 0.08),
    ("cancelled", 0.06),
    ("postponed", 0.06),
)
# Events of these types sell numbered seats; the others sell admission only.
SEATED_TYPES = ("fashion_show", "conference", "workshop")
# Events of these statuses went on sale.
SELLING_STATUSES = ("published", "completed", "cancelled", "postponed")

# Agenda per type: (title, minutes, is_break, has_speaker).
AGENDAS = {
    "fashion_show": (
        ("Doors open and welcome drinks", 30, False, False),
        ("Runway show", 45, False, False),
        ("Intermission", 15, True, False),
        ("Designer conversation", 20, False, True),
    ),
    "exhibition": (
        ("Opening preview", 120, False, False),
        ("Curator-led tour", 60, False, True),
        ("Lunch break", 60, True, False),
        ("Panel: the archive as inspiration", 90, False, True),
        ("Closing remarks", 30, False, True),
    ),
    "workshop": (
        ("Welcome and introductions", 15, False, True),
        ("Demonstration", 45, False, True),
        ("Coffee break", 15, True, False),
        ("Hands-on session", 75, False, True),
        ("Review and Q&A", 30, False, True),
    ),
    "conference": (
        ("Registration", 60, False, False),
        ("Opening keynote", 45, False, True),
        ("Panel: the business of fashion", 60, False, True),
        ("Lunch", 60, True, False),
        ("Breakout sessions", 90, False, True),
        ("Coffee break", 30, True, False),
        ("Fireside chat", 45, False, True),
        ("Closing keynote", 45, False, True),
        ("Networking drinks", 60, False, False),
    ),
    "party": (
        ("Arrivals and red carpet", 60, False, False),
        ("DJ set", 120, False, False),
        ("Live performance", 30, False, True),
        ("Late-night DJ set", 90, False, False),
    ),
    "networking": (
        ("Check-in", 20, False, False),
        ("Speed networking", 60, False, False),
        ("Break", 15, True, False),
        ("Roundtables", 60, False, True),
        ("Drinks", 25, False, False),
    ),
}
# (start hour UTC, duration in minutes)
TIMING = {
    "fashion_show": (18, 120),
    "exhibition": (9, 2 * 24 * 60 + 9 * 60),
    "workshop": (14, 180),
    "conference": (8, 540),
    "party": (20, 300),
    "networking": (8, 180),
}
TITLES = {
    "fashion_show": (
        "{city} Fashion Week: {theme}",
        "{theme} {season} {year} Runway",
        "{theme}: The {city} Show",
    ),
    "exhibition": (
        "{theme}: A Fashion Retrospective",
        "{city} Textile and Design Expo",
        "The {theme} Wardrobe",
    ),
    "workshop": (
        "Draping Masterclass: {theme}",
        "Sustainable Sourcing Workshop",
        "Pattern Cutting Lab",
        "Styling for Editorial",
    ),
    "conference": (
        "{city} Fashion Business Summit {year}",
        "Future of Fashion Tech",
        "Circular Fashion Forum",
    ),
    "party": ("{season} Launch Party", "{theme} Night", "Fashion Week Afterparty {city}"),
    "networking": (
        "Designers and Buyers Breakfast",
        "Emerging Talent Mixer",
        "Press and Creators Meetup",
    ),
}
# (name, parent); parents come first.
CATEGORIES = (
    ("Runway", None),
    ("Couture", "Runway"),
    ("Ready-to-Wear", "Runway"),
    ("Menswear", "Runway"),
    ("Exhibitions", None),
    ("Industry", None),
    ("Conferences", "Industry"),
    ("Workshops", "Industry"),
    ("Social", None),
    ("Parties", "Social"),
    ("Networking", "Social"),
    ("Sustainability", None),
)
PRIMARY_CATEGORIES = {
    "fashion_show": ("Couture", "Ready-to-Wear", "Menswear"),
    "exhibition": ("Exhibitions",),
    "workshop": ("Workshops",),
    "conference": ("Conferences",),
    "party": ("Parties",),
    "networking": ("Networking",),
}


@dataclass
class EventRec:
    id: str
    index: int
    title: str
    slug: str
    type: str
    status: str
    venue: VenueRec
    organizer_id: str
    start: int
    end: int
    created: int
    published: int | None
    sale_start: int
    sale_end: int
    # Orders are placed until this moment (sale end, the anchor, or the cancellation).
    sales_until: int
    cancelled_at: int | None
    tax_e4: int
    featured: bool
    theme: str
    categories: list[str] = field(default_factory=list)
    ticket_types: list[TicketTypeRec] = field(default_factory=list)
    capacity: int = 0
    attendance: int = 0
    orders: int = 0
    sales_seed: int = 0

    @property
    def seated(self) -> bool:
        return self.type in SEATED_TYPES

    @property
    def on_sale(self) -> bool:
        return self.status in SELLING_STATUSES and self.sales_until > self.sale_start


def split(total: int, shares: tuple[tuple[str, float], ...]) -> dict[str, int]:
    """Split `total` by shares with the largest-remainder method (exact, deterministic)."""
    raw = [(name, total * share) for name, share in shares]
    counts = {name: int(value) for name, value in raw}
    left = total - sum(counts.values())
    by_remainder = sorted(raw, key=lambda item: (-(item[1] - int(item[1])), item[0]))
    for name, _ in by_remainder[:left]:
        counts[name] += 1
    return counts


def schedule_count(n_events: int) -> int:
    """Agenda items across n events (types by quota, one agenda per type)."""
    counts = split(n_events, TYPE_SHARES)
    return sum(counts[t] * len(AGENDAS[t]) for t in counts)


def plan(world: World) -> None:
    """Events with types and statuses by quota, dated around the anchor."""
    rng, clock, scale = world.rng, world.clock, world.scale
    types = [t for t, n in split(scale.events, TYPE_SHARES).items() for _ in range(n)]
    statuses = [s for s, n in split(scale.events, STATUS_SHARES).items() for _ in range(n)]
    rng.shuffle(types)
    rng.shuffle(statuses)
    venues = [v for v in world.venues if v.status == "active"]
    organizers = world.users_by_type["organizer"]
    history, future = scale.history_days, scale.future_days
    for index, (kind, status) in enumerate(zip(types, statuses, strict=True)):
        if status == "completed":
            day = rng.randint(-(history - 7), -2)
        elif status == "published":
            day = rng.randint(2, future)
        elif status == "draft":
            day = rng.randint(min(30, future), future)
        elif status == "postponed":
            day = rng.randint(min(20, future), future)
        else:
            day = rng.randint(-history // 2, future // 2)
        hour, minutes = TIMING[kind]
        start = clock.t0 + day * DAY + hour * HOUR + rng.choice((0, 30)) * MINUTE
        end = start + minutes * MINUTE
        sale_start = start - rng.randint(45, 120) * DAY - rng.randrange(12) * HOUR
        sale_end = start
        created = min(sale_start - rng.randint(7, 60) * DAY, clock.t0 - rng.randint(1, 30) * DAY)
        published = None
        if status != "draft":
            published = min(created + rng.randint(1, 5) * DAY, clock.t0 - HOUR)
        # An hour's margin keeps every order and its payment before the anchor.
        sales_until = min(sale_end, clock.t0 - HOUR)
        cancelled_at = None
        if status == "cancelled":
            # Called off part-way through the sale, or just before the anchor if not yet on sale.
            if sales_until > sale_start:
                cancelled_at = sale_start + int((sales_until - sale_start) * rng.uniform(0.5, 0.9))
            else:
                cancelled_at = max(published or created, clock.t0 - 2 * DAY) + HOUR
            sales_until = min(sales_until, cancelled_at)
        venue = rng.choice(venues)
        theme = rng.choice(THEMES)
        season = rng.choice(tuple(SEASON_TITLES.values()))
        title = rng.choice(TITLES[kind]).format(
            city=venue.city.name, theme=theme, season=season, year=to_datetime(start).year
        )
        event = EventRec(
            id=new_id(rng),
            index=index,
            title=title,
            slug=world.slug("events", f"{title} {venue.city.name}"),
            type=kind,
            status=status,
            venue=venue,
            organizer_id=rng.choice(organizers).id,
            start=start,
            end=end,
            created=created,
            published=published,
            sale_start=sale_start,
            sale_end=sale_end,
            sales_until=sales_until,
            cancelled_at=cancelled_at,
            tax_e4=venue.city.tax_e4,
            featured=rng.random() < 0.12,
            theme=theme,
            sales_seed=rng.getrandbits(64),
        )
        event.categories.append(rng.choice(PRIMARY_CATEGORIES[kind]))
        if rng.random() < 0.3:
            event.categories.append("Sustainability")
        world.events.append(event)
    for name, _ in CATEGORIES:
        world.category_ids[name] = new_id(rng)


def tables(world: World) -> Iterator[TableLoad]:
    """Categories, events, their category mappings and agendas (events need the sales plan)."""
    yield _categories(world)
    yield _events(world)
    rng = world.rng
    yield TableLoad(
        "event_category_mappings",
        ("id", "event_id", "category_id", "created_at"),
        [
            (new_id(rng), e.id, world.category_ids[name], ts_text(e.created))
            for e in world.events
            for name in e.categories
        ],
    )
    yield _schedules(world)


def _categories(world: World) -> TableLoad:
    created = ts_text(world.clock.t0 - 900 * DAY)
    palette = ("#1F1F1F", "#C8A2C8", "#B7410E", "#0047AB", "#9CAF88", "#DE5D83")
    rows = [
        (
            world.category_ids[name],
            name,
            world.slug("event_categories", name),
            f"Events in the {name.lower()} category.",
            world.category_ids[parent] if parent else None,
            name.lower().replace(" ", "-").replace("&", "and"),
            palette[i % len(palette)],
            i,
            created,
            created,
        )
        for i, (name, parent) in enumerate(CATEGORIES)
    ]
    return TableLoad(
        "event_categories",
        (
            "id", "name", "slug", "description", "parent_id", "icon", "color", "order_index",
            "created_at", "updated_at",
        ),
        rows,
    )  # fmt: skip


def _events(world: World) -> TableLoad:
    rng, pools = world.rng, world.pools

    def rows():
        for e in world.events:
            city = e.venue.city.name
            tags = [e.type.replace("_", "-"), city.lower().replace(" ", "-"), e.theme.lower()]
            meta = {
                "theme": e.theme,
                "dress_code": rng.choice(("black tie", "cocktail", "smart casual", "creative")),
            }
            if e.status == "postponed":
                meta["original_start"] = ts_text(e.start - rng.randint(14, 60) * DAY)
            if e.cancelled_at is not None:
                meta["cancelled_at"] = ts_text(e.cancelled_at)
                meta["cancellation_reason"] = rng.choice(
                    ("venue unavailable", "designer withdrew", "low demand", "safety review")
                )
            last_change = e.cancelled_at or e.published or e.created
            yield (
                e.id,
                e.organizer_id,
                e.title,
                e.slug,
                f"{e.title} at {e.venue.name}. {rng.choice(pools.paragraphs)}",
                f"{e.type.replace('_', ' ').capitalize()} in {city}: {e.theme.lower()}.",
                ts_text(e.start),
                ts_text(e.end),
                e.venue.id,
                e.status,
                e.capacity,
                e.attendance,
                e.type,
                e.categories[0],
                tags,
                e.featured,
                f"https://cdn.fashionistas.example/events/{e.slug}/cover.jpg",
                Jsonb(
                    [
                        f"https://cdn.fashionistas.example/events/{e.slug}/{n}.jpg"
                        for n in (1, 2, 3, 4)
                    ]
                ),
                f"https://tickets.fashionistas.example/e/{e.slug}",
                None,
                f"{e.title} | {city} Fashion Week",
                f"Tickets for {e.title} in {city}.",
                ["fashion week", city.lower(), e.type.replace("_", " ")],
                ts_or_none(e.published),
                Jsonb(meta),
                rate_text(e.tax_e4),
                ts_text(e.created),
                ts_text(last_change),
            )

    return TableLoad(
        "events",
        (
            "id", "organizer_id", "title", "slug", "description", "short_description",
            "start_date", "end_date", "venue_id", "status", "capacity", "current_attendance",
            "type", "category", "tags", "featured", "featured_image_url", "gallery_images",
            "ticket_url", "external_url", "seo_title", "seo_description", "seo_keywords",
            "published_at", "meta_data", "tax_rate", "created_at", "updated_at",
        ),
        rows(),
        len(world.events),
    )  # fmt: skip


def _schedules(world: World) -> TableLoad:
    rng = world.rng
    speakers = world.users_by_type["designer"] + world.users_by_type["organizer"]

    def rows():
        for e in world.events:
            at = e.start
            for order, (title, minutes, is_break, has_speaker) in enumerate(AGENDAS[e.type]):
                end = at + minutes * MINUTE
                yield (
                    new_id(rng),
                    e.id,
                    title,
                    None if is_break else f"{title} — {e.theme}.",
                    rng.choice(speakers).id if has_speaker else None,
                    ts_text(at),
                    ts_text(end),
                    "Foyer" if is_break else e.venue.name,
                    "break" if is_break else ("talk" if has_speaker else "session"),
                    order,
                    is_break,
                    ts_text(e.created),
                    ts_text(e.created),
                )
                at = end

    return TableLoad(
        "event_schedules",
        (
            "id", "event_id", "title", "description", "speaker_id", "start_time", "end_time",
            "location", "type", "order_index", "is_break", "created_at", "updated_at",
        ),
        rows(),
        schedule_count(len(world.events)),
    )  # fmt: skip
