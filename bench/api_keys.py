"""What checking an API key costs: `core.api_keys.authenticate` next to a plain `SELECT 1`,
on the same connection pool (the app role's, in autocommit as authenticate uses it), in
one run.

    python -m bench.api_keys [--repeat 3000] [--clients 4]

authenticate is one round trip to api_key_authenticate: the key's hash looked up, the
rate window counted (an upsert: a write per request), last use noted at most once a
minute, the key's session extended at most every few minutes. Sequential calls give the
per-call median and p99; `--clients` threads sharing the pool give throughput. Uses
DATABASE_URL's server (or the embedded one); a scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from bench.scratch import scratch_database
from core.api_keys import authenticate, create_key
from core.db import Actor, use_engine
from core.db.engine import dispose_engine


def _user(owner: Engine) -> str:
    with owner.begin() as conn:
        return conn.execute(
            text(
                "INSERT INTO users (email, full_name, user_type, status)"
                " VALUES ('bench-keys@example.com', 'Bench Keys', 'admin', 'active')"
                " RETURNING email"
            )
        ).scalar_one()


def _timed(call: Callable[[], object], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _throughput(call: Callable[[], object], clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds

    def run(i: int) -> None:
        while time.monotonic() < stop:
            call()
            done[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def _p(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_keys", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3000, help="sequential calls of each")
    parser.add_argument("--clients", type=int, default=4, help="threads for throughput")
    parser.add_argument("--seconds", type=float, default=5.0, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    with scratch_database("bench_api_keys", pool_size=args.clients) as (owner, app):
        use_engine(app, owner=owner)
        try:
            email = _user(owner)
            created = create_key(
                Actor.system("bench"),
                owner_email=email,
                name="bench",
                scopes=["events:read"],
                rate_limit=100_000,
            )
            plain = app.execution_options(isolation_level="AUTOCOMMIT")

            def select_one() -> object:
                with plain.connect() as conn:
                    return conn.execute(text("SELECT 1")).scalar_one()

            def check_key() -> object:
                return authenticate(
                    created.secret,
                    method="GET",
                    path="/v1/events",
                    ip_address="192.0.2.1",
                    user_agent="bench",
                )

            check_key(), select_one()  # warm: the pool, the plans, the session
            auth_ms: list[float] = []
            select_ms: list[float] = []
            auth_rate: list[float] = []
            select_rate: list[float] = []
            for round_ in range(args.rounds):
                # Alternate the order so drift in the machine's load hits both alike.
                pair = [(select_one, select_ms), (check_key, auth_ms)]
                for call, times in pair if round_ % 2 else reversed(pair):
                    times.extend(_timed(call, args.repeat // args.rounds))
                rates = [(select_one, select_rate), (check_key, auth_rate)]
                for call, out in rates if round_ % 2 else reversed(rates):
                    out.append(_throughput(call, args.clients, args.seconds))
        finally:
            dispose_engine()

    a50, s50 = statistics.median(auth_ms), statistics.median(select_ms)
    print(f"{args.repeat} sequential calls each, {args.clients} threads for throughput")
    print(f"  {'call':14s} {'p50 ms':>8s} {'p99 ms':>8s} {'calls/s':>9s}")
    for name, times, rate in (
        ("SELECT 1", select_ms, select_rate),
        ("authenticate", auth_ms, auth_rate),
    ):
        p50, p99 = statistics.median(times), _p(times, 0.99)
        print(f"  {name:14s} {p50:8.3f} {p99:8.3f} {statistics.median(rate):9.0f}")
    print(
        f"  ratio authenticate / SELECT 1: p50 {a50 / s50:.2f}x, throughput"
        f" {statistics.median(auth_rate) / statistics.median(select_rate):.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
