"""Sponsor management: sponsors, tiers and benefits, sponsorships with delivered benefits,
and the asset approval flow (services and the Sponsors page in AppTest), on a database of
this module's own as the app role."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.auth import Identity, PermissionDenied
from core.errors import Conflict, ValidationError
from core.sponsors.assets import add_asset, list_assets, review_asset
from core.sponsors.catalog import (
    SponsorDraft,
    create_benefit,
    create_sponsor,
    create_tier,
    list_tiers,
    set_tier_benefit,
    update_sponsor,
)
from core.sponsors.sponsorships import (
    SponsorshipDraft,
    create_sponsorship,
    list_deliveries,
    list_sponsorships,
    record_deliveries,
    update_sponsorship,
)
from tests.apptest import make_person, messages, open_page
from tests.factories import make_event

PAGE = "sponsors.py"


@pytest.fixture(scope="module")
def marketer(owner: Engine) -> Identity:
    return make_person(owner, ["marketing"])


@pytest.fixture(scope="module")
def event_id(owner: Engine) -> uuid.UUID:
    with Session(owner) as s, s.begin():
        return make_event(s, status="published", published_at=datetime.now(UTC)).id


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _deal(marketer: Identity, event_id: uuid.UUID, **changes: object) -> uuid.UUID:
    actor = marketer.actor()
    sponsor = create_sponsor(actor, SponsorDraft(f"Maison {_tag()}", contact_email="a@b.co"))
    tier = create_tier(actor, f"Tier {_tag()}", display_order=50)
    values: dict[str, object] = {
        "sponsor_id": sponsor.sponsor_id,
        "event_id": event_id,
        "tier_id": tier,
        "start_date": date(2026, 1, 1),
        "end_date": date(2026, 12, 31),
        "amount": Decimal("25000"),
    }
    values.update(changes)
    return create_sponsorship(actor, SponsorshipDraft(**values)).sponsorship_id  # type: ignore[arg-type]


def test_sponsors_and_sponsorships_are_managed_with_named_rules(
    marketer: Identity, event_id: uuid.UUID
) -> None:
    actor = marketer.actor()
    with pytest.raises(ValidationError) as caught:
        create_sponsor(actor, SponsorDraft("  "))
    assert caught.value.field == "name"
    with pytest.raises(ValidationError) as caught:
        create_sponsor(actor, SponsorDraft("X", contact_email="nope"))
    assert caught.value.field == "contact_email"
    sponsor = create_sponsor(actor, SponsorDraft(f"Atelier {_tag()}", industry="Beauty"))
    renamed = update_sponsor(actor, sponsor.sponsor_id, SponsorDraft(sponsor.name, "inactive"))
    assert renamed.status == "inactive"

    draft = SponsorshipDraft(
        sponsor.sponsor_id, event_id, None, date(2026, 3, 1), date(2026, 2, 1), Decimal("100")
    )
    with pytest.raises(ValidationError) as caught:
        create_sponsorship(actor, draft)
    assert caught.value.field == "end_date"
    good = SponsorshipDraft(
        sponsor.sponsor_id,
        event_id,
        None,
        date(2026, 1, 1),
        date(2026, 2, 1),
        Decimal("100"),
        custom_tier_name="Official water",
        contract_url="https://docs.example/contract.pdf",
        is_featured=True,
        display_order=2,
    )
    made = create_sponsorship(actor, good)
    assert (made.tier, made.is_featured, made.display_order) == ("Official water", True, 2)
    with pytest.raises(Conflict):
        create_sponsorship(actor, good)
    paid = update_sponsorship(
        actor, made.sponsorship_id, SponsorshipDraft(**{**good.__dict__, "payment_status": "paid"})
    )
    assert paid.payment_status == "paid"
    assert made.sponsorship_id in {
        d.sponsorship_id for d in list_sponsorships(actor, event_id=event_id)
    }


def test_tier_benefits_and_deliveries(
    owner: Engine, marketer: Identity, event_id: uuid.UUID
) -> None:
    actor = marketer.actor()
    deal = _deal(marketer, event_id)
    with owner.connect() as conn:
        tier = conn.execute(
            text("SELECT tier_id FROM sponsorships WHERE id = :d"), {"d": deal}
        ).scalar_one()
    banner = create_benefit(actor, f"Banner {_tag()}", "branding")
    seats = create_benefit(actor, f"Seats {_tag()}", "hospitality")
    set_tier_benefit(actor, tier, banner, 3)
    set_tier_benefit(actor, tier, seats, 4)
    set_tier_benefit(actor, tier, seats, 2)
    grants = {
        b.benefit_id: b.quantity for t in list_tiers(actor) if t.tier_id == tier for b in t.benefits
    }
    assert grants == {banner: 3, seats: 2}
    record_deliveries(actor, deal, {banner: 3, seats: 1})
    record_deliveries(actor, deal, {seats: 0})
    assert {(d.benefit_id, d.promised, d.delivered) for d in list_deliveries(actor, deal)} == {
        (banner, 3, 3),
        (seats, 2, 0),
    }
    with pytest.raises(ValidationError):
        record_deliveries(actor, deal, {banner: -1})


def test_an_asset_is_approved_or_rejected_once_and_rejection_needs_a_note(
    owner: Engine, marketer: Identity, event_id: uuid.UUID
) -> None:
    actor = marketer.actor()
    deal = _deal(marketer, event_id)
    logo = add_asset(actor, deal, "Logo", "https://cdn.example/logo.svg", "image/svg+xml")
    assert logo.status == "pending"
    with pytest.raises(ValidationError) as caught:
        review_asset(actor, logo.asset_id, "rejected", "  ")
    assert caught.value.field == "review_note"
    rejected = review_asset(actor, logo.asset_id, "rejected", "Send a vector file.")
    assert (rejected.status, rejected.review_note) == ("rejected", "Send a vector file.")
    with pytest.raises(Conflict):
        review_asset(actor, logo.asset_id, "approved")
    organizer = make_person(owner, ["organizer"])
    with pytest.raises(PermissionDenied):
        list_assets(organizer.actor())
    with owner.connect() as conn:
        reviewer = conn.execute(
            text("SELECT reviewed_by FROM sponsorship_assets WHERE id = :a"), {"a": logo.asset_id}
        ).scalar_one()
    assert reviewer == marketer.user_id


def test_the_approval_flow_runs_on_the_page(
    owner: Engine, marketer: Identity, event_id: uuid.UUID
) -> None:
    actor = marketer.actor()
    deal = _deal(marketer, event_id)
    banner = add_asset(actor, deal, f"Banner {_tag()}", "https://cdn.example/b.png", "image/png")
    video = add_asset(actor, deal, f"Video {_tag()}", "https://cdn.example/v.mp4", "video/mp4")

    at = open_page(PAGE, marketer)
    assert not at.exception
    assert [t.value for t in at.title] == ["Sponsors"]
    assert at.dataframe, "the sponsorships table"

    at.selectbox(key="as_pick").set_value(str(banner.asset_id)).run()
    at.button(key="as_reject").click().run()
    assert "Say why the asset is rejected" in messages(at)
    at.text_area(key=f"as_note_{banner.asset_id}").input("Colours are off-brand.").run()
    at.button(key="as_reject").click().run()
    assert not at.exception
    assert "rejected" in messages(at)

    at.selectbox(key="as_pick").set_value(str(video.asset_id)).run()
    at.button(key="as_approve").click().run()
    assert not at.exception
    with owner.connect() as conn:
        states = dict(
            conn.execute(
                text("SELECT id, status FROM sponsorship_assets WHERE id IN (:a, :b)"),
                {"a": banner.asset_id, "b": video.asset_id},
            ).all()
        )
    assert states == {banner.asset_id: "rejected", video.asset_id: "approved"}


def test_the_page_adds_a_sponsor(owner: Engine, marketer: Identity) -> None:
    at = open_page(PAGE, marketer)
    name = f"Page Sponsor {_tag()}"
    # A fresh session: the create form is the first (generation 0).
    at.text_input(key="spn_new0_name").input(name).run()
    at.button(key="spn_create").click().run()
    assert not at.exception
    assert f"Sponsor {name} added." in messages(at)
    with owner.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM sponsors WHERE name = :n"), {"n": name}
            ).scalar()
            == 1
        )
