"""Orders, their items, seat states, inventory holds and promo-code usage.

A million orders should not be held in memory as rows, and their tables are written one
after another (orders before items before seats). So each event's orders come from a generator
with its own random stream seeded from the world's: running it again yields the same orders,
and every pass over the orders (plan, orders, items, seats) regenerates them instead of
keeping them. The plan pass only keeps totals: sold tickets per type, code usage, and the
chronological rank of each order for its order number.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from random import Random

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, MINUTE, ts_or_none, ts_text
from core.demo.events import EventRec
from core.demo.ids import id_from_bits
from core.demo.money import money, tax_cents
from core.demo.payments import demo_card
from core.demo.people import UserRec
from core.demo.tickets import CodeRec, TicketTypeRec
from core.demo.vocab import CITIES, USER_AGENTS
from core.demo.world import World
from core.demo.writer import TableLoad

# Statuses whose tickets are taken from inventory (sold or held).
HOLDING = ("completed", "pending")
# Draws below pick by cumulative percentages with bisect: random.choices costs more than
# everything else an order needs.
METHOD_NAMES = ("online", "card_terminal", "cash", "complimentary")
# Orders paid by card keep the card's brand, last four digits and expiry, encrypted.
CARD_METHODS = ("online", "card_terminal")
METHOD_CUM = (72.0, 90.0, 98.5)
ITEM_COUNTS = (1, 2, 3)
ITEM_COUNT_CUM = (48.0, 88.0)
QUANTITIES = (1, 2, 3, 4)
QUANTITY_CUM = (58.0, 88.0, 96.0)
TYPE_WEIGHT = {
    "fashion_show": 1.5,
    "exhibition": 3.0,
    "workshop": 0.6,
    "conference": 1.2,
    "party": 2.0,
    "networking": 1.0,
}
# How orders end, by cumulative share (the rest fail at payment). Ticket holders of a
# postponed event ask for refunds more often.
OUTCOMES = (("completed", 0.92), ("cancelled", 0.95), ("refunded", 0.98))
POSTPONED_OUTCOMES = (("completed", 0.82), ("refunded", 0.96), ("cancelled", 0.98))
# Tickets per order on average, to turn seat counts into order counts.
TICKETS_PER_ORDER = 2.3
# Lock ids are derived from the item they hold, so the seats pass finds them again.
LOCK_SALT = 0x5EED_10C4_5EED_10C4_5EED_10C4_5EED_10C4
HOLD_SECONDS = 3 * DAY


@dataclass(slots=True)
class Sale:
    """One order as the generator draws it; amounts in cents."""

    k: int
    bits: int
    aux: int
    ts: int
    status: str
    user: UserRec | None
    method: str
    # (item bits, ticket type, quantity, unit price, discount, whether the code applied)
    items: list[tuple[int, TicketTypeRec, int, int, int, bool]]
    code: CodeRec | None
    promo: bool
    subtotal: int
    discount: int
    tax: int
    total: int


@dataclass
class SalesPlan:
    """What the plan pass learned: orders per event, and each order's number in its year."""

    counts: dict[int, int] = field(default_factory=dict)
    offsets: dict[int, int] = field(default_factory=dict)
    sequence: array = field(default_factory=lambda: array("l"))
    year_starts: list[int] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    discount_codes: dict[str, list[CodeRec]] = field(default_factory=dict)
    promo_codes: dict[str, list[CodeRec]] = field(default_factory=dict)
    # Filled while order items are written: locks for pending orders, promo redemptions.
    locks: list[tuple] = field(default_factory=list)
    promo_usages: list[tuple] = field(default_factory=list)
    # Filled while orders are written: refunded orders (few), for order_refunds.
    refunds: list[tuple] = field(default_factory=list)

    def order_number(self, global_index: int, ts: int) -> str:
        year = self.years[bisect_right(self.year_starts, ts) - 1]
        return f"FW-{year}-{self.sequence[global_index]:07d}"


def plan(world: World) -> None:
    """Decide orders per event, then draw every order once to learn the totals that tables
    written before orders need (capacities, remaining seats, code usage, attendance)."""
    sales = world.sales = SalesPlan()
    events = [e for e in world.events if e.on_sale]
    for counts_event, n in zip(events, _allocate(world, events), strict=True):
        sales.counts[counts_event.index] = n
        counts_event.orders = n
    for e in world.events:
        sales.discount_codes[e.id] = [
            c for c in world.discount_codes if not c.event_ids or e.id in c.event_ids
        ]
        sales.promo_codes[e.id] = [
            c for c in world.promo_codes if not c.event_ids or e.id in c.event_ids
        ]
    keys: list[int] = []
    offset = 0
    demand: dict[str, int] = {}
    for e in events:
        sales.offsets[e.index] = offset
        completed_tickets = 0
        for sale in event_sales(world, e):
            keys.append(sale.ts << 32 | offset + sale.k)
            holds = sale.status in HOLDING
            for _, tt, qty, _, _, _ in sale.items:
                demand[tt.id] = demand.get(tt.id, 0) + qty
                if holds:
                    tt.sold += qty
                if sale.status == "completed":
                    completed_tickets += qty
            # A code counts as used by live orders only: cancelling gives the use back.
            if sale.code is not None and holds:
                sale.code.usage += 1
        offset += sales.counts[e.index]
        if e.status == "completed":
            e.attendance = int(completed_tickets * world.rng.uniform(0.85, 0.97))
    _number_orders(sales, keys, offset)
    _capacities(world, demand)


def _allocate(world: World, events: list[EventRec]) -> list[int]:
    """Orders per selling event: by type and how much of the sale has run, seated events
    capped near their seat count, the rest to admission-only events (largest remainder)."""
    weights, caps = [], []
    for e in events:
        elapsed = (e.sales_until - e.sale_start) / max(e.sale_end - e.sale_start, 1)
        weights.append(TYPE_WEIGHT[e.type] * max(elapsed, 0.05) * world.rng.uniform(0.6, 1.4))
        if e.seated:
            seats = sum(len(t.seats) for t in e.ticket_types)
            fill = 0.92 if elapsed >= 1 else 0.3 + 0.6 * elapsed
            caps.append(max(1, int(seats * fill / TICKETS_PER_ORDER)))
        else:
            caps.append(None)
    total = world.scale.orders
    fixed: dict[int, int] = {}
    while True:
        free = [i for i in range(len(events)) if i not in fixed]
        budget = total - sum(fixed.values())
        if not free:
            # Every event is capped: standing room takes the overflow.
            extra = _split(budget, weights)
            return [fixed[i] + extra[i] for i in range(len(events))]
        shares = _split(budget, [weights[i] for i in free])
        over = [i for i, n in zip(free, shares, strict=True) if caps[i] is not None and n > caps[i]]
        if not over:
            result = dict(fixed)
            result.update(zip(free, shares, strict=True))
            return [result[i] for i in range(len(events))]
        for i in over:
            fixed[i] = caps[i]


def _split(total: int, weights: list[float]) -> list[int]:
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    counts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _number_orders(sales: SalesPlan, keys: list[int], total: int) -> None:
    """Order numbers run per year in order of creation: FW-2026-0000001, ..."""
    keys.sort()
    sales.sequence = array("l", [0]) * total
    year_starts: list[int] = []
    years: list[int] = []
    n_in_year = 0
    boundary = -1
    for key in keys:
        ts = key >> 32
        if ts >= boundary:
            year = datetime.fromtimestamp(ts, UTC).year
            years.append(year)
            year_starts.append(int(datetime(year, 1, 1, tzinfo=UTC).timestamp()))
            boundary = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
            n_in_year = 0
        n_in_year += 1
        sales.sequence[key & 0xFFFFFFFF] = n_in_year
    sales.year_starts, sales.years = year_starts, years


def _capacities(world: World, demand: dict[str, int]) -> None:
    """Admission capacities from demand (sold out or not, never below what was sold)."""
    rng = world.rng
    defaults = {"general": 300, "premium": 100, "vip": 40, "exclusive": 12}
    for e in world.events:
        elapsed = (e.sales_until - e.sale_start) / max(e.sale_end - e.sale_start, 1)
        for t in e.ticket_types:
            if t.section is not None:
                continue
            wanted = demand.get(t.id, 0)
            if wanted == 0:
                base = 60 if t.name == "Standing Room" else defaults[t.tier]
                t.capacity = max(t.sold, base * world.scale.rows_factor)
                continue
            fill = rng.uniform(0.85, 0.98) if elapsed >= 1 else 0.35 + 0.5 * max(elapsed, 0)
            t.capacity = max(t.sold, -(-int(wanted / fill) // 25) * 25)
        e.capacity = sum(t.capacity for t in e.ticket_types)
        assert e.attendance <= e.capacity
    for v in world.venues:
        hosted = [e.capacity for e in world.events if e.venue is v]
        v.capacity = -(-max([len(v.seats), *hosted]) // 100) * 100


def event_sales(world: World, e: EventRec) -> Iterator[Sale]:
    """The orders of event `e`, the same ones every time (own random stream)."""
    n = world.sales.counts.get(e.index, 0) if world.sales else 0
    if n == 0:
        return
    rng = Random(e.sales_seed)
    rand, bits = rng.random, rng.getrandbits
    t0 = world.clock.t0
    types = e.ticket_types
    type_cum = list(accumulate(t.weight for t in types))
    # Without the last bound, bisect can never step past the last type.
    type_total = type_cum.pop()
    standing = types[-1] if e.seated else None
    taken = {t.id: 0 for t in types}
    discount_codes = world.sales.discount_codes[e.id]
    promo_codes = world.sales.promo_codes[e.id]
    usage: dict[str, int] = {}
    buyers = world.users_by_type["attendee"]
    n_buyers = len(buyers)
    start, span = e.sale_start, e.sales_until - e.sale_start
    upcoming = e.start > t0
    for k in range(n):
        order_bits, aux = bits(128), bits(64)
        ts = start + int(span * rand() ** 0.7)
        status = _status(e.status, upcoming and ts >= t0 - 2 * DAY, rand())
        method = METHOD_NAMES[bisect_right(METHOD_CUM, rand() * 100.0)]
        # Online buyers have accounts (a few check out as guests; early sign-ups buy more);
        # at the box office most buyers are walk-ins.
        if rand() < (0.95 if method == "online" else 0.4):
            user = buyers[int(n_buyers * rand() ** 1.3)]
        else:
            user = None
        holds = status in HOLDING
        wanted = min(ITEM_COUNTS[bisect_right(ITEM_COUNT_CUM, rand() * 100.0)], len(types))
        chosen: list[TicketTypeRec] = []
        for _ in range(wanted * 3):
            t = types[bisect_right(type_cum, rand() * type_total)]
            if t not in chosen:
                chosen.append(t)
                if len(chosen) == wanted:
                    break
        lines: list[tuple[TicketTypeRec, int]] = []
        for t in chosen:
            qty = min(QUANTITIES[bisect_right(QUANTITY_CUM, rand() * 100.0)], t.max_per_order)
            if holds and t.section is not None:
                free = len(t.seats) - taken[t.id]
                if free <= 0:
                    # Sold out: the buyer takes standing room instead, if not already.
                    if (
                        standing is None
                        or standing in chosen
                        or any(x is standing for x, _ in lines)
                    ):
                        continue
                    t = standing
                else:
                    qty = min(qty, free)
            if holds:
                taken[t.id] += qty
            lines.append((t, qty))
        code, promo = None, False
        roll = rand()
        if method == "complimentary":
            pass
        elif roll < 0.12 and discount_codes:
            code = _usable(discount_codes[int(rand() * len(discount_codes))], ts, usage)
        elif roll < 0.18 and promo_codes:
            code = _usable(promo_codes[int(rand() * len(promo_codes))], ts, usage)
            promo = code is not None
        items = []
        applied = False
        subtotal = discount = 0
        for t, qty in lines:
            sub = t.price * qty
            cut = 0
            coded = (
                code is not None
                and (code.ticket_type_ids is None or t.id in code.ticket_type_ids)
                and sub >= code.min_cents
            )
            if method == "complimentary":
                cut = sub
            elif coded:
                cut = code.discount(sub)
                applied = True
            items.append((bits(128), t, qty, t.price, cut, coded))
            subtotal += sub
            discount += cut
        if not applied:
            code, promo = None, False
        elif code.limit is not None:
            usage[code.id] = usage.get(code.id, 0) + 1
        # Tax is rounded per item, as the checkout does, so an order is the sum of its items.
        tax = sum(tax_cents(unit * qty - cut, e.tax_e4) for _, _, qty, unit, cut, _ in items)
        yield Sale(
            k, order_bits, aux, ts, status, user, method, items, code, promo,
            subtotal, discount, tax, subtotal - discount + tax,
        )  # fmt: skip


def _status(event_status: str, recent: bool, r: float) -> str:
    if event_status == "cancelled":
        return "refunded" if r < 0.85 else "cancelled"
    if recent and r < 0.5:
        return "pending"
    outcomes = POSTPONED_OUTCOMES if event_status == "postponed" else OUTCOMES
    for status, below in outcomes:
        if r < below:
            return status
    return "failed"


def _usable(code: CodeRec, ts: int, usage: dict[str, int]) -> CodeRec | None:
    if not code.start <= ts < code.end:
        return None
    if code.limit is not None and usage.get(code.id, 0) >= code.limit:
        return None
    return code


def _selling(world: World) -> list[EventRec]:
    assert world.sales is not None
    return [e for e in world.events if world.sales.counts.get(e.index, 0)]


def tables(world: World) -> Iterator[TableLoad]:
    """orders, order_items, ticket_inventory_locks, event_seats and promotional_code_usage,
    each from a fresh pass over the events' orders."""
    total = world.scale.orders
    yield _orders(world, total)
    yield _items(world, total)
    yield _locks(world)
    yield _seats(world)
    yield _promo_usage(world)
    yield _payments(world, total)
    yield _refunds(world)


def _orders(world: World, total: int) -> TableLoad:
    sales, pools, t0 = world.sales, world.pools, world.clock.t0
    assert sales is not None
    nf, nl = len(pools.first_names), len(pools.last_names)
    addresses = [
        {"line1": street, "city": c.name, "postal_code": c.postal_code, "country": c.country}
        for street, c in zip(
            pools.streets, CITIES * (len(pools.streets) // len(CITIES) + 1), strict=False
        )
    ]
    sample_every = max(1, total // 2_000)
    sales.refunds.clear()

    def rows():
        for e in _selling(world):
            offset = sales.offsets[e.index]
            cancel = e.cancelled_at
            for s in event_sales(world, e):
                aux = s.aux
                if s.user is not None:
                    name, email, phone = s.user.full_name, s.user.email, s.user.phone
                else:
                    first, last = aux % nf, (aux >> 16) % nl
                    name = f"{pools.first_names[first]} {pools.last_names[last]}"
                    number = (aux >> 32) % 900 + 100
                    email = (
                        f"{pools.first_ascii[first]}.{pools.last_ascii[last]}{number}@example.net"
                    )
                    phone = pools.phones[(aux >> 24) % len(pools.phones)]
                completed = cancelled = refunded = expires = None
                ts = s.ts
                if s.status in ("completed", "refunded"):
                    completed = ts + 30 + (aux >> 40) % 600
                if s.status == "refunded":
                    after = (
                        cancel if cancel is not None else completed + ((aux >> 50) % 20 + 1) * DAY
                    )
                    refunded = max(completed, min(after + (aux >> 10) % (3 * DAY), t0 - MINUTE))
                elif s.status == "cancelled":
                    cancelled = max(
                        ts + MINUTE, min(ts + ((aux >> 50) % 72 + 1) * HOUR, t0 - MINUTE)
                    )
                elif s.status == "pending":
                    expires = ts + HOLD_SECONDS
                online = s.method == "online"
                number = sales.order_number(offset + s.k, ts)
                order_id = id_from_bits(s.bits)
                if refunded is not None and s.total > 0:
                    sales.refunds.append((s.bits, order_id, s.total, s.method, refunded))
                if s.k % sample_every == 0:
                    world.order_sample.append((order_id, number, s.status, s.total, ts))
                yield (
                    order_id,
                    number,
                    None if s.user is None else s.user.id,
                    e.id,
                    s.status,
                    money(s.total),
                    money(s.subtotal),
                    money(s.tax),
                    money(s.discount),
                    "USD",
                    f"pi_{aux:016x}" if s.method in ("online", "card_terminal") else None,
                    s.method,
                    f"chk_{s.bits:032x}" if online else None,
                    email,
                    name,
                    phone,
                    Jsonb(addresses[(aux >> 4) % len(addresses)]) if online else None,
                    "Box office sale" if s.method in ("cash", "card_terminal") else None,
                    pools.ipv4[(aux >> 8) % len(pools.ipv4)] if online else None,
                    USER_AGENTS[(aux >> 20) % len(USER_AGENTS)] if online else USER_AGENTS[-1],
                    ts_or_none(completed),
                    ts_or_none(cancelled),
                    ts_or_none(refunded),
                    ts_or_none(expires),
                    ts_text(ts),
                    ts_text(refunded or cancelled or completed or ts),
                    *(demo_card(world, aux) if s.method in CARD_METHODS else (None, None)),
                )

    return TableLoad(
        "orders",
        (
            "id", "order_number", "user_id", "event_id", "status", "total_amount", "subtotal",
            "tax_amount", "discount_amount", "currency", "payment_intent_id", "payment_method",
            "idempotency_key", "billing_email", "billing_name", "billing_phone",
            "billing_address", "notes", "ip_address", "user_agent", "completed_at",
            "cancelled_at", "refunded_at", "expiration_time", "created_at", "updated_at",
            "encrypted_payment_details", "payment_details_key_id",
        ),
        rows(),
        total,
    )  # fmt: skip


def _items(world: World, total: int) -> TableLoad:
    sales = world.sales
    assert sales is not None
    sales.locks.clear()
    sales.promo_usages.clear()

    def rows():
        for e in _selling(world):
            # Seats go to orders in the same order as in _seats, so each item names its seats.
            pointer = {t.id: 0 for t in e.ticket_types}
            for s in event_sales(world, e):
                order_id = id_from_bits(s.bits)
                created = ts_text(s.ts)
                code_id = None if s.code is None else s.code.id
                for item_bits, t, qty, unit, cut, coded in s.items:
                    sub = unit * qty
                    item_code = code_id if coded else None
                    seats = None
                    if e.seated and t.section is not None and s.status in HOLDING:
                        at = pointer[t.id]
                        pointer[t.id] = at + qty
                        seats = [e.venue.seats[i].id for i in t.seats[at : at + qty]]
                    yield (
                        id_from_bits(item_bits),
                        order_id,
                        t.id,
                        qty,
                        money(unit),
                        money(sub),
                        money(cut),
                        money(sub - cut),
                        money(tax_cents(sub - cut, e.tax_e4)),
                        None if s.promo else item_code,
                        item_code if s.promo else None,
                        seats,
                        created,
                        created,
                    )
                    if s.status == "pending":
                        sales.locks.append(
                            (item_bits, t.id, e.id, qty, order_id, s.aux, s.ts, seats)
                        )
                if s.promo and s.status in HOLDING:
                    used = s.ts + 30 + (s.aux >> 40) % 600
                    user_id = None if s.user is None else s.user.id
                    sales.promo_usages.append(
                        (s.bits, code_id, user_id, order_id, used, s.discount, s.total)
                    )

    return TableLoad(
        "order_items",
        (
            "id", "order_id", "ticket_type_id", "quantity", "unit_price", "subtotal",
            "discount_amount", "final_price", "tax_amount", "discount_code_id",
            "promotional_code_id", "seat_ids", "created_at", "updated_at",
        ),
        rows(),
        int(total * 1.45),
    )  # fmt: skip


def _locks(world: World) -> TableLoad:
    sales = world.sales
    assert sales is not None

    def rows():
        for item_bits, tt_id, event_id, qty, order_id, aux, ts, seats in sales.locks:
            yield (
                id_from_bits(item_bits ^ LOCK_SALT),
                tt_id,
                event_id,
                qty,
                order_id,
                f"sess_{aux:016x}",
                ts_text(ts + HOLD_SECONDS),
                seats,
                ts_text(ts),
            )

    return TableLoad(
        "ticket_inventory_locks",
        (
            "id",
            "ticket_type_id",
            "event_id",
            "quantity",
            "order_id",
            "session_id",
            "expires_at",
            "seat_ids",
            "created_at",
        ),
        rows(),
        len(sales.locks),
    )


def _seats(world: World) -> TableLoad:
    """One row per seat of the venue for every seated event: sold, held, blocked or free."""

    def rows():
        for e in world.events:
            if not e.seated:
                continue
            taken: dict[int, tuple] = {}
            pointer = {t.id: 0 for t in e.ticket_types}
            for s in event_sales(world, e):
                if s.status not in HOLDING:
                    continue
                order_id = id_from_bits(s.bits)
                for item_bits, t, qty, unit, _, _ in s.items:
                    if t.section is None:
                        continue
                    at = pointer[t.id]
                    pointer[t.id] = at + qty
                    if s.status == "completed":
                        state = ("sold", None, None, order_id, t.id, money(unit), ts_text(s.ts))
                    else:
                        hold = id_from_bits(item_bits ^ LOCK_SALT)
                        until = ts_text(s.ts + HOLD_SECONDS)
                        state = ("held", hold, until, None, t.id, money(unit), ts_text(s.ts))
                    for seat_index in t.seats[at : at + qty]:
                        taken[seat_index] = state
            created = ts_text(e.created + HOUR)
            for index, seat in enumerate(e.venue.seats):
                state = taken.get(index)
                if state is not None:
                    status, hold, until, order_id, tt_id, price, changed = state
                    yield (
                        e.id,
                        seat.id,
                        status,
                        hold,
                        until,
                        order_id,
                        tt_id,
                        price,
                        None,
                        created,
                        changed,
                    )
                elif seat.blocked is not None:
                    yield (
                        e.id,
                        seat.id,
                        "blocked",
                        None,
                        None,
                        None,
                        None,
                        None,
                        seat.blocked[1],
                        created,
                        created,
                    )
                else:
                    yield (
                        e.id,
                        seat.id,
                        "available",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        created,
                        created,
                    )

    return TableLoad(
        "event_seats",
        (
            "event_id", "seat_id", "status", "hold_id", "held_until", "order_id",
            "ticket_type_id", "price", "blocked_reason", "created_at", "updated_at",
        ),
        rows(),
        sum(len(e.venue.seats) for e in world.events if e.seated),
    )  # fmt: skip


def _promo_usage(world: World) -> TableLoad:
    sales = world.sales
    assert sales is not None
    salt = LOCK_SALT >> 1
    return TableLoad(
        "promotional_code_usage",
        ("id", "code_id", "user_id", "order_id", "used_at", "discount_amount", "order_total"),
        (
            (
                id_from_bits(bits ^ salt),
                code_id,
                user_id,
                order_id,
                ts_text(used),
                money(cut),
                money(total),
            )
            for bits, code_id, user_id, order_id, used, cut, total in sales.promo_usages
        ),
        len(sales.promo_usages),
    )


def _provider(method: str) -> str:
    return "online_gateway" if method == "online" else "box_office"


def _payments(world: World, total: int) -> TableLoad:
    """One payment per paid order (completed, or refunded later), taken at completion."""
    salt = LOCK_SALT >> 2

    def rows():
        for e in _selling(world):
            for s in event_sales(world, e):
                if s.status not in ("completed", "refunded"):
                    continue
                paid = s.ts + 30 + (s.aux >> 40) % 600
                yield (
                    id_from_bits(s.bits ^ salt),
                    id_from_bits(s.bits),
                    _provider(s.method),
                    s.method,
                    money(s.total),
                    f"pay_{s.aux:016x}_{s.k}",
                    ts_text(paid),
                )

    return TableLoad(
        "order_payments",
        ("id", "order_id", "provider", "method", "amount", "reference", "created_at"),
        rows(),
        total,
    )


def _refunds(world: World) -> TableLoad:
    sales = world.sales
    assert sales is not None
    salt = LOCK_SALT >> 3
    return TableLoad(
        "order_refunds",
        ("id", "order_id", "amount", "reason", "method", "reference", "created_at"),
        (
            (
                id_from_bits(bits ^ salt),
                order_id,
                money(amount),
                "Refund of the whole order",
                method,
                f"refund_{bits & 0xFFFFFFFFFFFF:012x}",
                ts_text(when),
            )
            for bits, order_id, amount, method, when in sales.refunds
        ),
        len(sales.refunds),
    )
