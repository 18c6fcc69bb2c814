"""Every dashboard metric on the hand-made world of tests/analytics_world.py, checked
against figures worked out by hand, including zero-cost and zero-impression rows (a ratio
with nothing to divide by is None, never an error); the rollup path gives the same
figures as the raw rows; the window rules. Runs as the app role (row-level security on).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from core.analytics.campaigns import CampaignFilter, get_campaign_dashboard
from core.analytics.metrics import CampaignFigures, ratio
from core.analytics.rollups import get_rollups_refreshed_at, refresh_rollups
from core.analytics.sponsors import SponsorFilter, get_sponsor_dashboard
from core.analytics.window import DateWindow
from core.auth import Identity, PermissionDenied
from core.errors import ValidationError
from tests.analytics_world import DAY1, DAY3, World, build
from tests.apptest import make_person

D = Decimal
JUNE = DateWindow(DAY1, DAY3)


@pytest.fixture(scope="module")
def world(owner: Engine) -> World:
    return build(owner)


@pytest.fixture(scope="module")
def marketer(owner: Engine) -> Identity:
    return make_person(owner, ["marketing"])


def test_ratio_never_divides_by_zero() -> None:
    assert ratio(1, 0) is None
    assert ratio(0, 0) is None
    assert ratio(D("0"), D("0.00")) is None
    assert ratio(3, 4) == D("0.75")
    empty = CampaignFigures()
    assert (empty.ctr, empty.conversion_rate, empty.roi, empty.roas) == (None,) * 4


def test_campaign_figures_match_the_hand_sums(world: World, marketer: Identity) -> None:
    board = get_campaign_dashboard(
        marketer.actor(), CampaignFilter(JUNE, campaign_ids=(world.campaign_a, world.campaign_b))
    )
    rows = {c.campaign_id: c for c in board.campaigns}
    a = rows[world.campaign_a].figures
    # 1000+3000+2000+0 impressions; the 4 June row is outside the range.
    assert a == CampaignFigures(6000, 300, 20, D("1800"), D("300"), D("1500"))
    assert a.ctr == D("0.05")
    assert round(a.conversion_rate, 6) == D("0.066667")  # 20 / 300
    assert a.roi == D("6")  # 1800 / 300
    assert a.roas == D("5")  # 1500 of paid rows / 300
    b = rows[world.campaign_b].figures
    assert b == CampaignFigures()
    assert (b.ctr, b.conversion_rate, b.roi, b.roas) == (None, None, None, None)
    # Promo-code sales attributed to A: orders of 1, 2 and 3 June that are live.
    assert (rows[world.campaign_a].tickets, rows[world.campaign_a].ticket_revenue) == (4, D("235"))
    assert rows[world.campaign_b].tickets == 0
    assert board.totals == a

    channels = {c.channel: c.figures for c in board.channels}
    assert channels["instagram"] == CampaignFigures(4000, 200, 15, D("1500"), D("300"), D("1500"))
    assert channels["instagram"].roi == D("5")
    email = channels["email"]
    assert email == CampaignFigures(2000, 100, 5, D("300"), D("0"), D("0"))
    assert (email.ctr, email.roi, email.roas) == (D("0.05"), None, None)  # zero cost
    assert channels["display"].ctr is None  # zero impressions

    assert board.grain == "day"
    revenue_by_day = {}
    for point in board.trend:
        revenue_by_day[point.period] = revenue_by_day.get(point.period, 0) + point.figures.revenue
    assert revenue_by_day == {DAY1: D("800"), date(2026, 6, 2): D("1000"), DAY3: D("0")}


def test_budget_burn_spreads_the_budget_over_the_campaign_days(
    world: World, marketer: Identity
) -> None:
    board = get_campaign_dashboard(
        marketer.actor(), CampaignFilter(JUNE, campaign_ids=(world.campaign_a,))
    )
    # 3000 over 1–10 June is 300 a day; spent 100, then 200, then nothing.
    assert [(b.spent, b.planned) for b in board.burn] == [
        (D("100"), D("300")),
        (D("300"), D("600")),
        (D("300"), D("900")),
    ]
    assert board.budget == D("3000")


def test_email_social_and_promo_figures(world: World, marketer: Identity) -> None:
    board = get_campaign_dashboard(
        marketer.actor(), CampaignFilter(JUNE, campaign_ids=(world.campaign_a, world.campaign_b))
    )
    e = board.email_totals
    assert (e.sends, e.opens, e.clicks, e.bounces, e.unsubscribes, e.complaints) == (
        1000, 260, 52, 20, 5, 1,
    )  # fmt: skip
    assert (e.open_rate, e.click_rate, e.click_to_open_rate) == (D("0.26"), D("0.052"), D("0.2"))
    assert (e.bounce_rate, e.unsubscribe_rate) == (D("0.02"), D("0.005"))
    nothing = next(m for m in board.emails if m.figures.sends == 0)
    assert (nothing.figures.open_rate, nothing.figures.click_rate) == (None, None)

    platforms = {p.platform: p.figures for p in board.platforms}
    insta = platforms["instagram"]
    assert (insta.posts, insta.impressions, insta.reach, insta.engagement) == (1, 1500, 1200, 150)
    assert (insta.likes, insta.comments, insta.shares, insta.saves, insta.clicks) == (
        110, 15, 15, 10, 25,
    )  # fmt: skip
    assert insta.engagement_rate == D("0.1")
    assert platforms["tiktok"].engagement_rate is None

    (promo,) = board.promos
    p = promo.figures
    # Cancelled (2 June) and out-of-range (5 June) orders do not count; the signed-in
    # buyer's two orders are one buyer, the guest another.
    assert (p.uses, p.unique_buyers, p.tickets) == (3, 2, 4)
    assert (p.discount_given, p.order_value) == (D("25"), D("235"))
    assert round(p.average_order_value, 2) == D("78.33")


def test_sponsor_figures_ranking_tiers_and_benefits(world: World, marketer: Identity) -> None:
    everything = get_sponsor_dashboard(
        marketer.actor(), SponsorFilter(JUNE, sponsor_ids=(world.sponsor_1, world.sponsor_2))
    )
    assert [r.sponsor_id for r in everything.sponsors] == [world.sponsor_1, world.sponsor_2]
    one = everything.sponsors[0].figures
    assert (one.impressions, one.clicks, one.leads, one.conversions) == (25000, 350, 25, 5)
    assert (one.cost, one.revenue) == (D("200"), D("450"))
    assert (one.ctr, one.cost_per_lead, one.roi) == (D("0.014"), D("8"), D("2.25"))
    two = everything.sponsors[1].figures
    assert (two.ctr, two.cost_per_lead, two.roi) == (None, None, None)
    events = {r.event_id: r for r in everything.events}
    assert events[None].title == "Sponsor-wide (no event)"
    assert events[world.event_id].figures.impressions == 20000

    at_event = get_sponsor_dashboard(
        marketer.actor(),
        SponsorFilter(JUNE, event_ids=(world.event_id,), sponsor_ids=(world.sponsor_1,)),
    )
    (only,) = at_event.sponsors
    assert (only.figures.leads, only.figures.cost, only.figures.revenue) == (20, D("200"), D("400"))
    assert (only.figures.cost_per_lead, only.figures.roi) == (D("10"), D("2"))
    assert [(p.period, p.figures.impressions) for p in at_event.trend] == [
        (DAY1, 10000),
        (date(2026, 6, 2), 10000),
    ]
    (tier,) = at_event.tiers
    assert (tier.sponsorships, tier.amount, tier.paid) == (1, D("10000"), D("10000"))
    benefits = {b.benefit_id: b for b in at_event.benefits}
    assert (benefits[world.benefit_1].promised, benefits[world.benefit_1].delivered) == (3, 3)
    assert (benefits[world.benefit_2].promised, benefits[world.benefit_2].delivered) == (2, 1)
    assert benefits[world.benefit_2].outstanding == 1


def test_the_rollups_give_the_same_figures_once_refreshed(world: World, marketer: Identity) -> None:
    long = DateWindow(date(2026, 4, 1), date(2026, 7, 31))
    campaigns = CampaignFilter(long, campaign_ids=(world.campaign_a, world.campaign_b))
    sponsors = SponsorFilter(long, sponsor_ids=(world.sponsor_1, world.sponsor_2))
    assert get_rollups_refreshed_at(marketer.actor()) is None
    raw = get_campaign_dashboard(marketer.actor(), campaigns)
    raw_sponsors = get_sponsor_dashboard(marketer.actor(), sponsors)
    assert not raw.used_rollups and raw.grain == "month"
    # A daily series over all campaigns reads the daily rollups once refreshed.
    june_all = CampaignFilter(JUNE)
    june_raw = get_campaign_dashboard(marketer.actor(), june_all)

    refreshed = refresh_rollups(marketer.actor())
    assert get_rollups_refreshed_at(marketer.actor()) == refreshed
    rolled = get_campaign_dashboard(marketer.actor(), campaigns)
    rolled_sponsors = get_sponsor_dashboard(marketer.actor(), sponsors)
    assert rolled.used_rollups and rolled.rollups_refreshed_at == refreshed
    for part in ("totals", "campaigns", "channels", "trend", "burn", "emails", "platforms"):
        assert getattr(rolled, part) == getattr(raw, part), part
    assert rolled.totals.impressions == 6000 + 99999  # the 4 June row is inside now
    june_rolled = get_campaign_dashboard(marketer.actor(), june_all)
    assert june_rolled.used_rollups and not june_raw.used_rollups
    for part in ("totals", "campaigns", "channels", "trend", "burn"):
        assert getattr(june_rolled, part) == getattr(june_raw, part), part
    hand = {c.campaign_id: c.figures for c in june_rolled.campaigns}
    assert hand[world.campaign_a] == CampaignFigures(6000, 300, 20, D("1800"), D("300"), D("1500"))
    for part in ("totals", "sponsors", "events", "trend", "tiers", "benefits"):
        assert getattr(rolled_sponsors, part) == getattr(raw_sponsors, part), part


def test_a_range_with_edge_days_reads_the_raw_rows_around_whole_months() -> None:
    window = DateWindow(date(2026, 3, 15), date(2026, 7, 3))
    assert window.whole_months() == (date(2026, 4, 1), date(2026, 7, 1))
    assert DateWindow(date(2026, 6, 2), date(2026, 6, 29)).whole_months() is None
    assert DateWindow(date(2026, 6, 1), date(2026, 6, 30)).whole_months() == (
        date(2026, 6, 1),
        date(2026, 7, 1),
    )


def test_bad_ranges_and_people_without_the_permission_are_refused(
    owner: Engine, world: World
) -> None:
    with pytest.raises(ValidationError) as caught:
        DateWindow(DAY3, DAY1)
    assert caught.value.field == "end"
    organizer = make_person(owner, ["organizer"])
    with pytest.raises(PermissionDenied):
        get_campaign_dashboard(organizer.actor(), CampaignFilter(JUNE))
    with pytest.raises(PermissionDenied):
        refresh_rollups(organizer.actor())
    with owner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM campaign_analytics_monthly")).scalar() > 0
