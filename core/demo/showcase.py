"""Designers, their collections and pieces, models, runway shows and collaborations."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, MINUTE, to_datetime, ts_text
from core.demo.events import TYPE_SHARES, EventRec, split
from core.demo.ids import new_id
from core.demo.vocab import (
    AGENCIES,
    BRAND_PATTERNS,
    COLORS,
    ITEM_TYPES,
    MATERIALS,
    SEASON_TITLES,
    SEASONS,
    SIZES,
    SPECIALTIES,
    THEMES,
)
from core.demo.world import World
from core.demo.writer import TableLoad

SHOWS_PER_FASHION_SHOW = 2
SEGMENTS = (
    ("Opening", "Strings, slowed down", "Cold white wash"),
    ("Main collection", "Minimal techno", "Warm amber, follow spots"),
    ("Finale", "Orchestral swell", "Full stage, strobes on the last walk"),
)
LOOKS_PER_SEGMENT = (4, 8)
DESIGNER_STATUSES = (("active", 80), ("pending", 10), ("inactive", 5), ("rejected", 5))
COLLECTION_STATUSES = (("published", 60), ("draft", 20), ("archived", 20))


@dataclass
class CollectionRec:
    id: str
    name: str
    season: str
    year: int
    status: str
    created: int
    event: EventRec | None = None
    items: list[str] = field(default_factory=list)


@dataclass
class DesignerRec:
    id: str
    name: str
    brand: str
    user_id: str | None
    status: str
    created: int
    collections: list[CollectionRec] = field(default_factory=list)


@dataclass
class ShowRec:
    id: str
    collection: CollectionRec
    event: EventRec
    start: int
    segments: list[str] = field(default_factory=list)


def show_count(n_events: int) -> int:
    """Runway shows across n events: a fixed number per fashion-show event."""
    return split(n_events, TYPE_SHARES)["fashion_show"] * SHOWS_PER_FASHION_SHOW


def _weighted(world: World, table: tuple[tuple[str, int], ...]) -> str:
    return world.rng.choices([v for v, _ in table], [w for _, w in table])[0]


def plan(world: World) -> None:
    """Designers (most with an account) and their collections; shows for fashion-show events."""
    rng, pools, t0, scale = world.rng, world.pools, world.clock.t0, world.scale
    year = to_datetime(t0).year
    accounts = world.users_by_type["designer"]
    for i in range(len(accounts) + scale.designers_without_account):
        user = accounts[i] if i < len(accounts) else None
        last = pools.last_names[rng.randrange(len(pools.last_names))]
        name = user.full_name if user else f"{rng.choice(pools.first_names)} {last}"
        designer = DesignerRec(
            new_id(rng),
            name,
            rng.choice(BRAND_PATTERNS).format(name.split()[-1]),
            None if user is None else user.id,
            _weighted(world, DESIGNER_STATUSES),
            (user.created if user else t0 - rng.randint(100, 900) * DAY) + DAY,
        )
        for _ in range(scale.collections_per_designer):
            season = rng.choice(SEASONS)
            theme = rng.choice(THEMES)
            collection = CollectionRec(
                new_id(rng),
                f"{theme} {SEASON_TITLES[season]}",
                season,
                year + rng.choice((-1, 0, 0, 1)),
                _weighted(world, COLLECTION_STATUSES),
                designer.created + rng.randint(10, 90) * DAY,
            )
            collection.created = min(collection.created, t0 - DAY)
            collection.items = [new_id(rng) for _ in range(scale.items_per_collection)]
            designer.collections.append(collection)
        world.designers.append(designer)
    world.extras["models"] = _plan_models(world)
    world.extras["shows"] = _plan_shows(world)


def _plan_models(world: World) -> list[tuple[str, str, str | None, int]]:
    rng, pools = world.rng, world.pools
    accounts = world.users_by_type["model"]
    models = []
    for i in range(len(accounts) + world.scale.models_without_account):
        user = accounts[i] if i < len(accounts) else None
        name = (
            user.full_name
            if user
            else f"{rng.choice(pools.first_names)} {rng.choice(pools.last_names)}"
        )
        created = user.created if user else world.clock.t0 - rng.randint(60, 900) * DAY
        models.append((new_id(rng), name, None if user is None else user.id, created))
    world.model_ids = [m[0] for m in models]
    return models


def _plan_shows(world: World) -> list[ShowRec]:
    """Each fashion-show event presents collections, published ones first."""
    rng = world.rng
    collections = [c for d in world.designers for c in d.collections]
    rng.shuffle(collections)
    collections.sort(key=lambda c: c.status != "published")
    pool = iter(collections * SHOWS_PER_FASHION_SHOW * len(world.events))
    shows = []
    for event in world.events:
        if event.type != "fashion_show":
            continue
        start = event.start + 30 * MINUTE
        for _ in range(SHOWS_PER_FASHION_SHOW):
            collection = next(pool)
            collection.event = collection.event or event
            shows.append(ShowRec(new_id(rng), collection, event, start))
            start += 50 * MINUTE
    return shows


def tables(world: World) -> Iterator[TableLoad]:
    """Designers, models, collections, pieces and images, shows, collaborations."""
    yield _designers(world)
    yield _models(world)
    yield _collections(world)
    yield _items(world)
    yield _images(world)
    yield from _shows(world)
    yield from _collaborations(world)


def _designers(world: World) -> TableLoad:
    rng, pools = world.rng, world.pools

    def rows():
        for d in world.designers:
            slug = world.slug("designers", d.name)
            city = rng.choice(("Paris", "Milan", "New York", "London", "Tokyo", "Copenhagen"))
            yield (
                d.id,
                d.user_id,
                d.name,
                slug,
                d.brand,
                rng.choice(SPECIALTIES),
                f"{d.name} founded {d.brand} in {city}. {rng.choice(pools.paragraphs)}",
                f"https://{slug}.example.com",
                Jsonb(
                    {
                        "instagram": f"@{slug.replace('-', '')}",
                        "tiktok": f"@{slug.replace('-', '.')}",
                    }
                ),
                f"studio@{slug}.example.com",
                rng.choice(pools.phones),
                f"https://cdn.fashionistas.example/designers/{slug}/portrait.jpg",
                f"https://cdn.fashionistas.example/designers/{slug}/cover.jpg",
                d.status == "active" and rng.random() < 0.2,
                d.status == "active" and rng.random() < 0.6,
                d.status,
                rng.randint(1, 30),
                Jsonb(
                    [{"name": "Emerging Designer Prize", "year": 2015 + rng.randrange(10)}]
                    if rng.random() < 0.3
                    else []
                ),
                Jsonb(
                    [{"outlet": rng.choice(("Vogue", "WWD", "Elle", "i-D")), "year": 2024}]
                    if rng.random() < 0.4
                    else []
                ),
                Jsonb({"city": city}),
                ts_text(d.created),
                ts_text(d.created + 10 * DAY),
            )

    return TableLoad(
        "designers",
        (
            "id", "user_id", "name", "slug", "brand_name", "specialty", "bio", "website_url",
            "social_media", "contact_email", "contact_phone", "profile_image_url",
            "cover_image_url", "is_featured", "is_verified", "status", "years_active", "awards",
            "press_mentions", "location", "created_at", "updated_at",
        ),
        rows(),
        len(world.designers),
    )  # fmt: skip


def _models(world: World) -> TableLoad:
    rng, pools = world.rng, world.pools

    def rows():
        for model_id, name, user_id, created in world.extras["models"]:
            slug = world.slug("models", name)
            height = rng.randint(170, 192)
            yield (
                model_id,
                user_id,
                name,
                slug,
                rng.choice(AGENCIES),
                f"{height} cm",
                Jsonb(
                    {
                        "height_cm": height,
                        "bust_cm": rng.randint(78, 92),
                        "waist_cm": rng.randint(58, 70),
                        "hips_cm": rng.randint(84, 96),
                        "shoe_eu": rng.randint(37, 44),
                    }
                ),
                rng.choice(pools.sentences),
                f"https://cdn.fashionistas.example/models/{slug}.jpg",
                f"https://portfolio.example.com/{slug}",
                Jsonb({"instagram": f"@{slug.replace('-', '')}"}),
                rng.random() < 0.1,
                "active" if rng.random() < 0.9 else "inactive",
                ts_text(created),
                ts_text(created),
            )

    return TableLoad(
        "models",
        (
            "id", "user_id", "name", "slug", "agency", "height", "measurements", "bio",
            "profile_image_url", "portfolio_url", "social_media", "is_featured", "status",
            "created_at", "updated_at",
        ),
        rows(),
        len(world.extras["models"]),
    )  # fmt: skip


def _collections(world: World) -> TableLoad:
    rng, pools = world.rng, world.pools

    def rows():
        for d in world.designers:
            for c in d.collections:
                slug = world.slug("collections", f"{d.brand} {c.name} {c.year}")
                released = c.event.start if c.event else c.created + 30 * DAY
                palette = rng.sample(COLORS, 4)
                yield (
                    c.id,
                    d.id,
                    c.name,
                    slug,
                    f"{d.brand} presents {c.name}. {rng.choice(pools.sentences)}",
                    c.season,
                    c.year,
                    ts_text(released) if c.status != "draft" else None,
                    c.status == "published" and rng.random() < 0.2,
                    c.status,
                    f"https://cdn.fashionistas.example/collections/{slug}/cover.jpg",
                    rng.choice(pools.sentences),
                    Jsonb([{"name": n, "hex": h} for n, h in palette]),
                    Jsonb(rng.sample(MATERIALS, 3)),
                    rng.choice(pools.sentences) if c.event else None,
                    None if c.event is None else c.event.id,
                    ts_text(c.created),
                    ts_text(c.created + DAY),
                )

    return TableLoad(
        "collections",
        (
            "id", "designer_id", "name", "slug", "description", "season", "year",
            "release_date", "is_featured", "status", "cover_image_url", "inspiration",
            "color_palette", "materials", "show_notes", "event_id", "created_at", "updated_at",
        ),
        rows(),
        sum(len(d.collections) for d in world.designers),
    )  # fmt: skip


def _items(world: World) -> TableLoad:
    rng = world.rng

    def rows():
        for d in world.designers:
            for c in d.collections:
                created = ts_text(c.created + DAY)
                for order, item_id in enumerate(c.items, start=1):
                    kind, names = ITEM_TYPES[rng.randrange(len(ITEM_TYPES))]
                    low = rng.randint(8, 60) * 10
                    colors = rng.sample(COLORS, rng.randint(1, 3))
                    yield (
                        item_id,
                        c.id,
                        f"{colors[0][0]} {rng.choice(names)}",
                        f"Look {order} of {c.name}.",
                        kind,
                        Jsonb(rng.sample(MATERIALS, rng.randint(1, 3))),
                        Jsonb([n for n, _ in colors]),
                        Jsonb(
                            list(SIZES[1:6])
                            if kind not in ("footwear", "accessory")
                            else ["One size"]
                        ),
                        Jsonb({"min": low, "max": low * rng.randint(2, 4), "currency": "USD"}),
                        rng.random() < 0.1,
                        order,
                        created,
                        created,
                    )

    return TableLoad(
        "fashion_items",
        (
            "id", "collection_id", "name", "description", "item_type", "materials", "colors",
            "sizes", "price_range", "is_featured", "display_order", "created_at", "updated_at",
        ),
        rows(),
        sum(len(c.items) for d in world.designers for c in d.collections),
    )  # fmt: skip


def _look_image(item_id: str, n: int) -> str:
    """A small SVG placeholder as a data URL: demo galleries render with no network (the
    machine may be offline), each piece in its own colour."""
    hue = int(item_id[:6], 16) % 360
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="400">'
        f'<rect width="300" height="400" fill="hsl({hue},45%,{72 - 12 * (n % 2)}%)"/>'
        f'<path d="M120 80h60l20 60-25 10 15 170h-100l15-170-25-10z" fill="hsl({hue},35%,30%)"/>'
        f'<text x="150" y="370" font-family="sans-serif" font-size="20" fill="#fff"'
        f' text-anchor="middle">look detail {n + 1}</text></svg>'
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _images(world: World) -> TableLoad:
    rng = world.rng
    per_item = world.scale.images_per_item

    def rows():
        for d in world.designers:
            for c in d.collections:
                created = ts_text(c.created + 2 * DAY)
                for item_id in c.items:
                    for n in range(per_item):
                        yield (
                            new_id(rng),
                            item_id,
                            _look_image(item_id, n),
                            f"{c.name}, look detail {n + 1}",
                            n,
                            n == 0,  # exactly one primary image per item
                            created,
                            created,
                        )

    return TableLoad(
        "fashion_item_images",
        (
            "id", "fashion_item_id", "image_url", "alt_text", "display_order", "is_primary",
            "created_at", "updated_at",
        ),
        rows(),
        per_item * sum(len(c.items) for d in world.designers for c in d.collections),
    )  # fmt: skip


def _shows(world: World) -> Iterator[TableLoad]:
    rng, t0 = world.rng, world.clock.t0
    shows: list[ShowRec] = world.extras["shows"]
    rows = []
    for s in shows:
        e = s.event
        status = {"completed": "completed", "cancelled": "cancelled"}.get(e.status, "scheduled")
        capacity = len(e.venue.seats)
        rows.append(
            (
                s.id,
                s.collection.id,
                e.id,
                e.venue.id,
                ts_text(s.start),
                40,
                status,
                capacity,
                int(capacity * rng.uniform(0.8, 1.0)) if status == "completed" else None,
                f"https://video.fashionistas.example/shows/{s.id[:8]}"
                if status == "completed"
                else None,
                f"https://live.fashionistas.example/{e.slug}" if e.start > t0 else None,
                None,
                ts_text(e.created + DAY),
                ts_text(e.created + DAY),
            )
        )
    yield TableLoad(
        "runway_shows",
        (
            "id", "collection_id", "event_id", "venue_id", "show_date", "duration_minutes",
            "status", "capacity", "attendance", "video_url", "livestream_url", "notes",
            "created_at", "updated_at",
        ),
        rows,
    )  # fmt: skip
    segments = []
    for s in shows:
        at = s.start
        for order, (name, music, lights) in enumerate(SEGMENTS, start=1):
            segment_id = new_id(rng)
            s.segments.append(segment_id)
            minutes = 15 if order == 2 else 10
            created = ts_text(s.event.created + DAY)
            segments.append(
                (segment_id, s.id, name, f"{name} of {s.collection.name}", ts_text(at), minutes,
                 order, s.collection.name, music, lights, created, created)
            )  # fmt: skip
            at += minutes * MINUTE
    yield TableLoad(
        "runway_segments",
        (
            "id", "runway_show_id", "name", "description", "start_time", "duration_minutes",
            "segment_order", "theme", "music", "lighting_notes", "created_at", "updated_at",
        ),
        segments,
    )  # fmt: skip
    models = world.model_ids

    def appearances():
        for s in shows:
            items = s.collection.items
            look = 0
            created = ts_text(s.event.created + 2 * DAY)
            for segment_id in s.segments:
                n = rng.randint(*LOOKS_PER_SEGMENT)
                for order, model_id in enumerate(rng.sample(models, min(n, len(models))), start=1):
                    yield (
                        new_id(rng),
                        segment_id,
                        model_id,
                        items[look % len(items)],
                        order,
                        None,
                        created,
                        created,
                    )
                    look += 1

    yield TableLoad(
        "runway_appearances",
        (
            "id", "runway_segment_id", "model_id", "fashion_item_id", "appearance_order",
            "notes", "created_at", "updated_at",
        ),
        appearances(),
    )  # fmt: skip


def _collaborations(world: World) -> Iterator[TableLoad]:
    rng, t0 = world.rng, world.clock.t0
    collaborations, participants = [], []
    for _ in range(world.scale.collaborations):
        start = t0 + rng.randint(-400, 120) * DAY
        end = start + rng.randint(30, 240) * DAY
        status = "planned" if start > t0 else "completed" if end < t0 else "active"
        if rng.random() < 0.1:
            status = "cancelled"
        members = rng.sample(world.designers, min(len(world.designers), rng.randint(2, 3)))
        name = f"{members[0].brand} x {members[1].brand}"
        collaboration_id = new_id(rng)
        created = ts_text(min(start, t0) - 30 * DAY)
        collaborations.append(
            (collaboration_id, name, f"A capsule collection by {name}.", ts_text(start),
             ts_text(end), status, created, created)
        )  # fmt: skip
        for n, d in enumerate(members):
            participants.append(
                (new_id(rng), collaboration_id, d.id, "lead" if n == 0 else "co-designer", created)
            )
    yield TableLoad(
        "designer_collaborations",
        (
            "id",
            "name",
            "description",
            "start_date",
            "end_date",
            "status",
            "created_at",
            "updated_at",
        ),
        collaborations,
    )
    yield TableLoad(
        "designer_collaboration_participants",
        ("id", "collaboration_id", "designer_id", "role", "created_at"),
        participants,
    )
