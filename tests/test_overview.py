"""The overview page and its service show the database's live counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth.permissions import role_id
from core.checkout.refunds import refund_order
from core.config import PROJECT_ROOT
from core.db import Actor
from core.services.overview import get_overview_counts
from tests.apptest import make_person, set_password
from tests.factories import make_user

APP = str(PROJECT_ROOT / "dashboard" / "app.py")


def _expected(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text("""
            SELECT (SELECT count(*) FROM events) AS events,
                   (SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi
                      JOIN orders o ON o.id = oi.order_id
                     WHERE o.status IN ('completed', 'pending') AND oi.refunded_at IS NULL)
                   AS tickets,
                   (SELECT coalesce(sum(amount), 0) FROM order_payments) AS gross,
                   (SELECT coalesce(sum(amount), 0) FROM order_refunds) AS refunds,
                   (SELECT count(*) FROM orders WHERE status = 'completed') AS completed,
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
    assert counts.revenue.gross == Decimal(expected["gross"]) > 0
    assert counts.revenue.refunds == Decimal(expected["refunds"]) > 0
    assert counts.revenue.net == counts.revenue.gross - counts.revenue.refunds
    assert counts.completed_orders == expected["completed"] > 0
    assert counts.open_compliance_requests == expected["open_requests"] > 0


@pytest.fixture(scope="module")
def ui_engine(secure_database) -> Engine:
    """A database of this module's own (signing in commits a user and audit entries),
    reached by the app as the app role."""
    return secure_database.owner


def test_overview_page_renders_the_counts(ui_engine: Engine) -> None:
    # The overview is for signed-in people; an admin, whom row-level security shows every row.
    password = "overview-test-password"
    with Session(ui_engine) as s, s.begin():
        user = make_user(s)
        set_password(s, user.id, password)
        s.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {"u": user.id, "r": role_id("admin")},
        )
        email = user.email
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="sign_in_email").input(email)
    at.text_input(key="sign_in_password").input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    metrics = {m.label: m.value for m in at.metric}
    expected = _expected(ui_engine)
    assert metrics["Events"] == f"{expected['events']:,}"
    assert metrics["Tickets sold"] == f"{expected['tickets']:,}"
    assert metrics["Gross sales"] == f"${Decimal(expected['gross']):,.2f}"
    assert metrics["Refunds"] == f"${Decimal(expected['refunds']):,.2f}"
    net = Decimal(expected["gross"]) - Decimal(expected["refunds"])
    assert metrics["Net revenue"] == f"${net:,.2f}"
    assert metrics["Open compliance requests"] == f"{expected['open_requests']:,}"


def test_a_partial_refund_lowers_net_revenue_and_shows_as_a_refund(ui_engine: Engine) -> None:
    """Defect 5: the Overview counted a completed order's whole total as revenue after
    one of its items was refunded; now the refund shows, and net is gross less it."""
    admin = make_person(ui_engine, ["admin"]).actor()
    before = get_overview_counts(admin).revenue
    with ui_engine.begin() as conn:
        order_id, item_id, paid = conn.execute(
            text(
                "SELECT o.id, oi.id, oi.final_price + oi.tax_amount FROM orders o"
                " JOIN order_items oi ON oi.order_id = o.id"
                " WHERE o.status = 'completed' AND oi.refunded_at IS NULL AND oi.final_price > 0"
                "   AND (SELECT count(*) FROM order_items x WHERE x.order_id = o.id) > 1"
                " ORDER BY o.id LIMIT 1"
            )
        ).one()
    result = refund_order(admin, order_id, "one seat", item_ids=[item_id])
    assert result.status == "completed", "the order keeps its other items"
    assert result.refunded_amount == paid
    after = get_overview_counts(admin).revenue
    assert after.gross == before.gross, "what was paid does not change"
    assert after.refunds == before.refunds + paid
    assert after.net == before.net - paid
