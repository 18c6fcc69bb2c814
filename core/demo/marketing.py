"""Marketing campaigns and their assets, e-mails, social posts, promo codes and segments."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, day_text, ts_or_none, ts_text
from core.demo.events import EventRec
from core.demo.ids import UniqueNames, new_id
from core.demo.money import money
from core.demo.tickets import CodeRec
from core.demo.vocab import CITIES, INTERESTS, MARKETING_CHANNELS, SOCIAL_PLATFORMS
from core.demo.world import World
from core.demo.writer import TableLoad

CAMPAIGN_KINDS = ("Launch", "Early bird", "Influencer push", "Retargeting", "Last call")
CHANNEL_NAMES = tuple(name for name, _ in MARKETING_CHANNELS)
SOCIAL_CHANNELS = ("instagram", "facebook", "tiktok", "pinterest", "organic_social", "youtube")
TEMPLATES = ("tpl-launch", "tpl-reminder", "tpl-editorial")
ASSET_KINDS = (
    ("Hero image", "image", "2400x1350", None),
    ("Story video", "video", "1080x1920", "00:00:15"),
    ("Press kit", "document", None, None),
    ("Radio spot", "audio", None, "00:00:30"),
    ("Banner set", "image", "728x90", None),
)
# Static and imported segments list their members; dynamic ones are a saved filter.
SEGMENT_CYCLE = ("static", "dynamic", "static", "dynamic", "imported", "dynamic")


@dataclass(slots=True)
class EmailRec:
    id: str
    subject: str
    scheduled: int
    sent: int | None
    audience: int


@dataclass(slots=True)
class PostRec:
    id: str
    platform: str
    scheduled: int
    published: int | None
    status: str


@dataclass
class CampaignRec:
    id: str
    name: str
    event: EventRec | None
    first_day: int
    last_day: int
    status: str
    budget: int
    channels: list[str]
    created_by: str
    emails: list[EmailRec] = field(default_factory=list)
    posts: list[PostRec] = field(default_factory=list)


def plan(world: World) -> None:
    """Brand campaigns over the whole window, and campaigns for each event's sale."""
    rng, clock, scale = world.rng, world.clock, world.scale
    marketers = world.users_by_type["marketing"]
    today = clock.today
    for i in range(scale.brand_campaigns):
        first = clock.first_day - rng.randint(0, 60)
        city = CITIES[i % len(CITIES)].name
        name = f"{city} brand awareness {i // len(CITIES) + 1}"
        _campaign(world, name, None, first, today + rng.randint(30, 180))
    for e in world.events:
        if e.status == "draft":
            continue
        kinds = rng.sample(
            CAMPAIGN_KINDS, min(len(CAMPAIGN_KINDS), rng.randint(*scale.campaigns_per_event))
        )
        for kind in kinds:
            # Teasers start before the sale; recaps run a week past the event.
            first = e.sale_start // DAY - rng.randint(0, 60)
            _campaign(world, f"{e.title}: {kind}", e, first, e.end // DAY + 7)
    codes = UniqueNames()
    for n, c in enumerate(world.campaigns):
        if c.event is None and n >= 2:
            continue
        if c.event is not None and rng.random() > 0.4:
            continue
        _promo_code(world, c, codes, rng.choice(marketers).id)


def _campaign(world: World, name: str, event: EventRec | None, first: int, last: int) -> None:
    rng, clock = world.rng, world.clock
    today = clock.today
    if event is not None and event.status == "cancelled":
        status = "cancelled"
    elif last < today:
        status = "completed"
    elif first > today:
        status = "scheduled"
    else:
        status = "paused" if rng.random() < 0.1 else "active"
    channels = rng.sample(CHANNEL_NAMES, rng.randint(*world.scale.campaign_channels))
    campaign = CampaignRec(
        new_id(rng),
        name,
        event,
        first,
        last,
        status,
        rng.randint(20, 400) * 50_000,
        channels,
        rng.choice(world.users_by_type["marketing"]).id,
    )
    start, end = first * DAY, (last + 1) * DAY
    if "email" in channels:
        for n in range(rng.randint(1, 3)):
            at = start + int((end - start) * rng.random()) // HOUR * HOUR
            campaign.emails.append(
                EmailRec(
                    new_id(rng),
                    f"{name}: {('Tickets are live', 'Last chance', 'Backstage preview')[n]}",
                    at,
                    at if at < clock.t0 - DAY else None,
                    rng.randint(500, 50_000),
                )
            )
    if any(ch in SOCIAL_CHANNELS for ch in channels):
        for _ in range(rng.randint(*world.scale.posts_per_campaign)):
            at = start + int((end - start) * rng.random())
            if at >= clock.t0:
                status, published = ("scheduled", None) if rng.random() < 0.8 else ("draft", None)
            else:
                roll = rng.random()
                status, published = ("failed", None) if roll < 0.03 else ("published", at)
            campaign.posts.append(
                PostRec(new_id(rng), rng.choice(SOCIAL_PLATFORMS), at, published, status)
            )
    world.campaigns.append(campaign)


def _promo_code(world: World, c: CampaignRec, names: UniqueNames, creator: str) -> None:
    rng = world.rng
    kind = rng.choices(("percentage", "fixed_amount", "free_item"), (60, 30, 10))[0]
    value = {
        "percentage": rng.choice((10, 15, 20, 30)),
        "fixed_amount": rng.choice((500, 1_000, 1_500)),
        "free_item": 0,
    }[kind]
    word = rng.choice(("STYLE", "RUNWAY", "VOGUE", "CHIC", "LOOK", "GLAM", "MUSE"))
    restricted = None
    # The first event code is always limited to some ticket types, so every table has rows.
    first_event_code = not any(p.event_ids for p in world.promo_codes)
    if c.event is not None and (first_event_code or rng.random() < 0.3):
        restricted = frozenset(t.id for t in c.event.ticket_types if t.tier in ("premium", "vip"))
    world.promo_codes.append(
        CodeRec(
            id=new_id(rng),
            code=names.take(f"{word}{value if kind == 'percentage' else rng.randint(10, 99)}"),
            kind=kind,
            value=value,
            min_cents=0 if kind == "percentage" else 5_000,
            max_cents=5_000 if kind == "percentage" and rng.random() < 0.5 else None,
            start=c.first_day * DAY,
            end=(c.last_day + 1) * DAY,
            limit=None if c.event is None else rng.choice((None, 50, 100, 200, 1_000)),
            event_ids=[] if c.event is None else [c.event.id],
            ticket_type_ids=restricted,
            description=f"Promo code of {c.name}"
            + (" (free welcome drink)" if kind == "free_item" else ""),
            created_by=creator,
        )
    )
    world.extras.setdefault("promo_campaign", {})[world.promo_codes[-1].id] = c.id


def tables(world: World) -> Iterator[TableLoad]:
    """Campaigns and their children, segments; promo codes need the sales plan's usage."""
    yield _campaigns(world)
    yield from _campaign_children(world)
    yield from _segments(world)


def promo_tables(world: World) -> Iterator[TableLoad]:
    """Promotional codes (usage from the sales plan) and the events and types they cover."""
    rng, t0 = world.rng, world.clock.t0
    campaign_of = world.extras.get("promo_campaign", {})
    codes = world.promo_codes
    yield TableLoad(
        "promotional_codes",
        (
            "id", "campaign_id", "code", "description", "discount_type", "discount_value",
            "min_purchase_amount", "max_discount_amount", "start_date", "end_date",
            "usage_limit", "usage_count", "is_single_use", "is_first_purchase_only",
            "is_active", "created_at", "updated_at",
        ),
        [
            (
                c.id, campaign_of[c.id], c.code, c.description, c.kind,
                str(c.value) if c.kind == "percentage" else money(c.value),
                money(c.min_cents), None if c.max_cents is None else money(c.max_cents),
                ts_text(c.start), ts_text(c.end), c.limit, c.usage, False, False,
                c.end > t0, ts_text(min(c.start, t0) - DAY), ts_text(min(c.start, t0) - DAY),
            )
            for c in codes
        ],
    )  # fmt: skip
    yield TableLoad(
        "promotional_code_events",
        ("id", "promotional_code_id", "event_id", "created_at"),
        [
            (new_id(rng), c.id, e, ts_text(min(c.start, t0) - DAY))
            for c in codes
            for e in c.event_ids
        ],
    )
    yield TableLoad(
        "promotional_code_ticket_types",
        ("id", "promotional_code_id", "ticket_type_id", "created_at"),
        [
            (new_id(rng), c.id, t, ts_text(min(c.start, t0) - DAY))
            for c in codes
            for t in sorted(c.ticket_type_ids or ())
        ],
    )


def _campaigns(world: World) -> TableLoad:
    rng = world.rng
    t0 = world.clock.t0

    def rows():
        for c in world.campaigns:
            created = min(c.first_day * DAY - 7 * DAY, t0 - DAY)
            yield (
                c.id,
                c.name,
                f"{c.name} across {', '.join(c.channels)}.",
                day_text(c.first_day),
                day_text(c.last_day),
                c.status,
                money(c.budget),
                Jsonb(
                    {
                        "age": rng.choice(("18-24", "25-34", "35-44", "25-54")),
                        "interests": rng.sample(INTERESTS, 3),
                        "cities": [c.event.venue.city.name]
                        if c.event
                        else ["Paris", "Milan", "New York", "London"],
                    }
                ),
                Jsonb(
                    {
                        "tickets": rng.randint(10, 200) * 10,
                        "impressions": rng.randint(100, 5_000) * 1_000,
                        "target_roas": round(rng.uniform(2, 6), 1),
                    }
                ),
                Jsonb(c.channels),
                None if c.event is None else c.event.id,
                c.created_by,
                ts_text(created),
                ts_text(created + HOUR),
            )

    return TableLoad(
        "marketing_campaigns",
        (
            "id", "name", "description", "start_date", "end_date", "status", "budget",
            "target_audience", "goals", "channels", "event_id", "created_by", "created_at",
            "updated_at",
        ),
        rows(),
        len(world.campaigns),
    )  # fmt: skip


def _campaign_children(world: World) -> Iterator[TableLoad]:
    rng, pools, t0 = world.rng, world.pools, world.clock.t0

    def assets():
        for c in world.campaigns:
            created = ts_text(min(c.first_day * DAY - 3 * DAY, t0 - DAY))
            for name, kind, dims, duration in rng.sample(ASSET_KINDS, rng.randint(2, 4)):
                file_name = name.lower().replace(" ", "-")
                url = f"https://cdn.fashionistas.example/campaigns/{c.id[:8]}/{file_name}"
                yield (
                    new_id(rng), c.id, name, kind, url,
                    f"{url}-thumb.jpg" if kind in ("image", "video") else None,
                    rng.randint(50_000, 80_000_000), dims, duration, c.created_by, created, created,
                )  # fmt: skip

    yield TableLoad(
        "campaign_assets",
        (
            "id", "campaign_id", "name", "asset_type", "file_url", "thumbnail_url",
            "size_bytes", "dimensions", "duration", "created_by", "created_at", "updated_at",
        ),
        assets(),
    )  # fmt: skip

    def emails():
        for c in world.campaigns:
            for m in c.emails:
                created = ts_text(min(m.scheduled, t0) - 2 * DAY)
                yield (
                    m.id, c.id, m.subject, rng.choice(pools.sentences), "Fashionistas",
                    "news@fashionistas.example", rng.choice(TEMPLATES),
                    rng.choice(pools.paragraphs), ts_text(m.scheduled), ts_or_none(m.sent),
                    Jsonb({"segment": "buyers" if c.event else "newsletter", "size": m.audience}),
                    Jsonb({"open_tracking": True, "click_tracking": True, "utm": c.id[:8]}),
                    created, ts_text(m.sent or min(m.scheduled, t0) - 2 * DAY),
                )  # fmt: skip

    yield TableLoad(
        "email_campaigns",
        (
            "id", "campaign_id", "subject", "preview_text", "sender_name", "sender_email",
            "template_id", "content", "scheduled_at", "sent_at", "recipient_segment",
            "tracking_settings", "created_at", "updated_at",
        ),
        emails(),
        sum(len(c.emails) for c in world.campaigns),
    )  # fmt: skip

    def posts():
        for c in world.campaigns:
            for p in c.posts:
                made = min(p.scheduled, t0) - DAY
                created = ts_text(made)
                published = p.published is not None
                yield (
                    p.id, c.id, p.platform, f"{c.name} #fashionweek {rng.choice(pools.sentences)}",
                    [f"https://cdn.fashionistas.example/social/{p.id[:8]}.jpg"],
                    ts_text(p.scheduled), ts_or_none(p.published),
                    f"https://{p.platform}.example.com/p/{p.id[:12]}" if published else None,
                    f"{p.platform[:2]}_{p.id[:12]}" if published else None,
                    p.status, c.created_by, created, ts_text(p.published or made),
                )  # fmt: skip

    yield TableLoad(
        "social_media_posts",
        (
            "id", "campaign_id", "platform", "content", "media_urls", "scheduled_at",
            "published_at", "post_url", "post_id", "status", "created_by", "created_at",
            "updated_at",
        ),
        posts(),
        sum(len(c.posts) for c in world.campaigns),
    )  # fmt: skip


def _segments(world: World) -> Iterator[TableLoad]:
    rng, t0 = world.rng, world.clock.t0
    creators = world.users_by_type["marketing"]
    segments, members = [], []
    for i in range(world.scale.segments):
        kind = SEGMENT_CYCLE[i % len(SEGMENT_CYCLE)]
        segment_id = new_id(rng)
        interest = rng.choice(INTERESTS)
        created = t0 - rng.randint(10, 300) * DAY
        criteria = None
        size = None
        if kind == "dynamic":
            criteria = {
                "user_type": "attendee",
                "interests": [interest],
                "min_orders": rng.randint(1, 3),
            }
            size = rng.randint(50, 20_000)
        else:
            chosen = rng.sample(
                world.users, min(len(world.users), rng.randint(*world.scale.segment_members))
            )
            size = len(chosen)
            members.extend((segment_id, u.id, ts_text(created + DAY)) for u in chosen)
        name = f"{interest.title()} {'fans' if kind == 'dynamic' else 'list'} {i + 1}"
        segments.append(
            (segment_id, name, f"{kind.title()} segment of people interested in {interest}.",
             kind, None if criteria is None else Jsonb(criteria), size,
             ts_text(t0 - rng.randint(1, 9) * DAY), rng.choice(creators).id, ts_text(created),
             ts_text(created))
        )  # fmt: skip
    yield TableLoad(
        "marketing_segments",
        (
            "id", "name", "description", "segment_type", "filter_criteria", "estimated_size",
            "last_calculated_at", "created_by", "created_at", "updated_at",
        ),
        segments,
    )  # fmt: skip
    yield TableLoad("segment_members", ("segment_id", "user_id", "added_at"), members, len(members))
