"""Campaign management: campaigns, e-mails, posts, promo codes, and segments whose size
matches their filter and leaves out people marketing may not reach (inactive, anonymized,
restricted processing); the Campaigns page in AppTest. A database of this module's own,
as the app role."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.auth import Identity, PermissionDenied
from core.db import unit_of_work
from core.errors import Conflict, ValidationError
from core.marketing.campaigns import (
    CampaignDraft,
    create_campaign,
    create_email,
    create_post,
    list_campaigns,
    list_emails,
    list_posts,
    update_campaign,
)
from core.marketing.promo_codes import PromoCodeDraft, create_promo_code, set_promo_code_active
from core.marketing.segments import (
    SegmentCriteria,
    add_members,
    create_segment,
    preview_audience_size,
    recalculate_segment,
)
from tests.apptest import make_person, messages, open_page
from tests.factories import make_event, make_user

PAGE = "campaigns.py"


@pytest.fixture(scope="module")
def marketer(owner: Engine) -> Identity:
    return make_person(owner, ["marketing"])


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def test_campaigns_emails_and_posts(marketer: Identity) -> None:
    actor = marketer.actor()
    draft = CampaignDraft(
        f"Spring launch {_tag()}",
        date(2026, 3, 1),
        date(2026, 3, 31),
        budget=Decimal("5000"),
        channels=("email", "instagram"),
        goals={"tickets": 300},
        target_audience={"age": "25-34"},
    )
    with pytest.raises(ValidationError) as caught:
        create_campaign(actor, CampaignDraft(**{**draft.__dict__, "channels": ("carrier pigeon",)}))
    assert caught.value.field == "channels"
    with pytest.raises(ValidationError) as caught:
        create_campaign(actor, CampaignDraft(**{**draft.__dict__, "budget": Decimal("-1")}))
    assert caught.value.field == "budget"
    made = create_campaign(actor, draft)
    assert (made.channels, made.goals, made.budget) == (
        ("email", "instagram"),
        {"tickets": 300},
        Decimal("5000.00"),
    )
    active = update_campaign(
        actor, made.campaign_id, CampaignDraft(**{**draft.__dict__, "status": "active"})
    )
    assert active.status == "active"
    assert made.campaign_id in {c.campaign_id for c in list_campaigns(actor, status="active")}

    with pytest.raises(ValidationError) as caught:
        create_email(actor, made.campaign_id, "Hi", "Us", "not-an-email")
    assert caught.value.field == "sender_email"
    create_email(actor, made.campaign_id, "Tickets are live", "Us", "us@example.com")
    assert [m.subject for m in list_emails(actor, made.campaign_id)] == ["Tickets are live"]
    with pytest.raises(ValidationError) as caught:
        create_post(actor, made.campaign_id, "instagram", "Soon", status="scheduled")
    assert caught.value.field == "scheduled_at"
    create_post(actor, made.campaign_id, "tiktok", "Backstage")
    assert [(p.platform, p.status) for p in list_posts(actor, made.campaign_id)] == [
        ("tiktok", "draft")
    ]


def test_promo_codes_are_unique_across_both_kinds(owner: Engine, marketer: Identity) -> None:
    actor = marketer.actor()
    now = datetime.now(UTC)
    code = f"SPRING{_tag().upper()}"
    draft = PromoCodeDraft(code.lower(), "percentage", Decimal("15"), now, now + timedelta(days=9))
    made = create_promo_code(actor, draft)
    assert made.code == code and made.is_active
    with pytest.raises(Conflict):
        create_promo_code(actor, draft)
    with pytest.raises(ValidationError) as caught:
        create_promo_code(
            actor,
            PromoCodeDraft(f"X{_tag()}", "percentage", Decimal("150"), now, now + timedelta(1)),
        )
    assert caught.value.field == "value"
    set_promo_code_active(actor, made.code_id, False)
    with owner.connect() as conn:
        assert not conn.execute(
            text("SELECT is_active FROM promotional_codes WHERE id = :i"), {"i": made.code_id}
        ).scalar_one()


def _people(owner: Engine, interest: str) -> dict[str, str]:
    """Five attendees sharing `interest`: two reachable (one with two completed orders),
    one restricted, one inactive, one anonymized; returns name -> email."""
    emails: dict[str, str] = {}
    with Session(owner) as s, s.begin():
        event = make_event(s)
        for name, status, extra in (
            ("buyer", "active", {}),
            ("browser", "active", {}),
            ("restricted", "active", {"marketing_restricted_at": datetime.now(UTC)}),
            ("gone", "inactive", {}),
            ("anonymous", "active", {"is_anonymized": True}),
        ):
            user = make_user(s, user_type="attendee", status=status)
            # The profile first: an anonymised account takes no new personal data (the
            # GDPR subject guard, migration 0014).
            s.execute(
                text("INSERT INTO user_profiles (user_id, interests) VALUES (:u, :i)"),
                {"u": user.id, "i": [interest, "denim"]},
            )
            for column, value in extra.items():
                s.execute(
                    text(f"UPDATE users SET {column} = :v WHERE id = :u"),
                    {"v": value, "u": user.id},
                )
            emails[name] = user.email
            if name == "buyer":
                for n in range(2):
                    s.execute(
                        text(
                            "INSERT INTO orders (order_number, user_id, event_id, status,"
                            " billing_email, billing_name, completed_at)"
                            " VALUES (:o, :u, :e, 'completed', :m, 'B', now())"
                        ),
                        {"o": f"SEG-{_tag()}-{n}", "u": user.id, "e": event.id, "m": user.email},
                    )
    return emails


def test_a_dynamic_segment_counts_exactly_its_reachable_people(
    owner: Engine, marketer: Identity
) -> None:
    actor = marketer.actor()
    interest = f"interest-{_tag()}"
    _people(owner, interest)
    assert preview_audience_size(actor, SegmentCriteria(interests=(interest,))) == 2
    assert preview_audience_size(actor, SegmentCriteria("attendee", (interest,), 2)) == 1
    assert preview_audience_size(actor, SegmentCriteria("designer", (interest,))) == 0
    segment = create_segment(
        actor, f"Fans {interest}", "dynamic", criteria=SegmentCriteria(interests=(interest,))
    )
    assert segment.estimated_size == 2 and segment.last_calculated_at is not None
    assert segment.criteria.interests == (interest,)
    with pytest.raises(ValidationError) as caught:
        preview_audience_size(actor, SegmentCriteria(user_type="robot"))
    assert caught.value.field == "user_type"


def test_a_static_segment_counts_its_reachable_members(owner: Engine, marketer: Identity) -> None:
    actor = marketer.actor()
    people = _people(owner, f"interest-{_tag()}")
    segment = create_segment(actor, f"VIP list {_tag()}", "static")
    assert segment.estimated_size == 0
    added, segment = add_members(actor, segment.segment_id, [e.upper() for e in people.values()])
    assert (added, segment.estimated_size, segment.members) == (2, 2, 2)
    # Restricting processing later takes the person out of the size at once.
    with owner.begin() as conn:
        conn.execute(
            text("UPDATE users SET marketing_restricted_at = now() WHERE email = :e"),
            {"e": people["browser"]},
        )
    assert recalculate_segment(actor, segment.segment_id).estimated_size == 1
    with pytest.raises(ValidationError):
        add_members(actor, segment.segment_id, ["  "])


def test_audience_functions_refuse_a_person_without_campaigns_manage(owner: Engine) -> None:
    organizer = make_person(owner, ["organizer"])
    with pytest.raises(PermissionDenied):
        preview_audience_size(organizer.actor(), SegmentCriteria())
    # The database refuses too, whatever the service would have checked.
    with pytest.raises(PermissionDenied), unit_of_work(organizer.actor()) as uow:
        uow.session.execute(text("SELECT marketing_audience_size('{}'::jsonb)"))


def test_the_page_creates_a_dynamic_segment_showing_its_size(
    owner: Engine, marketer: Identity
) -> None:
    interest = f"interest-{_tag()}"
    _people(owner, interest)
    at = open_page(PAGE, marketer)
    assert not at.exception
    assert [t.value for t in at.title] == ["Campaigns"]
    assert at.dataframe, "the campaigns table"
    at.text_input(key="seg_name0").input(f"Page fans {interest}").run()
    at.text_input(key="seg_interests0").input(interest).run()
    assert [m.value for m in at.metric if m.label == "People matching now"] == ["2"]
    at.button(key="seg_create").click().run()
    assert not at.exception
    assert f"Segment Page fans {interest} created: 2." in messages(at)
