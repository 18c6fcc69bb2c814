"""The row-level security matrix (issue 15, finding 3): for every role, every table
migration 0013 protects and every operation, what the app role lets that person do to one
row, through plain SQL with no service in the way.

The world: event E organised by `organizer` and worked by `staff_on`, event F organised by
`other_organizer` and worked by `staff_off`; `buyer` (an account with no role) bought
order O for E, paid, one item refunded, with a promotional code; `sponsor` is the account
of a sponsor of E; `designer` authored a draft page; `organizer` queued a job. Each target
row below belongs to that world. Every statement runs in a savepoint that is rolled back,
inside a transaction that is never committed.

EXPECTED is the whole truth table: a role missing from a table's entry may do nothing
with its row. Statements fail only on row-level security (or privilege) refusals; any
other error fails the test, so a refusal cannot hide a broken statement.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from core.auth import Identity
from core.config import PROJECT_ROOT
from core.db import get_engine, unit_of_work
from tests.apptest import make_person

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

MIGRATION = PROJECT_ROOT / "migrations" / "versions" / "0013_row_level_security.py"
ROLES = (
    "admin",
    "organizer",
    "other_organizer",
    "staff_on",
    "staff_off",
    "marketing",
    "designer",
    "sponsor",
    "buyer",
    "nobody",
)
SIGNED_IN = tuple(r for r in ROLES if r != "nobody")
SELLERS = ("organizer", "other_organizer", "staff_on", "staff_off")
ALL = "SIUD"


def _only(**allowed: str) -> dict[str, str]:
    return allowed


def _everyone(ops: str, **overrides: str) -> dict[str, str]:
    """`ops` for every signed-in role, with `overrides`."""
    return {**dict.fromkeys(SIGNED_IN, ops), **overrides}


# table (or table:target) -> role -> the operations (S, I, U, D) allowed on the target.
SALES_READ = _only(admin=ALL, organizer="SIU", staff_on="SIU", buyer="S")
EXPECTED: dict[str, dict[str, str]] = {
    "orders": SALES_READ,
    "order_items": {**SALES_READ, "marketing": "S"},
    "order_payments": _only(admin=ALL, organizer="SI", staff_on="SI", buyer="S"),
    "order_refunds": _only(admin=ALL, organizer="SI", staff_on="S", buyer="S"),
    "ticket_inventory_locks": _only(admin=ALL, organizer=ALL, staff_on=ALL),
    "event_seats": _only(admin=ALL, organizer=ALL, other_organizer=ALL, staff_on=ALL),
    "ticket_types": _everyone("S", admin=ALL, organizer=ALL, staff_on="SU"),
    "discount_codes": _only(
        admin=ALL, organizer=ALL, other_organizer=ALL, staff_on="SU", staff_off="SU", marketing="S"
    ),
    "discount_code_events": _only(
        admin=ALL, organizer=ALL, other_organizer=ALL, staff_on="S", staff_off="S", marketing="S"
    ),
    "discount_code_ticket_types": _only(
        admin=ALL, organizer=ALL, other_organizer=ALL, staff_on="S", staff_off="S", marketing="S"
    ),
    # Every seller counts a use of a code at a sale, whatever the event.
    "promotional_codes": {**dict.fromkeys(SELLERS, "SU"), "admin": ALL, "marketing": ALL},
    "promotional_code_events": _only(
        admin=ALL, marketing=ALL, organizer="S", other_organizer="S", staff_on="S", staff_off="S"
    ),
    "promotional_code_ticket_types": _only(
        admin=ALL, marketing=ALL, organizer="S", other_organizer="S", staff_on="S", staff_off="S"
    ),
    "promotional_code_usage": _only(
        admin=ALL, organizer="SID", staff_on="SID", marketing="S", buyer="S"
    ),
    "event_staff": _only(admin=ALL, organizer=ALL, staff_on="S"),
    "event_schedules": _everyone("S", admin=ALL, organizer=ALL),
    "event_category_mappings": _everyone("S", admin=ALL, organizer=ALL),
    "event_categories": _everyone("S", admin=ALL, organizer=ALL, other_organizer=ALL),
    "venues": _everyone("S", admin=ALL, organizer=ALL, other_organizer=ALL),
    "venue_sections": _everyone("S", admin=ALL, organizer=ALL, other_organizer=ALL),
    "venue_seats": _everyone("S", admin=ALL, organizer=ALL, other_organizer=ALL),
    "sponsors": _only(admin=ALL, marketing=ALL, sponsor="SU"),
    "sponsorships": _only(admin=ALL, marketing=ALL, sponsor="S"),
    "sponsorship_assets": _only(admin=ALL, marketing=ALL, sponsor="S"),
    "sponsor_analytics": _only(admin=ALL, marketing="S", sponsor="S"),
    "sponsorship_tiers": _everyone("S", admin=ALL, marketing=ALL),
    "sponsor_benefits": _everyone("S", admin=ALL, marketing=ALL),
    "tier_benefits": _everyone("S", admin=ALL, marketing=ALL),
    "marketing_campaigns": _only(admin=ALL, marketing=ALL),
    "email_campaigns": _only(admin=ALL, marketing=ALL),
    "social_media_posts": _only(admin=ALL, marketing=ALL),
    "campaign_assets": _only(admin=ALL, marketing=ALL),
    "marketing_segments": _only(admin=ALL, marketing=ALL),
    "segment_members": _only(admin=ALL, marketing=ALL),
    "campaign_analytics": _only(admin=ALL, marketing="S"),
    "email_analytics": _only(admin=ALL, marketing="S"),
    "social_media_analytics": _only(admin=ALL, marketing="S"),
    # Everyone may record their own engagement; only the buyer reads the buyer's.
    "user_engagement": _everyone("I", admin=ALL, buyer="SI"),
    "domain_events": _only(admin=ALL),
    # Everyone may queue a job in their own name; only its creator reads it.
    "background_jobs": _everyone("I", admin=ALL, organizer="SI"),
    "system_configurations:setting": _everyone("S", admin=ALL),
    "system_configurations:secret": _only(admin=ALL),
    "api_usage_logs": _only(admin=ALL, buyer="SI"),
    "webhook_delivery_logs": _only(admin=ALL, buyer="SIU"),
    "pages": _only(admin=ALL, designer="S"),
    "content_blocks": _only(admin=ALL, designer="S"),
    "page_versions": _only(admin=ALL, designer="S"),
    "media_items": _everyone("S", admin=ALL),
}


@dataclass(frozen=True)
class Target:
    """How to reach one row: its key, a harmless update, and an insert of a sibling."""

    table: str
    where: str
    update: str
    insert: str


def _targets() -> dict[str, Target]:
    def t(table: str, update: str, insert: str, where: str) -> Target:
        return Target(table, where, update, insert)

    return {
        "orders": t(
            "orders",
            "notes = notes",
            "INSERT INTO orders (order_number, event_id, status, billing_email, billing_name)"
            " VALUES ('FW-M-' || left(md5(random()::text), 10), :event, 'completed',"
            " 'walk-in@example.com', 'Walk In')",
            "id = :order",
        ),
        "order_items": t(
            "order_items",
            "metadata = metadata",
            "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price, subtotal,"
            " final_price) VALUES (:order, :ticket_type, 1, 10, 10, 10)",
            "id = :item",
        ),
        "order_payments": t(
            "order_payments",
            "method = method",
            "INSERT INTO order_payments (order_id, provider, method, amount, reference)"
            " VALUES (:order, 'box_office', 'cash', 1, 'ref-' || gen_random_uuid())",
            "id = :payment",
        ),
        "order_refunds": t(
            "order_refunds",
            "reason = reason",
            "INSERT INTO order_refunds (order_id, amount, reason, method, reference,"
            " refunded_by) VALUES (:order, 1, 'matrix', 'cash', 'ref-' || gen_random_uuid(),"
            " :me)",
            "id = :refund",
        ),
        "ticket_inventory_locks": t(
            "ticket_inventory_locks",
            "quantity = quantity",
            "INSERT INTO ticket_inventory_locks (ticket_type_id, event_id, quantity,"
            " session_id, expires_at) VALUES (:ticket_type, :event, 1, 'matrix',"
            " now() + interval '5 minutes')",
            "id = :hold",
        ),
        "event_seats": t(
            "event_seats",
            "blocked_reason = blocked_reason",
            "INSERT INTO event_seats (event_id, seat_id) VALUES (:event, :spare_seat)",
            "event_id = :event AND seat_id = :seat",
        ),
        "ticket_types": t(
            "ticket_types",
            "remaining_capacity = remaining_capacity",
            "INSERT INTO ticket_types (event_id, name, base_price, total_capacity,"
            " remaining_capacity, sale_start_date, sale_end_date, tier) VALUES (:event,"
            " 'Matrix', 5, 5, 5, now(), now() + interval '1 day', 'general')",
            "id = :ticket_type",
        ),
        "discount_codes": t(
            "discount_codes",
            "description = description",
            "INSERT INTO discount_codes (code, discount_type, discount_value, start_date,"
            " end_date) VALUES ('M' || left(md5(random()::text), 10), 'percentage', 5, now(),"
            " now() + interval '1 day')",
            "id = :discount_code",
        ),
        "discount_code_events": t(
            "discount_code_events",
            "event_id = event_id",
            "INSERT INTO discount_code_events (discount_code_id, event_id)"
            " VALUES (:discount_code, :other_event)",
            "discount_code_id = :discount_code AND event_id = :event",
        ),
        "discount_code_ticket_types": t(
            "discount_code_ticket_types",
            "ticket_type_id = ticket_type_id",
            "INSERT INTO discount_code_ticket_types (discount_code_id, ticket_type_id)"
            " VALUES (:discount_code, :other_ticket_type)",
            "discount_code_id = :discount_code AND ticket_type_id = :ticket_type",
        ),
        "promotional_codes": t(
            "promotional_codes",
            "description = description",
            "INSERT INTO promotional_codes (code, discount_type, discount_value, start_date,"
            " end_date) VALUES ('P' || left(md5(random()::text), 10), 'percentage', 5, now(),"
            " now() + interval '1 day')",
            "id = :promo_code",
        ),
        "promotional_code_events": t(
            "promotional_code_events",
            "event_id = event_id",
            "INSERT INTO promotional_code_events (promotional_code_id, event_id)"
            " VALUES (:promo_code, :other_event)",
            "promotional_code_id = :promo_code AND event_id = :event",
        ),
        "promotional_code_ticket_types": t(
            "promotional_code_ticket_types",
            "ticket_type_id = ticket_type_id",
            "INSERT INTO promotional_code_ticket_types (promotional_code_id, ticket_type_id)"
            " VALUES (:promo_code, :other_ticket_type)",
            "promotional_code_id = :promo_code AND ticket_type_id = :ticket_type",
        ),
        "promotional_code_usage": t(
            "promotional_code_usage",
            "order_total = order_total",
            "INSERT INTO promotional_code_usage (code_id, order_id, discount_amount,"
            " order_total) VALUES (:other_promo_code, :order, 1, 1)",
            "id = :promo_use",
        ),
        "event_staff": t(
            "event_staff",
            "assigned_by = assigned_by",
            "INSERT INTO event_staff (event_id, user_id, assigned_by)"
            " VALUES (:event, :staff_off, :me)",
            "event_id = :event AND user_id = :staff_on",
        ),
        "event_schedules": t(
            "event_schedules",
            "title = title",
            "INSERT INTO event_schedules (event_id, title, start_time, end_time)"
            " VALUES (:event, 'Matrix', now(), now() + interval '1 hour')",
            "id = :schedule",
        ),
        "event_category_mappings": t(
            "event_category_mappings",
            "category_id = category_id",
            "INSERT INTO event_category_mappings (event_id, category_id)"
            " VALUES (:event, :other_category)",
            "id = :mapping",
        ),
        "event_categories": t(
            "event_categories",
            "description = description",
            "INSERT INTO event_categories (name) VALUES ('Matrix ' || gen_random_uuid())",
            "id = :category",
        ),
        "venues": t(
            "venues",
            "contact_email = contact_email",
            "INSERT INTO venues (name, address, city, country)"
            " VALUES ('Matrix Hall', '1 Road', 'Paris', 'FR')",
            "id = :venue",
        ),
        "venue_sections": t(
            "venue_sections",
            "description = description",
            "INSERT INTO venue_sections (venue_id, name, capacity, section_type)"
            " VALUES (:venue, 'M ' || gen_random_uuid(), 1, 'general')",
            "id = :section",
        ),
        "venue_seats": t(
            "venue_seats",
            "notes = notes",
            "INSERT INTO venue_seats (section_id, row_name, seat_number)"
            " VALUES (:section, 'Z', left(md5(random()::text), 6))",
            "id = :seat",
        ),
        "sponsors": t(
            "sponsors",
            "contact_phone = contact_phone",
            "INSERT INTO sponsors (name, status) VALUES ('Matrix Co', 'active')",
            "id = :sponsor_row",
        ),
        "sponsorships": t(
            "sponsorships",
            "amount = amount",
            "INSERT INTO sponsorships (sponsor_id, event_id, start_date, end_date)"
            " VALUES (:sponsor_row, :other_event, current_date, current_date + 1)",
            "id = :sponsorship",
        ),
        "sponsorship_assets": t(
            "sponsorship_assets",
            "notes = notes",
            "INSERT INTO sponsorship_assets (sponsorship_id, name, file_url, file_type)"
            " VALUES (:sponsorship, 'Logo', 'https://example.com/l.png', 'image/png')",
            "id = :asset",
        ),
        "sponsor_analytics": t(
            "sponsor_analytics",
            "clicks = clicks",
            "INSERT INTO sponsor_analytics (sponsor_id, event_id, date)"
            " VALUES (:sponsor_row, :event, current_date - 3)",
            "id = :sponsor_figures",
        ),
        "sponsorship_tiers": t(
            "sponsorship_tiers",
            "description = description",
            "INSERT INTO sponsorship_tiers (name, display_order)"
            " VALUES ('Matrix ' || gen_random_uuid(), 99)",
            "id = :tier",
        ),
        "sponsor_benefits": t(
            "sponsor_benefits",
            "description = description",
            "INSERT INTO sponsor_benefits (name, category) VALUES ('Matrix', 'digital')",
            "id = :benefit",
        ),
        "tier_benefits": t(
            "tier_benefits",
            "quantity = quantity",
            "INSERT INTO tier_benefits (tier_id, benefit_id) VALUES (:tier, :other_benefit)",
            "tier_id = :tier AND benefit_id = :benefit",
        ),
        "marketing_campaigns": t(
            "marketing_campaigns",
            "budget = budget",
            "INSERT INTO marketing_campaigns (name, start_date, end_date, status)"
            " VALUES ('Matrix', current_date, current_date + 1, 'draft')",
            "id = :campaign",
        ),
        "email_campaigns": t(
            "email_campaigns",
            "subject = subject",
            "INSERT INTO email_campaigns (campaign_id, subject, sender_name, sender_email)"
            " VALUES (:campaign, 'Hi', 'Us', 'us@example.com')",
            "id = :email",
        ),
        "social_media_posts": t(
            "social_media_posts",
            "content = content",
            "INSERT INTO social_media_posts (campaign_id, platform, status)"
            " VALUES (:campaign, 'instagram', 'draft')",
            "id = :post",
        ),
        "campaign_assets": t(
            "campaign_assets",
            "name = name",
            "INSERT INTO campaign_assets (campaign_id, name, asset_type, file_url)"
            " VALUES (:campaign, 'Banner', 'image', 'https://example.com/b.png')",
            "id = :campaign_asset",
        ),
        "marketing_segments": t(
            "marketing_segments",
            "description = description",
            "INSERT INTO marketing_segments (name, segment_type) VALUES ('Matrix', 'static')",
            "id = :segment",
        ),
        "segment_members": t(
            "segment_members",
            "added_at = added_at",
            "INSERT INTO segment_members (segment_id, user_id) VALUES (:segment, :designer)",
            "segment_id = :segment AND user_id = :buyer",
        ),
        "campaign_analytics": t(
            "campaign_analytics",
            "clicks = clicks",
            "INSERT INTO campaign_analytics (campaign_id, date, channel)"
            " VALUES (:campaign, current_date - 2, 'email')",
            "id = :campaign_figures",
        ),
        "email_analytics": t(
            "email_analytics",
            "opens = opens",
            "INSERT INTO email_analytics (email_campaign_id, date)"
            " VALUES (:email, current_date - 2)",
            "id = :email_figures",
        ),
        "social_media_analytics": t(
            "social_media_analytics",
            "likes = likes",
            "INSERT INTO social_media_analytics (post_id, date) VALUES (:post, current_date - 2)",
            "id = :post_figures",
        ),
        "user_engagement": t(
            "user_engagement",
            "engagement_data = engagement_data",
            "INSERT INTO user_engagement (user_id, engagement_type, engagement_source)"
            " VALUES (:me, 'view', 'matrix')",
            "id = :engagement",
        ),
        "domain_events": t(
            "domain_events",
            "error = error",
            "INSERT INTO domain_events (aggregate_id, aggregate_type, event_type, event_data,"
            " idempotency_key, source_system) VALUES ('x', 'order', 'order.placed', '{}',"
            " 'm-' || gen_random_uuid(), 'matrix')",
            "id = :domain_event",
        ),
        "background_jobs": t(
            "background_jobs",
            "priority = priority",
            "INSERT INTO background_jobs (job_type, created_by) VALUES ('matrix.noop', :me)",
            "id = :job",
        ),
        "system_configurations:setting": t(
            "system_configurations",
            "description = description",
            "INSERT INTO system_configurations (category, key, value, value_type)"
            " VALUES ('matrix', 'k-' || gen_random_uuid(), '1', 'number')",
            "id = :setting",
        ),
        "system_configurations:secret": t(
            "system_configurations",
            "description = description",
            "INSERT INTO system_configurations (category, key, value, value_type)"
            " VALUES ('matrix', 'api_key_' || gen_random_uuid(), '\"k\"', 'string')",
            "id = :secret",
        ),
        "api_usage_logs": t(
            "api_usage_logs",
            "user_agent = user_agent",
            "INSERT INTO api_usage_logs (api_key_id, endpoint, method, status_code,"
            " response_time_ms) VALUES (:api_key, '/x', 'GET', 200, 1)",
            "id = :api_use",
        ),
        "webhook_delivery_logs": t(
            "webhook_delivery_logs",
            "error_message = error_message",
            "INSERT INTO webhook_delivery_logs (webhook_id, event_type, payload)"
            " VALUES (:webhook, 'order.created', '{}')",
            "id = :delivery",
        ),
        "pages": t(
            "pages",
            "title = title",
            "INSERT INTO pages (title, slug) VALUES ('Matrix', 'matrix-' || gen_random_uuid())",
            "id = :page",
        ),
        "content_blocks": t(
            "content_blocks",
            "title = title",
            "INSERT INTO content_blocks (page_id, block_type) VALUES (:page, 'text')",
            "id = :block",
        ),
        "page_versions": t(
            "page_versions",
            "change_summary = change_summary",
            "INSERT INTO page_versions (page_id, version, title, layout, content_snapshot)"
            " VALUES (:page, 99, 'Matrix', 'default', '{}')",
            "id = :page_version",
        ),
        "media_items": t(
            "media_items",
            "caption = caption",
            "INSERT INTO media_items (file_name, file_type, mime_type, file_size, url)"
            " VALUES ('m.png', 'image', 'image/png', 1, 'https://example.com/m.png')",
            "id = :media",
        ),
    }


TARGETS = _targets()


@dataclass
class World:
    people: dict[str, Identity]
    ids: dict[str, Any]


def _id(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).scalar_one()


def _build(owner_conn: Connection, people: dict[str, Identity]) -> dict[str, Any]:
    c = owner_conn
    ids: dict[str, Any] = {role: p.user_id for role, p in people.items()}
    venue = _id(
        c,
        "INSERT INTO venues (name, address, city, country, contact_email)"
        " VALUES ('Matrix Venue', '2 Road', 'Lyon', 'FR', 'venue@example.com') RETURNING id",
    )
    section = _id(
        c,
        "INSERT INTO venue_sections (venue_id, name, capacity, section_type)"
        " VALUES (:v, 'Stalls', 2, 'general') RETURNING id",
        v=venue,
    )
    seat, spare = (
        _id(
            c,
            "INSERT INTO venue_seats (section_id, row_name, seat_number)"
            " VALUES (:s, 'A', :n) RETURNING id",
            s=section,
            n=n,
        )
        for n in ("1", "2")
    )
    ids.update(venue=venue, section=section, seat=seat, spare_seat=spare)

    def event(organizer: str) -> uuid.UUID:
        return _id(
            c,
            "INSERT INTO events (organizer_id, title, start_date, end_date, type, status,"
            " venue_id, published_at) VALUES (:o, 'Matrix ' || gen_random_uuid(),"
            " now() + interval '30 days', now() + interval '30 days 3 hours', 'fashion_show',"
            " 'published', :v, now()) RETURNING id",
            o=ids[organizer],
            v=venue,
        )

    ids["event"], ids["other_event"] = event("organizer"), event("other_organizer")
    for event_key, person in (("event", "staff_on"), ("other_event", "staff_off")):
        c.execute(
            text("INSERT INTO event_staff (event_id, user_id) VALUES (:e, :u)"),
            {"e": ids[event_key], "u": ids[person]},
        )

    def ticket_type(event_key: str) -> uuid.UUID:
        return _id(
            c,
            "INSERT INTO ticket_types (event_id, name, base_price, total_capacity,"
            " remaining_capacity, sale_start_date, sale_end_date, tier) VALUES (:e, 'General',"
            " 40, 100, 99, now() - interval '1 day', now() + interval '20 days', 'general')"
            " RETURNING id",
            e=ids[event_key],
        )

    ids["ticket_type"], ids["other_ticket_type"] = ticket_type("event"), ticket_type("other_event")
    c.execute(
        text("INSERT INTO event_seats (event_id, seat_id) VALUES (:e, :s)"),
        {"e": ids["event"], "s": seat},
    )
    ids["hold"] = _id(
        c,
        "INSERT INTO ticket_inventory_locks (ticket_type_id, event_id, quantity, session_id,"
        " expires_at) VALUES (:t, :e, 1, 'matrix-hold', now() + interval '10 minutes')"
        " RETURNING id",
        t=ids["ticket_type"],
        e=ids["event"],
    )
    ids["category"], ids["other_category"] = (
        _id(c, "INSERT INTO event_categories (name) VALUES (:n) RETURNING id", n=f"Matrix {n}")
        for n in (uuid.uuid4(), uuid.uuid4())
    )
    ids["mapping"] = _id(
        c,
        "INSERT INTO event_category_mappings (event_id, category_id) VALUES (:e, :c) RETURNING id",
        e=ids["event"],
        c=ids["category"],
    )
    ids["schedule"] = _id(
        c,
        "INSERT INTO event_schedules (event_id, title, start_time, end_time) VALUES (:e,"
        " 'Doors', now() + interval '30 days', now() + interval '30 days 1 hour') RETURNING id",
        e=ids["event"],
    )
    ids["discount_code"] = _id(
        c,
        "INSERT INTO discount_codes (code, discount_type, discount_value, start_date, end_date)"
        " VALUES (:c, 'percentage', 10, now() - interval '1 day', now() + interval '9 days')"
        " RETURNING id",
        c=f"MATRIX{uuid.uuid4().hex[:8]}",
    )
    links = {"d": ids["discount_code"], "e": ids["event"], "t": ids["ticket_type"]}
    c.execute(
        text("INSERT INTO discount_code_events (discount_code_id, event_id) VALUES (:d, :e)"),
        links,
    )
    c.execute(
        text(
            "INSERT INTO discount_code_ticket_types (discount_code_id, ticket_type_id)"
            " VALUES (:d, :t)"
        ),
        links,
    )
    ids["campaign"] = _id(
        c,
        "INSERT INTO marketing_campaigns (name, start_date, end_date, status, budget)"
        " VALUES ('Matrix launch', current_date, current_date + 30, 'active', 5000) RETURNING id",
    )
    ids["promo_code"] = _id(
        c,
        "INSERT INTO promotional_codes (campaign_id, code, discount_type, discount_value,"
        " start_date, end_date) VALUES (:m, :c, 'percentage', 10, now() - interval '1 day',"
        " now() + interval '9 days') RETURNING id",
        m=ids["campaign"],
        c=f"PROMO{uuid.uuid4().hex[:8]}",
    )
    ids["other_promo_code"] = _id(
        c,
        "INSERT INTO promotional_codes (code, discount_type, discount_value, start_date,"
        " end_date) VALUES (:c, 'fixed_amount', 5, now() - interval '1 day',"
        " now() + interval '9 days') RETURNING id",
        c=f"PROMO{uuid.uuid4().hex[:8]}",
    )
    links = {"p": ids["promo_code"], "e": ids["event"], "t": ids["ticket_type"]}
    c.execute(
        text("INSERT INTO promotional_code_events (promotional_code_id, event_id) VALUES (:p, :e)"),
        links,
    )
    c.execute(
        text(
            "INSERT INTO promotional_code_ticket_types (promotional_code_id, ticket_type_id)"
            " VALUES (:p, :t)"
        ),
        links,
    )
    ids["order"] = _id(
        c,
        "INSERT INTO orders (order_number, user_id, event_id, status, subtotal, tax_amount,"
        " total_amount, billing_email, billing_name, billing_phone, notes, ip_address)"
        " VALUES (:n, :u, :e, 'completed', 80, 0, 80, 'buyer@example.com', 'Bea Buyer',"
        " '+33 1 23 45 67 89', 'aisle please', '203.0.113.9') RETURNING id",
        n=f"FW-MATRIX-{uuid.uuid4().hex[:6]}",
        u=ids["buyer"],
        e=ids["event"],
    )
    ids["item"] = _id(
        c,
        "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price, subtotal,"
        " final_price, promotional_code_id, refunded_quantity, refunded_amount, refunded_at)"
        " VALUES (:o, :t, 1, 40, 40, 40, :p, 1, 40, now()) RETURNING id",
        o=ids["order"],
        t=ids["ticket_type"],
        p=ids["promo_code"],
    )
    ids["payment"] = _id(
        c,
        "INSERT INTO order_payments (order_id, provider, method, amount, reference)"
        " VALUES (:o, 'box_office', 'cash', 80, :r) RETURNING id",
        o=ids["order"],
        r=f"pay-{uuid.uuid4()}",
    )
    ids["refund"] = _id(
        c,
        "INSERT INTO order_refunds (order_id, order_item_id, quantity, amount, reason, method,"
        " reference, refunded_by) VALUES (:o, :i, 1, 40, 'changed plans', 'cash', :r, :by)"
        " RETURNING id",
        o=ids["order"],
        i=ids["item"],
        r=f"ref-{uuid.uuid4()}",
        by=ids["organizer"],
    )
    ids["promo_use"] = _id(
        c,
        "INSERT INTO promotional_code_usage (code_id, user_id, order_id, discount_amount,"
        " order_total) VALUES (:p, :u, :o, 4, 80) RETURNING id",
        p=ids["promo_code"],
        u=ids["buyer"],
        o=ids["order"],
    )
    ids["sponsor_row"] = _id(
        c,
        "INSERT INTO sponsors (name, status, user_id, contact_email, contact_phone)"
        " VALUES ('Matrix Sponsor', 'active', :u, 'deals@sponsor.example', '+1 555 0100')"
        " RETURNING id",
        u=ids["sponsor"],
    )
    ids["sponsorship"] = _id(
        c,
        "INSERT INTO sponsorships (sponsor_id, event_id, start_date, end_date, amount, notes)"
        " VALUES (:s, :e, current_date, current_date + 30, 25000, 'net 30') RETURNING id",
        s=ids["sponsor_row"],
        e=ids["event"],
    )
    ids["asset"] = _id(
        c,
        "INSERT INTO sponsorship_assets (sponsorship_id, name, file_url, file_type)"
        " VALUES (:s, 'Banner', 'https://example.com/s.png', 'image/png') RETURNING id",
        s=ids["sponsorship"],
    )
    ids["sponsor_figures"] = _id(
        c,
        "INSERT INTO sponsor_analytics (sponsor_id, event_id, date, cost, revenue)"
        " VALUES (:s, :e, current_date - 1, 100, 900) RETURNING id",
        s=ids["sponsor_row"],
        e=ids["event"],
    )
    ids["tier"] = _id(
        c,
        "INSERT INTO sponsorship_tiers (name, display_order) VALUES (:n, 50) RETURNING id",
        n=f"Matrix tier {uuid.uuid4()}",
    )
    ids["benefit"], ids["other_benefit"] = (
        _id(
            c,
            "INSERT INTO sponsor_benefits (name, category) VALUES (:n, 'digital') RETURNING id",
            n=n,
        )
        for n in ("Logo on site", "Newsletter")
    )
    c.execute(
        text("INSERT INTO tier_benefits (tier_id, benefit_id) VALUES (:t, :b)"),
        {"t": ids["tier"], "b": ids["benefit"]},
    )
    ids["email"] = _id(
        c,
        "INSERT INTO email_campaigns (campaign_id, subject, sender_name, sender_email)"
        " VALUES (:m, 'News', 'Fashionistas', 'news@example.com') RETURNING id",
        m=ids["campaign"],
    )
    ids["post"] = _id(
        c,
        "INSERT INTO social_media_posts (campaign_id, platform, status)"
        " VALUES (:m, 'instagram', 'published') RETURNING id",
        m=ids["campaign"],
    )
    ids["campaign_asset"] = _id(
        c,
        "INSERT INTO campaign_assets (campaign_id, name, asset_type, file_url)"
        " VALUES (:m, 'Hero', 'image', 'https://example.com/h.png') RETURNING id",
        m=ids["campaign"],
    )
    ids["segment"] = _id(
        c,
        "INSERT INTO marketing_segments (name, segment_type) VALUES ('VIPs', 'static')"
        " RETURNING id",
    )
    c.execute(
        text("INSERT INTO segment_members (segment_id, user_id) VALUES (:s, :u)"),
        {"s": ids["segment"], "u": ids["buyer"]},
    )
    ids["campaign_figures"] = _id(
        c,
        "INSERT INTO campaign_analytics (campaign_id, date, channel, cost, revenue)"
        " VALUES (:m, current_date - 1, 'email', 50, 700) RETURNING id",
        m=ids["campaign"],
    )
    ids["email_figures"] = _id(
        c,
        "INSERT INTO email_analytics (email_campaign_id, date, opens) VALUES (:e,"
        " current_date - 1, 10) RETURNING id",
        e=ids["email"],
    )
    ids["post_figures"] = _id(
        c,
        "INSERT INTO social_media_analytics (post_id, date, likes) VALUES (:p,"
        " current_date - 1, 10) RETURNING id",
        p=ids["post"],
    )
    ids["engagement"] = _id(
        c,
        "INSERT INTO user_engagement (user_id, event_id, engagement_type, engagement_source,"
        " ip_address) VALUES (:u, :e, 'view', 'web', '198.51.100.7') RETURNING id",
        u=ids["buyer"],
        e=ids["event"],
    )
    ids["domain_event"] = _id(
        c,
        "INSERT INTO domain_events (aggregate_id, aggregate_type, event_type, event_data,"
        " idempotency_key, source_system) VALUES (:o, 'order', 'order.placed', :d, :k,"
        " 'checkout') RETURNING id",
        o=str(ids["order"]),
        d=Jsonb({"billing_email": "buyer@example.com"}),
        k=f"matrix-{uuid.uuid4()}",
    )
    ids["job"] = _id(
        c,
        "INSERT INTO background_jobs (job_type, payload, created_by)"
        " VALUES ('matrix.export', '{}', :u) RETURNING id",
        u=ids["organizer"],
    )
    ids["setting"] = _id(
        c,
        "INSERT INTO system_configurations (category, key, value, value_type)"
        " VALUES ('matrix', :k, '15', 'number') RETURNING id",
        k=f"hold-{uuid.uuid4()}",
    )
    ids["secret"] = _id(
        c,
        "INSERT INTO system_configurations (category, key, value, value_type)"
        " VALUES ('matrix', :k, '\"s3cret\"', 'string') RETURNING id",
        k=f"smtp_password_{uuid.uuid4().hex[:6]}",
    )
    ids["api_key"] = _id(
        c,
        "INSERT INTO api_keys (name, key_prefix, key_hash, user_id)"
        " VALUES ('m', 'fsh_mx', :h, :u) RETURNING id",
        h=uuid.uuid4().hex,
        u=ids["buyer"],
    )
    ids["api_use"] = _id(
        c,
        "INSERT INTO api_usage_logs (api_key_id, endpoint, method, status_code,"
        " response_time_ms, ip_address) VALUES (:k, '/orders', 'GET', 200, 5, '192.0.2.1')"
        " RETURNING id",
        k=ids["api_key"],
    )
    ids["webhook"] = _id(
        c,
        "INSERT INTO webhooks (user_id, name, url, events) VALUES (:u, 'h',"
        " 'https://example.com/h', ARRAY['order.created']) RETURNING id",
        u=ids["buyer"],
    )
    ids["delivery"] = _id(
        c,
        "INSERT INTO webhook_delivery_logs (webhook_id, event_type, payload)"
        " VALUES (:w, 'order.created', :p) RETURNING id",
        w=ids["webhook"],
        p=Jsonb({"billing_email": "buyer@example.com"}),
    )
    ids["page"] = _id(
        c,
        "INSERT INTO pages (title, slug, status, author_id) VALUES ('Draft', :s, 'draft', :u)"
        " RETURNING id",
        s=f"matrix-draft-{uuid.uuid4().hex[:8]}",
        u=ids["designer"],
    )
    ids["block"] = _id(
        c,
        "INSERT INTO content_blocks (page_id, block_type) VALUES (:p, 'text') RETURNING id",
        p=ids["page"],
    )
    ids["page_version"] = _id(
        c,
        "INSERT INTO page_versions (page_id, version, title, layout, content_snapshot,"
        " author_id) VALUES (:p, 1, 'Draft', 'default', '{}', :u) RETURNING id",
        p=ids["page"],
        u=ids["designer"],
    )
    ids["media"] = _id(
        c,
        "INSERT INTO media_items (file_name, file_type, mime_type, file_size, url, uploaded_by)"
        " VALUES ('a.png', 'image', 'image/png', 10, 'https://example.com/a.png', :u)"
        " RETURNING id",
        u=ids["designer"],
    )
    return ids


@pytest.fixture(scope="module")
def world(secure_database: SecureDatabase) -> World:
    owner = secure_database.owner
    people = {
        "admin": make_person(owner, ["admin"], user_type="admin"),
        "organizer": make_person(owner, ["organizer"]),
        "other_organizer": make_person(owner, ["organizer"]),
        "staff_on": make_person(owner, ["staff"], user_type="staff"),
        "staff_off": make_person(owner, ["staff"], user_type="staff"),
        "marketing": make_person(owner, ["marketing"], user_type="marketing"),
        "designer": make_person(owner, ["designer"], user_type="designer"),
        "sponsor": make_person(owner, ["sponsor"], user_type="sponsor"),
        "buyer": make_person(owner, [], user_type="attendee"),
    }
    with owner.begin() as conn:
        ids = _build(conn, people)
    return World(people, ids)


@contextmanager
def acting(world: World, role: str) -> Iterator[Session]:
    """A transaction on the app role as `role` (never committed); `nobody` is a bare
    connection that says nothing about who acts."""
    if role == "nobody":
        with Session(get_engine()) as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()
        return
    with unit_of_work(world.people[role].actor()) as uow:
        yield uow.session


def _params(world: World, role: str) -> dict[str, Any]:
    me = world.people[role].user_id if role != "nobody" else None
    return {**world.ids, "me": me}


def _refused(exc: DBAPIError) -> bool:
    message = str(exc.orig)
    return "row-level security" in message or "permission denied" in message


def _allowed(session: Session, target: Target, op: str, params: dict[str, Any]) -> bool:
    where = target.where
    statements = {
        "S": f"SELECT count(*) FROM {target.table} WHERE {where}",
        "U": f"UPDATE {target.table} SET {target.update} WHERE {where}",
        "D": f"DELETE FROM {target.table} WHERE {where}",
        "I": target.insert,
    }
    savepoint = session.begin_nested()
    try:
        result = session.execute(text(statements[op]), params)
        done = result.scalar_one() if op == "S" else (result.rowcount if op != "I" else 1)
    except IntegrityError as exc:
        # Row-level security let the statement at the row; a foreign key stopped it.
        if op == "D" and getattr(exc.orig, "sqlstate", None) == "23503":
            done = 1
        else:
            raise
    except DBAPIError as exc:
        if not _refused(exc):
            raise
        done = 0
    finally:
        savepoint.rollback()
    assert done in (0, 1), f"{op} on {target.table} reached {done} rows: the key is too wide"
    return done == 1


def test_every_table_of_migration_0013_is_in_the_matrix() -> None:
    spec = importlib.util.spec_from_file_location("migration_0013", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    covered = {key.split(":")[0] for key in EXPECTED}
    assert covered == set(migration.RLS_TABLES)
    assert set(EXPECTED) == set(TARGETS)


@pytest.mark.parametrize("role", ROLES)
def test_the_matrix_for(secure_database: SecureDatabase, world: World, role: str) -> None:
    params = _params(world, role)
    wrong: dict[str, tuple[str, str]] = {}
    with acting(world, role) as session:
        for key, target in TARGETS.items():
            expected = EXPECTED[key].get(role, "")
            got = "".join(op for op in "SIUD" if _allowed(session, target, op, params))
            if got != expected:
                wrong[key] = (f"expected {expected or '-'}", f"got {got or '-'}")
    assert wrong == {}
