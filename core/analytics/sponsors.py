"""Sponsor ROI: per sponsor and per event, ranking, time series, revenue by tier, and the
benefits each tier promised against those delivered. One read-only unit of work per view;
every figure is a SQL aggregate (ratios: core.analytics.metrics)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.analytics import rollups
from core.analytics.metrics import SponsorFigures
from core.analytics.window import DateWindow
from core.auth.permissions import ANALYTICS_VIEW
from core.db import Actor, unit_of_work

ZERO = Decimal("0")
CUSTOM_TIER = "Custom"
_MEASURES = ("impressions", "clicks", "leads", "conversions", "cost", "revenue")
_SUMS = ", ".join(f"coalesce(sum({m}), 0) AS {m}" for m in _MEASURES)


@dataclass(frozen=True)
class SponsorFilter:
    """A date range, and optionally some events and sponsors (empty: all). With events
    chosen, only figures of those events count (sponsor-wide rows have no event)."""

    window: DateWindow
    event_ids: tuple[uuid.UUID, ...] = ()
    sponsor_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class SponsorOptions:
    sponsors: tuple[tuple[uuid.UUID, str], ...]
    events: tuple[tuple[uuid.UUID, str, datetime], ...]


@dataclass(frozen=True)
class SponsorRow:
    sponsor_id: uuid.UUID
    name: str
    figures: SponsorFigures


@dataclass(frozen=True)
class EventRow:
    event_id: uuid.UUID | None  # None: sponsor-wide figures, tied to no event
    title: str
    figures: SponsorFigures


@dataclass(frozen=True)
class SponsorTrendPoint:
    period: date
    figures: SponsorFigures


@dataclass(frozen=True)
class TierRevenue:
    tier: str
    sponsorships: int
    amount: Decimal
    paid: Decimal


@dataclass(frozen=True)
class BenefitDelivery:
    benefit_id: uuid.UUID
    benefit: str
    category: str
    promised: int
    delivered: int

    @property
    def outstanding(self) -> int:
        return max(self.promised - self.delivered, 0)


@dataclass(frozen=True)
class SponsorDashboard:
    filter: SponsorFilter
    totals: SponsorFigures
    sponsors: tuple[SponsorRow, ...]  # ranked: ROI, then revenue
    events: tuple[EventRow, ...]
    trend: tuple[SponsorTrendPoint, ...]
    tiers: tuple[TierRevenue, ...]
    benefits: tuple[BenefitDelivery, ...]
    grain: str
    used_rollups: bool
    rollups_refreshed_at: datetime | None


def list_sponsor_options(actor: Actor) -> SponsorOptions:
    """Sponsors by name and the events that have sponsorships (newest first), for filters.

    Raises PermissionDenied without analytics.view.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(ANALYTICS_VIEW)
        sponsors = uow.session.execute(
            text("SELECT id, name FROM sponsors ORDER BY name, id")
        ).all()
        events = uow.session.execute(
            text(
                "SELECT e.id, e.title, e.start_date FROM events e"
                " WHERE EXISTS (SELECT 1 FROM sponsorships s WHERE s.event_id = e.id)"
                " ORDER BY e.start_date DESC, e.id"
            )
        ).all()
    return SponsorOptions(
        tuple((r[0], r[1]) for r in sponsors), tuple((r[0], r[1], r[2]) for r in events)
    )


def _figures(row: Any, offset: int) -> SponsorFigures:
    return SponsorFigures(
        int(row[offset]),
        int(row[offset + 1]),
        int(row[offset + 2]),
        int(row[offset + 3]),
        Decimal(row[offset + 4]),
        Decimal(row[offset + 5]),
    )


def _where(flt: SponsorFilter, sponsor: str, event: str) -> tuple[str, dict[str, Any]]:
    parts = ["true"]
    params: dict[str, Any] = {}
    if flt.event_ids:
        parts.append(f"{event} = ANY(:f_events)")
        params["f_events"] = list(flt.event_ids)
    if flt.sponsor_ids:
        parts.append(f"{sponsor} = ANY(:f_sponsors)")
        params["f_sponsors"] = list(flt.sponsor_ids)
    return " AND ".join(parts), params


def get_sponsor_dashboard(actor: Actor, flt: SponsorFilter) -> SponsorDashboard:
    """Every figure of the sponsor ROI page for `flt`, in one read-only transaction.

    Raises PermissionDenied without analytics.view.
    """
    window = flt.window
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(ANALYTICS_VIEW)
        s = uow.session
        s.execute(text("SELECT set_config('jit', 'off', true)"))
        use, refreshed = rollups.use_rollups(s, window)
        where, params = _where(flt, "sponsor_id", "event_id")
        src, src_params = rollups.source(rollups.SPONSOR, window, rollups=use, where=where)
        params.update(src_params)
        sponsors = tuple(
            SponsorRow(r[0], r[1], _figures(r, 2))
            for r in s.execute(
                text(
                    f"""
                    SELECT sp.id, sp.name, {", ".join(f"f.{m}" for m in _MEASURES)}
                      FROM (SELECT sponsor_id, {_SUMS} FROM ({src}) x GROUP BY sponsor_id) f
                      JOIN sponsors sp ON sp.id = f.sponsor_id
                     ORDER BY f.revenue / NULLIF(f.cost, 0) DESC NULLS LAST, f.revenue DESC,
                              sp.name, sp.id
                    """
                ),
                params,
            )
        )
        events = tuple(
            EventRow(r[0], r[1] or "Sponsor-wide (no event)", _figures(r, 2))
            for r in s.execute(
                text(
                    f"""
                    SELECT f.event_id, e.title, {", ".join(f"f.{m}" for m in _MEASURES)}
                      FROM (SELECT event_id, {_SUMS} FROM ({src}) x GROUP BY event_id) f
                      LEFT JOIN events e ON e.id = f.event_id
                     ORDER BY f.revenue DESC, e.title NULLS LAST, f.event_id
                    """
                ),
                params,
            )
        )
        trend = tuple(
            SponsorTrendPoint(r[0], _figures(r, 1))
            for r in s.execute(
                text(
                    f"SELECT date_trunc(:grain, day)::date, {_SUMS} FROM ({src}) x"
                    " GROUP BY 1 ORDER BY 1"
                ),
                {**params, "grain": window.grain},
            )
        )
        tiers = _tiers(s, flt)
        benefits = _benefits(s, flt)
    totals = SponsorFigures(
        *(sum(getattr(e.figures, m) for e in events) for m in SponsorFigures.__dataclass_fields__)
    )
    return SponsorDashboard(
        flt, totals, sponsors, events, trend, tiers, benefits, window.grain, use, refreshed
    )


# Sponsorships running at some time in the range, of the chosen events and sponsors.
_SPONSORSHIPS = """
    SELECT s.* FROM sponsorships s
     WHERE s.start_date <= :end AND s.end_date >= :start AND {where}
"""


def _tiers(s: Session, flt: SponsorFilter) -> tuple[TierRevenue, ...]:
    where, params = _where(flt, "s.sponsor_id", "s.event_id")
    rows = s.execute(
        text(
            f"""
            SELECT coalesce(t.name, :custom), count(*), coalesce(sum(s.amount), 0),
                   coalesce(sum(s.amount) FILTER (WHERE s.payment_status = 'paid'), 0)
              FROM ({_SPONSORSHIPS.format(where=where)}) s
              LEFT JOIN sponsorship_tiers t ON t.id = s.tier_id
             GROUP BY t.name, t.display_order
             ORDER BY t.display_order NULLS LAST, 1
            """
        ),
        {**params, "start": flt.window.start, "end": flt.window.end, "custom": CUSTOM_TIER},
    ).all()
    return tuple(TierRevenue(r[0], int(r[1]), Decimal(r[2]), Decimal(r[3])) for r in rows)


def _benefits(s: Session, flt: SponsorFilter) -> tuple[BenefitDelivery, ...]:
    """Per benefit: what the sponsorships' tiers promise (tier_benefits.quantity per
    sponsorship) and what was recorded as delivered (sponsorships.benefits -> 'delivered',
    see core.sponsors.sponsorships)."""
    where, params = _where(flt, "s.sponsor_id", "s.event_id")
    rows = s.execute(
        text(
            f"""
            WITH chosen AS ({_SPONSORSHIPS.format(where=where)}),
            promised AS (
                SELECT tb.benefit_id, sum(tb.quantity) AS quantity
                  FROM chosen s JOIN tier_benefits tb ON tb.tier_id = s.tier_id
                 GROUP BY tb.benefit_id
            ), delivered AS (
                SELECT d.key::uuid AS benefit_id, sum(d.value::int) AS quantity
                  FROM chosen s,
                       jsonb_each_text(coalesce(s.benefits -> 'delivered', '{{}}'::jsonb)) d
                 GROUP BY 1
            )
            SELECT b.id, b.name, b.category, coalesce(p.quantity, 0), coalesce(d.quantity, 0)
              FROM sponsor_benefits b
              LEFT JOIN promised p ON p.benefit_id = b.id
              LEFT JOIN delivered d ON d.benefit_id = b.id
             WHERE p.quantity IS NOT NULL OR d.quantity IS NOT NULL
             ORDER BY b.category, b.name, b.id
            """
        ),
        {**params, "start": flt.window.start, "end": flt.window.end},
    ).all()
    return tuple(BenefitDelivery(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows)
