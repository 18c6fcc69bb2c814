"""Campaign analytics: per campaign and channel, trends, budget burn, e-mail funnel, social
engagement by platform and what the campaigns' promo codes sold. One read-only unit of work
per dashboard view; every figure is a SQL aggregate (ratios: core.analytics.metrics)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.analytics import rollups
from core.analytics.metrics import (
    CampaignFigures,
    EmailFigures,
    PromoFigures,
    SocialFigures,
)
from core.analytics.window import DateWindow
from core.auth.permissions import ANALYTICS_VIEW
from core.db import Actor, unit_of_work
from core.errors import ValidationError
from core.models.marketing import CAMPAIGN_STATUSES

ZERO = Decimal("0")


@dataclass(frozen=True)
class CampaignFilter:
    """What the dashboard looks at: a date range, and optionally some events, campaigns,
    channels and campaign statuses (empty: all)."""

    window: DateWindow
    event_ids: tuple[uuid.UUID, ...] = ()
    campaign_ids: tuple[uuid.UUID, ...] = ()
    channels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class CampaignChoice:
    campaign_id: uuid.UUID
    name: str
    status: str
    event_id: uuid.UUID | None
    event_title: str | None
    start_date: date
    end_date: date


@dataclass(frozen=True)
class CampaignOptions:
    campaigns: tuple[CampaignChoice, ...]
    channels: tuple[str, ...]
    events: tuple[tuple[uuid.UUID, str], ...]


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: uuid.UUID
    name: str
    status: str
    event_title: str | None
    budget: Decimal | None
    figures: CampaignFigures
    # Sales through the campaign's promo codes in the range (attribution).
    tickets: int = 0
    ticket_revenue: Decimal = ZERO


@dataclass(frozen=True)
class ChannelRow:
    channel: str
    figures: CampaignFigures


@dataclass(frozen=True)
class TrendPoint:
    period: date
    channel: str
    figures: CampaignFigures


@dataclass(frozen=True)
class BurnPoint:
    period: date
    spent: Decimal
    planned: Decimal


@dataclass(frozen=True)
class EmailRow:
    email_campaign_id: uuid.UUID
    subject: str
    campaign: str
    sent_at: datetime | None
    figures: EmailFigures


@dataclass(frozen=True)
class PlatformRow:
    platform: str
    figures: SocialFigures


@dataclass(frozen=True)
class PromoRow:
    code_id: uuid.UUID
    code: str
    campaign: str | None
    figures: PromoFigures


@dataclass(frozen=True)
class CampaignDashboard:
    filter: CampaignFilter
    totals: CampaignFigures
    campaigns: tuple[CampaignRow, ...]
    channels: tuple[ChannelRow, ...]
    trend: tuple[TrendPoint, ...]
    burn: tuple[BurnPoint, ...]
    emails: tuple[EmailRow, ...]
    email_totals: EmailFigures
    platforms: tuple[PlatformRow, ...]
    promos: tuple[PromoRow, ...]
    grain: str
    used_rollups: bool
    rollups_refreshed_at: datetime | None
    budget: Decimal = field(default=ZERO)


def list_campaign_options(actor: Actor) -> CampaignOptions:
    """Every campaign (newest first), channel and campaign event, for the filters.

    Raises PermissionDenied without analytics.view.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(ANALYTICS_VIEW)
        rows = uow.session.execute(
            text(
                "SELECT c.id, c.name, c.status, c.event_id, e.title, c.start_date, c.end_date"
                " FROM marketing_campaigns c LEFT JOIN events e ON e.id = c.event_id"
                " ORDER BY c.start_date DESC, c.name, c.id"
            )
        ).all()
        channels = uow.session.execute(
            text(
                "SELECT DISTINCT ch FROM marketing_campaigns c,"
                " jsonb_array_elements_text(c.channels) ch ORDER BY 1"
            )
        ).scalars()
        channel_list = tuple(channels)
    events: dict[uuid.UUID, str] = {}
    for row in rows:
        if row[3] is not None:
            events.setdefault(row[3], row[4] or "an event you cannot see")
    return CampaignOptions(
        tuple(CampaignChoice(*row) for row in rows),
        channel_list,
        tuple(sorted(events.items(), key=lambda item: item[1])),
    )


def _validate(flt: CampaignFilter) -> None:
    unknown = [s for s in flt.statuses if s not in CAMPAIGN_STATUSES]
    if unknown:
        raise ValidationError(
            f"Status must be one of: {', '.join(CAMPAIGN_STATUSES)}.", field="statuses"
        )


def _campaign_where(flt: CampaignFilter, column: str = "campaign_id") -> tuple[str, dict[str, Any]]:
    """The campaigns in the filter, as a predicate on `column` (a campaign id)."""
    parts = ["true"]
    params: dict[str, Any] = {}
    if flt.campaign_ids:
        parts.append(f"{column} = ANY(:f_campaigns)")
        params["f_campaigns"] = list(flt.campaign_ids)
    if flt.event_ids or flt.statuses:
        sub = ["true"]
        if flt.event_ids:
            sub.append("mc.event_id = ANY(:f_events)")
            params["f_events"] = list(flt.event_ids)
        if flt.statuses:
            sub.append("mc.status = ANY(:f_statuses)")
            params["f_statuses"] = list(flt.statuses)
        parts.append(
            f"{column} IN (SELECT mc.id FROM marketing_campaigns mc WHERE {' AND '.join(sub)})"
        )
    return " AND ".join(parts), params


def _figures(row: Any, offset: int = 0) -> CampaignFigures:
    return CampaignFigures(
        int(row[offset]),
        int(row[offset + 1]),
        int(row[offset + 2]),
        Decimal(row[offset + 3]),
        Decimal(row[offset + 4]),
        Decimal(row[offset + 5]),
    )


_MEASURES = ("impressions", "clicks", "conversions", "revenue", "cost", "paid_revenue")
_SUMS = ", ".join(f"coalesce(sum({m}), 0) AS {m}" for m in _MEASURES)
_RESUMS = ", ".join(f"sum({m})" for m in _MEASURES)
# A code is used at an instant; the range's days are UTC days.
_USE_WINDOW = (
    "u.used_at >= CAST(:start AS timestamp) AT TIME ZONE 'UTC'"
    " AND u.used_at < CAST(:stop AS timestamp) AT TIME ZONE 'UTC'"
)


def get_campaign_dashboard(actor: Actor, flt: CampaignFilter) -> CampaignDashboard:
    """Every figure of the campaign analytics page for `flt`, in one read-only transaction.

    Campaign figures come from campaign_analytics, or from its refreshed rollups where
    they serve (core.analytics.rollups); promo-code figures from the codes' uses in the
    range by live orders. Raises ValidationError for an unknown status,
    PermissionDenied without analytics.view.
    """
    _validate(flt)
    window = flt.window
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(ANALYTICS_VIEW)
        s = uow.session
        s.execute(text("SELECT set_config('jit', 'off', true)"))
        use, refreshed = rollups.use_rollups(s, window)
        where, params = _campaign_where(flt)
        campaign_where = where
        if flt.channels:
            where += " AND channel = ANY(:f_channels)"
            params["f_channels"] = list(flt.channels)
        src, src_params = rollups.source(rollups.CAMPAIGN, window, rollups=use, where=where)
        params.update(src_params)
        # Daily series: the daily rollups serve the days before the last refresh, when
        # the filter can be applied to them (a campaign rollup has no channel, a channel
        # rollup no campaign).
        daily = refreshed is not None and window.grain == "day"
        campaign_src, channel_src = src, src
        if daily and not flt.channels:
            campaign_src, more = rollups.daily_source(
                rollups.CAMPAIGN_BY_CAMPAIGN, window, refreshed=refreshed, where=campaign_where
            )
            params.update(more)
        if daily and campaign_where == "true":
            channel_src, more = rollups.daily_source(
                rollups.CAMPAIGN_BY_CHANNEL,
                window,
                refreshed=refreshed,
                where="channel = ANY(:f_channels)" if flt.channels else "true",
            )
            params.update(more)
        use = use or campaign_src is not src or channel_src is not src
        promos, attributed = _promos(s, flt)
        campaigns = _per_campaign(s, campaign_src, params, attributed)
        channels, trend, spent = _per_period_and_channel(s, channel_src, params, window)
        burn, budget = _burn(s, flt, spent)
        emails = _emails(s, flt, use)
        platforms = _platforms(s, flt, use)
    totals = CampaignFigures(
        sum(c.figures.impressions for c in channels),
        sum(c.figures.clicks for c in channels),
        sum(c.figures.conversions for c in channels),
        sum((c.figures.revenue for c in channels), ZERO),
        sum((c.figures.cost for c in channels), ZERO),
        sum((c.figures.paid_revenue for c in channels), ZERO),
    )
    email_totals = EmailFigures(
        *(sum(getattr(e.figures, f) for e in emails) for f in EmailFigures.__dataclass_fields__)
    )
    return CampaignDashboard(
        flt,
        totals,
        campaigns,
        channels,
        trend,
        burn,
        emails,
        email_totals,
        platforms,
        promos,
        window.grain,
        use,
        refreshed,
        budget,
    )


# GROUPING(channel, period) of each grouping set below.
_PER_PERIOD_CHANNEL, _PER_CHANNEL, _PER_PERIOD = 0, 1, 2


def _per_campaign(
    s: Session,
    src: str,
    params: dict[str, Any],
    attributed: dict[uuid.UUID, tuple[int, Decimal]],
) -> tuple[CampaignRow, ...]:
    rows = s.execute(
        text(
            f"""
            SELECT f.campaign_id, c.name, c.status, e.title, c.budget,
                   {", ".join(f"f.{m}" for m in _MEASURES)}
              FROM (SELECT campaign_id, {_SUMS} FROM ({src}) x GROUP BY campaign_id) f
              JOIN marketing_campaigns c ON c.id = f.campaign_id
              LEFT JOIN events e ON e.id = c.event_id
             ORDER BY f.revenue DESC, c.name, c.id
            """
        ),
        params,
    ).all()
    campaigns = []
    for r in rows:
        tickets, revenue = attributed.get(r[0], (0, ZERO))
        campaigns.append(CampaignRow(*r[:5], _figures(r, 5), tickets, revenue))
    return tuple(campaigns)


def _per_period_and_channel(
    s: Session, src: str, params: dict[str, Any], window: DateWindow
) -> tuple[tuple[ChannelRow, ...], tuple[TrendPoint, ...], dict[date, Decimal]]:
    """Per channel, per period and channel, and cost per period, in one GROUPING SETS
    pass over the source rows."""
    rows = s.execute(
        text(
            f"""
            SELECT GROUPING(channel, period), channel, period, {_SUMS}
              FROM (SELECT x.*, date_trunc(:grain, x.day)::date AS period FROM ({src}) x) f
             GROUP BY GROUPING SETS ((period, channel), (channel), (period))
             ORDER BY 1, 3, 2
            """
        ),
        {**params, "grain": window.grain},
    ).all()
    channels: list[ChannelRow] = []
    trend: list[TrendPoint] = []
    spent: dict[date, Decimal] = {}
    for r in rows:
        figures = _figures(r, 3)
        if r[0] == _PER_PERIOD_CHANNEL:
            trend.append(TrendPoint(r[2], r[1], figures))
        elif r[0] == _PER_CHANNEL:
            channels.append(ChannelRow(r[1], figures))
        else:
            spent[r[2]] = figures.cost
    return tuple(channels), tuple(trend), spent


def _burn(
    s: Session, flt: CampaignFilter, spent: dict[date, Decimal]
) -> tuple[tuple[BurnPoint, ...], Decimal]:
    """Cost spent up to each period against the budget planned up to it: each chosen
    campaign's budget spread evenly over its days, counted from the range's start."""
    where, params = _campaign_where(flt, "id")
    rows = s.execute(
        text(
            f"""
            WITH periods AS (
                SELECT p::date AS period,
                       least((p + CAST(:step AS interval))::date, :stop) AS period_stop
                  FROM generate_series(date_trunc(:grain, CAST(:start AS date)),
                                       CAST(:stop AS date) - 1, CAST(:step AS interval)) p
            ), chosen AS (
                SELECT id, budget, start_date, end_date FROM marketing_campaigns
                 WHERE budget IS NOT NULL AND {where}
                   AND start_date < :stop AND end_date >= :start
            )
            SELECT p.period,
                   round(sum(coalesce(sum(c.budget * greatest(0,
                       least(p.period_stop, c.end_date + 1)
                       - greatest(greatest(p.period, CAST(:start AS date)), c.start_date))
                       / (c.end_date - c.start_date + 1)), 0)) OVER (ORDER BY p.period), 2),
                   (SELECT coalesce(sum(budget), 0) FROM chosen)
              FROM periods p LEFT JOIN chosen c ON true
             GROUP BY p.period ORDER BY p.period
            """
        ),
        {
            **params,
            "grain": flt.window.grain,
            "step": f"1 {flt.window.grain}",
            "start": flt.window.start,
            "stop": flt.window.stop,
        },
    ).all()
    budget = Decimal(rows[0][2]) if rows else ZERO
    points, running = [], ZERO
    for period, planned, _ in rows:
        # A running total of per-period sums SQL computed, not an aggregate of raw rows.
        running += spent.get(period, ZERO)
        points.append(BurnPoint(period, running, Decimal(planned)))
    return tuple(points), budget


def _emails(s: Session, flt: CampaignFilter, use: bool) -> tuple[EmailRow, ...]:
    where, params = _campaign_where(flt, "ec.campaign_id")
    src, src_params = rollups.source(
        rollups.EMAIL,
        flt.window,
        rollups=use,
        # No filter: every e-mail, without a semi-join over all of them.
        where="true"
        if where == "true"
        else f"email_campaign_id IN (SELECT ec.id FROM email_campaigns ec WHERE {where})",
    )
    rows = s.execute(
        text(
            f"""
            SELECT ec.id, ec.subject, c.name, ec.sent_at,
                   sum(f.sends), sum(f.opens), sum(f.clicks), sum(f.bounces),
                   sum(f.unsubscribes), sum(f.complaints)
              FROM ({src}) f
              JOIN email_campaigns ec ON ec.id = f.email_campaign_id
              JOIN marketing_campaigns c ON c.id = ec.campaign_id
             GROUP BY ec.id, ec.subject, c.name, ec.sent_at
             ORDER BY sum(f.sends) DESC, ec.subject, ec.id
            """
        ),
        {**params, **src_params},
    ).all()
    return tuple(
        EmailRow(r[0], r[1], r[2], r[3], EmailFigures(*(int(v) for v in r[4:10]))) for r in rows
    )


def _platforms(s: Session, flt: CampaignFilter, use: bool) -> tuple[PlatformRow, ...]:
    where, params = _campaign_where(flt, "sp.campaign_id")
    src, src_params = rollups.source(
        rollups.SOCIAL,
        flt.window,
        rollups=use,
        where="true"
        if where == "true"
        else f"post_id IN (SELECT sp.id FROM social_media_posts sp WHERE {where})",
    )
    rows = s.execute(
        text(
            f"""
            SELECT p.platform, count(DISTINCT p.id),
                   sum(f.impressions), sum(f.reach), sum(f.engagement), sum(f.likes),
                   sum(f.comments), sum(f.shares), sum(f.saves), sum(f.clicks)
              FROM ({src}) f JOIN social_media_posts p ON p.id = f.post_id
             GROUP BY p.platform ORDER BY sum(f.engagement) DESC, p.platform
            """
        ),
        {**params, **src_params},
    ).all()
    return tuple(PlatformRow(r[0], SocialFigures(*(int(v) for v in r[1:10]))) for r in rows)


def _promos(
    s: Session, flt: CampaignFilter
) -> tuple[tuple[PromoRow, ...], dict[uuid.UUID, tuple[int, Decimal]]]:
    """Per code, and per campaign (tickets and their revenue: the sales attributed to it),
    from the codes' uses in the range. promotional_code_usage holds one row per live order
    that used a code (the checkout drops it when the order is cancelled or refunded
    whole), with the discount and order total as charged; tickets and their revenue come
    from the order's items with the code, refunded items left out. A guest buyer counts
    once per order (a guest has no account to match orders by)."""
    where, params = _campaign_where(flt, "pc.campaign_id")
    rows = s.execute(
        text(
            f"""
            WITH per_order AS (
                SELECT u.code_id, pc.campaign_id,
                       coalesce(u.user_id::text, u.order_id::text) AS buyer,
                       u.discount_amount, u.order_total, i.tickets, i.revenue
                  FROM promotional_code_usage u
                  JOIN promotional_codes pc ON pc.id = u.code_id
                 CROSS JOIN LATERAL (
                      -- Less what partial refunds gave back (migration 0010).
                      SELECT coalesce(sum(oi.quantity - oi.refunded_quantity), 0) AS tickets,
                             coalesce(sum(oi.final_price
                                          - (oi.refunded_amount - oi.refunded_tax)), 0)
                                 AS revenue
                        FROM order_items oi
                       WHERE oi.order_id = u.order_id AND oi.promotional_code_id = u.code_id
                         AND oi.refunded_at IS NULL) i
                 WHERE {_USE_WINDOW} AND pc.campaign_id IS NOT NULL AND {where}
            )
            SELECT GROUPING(code_id, campaign_id), code_id, campaign_id,
                   count(*), count(DISTINCT buyer), sum(tickets), sum(discount_amount),
                   sum(order_total), sum(revenue)
              FROM per_order
             GROUP BY GROUPING SETS ((code_id), (campaign_id))
            """
        ),
        {**params, "start": flt.window.start, "stop": flt.window.stop},
    ).all()
    names = dict(
        s.execute(
            text(
                "SELECT pc.id, pc.code || CASE WHEN c.name IS NULL THEN '' ELSE"
                " E'\\x1f' || c.name END FROM promotional_codes pc"
                " LEFT JOIN marketing_campaigns c ON c.id = pc.campaign_id"
                " WHERE pc.id = ANY(:ids)"
            ),
            {"ids": [r[1] for r in rows if r[0] == 1]},
        ).all()
    )
    promos: list[PromoRow] = []
    attributed: dict[uuid.UUID, tuple[int, Decimal]] = {}
    for r in rows:
        if r[0] == 1:  # grouped by code
            code, _, campaign = names[r[1]].partition("\x1f")
            figures = PromoFigures(int(r[3]), int(r[4]), int(r[5]), Decimal(r[6]), Decimal(r[7]))
            promos.append(PromoRow(r[1], code, campaign or None, figures))
        else:
            attributed[r[2]] = (int(r[5]), Decimal(r[8]))
    promos.sort(key=lambda p: (-p.figures.uses, p.code))
    return tuple(promos), attributed
