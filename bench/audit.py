"""The audit trail at scale: browser pages over millions of entries, what the trigger costs
a write, and how fast the sealer chains.

    python -m bench.audit [--rows 10000000] [--repeat 7] [--clients 8] [--seconds 15]
                          [--rounds 3] [--skip-browser]

Uses DATABASE_URL's server (or the embedded server in ./.data/bench-postgres). Creates a
scratch database `bench_audit_<tag>`, migrated to head, and drops it at the end.

1. Browser: loads `--rows` audit entries over 12 monthly partitions with INSERT ... SELECT
   generate_series (one month per transaction, secondary indexes built afterwards: no
   trigger involved), then times core.audit.browse.browse_audit_log, as an admin on the app
   role, for its first page and a deep page (the keyset after ~1,000,000 matching rows, or
   half the matches when fewer) with no filter, a table, a table and record, an actor, a
   common and a rare row-change action, a service's own action and a one-month date
   range. Medians of `--repeat` runs; each query's plan is
   EXPLAINed and must read an index in the browser's order (no Sort, no Seq Scan).
2. Trigger overhead: twin copies of discount_codes (10,000 rows each, with the
   updated_at trigger), one with the audit trigger. pgbench (or, without it, threads with a
   connection each) runs single-row UPDATEs, then INSERTs, with `--clients` clients for
   `--seconds` per run, alternating plain and audited, `--rounds` times; medians and the
   ratio audited / plain (goal >= 0.70).
3. Sealing: audit_seal(10000) batches timed in rows/s, then audit_verify over what was
   sealed.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench.scratch import scratch_database
from core.audit.browse import AuditFilters, Cursor, browse_audit_log, page_query
from core.auth.permissions import role_id
from core.db import Actor, use_engine

GOAL = 0.70
MONTHS = 12
TABLES = (
    ("orders", 18), ("order_items", 22), ("event_seats", 20), ("users", 6),
    ("user_profiles", 3), ("events", 4), ("ticket_types", 5), ("discount_codes", 3),
    ("promotional_codes", 2), ("sponsorships", 2), ("marketing_campaigns", 2),
    ("user_roles", 2), ("roles", 1), ("role_permissions", 1), ("api_keys", 2),
    ("webhooks", 2), ("data_subject_requests", 1), ("system_configurations", 1),
    ("encryption_keys", 1),
)  # fmt: skip
USERS = 5_000
# The synthetic actor the actor filter follows (md5('user1')::uuid, as LOAD_MONTH makes it).
BUSY = uuid.UUID(hashlib.md5(b"user1").hexdigest())
RECORDS = 200_000
SECONDARY = (
    "idx_audit_logs_table_created",
    "idx_audit_logs_table_record",
    "idx_audit_logs_user_created",
    "idx_audit_logs_action_created",
    "idx_audit_logs_unsealed",
)

# One month of rows: table by weight, action by a 1:6:1 insert/update/delete mix (one in
# a thousand a service's own action, `auth.signed_in`, whatever the table), a
# record from a pool per table, an actor from a pool (a tenth are jobs: no actor), and a
# payload of realistic size.
LOAD_MONTH = """
INSERT INTO audit_logs (user_id, action, table_name, record_id, old_data, new_data,
                        ip_address, user_agent, created_at)
SELECT CASE WHEN g % 10 = 0 THEN NULL
            ELSE md5('user' || (g * 7919) % :users)::uuid END,
       CASE WHEN g % 1000 = 2 THEN 'auth.signed_in'
            ELSE t.name || CASE WHEN g % 8 = 0 THEN '.insert' WHEN g % 8 = 1 THEN '.delete'
                                ELSE '.update' END END,
       t.name,
       md5(t.name || ((g * 104729) % :records))::uuid::text,
       CASE WHEN g % 8 = 0 THEN NULL
            ELSE jsonb_build_object('status', 'pending', 'amount', g % 1000, 'note', 'n' || g) END,
       CASE WHEN g % 8 = 1 THEN NULL
            ELSE jsonb_build_object('status', 'completed', 'amount', g % 1000 + 1,
                                    'note', 'n' || g) END,
       '10.0.' || (g % 250) || '.' || (g % 200), 'Mozilla/5.0 bench',
       CAST(:start AS timestamptz) + (g - :first) * (CAST(:span AS interval) / :n)
  FROM generate_series(CAST(:first AS bigint), CAST(:first AS bigint) + :n - 1) AS g,
       LATERAL (SELECT (CAST(:tables AS text[]))[1 + (g * 2654435761) % :slots] AS name) t
"""


def _month_start(months_ago: int) -> datetime:
    now = datetime.now(UTC)
    y, m = now.year, now.month - months_ago
    while m <= 0:
        y, m = y - 1, m + 12
    return datetime(y, m, 1, tzinfo=UTC)


def load(owner: Engine, rows: int) -> float:
    """`rows` audit entries over the last 12 months; returns the seconds it took."""
    started = time.perf_counter()
    # Each table repeated by its weight: row g takes slot (g * a large prime) mod slots.
    tables = [t for t, w in TABLES for _ in range(w)]
    with owner.begin() as conn:
        conn.execute(text("SELECT ensure_partitions(:b, 1)"), {"b": MONTHS})
        definitions = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_logs'"
                " AND indexname = ANY(:names)"
            ),
            {"names": list(SECONDARY)},
        ).all()
        for name, _ in definitions:
            conn.execute(text(f"DROP INDEX {name}"))
    per_month = math.ceil(rows / MONTHS)
    first = 1
    for months_ago in range(MONTHS - 1, -1, -1):
        start = _month_start(months_ago)
        end = _month_start(months_ago - 1) if months_ago else datetime.now(UTC)
        n = min(per_month, rows - first + 1)
        if n <= 0:
            break
        # One transaction per month: the sealer's horizon and vacuum are never held long.
        with owner.begin() as conn:
            conn.execute(
                text(LOAD_MONTH),
                {
                    "tables": tables,
                    "slots": len(tables),
                    "users": USERS,
                    "records": RECORDS,
                    "start": start,
                    "span": end - start,
                    "first": first,
                    "n": n,
                },
            )
        first += n
        print(f"  loaded {first - 1:>12,} rows ({start:%Y-%m})", flush=True)
    with owner.connect() as conn:
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for name, definition in definitions:
            t = time.perf_counter()
            # "ON ONLY" is how a partitioned index is shown; plainly it cascades again.
            conn.execute(text(definition.replace(" ON ONLY ", " ON ", 1)))
            conn.commit()
            print(f"  built {name} in {time.perf_counter() - t:.0f} s", flush=True)
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE audit_logs"))
    return time.perf_counter() - started


def make_admin(owner: Engine) -> uuid.UUID:
    with owner.begin() as conn:
        admin = conn.execute(
            text(
                "INSERT INTO users (email, full_name, user_type, status) VALUES"
                " ('auditor@bench.example', 'Bench Auditor', 'admin', 'active') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {"u": admin, "r": role_id("admin")},
        )
        # The actor filter needs a person with an email: the busiest synthetic actor.
        conn.execute(
            text(
                "INSERT INTO users (id, email, full_name, user_type, status) VALUES"
                " (md5('user1')::uuid, 'busy@bench.example', 'Busy Person', 'staff', 'active')"
                " ON CONFLICT DO NOTHING"
            )
        )
    return admin


def _filters(owner: Engine) -> dict[str, AuditFilters]:
    with owner.connect() as conn:
        record = conn.execute(
            text(
                "SELECT record_id FROM audit_logs WHERE table_name = 'orders'"
                " AND created_at > now() - interval '20 days' LIMIT 1"
            )
        ).scalar_one()
    month = _month_start(2)
    return {
        "no filter": AuditFilters(),
        "table": AuditFilters(table="orders"),
        "table+record": AuditFilters(table="orders", record_id=record),
        "actor": AuditFilters(actor_email="busy@bench.example"),
        "action": AuditFilters(action="orders.update"),
        "rare action": AuditFilters(action="orders.delete"),
        "service act.": AuditFilters(action="auth.signed_in"),
        "date range": AuditFilters(
            since=month.date(), until=(_month_start(1) - timedelta(days=1)).date()
        ),
    }


def _deep_cursor(owner: Engine, filters: AuditFilters, depth: int) -> tuple[Cursor | None, int]:
    """The (created_at, seq) `depth` rows down (found once with OFFSET, for the bench only),
    or half-way when fewer match; and how many match."""
    user_id = None
    if filters.actor_email:
        user_id = BUSY
    sql, params, _ = page_query(filters, user_id, limit=1)
    count_sql = "SELECT count(*) FROM (" + sql.replace(" LIMIT :limit", "") + ") x"
    with owner.connect() as conn:
        total = conn.execute(text(count_sql), params).scalar_one()
        offset = min(depth, total // 2)
        row = conn.execute(text(sql.replace("LIMIT :limit", f"OFFSET {offset} LIMIT 1")), params)
        found = row.first()
    return (Cursor(found.created_at, found.seq) if found else None), total


def _plan(app: Engine, admin: uuid.UUID, filters: AuditFilters, cursor: Cursor | None) -> str:
    user_id = None
    if filters.actor_email:
        user_id = BUSY
    sql, params, _ = page_query(filters, user_id, older_than=cursor, limit=26)
    with app.connect() as conn, conn.begin():
        conn.execute(text("SELECT set_config('app.user_id', :u, true)"), {"u": str(admin)})
        lines = conn.execute(text("EXPLAIN " + sql), params).scalars().all()
    return "\n".join(lines)


def _index_of(plan: str) -> str:
    """The indexes a plan reads, by their parent's column list (partition indexes are
    named after their partition)."""
    used = set()
    for word in plan.replace("(", " ").split():
        if word.startswith("audit_logs_") and word.endswith("_idx"):
            used.add(word.split("_", 3)[3].removesuffix("_idx"))
        elif word.startswith("audit_logs_") and word.endswith("_pkey"):
            used.add("pkey")
    return "+".join(sorted(used)) or "?"


SEQ_SCAN = re.compile(r"Seq Scan on (audit_logs_\w+)")
SORT = re.compile(r"(?:^|->)\s*Sort\s+\(cost=[\d.]+\.\.[\d.]+ rows=(\d+)", re.M)


def _plan_ok(owner: Engine, plan: str) -> bool:
    """An index in the browser's order for every partition that holds rows: a Seq Scan
    only of empty partitions, a Sort only of a handful of rows (one record's history)."""
    scanned = SEQ_SCAN.findall(plan)
    if scanned:
        with owner.connect() as conn:
            filled = conn.execute(
                text("SELECT count(*) FROM pg_class WHERE relname = ANY(:n) AND reltuples > 0"),
                {"n": scanned},
            ).scalar_one()
        if filled:
            return False
    return all(int(rows) <= 1_000 for rows in SORT.findall(plan))


def bench_browser(owner: Engine, app: Engine, repeat: int) -> None:
    admin = make_admin(owner)
    use_engine(app, owner=owner)
    actor = Actor(admin)
    print(f"\nbrowser: median of {repeat} runs, 25 entries a page (ms)")
    print(f"  {'filter':14s} {'matches':>11s} {'first':>8s} {'deep':>8s}  index (plan ok?)")
    for label, filters in _filters(owner).items():
        cursor, total = _deep_cursor(owner, filters, 1_000_000)
        first: list[float] = []
        deep: list[float] = []
        for _ in range(repeat):
            t = time.perf_counter()
            page = browse_audit_log(actor, filters, page_size=25)
            first.append(time.perf_counter() - t)
            assert page.entries, label
            t = time.perf_counter()
            browse_audit_log(actor, filters, older_than=cursor, page_size=25)
            deep.append(time.perf_counter() - t)
        plans = [_plan(app, admin, filters, None), _plan(app, admin, filters, cursor)]
        ok = all(_plan_ok(owner, p) for p in plans)
        print(
            f"  {label:14s} {total:>11,} {statistics.median(first) * 1000:>8.1f}"
            f" {statistics.median(deep) * 1000:>8.1f}  {_index_of(plans[1])}"
            f" ({'yes' if ok else 'NO'})",
            flush=True,
        )
        if not ok:
            print("\n".join(p for p in plans))


# ------------------------------------------------------------------------ trigger overhead

TWINS = """
CREATE TABLE bench_codes_{name} (LIKE discount_codes INCLUDING ALL);
ALTER TABLE bench_codes_{name} ADD COLUMN n integer;
INSERT INTO bench_codes_{name} (code, discount_type, discount_value, start_date, end_date, n)
  SELECT 'B{name}' || g, 'percentage', 10, now(), now() + interval '1 year', g
    FROM generate_series(1, 10000) g;
CREATE UNIQUE INDEX ON bench_codes_{name} (n);
CREATE TRIGGER set_updated_at BEFORE UPDATE ON bench_codes_{name}
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();
ANALYZE bench_codes_{name};
"""
CONTEXT = (
    "SELECT set_config('app.user_id', '{user}', true),"
    " set_config('app.ip_address', '10.1.2.3', true),"
    " set_config('app.user_agent', 'bench', true);"
)
UPDATE = "UPDATE bench_codes_{name} SET current_usage = current_usage + 1 WHERE n = {n};"
INSERT = (
    "INSERT INTO bench_codes_{name} (code, discount_type, discount_value, start_date, end_date)"
    " VALUES ('I' || md5(random()::text), 'percentage', 5, now(), now() + interval '1 year');"
)


def setup_twins(owner: Engine) -> None:
    with owner.begin() as conn:
        for name in ("plain", "audited"):
            conn.execute(text(TWINS.format(name=name)))
        conn.execute(
            text(
                "CREATE TRIGGER audit_trail AFTER INSERT OR UPDATE OR DELETE"
                " ON bench_codes_audited FOR EACH ROW EXECUTE FUNCTION audit_row_change('id', '')"
            )
        )


def _pgbench_script(kind: str, name: str, user: uuid.UUID) -> str:
    body = UPDATE.format(name=name, n=":n") if kind == "update" else INSERT.format(name=name)
    return (
        "\\set n random(1, 10000)\nBEGIN;\n" + CONTEXT.format(user=user) + "\n" + body + "\nEND;\n"
    )


def _pgbench_tps(binary: str, url: str, script: str, clients: int, seconds: int) -> float:
    u = make_url(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    args = [
        binary, "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)),
        "-T", str(seconds), "-f", path, "-h", u.host or "localhost", "-p", str(u.port or 5432),
        "-U", u.username or "postgres", u.database or "postgres",
    ]  # fmt: skip
    try:
        out = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    finally:
        os.unlink(path)
    for line in out.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"no tps in pgbench output:\n{out}")


def _thread_tps(
    url: str, kind: str, name: str, user: uuid.UUID, clients: int, seconds: int
) -> float:
    """The same transactions from `clients` threads, a connection each (no pgbench)."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    stop = time.perf_counter() + seconds
    counts = [0] * clients

    def worker(i: int) -> None:
        import random

        rng = random.Random(i)
        with psycopg.connect(libpq, autocommit=True) as conn:
            while time.perf_counter() < stop:
                with conn.transaction():
                    conn.execute(CONTEXT.format(user=user))
                    if kind == "update":
                        conn.execute(UPDATE.format(name=name, n=rng.randint(1, 10000)))
                    else:
                        conn.execute(INSERT.format(name=name))
                counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def bench_triggers(owner: Engine, clients: int, seconds: int, rounds: int) -> None:
    setup_twins(owner)
    url = owner.url.render_as_string(hide_password=False)
    user = uuid.uuid4()
    binary = shutil.which("pgbench")
    runner: Callable[[str, str], float]
    if binary:

        def runner(kind: str, name: str) -> float:
            return _pgbench_tps(binary, url, _pgbench_script(kind, name, user), clients, seconds)
    else:

        def runner(kind: str, name: str) -> float:
            return _thread_tps(url, kind, name, user, clients, seconds)

    how = "pgbench" if binary else "threads"
    print(f"\ntrigger overhead: {clients} clients, {seconds} s a run, {rounds} rounds ({how})")
    for kind in ("update", "insert"):
        plain: list[float] = []
        audited: list[float] = []
        for r in range(rounds):
            # Alternate which goes first, so drift on a shared machine hits both alike.
            order = ("plain", "audited") if r % 2 == 0 else ("audited", "plain")
            for name in order:
                (plain if name == "plain" else audited).append(runner(kind, name))
        p, a = statistics.median(plain), statistics.median(audited)
        verdict = "ok" if a / p >= GOAL else "BELOW GOAL"
        print(
            f"  single-row {kind:6s}  plain {p:8.0f} tps  audited {a:8.0f} tps"
            f"  ratio {a / p:.2f} (goal >= {GOAL:.2f}: {verdict})"
            f"  runs plain {[round(x) for x in plain]} audited {[round(x) for x in audited]}",
            flush=True,
        )


def bench_seal(owner: Engine, batches: int) -> None:
    print(f"\nsealing: {batches} batches of audit_seal(10000)")
    rates = []
    total = 0
    with owner.connect() as conn:
        for _ in range(batches):
            t = time.perf_counter()
            n = conn.execute(text("SELECT audit_seal(10000)")).scalar_one()
            conn.commit()
            elapsed = time.perf_counter() - t
            if n == 0:
                break
            total += n
            rates.append(n / elapsed)
        t = time.perf_counter()
        ok, checked = conn.execute(text("SELECT ok, checked FROM audit_verify()")).one()
        verify_s = time.perf_counter() - t
        pending = conn.execute(text("SELECT audit_pending()")).scalar_one()
    if rates:
        print(f"  sealed {total:,} rows, median {statistics.median(rates):,.0f} rows/s")
    print(
        f"  audit_verify: {checked:,} sealed rows in {verify_s:.1f} s"
        f" ({checked / verify_s:,.0f} rows/s), intact: {ok}; still pending {pending:,}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seal-batches", type=int, default=20)
    parser.add_argument(
        "--skip-browser",
        action="store_true",
        help="no load and no browser part: trigger overhead and sealing only",
    )
    args = parser.parse_args(argv)
    with scratch_database("bench_audit", pool_size=4) as (owner, app):
        if not args.skip_browser:
            print(f"loading {args.rows:,} audit rows over {MONTHS} months")
            seconds = load(owner, args.rows)
            print(f"  loaded and indexed in {seconds:.0f} s")
            bench_browser(owner, app, args.repeat)
        bench_triggers(owner, args.clients, args.seconds, args.rounds)
        bench_seal(owner, args.seal_batches)
    return 0


if __name__ == "__main__":
    sys.exit(main())
