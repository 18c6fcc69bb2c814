"""A chart with the numbers behind it: plotly (interactive) in one tab, the table and its
CSV download in the other; and `plot`, the one way a page draws a plotly figure.

plotly renders the text of a chart (tick labels, legend entries, hover boxes,
annotations) through its own small HTML dialect: `<a href=...>` makes a link, `<b>` bold,
`<br>` a line break. A venue, section or sponsor named `<a href="http://evil.example">x</a>`
would put a link into every chart that names it. `plot` escapes `<`, `>` and `&` in the
figure's data (and its annotations) before drawing it; plotly shows the escaped
characters as themselves. Templates, titles and axis titles are the page's own and are
left as they are.
"""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.widgets import download_table, kept_tabs

DASH = "—"


def show_chart(figure, table: pd.DataFrame, name: str, *, key: str) -> None:
    """`figure` (a plotly figure) and, under "Table", `table` with a CSV download."""
    chart_tab, table_tab = kept_tabs(["Chart", "Table"], key=f"{key}_view", link=False)
    with chart_tab:
        plot(figure, key=f"{key}_chart")
    with table_tab:
        st.dataframe(table, hide_index=True, key=f"{key}_table")
        download_table(table, name, key=key)


# Trace properties whose values are data (a person's names among them), shown as text.
_DATA_TEXT = ("x", "y", "z", "text", "hovertext", "customdata", "labels", "name")
_MARKUP = ("<", ">", "&")


def _inert(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False) if any(c in value for c in _MARKUP) else value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "OUS":  # numbers and dates hold no markup
            return value
        if not any(isinstance(v, str) and any(c in v for c in _MARKUP) for v in value.flat):
            return value
        return np.vectorize(_inert, otypes=[object])(value)
    if isinstance(value, (list, tuple)):
        escaped = [_inert(v) for v in value]
        return value if escaped == list(value) else type(value)(escaped)
    return value


def inert(figure: go.Figure) -> go.Figure:
    """`figure` with the text of its data and annotations escaped for plotly's HTML
    (changed in place and returned; values without markup are not touched, so a large
    figure is not validated again)."""
    for trace in figure.data:
        for prop in _DATA_TEXT:
            if prop not in trace:
                continue
            value = trace[prop]
            escaped = _inert(value)
            if escaped is not value:
                trace[prop] = escaped
    for annotation in figure.layout.annotations:
        if isinstance(annotation.text, str):
            annotation.text = _inert(annotation.text)
    return figure


def plot(figure: go.Figure, **kwargs: Any) -> Any:
    """Draw `figure` with `st.plotly_chart(**kwargs)` after escaping its data (see the
    module docstring); returns what st.plotly_chart returns (a selection event)."""
    return st.plotly_chart(inert(figure), **kwargs)


# plotly.express validates and reshapes its input on every call (about 0.1 s a figure);
# the dashboards draw seven figures per rerun, so they build graph objects directly.


def bars(
    table: pd.DataFrame,
    category: str,
    values: list[str],
    *,
    title: str | None = None,
    horizontal: bool = False,
    stacked: bool = False,
) -> go.Figure:
    """Grouped (or stacked) bars of `values` per `category`; horizontal bars list the
    first row at the top."""
    rows = table.iloc[::-1] if horizontal else table
    figure = go.Figure(
        [
            go.Bar(
                x=rows[value] if horizontal else rows[category],
                y=rows[category] if horizontal else rows[value],
                name=value,
                orientation="h" if horizontal else "v",
            )
            for value in values
        ]
    )
    figure.update_layout(
        title=title,
        barmode="stack" if stacked else "group",
        legend_title_text="",
        margin={"t": 40 if title else 10},
    )
    return figure


def lines(
    table: pd.DataFrame,
    x: str,
    y: str,
    *,
    color: str | None = None,
    title: str | None = None,
    area: bool = False,
) -> go.Figure:
    """One line (or stacked area) of `y` over `x` per value of `color`."""
    groups = table.groupby(color, sort=True) if color else [(y, table)]
    figure = go.Figure(
        [
            go.Scatter(
                x=rows[x],
                y=rows[y],
                name=str(name),
                mode="lines" if area else "lines+markers",
                stackgroup="all" if area else None,
            )
            for name, rows in groups
        ]
    )
    figure.update_layout(title=title, yaxis_title=y, xaxis_title=x, margin={"t": 40})
    return figure


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
    """An amount for a metric tile, "—" when undefined; millions shortened (3.28M), no
    cents from 10,000 on (the tables keep them)."""
    if value is None:
        return DASH
    if abs(value) >= 1_000_000:
        return f"{float(value) / 1_000_000:,.2f}M"
    if abs(value) >= 10_000:
        return f"{float(value):,.0f}"
    return f"{float(value):,.2f}"
