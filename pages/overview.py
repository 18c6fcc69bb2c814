"""Overview: live counts from the database."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from core.services.overview import get_overview_counts, list_upcoming_events
from dashboard.charts import plot
from dashboard.runtime import current_actor, show_error

st.title("Overview")
st.caption("Live figures across events, sales and compliance.")

if st.button("Refresh", icon=":material/refresh:"):
    st.rerun()

try:
    counts = get_overview_counts(current_actor())
    upcoming = list_upcoming_events(current_actor(), limit=10)
except Exception as exc:
    show_error(exc)
    st.stop()

row1 = st.columns(4)
row1[0].metric("Events", f"{counts.events:,}", help="All events, drafts included")
row1[1].metric(
    "Published",
    f"{counts.published_events:,}",
    f"{counts.upcoming_events:,} upcoming",
    delta_color="off",
    delta_arrow="off",
)
row1[2].metric(
    "Tickets sold",
    f"{counts.tickets_sold:,}",
    help="Tickets on live orders (completed or pending); refunded ones are back on sale",
)
row1[3].metric("Completed orders", f"{counts.completed_orders:,}")

# Gross, refunds and net as core.analytics.revenue defines them (docs/ANALYTICS.md).
row2 = st.columns(4)
row2[0].metric(
    "Gross sales",
    f"${counts.revenue.gross:,.2f}",
    help="What buyers paid for orders (the payments taken), refunded orders included",
)
row2[1].metric(
    "Refunds",
    f"${counts.revenue.refunds:,.2f}",
    help="What was given back: refunded items and orders, cancelled paid orders",
)
row2[2].metric("Net revenue", f"${counts.revenue.net:,.2f}", help="Gross sales less refunds")

row3 = st.columns(4)
row3[0].metric(
    "Open compliance requests",
    f"{counts.open_compliance_requests:,}",
    help="Data-subject requests pending or in progress",
)
row3[1].metric(
    "Overdue requests",
    f"{counts.overdue_compliance_requests:,}",
    help="Open requests past their legal deadline",
    delta="needs attention" if counts.overdue_compliance_requests else None,
    delta_color="inverse",
)
st.caption(f"As of {counts.as_of:%Y-%m-%d %H:%M:%S %Z}")

st.subheader("Next events")
if not upcoming:
    st.info("No published events ahead. Create one and publish it to see its sales here.")
else:
    table = pd.DataFrame(
        {
            "Event": [e.title for e in upcoming],
            "Starts": [e.start_date for e in upcoming],
            "Venue": [e.venue or "—" for e in upcoming],
            "Status": [e.status for e in upcoming],
            "Sold": [e.sold for e in upcoming],
            "Capacity": [e.capacity for e in upcoming],
        }
    )
    chart = px.bar(
        # Titles repeat across cities and dates; the label keeps each bar apart.
        table.assign(
            Free=table["Capacity"] - table["Sold"],
            Label=[f"{e.title} · {e.venue or 'no venue'} · {e.start_date:%b %d}" for e in upcoming],
        ),
        y="Label",
        x=["Sold", "Free"],
        orientation="h",
        labels={"value": "Tickets", "variable": "", "Label": ""},
        color_discrete_sequence=["#b0306a", "#e8c4d4"],
    )
    chart.update_layout(
        yaxis={"autorange": "reversed"},
        height=60 + 32 * len(table),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
    )
    plot(chart)
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "Starts": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
            "Sold": st.column_config.ProgressColumn(
                min_value=0, max_value=max(int(table["Capacity"].max()), 1), format="%d"
            ),
        },
    )
