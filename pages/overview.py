"""Overview: live counts from the database."""

from __future__ import annotations

import streamlit as st

from core.services.overview import get_overview_counts
from dashboard.runtime import current_actor, show_error

st.title("Overview")
st.caption("Live figures across events, sales and compliance.")

if st.button("Refresh", icon=":material/refresh:"):
    st.rerun()

try:
    counts = get_overview_counts(current_actor())
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
)
row1[2].metric("Tickets sold", f"{counts.tickets_sold:,}", help="Tickets on completed orders")
row1[3].metric(
    "Revenue",
    f"${counts.revenue:,.2f}",
    f"{counts.completed_orders:,} completed orders",
    delta_color="off",
)

row2 = st.columns(4)
row2[0].metric(
    "Open compliance requests",
    f"{counts.open_compliance_requests:,}",
    help="Data-subject requests pending or in progress",
)
row2[1].metric(
    "Overdue requests",
    f"{counts.overdue_compliance_requests:,}",
    help="Open requests past their legal deadline",
    delta="needs attention" if counts.overdue_compliance_requests else None,
    delta_color="inverse",
)
st.caption(f"As of {counts.as_of:%Y-%m-%d %H:%M:%S %Z}")
