"""Sponsor ROI and campaign analytics for a date range: the same core functions as the
Sponsor ROI and Campaign analytics pages, so the same numbers as their charts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import Requires, actor_of
from api.models import Output
from api.problems import responses
from core.analytics.campaigns import CampaignFilter, get_campaign_dashboard
from core.analytics.sponsors import SponsorFilter, get_sponsor_dashboard
from core.analytics.window import DateWindow

router = APIRouter(
    prefix="/analytics", tags=["analytics"], responses=responses(401, 403, 422, 429, 503)
)
READ = Requires("analytics:read")
Ids = Annotated[list[uuid.UUID] | None, Query(max_length=100)]


class SponsorFigures(Output):
    impressions: int
    clicks: int
    leads: int
    conversions: int
    cost: Decimal
    revenue: Decimal
    ctr: Decimal | None
    cost_per_lead: Decimal | None
    roi: Decimal | None


class SponsorRow(Output):
    sponsor_id: uuid.UUID
    name: str
    figures: SponsorFigures


class SponsorEventRow(Output):
    event_id: uuid.UUID | None
    title: str
    figures: SponsorFigures


class SponsorTrendPoint(Output):
    period: date
    figures: SponsorFigures


class TierRevenue(Output):
    tier: str
    sponsorships: int
    amount: Decimal
    paid: Decimal


class SponsorRoi(Output):
    start: date
    end: date
    grain: str
    used_rollups: bool
    rollups_refreshed_at: datetime | None
    totals: SponsorFigures
    sponsors: list[SponsorRow]
    events: list[SponsorEventRow]
    trend: list[SponsorTrendPoint]
    tiers: list[TierRevenue]


@router.get("/sponsor-roi", response_model=SponsorRoi, summary="Sponsor ROI")
def sponsor_roi(
    principal: Annotated[object, Depends(READ)],
    start: Annotated[date, Query(description="first day, included")],
    end: Annotated[date, Query(description="last day, included")],
    event_id: Ids = None,
    sponsor_id: Ids = None,
) -> SponsorRoi:
    board = get_sponsor_dashboard(
        actor_of(principal),
        SponsorFilter(DateWindow(start, end), tuple(event_id or ()), tuple(sponsor_id or ())),
    )
    return SponsorRoi(
        start=start,
        end=end,
        grain=board.grain,
        used_rollups=board.used_rollups,
        rollups_refreshed_at=board.rollups_refreshed_at,
        totals=SponsorFigures.model_validate(board.totals),
        sponsors=[SponsorRow.model_validate(r) for r in board.sponsors],
        events=[SponsorEventRow.model_validate(r) for r in board.events],
        trend=[SponsorTrendPoint.model_validate(p) for p in board.trend],
        tiers=[TierRevenue.model_validate(t) for t in board.tiers],
    )


class CampaignFigures(Output):
    impressions: int
    clicks: int
    conversions: int
    revenue: Decimal
    cost: Decimal
    paid_revenue: Decimal
    ctr: Decimal | None
    conversion_rate: Decimal | None
    roi: Decimal | None
    roas: Decimal | None


class CampaignRow(Output):
    campaign_id: uuid.UUID
    name: str
    status: str
    event_title: str | None
    budget: Decimal | None
    tickets: int
    ticket_revenue: Decimal
    figures: CampaignFigures


class ChannelRow(Output):
    channel: str
    figures: CampaignFigures


class TrendPoint(Output):
    period: date
    channel: str
    figures: CampaignFigures


class BurnPoint(Output):
    period: date
    spent: Decimal
    planned: Decimal


class Campaigns(Output):
    start: date
    end: date
    grain: str
    used_rollups: bool
    rollups_refreshed_at: datetime | None
    budget: Decimal
    totals: CampaignFigures
    campaigns: list[CampaignRow]
    channels: list[ChannelRow]
    trend: list[TrendPoint]
    burn: list[BurnPoint]


@router.get("/campaigns", response_model=Campaigns, summary="Campaign analytics")
def campaigns(
    principal: Annotated[object, Depends(READ)],
    start: Annotated[date, Query(description="first day, included")],
    end: Annotated[date, Query(description="last day, included")],
    event_id: Ids = None,
    campaign_id: Ids = None,
    channel: Annotated[list[str] | None, Query(max_length=20)] = None,
    status: Annotated[list[str] | None, Query(max_length=10)] = None,
) -> Campaigns:
    board = get_campaign_dashboard(
        actor_of(principal),
        CampaignFilter(
            DateWindow(start, end),
            event_ids=tuple(event_id or ()),
            campaign_ids=tuple(campaign_id or ()),
            channels=tuple(channel or ()),
            statuses=tuple(status or ()),
        ),
    )
    return Campaigns(
        start=start,
        end=end,
        grain=board.grain,
        used_rollups=board.used_rollups,
        rollups_refreshed_at=board.rollups_refreshed_at,
        budget=board.budget,
        totals=CampaignFigures.model_validate(board.totals),
        campaigns=[CampaignRow.model_validate(r) for r in board.campaigns],
        channels=[ChannelRow.model_validate(r) for r in board.channels],
        trend=[TrendPoint.model_validate(p) for p in board.trend],
        burn=[BurnPoint.model_validate(b) for b in board.burn],
    )
