"""Retention and key rotation: dropping an expired month against deleting it row by row,
and re-encryption throughput of a key rotation.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.retention

Partitions: per round, two past months of `api_usage_logs` get `--rows` rows each; one is
removed by migration 0007's `retention_partitions(..., drop => true)` (what a retention run
does with a month wholly past its cutoff), the other by the DELETE a run issues for rows
in partitions it cannot drop. Rotation: the small demo's payment ciphertexts (orders and
profiles) are rotated to a fresh key `--rotations` times through `core.crypto.rotate_key`
as an admin on the app role, the way the page does it. Medians of the rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date

from cryptography.fernet import Fernet
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.scratch import scratch_database
from core.auth import issue_identity
from core.auth.permissions import role_id
from core.db import use_engine

FILL = """
INSERT INTO api_usage_logs (endpoint, method, status_code, response_time_ms, created_at)
SELECT '/api/v1/events', 'GET', 200, 12,
       CAST(:month AS timestamptz) + (g % (27 * 86400)) * interval '1 second'
  FROM generate_series(1, :rows) g
"""


def _month(year: int, month: int) -> date:
    return date(year, month, 1)


def partitions(
    owner: Engine, rows: int, rounds: int
) -> tuple[list[float], list[float], list[float]]:
    drops: list[float] = []
    deletes: list[float] = []
    vacuums: list[float] = []
    for r in range(rounds):
        dropped, deleted = _month(2001 + r, 1), _month(2001 + r, 2)
        with owner.begin() as conn:
            for month in (dropped, deleted):
                conn.execute(
                    text("SELECT ensure_month_partition('api_usage_logs', :m)"), {"m": month}
                )
                conn.execute(text(FILL), {"month": month, "rows": rows})
            conn.execute(text("ANALYZE api_usage_logs"))
        with owner.begin() as conn:
            started = time.perf_counter()
            gone = conn.execute(
                text(
                    "SELECT sum(row_count) FROM retention_partitions('api_usage_logs',"
                    " 'api_usage_logs', CAST(:c AS timestamptz), true)"
                ),
                {"c": f"{deleted:%Y-%m-%d} 00:00:00+00"},
            ).scalar_one()
            drops.append(time.perf_counter() - started)
        with owner.begin() as conn:
            started = time.perf_counter()
            n = conn.execute(
                text(
                    "DELETE FROM api_usage_logs WHERE created_at >= CAST(:a AS timestamptz)"
                    " AND created_at < CAST(:a AS timestamptz) + interval '1 month'"
                ),
                {"a": f"{deleted:%Y-%m-%d} 00:00:00+00"},
            ).rowcount
            deletes.append(time.perf_counter() - started)
        # The deleted rows are dead tuples until a vacuum reclaims them: part of the cost.
        with owner.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            started = time.perf_counter()
            conn.execute(text(f"VACUUM api_usage_logs_p{deleted:%Y%m}"))
            vacuums.append(time.perf_counter() - started)
            conn.execute(text(f"DROP TABLE api_usage_logs_p{deleted:%Y%m}"))
        assert gone == rows and n == rows, (gone, n)
    return drops, deletes, vacuums


def rotations(owner: Engine, app: Engine, count: int) -> tuple[int, list[float]]:
    from core.crypto import rotate_key
    from core.demo import load_demo
    from tests.factories import make_user

    load_demo(owner, scale="small")
    with Session(owner) as s, s.begin():
        admin = make_user(s, user_type="admin")
        s.execute(
            text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
            {"u": admin.id, "r": role_id("admin")},
        )
        admin_id = admin.id
    use_engine(app, owner=owner)
    admin = issue_identity(admin_id)
    assert admin is not None
    admin_actor = admin.actor(user_agent="bench/retention")
    seconds, total = [], 0
    for v in range(count):
        os.environ[f"BENCH_KEY_{v}"] = Fernet.generate_key().decode()
        started = time.perf_counter()
        report = rotate_key(admin_actor, "payment_info", f"env:BENCH_KEY_{v}")
        seconds.append(time.perf_counter() - started)
        total = report.total
    return total, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.retention", description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000, help="rows per month")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rotations", type=int, default=3)
    args = parser.parse_args(argv)
    with scratch_database("bench_retention", pool_size=2) as (owner, app):
        drops, deletes, vacuums = partitions(owner, args.rows, args.rounds)
        ciphertexts, rotated = rotations(owner, app, args.rotations)
    drop, delete = statistics.median(drops), statistics.median(deletes)
    vacuum = statistics.median(vacuums)
    print(f"one month of api_usage_logs, {args.rows:,} rows, median of {args.rounds}")
    print(f"  drop partition (retention_partitions)  {drop * 1000:10.1f} ms")
    print(f"  DELETE of the same month              {delete * 1000:10.1f} ms")
    print(f"  VACUUM after that DELETE              {vacuum * 1000:10.1f} ms")
    print(f"  ratio (DELETE + VACUUM) / drop        {(delete + vacuum) / drop:10.1f}x")
    rotation = statistics.median(rotated)
    print(f"key rotation, {ciphertexts:,} ciphertexts (small demo), median of {args.rotations}")
    print(f"  rotate_key                            {rotation * 1000:10.1f} ms")
    print(f"  re-encrypted per second               {ciphertexts / rotation:10,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
