"""Designer analytics: profile and collection views, favorites, shares and click-throughs
over time, as charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import plotly.express as px
import streamlit as st

from core.showcase.analytics import METRICS, analytics_designers, designer_analytics
from dashboard import session
from dashboard.charts import plot
from dashboard.runtime import show_error
from dashboard.widgets import download_table

NAMES = {
    "profile_views": "Profile views",
    "collection_views": "Collection views",
    "favorites": "Favorites",
    "shares": "Shares",
    "click_throughs": "Click-throughs",
}

session.signed_in()
st.title("Designer analytics")
st.caption(
    "How people find a designer: profile and collection views, favorites, shares and"
    " click-throughs, day by day."
)
actor = session.actor()
try:
    choices = dict(analytics_designers(actor))
except Exception as exc:
    show_error(exc)
    st.stop()
if not choices:
    st.info("You have no designer profile yet. Create one on the Designers page.")
    st.stop()

today = datetime.now(UTC).date()
controls = st.columns([3, 2, 2])
designer_id = controls[0].selectbox(
    "Designer", tuple(choices), format_func=choices.get, key="dan_designer"
)
start = controls[1].date_input("From", value=today - timedelta(days=90), key="dan_from")
end = controls[2].date_input("Until", value=today, key="dan_until")
try:
    figures = designer_analytics(actor, designer_id, start, end)
except Exception as exc:
    show_error(exc)
    st.stop()

if figures.daily.empty:
    st.info("No figures for these days. Choose a longer period.")
    st.stop()

totals = figures.totals
cards = st.columns(len(METRICS))
for card, metric in zip(cards, METRICS, strict=True):
    card.metric(NAMES[metric], f"{totals[metric]:,}")
views = totals["profile_views"]
if views:
    st.caption(
        f"Per 100 profile views: {100 * totals['favorites'] / views:.1f} favorites,"
        f" {100 * totals['shares'] / views:.1f} shares,"
        f" {100 * totals['click_throughs'] / views:.1f} click-throughs."
    )

weekly = st.toggle("Weekly totals", key="dan_weekly", value=(end - start).days > 120)
daily = figures.daily.set_index("date")
series = daily.resample("W-MON", label="left", closed="left").sum() if weekly else daily
long = series.reset_index().melt(id_vars="date", var_name="metric", value_name="count")
long["metric"] = long["metric"].map(NAMES)
plot(
    px.line(
        long[long["metric"].isin([NAMES["profile_views"], NAMES["collection_views"]])],
        x="date", y="count", color="metric", title="Views",
    ),
    key="dan_views",
)  # fmt: skip
plot(
    px.bar(
        long[~long["metric"].isin([NAMES["profile_views"], NAMES["collection_views"]])],
        x="date", y="count", color="metric", title="Favorites, shares and click-throughs",
    ),
    key="dan_engagement",
)  # fmt: skip
if not figures.by_collection.empty:
    plot(
        px.bar(figures.by_collection, x="views", y="collection", orientation="h",
               title="Views by collection"),
        key="dan_collections",
    )  # fmt: skip

table = figures.daily.rename(columns={"date": "Date", **NAMES})
table["Date"] = table["Date"].dt.date
with st.expander("Daily figures"):
    st.dataframe(table, hide_index=True)
download_table(table, "designer-analytics", key="dan_export")
