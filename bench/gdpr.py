"""What a GDPR erasure costs, and how its verification scan grows with the audit log.

    python -m bench.gdpr [--audit-rows 1000000] [--repeat 3]

Uses DATABASE_URL's server (or the embedded server in ./.data/bench-postgres). Creates a
scratch database `bench_gdpr_<tag>` with the small demo, dropped at the end whatever
happens. Each round plants a person with data in every category (the tests' canary
person), then times, as an admin on the app role: discovery, the export job, the erasure
(anonymize, audit redaction, the scan of every text and JSON column, commit) and one
`gdpr_scan` on its own. It runs the rounds on the demo as loaded, then adds
`--audit-rows` synthetic audit entries (JSON payloads of about 200 bytes, a month each)
and runs them again. Prints medians per phase and the growth per million audit rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

from bench.scratch import scratch_database
from core.db import dispose_engine, unit_of_work, use_engine
from core.demo import load_demo
from core.gdpr import erasure, export, requests
from core.gdpr.discovery import discover, subject_of_request
from core.jobs import Worker
from core.jobs.registry import load_handlers


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _round(owner: Engine) -> dict[str, float]:
    from tests.apptest import make_person
    from tests.test_gdpr import plant_subject

    admin = make_person(owner, ["admin"])
    person = plant_subject(owner)
    actor = admin.actor()
    request_id = requests.create_request(
        actor,
        requests.RequestDraft(person.email, "erasure", verification_method="id_document"),
    )
    requests.start_processing(actor, request_id)

    def discovery() -> None:
        with unit_of_work(actor, read_only=True) as uow:
            discover(uow.session, subject_of_request(uow.session, request_id))

    def export_job() -> None:
        export.request_export(actor, request_id)
        Worker(job_types=[export.EXPORT_JOB]).run_until_idle()

    def scan() -> None:
        with owner.connect() as c:
            c.execute(text("SELECT * FROM gdpr_scan(:t)"), {"t": [person.email]}).all()

    return {
        "discovery": _timed(discovery),
        "export job": _timed(export_job),
        "scan alone": _timed(scan),
        "erasure (all)": _timed(lambda: erasure.erase(actor, request_id)),
    }


def _rounds(owner: Engine, repeat: int) -> dict[str, float]:
    runs = [_round(owner) for _ in range(repeat)]
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _add_audit_rows(owner: Engine, n: int) -> None:
    with owner.begin() as c:
        c.execute(
            text(
                "INSERT INTO audit_logs (user_id, action, table_name, record_id, old_data,"
                " new_data, ip_address, user_agent, created_at)"
                " SELECT NULL, 'orders.update', 'orders', md5(g::text),"
                " jsonb_build_object('status', 'pending', 'billing_email',"
                "   'buyer' || g || '@example.com', 'billing_name', 'Buyer ' || g),"
                " jsonb_build_object('status', 'completed', 'total_amount', g % 500,"
                "   'note', repeat('x', 40)),"
                " '198.51.100.' || (g % 250), 'bench', now() - (g % 330) * interval '1 day'"
                " FROM generate_series(1, :n) g"
            ),
            {"n": n},
        )
        c.execute(text("ANALYZE audit_logs"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    load_handlers()
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database("bench_gdpr", pool_size=4) as (owner, app),
    ):
        os.environ["FASHIONISTAS_EXPORT_DIR"] = folder
        load_demo(owner, scale="small")
        use_engine(app, owner=owner)
        try:
            with owner.connect() as c:
                before = c.execute(text("SELECT count(*) FROM audit_logs")).scalar_one()
            small = _rounds(owner, args.repeat)
            _add_audit_rows(owner, args.audit_rows)
            with owner.connect() as c:
                after = c.execute(text("SELECT count(*) FROM audit_logs")).scalar_one()
            large = _rounds(owner, args.repeat)
        finally:
            dispose_engine()
    per_million = 1_000_000 / max(1, after - before)
    print(f"small demo; audit_logs {before:,} rows -> {after:,} rows; {args.repeat} rounds each")
    print(f"{'phase':16s} {'small ms':>10s} {'large ms':>10s} {'+ms per 1M audit rows':>24s}")
    for phase in small:
        growth = (large[phase] - small[phase]) * per_million
        print(f"{phase:16s} {small[phase]:10.0f} {large[phase]:10.0f} {growth:24.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
