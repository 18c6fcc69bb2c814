"""The checkout as a state machine: random holds, orders, replays, cancellations, refunds
(of orders, items, some tickets or some seats of an item), expiries and sweeps against a
model, with the invariants and the model checked after every step.

Each example sells a fresh event (two ticket types of small capacity, three seats, an event
capacity below their sum, taxes, one 25% code with a usage limit of 2) in this module's
scratch database. The model predicts every outcome: a domain error the model did not
predict fails the run, and so does any other exception.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, text

from core.checkout.availability import read_availability
from core.checkout.errors import (
    AmountChanged,
    CodeUsedUp,
    HoldExpired,
    IdempotencyConflict,
    InvalidOrderState,
    SeatTaken,
    SoldOut,
)
from core.checkout.holds import HoldRequest, hold_tickets, sweep_expired_holds
from core.checkout.orders import OrderRequest, cancel_order, place_order, refund_order
from core.checkout.pricing import CodeRule, Line, price, refund_share
from core.checkout.refunds import RefundLine
from core.db import unit_of_work
from core.errors import DomainError, ValidationError
from tests.checkout_world import (
    ACTOR,
    buyer,
    checkout_db_fixture,  # noqa: F401  (the module's scratch database)
    expire_holds,
    make_code,
    make_sale_event,
    rows,
    tag,
    violations,
)

D = Decimal
TYPES = (
    {"name": "General", "capacity": 4, "base_price": D("20.00")},
    {"name": "Premium", "capacity": 5, "base_price": D("35.00"), "tax_rate": D("0.2")},
)
SEAT_PRICE = D("60.00")
ZERO = D("0.00")
SEATS = 3
EVENT_CAPACITY = 10  # below 4 + 5 + 3, so the event's own capacity binds too
EVENT_TAX = D("0.0825")
CODE_PERCENT = D("25")
CODE_LIMIT = 1

# How often each rule reached each outcome (printed with `pytest -s`).
OUTCOMES: Counter[str] = Counter()


@dataclass
class ModelHold:
    lock_id: uuid.UUID
    session_id: str
    ticket_type_id: uuid.UUID
    quantity: int
    seat: uuid.UUID | None
    live: bool = True


@dataclass
class ModelItem:
    ticket_type_id: uuid.UUID
    quantity: int
    seats: frozenset[uuid.UUID]
    amount: Decimal  # final price + tax: what refunding all of it gives back
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    refunded_count: int = 0
    refunded_seats: frozenset[uuid.UUID] = frozenset()
    refunded_amount: Decimal = ZERO

    @property
    def refunded(self) -> bool:
        return self.refunded_count == self.quantity

    @property
    def left(self) -> int:
        return self.quantity - self.refunded_count

    @property
    def live_seats(self) -> frozenset[uuid.UUID]:
        return self.seats - self.refunded_seats

    def give_back(self, count: int, seats: frozenset[uuid.UUID], paid: bool) -> Decimal:
        """The model's refund of `count` tickets, `seats` among them; returns the money."""
        share = refund_share(
            quantity=self.quantity,
            unit_price=self.unit_price,
            discount=self.discount,
            tax=self.tax,
            already=self.refunded_count,
            count=count,
        )
        money = share.amount if paid else D("0.00")
        self.refunded_count += count
        self.refunded_seats |= seats
        self.refunded_amount += money
        return money


@dataclass
class ModelOrder:
    order_id: uuid.UUID
    key: str
    total: Decimal
    uses_code: bool
    request: OrderRequest
    items: dict[uuid.UUID, ModelItem] = field(default_factory=dict)
    status: str = "completed"


def attempt(call: Callable[[], Any]) -> tuple[Any, DomainError | None]:
    """The call's result, or the domain error it raised; anything else propagates."""
    try:
        return call(), None
    except DomainError as error:
        return None, error


def check_outcome(step: str, error: DomainError | None, expected: type[DomainError] | None) -> None:
    OUTCOMES[f"{step}: {type(error).__name__ if error else 'ok'}"] += 1
    if expected is None:
        assert error is None, f"unexpected {type(error).__name__}: {error}"
    else:
        assert type(error) is expected, f"expected {expected.__name__}, got {error!r}"


class CheckoutMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.event = make_sale_event(
            TYPES,
            tax_rate=EVENT_TAX,
            capacity=EVENT_CAPACITY,
            seats=SEATS,
            seat_type={"name": "Front row", "base_price": SEAT_PRICE},
        )
        self.code = make_code(
            "discount",
            "percentage",
            CODE_PERCENT,
            events=[self.event.event_id],
            usage_limit=CODE_LIMIT,
        )
        assert self.event.seat_type_id is not None
        self.seat_type: uuid.UUID = self.event.seat_type_id
        self.types = (*self.event.ticket_type_ids, self.seat_type)
        self.capacity = {
            **{
                t: spec["capacity"]
                for t, spec in zip(self.event.ticket_type_ids, TYPES, strict=True)
            },
            self.seat_type: SEATS,
        }
        self.unit_price = {
            **{
                t: spec["base_price"]
                for t, spec in zip(self.event.ticket_type_ids, TYPES, strict=True)
            },
            self.seat_type: SEAT_PRICE,
        }
        self.tax_rate = {
            **{
                t: spec.get("tax_rate", EVENT_TAX)
                for t, spec in zip(self.event.ticket_type_ids, TYPES, strict=True)
            },
            self.seat_type: EVENT_TAX,
        }
        self.holds: dict[uuid.UUID, ModelHold] = {}  # hold rows not yet placed or swept
        self.orders: dict[uuid.UUID, ModelOrder] = {}
        self.spent_sessions: list[str] = []  # placed: nothing left to place
        self.code_uses = 0
        OUTCOMES["examples"] += 1

    # --- what the model knows --------------------------------------------------------

    def sessions(self) -> dict[str, list[ModelHold]]:
        found: dict[str, list[ModelHold]] = defaultdict(list)
        for held in self.holds.values():
            found[held.session_id].append(held)
        return dict(found)

    def live_items(self) -> list[ModelItem]:
        return [
            item
            for order in self.orders.values()
            if order.status == "completed"
            for item in order.items.values()
            if not item.refunded
        ]

    def sold(self, ticket_type_id: uuid.UUID) -> int:
        return sum(i.left for i in self.live_items() if i.ticket_type_id == ticket_type_id)

    def held(self, ticket_type_id: uuid.UUID) -> int:
        return sum(
            h.quantity for h in self.holds.values() if h.live and h.ticket_type_id == ticket_type_id
        )

    def committed(self) -> int:
        return sum(self.sold(t) + self.held(t) for t in self.types)

    def seat_status(self, seat: uuid.UUID) -> str:
        if any(seat in item.live_seats for item in self.live_items()):
            return "sold"
        if any(h.live and h.seat == seat for h in self.holds.values()):
            return "held"
        return "available"

    # --- rules -----------------------------------------------------------------------

    @rule(data=st.data())
    def hold(self, data: st.DataObject) -> None:
        """Hold 1-4 tickets of one type, or one seat, in a new session or one whose
        holds are all still live."""
        if data.draw(st.booleans(), label="seat"):
            seat = data.draw(st.sampled_from(self.event.seat_ids), label="which seat")
            ticket_type_id, quantity = self.seat_type, 1
        else:
            seat = None
            ticket_type_id = data.draw(st.sampled_from(self.event.ticket_type_ids), label="type")
            quantity = data.draw(st.integers(1, 3), label="quantity")
        # Choices are listed in creation order: ids are random, so sorting by them would
        # make the same draws pick differently from one run to the next.
        live_sessions = [s for s, held in self.sessions().items() if all(h.live for h in held)]
        if live_sessions and data.draw(st.booleans(), label="add to a session"):
            session_id = data.draw(st.sampled_from(live_sessions), label="session")
        else:
            session_id = f"sm-{tag()}"

        free = self.capacity[ticket_type_id] - self.sold(ticket_type_id)
        free -= self.held(ticket_type_id)
        expected: type[DomainError] | None = None
        if quantity > free or self.committed() + quantity > EVENT_CAPACITY:
            expected = SoldOut
        elif seat is not None and self.seat_status(seat) != "available":
            expected = SeatTaken
        request = HoldRequest(
            self.event.event_id,
            session_id,
            {} if seat else {ticket_type_id: quantity},
            [seat] if seat else [],
        )
        _, error = attempt(lambda: hold_tickets(ACTOR, request))
        check_outcome("hold", error, expected)
        if error is not None:
            return
        (new,) = [
            r
            for r in rows(
                "SELECT id, ticket_type_id, quantity, seat_ids FROM ticket_inventory_locks"
                " WHERE event_id = :e AND session_id = :s",
                e=self.event.event_id,
                s=session_id,
            )
            if r[0] not in self.holds
        ]
        assert (new[1], new[2], new[3]) == (ticket_type_id, quantity, [seat] if seat else None)
        self.holds[new[0]] = ModelHold(new[0], session_id, ticket_type_id, quantity, seat)

    @precondition(lambda self: self.holds or self.spent_sessions)
    @rule(data=st.data())
    def place(self, data: st.DataObject) -> None:
        """Place a held (or already placed) session, with or without the code; now and
        then with a total other than the one the buyer should have been shown."""
        sessions = self.sessions()
        groups = {
            "live": [s for s, held in sessions.items() if all(h.live for h in held)],
            "expired": [s for s, held in sessions.items() if not all(h.live for h in held)],
            "spent": self.spent_sessions,
        }
        # Mostly sessions that can be placed; now and then one that cannot.
        kinds = [k for k in ("live", "live", "live", "expired", "spent") if groups[k]]
        kind = data.draw(st.sampled_from(kinds), label="kind of session")
        session_id = data.draw(st.sampled_from(groups[kind]), label="session")
        use_code = data.draw(st.booleans(), label="code")
        wrong_total = data.draw(st.integers(0, 4), label="wrong total") == 0
        held = sessions.get(session_id, [])

        quantities: dict[uuid.UUID, int] = defaultdict(int)
        seats: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for h in held:
            quantities[h.ticket_type_id] += h.quantity
            if h.seat is not None:
                seats[h.ticket_type_id].add(h.seat)
        expected: type[DomainError] | None = None
        total = D("0.00")
        if not held or not all(h.live for h in held):
            expected = HoldExpired
        elif use_code and self.code_uses >= CODE_LIMIT:
            expected = CodeUsedUp
        else:
            lines = [
                Line(t, self.event.event_id, q, self.unit_price[t], self.tax_rate[t])
                for t, q in sorted(quantities.items())
            ]
            rule_ = CodeRule(
                "discount",
                self.code.id,
                self.code.code,
                "percentage",
                CODE_PERCENT,
                usage_limit=CODE_LIMIT,
                used=self.code_uses,
                event_ids=frozenset({self.event.event_id}),
            )
            # The pricing rules themselves are tested in test_pricing; the model only
            # needs the database to price exactly what the session holds.
            total = price(lines, rule_ if use_code else None, now=datetime.now(UTC)).total
            if wrong_total:
                expected = AmountChanged
        key = f"key-{tag()}"
        request = OrderRequest(
            event_id=self.event.event_id,
            session_id=session_id,
            buyer=buyer(),
            payment_method="cash",
            expected_total=total + (D("1.00") if wrong_total else 0),
            idempotency_key=key,
            code=self.code.code if use_code else None,
        )
        placed, error = attempt(lambda: place_order(ACTOR, request))
        check_outcome("place", error, expected)
        if error is not None:
            return

        assert (placed.status, placed.total, placed.replayed) == ("completed", total, False)
        order = ModelOrder(placed.order_id, key, placed.total, use_code, request)
        found = rows(
            "SELECT id, ticket_type_id, quantity, seat_ids, final_price + tax_amount,"
            " unit_price, discount_amount, tax_amount FROM order_items WHERE order_id = :o",
            o=placed.order_id,
        )
        found.sort(key=lambda r: self.types.index(r[1]))  # a stable order to draw from
        for item_id, ticket_type_id, quantity, seat_ids, amount, unit, discount, tax in found:
            assert quantity == quantities.pop(ticket_type_id)
            assert set(seat_ids or ()) == seats.get(ticket_type_id, set())
            order.items[item_id] = ModelItem(
                ticket_type_id, quantity, frozenset(seat_ids or ()), amount, unit, discount, tax
            )
        assert not quantities, "every held ticket type became an item"
        assert sum(i.amount for i in order.items.values()) == placed.total
        self.orders[order.order_id] = order
        for h in held:
            del self.holds[h.lock_id]
        self.spent_sessions.append(session_id)
        self.code_uses += use_code

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """The same request under a used key returns the order it made (as it is now); a
        different request under that key (another session, buyer or total) is refused as
        a conflict and changes nothing."""
        order = data.draw(st.sampled_from(list(self.orders.values())), label="order")
        change = data.draw(st.sampled_from(["none", "session", "buyer", "total"]), label="diff")
        request = {
            "none": order.request,
            "session": replace(order.request, session_id=f"sm-{tag()}"),
            "buyer": replace(order.request, buyer=buyer()),
            "total": replace(order.request, expected_total=order.total + D("0.01")),
        }[change]
        placed, error = attempt(lambda: place_order(ACTOR, request))
        check_outcome("replay", error, None if change == "none" else IdempotencyConflict)
        if error is not None:
            assert (error.code, error.field) == ("idempotency_conflict", "idempotency_key")
            return
        assert placed.replayed
        assert (placed.order_id, placed.status, placed.total) == (
            order.order_id,
            order.status,
            order.total,
        )

    def pick_order(self, data: st.DataObject) -> ModelOrder:
        """Mostly a completed order; now and then a cancelled or refunded one."""
        groups = {
            "completed": [o for o in self.orders.values() if o.status == "completed"],
            "closed": [o for o in self.orders.values() if o.status != "completed"],
        }
        kinds = [k for k in ("completed", "completed", "completed", "closed") if groups[k]]
        kind = data.draw(st.sampled_from(kinds), label="kind of order")
        return data.draw(st.sampled_from(groups[kind]), label="order")

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order = self.pick_order(data)
        expected = None if order.status == "completed" else InvalidOrderState
        result, error = attempt(lambda: cancel_order(ACTOR, order.order_id, "state machine"))
        check_outcome("cancel", error, expected)
        if error is not None:
            return
        left = [item for item in order.items.values() if not item.refunded]
        assert result.status == "cancelled"
        assert result.released_tickets == sum(item.left for item in left)
        money = sum((item.give_back(item.left, item.live_seats, True) for item in left), D(0))
        assert result.refunded_amount == money
        order.status = "cancelled"
        self.code_uses -= order.uses_code

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        """Refund all that is left of an order, all of one item (refunded or not), or some
        tickets of an item: a number of them, or some of its seats."""
        order = self.pick_order(data)
        item_id = data.draw(st.sampled_from(list(order.items)), label="item")
        how = data.draw(st.sampled_from(["everything", "item", "part", "part"]), label="how")
        item = order.items[item_id]
        expected: type[DomainError] | None = None
        if order.status != "completed":
            expected = InvalidOrderState
        elif how != "everything" and item.refunded:
            expected = ValidationError
        count, seats = item.left, item.live_seats
        lines: list[RefundLine] | None = None
        if how == "part" and not item.refunded:
            if item.live_seats:
                seats = frozenset(
                    data.draw(
                        st.sets(st.sampled_from(sorted(item.live_seats)), min_size=1),
                        label="seats",
                    )
                )
                count = len(seats)
            else:
                count = data.draw(st.integers(1, item.left), label="tickets")
                seats = frozenset()
            lines = [RefundLine(item_id, count, tuple(seats))]
        result, error = attempt(
            lambda: refund_order(
                ACTOR,
                order.order_id,
                "state machine",
                None if how in ("everything", "part") else [item_id],
                lines=lines,
            )
        )
        check_outcome(f"refund {how}", error, expected)
        if error is not None:
            return
        chosen = (
            [(i, i.left, i.live_seats) for i in order.items.values() if not i.refunded]
            if how == "everything"
            else [(item, count, seats)]
        )
        released = sum(c for _, c, _ in chosen)
        money = sum((i.give_back(c, s, True) for i, c, s in chosen), D("0.00"))
        if all(i.refunded for i in order.items.values()):
            order.status = "refunded"
            self.code_uses -= order.uses_code
        assert result.status == order.status
        assert result.released_tickets == released
        assert result.refunded_amount == money

    @precondition(lambda self: any(h.live for h in self.holds.values()))
    @rule(data=st.data())
    def expire(self, data: st.DataObject) -> None:
        """Time passes for one hold row."""
        live = [h for h in self.holds.values() if h.live]
        held = data.draw(st.sampled_from(live), label="hold")
        expire_holds(self.event.event_id, lock_id=held.lock_id)
        held.live = False
        OUTCOMES["expire"] += 1

    @precondition(lambda self: any(not h.live for h in self.holds.values()))
    @rule()
    def sweep(self) -> None:
        expired = [h for h in self.holds.values() if not h.live]
        released = sweep_expired_holds(ACTOR)
        OUTCOMES["sweep"] += 1
        # The sweeper covers the whole database: earlier examples' expired holds count too.
        assert released >= sum(h.quantity for h in expired)
        for held in expired:
            del self.holds[held.lock_id]

    # --- after every step ------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        event_id = self.event.event_id
        with unit_of_work(ACTOR, read_only=True) as uow:
            session = uow.session
            assert violations(event_id, [self.code.code], session=session) == []
            availability = read_availability(session, event_id)
            usage = session.execute(
                text("SELECT current_usage FROM discount_codes WHERE id = :c"),
                {"c": self.code.id},
            ).scalar()
            statuses = dict(
                session.execute(
                    text("SELECT id, status FROM orders WHERE event_id = :e"), {"e": event_id}
                ).all()
            )
            hold_rows = set(
                session.execute(
                    text("SELECT id FROM ticket_inventory_locks WHERE event_id = :e"),
                    {"e": event_id},
                ).scalars()
            )
            refunded_items = set(
                session.execute(
                    text(
                        "SELECT oi.id FROM order_items oi JOIN orders o ON o.id = oi.order_id"
                        " WHERE o.event_id = :e AND oi.refunded_at IS NOT NULL"
                    ),
                    {"e": event_id},
                ).scalars()
            )
            given_back = {
                r[0]: (r[1], frozenset(r[2] or ()), r[3], r[4])
                for r in session.execute(
                    text(
                        "SELECT oi.id, oi.refunded_quantity, oi.refunded_seat_ids,"
                        " oi.refunded_amount, (SELECT coalesce(sum(r.amount), 0)"
                        " FROM order_refunds r WHERE r.order_item_id = oi.id)"
                        " FROM order_items oi JOIN orders o ON o.id = oi.order_id"
                        " WHERE o.event_id = :e"
                    ),
                    {"e": event_id},
                )
            }
        for t in availability.ticket_types:
            assert (t.sold, t.held) == (self.sold(t.ticket_type_id), self.held(t.ticket_type_id))
        assert {s: availability.seats[s].status for s in self.event.seat_ids} == {
            s: self.seat_status(s) for s in self.event.seat_ids
        }
        assert usage == self.code_uses
        assert statuses == {o.order_id: o.status for o in self.orders.values()}
        assert hold_rows == set(self.holds)
        assert refunded_items == {
            item_id
            for order in self.orders.values()
            for item_id, item in order.items.items()
            if item.refunded
        }
        # Each item's counters, and its refund rows, say what the model gave back.
        assert given_back == {
            item_id: (
                item.refunded_count,
                item.refunded_seats,
                item.refunded_amount,
                item.refunded_amount,
            )
            for order in self.orders.values()
            for item_id, item in order.items.items()
        }


def test_checkout_state_machine(checkout_db: Engine) -> None:
    run_state_machine_as_test(
        CheckoutMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    print("\n".join(f"{n:5d}  {outcome}" for outcome, n in sorted(OUTCOMES.items())))
