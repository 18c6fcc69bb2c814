"""Daily analytics and engagement: the bulk of a large world, generated row by row.

Every row covers one day of the history window, [first_day, today): analytics never
describe the future. Funnels stay ordered (impressions >= clicks >= conversions).
"""

from __future__ import annotations

from collections.abc import Iterator

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, day_text, ts_text
from core.demo.ids import hex_token, new_id
from core.demo.money import money
from core.demo.vocab import ENGAGEMENT_SOURCES, ENGAGEMENT_TYPES, MARKETING_CHANNELS, USER_AGENTS
from core.demo.world import World
from core.demo.writer import TableLoad

PAID = dict(MARKETING_CHANNELS)
# Share of campaign-channel days with nothing delivered (paused, budget capped, no send).
IDLE_SHARE = 0.03
# Typical reach per channel per campaign day, and click-through rate.
CHANNEL_REACH = {
    "email": (4_000, 0.030),
    "instagram": (20_000, 0.012),
    "facebook": (15_000, 0.009),
    "tiktok": (30_000, 0.010),
    "google_ads": (8_000, 0.035),
    "display": (40_000, 0.002),
    "influencer": (25_000, 0.015),
    "sms": (1_500, 0.050),
    "pinterest": (6_000, 0.008),
    "youtube": (12_000, 0.006),
    "organic_social": (9_000, 0.011),
    "affiliate": (3_000, 0.040),
}
# Days an e-mail send, or a published post, is followed for.
EMAIL_DAYS = 30
SOCIAL_DAYS = 30
WEEKDAY = (1.0, 0.95, 1.0, 1.05, 1.15, 1.25, 1.1)


class _DayStamps:
    """Per-day text for a row's date and its created_at (written the next night)."""

    def __init__(self) -> None:
        self.cache: dict[int, tuple[str, str]] = {}

    def __call__(self, day: int) -> tuple[str, str]:
        got = self.cache.get(day)
        if got is None:
            got = self.cache[day] = (day_text(day), ts_text((day + 1) * DAY + 2 * HOUR))
        return got


def _window(first: int, last: int, world: World) -> range:
    """Days of [first, last] inside the history window."""
    return range(max(first, world.clock.first_day), min(last, world.clock.today - 1) + 1)


def tables(world: World) -> Iterator[TableLoad]:
    """Designer, sponsor, campaign, e-mail and social analytics, and user engagement."""
    yield _designer_analytics(world)
    yield _sponsor_analytics(world)
    yield _campaign_analytics(world)
    yield _email_analytics(world)
    yield _social_analytics(world)
    yield _engagement(world)


def _designer_analytics(world: World) -> TableLoad:
    rng, stamps = world.rng, _DayStamps()
    days = range(world.clock.first_day, world.clock.today)

    def rows():
        rand = rng.random
        for d in world.designers:
            base = 20 + int(2_000 * rand() ** 3)
            shown = [c.id for c in d.collections[:2]]
            for day in days:
                date, created = stamps(day)
                views = int(base * WEEKDAY[(day + 3) % 7] * (0.6 + 0.8 * rand()))
                yield (
                    new_id(rng),
                    d.id,
                    date,
                    views,
                    Jsonb({collection: int(views * 0.4 * rand()) for collection in shown}),
                    int(views * 0.05 * rand()),
                    int(views * 0.02 * rand()),
                    int(views * 0.08 * rand()),
                    created,
                    created,
                )

    return TableLoad(
        "designer_analytics",
        (
            "id", "designer_id", "date", "profile_views", "collection_views", "favorites",
            "shares", "click_throughs", "created_at", "updated_at",
        ),
        rows(),
        len(world.designers) * len(days),
    )  # fmt: skip


def _sponsor_analytics(world: World) -> TableLoad:
    rng, stamps = world.rng, _DayStamps()
    sponsorships = world.extras["sponsorships"]
    everyday = range(world.clock.first_day, world.clock.today)

    def funnel(impressions: int, rand) -> tuple[int, int, int, int]:
        clicks = int(impressions * (0.004 + 0.02 * rand()))
        leads = int(clicks * (0.05 + 0.2 * rand()))
        conversions = int(leads * (0.1 + 0.3 * rand()))
        return impressions, clicks, leads, conversions

    def rows():
        rand = rng.random
        for s in sponsorships:
            days = _window(s.first_day, s.last_day, world)
            spend = s.amount // max(s.last_day - s.first_day + 1, 1)
            base = 2_000 + s.amount // 2_000
            for day in days:
                date, created = stamps(day)
                # Exposure peaks in the days around the event.
                near = 3.0 if abs(day * DAY - s.event.start) < 3 * DAY else 1.0
                i, c, leads, conv = funnel(int(base * near * (0.5 + rand())), rand)
                yield (
                    new_id(rng), s.sponsor.id, s.event.id, date, i, c, leads, conv,
                    None, None, money(spend), money(conv * (4_000 + int(20_000 * rand()))),
                    created, created,
                )  # fmt: skip
        for sponsor in world.sponsors:
            if sponsor.status != "active":
                continue
            base = 500 + int(5_000 * rand())
            for day in everyday:
                date, created = stamps(day)
                i, c, leads, conv = funnel(int(base * (0.5 + rand())), rand)
                yield (
                    new_id(rng), sponsor.id, None, date, i, c, leads, conv,
                    Jsonb({"source": "sponsor page"}) if day % 30 == 0 else None,
                    None, "0.00", money(conv * 2_500), created, created,
                )  # fmt: skip

    return TableLoad(
        "sponsor_analytics",
        (
            "id", "sponsor_id", "event_id", "date", "impressions", "clicks", "leads_generated",
            "conversions", "engagement_metrics", "roi_metrics", "cost", "revenue", "created_at",
            "updated_at",
        ),
        rows(),
        sum(len(_window(s.first_day, s.last_day, world)) for s in sponsorships)
        + len(everyday) * sum(1 for s in world.sponsors if s.status == "active"),
    )  # fmt: skip


def campaign_analytics_count(world: World) -> int:
    """Rows of campaign_analytics: campaigns x days in the window x channels."""
    return sum(
        len(_window(c.first_day, c.last_day, world)) * len(c.channels) for c in world.campaigns
    )


def _campaign_analytics(world: World) -> TableLoad:
    rng, stamps = world.rng, _DayStamps()

    def rows():
        rand = rng.random
        for c in world.campaigns:
            price = 9_000 if c.event is None else c.event.ticket_types[0].price
            reach = [(ch, *CHANNEL_REACH[ch], PAID[ch]) for ch in c.channels]
            campaign_id = c.id
            for day in _window(c.first_day, c.last_day, world):
                date, created = stamps(day)
                weekday = WEEKDAY[(day + 3) % 7]
                for channel, base, ctr, paid in reach:
                    if rand() < IDLE_SHARE:
                        yield (
                            new_id(rng),
                            campaign_id,
                            date,
                            channel,
                            0,
                            0,
                            0,
                            "0.00",
                            "0.00",
                            None,
                            created,
                            created,
                        )
                        continue
                    impressions = int(base * weekday * (0.3 + 1.4 * rand()))
                    clicks = int(impressions * ctr * (0.5 + rand()))
                    conversions = int(clicks * (0.01 + 0.05 * rand()))
                    cost = int(impressions * (0.4 + 0.8 * rand())) if paid else 0
                    yield (
                        new_id(rng), campaign_id, date, channel, impressions, clicks, conversions,
                        money(conversions * price), money(cost),
                        Jsonb({"ctr": round(clicks / impressions, 4)}) if day % 7 == 0 else None,
                        created, created,
                    )  # fmt: skip

    return TableLoad(
        "campaign_analytics",
        (
            "id", "campaign_id", "date", "channel", "impressions", "clicks", "conversions",
            "revenue", "cost", "metrics", "created_at", "updated_at",
        ),
        rows(),
        campaign_analytics_count(world),
    )  # fmt: skip


def _email_analytics(world: World) -> TableLoad:
    rng, stamps = world.rng, _DayStamps()

    def rows():
        rand = rng.random
        for c in world.campaigns:
            for m in c.emails:
                if m.sent is None:
                    continue
                first = m.sent // DAY
                for day in _window(first, first + EMAIL_DAYS - 1, world):
                    date, created = stamps(day)
                    # The send goes out on day one; automated follow-ups to non-openers after.
                    sends = m.audience if day == first else int(m.audience * 0.02 * rand())
                    opens = int(sends * (0.2 + 0.25 * rand()))
                    clicks = int(opens * (0.05 + 0.2 * rand()))
                    yield (
                        new_id(rng), m.id, date, sends, opens, clicks,
                        int(sends * 0.015 * rand()), int(sends * 0.004 * rand()),
                        int(sends * 0.0005 * rand()), None, created, created,
                    )  # fmt: skip

    return TableLoad(
        "email_analytics",
        (
            "id", "email_campaign_id", "date", "sends", "opens", "clicks", "bounces",
            "unsubscribes", "complaints", "metrics", "created_at", "updated_at",
        ),
        rows(),
        sum(
            len(_window(m.sent // DAY, m.sent // DAY + EMAIL_DAYS - 1, world))
            for c in world.campaigns
            for m in c.emails
            if m.sent is not None
        ),
    )  # fmt: skip


def _social_analytics(world: World) -> TableLoad:
    rng, stamps = world.rng, _DayStamps()

    def rows():
        rand = rng.random
        for c in world.campaigns:
            for p in c.posts:
                if p.published is None:
                    continue
                first = p.published // DAY
                base = 1_000 + int(60_000 * rand() ** 2)
                for n, day in enumerate(_window(first, first + SOCIAL_DAYS - 1, world)):
                    date, created = stamps(day)
                    impressions = int(base / (1 + n) ** 1.2 * (0.7 + 0.6 * rand()))
                    reach = int(impressions * (0.6 + 0.35 * rand()))
                    likes = int(reach * 0.04 * rand())
                    comments = int(likes * 0.1 * rand())
                    shares = int(likes * 0.15 * rand())
                    saves = int(likes * 0.2 * rand())
                    clicks = int(reach * 0.01 * rand())
                    yield (
                        new_id(rng), p.id, date, impressions, reach,
                        likes + comments + shares + saves, likes, comments, shares, saves, clicks,
                        None, created, created,
                    )  # fmt: skip

    return TableLoad(
        "social_media_analytics",
        (
            "id", "post_id", "date", "impressions", "reach", "engagement", "likes", "comments",
            "shares", "saves", "clicks", "metrics", "created_at", "updated_at",
        ),
        rows(),
        sum(
            len(_window(p.published // DAY, p.published // DAY + SOCIAL_DAYS - 1, world))
            for c in world.campaigns
            for p in c.posts
            if p.published is not None
        ),
    )  # fmt: skip


def _engagement(world: World) -> TableLoad:
    rng, pools, clock = world.rng, world.pools, world.clock
    users = world.users
    attendees = world.users_by_type["attendee"]
    events = [e for e in world.events if e.status != "draft"]
    types = [t for t, _ in ENGAGEMENT_TYPES]
    type_weights = [w for _, w in ENGAGEMENT_TYPES]
    start, span = clock.first_day * DAY, (clock.today - clock.first_day) * DAY
    n = world.scale.engagement

    def rows():
        rand, choices = rng.random, rng.choices
        batch = 4_096
        for done in range(0, n, batch):
            kinds = choices(types, type_weights, k=min(batch, n - done))
            for kind in kinds:
                user = (
                    attendees[int(len(attendees) * rand() ** 1.5)]
                    if rand() < 0.9
                    else users[int(len(users) * rand())]
                )
                at = start + int(span * rand())
                if at < user.created:
                    at = user.created + int((clock.t0 - user.created) * rand())
                event = events[int(len(events) * rand())] if kind != "newsletter_click" else None
                path = f"/events/{event.slug}" if event else "/newsletter"
                yield (
                    new_id(rng),
                    user.id,
                    None if event is None else event.id,
                    kind,
                    ENGAGEMENT_SOURCES[int(len(ENGAGEMENT_SOURCES) * rand() ** 1.6)],
                    Jsonb({"path": path, "seconds": int(5 + 300 * rand() ** 2)}),
                    ts_text(at),
                    pools.ipv4[int(len(pools.ipv4) * rand())],
                    USER_AGENTS[int(len(USER_AGENTS) * rand())],
                    hex_token(rng, 8),
                    ts_text(at),
                )

    return TableLoad(
        "user_engagement",
        (
            "id", "user_id", "event_id", "engagement_type", "engagement_source",
            "engagement_data", "occurred_at", "ip_address", "user_agent", "session_id",
            "created_at",
        ),
        rows(),
        n,
    )  # fmt: skip
