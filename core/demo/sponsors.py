"""Sponsors, sponsorship tiers and benefits, sponsorships per event and their assets."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, day_of, day_text, ts_text
from core.demo.events import EventRec
from core.demo.ids import new_id
from core.demo.money import money
from core.demo.vocab import CITIES, COMPANY_SIZES, INDUSTRIES, SPONSOR_BENEFITS
from core.demo.world import World
from core.demo.writer import TableLoad

# (name, share of sponsorships, amount range in dollars, benefits granted = first n benefits)
TIERS = (
    ("Platinum", 10, (50_000, 150_000), 10),
    ("Gold", 25, (20_000, 50_000), 8),
    ("Silver", 35, (8_000, 20_000), 5),
    ("Bronze", 30, (2_000, 8_000), 3),
)
ASSETS = (
    ("Logo (vector)", "image/svg+xml", None),
    ("Step-and-repeat banner", "image/png", "3000x2000"),
    ("Pre-roll video", "video/mp4", "1920x1080"),
    ("Lounge signage", "application/pdf", None),
)
ASSET_URL = "https://cdn.fashionistas.example/sponsor-assets"
REJECTIONS = (
    "Logo resolution too low for print; please send a vector file.",
    "Video exceeds the 15-second pre-roll limit.",
    "Colours do not match the approved brand guide.",
)


@dataclass(slots=True)
class SponsorRec:
    id: str
    name: str
    user_id: str | None
    contact_name: str
    contact_email: str
    status: str
    industry: str
    created: int


@dataclass(slots=True)
class SponsorshipRec:
    id: str
    sponsor: SponsorRec
    event: EventRec
    tier: int | None
    first_day: int
    last_day: int
    amount: int


def tier_benefit_count() -> int:
    """Rows of tier_benefits: each tier grants the first n benefits."""
    return sum(n for *_, n in TIERS)


def plan(world: World) -> None:
    """Sponsors (those with an account first) and the sponsorships of each event."""
    rng, pools, t0 = world.rng, world.pools, world.clock.t0
    accounts = world.users_by_type["sponsor"]
    companies = rng.sample(
        pools.companies,
        min(len(pools.companies), len(accounts) + world.scale.sponsors_without_account),
    )
    for i, company in enumerate(companies):
        user = accounts[i] if i < len(accounts) else None
        first, last = rng.choice(pools.first_names), rng.choice(pools.last_names)
        world.sponsors.append(
            SponsorRec(
                new_id(rng),
                company,
                None if user is None else user.id,
                user.full_name if user else f"{first} {last}",
                user.email
                if user
                else f"partnerships@{world.slug('sponsor-domains', company)}.example.com",
                "active"
                if rng.random() < 0.82
                else rng.choice(("pending", "inactive", "archived")),
                rng.choice(INDUSTRIES),
                (user.created if user else t0 - rng.randint(200, 900) * DAY) + HOUR,
            )
        )
    world.extras["tier_ids"] = [new_id(rng) for _ in TIERS]
    world.extras["benefit_ids"] = [new_id(rng) for _ in SPONSOR_BENEFITS]
    active = [s for s in world.sponsors if s.status == "active"] or world.sponsors
    shares = [share for _, share, _, _ in TIERS]
    sponsorships = []
    for e in world.events:
        if e.status == "draft":
            continue
        chosen = rng.sample(active, min(len(active), rng.randint(*world.scale.sponsors_per_event)))
        for sponsor in chosen:
            tier = rng.choices(range(len(TIERS)), shares)[0]
            low, high = TIERS[tier][2]
            sponsorships.append(
                SponsorshipRec(
                    new_id(rng),
                    sponsor,
                    e,
                    None if rng.random() < 0.05 else tier,
                    day_of(e.start) - rng.randint(60, 150),
                    day_of(e.end) + 14,
                    rng.randint(low // 500, high // 500) * 500 * 100,
                )
            )
    world.extras["sponsorships"] = sponsorships


def tables(world: World) -> Iterator[TableLoad]:
    """Sponsors, tiers and benefits, sponsorships and their assets."""
    yield _sponsors(world)
    yield from _tiers(world)
    yield from _sponsorships(world)


def _sponsors(world: World) -> TableLoad:
    rng, pools = world.rng, world.pools

    def rows():
        for s in world.sponsors:
            slug = world.slug("sponsors", s.name)
            yield (
                s.id,
                s.name,
                slug,
                f"https://cdn.fashionistas.example/sponsors/{slug}/logo.svg",
                f"https://{slug}.example.com",
                f"{s.name}, {s.industry.lower()} partner. {rng.choice(pools.sentences)}",
                s.contact_email,
                rng.choice(pools.phones),
                s.contact_name,
                s.user_id,
                s.status,
                s.industry,
                rng.choice(COMPANY_SIZES),
                rng.randint(1890, 2020),
                rng.choice(CITIES).name,
                Jsonb({"instagram": f"@{slug.replace('-', '')}", "linkedin": f"company/{slug}"}),
                ts_text(s.created),
                ts_text(s.created + DAY),
            )

    return TableLoad(
        "sponsors",
        (
            "id", "name", "slug", "logo_url", "website_url", "description", "contact_email",
            "contact_phone", "contact_name", "user_id", "status", "industry", "company_size",
            "founded_year", "headquarters", "social_media", "created_at", "updated_at",
        ),
        rows(),
        len(world.sponsors),
    )  # fmt: skip


def _tiers(world: World) -> Iterator[TableLoad]:
    created = ts_text(world.clock.t0 - 1_000 * DAY)
    tier_ids, benefit_ids = world.extras["tier_ids"], world.extras["benefit_ids"]
    yield TableLoad(
        "sponsorship_tiers",
        ("id", "name", "description", "price_range", "is_custom", "display_order", "benefits",
         "created_at", "updated_at"),
        [
            (tier_ids[i], name, f"{name} partnership", f"${low:,} - ${high:,}", False, i + 1,
             Jsonb({"benefit_count": n}), created, created)
            for i, (name, _, (low, high), n) in enumerate(TIERS)
        ],
    )  # fmt: skip
    yield TableLoad(
        "sponsor_benefits",
        ("id", "name", "description", "category", "icon_url", "is_digital", "is_physical",
         "created_at", "updated_at"),
        [
            (benefit_ids[i], name, f"{name} at the event", category,
             f"https://cdn.fashionistas.example/icons/{category}.svg", digital, physical,
             created, created)
            for i, (name, category, digital, physical) in enumerate(SPONSOR_BENEFITS)
        ],
    )  # fmt: skip
    yield TableLoad(
        "tier_benefits",
        ("tier_id", "benefit_id", "quantity", "details", "created_at"),
        [
            (tier_ids[i], benefit_ids[b], _tier_quantity(i, b), None, created)
            for i, (*_, n) in enumerate(TIERS)
            for b in range(n)
        ],
    )  # fmt: skip


def _tier_quantity(tier: int, benefit: int) -> int:
    return max(1, (len(TIERS) - tier) * (2 if benefit in (1, 5) else 1))


def _delivered(s: SponsorshipRec, tier_ids: list[str], world: World, over: bool) -> dict:
    """Benefits delivered so far ({benefit id: quantity}), derived from the sponsorship's id
    rather than the random stream, so every other demo row stays as it was: past events got
    everything their tier promised except about one in five short of one item; running
    ones half of the first half of their benefits."""
    if s.tier is None:
        return {}
    benefit_ids = world.extras["benefit_ids"]
    promised = {b: _tier_quantity(s.tier, b) for b in range(TIERS[s.tier][3])}
    if over:
        delivered = dict(promised)
        if int(s.id[:2], 16) % 5 == 0:
            short = int(s.id[2:4], 16) % len(promised)
            delivered[short] -= 1
    else:
        delivered = {b: q // 2 for b, q in promised.items() if b < len(promised) // 2}
    return {benefit_ids[b]: q for b, q in delivered.items() if q > 0}


def _sponsorships(world: World) -> Iterator[TableLoad]:
    rng, clock = world.rng, world.clock
    sponsorships: list[SponsorshipRec] = world.extras["sponsorships"]
    tier_ids = world.extras["tier_ids"]
    order: dict[str, int] = {}
    rows = []
    for s in sponsorships:
        e = s.event
        if e.status == "cancelled":
            payment = "refunded"
        elif e.end < clock.t0:
            payment = "paid" if rng.random() < 0.92 else "partial"
        else:
            payment = rng.choice(("pending", "partial", "paid", "paid"))
        order[e.id] = order.get(e.id, 0) + 1
        created = ts_text(min(s.first_day * DAY, clock.t0 - DAY))
        rows.append(
            (
                s.id,
                s.sponsor.id,
                e.id,
                None if s.tier is None else tier_ids[s.tier],
                "Official Beauty Partner" if s.tier is None else None,
                day_text(s.first_day),
                day_text(s.last_day),
                money(s.amount),
                payment,
                f"https://docs.fashionistas.example/contracts/{s.id[:8]}.pdf",
                None,
                Jsonb(
                    {
                        "tier": TIERS[s.tier][0] if s.tier is not None else "custom",
                        "delivered": _delivered(s, tier_ids, world, e.end < clock.t0),
                    }
                ),
                s.tier == 0,
                order[e.id],
                created,
                created,
            )
        )
    yield TableLoad(
        "sponsorships",
        (
            "id", "sponsor_id", "event_id", "tier_id", "custom_tier_name", "start_date",
            "end_date", "amount", "payment_status", "contract_url", "notes", "benefits",
            "is_featured", "display_order", "created_at", "updated_at",
        ),
        rows,
    )  # fmt: skip
    reviewers = world.users_by_type["marketing"]

    def assets():
        for s in sponsorships:
            uploaded = min(s.first_day * DAY + 5 * DAY, clock.t0 - 2 * DAY)
            for name, file_type, dimensions in rng.sample(ASSETS, rng.randint(1, 3)):
                roll = rng.random()
                status = "approved" if roll < 0.7 else "pending" if roll < 0.9 else "rejected"
                reviewed = status != "pending"
                yield (
                    new_id(rng),
                    s.id,
                    name,
                    f"{ASSET_URL}/{s.id[:8]}/{name.lower().replace(' ', '-')}",
                    file_type,
                    rng.randint(40_000, 60_000_000),
                    dimensions,
                    status,
                    None,
                    s.sponsor.user_id,
                    rng.choice(REJECTIONS)
                    if status == "rejected"
                    else ("Looks great." if reviewed else None),
                    rng.choice(reviewers).id if reviewed else None,
                    ts_text(uploaded + DAY) if reviewed else None,
                    ts_text(uploaded),
                    ts_text(uploaded + DAY if reviewed else uploaded),
                )

    yield TableLoad(
        "sponsorship_assets",
        (
            "id", "sponsorship_id", "name", "file_url", "file_type", "size_bytes", "dimensions",
            "status", "notes", "uploaded_by", "review_note", "reviewed_by", "reviewed_at",
            "created_at", "updated_at",
        ),
        assets(),
    )  # fmt: skip
