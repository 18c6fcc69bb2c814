"""A chart with the numbers behind it: plotly (interactive) in one tab, the table and its
CSV download in the other."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboard.widgets import download_table

DASH = "—"


def show_chart(figure, table: pd.DataFrame, name: str, *, key: str) -> None:
    """`figure` (a plotly figure) and, under "Table", `table` with a CSV download."""
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        st.plotly_chart(figure, key=f"{key}_chart")
    with table_tab:
        st.dataframe(table, hide_index=True, key=f"{key}_table")
        download_table(table, name, key=key)


def rate(value: Decimal | None) -> float | None:
    """A ratio for a table column (None stays empty, shown as a blank cell)."""
    return None if value is None else float(value)


def percent(value: Decimal | None) -> str:
    """A ratio as a percentage for a metric, "—" when undefined (zero denominator)."""
    return DASH if value is None else f"{float(value) * 100:.2f}%"


def times(value: Decimal | None) -> str:
    """A ratio as a multiple (ROI 2.50×), "—" when undefined."""
    return DASH if value is None else f"{float(value):.2f}×"


def count(value: int) -> str:
    """A count short enough for a metric tile: 14,774,913 -> 14.77M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:,.2f}M"
    return f"{value:,}"


def money(value: Decimal | None) -> str:
    """An amount for a metric tile, "—" when undefined; millions shortened (3.28M)."""
    if value is None:
        return DASH
    if abs(value) >= 1_000_000:
        return f"{float(value) / 1_000_000:,.2f}M"
    return f"{float(value):,.2f}"
