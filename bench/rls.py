"""What row-level security costs on representative list queries and on a sale.

    python -m bench.rls [--organizers 200] [--events 4000] [--orders-per-event 20]
                        [--repeat 2000]

Uses DATABASE_URL's server (or the embedded server in ./.data/bench-postgres). Creates a
scratch database `bench_rls_<tag>`, migrates it, seeds organizers and events across them
(a third drafts), five staff per organizer with two of them on every event that sells
(about five events each), and orders for every event that went on sale; drops it at the
end, whatever happens. Then, interleaved, it runs each query as the app role under the
policies and as the owner:

- the events list an organizer sees (upcoming first, 50 rows, plus the count), the
  owner's query with the policy's condition written out as an explicit WHERE;
- the orders list an organizer sees (their events' orders, newest first, 50 rows, plus
  the count), under migration 0013's policy on orders, likewise;
- a box-office sale: hold one ticket, then place the order (checkout_hold and
  checkout_place, migration 0004, each in its own transaction), as a staff person working
  the event against the owner with no person (who skips every policy).

Every query runs in a transaction that sets the acting user, and only the query is timed.
Prints the median of each and the ratio RLS / explicit (goal for the lists: <= 1.2), side
by side from one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from bench.scratch import scratch_database
from core.auth.permissions import role_id

GOAL = 1.2
EVENTS = """
SELECT id, title, status, start_date, count(*) OVER () AS total
  FROM events {where}
 ORDER BY start_date DESC
 LIMIT 50
"""
EVENTS_WHERE = "WHERE (status <> 'draft' AND CAST(:me AS uuid) IS NOT NULL) OR organizer_id = :me"
ORDERS = """
SELECT id, order_number, status, total_amount, created_at, count(*) OVER () AS total
  FROM orders {where}
 ORDER BY created_at DESC
 LIMIT 50
"""
# orders_select of migration 0013 for a person who holds events.manage and box_office.sell
# and no admin role: app_my_event_ids() written out as the array it returns, or their own
# orders as a buyer. (Written as `event_id IN (SELECT ...) OR user_id = :me` PostgreSQL
# plans a sequential scan, 13 times slower than either.)
ORDERS_WHERE = (
    "WHERE event_id = ANY (ARRAY(SELECT e.id FROM events e WHERE e.organizer_id = :me"
    " UNION ALL SELECT s.event_id FROM event_staff s WHERE s.user_id = :me))"
    " OR user_id = :me"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    rls: str
    explicit: str


SCENARIOS = (
    Scenario("events list", EVENTS.format(where=""), EVENTS.format(where=EVENTS_WHERE)),
    Scenario("orders list", ORDERS.format(where=""), ORDERS.format(where=ORDERS_WHERE)),
)


def seed(
    owner: Engine, organizers: int, events: int, orders_per_event: int, rng: random.Random
) -> list[uuid.UUID]:
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(organizers)]
    # Five staff per organizer, two on every event that sells: about five events each.
    staff = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(organizers * 5)]
    with owner.begin() as conn:
        for people, kind in ((ids, "organizer"), (staff, "staff")):
            conn.execute(
                text(
                    "INSERT INTO users (id, email, full_name, user_type, status)"
                    " SELECT u, :kind || '-' || i || '@bench.example', :kind || ' ' || i,"
                    " :kind, 'active' FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY"
                    " AS t(u, i)"
                ),
                {"ids": people, "kind": kind},
            )
            conn.execute(
                text(
                    "INSERT INTO user_roles (user_id, role_id)"
                    " SELECT u, :r FROM unnest(CAST(:ids AS uuid[])) AS t(u)"
                ),
                {"ids": people, "r": role_id(kind)},
            )
        conn.execute(
            text(
                "INSERT INTO events (organizer_id, title, slug, start_date, end_date, type,"
                " status)"
                " SELECT (CAST(:ids AS uuid[]))[1 + (g * 7919) % :n], 'Show ' || g,"
                " 'show-' || g, now() + g * interval '3 hours',"
                " now() + g * interval '3 hours' + interval '2 hours', 'fashion_show',"
                " CASE WHEN g % 3 = 0 THEN 'draft' WHEN g % 11 = 0 THEN 'completed'"
                " ELSE 'published' END"
                " FROM generate_series(1, :events) g"
            ),
            {"ids": ids, "n": organizers, "events": events},
        )
        # Each staff person works a few events, some of them an organizer's too.
        conn.execute(
            text(
                "INSERT INTO event_staff (event_id, user_id)"
                " SELECT DISTINCT e.id, (CAST(:staff AS uuid[]))[1 + (abs(hashtext(e.id::text))"
                " + k) % :n]"
                " FROM events e, generate_series(0, 1) k WHERE e.status <> 'draft'"
            ),
            {"staff": staff, "n": len(staff)},
        )
        conn.execute(
            text(
                "INSERT INTO orders (order_number, event_id, status, subtotal, total_amount,"
                " billing_email, billing_name, created_at)"
                " SELECT 'FW-B-' || lpad(row_number() OVER ()::text, 9, '0'), e.id,"
                " CASE WHEN o % 17 = 0 THEN 'refunded' ELSE 'completed' END, 40, 40,"
                " 'buyer-' || o || '@bench.example', 'Buyer ' || o,"
                " now() - (o * 37 % 8760) * interval '1 hour'"
                " FROM events e, generate_series(1, :per) o WHERE e.status <> 'draft'"
            ),
            {"per": orders_per_event},
        )
        conn.execute(text("ANALYZE"))
    return ids


def _timed(conn: Connection, me: uuid.UUID, session: str, sql: str) -> tuple[float, int]:
    with conn.begin():
        conn.execute(
            text("SELECT set_config('app.user_id', :u, true), set_config('app.session', :s, true)"),
            {"u": str(me), "s": session},
        )
        started = time.perf_counter()
        rows = conn.execute(text(sql), {"me": me}).all()
        elapsed = time.perf_counter() - started
    return elapsed, (rows[0].total if rows else 0)


def sessions_of(owner: Engine, people: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """A sign-in session per person (the app role believes only a session the database
    issued, migration 0012), opened as the owner before the clock starts."""
    with owner.begin() as conn:
        return {
            p: conn.execute(
                text("SELECT auth_open_session(:u, 'issued', 600)"), {"u": p}
            ).scalar_one()
            for p in people
        }


def measure(
    app: Engine, owner: Engine, scenario: Scenario, people: list[uuid.UUID], repeat: int,
    rng: random.Random,
) -> tuple[float, float]:  # fmt: skip
    """Medians (ms) of the RLS and the explicit query, interleaved, first 50 rounds warm-up."""
    rls_times: list[float] = []
    explicit_times: list[float] = []
    tokens = sessions_of(owner, people)
    with app.connect() as app_conn, owner.connect() as owner_conn:
        for i in range(repeat + 50):
            me = rng.choice(people)
            pair = [
                (app_conn, scenario.rls, rls_times),
                (owner_conn, scenario.explicit, explicit_times),
            ]
            if i % 2:
                pair.reverse()  # alternating which goes first
            totals = []
            for conn, sql, times in pair:
                elapsed, total = _timed(conn, me, tokens[me], sql)
                totals.append(total)
                if i >= 50:
                    times.append(elapsed)
            if totals[0] != totals[1]:
                raise SystemExit(f"{scenario.name}: row counts differ for {me}: {totals}")
    return statistics.median(rls_times) * 1000, statistics.median(explicit_times) * 1000


HOLD = (
    "SELECT count(*) FROM checkout_hold(:e, :s, CAST(:types AS uuid[]), ARRAY[1],"
    " CAST(ARRAY[] AS uuid[]), true)"
)
PLACE = (
    "SELECT o_id FROM checkout_place(:k, :e, :s, 40.00, NULL, 'walk.in@bench.example',"
    " 'Walk In', NULL, NULL, NULL, 'bench/rls', 'box_office', 'cash', :ref,"
    " ARRAY['cash', 'card_terminal', 'complimentary'], ARRAY['complimentary'], true)"
)


def _sale_event(owner: Engine, sales: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A published event with one 40.00 ticket type (no tax) for `sales` sales, and the
    staff person who works it."""
    with owner.begin() as conn:
        organizer, staff = conn.execute(
            text(
                "SELECT (SELECT organizer_id FROM events LIMIT 1),"
                " (SELECT user_id FROM event_staff LIMIT 1)"
            )
        ).one()
        event = conn.execute(
            text(
                "INSERT INTO events (organizer_id, title, start_date, end_date, type, status,"
                " tax_rate) VALUES (:o, 'Bench sale', now() + interval '9 days',"
                " now() + interval '9 days 2 hours', 'party', 'published', 0) RETURNING id"
            ),
            {"o": organizer},
        ).scalar_one()
        ticket_type = conn.execute(
            text(
                "INSERT INTO ticket_types (event_id, name, base_price, total_capacity,"
                " remaining_capacity, sale_start_date, sale_end_date, tier) VALUES (:e, 'GA',"
                " 40, :n, :n, now() - interval '1 day', now() + interval '8 days', 'general')"
                " RETURNING id"
            ),
            {"e": event, "n": sales},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO event_staff (event_id, user_id) VALUES (:e, :u)"),
            {"e": event, "u": staff},
        )
    return event, ticket_type, staff


def _sale(
    conn: Connection, me: uuid.UUID | None, token: str, event: uuid.UUID, ticket: uuid.UUID
) -> float:
    session = f"bench-{uuid.uuid4().hex}"
    params = {"e": event, "s": session, "types": [ticket], "k": f"k-{session}"}
    elapsed = 0.0
    for sql in (HOLD, PLACE):
        with conn.begin():
            conn.execute(
                text(
                    "SELECT set_config('app.user_id', :u, true),"
                    " set_config('app.session', :t, true)"
                ),
                {"u": str(me or ""), "t": token},
            )
            started = time.perf_counter()
            conn.execute(text(sql), {**params, "ref": f"ref-{session}"}).one()
            elapsed += time.perf_counter() - started
    return elapsed


def measure_sales(app: Engine, owner: Engine, repeat: int) -> tuple[float, float]:
    """Medians (ms) of hold + place as the event's staff (app role) and as the owner."""
    event, ticket, staff = _sale_event(owner, 2 * (repeat + 50))
    rls_times: list[float] = []
    owner_times: list[float] = []
    tokens = sessions_of(owner, [staff])
    with app.connect() as app_conn, owner.connect() as owner_conn:
        for i in range(repeat + 50):
            pair = [(app_conn, staff, rls_times), (owner_conn, None, owner_times)]
            if i % 2:
                pair.reverse()
            for conn, me, times in pair:
                token = tokens[me] if me is not None else ""
                elapsed = _sale(conn, me, token, event, ticket)
                if i >= 50:
                    times.append(elapsed)
    return statistics.median(rls_times) * 1000, statistics.median(owner_times) * 1000


# The helper as a first version wrote it, with the role and permission helpers nested, for
# the comparison below (made in the scratch database only).
NESTED_HELPER = """
CREATE FUNCTION bench_nested_event_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  me uuid := app_current_user_id();
BEGIN
  IF me IS NULL THEN
    RETURN '{}';
  END IF;
  IF app_has_role('admin') THEN
    RETURN (SELECT coalesce(array_agg(id), '{}') FROM events);
  END IF;
  RETURN ARRAY(SELECT e.id FROM events e
                WHERE e.organizer_id = me AND app_has_permission('events.manage')
               UNION ALL
               SELECT s.event_id FROM event_staff s
                WHERE s.user_id = me AND app_has_permission('box_office.sell'));
END $$;
"""
# Calls a function n times inside the server and returns microseconds per call.
PER_CALL = """
CREATE FUNCTION pg_temp.per_call(n integer, nested boolean) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
  started timestamptz := clock_timestamp();
  ids uuid[];
BEGIN
  FOR i IN 1 .. n LOOP
    IF nested THEN ids := bench_nested_event_ids(); ELSE ids := app_my_event_ids(); END IF;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - started) * 1e6 / n;
END $$;
"""


def measure_helper(app: Engine, owner: Engine, person: uuid.UUID) -> tuple[float, float]:
    """Microseconds per call of app_my_event_ids() and of the nested version, as `person`
    on the app role, alternating rounds of 500 calls; medians of 20 rounds."""
    with owner.begin() as conn:
        conn.execute(text(NESTED_HELPER))
        app_role = app.url.username
        conn.execute(text(f'GRANT EXECUTE ON FUNCTION bench_nested_event_ids() TO "{app_role}"'))
    flat: list[float] = []
    nested: list[float] = []
    token = sessions_of(owner, [person])[person]
    with app.connect() as conn, conn.begin():
        conn.execute(text(PER_CALL))
        conn.execute(
            text("SELECT set_config('app.user_id', :u, true), set_config('app.session', :t, true)"),
            {"u": str(person), "t": token},
        )
        for i in range(20):
            for is_nested, times in ((False, flat), (True, nested))[:: 1 if i % 2 else -1]:
                times.append(
                    conn.execute(
                        text("SELECT pg_temp.per_call(500, :n)"), {"n": is_nested}
                    ).scalar_one()
                )
    return statistics.median(flat), statistics.median(nested)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rls", description=__doc__)
    parser.add_argument("--organizers", type=int, default=200)
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--orders-per-event", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args(argv)

    with scratch_database("bench_rls") as (owner, app):
        rng = random.Random(20261123)
        organizers = seed(owner, args.organizers, args.events, args.orders_per_event, rng)
        with owner.connect() as conn:
            orders = conn.execute(text("SELECT count(*) FROM orders")).scalar_one()
        print(
            f"{args.events} events, {args.organizers} organizers, {orders} orders,"
            f" {args.repeat} runs each"
        )
        met = True
        for scenario in SCENARIOS:
            rls, explicit = measure(app, owner, scenario, organizers, args.repeat, rng)
            ratio = rls / explicit
            met = met and ratio <= GOAL
            print(
                f"{scenario.name:12s} RLS (app role) median {rls:.3f} ms,"
                f" explicit WHERE (owner) median {explicit:.3f} ms,"
                f" ratio {ratio:.2f} (goal <= {GOAL})"
            )
        with owner.connect() as conn:
            staff = conn.execute(text("SELECT user_id FROM event_staff LIMIT 1")).scalar_one()
        flat, nested = measure_helper(app, owner, staff)
        print(
            f"{'helper':12s} app_my_event_ids() {flat:.1f} us per call, with the role and"
            f" permission helpers nested {nested:.1f} us (as a staff person, in the server)"
        )
        rls, unguarded = measure_sales(app, owner, min(args.repeat, 1000))
        print(
            f"{'sale':12s} RLS (staff, app role) median {rls:.3f} ms,"
            f" no policies (owner) median {unguarded:.3f} ms, ratio {rls / unguarded:.2f}"
            " (no goal: what the policies add to a sale)"
        )
        return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
