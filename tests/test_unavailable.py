"""A lost or unreachable database is a DomainError, Unavailable, never a raw driver error
(finding 8; docs/CHECKOUT.md promises no raw database exception reaches a caller).

The losses are real: a unit of work's backend is ended with pg_terminate_backend from
another connection in the middle of its transaction (SQLSTATE 57P01, admin shutdown, on
the next statement or on commit), and an engine points at a port nothing listens on.
tests/test_checkout_fault.py kills place_order the same way at known points.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.locking import NS_TICKET_TYPE, _key
from core.db import Actor, unit_of_work
from core.errors import Busy, Unavailable, from_database_error
from tests.checkout_fixtures import (
    checkout_engine_fixture,  # noqa: F401  (the checkout_engine fixture)
    installed,
    make_sale_event,
)

ACTOR = Actor.system("pytest-unavailable")
WAIT = 10.0
MESSAGE = "The database is temporarily unavailable; please retry."


@contextmanager
def named_engine(engine: Engine) -> Iterator[str]:
    """The process engine, for the block, is one whose connections are called `app`."""
    app = f"unavailable-{uuid.uuid4().hex[:8]}"
    named = create_engine(
        engine.url, connect_args={"application_name": app, "options": "-c timezone=UTC"}
    )
    try:
        with installed(named):
            yield app
    finally:
        named.dispose()


def terminate(monitor: Connection, pid: int) -> None:
    assert monitor.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    deadline = time.monotonic() + WAIT
    while monitor.execute(
        text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
    ).first():
        assert time.monotonic() < deadline, "the terminated backend did not go away"
        time.sleep(0.01)


def configurations(key: str) -> int:
    with unit_of_work(ACTOR, read_only=True) as uow:
        return uow.session.execute(
            text("SELECT count(*) FROM system_configurations WHERE key = :k"), {"k": key}
        ).scalar_one()


def _write(uow, key: str) -> int:
    uow.session.execute(
        text(
            "INSERT INTO system_configurations (category, key, value, value_type)"
            " VALUES ('pytest', :k, '1'::jsonb, 'number')"
        ),
        {"k": key},
    )
    return uow.session.execute(text("SELECT pg_backend_pid()")).scalar_one()


@pytest.mark.parametrize("where", ["next statement", "commit"])
def test_a_backend_terminated_mid_transaction_is_unavailable(
    checkout_engine: Engine, where: str
) -> None:
    key = f"lost-{uuid.uuid4().hex[:8]}"
    with (
        checkout_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as monitor,
        named_engine(checkout_engine),
    ):
        with pytest.raises(Unavailable) as caught, unit_of_work(ACTOR) as uow:
            pid = _write(uow, key)
            terminate(monitor, pid)
            if where == "next statement":
                uow.session.execute(text("SELECT 1"))
            uow.commit()
        assert caught.value.message == MESSAGE and caught.value.code == "unavailable"
        assert isinstance(caught.value.__cause__, DBAPIError)
        assert isinstance(caught.value.__cause__.orig, psycopg.OperationalError)
        # Nothing was saved, and the pool handed the broken connection to nobody.
        assert configurations(key) == 0
        with unit_of_work(ACTOR) as uow:
            _write(uow, key)
            uow.commit()
        assert configurations(key) == 1


def test_the_pipelined_checkout_terminated_while_waiting_is_unavailable(
    checkout_engine: Engine,
) -> None:
    """hold_tickets (one pipelined call, core/checkout/wire.py) parked on its ticket
    type's lock, which the test holds, and its backend ended there."""
    with unit_of_work(ACTOR) as uow:
        sale = make_sale_event(uow.session, capacity=5)
        uow.commit()
    request = HoldRequest(sale.event_id, f"lost-{uuid.uuid4().hex[:8]}", {sale.ticket_type_id: 1})
    with (
        checkout_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as monitor,
        checkout_engine.connect() as blocker,
        ThreadPoolExecutor(1) as runner,
        named_engine(checkout_engine) as app,
    ):
        blocker.begin()
        blocker.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :k)"),
            {"ns": NS_TICKET_TYPE, "k": _key(sale.ticket_type_id)},
        )
        attempt = runner.submit(hold_tickets, ACTOR, request)
        deadline = time.monotonic() + WAIT
        while (
            pid := monitor.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = :a"
                    " AND wait_event = 'advisory'"
                ),
                {"a": app},
            ).scalar()
        ) is None:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        terminate(monitor, pid)
        error = attempt.exception(timeout=WAIT)
        blocker.rollback()
    assert isinstance(error, Unavailable), repr(error)
    with unit_of_work(ACTOR, read_only=True) as uow:
        held = uow.session.execute(
            text("SELECT count(*) FROM ticket_inventory_locks WHERE event_id = :e"),
            {"e": sale.event_id},
        ).scalar()
    assert held == 0
    # The same request again, on a healthy connection, holds.
    assert hold_tickets(ACTOR, request).quantities == {sale.ticket_type_id: 1}


def test_a_server_that_cannot_be_reached_is_unavailable(checkout_engine: Engine) -> None:
    nowhere = create_engine(
        checkout_engine.url.set(host="127.0.0.1", port=1), connect_args={"connect_timeout": 2}
    )
    try:
        with installed(nowhere):
            with pytest.raises(Unavailable), unit_of_work(ACTOR) as uow:
                uow.session.execute(text("SELECT 1"))
            with pytest.raises(Unavailable):
                hold_tickets(ACTOR, HoldRequest(uuid.uuid4(), "s-1", {uuid.uuid4(): 1}))
    finally:
        nowhere.dispose()


@pytest.mark.parametrize(
    "sqlstate",
    ["57P01", "57P02", "57P03", "08006", "08001", "08003", "53300", "53100", "58030", "40003"],
)
def test_each_sqlstate_of_a_lost_or_overloaded_server_is_unavailable(sqlstate: str) -> None:
    error = psycopg.errors.lookup(sqlstate)("gone")
    assert isinstance(from_database_error(DBAPIError.instance(None, None, error, psycopg.Error)),
                      Unavailable)  # fmt: skip


def test_a_cancelled_statement_is_busy_not_unavailable() -> None:
    error = psycopg.errors.lookup("57014")("canceling statement due to statement timeout")
    translated = from_database_error(DBAPIError.instance(None, None, error, psycopg.Error))
    assert isinstance(translated, Busy)


def test_a_pool_that_has_no_connection_to_give_is_unavailable(checkout_engine: Engine) -> None:
    tiny = create_engine(checkout_engine.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    taken = threading.Event()
    release = threading.Event()

    def hog() -> None:
        with tiny.connect():
            taken.set()
            release.wait(WAIT)

    try:
        with installed(tiny), ThreadPoolExecutor(1) as runner:
            runner.submit(hog)
            assert taken.wait(WAIT)
            try:
                with pytest.raises(Unavailable), unit_of_work(ACTOR) as uow:
                    uow.session.execute(text("SELECT 1"))
            finally:
                release.set()
    finally:
        tiny.dispose()
