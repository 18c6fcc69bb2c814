"""Campaign analytics over a date range: per campaign and channel (impressions, clicks,
conversions, revenue, cost, CTR, conversion rate, ROI, ROAS), trends, budget burn against
plan, the e-mail funnel, social engagement by platform, and what promo codes sold."""

from __future__ import annotations

import uuid

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.analytics.campaigns import (
    CampaignFilter,
    get_campaign_dashboard,
    list_campaign_options,
)
from core.analytics.metrics import CampaignFigures
from core.analytics.window import DateWindow
from core.models.marketing import CAMPAIGN_STATUSES
from dashboard import session
from dashboard.analytics import date_range, rollup_status
from dashboard.charts import bars, count, lines, money, percent, rate, show_chart, times
from dashboard.runtime import show_error
from dashboard.widgets import show_flash

FLASH = "campaign_analytics.flash"
TOP = 15
METRICS = {
    "Impressions": "impressions",
    "Clicks": "clicks",
    "Conversions": "conversions",
    "Revenue": "revenue",
    "Cost": "cost",
}

session.signed_in()
st.title("Campaign analytics")
st.caption(
    "Campaign results by channel. ROI is revenue ÷ cost; ROAS is the revenue of the paid"
    " placements ÷ their cost; a ratio with nothing to divide by shows —."
)
show_flash(FLASH)

actor = session.actor()
try:
    options = list_campaign_options(actor)
except Exception as exc:
    show_error(exc)
    st.stop()

row1 = st.columns([2, 3, 3])
first, last = date_range(row1[0])
event_names = {str(e): title for e, title in options.events}
events = row1[1].multiselect(
    "Events (none: all)",
    tuple(event_names),
    format_func=event_names.get,
    key="campaign_analytics_events",
    persist_state="session",
)
chosen_events = set(events)
# Only campaigns running in the range (and of the chosen events) are offered: a few
# hundred options at most instead of every campaign ever run.
campaign_names = {
    str(c.campaign_id): f"{c.name} · {c.status}"
    for c in options.campaigns
    if (not chosen_events or str(c.event_id) in chosen_events)
    and c.start_date <= last
    and c.end_date >= first
}
campaigns = row1[2].multiselect(
    "Campaigns (none: all)",
    tuple(campaign_names),
    format_func=campaign_names.get,
    key="campaign_analytics_campaigns",
    persist_state="session",
)
row2 = st.columns([3, 3])
channels = row2[0].multiselect(
    "Channels (none: all)",
    options.channels,
    key="campaign_analytics_channels",
    persist_state="session",
)
statuses = row2[1].multiselect(
    "Campaign status (none: all)",
    CAMPAIGN_STATUSES,
    key="campaign_analytics_statuses",
    persist_state="session",
)
try:
    window = DateWindow(first, last)
    board = get_campaign_dashboard(
        actor,
        CampaignFilter(
            window,
            event_ids=tuple(uuid.UUID(e) for e in events if e in event_names),
            campaign_ids=tuple(uuid.UUID(c) for c in campaigns if c in campaign_names),
            channels=tuple(c for c in channels if c in options.channels),
            statuses=tuple(statuses),
        ),
    )
except Exception as exc:
    show_error(exc)
    st.stop()

rollup_status(
    actor,
    board.rollups_refreshed_at,
    board.used_rollups,
    key="campaign_analytics_refresh",
    flash=FLASH,
)

if not board.campaigns:
    st.info(
        "No campaign analytics in this range. Widen the dates or clear the filters; new"
        " campaigns are set up on the Campaigns page."
    )
    st.stop()

t = board.totals
sums = st.columns(5)
sums[0].metric("Impressions", count(t.impressions))
sums[1].metric("Clicks", count(t.clicks))
sums[2].metric("Conversions", count(t.conversions))
sums[3].metric("Revenue", money(t.revenue))
sums[4].metric("Cost", money(t.cost))
ratios = st.columns(5)
ratios[0].metric("CTR", percent(t.ctr))
ratios[1].metric("Conversion rate", percent(t.conversion_rate))
ratios[2].metric("ROI", times(t.roi))
ratios[3].metric("ROAS", times(t.roas))
ratios[4].metric("Budgets", money(board.budget))


def _columns(figures: list[CampaignFigures]) -> dict[str, list]:
    return {
        "Impressions": [f.impressions for f in figures],
        "Clicks": [f.clicks for f in figures],
        "Conversions": [f.conversions for f in figures],
        "Revenue": [float(f.revenue) for f in figures],
        "Cost": [float(f.cost) for f in figures],
        "CTR": [rate(f.ctr) for f in figures],
        "Conversion rate": [rate(f.conversion_rate) for f in figures],
        "ROI": [rate(f.roi) for f in figures],
        "ROAS": [rate(f.roas) for f in figures],
    }


st.subheader("Campaigns")
per_campaign = pd.DataFrame(
    {
        "Rank": range(1, len(board.campaigns) + 1),
        "Campaign": [c.name for c in board.campaigns],
        "Status": [c.status for c in board.campaigns],
        "Event": [c.event_title or "" for c in board.campaigns],
        "Budget": [None if c.budget is None else float(c.budget) for c in board.campaigns],
        **_columns([c.figures for c in board.campaigns]),
        "Tickets via promo codes": [c.tickets for c in board.campaigns],
        "Ticket revenue via promo codes": [float(c.ticket_revenue) for c in board.campaigns],
    }
)
# Two campaigns may share a name: the rank keeps their bars apart.
top_campaigns = per_campaign.head(TOP).assign(
    Label=lambda t: t["Rank"].astype(str) + ". " + t["Campaign"]
)
show_chart(
    bars(
        top_campaigns,
        "Label",
        ["Revenue", "Cost"],
        horizontal=True,
        title=f"Top {min(TOP, len(per_campaign))} campaigns by revenue",
    ),
    per_campaign,
    "campaigns",
    key="campaign_analytics_campaigns_chart",
)

st.subheader("Channels")
per_channel = pd.DataFrame(
    {
        "Channel": [c.channel for c in board.channels],
        **_columns([c.figures for c in board.channels]),
    }
)
show_chart(
    bars(per_channel, "Channel", ["Revenue", "Cost"]),
    per_channel,
    "channels",
    key="campaign_analytics_channels_chart",
)

st.subheader("Trends")
metric = st.segmented_control(
    "Measure",
    tuple(METRICS),
    default="Revenue",
    key="campaign_analytics_metric",
    persist_state="session",
)
trend = pd.DataFrame(
    {
        "Period": [p.period for p in board.trend],
        "Channel": [p.channel for p in board.trend],
        **{
            label: [float(getattr(p.figures, name)) for p in board.trend]
            for label, name in METRICS.items()
        },
    }
)
show_chart(
    lines(
        trend, "Period", metric or "Revenue", color="Channel", area=True, title=f"By {board.grain}"
    ),
    trend,
    "campaign-trend",
    key="campaign_analytics_trend",
)

st.subheader("Budget burn against plan")
burn = pd.DataFrame(
    {
        "Period": [b.period for b in board.burn],
        "Spent": [float(b.spent) for b in board.burn],
        "Planned": [float(b.planned) for b in board.burn],
    }
)
burn_chart = go.Figure()
burn_chart.add_scatter(x=burn["Period"], y=burn["Spent"], name="Spent", mode="lines+markers")
burn_chart.add_scatter(x=burn["Period"], y=burn["Planned"], name="Planned", line={"dash": "dash"})
burn_chart.update_layout(
    title=f"Cumulative cost from {window.start:%Y-%m-%d}; budgets {money(board.budget)}",
    yaxis_title="Cost",
)
show_chart(burn_chart, burn, "budget-burn", key="campaign_analytics_burn")
st.caption("Planned: each campaign's budget spread evenly over its days, counted in the range.")

left, right = st.columns(2)
with left:
    st.subheader("E-mail funnel")
    e = board.email_totals
    funnel = pd.DataFrame(
        {
            "Step": ["Sends", "Opens", "Clicks", "Bounces", "Unsubscribes", "Complaints"],
            "Count": [e.sends, e.opens, e.clicks, e.bounces, e.unsubscribes, e.complaints],
        }
    )
    show_chart(
        go.Figure(go.Funnel(y=funnel["Step"][:3], x=funnel["Count"][:3])).update_layout(
            title=f"Open rate {percent(e.open_rate)}, click rate {percent(e.click_rate)},"
            f" bounces {percent(e.bounce_rate)}, unsubscribes {percent(e.unsubscribe_rate)}"
        ),
        pd.DataFrame(
            {
                "E-mail": [m.subject for m in board.emails],
                "Campaign": [m.campaign for m in board.emails],
                "Sends": [m.figures.sends for m in board.emails],
                "Opens": [m.figures.opens for m in board.emails],
                "Clicks": [m.figures.clicks for m in board.emails],
                "Bounces": [m.figures.bounces for m in board.emails],
                "Unsubscribes": [m.figures.unsubscribes for m in board.emails],
                "Complaints": [m.figures.complaints for m in board.emails],
                "Open rate": [rate(m.figures.open_rate) for m in board.emails],
                "Click-to-open": [rate(m.figures.click_to_open_rate) for m in board.emails],
            }
        ),
        "email-funnel",
        key="campaign_analytics_email",
    )
with right:
    st.subheader("Social engagement by platform")
    social = pd.DataFrame(
        {
            "Platform": [p.platform for p in board.platforms],
            "Posts": [p.figures.posts for p in board.platforms],
            "Impressions": [p.figures.impressions for p in board.platforms],
            "Reach": [p.figures.reach for p in board.platforms],
            "Engagement": [p.figures.engagement for p in board.platforms],
            "Likes": [p.figures.likes for p in board.platforms],
            "Comments": [p.figures.comments for p in board.platforms],
            "Shares": [p.figures.shares for p in board.platforms],
            "Saves": [p.figures.saves for p in board.platforms],
            "Clicks": [p.figures.clicks for p in board.platforms],
            "Engagement rate": [rate(p.figures.engagement_rate) for p in board.platforms],
        }
    )
    show_chart(
        bars(social, "Platform", ["Likes", "Comments", "Shares", "Saves"], stacked=True),
        social,
        "social-engagement",
        key="campaign_analytics_social",
    )

st.subheader("Promo-code effect")
promos = pd.DataFrame(
    {
        "Code": [p.code for p in board.promos],
        "Campaign": [p.campaign or "" for p in board.promos],
        "Uses": [p.figures.uses for p in board.promos],
        "Unique buyers": [p.figures.unique_buyers for p in board.promos],
        "Tickets": [p.figures.tickets for p in board.promos],
        "Discount given": [float(p.figures.discount_given) for p in board.promos],
        "Order value": [float(p.figures.order_value) for p in board.promos],
        "Average order": [rate(p.figures.average_order_value) for p in board.promos],
    }
)
if promos.empty:
    st.caption("No order in this range used a promo code of these campaigns.")
else:
    show_chart(
        bars(promos.head(TOP), "Code", ["Order value", "Discount given"]),
        promos,
        "promo-codes",
        key="campaign_analytics_promos",
    )
st.caption(
    f"{window.days} days, {window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}. Promo-code figures"
    " count live orders placed in the range; refunded items are left out."
)
