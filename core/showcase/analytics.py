"""Designer analytics over time: profile and collection views, favorites, shares and
click-throughs per day, from the partitioned designer_analytics table (only the months
asked for are scanned: the date range prunes partitions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import text

from core.auth.permissions import ANALYTICS_VIEW, SHOWCASE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import PermissionDenied, ValidationError
from core.showcase.access import is_admin, my_designer_ids

METRICS = ("profile_views", "collection_views", "favorites", "shares", "click_throughs")
MAX_DAYS = 731


@dataclass(frozen=True)
class DesignerAnalytics:
    designer_id: uuid.UUID
    daily: pd.DataFrame  # date + METRICS, one row per day with data
    by_collection: pd.DataFrame  # collection, views

    @property
    def totals(self) -> dict[str, int]:
        return {m: int(self.daily[m].sum()) if not self.daily.empty else 0 for m in METRICS}


def analytics_designers(actor: Actor) -> tuple[tuple[uuid.UUID, str], ...]:
    """(id, name) of the designers whose analytics the actor may read: their own; every
    designer for admins and holders of analytics.view."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_MANAGE, ANALYTICS_VIEW)
        everyone = is_admin(uow) or bool(
            uow.session.execute(
                text("SELECT app_has_permission(:p)"), {"p": ANALYTICS_VIEW}
            ).scalar()
        )
        rows = uow.session.execute(
            text(
                "SELECT id, name || coalesce(' · ' || brand_name, '') FROM designers"
                " WHERE CAST(:all AS boolean) OR id = ANY (CAST(:mine AS uuid[]))"
                " ORDER BY name, id"
            ),
            {"all": everyone, "mine": [str(d) for d in my_designer_ids(uow)]},
        )
        return tuple((r[0], r[1]) for r in rows)


def designer_analytics(
    actor: Actor, designer_id: uuid.UUID, start: date, end: date
) -> DesignerAnalytics:
    """Daily figures of one designer from `start` to `end` (inclusive), and views per
    collection over the same days.

    Raises PermissionDenied (someone else's figures without analytics.view),
    ValidationError for a range that is reversed or longer than two years."""
    if end < start:
        raise ValidationError("the end date cannot be before the start date", field="end")
    if (end - start).days > MAX_DAYS:
        raise ValidationError("choose at most two years of days", field="start")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(SHOWCASE_MANAGE, ANALYTICS_VIEW)
        allowed = (
            designer_id in my_designer_ids(uow)
            or is_admin(uow)
            or bool(
                uow.session.execute(
                    text("SELECT app_has_permission(:p)"), {"p": ANALYTICS_VIEW}
                ).scalar()
            )
        )
        if not allowed:
            raise PermissionDenied("You can only see your own designer analytics.")
        params = {"d": designer_id, "start": start, "end": end}
        daily = uow.session.execute(
            text(
                """
                SELECT date, profile_views,
                       (SELECT coalesce(sum(value::bigint), 0)
                          FROM jsonb_each_text(collection_views)) AS collection_views,
                       favorites, shares, click_throughs
                  FROM designer_analytics
                 WHERE designer_id = :d AND date BETWEEN :start AND :end
                 ORDER BY date
                """
            ),
            params,
        ).all()
        per_collection = uow.session.execute(
            text(
                """
                SELECT coalesce(c.name, 'a collection not shown to you'),
                       sum(v.value::bigint) AS views
                  FROM designer_analytics a
                  CROSS JOIN LATERAL jsonb_each_text(a.collection_views) v
                  LEFT JOIN collections c ON c.id::text = v.key
                 WHERE a.designer_id = :d AND a.date BETWEEN :start AND :end
                 GROUP BY 1 ORDER BY 2 DESC, 1
                """
            ),
            params,
        ).all()
    frame = pd.DataFrame(daily, columns=["date", *METRICS])
    if not frame.empty:
        frame["date"] = pd.to_datetime(frame["date"])
        for metric in METRICS:
            frame[metric] = frame[metric].astype("int64")
    collections = pd.DataFrame(per_collection, columns=["collection", "views"])
    if not collections.empty:
        collections["views"] = collections["views"].astype("int64")
    return DesignerAnalytics(designer_id, frame, collections)
