"""The rollups (migration 0008) and the SQL sources that use them when they can.

A dashboard's query reads its facts from `source(...)` (long ranges: whole past months
from the monthly rollups, the days at either edge from the raw daily tables) or
`daily_source(...)` (campaign figures per campaign or per channel and day: the days before
the last refresh from the daily rollups, the rest from the raw rows). Before the first
refresh everything comes from the raw rows. Each source row has the fact's keys, `day` (a
day, or a month's first day for monthly rows) and the measures; callers group as they
need.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.analytics.window import DateWindow
from core.auth.permissions import ANALYTICS_VIEW
from core.db import Actor, unit_of_work


@dataclass(frozen=True)
class Fact:
    raw: str
    # The rollup as the app reads it: migration 0013's security-barrier view over the
    # materialized view, which shows rows only to a holder of analytics.view (a
    # materialized view cannot carry row-level security, and the app role may not read it).
    rollup: str
    keys: tuple[str, ...]
    # alias -> (raw expression, rollup expression)
    measures: dict[str, tuple[str, str]]


CAMPAIGN = Fact(
    "campaign_analytics",
    "campaign_analytics_monthly_guarded",
    ("campaign_id", "channel"),
    {
        "impressions": ("impressions", "impressions"),
        "clicks": ("clicks", "clicks"),
        "conversions": ("conversions", "conversions"),
        "revenue": ("revenue", "revenue"),
        "cost": ("cost", "cost"),
        "paid_revenue": ("CASE WHEN cost > 0 THEN revenue ELSE 0 END", "paid_revenue"),
    },
)
_CAMPAIGN_MEASURES = {alias: (raw, alias) for alias, (raw, _) in CAMPAIGN.measures.items()}
# Campaign figures summed over channels, and over campaigns, day by day.
CAMPAIGN_BY_CAMPAIGN = Fact(
    "campaign_analytics",
    "campaign_analytics_daily_by_campaign_guarded",
    ("campaign_id",),
    _CAMPAIGN_MEASURES,
)
CAMPAIGN_BY_CHANNEL = Fact(
    "campaign_analytics",
    "campaign_analytics_daily_by_channel_guarded",
    ("channel",),
    _CAMPAIGN_MEASURES,
)
SPONSOR = Fact(
    "sponsor_analytics",
    "sponsor_analytics_monthly_guarded",
    ("sponsor_id", "event_id"),
    {
        "impressions": ("impressions", "impressions"),
        "clicks": ("clicks", "clicks"),
        "leads": ("leads_generated", "leads"),
        "conversions": ("conversions", "conversions"),
        "cost": ("cost", "cost"),
        "revenue": ("revenue", "revenue"),
    },
)
EMAIL = Fact(
    "email_analytics",
    "email_analytics_monthly_guarded",
    ("email_campaign_id",),
    {m: (m, m) for m in ("sends", "opens", "clicks", "bounces", "unsubscribes", "complaints")},
)
SOCIAL = Fact(
    "social_media_analytics",
    "social_media_analytics_monthly_guarded",
    ("post_id",),
    {
        m: (m, m)
        for m in (
            "impressions",
            "reach",
            "engagement",
            "likes",
            "comments",
            "shares",
            "saves",
            "clicks",
        )
    },
)


def refreshed_at(session: Session) -> datetime | None:
    """When the rollups were last refreshed, or None if never (they are then unused)."""
    populated = session.execute(
        text(
            "SELECT relispopulated FROM pg_class"
            " WHERE oid = 'analytics_rollups_refreshed'::regclass"
        )
    ).scalar_one()
    if not populated:
        return None
    return session.execute(text("SELECT refreshed_at FROM analytics_rollups_refreshed")).scalar()


def source(
    fact: Fact, window: DateWindow, *, rollups: bool, where: str = "true"
) -> tuple[str, dict[str, Any]]:
    """A UNION ALL over raw days and (when `rollups`) whole months of `fact` in `window`,
    each branch filtered by `where` (which may name only the fact's keys); returns the SQL
    and its bound dates (prefixed `src_`, so several sources can share one query)."""
    params: dict[str, Any] = {"src_start": window.start, "src_stop": window.stop}
    whole = window.whole_months() if rollups else None
    keys = ", ".join(fact.keys)

    def raw(lo: str, hi: str) -> str:
        measures = ", ".join(f"{expr} AS {alias}" for alias, (expr, _) in fact.measures.items())
        return (
            f"SELECT {keys}, date AS day, {measures} FROM {fact.raw}"
            f" WHERE date >= :{lo} AND date < :{hi} AND ({where})"
        )

    if whole is None:
        return raw("src_start", "src_stop"), params
    params.update(src_month_first=whole[0], src_month_stop=whole[1])
    measures = ", ".join(f"{expr} AS {alias}" for alias, (_, expr) in fact.measures.items())
    branches = [
        f"SELECT {keys}, month AS day, {measures} FROM {fact.rollup}"
        f" WHERE month >= :src_month_first AND month < :src_month_stop AND ({where})"
    ]
    if window.start < whole[0]:
        branches.insert(0, raw("src_start", "src_month_first"))
    if whole[1] < window.stop:
        branches.append(raw("src_month_stop", "src_stop"))
    return " UNION ALL ".join(branches), params


def daily_source(
    fact: Fact, window: DateWindow, *, refreshed: datetime | None, where: str = "true"
) -> tuple[str, dict[str, Any]]:
    """Like `source`, over a daily rollup: the days before the day of the last refresh
    from it, the rest (and everything before a first refresh) from the raw rows."""
    params: dict[str, Any] = {"src_start": window.start, "src_stop": window.stop}
    keys = ", ".join(fact.keys)

    def raw(lo: str, hi: str) -> str:
        measures = ", ".join(f"{expr} AS {alias}" for alias, (expr, _) in fact.measures.items())
        return (
            f"SELECT {keys}, date AS day, {measures} FROM {fact.raw}"
            f" WHERE date >= :{lo} AND date < :{hi} AND ({where})"
        )

    cut = None if refreshed is None else refreshed.astimezone(UTC).date()
    if cut is None or cut <= window.start:
        return raw("src_start", "src_stop"), params
    params["src_cut"] = min(cut, window.stop)
    measures = ", ".join(f"{expr} AS {alias}" for alias, (_, expr) in fact.measures.items())
    branches = [
        f"SELECT {keys}, date AS day, {measures} FROM {fact.rollup}"
        f" WHERE date >= :src_start AND date < :src_cut AND ({where})"
    ]
    if cut < window.stop:
        branches.append(raw("src_cut", "src_stop"))
    return " UNION ALL ".join(branches), params


def use_rollups(session: Session, window: DateWindow) -> tuple[bool, datetime | None]:
    """(whether this window's queries read the rollups, when they were refreshed)."""
    at = refreshed_at(session)
    # Daily series need days; rollup rows are months.
    return at is not None and window.grain == "month", at


def get_rollups_refreshed_at(actor: Actor) -> datetime | None:
    """When the analytics rollups were last refreshed (None: never).

    Raises PermissionDenied without analytics.view.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(ANALYTICS_VIEW)
        return refreshed_at(uow.session)


def refresh_rollups(actor: Actor) -> datetime:
    """Recompute every monthly rollup from the raw analytics tables; returns the refresh
    time. Readers keep the old figures until it commits. Raises PermissionDenied without
    analytics.view, Busy when another refresh holds the lock past the unit's timeout."""
    with unit_of_work(actor) as uow:
        uow.require(ANALYTICS_VIEW)
        at = uow.session.execute(text("SELECT refresh_analytics_rollups()")).scalar_one()
        uow.commit()
    return at
