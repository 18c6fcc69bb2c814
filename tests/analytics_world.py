"""A small hand-made marketing world whose every figure was worked out by hand (see
tests/test_analytics_metrics.py): two campaigns, one e-mail and one post each, a promo
code with orders, two sponsors, a tier with two benefits and one sponsorship."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from psycopg.types.json import Jsonb
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.models import User
from tests.factories import make_event, make_ticket_type, make_user

D = Decimal
DAY1, DAY2, DAY3, DAY4 = (date(2026, 6, d) for d in (1, 2, 3, 4))


@dataclass(frozen=True)
class World:
    event_id: uuid.UUID
    campaign_a: uuid.UUID
    campaign_b: uuid.UUID
    code_id: uuid.UUID
    sponsor_1: uuid.UUID
    sponsor_2: uuid.UUID
    sponsorship_id: uuid.UUID
    benefit_1: uuid.UUID
    benefit_2: uuid.UUID


def _june(day: int, hour: int) -> datetime:
    return datetime(2026, 6, day, hour, tzinfo=UTC)


def _insert(s: Session, table: str, **values: object) -> uuid.UUID:
    columns = ", ".join(values)
    marks = ", ".join(f":{k}" for k in values)
    return s.execute(
        text(f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id"), values
    ).scalar_one()


def _order(
    s: Session,
    event_id: uuid.UUID,
    ticket_type_id: uuid.UUID,
    code_id: uuid.UUID,
    *,
    at: datetime,
    status: str,
    user_id: uuid.UUID | None,
    email: str,
    quantity: int,
    discount: D,
    final: D,
) -> None:
    tag = uuid.uuid4().hex[:8]
    order_id = _insert(
        s,
        "orders",
        order_number=f"T-{tag}",
        user_id=user_id,
        event_id=event_id,
        status=status,
        total_amount=final,
        subtotal=final + discount,
        discount_amount=discount,
        billing_email=email,
        billing_name="Promo Buyer",
        created_at=at,
        completed_at=at if status == "completed" else None,
        cancelled_at=at if status == "cancelled" else None,
    )
    # The checkout records each use of a code with its order, and drops it when the whole
    # order is cancelled or refunded.
    if status != "cancelled":
        s.execute(
            text(
                "INSERT INTO promotional_code_usage (code_id, user_id, order_id, used_at,"
                " discount_amount, order_total) VALUES (:c, :u, :o, :at, :d, :t)"
            ),
            {"c": code_id, "u": user_id, "o": order_id, "at": at, "d": discount, "t": final},
        )
    _insert(
        s,
        "order_items",
        order_id=order_id,
        ticket_type_id=ticket_type_id,
        quantity=quantity,
        unit_price=(final + discount) / quantity,
        subtotal=final + discount,
        discount_amount=discount,
        final_price=final,
        promotional_code_id=code_id,
    )


def build(owner: Engine) -> World:
    """Commit the world as the owner; returns its ids."""
    tag = uuid.uuid4().hex[:8]
    with Session(owner) as s, s.begin():
        organizer = make_user(s)
        event = make_event(s, organizer, status="published", published_at=datetime.now(UTC))
        ticket_type = make_ticket_type(s, event, total_capacity=1000, remaining_capacity=1000)
        buyer: User = make_user(s, user_type="attendee")
        a = _insert(
            s,
            "marketing_campaigns",
            name=f"Hand A {tag}",
            start_date=DAY1,
            end_date=date(2026, 6, 10),
            status="active",
            budget=D("3000"),
            event_id=event.id,
        )
        b = _insert(
            s,
            "marketing_campaigns",
            name=f"Hand B {tag}",
            start_date=DAY1,
            end_date=DAY3,
            status="active",
            budget=None,
        )
        for campaign, day, channel, imp, clicks, conv, revenue, cost in (
            (a, DAY1, "instagram", 1000, 50, 5, "500", "100"),
            (a, DAY2, "instagram", 3000, 150, 10, "1000", "200"),
            (a, DAY1, "email", 2000, 100, 5, "300", "0"),
            (a, DAY3, "email", 0, 0, 0, "0", "0"),
            (a, DAY4, "instagram", 99999, 999, 99, "9999", "999"),  # outside the range
            (b, DAY2, "display", 0, 0, 0, "0", "0"),
        ):
            _insert(
                s,
                "campaign_analytics",
                campaign_id=campaign,
                date=day,
                channel=channel,
                impressions=imp,
                clicks=clicks,
                conversions=conv,
                revenue=D(revenue),
                cost=D(cost),
            )
        mail_a = _insert(
            s,
            "email_campaigns",
            campaign_id=a,
            subject=f"Tickets {tag}",
            sender_name="F",
            sender_email="f@example.com",
        )
        mail_b = _insert(
            s,
            "email_campaigns",
            campaign_id=b,
            subject=f"Nothing {tag}",
            sender_name="F",
            sender_email="f@example.com",
        )
        for mail, day, sends, opens, clicks, bounces, unsubscribes, complaints in (
            (mail_a, DAY1, 1000, 250, 50, 20, 5, 1),
            (mail_a, DAY2, 0, 10, 2, 0, 0, 0),
            (mail_b, DAY1, 0, 0, 0, 0, 0, 0),
        ):
            _insert(
                s,
                "email_analytics",
                email_campaign_id=mail,
                date=day,
                sends=sends,
                opens=opens,
                clicks=clicks,
                bounces=bounces,
                unsubscribes=unsubscribes,
                complaints=complaints,
            )
        post_a = _insert(
            s, "social_media_posts", campaign_id=a, platform="instagram", status="published"
        )
        post_b = _insert(
            s, "social_media_posts", campaign_id=b, platform="tiktok", status="published"
        )
        for post, day, imp, reach, likes, comments, shares, saves, clicks in (
            (post_a, DAY1, 1000, 800, 70, 10, 10, 10, 20),
            (post_a, DAY3, 500, 400, 40, 5, 5, 0, 5),
            (post_b, DAY1, 0, 0, 0, 0, 0, 0, 0),
        ):
            _insert(
                s,
                "social_media_analytics",
                post_id=post,
                date=day,
                impressions=imp,
                reach=reach,
                engagement=likes + comments + shares + saves,
                likes=likes,
                comments=comments,
                shares=shares,
                saves=saves,
                clicks=clicks,
            )
        code = _insert(
            s,
            "promotional_codes",
            campaign_id=a,
            code=f"HAND{tag.upper()}",
            discount_type="fixed_amount",
            discount_value=D("5"),
            start_date=datetime(2026, 5, 1, tzinfo=UTC),
            end_date=datetime(2026, 7, 1, tzinfo=UTC),
        )
        noon = datetime(2026, 6, 1, 12, tzinfo=UTC)
        for at, status, user, email, quantity, discount, final in (
            (noon, "completed", buyer.id, buyer.email, 2, "10", "90"),
            (datetime(2026, 6, 2, 9, tzinfo=UTC), "completed", buyer.id, buyer.email, 1, "5", "45"),
            (
                datetime(2026, 6, 2, 10, tzinfo=UTC),
                "cancelled",
                None,
                "x@example.com",
                1,
                "5",
                "45",
            ),
            (
                datetime(2026, 6, 5, 10, tzinfo=UTC),
                "completed",
                None,
                "y@example.com",
                1,
                "5",
                "45",
            ),
            (
                datetime(2026, 6, 3, 23, tzinfo=UTC),
                "pending",
                None,
                "Guest@Example.com",
                1,
                "10",
                "100",
            ),
        ):
            _order(
                s,
                event.id,
                ticket_type.id,
                code,
                at=at,
                status=status,
                user_id=user,
                email=email,
                quantity=quantity,
                discount=D(discount),
                final=D(final),
            )
        sponsor_1 = _insert(s, "sponsors", name=f"Hand Sponsor One {tag}", status="active")
        sponsor_2 = _insert(s, "sponsors", name=f"Hand Sponsor Two {tag}", status="active")
        tier = _insert(s, "sponsorship_tiers", name=f"Hand tier {tag}", display_order=90)
        benefit_1 = _insert(s, "sponsor_benefits", name=f"Hand banner {tag}", category="branding")
        benefit_2 = _insert(s, "sponsor_benefits", name=f"Hand lounge {tag}", category="activation")
        for benefit, quantity in ((benefit_1, 3), (benefit_2, 2)):
            s.execute(
                text(
                    "INSERT INTO tier_benefits (tier_id, benefit_id, quantity) VALUES (:t, :b, :q)"
                ),
                {"t": tier, "b": benefit, "q": quantity},
            )
        sponsorship = _insert(
            s,
            "sponsorships",
            sponsor_id=sponsor_1,
            event_id=event.id,
            tier_id=tier,
            start_date=date(2026, 5, 1),
            end_date=date(2026, 6, 30),
            amount=D("10000"),
            payment_status="paid",
            benefits=Jsonb({"delivered": {str(benefit_1): 3, str(benefit_2): 1}}),
        )
        for sponsor, event_id, day, imp, clicks, leads, conv, cost, revenue in (
            (sponsor_1, event.id, DAY1, 10000, 200, 20, 4, "100", "400"),
            (sponsor_1, event.id, DAY2, 10000, 100, 0, 0, "100", "0"),
            (sponsor_1, None, DAY1, 5000, 50, 5, 1, "0", "50"),
            (sponsor_2, None, DAY1, 0, 0, 0, 0, "0", "0"),
        ):
            _insert(
                s,
                "sponsor_analytics",
                sponsor_id=sponsor,
                event_id=event_id,
                date=day,
                impressions=imp,
                clicks=clicks,
                leads_generated=leads,
                conversions=conv,
                cost=D(cost),
                revenue=D(revenue),
            )
        return World(event.id, a, b, code, sponsor_1, sponsor_2, sponsorship, benefit_1, benefit_2)
