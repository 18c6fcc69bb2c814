"""How big each demo world is: every count the loader decides, in one place.

`expected_counts(scale)` is the promise a load keeps: for each table the (lowest, highest)
row count. Tables whose size the loader fixes from these numbers have lowest == highest;
tables whose size comes out of the random draws get the bounds the generators guarantee.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

DEFAULT_SEED = 20261121


@dataclass(frozen=True)
class Scale:
    name: str
    users: Mapping[str, int]
    profile_share: float
    venues: int
    # Seat grids grow with the scale: general sections get this many times the template rows.
    rows_factor: int
    events: int
    orders: int
    # Analytics and logs cover this many days before the anchor; events reach as far.
    history_days: int
    future_days: int
    discount_codes: int
    designers_without_account: int
    collections_per_designer: int
    items_per_collection: int
    images_per_item: int
    models_without_account: int
    collaborations: int
    sponsors_without_account: int
    sponsors_per_event: tuple[int, int]
    brand_campaigns: int
    campaigns_per_event: tuple[int, int]
    campaign_channels: tuple[int, int]
    posts_per_campaign: tuple[int, int]
    segments: int
    segment_members: tuple[int, int]
    engagement: int
    audit_logs: int
    data_subject_requests: int
    api_keys: int
    api_usage_logs: int
    webhooks: int
    webhook_deliveries: int
    domain_events: int
    background_jobs: int
    media_items: int
    pool_size: int

    @property
    def total_users(self) -> int:
        return sum(self.users.values())


SMALL = Scale(
    name="small",
    users=MappingProxyType(
        {
            "admin": 3,
            "organizer": 8,
            "marketing": 6,
            "designer": 20,
            "model": 24,
            "sponsor": 12,
            "staff": 17,
            "attendee": 160,
        }
    ),
    profile_share=0.6,
    venues=5,
    rows_factor=1,
    events=20,
    orders=2_000,
    history_days=90,
    future_days=120,
    discount_codes=12,
    designers_without_account=4,
    collections_per_designer=2,
    items_per_collection=5,
    images_per_item=2,
    models_without_account=6,
    collaborations=4,
    sponsors_without_account=3,
    sponsors_per_event=(2, 4),
    brand_campaigns=2,
    campaigns_per_event=(0, 1),
    campaign_channels=(3, 5),
    posts_per_campaign=(2, 4),
    segments=6,
    segment_members=(15, 60),
    engagement=3_000,
    audit_logs=400,
    data_subject_requests=14,
    api_keys=5,
    api_usage_logs=500,
    webhooks=3,
    webhook_deliveries=60,
    domain_events=300,
    background_jobs=12,
    media_items=30,
    pool_size=300,
)

LARGE = Scale(
    name="large",
    users=MappingProxyType(
        {
            "admin": 10,
            "organizer": 150,
            "marketing": 60,
            "designer": 600,
            "model": 1_200,
            "sponsor": 200,
            "staff": 480,
            "attendee": 97_300,
        }
    ),
    profile_share=0.6,
    venues=40,
    rows_factor=2,
    events=600,
    orders=1_000_000,
    history_days=365,
    future_days=180,
    discount_codes=700,
    designers_without_account=200,
    collections_per_designer=3,
    items_per_collection=8,
    images_per_item=2,
    models_without_account=300,
    collaborations=80,
    sponsors_without_account=50,
    sponsors_per_event=(8, 14),
    brand_campaigns=320,
    campaigns_per_event=(3, 5),
    campaign_channels=(7, 12),
    posts_per_campaign=(6, 12),
    segments=30,
    segment_members=(500, 3_000),
    engagement=1_800_000,
    audit_logs=120_000,
    data_subject_requests=400,
    api_keys=40,
    api_usage_logs=250_000,
    webhooks=20,
    webhook_deliveries=30_000,
    domain_events=60_000,
    background_jobs=300,
    media_items=600,
    pool_size=1_200,
)

SCALES: Mapping[str, Scale] = MappingProxyType({s.name: s for s in (SMALL, LARGE)})


def get_scale(name: str) -> Scale:
    """The Scale called `name`; ValueError names the known ones otherwise."""
    try:
        return SCALES[name]
    except KeyError:
        known = ", ".join(SCALES)
        raise ValueError(f"unknown demo scale {name!r}; known scales: {known}") from None


def expected_counts(name: str) -> dict[str, tuple[int, int]]:
    """Rows per table a load of scale `name` produces: (lowest, highest), equal when exact.

    Uses the same numbers and templates the loader plans with; ranges come from the bounds
    of the random draws (e.g. 1 to 3 items per order).
    """
    # Imported here: the domain modules import this one.
    from core.demo import (
        analytics,
        cms,
        compliance,
        events,
        marketing,
        people,
        showcase,
        sponsors,
        staffing,
        system,
        tickets,
        venues,
    )
    from core.demo.vocab import SPONSOR_BENEFITS
    from core.retention import categories as retention_categories

    s = get_scale(name)
    users = s.total_users
    types = events.split(s.events, events.TYPE_SHARES)
    statuses = events.split(s.events, events.STATUS_SHARES)
    seated = sum(types[t] for t in events.SEATED_TYPES)
    live = s.events - statuses["draft"]
    designers = s.users["designer"] + s.designers_without_account
    collections = designers * s.collections_per_designer
    items = collections * s.items_per_collection
    shows = showcase.show_count(s.events)
    segments = shows * len(showcase.SEGMENTS)
    sponsorships = (live * s.sponsors_per_event[0], live * s.sponsors_per_event[1])
    n_sponsors = s.users["sponsor"] + s.sponsors_without_account
    campaigns = (
        s.brand_campaigns + live * s.campaigns_per_event[0],
        s.brand_campaigns + live * s.campaigns_per_event[1],
    )
    listed = sum(1 for i in range(s.segments) if marketing.SEGMENT_CYCLE[i % 6] != "dynamic")
    venue_seats = [
        venues.seat_count(i + 1, s.rows_factor) - venues.seat_count(i, s.rows_factor)
        for i in range(s.venues)
    ]
    most_types = (
        max(
            sum(1 for sec in layout if sec[1] in tickets.SECTION_TIERS)
            for layout in venues.LAYOUTS.values()
        )
        + 1
    )
    event_codes = s.discount_codes - min(s.discount_codes, len(tickets.GLOBAL_CODES))
    pages = cms.page_count(s.venues)
    days = s.history_days
    exact = {
        "roles": len(people.ROLES),
        "permissions": len(people.PERMISSIONS),
        "role_permissions": len(people.role_permission_pairs()),
        "users": users,
        "user_profiles": people.profile_count(users, s.profile_share),
        "user_roles": users,
        "venues": s.venues,
        "venue_sections": venues.section_count(s.venues),
        "venue_seats": venues.seat_count(s.venues, s.rows_factor),
        "event_categories": len(events.CATEGORIES),
        "events": s.events,
        "event_schedules": events.schedule_count(s.events),
        "event_staff": staffing.staff_count(s.events, s.users["staff"]),
        "designers": designers,
        "models": s.users["model"] + s.models_without_account,
        "collections": collections,
        "fashion_items": items,
        "fashion_item_images": items * s.images_per_item,
        "runway_shows": shows,
        "runway_segments": segments,
        "designer_collaborations": s.collaborations,
        "designer_analytics": designers * days,
        "sponsors": n_sponsors,
        "sponsorship_tiers": len(sponsors.TIERS),
        "sponsor_benefits": len(SPONSOR_BENEFITS),
        "tier_benefits": sponsors.tier_benefit_count(),
        "marketing_segments": s.segments,
        "discount_codes": s.discount_codes,
        "discount_code_events": event_codes,
        "orders": s.orders,
        "user_engagement": s.engagement,
        "encryption_keys": len(compliance.KEYS),
        "data_subject_requests": s.data_subject_requests,
        "data_subject_request_matches": (
            compliance.MATCHES_PER_ERASURE * compliance.erasure_requests(s.data_subject_requests)
        ),
        "audit_logs": s.audit_logs,
        "api_keys": s.api_keys,
        "api_usage_logs": s.api_usage_logs,
        "webhooks": s.webhooks,
        "webhook_delivery_logs": s.webhook_deliveries,
        "graphql_schema_definitions": len(system.SCHEMAS),
        "rest_api_endpoints": len(system.ENDPOINTS),
        "domain_events": s.domain_events,
        "background_jobs": s.background_jobs,
        "system_configurations": len(system.SETTINGS)
        + system.DEMO_SETTINGS
        + len(retention_categories.CATEGORIES),
        "pages": pages,
        "content_blocks": sum(len(p[4]) for p in cms.PAGES)
        + (pages - len(cms.PAGES)) * len(cms.CITY_BLOCKS),
        "media_items": s.media_items,
    }
    counts = {table: (n, n) for table, n in exact.items()}
    ranged = {
        "event_category_mappings": (s.events, 2 * s.events),
        "runway_appearances": (
            segments * showcase.LOOKS_PER_SEGMENT[0],
            segments * showcase.LOOKS_PER_SEGMENT[1],
        ),
        "designer_collaboration_participants": (2 * s.collaborations, 3 * s.collaborations),
        "sponsorships": sponsorships,
        "sponsorship_assets": (sponsorships[0], 3 * sponsorships[1]),
        "sponsor_analytics": (0, sponsorships[1] * days + n_sponsors * days),
        "marketing_campaigns": campaigns,
        "campaign_assets": (2 * campaigns[0], 4 * campaigns[1]),
        "email_campaigns": (0, 3 * campaigns[1]),
        "email_analytics": (0, 3 * campaigns[1] * analytics.EMAIL_DAYS),
        "social_media_posts": (0, s.posts_per_campaign[1] * campaigns[1]),
        "social_media_analytics": (
            0,
            s.posts_per_campaign[1] * campaigns[1] * analytics.SOCIAL_DAYS,
        ),
        "campaign_analytics": (0, campaigns[1] * days * s.campaign_channels[1]),
        "segment_members": (
            listed * s.segment_members[0],
            listed * min(users, s.segment_members[1]),
        ),
        "ticket_types": (3 * s.events, most_types * s.events),
        "discount_code_ticket_types": (0, event_codes * most_types),
        "promotional_codes": (0, min(2, s.brand_campaigns) + campaigns[1] - s.brand_campaigns),
        "promotional_code_events": (0, campaigns[1] - s.brand_campaigns),
        "promotional_code_ticket_types": (0, (campaigns[1] - s.brand_campaigns) * most_types),
        "promotional_code_usage": (0, s.orders),
        "order_items": (s.orders, 3 * s.orders),
        "ticket_inventory_locks": (0, 3 * s.orders),
        "order_payments": (1, s.orders),
        "order_refunds": (0, s.orders),
        "event_seats": (seated * min(venue_seats), seated * max(venue_seats)),
        "page_versions": (pages, 3 * pages),
    }
    counts.update(ranged)
    return counts
