"""Sponsor ROI: impressions, clicks, leads, conversions, CTR, cost per lead and ROI per
sponsor and per event over a date range; ranking, time series, revenue by tier and the
benefits promised against those delivered."""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from core.analytics.metrics import SponsorFigures
from core.analytics.sponsors import SponsorFilter, get_sponsor_dashboard, list_sponsor_options
from core.analytics.window import DateWindow
from dashboard import session
from dashboard.analytics import date_range, rollup_status
from dashboard.charts import bars, count, lines, money, percent, rate, show_chart, times
from dashboard.runtime import show_error
from dashboard.widgets import show_flash

FLASH = "sponsor_roi.flash"
TOP = 15
METRICS = {
    "Impressions": "impressions",
    "Clicks": "clicks",
    "Leads": "leads",
    "Conversions": "conversions",
    "Cost": "cost",
    "Revenue": "revenue",
}

session.signed_in()
st.title("Sponsor ROI")
st.caption(
    "What each sponsorship delivered: exposure, leads and conversions against its cost."
    " ROI is revenue ÷ cost; a ratio with nothing to divide by shows —."
)
show_flash(FLASH)

actor = session.actor()
try:
    options = list_sponsor_options(actor)
except Exception as exc:
    show_error(exc)
    st.stop()

top = st.columns([2, 3, 3])
first, last = date_range(top[0])
event_names = {str(e): f"{title} · {start:%Y-%m-%d}" for e, title, start in options.events}
sponsor_names = {str(s): name for s, name in options.sponsors}
events = top[1].multiselect(
    "Events (none: all, with sponsor-wide figures)",
    tuple(event_names),
    format_func=event_names.get,
    key="sponsor_roi_events",
    persist_state="session",
)
sponsors = top[2].multiselect(
    "Sponsors (none: all)",
    tuple(sponsor_names),
    format_func=sponsor_names.get,
    key="sponsor_roi_sponsors",
    persist_state="session",
)
try:
    window = DateWindow(first, last)
    board = get_sponsor_dashboard(
        actor,
        SponsorFilter(
            window,
            tuple(uuid.UUID(e) for e in events if e in event_names),
            tuple(uuid.UUID(s) for s in sponsors if s in sponsor_names),
        ),
    )
except Exception as exc:
    show_error(exc)
    st.stop()

rollup_status(
    actor, board.rollups_refreshed_at, board.used_rollups, key="sponsor_roi_refresh", flash=FLASH
)

if not board.sponsors:
    st.info(
        "No sponsor analytics in this range. Widen the dates, clear the event and sponsor"
        " filters, or add sponsorships on the Sponsors page."
    )
    st.stop()

t = board.totals
sums = st.columns(6)
sums[0].metric("Impressions", count(t.impressions))
sums[1].metric("Clicks", count(t.clicks))
sums[2].metric("Leads", count(t.leads))
sums[3].metric("Conversions", count(t.conversions))
sums[4].metric("Cost", money(t.cost))
sums[5].metric("Revenue", money(t.revenue))
ratios = st.columns(6)
ratios[0].metric("CTR", percent(t.ctr))
ratios[1].metric("Cost per lead", money(t.cost_per_lead))
ratios[2].metric("ROI", times(t.roi))


def _table(label: str, names: list[str], figures: list[SponsorFigures]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            label: names,
            "Impressions": [f.impressions for f in figures],
            "Clicks": [f.clicks for f in figures],
            "Leads": [f.leads for f in figures],
            "Conversions": [f.conversions for f in figures],
            "CTR": [rate(f.ctr) for f in figures],
            "Cost": [float(f.cost) for f in figures],
            "Revenue": [float(f.revenue) for f in figures],
            "Cost per lead": [rate(f.cost_per_lead) for f in figures],
            "ROI": [rate(f.roi) for f in figures],
        }
    )


st.subheader("Sponsors ranked by ROI")
ranking = _table("Sponsor", [r.name for r in board.sponsors], [r.figures for r in board.sponsors])
ranking.insert(0, "Rank", range(1, len(ranking) + 1))
best = ranking.dropna(subset=["ROI"]).head(TOP)
show_chart(
    bars(
        best,
        "Sponsor",
        ["ROI"],
        horizontal=True,
        title=f"Top {len(best)} sponsors by ROI (revenue ÷ cost)",
    ),
    ranking,
    "sponsor-ranking",
    key="sponsor_roi_ranking",
)

st.subheader("Per event")
per_event = _table("Event", [r.title for r in board.events], [r.figures for r in board.events])
show_chart(
    # Event titles repeat (one show in several seasons): the rank keeps their bars apart.
    bars(
        per_event.head(TOP).assign(
            Label=lambda t: [f"{n}. {title}" for n, title in enumerate(t["Event"], 1)]
        ),
        "Label",
        ["Revenue", "Cost"],
        title="Revenue and cost by event",
    ),
    per_event,
    "sponsor-events",
    key="sponsor_roi_events_chart",
)

st.subheader("Over time")
metric = st.segmented_control(
    "Measure",
    tuple(METRICS),
    default="Impressions",
    key="sponsor_roi_metric",
    persist_state="session",
)
trend = pd.DataFrame(
    {
        "Period": [p.period for p in board.trend],
        **{
            label: [float(getattr(p.figures, name)) for p in board.trend]
            for label, name in METRICS.items()
        },
        "CTR": [rate(p.figures.ctr) for p in board.trend],
        "ROI": [rate(p.figures.roi) for p in board.trend],
    }
)
show_chart(
    lines(trend, "Period", metric or "Impressions", title=f"By {board.grain}"),
    trend,
    "sponsor-trend",
    key="sponsor_roi_trend",
)

left, right = st.columns(2)
with left:
    st.subheader("Sponsorship revenue by tier")
    tiers = pd.DataFrame(
        {
            "Tier": [r.tier for r in board.tiers],
            "Sponsorships": [r.sponsorships for r in board.tiers],
            "Amount": [float(r.amount) for r in board.tiers],
            "Paid": [float(r.paid) for r in board.tiers],
        }
    )
    show_chart(
        bars(tiers, "Tier", ["Amount", "Paid"]),
        tiers,
        "sponsorship-revenue-by-tier",
        key="sponsor_roi_tiers",
    )
with right:
    st.subheader("Benefits promised and delivered")
    benefits = pd.DataFrame(
        {
            "Benefit": [b.benefit for b in board.benefits],
            "Category": [b.category for b in board.benefits],
            "Promised": [b.promised for b in board.benefits],
            "Delivered": [b.delivered for b in board.benefits],
            "Outstanding": [b.outstanding for b in board.benefits],
        }
    )
    show_chart(
        bars(benefits, "Benefit", ["Promised", "Delivered"]),
        benefits,
        "sponsor-benefits",
        key="sponsor_roi_benefits",
    )
st.caption(
    f"{window.days} days, {window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}. Tiers and benefits"
    " count the sponsorships running in the range; record deliveries on the Sponsors page."
)
