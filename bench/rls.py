"""What row-level security costs on a representative list query.

    python -m bench.rls [--organizers 200] [--events 4000] [--repeat 2000]

Uses DATABASE_URL's server (or the embedded server in ./.data/bench-postgres). Creates a
scratch database `bench_rls_<tag>`, migrates it, seeds organizers and events across them
(a third drafts), and drops it at the end, whatever happens. Then, interleaved, it runs the
events list an organizer sees (upcoming first, 50 rows, plus the count) as the app role
under the policies, and the same query as the owner with the policy's condition written
out as an explicit WHERE. Both run in a transaction that sets the acting user, and only the
query is timed. Prints the median of each and the ratio RLS / explicit (goal: <= 1.2).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid

from sqlalchemy import Connection, Engine, text

from bench.scratch import scratch_database
from core.auth.permissions import role_id

GOAL = 1.2
LIST = """
SELECT id, title, status, start_date, count(*) OVER () AS total
  FROM events {where}
 ORDER BY start_date DESC
 LIMIT 50
"""
EXPLICIT = "WHERE (status <> 'draft' AND CAST(:me AS uuid) IS NOT NULL) OR organizer_id = :me"


def seed(owner: Engine, organizers: int, events: int, rng: random.Random) -> list[uuid.UUID]:
    ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(organizers)]
    with owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, email, full_name, user_type, status)"
                " SELECT u, 'org-' || i || '@bench.example', 'Organizer ' || i, 'organizer',"
                " 'active' FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS t(u, i)"
            ),
            {"ids": ids},
        )
        conn.execute(
            text(
                "INSERT INTO user_roles (user_id, role_id)"
                " SELECT u, :r FROM unnest(CAST(:ids AS uuid[])) AS t(u)"
            ),
            {"ids": ids, "r": role_id("organizer")},
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
        conn.execute(text("ANALYZE"))
    return ids


def _timed(conn: Connection, me: uuid.UUID, sql: str) -> tuple[float, int]:
    with conn.begin():
        conn.execute(text("SELECT set_config('app.user_id', :u, true)"), {"u": str(me)})
        started = time.perf_counter()
        rows = conn.execute(text(sql), {"me": me}).all()
        elapsed = time.perf_counter() - started
    return elapsed, (rows[0].total if rows else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rls", description=__doc__)
    parser.add_argument("--organizers", type=int, default=200)
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args(argv)

    with scratch_database("bench_rls") as (owner, app):
        rng = random.Random(20261123)
        organizers = seed(owner, args.organizers, args.events, rng)
        rls_sql, explicit_sql = LIST.format(where=""), LIST.format(where=EXPLICIT)
        rls_times: list[float] = []
        explicit_times: list[float] = []
        with app.connect() as app_conn, owner.connect() as owner_conn:
            for i in range(args.repeat + 50):
                me = rng.choice(organizers)
                pair = [(app_conn, rls_sql, rls_times), (owner_conn, explicit_sql, explicit_times)]
                if i % 2:
                    pair.reverse()  # interleaved, alternating which goes first
                totals = []
                for conn, sql, times in pair:
                    elapsed, total = _timed(conn, me, sql)
                    totals.append(total)
                    if i >= 50:  # warm-up rounds are not counted
                        times.append(elapsed)
                if totals[0] != totals[1]:
                    print(f"row counts differ for {me}: {totals}", file=sys.stderr)
                    return 1
        rls = statistics.median(rls_times) * 1000
        explicit = statistics.median(explicit_times) * 1000
        ratio = rls / explicit
        print(
            f"{args.events} events, {args.organizers} organizers, {args.repeat} runs each\n"
            f"RLS (app role)        median {rls:.3f} ms\n"
            f"explicit WHERE (owner) median {explicit:.3f} ms\n"
            f"ratio RLS / explicit  {ratio:.2f}  (goal <= {GOAL})"
        )
        return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
