"""The overview page and its service show the database's live counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth.passwords import hash_password
from core.auth.permissions import role_id
from core.config import PROJECT_ROOT
from core.db import Actor
from core.services.overview import get_overview_counts
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


@pytest.fixture(scope="module")
def ui_engine(secure_database) -> Engine:
    """A database of this module's own (signing in commits a user and audit entries),
    reached by the app as the app role."""
    return secure_database.owner


def test_overview_page_renders_the_counts(ui_engine: Engine) -> None:
    # The overview is for signed-in people; an admin, whom row-level security shows every row.
    password = "overview-test-password"
    with Session(ui_engine) as s, s.begin():
        user = make_user(s, password_hash=hash_password(password))
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
    assert metrics["Revenue"] == f"${Decimal(expected['revenue']):,.2f}"
    assert metrics["Open compliance requests"] == f"{expected['open_requests']:,}"
