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
from core.checkout.orders import LIVE_ORDER_STATUSES
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
# Orders are placed at instants; the range's days are UTC days.
_ORDER_WINDOW = (
    "o.created_at >= CAST(:start AS timestamp) AT TIME ZONE 'UTC'"
    " AND o.created_at < CAST(:stop AS timestamp) AT TIME ZONE 'UTC'"
)


def get_campaign_dashboard(actor: Actor, flt: CampaignFilter) -> CampaignDashboard:
    """Every figure of the campaign analytics page for `flt`, in one read-only transaction.

    Campaign figures come from campaign_analytics (whole past months from the refreshed
    rollups when the range is long); promo-code figures from live orders placed in the
    range. Raises ValidationError for an unknown status, PermissionDenied without
    analytics.view.
    """
    _validate(flt)
    window = flt.window
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(ANALYTICS_VIEW)
        s = uow.session
        s.execute(text("SELECT set_config('jit', 'off', true)"))
        use, refreshed = rollups.use_rollups(s, window)
        where, params = _campaign_where(flt)
        if flt.channels:
            where += " AND channel = ANY(:f_channels)"
            params["f_channels"] = list(flt.channels)
        src, src_params = rollups.source(rollups.CAMPAIGN, window, rollups=use, where=where)
        params.update(src_params)
        campaigns = _by_campaign(s, src, params, flt)
        channels = tuple(
            ChannelRow(r[0], _figures(r, 1))
            for r in s.execute(
                text(f"SELECT channel, {_SUMS} FROM ({src}) f GROUP BY channel ORDER BY channel"),
                params,
            )
        )
        trend = tuple(
            TrendPoint(r[0], r[1], _figures(r, 2))
            for r in s.execute(
                text(
                    f"SELECT date_trunc(:grain, day)::date AS period, channel, {_SUMS}"
                    f" FROM ({src}) f GROUP BY 1, 2 ORDER BY 1, 2"
                ),
                {**params, "grain": window.grain},
            )
        )
        burn, budget = _burn(s, src, params, flt)
        emails = _emails(s, flt, use)
        platforms = _platforms(s, flt, use)
        promos = _promos(s, flt)
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


_ATTRIBUTED = f"""
    SELECT pc.campaign_id, sum(oi.quantity) AS tickets, sum(oi.final_price) AS revenue
      FROM order_items oi
      JOIN promotional_codes pc ON pc.id = oi.promotional_code_id
      JOIN orders o ON o.id = oi.order_id
     WHERE oi.promotional_code_id IS NOT NULL AND oi.refunded_at IS NULL
       AND o.status IN {tuple(LIVE_ORDER_STATUSES)!r}
       AND {_ORDER_WINDOW}
       AND pc.campaign_id IS NOT NULL
     GROUP BY pc.campaign_id
"""


def _by_campaign(
    s: Session, src: str, params: dict[str, Any], flt: CampaignFilter
) -> tuple[CampaignRow, ...]:
    rows = s.execute(
        text(
            f"""
            WITH f AS (SELECT campaign_id, {_SUMS} FROM ({src}) x GROUP BY campaign_id),
                 a AS ({_ATTRIBUTED})
            SELECT c.id, c.name, c.status, e.title, c.budget,
                   {", ".join(f"f.{m}" for m in _MEASURES)},
                   coalesce(a.tickets, 0), coalesce(a.revenue, 0)
              FROM f JOIN marketing_campaigns c ON c.id = f.campaign_id
              LEFT JOIN events e ON e.id = c.event_id
              LEFT JOIN a ON a.campaign_id = c.id
             ORDER BY f.revenue DESC, c.name, c.id
            """
        ),
        {**params, "start": flt.window.start, "stop": flt.window.stop},
    ).all()
    return tuple(
        CampaignRow(r[0], r[1], r[2], r[3], r[4], _figures(r, 5), int(r[11]), Decimal(r[12]))
        for r in rows
    )


def _burn(
    s: Session, src: str, params: dict[str, Any], flt: CampaignFilter
) -> tuple[tuple[BurnPoint, ...], Decimal]:
    """Cost spent up to each period against the budget planned up to it: each campaign's
    budget spread evenly over its days, counted from the range's start."""
    where, cparams = _campaign_where(flt, "id")
    rows = s.execute(
        text(
            f"""
            WITH periods AS (
                SELECT p::date AS period,
                       least((p + CAST(:step AS interval))::date, :src_stop) AS period_stop
                  FROM generate_series(date_trunc(:grain, CAST(:src_start AS date)),
                                       CAST(:src_stop AS date) - 1, CAST(:step AS interval)) p
            ), spent AS (
                SELECT date_trunc(:grain, day)::date AS period, sum(cost) AS cost
                  FROM ({src}) x GROUP BY 1
            ), chosen AS (
                SELECT id, budget, start_date, end_date FROM marketing_campaigns
                 WHERE budget IS NOT NULL AND {where}
                   AND start_date < :src_stop AND end_date >= :src_start
            ), planned AS (
                SELECT p.period,
                       coalesce(sum(c.budget * greatest(0,
                           least(p.period_stop, c.end_date + 1)
                           - greatest(greatest(p.period, CAST(:src_start AS date)), c.start_date))
                           / (c.end_date - c.start_date + 1)), 0) AS planned
                  FROM periods p LEFT JOIN chosen c ON true
                 GROUP BY p.period
            )
            SELECT p.period,
                   sum(coalesce(sp.cost, 0)) OVER (ORDER BY p.period),
                   round(sum(p.planned) OVER (ORDER BY p.period), 2),
                   (SELECT coalesce(sum(budget), 0) FROM chosen)
              FROM planned p LEFT JOIN spent sp ON sp.period = p.period
             ORDER BY p.period
            """
        ),
        {
            **params,
            **cparams,
            "grain": flt.window.grain,
            "step": f"1 {flt.window.grain}",
        },
    ).all()
    budget = Decimal(rows[0][3]) if rows else ZERO
    return tuple(BurnPoint(r[0], Decimal(r[1]), Decimal(r[2])) for r in rows), budget


def _emails(s: Session, flt: CampaignFilter, use: bool) -> tuple[EmailRow, ...]:
    where, params = _campaign_where(flt, "ec.campaign_id")
    src, src_params = rollups.source(
        rollups.EMAIL,
        flt.window,
        rollups=use,
        where=f"email_campaign_id IN (SELECT ec.id FROM email_campaigns ec WHERE {where})",
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
        where=f"post_id IN (SELECT sp.id FROM social_media_posts sp WHERE {where})",
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


def _promos(s: Session, flt: CampaignFilter) -> tuple[PromoRow, ...]:
    where, params = _campaign_where(flt, "pc.campaign_id")
    rows = s.execute(
        text(
            f"""
            WITH per_order AS (
                SELECT oi.promotional_code_id AS code_id, o.id AS order_id,
                       coalesce(o.user_id::text, lower(o.billing_email)) AS buyer,
                       o.total_amount, sum(oi.quantity) AS tickets,
                       sum(oi.discount_amount) AS discount
                  FROM order_items oi JOIN orders o ON o.id = oi.order_id
                 WHERE oi.promotional_code_id IS NOT NULL AND oi.refunded_at IS NULL
                   AND o.status IN {tuple(LIVE_ORDER_STATUSES)!r}
                   AND {_ORDER_WINDOW}
                   AND oi.promotional_code_id IN (
                       SELECT pc.id FROM promotional_codes pc
                        WHERE pc.campaign_id IS NOT NULL AND {where})
                 GROUP BY oi.promotional_code_id, o.id
            )
            SELECT pc.id, pc.code, c.name, count(*), count(DISTINCT po.buyer),
                   sum(po.tickets), sum(po.discount), sum(po.total_amount)
              FROM per_order po
              JOIN promotional_codes pc ON pc.id = po.code_id
              LEFT JOIN marketing_campaigns c ON c.id = pc.campaign_id
             GROUP BY pc.id, pc.code, c.name
             ORDER BY count(*) DESC, pc.code
            """
        ),
        {**params, "start": flt.window.start, "stop": flt.window.stop},
    ).all()
    return tuple(
        PromoRow(
            r[0],
            r[1],
            r[2],
            PromoFigures(int(r[3]), int(r[4]), int(r[5]), Decimal(r[6]), Decimal(r[7])),
        )
        for r in rows
    )
