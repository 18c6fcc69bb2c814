"""Charts show people's text as text: plotly's own HTML (links, bold, line breaks) in a
name must not become markup (dashboard.charts.plot)."""

from __future__ import annotations

import re

import numpy as np
import plotly.graph_objects as go

from core.config import PROJECT_ROOT
from dashboard.charts import inert

EVIL = '<a href="http://evil.example">Gala</a> & <b>friends</b>'
ESCAPED = '&lt;a href="http://evil.example"&gt;Gala&lt;/a&gt; &amp; &lt;b&gt;friends&lt;/b&gt;'


def test_the_data_of_a_figure_is_escaped_for_plotly_html() -> None:
    figure = go.Figure(
        [
            go.Bar(x=[EVIL, "Plain"], y=[3, 4], name=EVIL, hovertext=[EVIL, "x"]),
            go.Scattergl(
                x=np.array([1.0, 2.0]),
                y=np.array([1.0, 2.0]),
                customdata=np.array([["id-1", EVIL], ["id-2", "Floor"]], dtype=object),
                hovertemplate="<b>%{customdata[1]}</b><extra></extra>",
            ),
        ]
    )
    figure.add_annotation(x=1, y=1, text=EVIL, showarrow=False)

    inert(figure)

    bar, seats = figure.data
    assert list(bar.x) == [ESCAPED, "Plain"]
    assert bar.name == ESCAPED
    assert list(bar.hovertext) == [ESCAPED, "x"]
    assert list(bar.y) == [3, 4]
    assert seats.customdata.tolist() == [["id-1", ESCAPED], ["id-2", "Floor"]]
    # The page's own template keeps its markup.
    assert seats.hovertemplate == "<b>%{customdata[1]}</b><extra></extra>"
    assert figure.layout.annotations[0].text == ESCAPED


def test_a_figure_without_markup_is_left_as_it_is() -> None:
    xs = np.array([1.0, 2.0, 3.0])
    figure = go.Figure([go.Scattergl(x=xs, y=xs, name="Available (3)")])
    before = figure.to_plotly_json()
    inert(figure)
    assert figure.to_plotly_json() == before


def test_every_chart_is_drawn_through_plot() -> None:
    """A page calling st.plotly_chart itself would skip the escape."""
    direct = [
        f"{path.relative_to(PROJECT_ROOT)}:{n}"
        for folder in ("pages", "dashboard")
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py"))
        if path.name != "charts.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bplotly_chart\(", line)
    ]
    assert direct == []
