"""The audit trail at scale: browser pages over millions of entries, what the trigger costs
a write, and how fast the sealer chains.

    python -m bench.audit [--rows 10000000] [--repeat 7] [--clients 8] [--seconds 15]
                          [--rounds 3] [--skip-browser] [--redaction-rows 1000000]
                          [--order-items 500] [--skip-redaction | --only-redaction]

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
4. Redaction and verification, before and after migration 0011 side by side: two scratch
   databases, one at revision 0009 and one at head, each loaded with the same
   `--redaction-rows` entries (one in a thousand names a data subject in its payload),
   sealed, verified, then redacted the way an erasure does (audit_redact of a subject's
   e-mail, audit_redact_fields of 200 orders' `note`), sealed and verified again. Medians
   of `--repeat` verifications and of `--repeat` erasures (another subject and other
   orders each time), alternating between the two databases. At head also
   an order with `--order-items` items, a payment and refunds of half of them: its
   history (core.audit.history.order_history) timed and EXPLAINed (no Seq Scan of the
   log). `--only-redaction` runs this part alone.
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
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench.scratch import scratch_database
from core.audit.browse import AuditFilters, Cursor, browse_audit_log, page_query
from core.auth import issue_identity
from core.auth.permissions import role_id
from core.db import use_engine

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


def load(owner: Engine, rows: int, note: str = "'n' || g") -> float:
    """`rows` audit entries over the last 12 months, the payloads' `note` the SQL
    expression `note` of the row number g; returns the seconds it took."""
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
                text(LOAD_MONTH.replace("'n' || g", note)),
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


def _plan(app: Engine, admin: str, filters: AuditFilters, cursor: Cursor | None) -> str:
    user_id = None
    if filters.actor_email:
        user_id = BUSY
    sql, params, _ = page_query(filters, user_id, older_than=cursor, limit=26)
    with app.connect() as conn, conn.begin():
        conn.execute(text("SELECT set_config('app.session', :t, true)"), {"t": admin})
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
    identity = issue_identity(admin)
    assert identity is not None
    actor = identity.actor(user_agent="bench/audit")
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
        token = str(actor.session_token)
        plans = [_plan(app, token, filters, None), _plan(app, token, filters, cursor)]
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


# ------------------------------------------------------- redaction and verification (0011)

# Up to 10 data subjects, one erased per round; each is named in one payload in a thousand
# (an erasure's terms find it there).
MAX_SUBJECTS = 10
SUBJECT_NOTE = (
    f"CASE WHEN g % 1000 < {MAX_SUBJECTS}"
    " THEN 'contact erase.me.' || (g % 1000) || '@bench.example' ELSE 'n' || g END"
)
REDACTED_ORDERS = 200


def _subject(n: int) -> str:
    return f"erase.me.{n}@bench.example"


def _seal_everything(owner: Engine) -> tuple[int, float]:
    total = 0
    started = time.perf_counter()
    with owner.connect() as conn:
        while (n := conn.execute(text("SELECT audit_seal(10000)")).scalar_one()) > 0:
            conn.commit()
            total += n
        conn.commit()
    return total, time.perf_counter() - started


def _verify_once(owner: Engine) -> tuple[float, bool, int]:
    """Seconds of one whole-chain audit_verify(), whether the chain was intact, and how many
    entries it checked."""
    with owner.connect() as conn:
        started = time.perf_counter()
        ok, checked = conn.execute(text("SELECT ok, checked FROM audit_verify()")).first()
        return time.perf_counter() - started, bool(ok), int(checked)


def _verify_side_by_side(dbs: dict[str, Engine], repeat: int) -> dict[str, tuple[float, bool, int]]:
    """Median seconds of `repeat` verifications of each database, alternating which goes
    first, so drift on a shared machine hits both alike."""
    times: dict[str, list[float]] = {label: [] for label in dbs}
    last: dict[str, tuple[bool, int]] = {}
    for r in range(repeat):
        for label in list(dbs) if r % 2 == 0 else list(dbs)[::-1]:
            seconds, ok, checked = _verify_once(dbs[label])
            times[label].append(seconds)
            last[label] = (ok, checked)
    return {label: (statistics.median(times[label]), *last[label]) for label in dbs}


def _redact(owner: Engine, n: int) -> tuple[int, float, int, float]:
    """An erasure's two redactions, each in its own transaction, for subject `n`: (rows,
    seconds) of audit_redact of their e-mail and of audit_redact_fields of the `note` of
    the n-th 200 orders."""
    with owner.begin() as conn:
        started = time.perf_counter()
        terms = conn.execute(
            text("SELECT audit_redact(ARRAY[:s])"), {"s": _subject(n)}
        ).scalar_one()
        terms_s = time.perf_counter() - started
    with owner.connect() as conn:
        ids = (
            conn.execute(
                text(
                    "SELECT DISTINCT record_id FROM audit_logs WHERE table_name = 'orders'"
                    " ORDER BY record_id OFFSET :o LIMIT :n"
                ),
                {"o": n * REDACTED_ORDERS, "n": REDACTED_ORDERS},
            )
            .scalars()
            .all()
        )
    with owner.begin() as conn:
        started = time.perf_counter()
        fields = conn.execute(
            text("SELECT audit_redact_fields('orders', CAST(:ids AS text[]), ARRAY['note'])"),
            {"ids": list(ids)},
        ).scalar_one()
        fields_s = time.perf_counter() - started
    return int(terms), terms_s, int(fields), fields_s


ORDER_FIXTURE = """
WITH u AS (
  INSERT INTO users (email, full_name, user_type, status)
  VALUES ('organizer@bench.example', 'Bench Organizer', 'organizer', 'active') RETURNING id
), e AS (
  INSERT INTO events (organizer_id, title, start_date, end_date, type, status)
  SELECT id, 'Bench history show', now() + interval '30 days', now() + interval '31 days',
         'fashion_show', 'published' FROM u RETURNING id
), t AS (
  INSERT INTO ticket_types (event_id, name, tier, base_price, total_capacity,
                            remaining_capacity, sale_start_date, sale_end_date)
  SELECT id, 'General', 'general', 40, 100000, 100000, now() - interval '1 day',
         now() + interval '20 days'
    FROM e RETURNING id, event_id
)
INSERT INTO orders (order_number, event_id, status, subtotal, total_amount, billing_email,
                    billing_name)
SELECT 'FW-2026-9999999', event_id, 'completed', 40 * CAST(:n AS integer),
       40 * CAST(:n AS integer), 'buyer@bench.example', 'Bench Buyer'
  FROM t RETURNING id, (SELECT id FROM t)
"""


def _order_with_items(owner: Engine, items: int) -> uuid.UUID:
    """An order of `items` one-ticket items, paid, half of them refunded (each step its own
    transaction, as a sale and refunds are); its children's audit rows are the triggers'."""
    with owner.begin() as conn:
        order_id, type_id = conn.execute(text(ORDER_FIXTURE), {"n": items}).one()
        conn.execute(
            text(
                "INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price,"
                " subtotal, final_price) SELECT :o, :t, 1, 40, 40, 40"
                " FROM generate_series(1, :n)"
            ),
            {"o": order_id, "t": type_id, "n": items},
        )
        conn.execute(
            text(
                "INSERT INTO order_payments (order_id, provider, method, amount, reference)"
                " VALUES (:o, 'box_office', 'cash', 40 * CAST(:n AS integer), 'BENCH-PAY-1')"
            ),
            {"o": order_id, "n": items},
        )
    for refund in range(items // 2):
        with owner.begin() as conn:
            item = conn.execute(
                text(
                    "UPDATE order_items SET refunded_at = now() WHERE id = (SELECT id FROM"
                    " order_items WHERE order_id = :o AND refunded_at IS NULL ORDER BY id"
                    " LIMIT 1) RETURNING id"
                ),
                {"o": order_id},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO order_refunds (order_id, order_item_id, amount, reason, method,"
                    " reference) VALUES (:o, :i, 40, 'bench', 'cash', :r)"
                ),
                {"o": order_id, "i": item, "r": f"BENCH-REF-{refund}"},
            )
    return order_id


def _scans_the_log(owner: Engine, plan: str) -> bool:
    scanned = SEQ_SCAN.findall(plan)
    if not scanned:
        return False
    with owner.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT count(*) FROM pg_class WHERE relname = ANY(:n) AND reltuples > 0"),
                {"n": scanned},
            ).scalar_one()
        )


def bench_order_history(owner: Engine, items: int, repeat: int) -> None:
    from sqlalchemy.orm import Session

    from core.audit.history import order_history, order_history_sql

    order_id = _order_with_items(owner, items)
    _seal_everything(owner)
    with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    times = []
    entries = 0
    for _ in range(repeat):
        with Session(owner) as s, s.begin():
            started = time.perf_counter()
            entries = len(order_history(s, order_id))
            times.append(time.perf_counter() - started)
    with owner.connect() as conn:
        plan = "\n".join(
            conn.execute(text("EXPLAIN " + order_history_sql()), {"o": order_id}).scalars()
        )
    scans = _scans_the_log(owner, plan)
    print(
        f"  order history: {items} items, {entries:,} entries in"
        f" {statistics.median(times) * 1000:.1f} ms (median of {repeat});"
        f" scans the log: {'YES' if scans else 'no'}"
    )
    if scans:
        print(plan)


def bench_redaction(rows: int, repeat: int, items: int) -> None:
    print(
        f"\nredaction and verification: {rows:,} entries, before (revision 0009) and after"
        " (head, migration 0011), side by side"
    )
    results: dict[str, dict[str, float]] = {"before": {}, "after": {}}
    with ExitStack() as stack:
        dbs = {
            label: stack.enter_context(
                scratch_database(f"bench_redact_{label}", pool_size=2, revision=revision)
            )[0]
            for label, revision in (("before", "0009"), ("after", "head"))
        }
        for owner in dbs.values():
            load(owner, rows, SUBJECT_NOTE)
        for label, owner in dbs.items():
            sealed, seconds = _seal_everything(owner)
            results[label]["seal rows/s"] = sealed / seconds
            print(f"  {label:6s} sealed {sealed:,} in {seconds:.1f} s", flush=True)
        for label, (seconds, ok, checked) in _verify_side_by_side(dbs, repeat).items():
            results[label]["verify s"] = seconds
            print(f"  {label:6s} verify {seconds:.2f} s ({checked:,} entries, intact {ok})")
        redactions: dict[str, list[tuple[int, float, int, float]]] = {k: [] for k in dbs}
        for r in range(min(repeat, MAX_SUBJECTS)):
            for label in list(dbs) if r % 2 == 0 else list(dbs)[::-1]:
                redactions[label].append(_redact(dbs[label], r))
        for label, owner in dbs.items():
            resealed, _ = _seal_everything(owner)
            runs = redactions[label]
            results[label]["audit_redact s"] = statistics.median(x[1] for x in runs)
            results[label]["audit_redact_fields s"] = statistics.median(x[3] for x in runs)
            print(
                f"  {label:6s} audit_redact {runs[0][0]:,} rows in"
                f" {results[label]['audit_redact s']:.2f} s, audit_redact_fields"
                f" {runs[0][2]:,} rows in {results[label]['audit_redact_fields s']:.2f} s"
                f" (medians of {len(runs)} subjects); {resealed:,} new entries sealed",
                flush=True,
            )
        for label, (seconds, ok, checked) in _verify_side_by_side(dbs, repeat).items():
            results[label]["verify redacted s"] = seconds
            with dbs[label].connect() as conn:
                redacted = conn.execute(
                    text("SELECT count(*) FROM audit_logs WHERE is_redacted")
                ).scalar_one()
            print(
                f"  {label:6s} verify {seconds:.2f} s ({checked:,} entries, {redacted:,}"
                f" redacted, intact {ok})"
            )
        bench_order_history(dbs["after"], items, repeat)
    print(f"  {'':22s} {'before':>10s} {'after':>10s} {'after/before':>13s}")
    for key in results["before"]:
        b, a = results["before"][key], results["after"][key]
        print(f"  {key:22s} {b:>10.2f} {a:>10.2f} {a / b:>13.2f}")


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
    parser.add_argument("--redaction-rows", type=int, default=1_000_000)
    parser.add_argument("--order-items", type=int, default=500)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--skip-redaction", action="store_true")
    which.add_argument(
        "--only-redaction", action="store_true", help="the redaction and verification part alone"
    )
    args = parser.parse_args(argv)
    if not args.only_redaction:
        with scratch_database("bench_audit", pool_size=4) as (owner, app):
            if not args.skip_browser:
                print(f"loading {args.rows:,} audit rows over {MONTHS} months")
                seconds = load(owner, args.rows)
                print(f"  loaded and indexed in {seconds:.0f} s")
                bench_browser(owner, app, args.repeat)
            bench_triggers(owner, args.clients, args.seconds, args.rounds)
            bench_seal(owner, args.seal_batches)
    if not args.skip_redaction:
        bench_redaction(args.redaction_rows, args.repeat, args.order_items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
