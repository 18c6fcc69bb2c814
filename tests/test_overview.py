"""The overview page and its service show the database's live counts."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from core.config import PROJECT_ROOT
from core.db import Actor
from core.services.overview import get_overview_counts

APP = str(PROJECT_ROOT / "dashboard" / "app.py")


def _expected(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text("""
            SELECT (SELECT count(*) FROM events) AS events,
                   (SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi
                      JOIN orders o ON o.id = oi.order_id WHERE o.status = 'completed') AS tickets,
                   (SELECT coalesce(sum(total_amount), 0) FROM orders
                     WHERE status = 'completed') AS revenue,
                   (SELECT count(*) FROM data_subject_requests
                     WHERE status IN ('pending', 'processing')) AS open_requests
        """)
            )
            .mappings()
            .one()
        )


def test_service_counts_match_the_database(engine: Engine) -> None:
    counts = get_overview_counts(Actor.system("pytest"))
    expected = _expected(engine)
    assert counts.events == expected["events"] > 0
    assert counts.tickets_sold == expected["tickets"] > 0
    assert counts.revenue == Decimal(expected["revenue"]) > 0
    assert counts.open_compliance_requests == expected["open_requests"] > 0


def test_overview_page_renders_the_counts(engine: Engine) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    metrics = {m.label: m.value for m in at.metric}
    expected = _expected(engine)
    assert metrics["Events"] == f"{expected['events']:,}"
    assert metrics["Tickets sold"] == f"{expected['tickets']:,}"
    assert metrics["Revenue"] == f"${Decimal(expected['revenue']):,.2f}"
    assert metrics["Open compliance requests"] == f"{expected['open_requests']:,}"
