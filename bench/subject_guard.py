"""What the GDPR subject guard (migration 0014) costs a write of personal data.

    python -m bench.subject_guard [--rows 1000] [--rounds 5]

Uses DATABASE_URL's server (or the embedded server in ./.data/bench-postgres). In a scratch
database with the small demo, writes `--rows` orders one transaction each (an INSERT with
an account link, billing e-mail, name and phone, then COMMIT: what a checkout's order row
costs, without the rest of the checkout) and the same number of updates of a profile's
bio, with the guard triggers on and, interleaved, switched off (ALTER TABLE ... DISABLE
TRIGGER, in the same database). Prints the median time per write and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

from sqlalchemy import Engine, text

from bench.scratch import scratch_database
from core.demo import load_demo

TABLES = ("orders", "user_profiles")
GUARDS = ("gdpr_subject_guard", "gdpr_subject_guard_update")


def _switch(owner: Engine, on: bool) -> None:
    verb = "ENABLE" if on else "DISABLE"
    with owner.begin() as c:
        for table in TABLES:
            for trigger in GUARDS:
                c.execute(text(f"ALTER TABLE {table} {verb} TRIGGER {trigger}"))


def _orders(owner: Engine, n: int) -> float:
    with owner.connect() as c:
        event, user = c.execute(
            text(
                "SELECT (SELECT id FROM events LIMIT 1),"
                " (SELECT id FROM users WHERE user_type = 'attendee' LIMIT 1)"
            )
        ).one()
        tag = uuid.uuid4().hex[:8]
        start = time.perf_counter()
        for i in range(n):
            c.execute(
                text(
                    "INSERT INTO orders (order_number, user_id, event_id, status, total_amount,"
                    " subtotal, tax_amount, discount_amount, currency, billing_email,"
                    " billing_name, billing_phone) VALUES (:no, :u, :e, 'completed', 40, 40,"
                    " 0, 0, 'USD', :m, 'Bench Buyer', '+1 555 0100')"
                ),
                {"no": f"G-{tag}-{i}", "u": user, "e": event, "m": f"b{i}.{tag}@example.com"},
            )
            c.commit()
        return (time.perf_counter() - start) / n * 1000


def _profiles(owner: Engine, n: int) -> float:
    with owner.connect() as c:
        user = c.execute(text("SELECT user_id FROM user_profiles LIMIT 1")).scalar_one()
        start = time.perf_counter()
        for i in range(n):
            c.execute(
                text("UPDATE user_profiles SET bio = :b WHERE user_id = :u"),
                {"b": f"bio {i}", "u": user},
            )
            c.commit()
        return (time.perf_counter() - start) / n * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with scratch_database("bench_guard", pool_size=2) as (owner, _app):
        load_demo(owner, scale="small")
        times: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.rounds):
            for on in (True, False):
                _switch(owner, on)
                times.setdefault(("order insert", on), []).append(_orders(owner, args.rows))
                times.setdefault(("profile update", on), []).append(_profiles(owner, args.rows))
        _switch(owner, True)
    print(f"{args.rows} writes x {args.rounds} rounds, one transaction each; median ms/write")
    print(f"{'write':16s} {'guard on':>9s} {'guard off':>10s} {'on/off':>7s}")
    for write in ("order insert", "profile update"):
        on = statistics.median(times[(write, True)])
        off = statistics.median(times[(write, False)])
        print(f"{write:16s} {on:9.3f} {off:10.3f} {on / off:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
