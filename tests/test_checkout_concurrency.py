"""Hundreds of buyers at once, on real PostgreSQL, in threads and in processes.

Every buyer runs the whole checkout (hold, quote, place) with a session id and an
idempotency key of their own, retrying a bounded number of times when told Busy. Four
scenarios, each with more demand than supply:

- capacity: 200 buyers, one ticket each, for a ticket type of 20;
- event: 200 buyers, one ticket each, of two types of 15 at an event of capacity 20;
- seat: 200 buyers for the same one seat;
- code: 100 buyers, one ticket each (plenty on sale), all with a code usable 10 times.

Afterwards the records must satisfy core.checkout.invariants.find_violations, and, checked
directly: exactly the supply was sold, every buyer either bought or was refused with one
of the expected domain errors, no seat was sold twice, the code was used exactly up to
its limit, and every order adds up to what the buyer was charged.

Each scenario has a negative control: the same run with FASHIONISTAS_UNSAFE_CHECKOUT=1
(locks off, race window widened; see core.checkout.locking) must break an invariant,
which proves these tests can see the races they guard against. The negative controls run
in a database of their own, because the code checks of find_violations are not limited to
one event and a broken code would otherwise fail the safe runs.

The threads run in this process (24 at a time); the processes are 8 workers started with
multiprocessing's "spawn", once per module, each making its own engine from the database
URL and installing it with core.db.use_engine before its buyers start.

Last, an expected failure documents a race found while writing these tests: a hold that
expires while place_order waits can be sold while another buyer holds the same ticket.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.pool
import multiprocessing.synchronize
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import configure_mappers

from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.invariants import find_violations
from core.checkout.locking import NS_IDEMPOTENCY, _key
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order
from core.checkout.pricing import money
from core.db import Actor, unit_of_work, use_engine
from core.errors import Busy, DomainError
from core.models import Event
from tests.checkout_fixtures import (
    SaleEvent,
    checkout_engine_fixture,  # noqa: F401  (the checkout_engine fixture)
    installed,
    make_code,
    make_sale_event,
    migrated_engine,
)
from tests.factories import make_ticket_type

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory

UNSAFE = "FASHIONISTAS_UNSAFE_CHECKOUT"
ACTOR = Actor.system("pytest-checkout-concurrency")
PRICE = Decimal("40.00")
TAX_RATE = Decimal("0.0825")
THREAD_WORKERS = 24
PROCESSES = 8
BUSY_RETRIES = 3

T = TypeVar("T")


@dataclass(frozen=True)
class Scenario:
    name: str
    buyers: int
    capacity: int  # of each ticket type
    supply: int  # what must sell: demand exceeds it in every scenario
    ticket_types: int = 1  # buyer n asks for type n % ticket_types
    event_capacity: int | None = None
    seats: int = 0  # every buyer asks for the first seat
    code_limit: int | None = None  # every buyer uses the code
    # What a refused buyer may be told; anything else fails the safe runs.
    refusals: frozenset[str] = frozenset({"SoldOut", "Busy"})


SCENARIOS = [
    Scenario("capacity", buyers=200, capacity=20, supply=20),
    # Two types of 15 under an event capacity of 20: only the event's lock protects it.
    Scenario("event", buyers=200, capacity=15, supply=20, ticket_types=2, event_capacity=20),
    Scenario(
        "seat",
        buyers=200,
        capacity=5,
        supply=1,
        seats=5,
        refusals=frozenset({"SeatTaken", "SoldOut", "Busy"}),
    ),
    Scenario(
        "code",
        buyers=100,
        capacity=100,
        supply=10,
        code_limit=10,
        refusals=frozenset({"CodeUsedUp", "SoldOut", "Busy"}),
    ),
]


@dataclass(frozen=True)
class Want:
    """What the buyers of a run ask for (picklable, for the processes)."""

    event_id: uuid.UUID
    ticket_type_ids: tuple[uuid.UUID, ...]
    seat_id: uuid.UUID | None
    code: str | None


@dataclass(frozen=True)
class World:
    scenario: Scenario
    sale: SaleEvent
    want: Want
    code_id: uuid.UUID | None


# --- one buyer ------------------------------------------------------------------------


def _retry_busy(call: Callable[[], T]) -> T:
    for attempt in range(BUSY_RETRIES + 1):
        try:
            return call()
        except Busy:
            if attempt == BUSY_RETRIES:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def buy(want: Want, number: int) -> str:
    """One buyer's whole checkout; returns "ok", the domain error's class name, or
    "unexpected ..." for anything else (always a failure)."""
    session_id = f"buyer-{number}-{uuid.uuid4().hex[:8]}"
    person = Buyer(f"Buyer {number}", f"buyer{number}.{uuid.uuid4().hex[:6]}@example.com")
    ticket_type_id = want.ticket_type_ids[number % len(want.ticket_type_ids)]
    hold = HoldRequest(
        want.event_id,
        session_id,
        quantities={} if want.seat_id else {ticket_type_id: 1},
        seat_ids=(want.seat_id,) if want.seat_id else (),
    )
    try:
        _retry_busy(lambda: hold_tickets(ACTOR, hold))
        quote = _retry_busy(
            lambda: quote_order(ACTOR, want.event_id, session_id, want.code, person)
        )
        order = OrderRequest(
            event_id=want.event_id,
            session_id=session_id,
            buyer=person,
            payment_method="cash",
            expected_total=quote.total,
            idempotency_key=f"order-{session_id}",
            code=want.code,
        )
        # A retry after Busy repeats the same request with the same key.
        _retry_busy(lambda: place_order(ACTOR, order))
    except DomainError as exc:
        return type(exc).__name__
    except Exception as exc:
        return f"unexpected {type(exc).__name__}: {exc}"
    return "ok"


# --- running many buyers ----------------------------------------------------------------


def run_threads(want: Want, buyers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=THREAD_WORKERS) as pool:
        return list(pool.map(lambda n: buy(want, n), range(buyers)))


# A spawned worker's state: the start line shared by all workers, one engine per URL.
_start_line: multiprocessing.synchronize.Barrier | None = None
_engines: dict[str, Engine] = {}


def _init_worker(start_line: multiprocessing.synchronize.Barrier) -> None:
    global _start_line
    _start_line = start_line
    configure_mappers()  # pay the ORM's one-off set-up before any race starts


def _buy_in_worker(url: str, want: Want, numbers: Sequence[int], unsafe: bool) -> list[str]:
    """In a spawned worker: its own engine for `url` made the process engine, then, once
    every worker is at the start line, its buyers one after another."""
    if unsafe:
        os.environ[UNSAFE] = "1"
    else:
        os.environ.pop(UNSAFE, None)
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = create_engine(
            url, pool_size=1, max_overflow=2, connect_args={"options": "-c timezone=UTC"}
        )
    use_engine(engine)
    with engine.connect():  # connect before the start line, not after it
        pass
    assert _start_line is not None
    # Every worker blocks here until all have a task: so each takes exactly one.
    _start_line.wait(timeout=60)
    return [buy(want, n) for n in numbers]


def _dispose_worker(_: int) -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    assert _start_line is not None
    _start_line.wait(timeout=60)


@dataclass
class BuyerProcesses:
    """PROCESSES spawned workers, started once per module (start-up costs seconds)."""

    pool: multiprocessing.pool.Pool
    start_line: multiprocessing.synchronize.Barrier

    def run(self, engine: Engine, want: Want, buyers: int, *, unsafe: bool) -> list[str]:
        """`buyers` buyers spread over the workers, all starting at once."""
        self.start_line.reset()
        url = engine.url.render_as_string(hide_password=False)
        tasks = [(url, want, range(i, buyers, PROCESSES), unsafe) for i in range(PROCESSES)]
        results = self.pool.starmap_async(_buy_in_worker, tasks, chunksize=1)
        return [outcome for part in results.get(timeout=90) for outcome in part]


# --- the world and what must hold afterwards ------------------------------------------------


def make_world(scenario: Scenario) -> World:
    with unit_of_work(ACTOR) as uow:
        sale = make_sale_event(
            uow.session,
            capacity=scenario.capacity,
            event_capacity=scenario.event_capacity,
            seats=scenario.seats,
            price=PRICE,
            tax_rate=TAX_RATE,
        )
        event = uow.session.get(Event, sale.event_id)
        more = [
            make_ticket_type(
                uow.session,
                event,
                base_price=PRICE,
                total_capacity=scenario.capacity,
                remaining_capacity=scenario.capacity,
            ).id
            for _ in range(scenario.ticket_types - 1)
        ]
        code = (
            make_code(uow.session, usage_limit=scenario.code_limit, event_id=sale.event_id)
            if scenario.code_limit is not None
            else None
        )
        want = Want(
            sale.event_id,
            (sale.ticket_type_id, *more),
            sale.seat_ids[0] if scenario.seats else None,
            code.code if code else None,
        )
        world = World(scenario, sale, want, code.id if code else None)
        uow.commit()
    return world


def _scalar(sql: str, **params: object) -> int:
    with unit_of_work(ACTOR, read_only=True) as uow:
        return int(uow.session.execute(text(sql), params).scalar() or 0)


LIVE = "o.status IN ('pending', 'completed')"
SOLD = f"""SELECT coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o
            ON o.id = oi.order_id WHERE oi.ticket_type_id = :t AND oi.refunded_at IS NULL
           AND {LIVE}"""
HELD = """SELECT coalesce(sum(quantity), 0) FROM ticket_inventory_locks
           WHERE ticket_type_id = :t AND expires_at > now() AND order_id IS NULL"""
REMAINING = "SELECT remaining_capacity FROM ticket_types WHERE id = :t"
SEAT_SALES = f"""SELECT count(*) FROM order_items oi JOIN orders o ON o.id = oi.order_id
                  WHERE o.event_id = :e AND :s = ANY(oi.seat_ids)
                    AND oi.refunded_at IS NULL AND {LIVE}"""
SEAT_HOLDS = """SELECT count(*) FROM ticket_inventory_locks WHERE event_id = :e
                 AND :s = ANY(seat_ids) AND expires_at > now() AND order_id IS NULL"""
CODE_USES = f"""SELECT count(DISTINCT o.id) FROM orders o JOIN order_items oi
                 ON oi.order_id = o.id WHERE oi.discount_code_id = :c AND {LIVE}"""
CODE_COUNTER = "SELECT current_usage FROM discount_codes WHERE id = :c"


def assert_sold_correctly(world: World, outcomes: list[str]) -> None:
    """The safe run: nothing oversold, no invariant broken, every buyer accounted for."""
    scenario, sale, types = world.scenario, world.sale, world.want.ticket_type_ids
    counts = Counter(o if not o.startswith("unexpected") else "unexpected" for o in outcomes)
    unexpected = [o for o in outcomes if o != "ok" and o not in scenario.refusals]
    assert not unexpected, f"{len(unexpected)} buyers failed unexpectedly, e.g. {unexpected[0]}"
    assert len(outcomes) == scenario.buyers, counts

    with unit_of_work(ACTOR, read_only=True) as uow:
        assert find_violations(uow.session) == []

    assert counts["ok"] == scenario.supply, counts
    sold = {t: _scalar(SOLD, t=t) for t in types}
    assert sum(sold.values()) == scenario.supply
    for t in types:
        assert sold[t] <= scenario.capacity
        assert _scalar(REMAINING, t=t) == scenario.capacity - sold[t]
    if scenario.seats:
        seat = sale.seat_ids[0]
        assert _scalar(SEAT_SALES, e=sale.event_id, s=seat) == 1
        assert _scalar(SEAT_HOLDS, e=sale.event_id, s=seat) == 0
        with unit_of_work(ACTOR, read_only=True) as uow:
            seat_state = uow.session.execute(
                text(
                    "SELECT es.status, es.order_id = o.id FROM event_seats es, orders o"
                    " WHERE es.event_id = :e AND es.seat_id = :s AND o.event_id = :e"
                ),
                {"e": sale.event_id, "s": seat},
            ).one()
        assert tuple(seat_state) == ("sold", True)
    elif scenario.code_limit is None:
        # Every buyer who got a hold placed it: nothing is left held.
        assert all(_scalar(HELD, t=t) == 0 for t in types)
    if scenario.code_limit is not None:
        assert _scalar(CODE_USES, c=world.code_id) == scenario.code_limit
        assert _scalar(CODE_COUNTER, c=world.code_id) == scenario.code_limit
    assert_orders_add_up(world, counts["ok"])


def assert_orders_add_up(world: World, bought: int) -> None:
    """One completed order per buyer who bought, one key each, amounts as priced (10 %
    off with the code, tax on the rest), items summing to the order, one payment of the
    total."""
    with unit_of_work(ACTOR, read_only=True) as uow:
        orders = uow.session.execute(
            text(
                "SELECT o.status, o.idempotency_key, o.subtotal, o.discount_amount,"
                " o.tax_amount, o.total_amount,"
                " (SELECT sum(subtotal) FROM order_items WHERE order_id = o.id),"
                " (SELECT sum(discount_amount) FROM order_items WHERE order_id = o.id),"
                " (SELECT sum(tax_amount) FROM order_items WHERE order_id = o.id),"
                " (SELECT sum(quantity) FROM order_items WHERE order_id = o.id),"
                " (SELECT array_agg(amount) FROM order_payments WHERE order_id = o.id)"
                " FROM orders o WHERE o.event_id = :e"
            ),
            {"e": world.sale.event_id},
        ).all()
    assert len(orders) == bought
    assert len({row[1] for row in orders}) == bought
    discount = money(PRICE / 10) if world.code_id else Decimal("0.00")
    tax = money((PRICE - discount) * TAX_RATE)
    for status, _, sub, disc, tax_, total, i_sub, i_disc, i_tax, quantity, paid in orders:
        assert status == "completed"
        assert quantity == 1
        assert (sub, disc, tax_) == (PRICE, discount, tax)
        assert (i_sub, i_disc, i_tax) == (sub, disc, tax_)
        assert total == sub - disc + tax_
        assert paid == [total]


def assert_broken(world: World, outcomes: list[str]) -> list[str]:
    """The negative control: the unsafe run broke this scenario's own invariant, seen both
    by find_violations and by counting the records directly. Returns the violations."""
    scenario, sale, types = world.scenario, world.sale, world.want.ticket_type_ids
    with unit_of_work(ACTOR, read_only=True) as uow:
        violations = find_violations(uow.session, sale.event_id, limit=1000)
    sold = sum(_scalar(SOLD, t=t) for t in types)
    held = sum(_scalar(HELD, t=t) for t in types)
    summary = f"{Counter(outcomes)}; sold {sold}, held {held}; violations {violations}"
    if scenario.name == "capacity":
        what, which = "ticket type over capacity", str(sale.ticket_type_id)
        assert sold + held > scenario.capacity, summary
    elif scenario.name == "event":
        what, which = "event over capacity", str(sale.event_id)
        assert scenario.event_capacity is not None
        assert sold + held > scenario.event_capacity, summary
    elif scenario.name == "seat":
        what, which = "seat sold or held twice", str(sale.event_id)
        seat = sale.seat_ids[0]
        claims = _scalar(SEAT_SALES, e=sale.event_id, s=seat)
        claims += _scalar(SEAT_HOLDS, e=sale.event_id, s=seat)
        assert claims > 1, summary
    else:
        what, which = "discount code over its limit or miscounted", str(world.want.code)
        uses = _scalar(CODE_USES, c=world.code_id)
        assert scenario.code_limit is not None
        used = _scalar(CODE_COUNTER, c=world.code_id)
        assert uses > scenario.code_limit or uses != used, summary
    mine = [v for v in violations if v.startswith(what) and which in v]
    assert mine, f"find_violations missed it: {summary}"
    return mine


# --- the tests ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unsafe_engine(databases: DatabaseFactory) -> Iterator[Engine]:
    """A database of its own for the negative controls, which leave broken invariants."""
    engine = migrated_engine(databases, "fashionistas_unsafe")
    yield engine
    engine.dispose()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_threads_sell_exactly_the_supply(
    checkout_engine: Engine, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(UNSAFE, raising=False)
    world = make_world(scenario)
    outcomes = run_threads(world.want, scenario.buyers)
    assert_sold_correctly(world, outcomes)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_threads_negative_control_unsafe_checkout_breaks_invariants(
    unsafe_engine: Engine, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    with installed(unsafe_engine):
        monkeypatch.setenv(UNSAFE, "1")
        world = make_world(scenario)
        outcomes = run_threads(world.want, scenario.buyers)
        monkeypatch.delenv(UNSAFE)
        assert_broken(world, outcomes)


@pytest.fixture(scope="module")
def buyer_processes() -> Iterator[BuyerProcesses]:
    """PROCESSES workers started with multiprocessing's "spawn" (nothing inherited but
    what is passed); each builds its own engine from the URL it is given."""
    ctx = multiprocessing.get_context("spawn")
    start_line = ctx.Barrier(PROCESSES)
    pool = ctx.Pool(PROCESSES, initializer=_init_worker, initargs=(start_line,))
    try:
        yield BuyerProcesses(pool, start_line)
        start_line.reset()
        pool.map(_dispose_worker, range(PROCESSES), chunksize=1)
        pool.close()
        pool.join()
    finally:
        pool.terminate()


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_processes_sell_exactly_the_supply(
    checkout_engine: Engine,
    buyer_processes: BuyerProcesses,
    scenario: Scenario,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(UNSAFE, raising=False)
    world = make_world(scenario)
    outcomes = buyer_processes.run(checkout_engine, world.want, scenario.buyers, unsafe=False)
    assert_sold_correctly(world, outcomes)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_processes_negative_control_unsafe_checkout_breaks_invariants(
    unsafe_engine: Engine, buyer_processes: BuyerProcesses, scenario: Scenario
) -> None:
    with installed(unsafe_engine):
        world = make_world(scenario)
        outcomes = buyer_processes.run(unsafe_engine, world.want, scenario.buyers, unsafe=True)
        assert_broken(world, outcomes)


def test_a_hold_expiring_while_place_order_waits_is_not_sold_over_a_newer_hold(
    checkout_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's hold of the last ticket expires while A's place_order waits for a lock (here the
    idempotency key's, held by the test as a twin request would); B then holds the ticket,
    legitimately. A's order must now fail with HoldExpired, or B's hold must have been
    refused: either way sold plus live holds stay within capacity."""
    monkeypatch.delenv(UNSAFE, raising=False)
    world = make_world(Scenario("expiry", buyers=2, capacity=1, supply=1))
    event_id, ticket_type_id = world.sale.event_id, world.sale.ticket_type_id
    a = Buyer("Early Bird", f"a.{uuid.uuid4().hex[:6]}@example.com")
    hold_tickets(ACTOR, HoldRequest(event_id, "session-a", {ticket_type_id: 1}))
    quote = quote_order(ACTOR, event_id, "session-a", None, a)
    request = OrderRequest(event_id, "session-a", a, "cash", quote.total, f"k-{uuid.uuid4()}")
    with checkout_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ticket_inventory_locks SET expires_at = clock_timestamp()"
                " + interval '1 second' WHERE event_id = :e AND session_id = 'session-a'"
            ),
            {"e": event_id},
        )
    with (
        checkout_engine.connect() as gate,
        checkout_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as monitor,
        ThreadPoolExecutor(1) as runner,
    ):
        gate.begin()
        gate.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :k)"),
            {"ns": NS_IDEMPOTENCY, "k": _key(request.idempotency_key)},
        )
        a_places = runner.submit(place_order, ACTOR, request)
        waiting = (
            "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        expired = (
            "SELECT 1 FROM ticket_inventory_locks WHERE session_id = 'session-a'"
            " AND expires_at < clock_timestamp()"
        )
        for sql in (waiting, expired):
            deadline = time.monotonic() + 4
            while monitor.execute(text(sql)).first() is None:
                if time.monotonic() > deadline:  # not an AssertionError: that is the bug's
                    raise TimeoutError(sql)
                time.sleep(0.02)
        b_held = buy_hold(event_id, ticket_type_id, "session-b")
        gate.rollback()
        with contextlib.suppress(DomainError):  # HoldExpired is a right answer
            a_places.result(timeout=10)
    with unit_of_work(ACTOR, read_only=True) as uow:
        violations = find_violations(uow.session, event_id)
    sold, held = _scalar(SOLD, t=ticket_type_id), _scalar(HELD, t=ticket_type_id)
    assert violations == [], f"B held: {b_held}; sold {sold}, held {held}"
    assert sold + held <= 1


def buy_hold(event_id: uuid.UUID, ticket_type_id: uuid.UUID, session_id: str) -> bool:
    try:
        hold_tickets(ACTOR, HoldRequest(event_id, session_id, {ticket_type_id: 1}))
    except DomainError:
        return False
    return True
