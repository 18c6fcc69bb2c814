"""Finding 3 of issue 15, reproduced: plain SQL on the app role, with no acting person (a
bare connection that says nothing about who acts) or as a person with no business there
(in their unit of work), reading and changing buyers' billing details, sponsorships,
settings and jobs. Each test fails on a database without migration 0013's policies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError

from core.auth import Identity
from core.db import unit_of_work
from tests.apptest import make_person

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

# The tables the finding names, each filled by the demo.
ATTACKED = (
    "orders",
    "order_items",
    "order_payments",
    "order_refunds",
    "sponsorships",
    "system_configurations",
    "background_jobs",
)


@contextmanager
def _nobody(secure_database: SecureDatabase) -> Iterator[Connection]:
    """A transaction on the app role that never says who acts, rolled back."""
    with secure_database.app.connect() as conn, conn.begin() as tx:
        yield conn
        tx.rollback()


@contextmanager
def _as(person: Identity) -> Iterator[Connection]:
    """A transaction on the app role as `person` (their unit of work), never committed."""
    with unit_of_work(person.actor()) as uow:
        yield uow.session.connection()


def _count(conn: Connection, table: str) -> int:
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _refused(conn: Connection, sql: str, **params: object) -> bool:
    """True when the database refuses the statement (row-level security or privilege)."""
    savepoint = conn.begin_nested()
    try:
        conn.execute(text(sql), params)
    except ProgrammingError as exc:
        savepoint.rollback()
        assert "row-level security" in str(exc.orig) or "permission denied" in str(exc.orig)
        return True
    savepoint.rollback()
    return False


def test_without_a_person_nothing_is_read(secure_database: SecureDatabase) -> None:
    with secure_database.owner.connect() as conn:
        totals = {t: _count(conn, t) for t in ATTACKED}
    assert all(totals.values()), totals  # the demo filled them: the attack had data to find
    with _nobody(secure_database) as conn:
        assert {t: _count(conn, t) for t in ATTACKED} == dict.fromkeys(ATTACKED, 0)
        # The billing details themselves, by the column the attack read.
        leaked = conn.execute(
            text("SELECT count(billing_email) + count(billing_phone) FROM orders")
        ).scalar_one()
        assert leaked == 0


def test_without_a_person_nothing_is_changed(secure_database: SecureDatabase) -> None:
    with _nobody(secure_database) as conn:
        changed = {
            "orders": "UPDATE orders SET billing_email = 'attacker@evil.example'",
            "order_items": "UPDATE order_items SET unit_price = unit_price",
            "order_payments": "DELETE FROM order_payments",
            "order_refunds": "DELETE FROM order_refunds",
            "sponsorships": "UPDATE sponsorships SET amount = 0",
            "system_configurations": "UPDATE system_configurations SET description = 'x'",
            "background_jobs": "DELETE FROM background_jobs",
        }
        savepoint = conn.begin_nested()
        counts = {table: conn.execute(text(sql)).rowcount for table, sql in changed.items()}
        savepoint.rollback()
        assert counts == dict.fromkeys(changed, 0)
        any_event = "(SELECT id FROM events LIMIT 1)"
        assert _refused(
            conn,
            "INSERT INTO orders (order_number, event_id, status, billing_email, billing_name)"
            f" VALUES ('FW-FORGED-1', coalesce({any_event}, gen_random_uuid()), 'completed',"
            " 'a@evil.example', 'A')",
        )
        # A job queued by nobody would run as the system actor, past every permission check.
        assert _refused(
            conn, "INSERT INTO background_jobs (job_type, payload) VALUES ('gdpr.export', '{}')"
        )
        assert _refused(
            conn,
            "INSERT INTO system_configurations (category, key, value, value_type)"
            " VALUES ('checkout', 'forged', '1', 'number')",
        )


@pytest.mark.parametrize("role", ["designer", "marketing", "sponsor", "staff"])
def test_a_signed_in_person_without_business_there_reads_no_billing_details(
    secure_database: SecureDatabase, role: str
) -> None:
    person = make_person(secure_database.owner, [role])
    with _as(person) as conn:
        seen = conn.execute(
            text("SELECT count(*) FROM orders WHERE billing_email IS NOT NULL")
        ).scalar_one()
        payments = _count(conn, "order_payments")
        refunds = _count(conn, "order_refunds")
    assert (seen, payments, refunds) == (0, 0, 0)


def test_a_seller_cannot_sell_for_an_event_they_do_not_work(
    secure_database: SecureDatabase,
) -> None:
    """The database itself refuses an order for an event the seller neither organises nor
    works, even written as plain SQL past every service."""
    staff = make_person(secure_database.owner, ["staff"])
    with secure_database.owner.connect() as conn:
        event_id = conn.execute(
            text("SELECT id FROM events WHERE status = 'published' ORDER BY id LIMIT 1")
        ).scalar_one()
    with _as(staff) as conn:
        refused = _refused(
            conn,
            "INSERT INTO orders (order_number, event_id, status, total_amount, subtotal,"
            " billing_email, billing_name) VALUES (:n, :e, 'completed', :t, :t,"
            " 'walk-in@example.com', 'Walk In')",
            n=f"FW-TEST-{uuid.uuid4().hex[:7]}",
            e=event_id,
            t=Decimal("10.00"),
        )
    assert refused, "staff sold for an event nobody assigned them to"
