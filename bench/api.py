"""The HTTP API next to the core it calls, in one run (`python -m bench.api`).

Per round, the same client count in several processes for the same time:

- **core** — each client buys 1–2 tickets (box_office.hold_sale, then take_payment with
  an idempotency key) by calling the core directly, as the key's owner;
- **api** — the same checkout through the API process (POST /v1/holds, POST /v1/orders
  with an Idempotency-Key), usage logging and rate limiting on;
- **api off** — the same through an API process with usage logging and rate limiting off
  (`--scenarios core,api,api_off,...`: what rate counting and the usage log cost);
- **get on** — an authenticated GET /v1/events/{id}/ticket-types (live availability)
  with usage logging and rate limiting on;
- **get off** — the same GET on an API process with both off
  (FASHIONISTAS_API_USAGE_LOG=off, FASHIONISTAS_API_RATE_LIMIT=off);
- **api percall / get percall** — the checkout and the GET on a third API process with
  FASHIONISTAS_API_KEY_CACHE=off: usage log and rate limit on, but every request checks
  its key and counts itself in the database (core.api_keys.authenticate), as before the
  principal cache and rate-token leases (`--scenarios core,api,api_percall,...`).

It prints each round and the medians with the ratios: api / core (goal >= 0.8) and
get on / get off (goal >= 0.9). `--variant` runs the API differently (uvicorn workers,
the principal cached per process) to compare design decisions.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from bench.checkout import TAX_RATE, Target, percentile, seed
from bench.scratch import scratch_database, session_for
from core.auth.permissions import role_id
from core.config import PROJECT_ROOT

BUYER = {"name": "Bench Buyer", "email": "bench.buyer@example.com"}


def _total(unit_price: Decimal, quantity: int) -> Decimal:
    from core.checkout.pricing import Line, price

    line = Line(uuid.uuid4(), uuid.uuid4(), quantity, unit_price, TAX_RATE)
    return price([line], None, now=datetime.now(UTC)).total


# ------------------------------------------------------------------------- client side


def _core_checkout(actor: Any, target: Target, quantity: int) -> None:
    from core.checkout.orders import Buyer, OrderRequest
    from core.services.box_office import hold_sale, take_payment

    event_id, ticket_type_id, unit_price = target
    session_id = f"bench-{uuid.uuid4().hex}"
    hold_sale(actor, event_id, session_id, quantities={ticket_type_id: quantity})
    take_payment(
        actor,
        OrderRequest(
            event_id=event_id,
            session_id=session_id,
            buyer=Buyer(**BUYER),
            payment_method="cash",
            expected_total=_total(unit_price, quantity),
            idempotency_key=f"bench-{uuid.uuid4().hex}",
        ),
    )


def _api_checkout(client: Any, target: Target, quantity: int) -> None:
    event_id, ticket_type_id, unit_price = target
    hold = client.post(
        "/v1/holds",
        json={"event_id": str(event_id), "quantities": {str(ticket_type_id): quantity}},
    )
    if hold.status_code != 201:
        raise RuntimeError(f"hold {hold.status_code}: {hold.text[:200]}")
    order = client.post(
        "/v1/orders",
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={
            "hold_id": hold.json()["hold_id"],
            "buyer": BUYER,
            "payment_method": "cash",
            "expected_total": str(_total(unit_price, quantity)),
        },
    )
    if order.status_code != 201:
        raise RuntimeError(f"order {order.status_code}: {order.text[:200]}")


def _api_get(client: Any, target: Target, quantity: int) -> None:
    answer = client.get(f"/v1/events/{target[0]}/ticket-types")
    if answer.status_code != 200:
        raise RuntimeError(f"get {answer.status_code}: {answer.text[:200]}")


class Client:
    """A keep-alive HTTP/1.1 client on the standard library: the clients are not what is
    measured, and httpx costs several times more CPU per request than http.client, CPU the
    API process then lacks on a small machine."""

    def __init__(self, base_url: str, key: str):
        import http.client
        import urllib.parse

        parsed = urllib.parse.urlsplit(base_url)
        self._connect = lambda: http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        self.conn = self._connect()
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        import json

        data = json.dumps(body).encode() if body is not None else None
        for attempt in (1, 2):
            try:
                self.conn.request(
                    method, path, body=data, headers={**self.headers, **(headers or {})}
                )
                response = self.conn.getresponse()
                return _Answer(response.status, response.read())
            except (ConnectionError, OSError):
                self.conn.close()
                self.conn = self._connect()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, json: Any, headers: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, json, headers)


class _Answer:
    def __init__(self, status: int, body: bytes):
        self.status_code = status
        self.content = body

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content)


def client_process(
    scenario: str,
    setup: dict[str, Any],
    threads: int,
    seconds: float,
    start_at: float,
) -> tuple[list[float], dict[str, int], float]:
    """One process of `threads` clients; returns the seconds of each operation, the errors
    and the CPU seconds the process used (setup included, which is small)."""
    from core.db import Actor

    actor = None
    if scenario == "core":
        # The engine the API process and the dashboard use (core.db.get_engine: the app
        # role, its pool size and pre-ping), on the same database.
        os.environ["DATABASE_URL"] = setup["owner_url"]
        actor = Actor(user_id=setup["user_id"], ip_address="127.0.0.1",
                      user_agent="bench/api", session_token=setup["session"])  # fmt: skip
    targets: list[Target] = setup["targets"]
    url = setup["urls"][scenario]
    times: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def run(index: int) -> None:
        rng = random.Random(index * 7919 + os.getpid())
        client = Client(url, setup["key"]) if url else None
        mine: list[float] = []
        while time.time() < start_at:
            time.sleep(0.005)
        deadline = start_at + seconds
        while time.time() < deadline:
            target = rng.choice(targets)
            t0 = time.perf_counter()
            try:
                if scenario == "core":
                    _core_checkout(actor, target, rng.randint(1, 2))
                elif scenario in ("api", "api_off", "api_percall"):
                    _api_checkout(client, target, rng.randint(1, 2))
                else:
                    _api_get(client, target, 1)
            except Exception as exc:  # counted, not fatal: a benchmark reports them
                with lock:
                    errors[type(exc).__name__ + ": " + str(exc)[:80]] += 1
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            times.extend(mine)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    cpu = time.process_time()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return times, dict(errors), time.process_time() - cpu


# ------------------------------------------------------------------------- server side


def start_api(
    owner_url: str, port: int, log: str, *, workers: int = 1, **env: str
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "core", "api", "--port", str(port), "--workers", str(workers)],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "DATABASE_URL": owner_url,
            "FASHIONISTAS_WORKER": "off",
            "PYTHONPATH": str(PROJECT_ROOT),
            **env,
        },
        stdout=open(log, "wb"),  # noqa: SIM115 (the process keeps it)
        stderr=subprocess.STDOUT,
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the API did not start; see {log}")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` and its children (uvicorn workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent pid; [11], [12] utime and stime (man 5 proc, less 2).
        if int(entry) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(owner: Engine, app: Engine) -> dict[str, Any]:
    from core.api_keys import SCOPES, create_key
    from core.db import Actor, use_engine

    use_engine(app, owner=owner)
    targets = seed(owner, "api", events=16, types_per_event=2)
    email = f"bench-admin-{uuid.uuid4().hex[:8]}@example.com"
    with owner.begin() as conn:
        user_id = conn.execute(
            text(
                "INSERT INTO users (email, full_name, user_type, status)"
                " VALUES (:e, 'Bench admin', 'admin', 'active') RETURNING id"
            ),
            {"e": email},
        ).scalar_one()
        conn.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {"u": user_id, "r": role_id("admin")},
        )
    key = create_key(
        Actor.system("bench/api"),
        owner_email=email,
        name="bench",
        scopes=tuple(SCOPES),
        rate_limit=100_000,
    )
    return {
        "targets": targets,
        "user_id": user_id,
        "session": session_for(owner, user_id),
        "key": key.secret,
        "owner_url": owner.url.render_as_string(hide_password=False),
    }


def run_round(
    pool: Any, scenario: str, setup: dict[str, Any], args: argparse.Namespace, server: int
) -> dict[str, float]:
    per_process = max(1, args.clients // args.procs)
    start_at = time.time() + 1.5
    server_cpu = cpu_seconds(server) if server else 0.0
    results = pool.starmap(
        client_process,
        [(scenario, setup, per_process, args.seconds, start_at)] * args.procs,
    )
    server_cpu = (cpu_seconds(server) - server_cpu) if server else 0.0
    times = [t for r in results for t in r[0]]
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r[1])
    done = max(1, len(times))
    return {
        "client_cpu": sum(r[2] for r in results) / done * 1000,
        "server_cpu": server_cpu / done * 1000,
        "rate": len(times) / args.seconds,
        "p50": percentile(times, 50) * 1000,
        "p99": percentile(times, 99) * 1000,
        "errors": sum(errors.values()),
        "first_error": next(iter(errors), ""),  # type: ignore[dict-item]
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.api",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per API")
    parser.add_argument(
        "--async-auth-commit",
        action="store_true",
        help="api_key_authenticate with synchronous_commit=off (its rate-window count then"
        " does not wait for the WAL flush)",
    )
    parser.add_argument(
        "--scenarios", default="core,api,get_on,get_off", help="comma-separated subset"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = [s for s in args.scenarios.split(",") if s]
    with scratch_database("fashionistas_bench_api", pool_size=2) as (owner, app):
        owner_url = owner.url.render_as_string(hide_password=False)
        setup = prepare(owner, app)
        if args.async_auth_commit:
            # Transaction-local, so only the statement's own commit skips the WAL wait (a
            # function's SET clause would be undone before the commit).
            with owner.begin() as conn:
                definition = conn.execute(
                    text(
                        "SELECT pg_get_functiondef("
                        "'api_key_authenticate(text,text,text)'::regprocedure)"
                    )
                ).scalar_one()
                patched = definition.replace(
                    "\nBEGIN\n",
                    "\nBEGIN\n  PERFORM set_config('synchronous_commit', 'off', true);\n",
                    1,
                )
                assert patched != definition
                conn.exec_driver_sql(patched)
        on_port, off_port, percall_port = free_port(), free_port(), free_port()
        servers = [
            start_api(owner_url, on_port, "/tmp/bench-api-on.log", workers=args.workers),
            start_api(
                owner_url,
                off_port,
                "/tmp/bench-api-off.log",
                workers=args.workers,
                FASHIONISTAS_API_USAGE_LOG="off",
                FASHIONISTAS_API_RATE_LIMIT="off",
            ),
        ]
        if any(s.endswith("_percall") for s in scenarios):
            servers.append(
                start_api(
                    owner_url,
                    percall_port,
                    "/tmp/bench-api-percall.log",
                    workers=args.workers,
                    FASHIONISTAS_API_KEY_CACHE="off",
                )
            )
        setup["urls"] = {
            "core": None,
            "api": f"http://127.0.0.1:{on_port}",
            "api_off": f"http://127.0.0.1:{off_port}",
            "get_on": f"http://127.0.0.1:{on_port}",
            "get_off": f"http://127.0.0.1:{off_port}",
            "api_percall": f"http://127.0.0.1:{percall_port}",
            "get_percall": f"http://127.0.0.1:{percall_port}",
        }
        figures: dict[str, list[dict[str, float]]] = {s: [] for s in scenarios}
        try:
            with multiprocessing.get_context("spawn").Pool(args.procs) as pool:
                for round_ in range(1, args.repeat + 1):
                    # Alternating order, so neither side always runs on a warmer machine.
                    order = scenarios if round_ % 2 else list(reversed(scenarios))
                    for scenario in order:
                        server = servers[
                            1 if scenario.endswith("_off") else 2 if scenario.endswith("_percall")
                            else 0
                        ]  # fmt: skip
                        result = run_round(
                            pool, scenario, setup, args, 0 if scenario == "core" else server.pid
                        )
                        figures[scenario].append(result)
                        print(
                            f"round {round_} {scenario:8s} {result['rate']:9.1f}/s"
                            f"  p50 {result['p50']:7.1f} ms  p99 {result['p99']:7.1f} ms"
                            f"  cpu/op client {result['client_cpu']:5.2f} ms"
                            f" server {result['server_cpu']:5.2f} ms"
                            f"  errors {result['errors']:.0f} {result['first_error']}",
                            flush=True,
                        )
        finally:
            for server in servers:
                server.terminate()
                server.wait(20)
    med = {s: statistics.median(r["rate"] for r in figures[s]) for s in scenarios}
    p50 = {s: statistics.median(r["p50"] for r in figures[s]) for s in scenarios}
    cpu = {
        s: statistics.median(r["client_cpu"] + r["server_cpu"] for r in figures[s])
        for s in scenarios
    }
    print(
        f"\nsummary ({args.clients} clients in {args.procs} processes, {args.seconds:.0f} s,"
        f" median of {args.repeat}, uvicorn workers {args.workers}"
        f"{', authenticate without waiting for its commit' if args.async_auth_commit else ''})"
    )
    print(f"  {'scenario':10s} {'per s':>9s} {'p50 ms':>8s} {'CPU ms/op':>10s}")
    for s in scenarios:
        print(f"  {s:10s} {med[s]:9.1f} {p50[s]:8.1f} {cpu[s]:10.2f}")
    ok = True
    for s in ("api_percall", "get_percall"):
        base = s.replace("_percall", "_on" if s.startswith("get") else "")
        if s in med and base in med and med[s]:
            print(f"  {base} / {s} = {med[base] / med[s]:.3f}  (principal cache and leases)")
    for num, den, goal in (("api", "core", 0.8), ("get_on", "get_off", 0.9)):
        if num in med and den in med and med[den]:
            ratio = med[num] / med[den]
            met = ratio >= goal
            ok &= met
            print(f"  {num} / {den} = {ratio:.3f}  (goal >= {goal})  {'met' if met else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
