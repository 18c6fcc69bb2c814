"""Command line: `python -m core migrate | demo --scale small|large | partitions | check |
audit-seal | audit-verify | retention [--dry-run] | new-key | worker [--once] |
api-key create|list|revoke`."""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    sub.add_parser(
        "check",
        help="fail when the models and the migrations disagree, or the personal-data"
        " registry leaves a table or column undecided",
    )
    parts = sub.add_parser("partitions", help="create monthly partitions ahead of time")
    parts.add_argument("--months-ahead", type=int, default=3)
    sub.add_parser("refresh-analytics", help="recompute the marketing analytics rollups")
    demo = sub.add_parser("demo", help="load demo data into an empty database")
    demo.add_argument("--scale", choices=("small", "large"), default="small")
    demo.add_argument("--seed", type=int, default=20261121)
    worker = sub.add_parser("worker", help="run background jobs and periodic tasks")
    worker.add_argument("--once", action="store_true", help="run due jobs, then exit")
    worker.add_argument("--poll", type=float, default=1.0, help="seconds between polls")
    seal = sub.add_parser("audit-seal", help="seal pending audit entries into the hash chain")
    seal.add_argument("--batch", type=int, default=50_000)
    sub.add_parser("audit-verify", help="seal, then verify the audit chain (exit 1 if broken)")
    retention = sub.add_parser("retention", help="apply the retention policy (audited)")
    retention.add_argument("--dry-run", action="store_true", help="only count what would go")
    sub.add_parser("new-key", help="print a fresh encryption key for key rotation")
    from core.api_keys.cli import add_parser as add_api_key_parser

    add_api_key_parser(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from sqlalchemy import text

    from core.db import get_owner_engine
    from core.migrate import check, upgrade

    if args.command == "worker":
        # Jobs act as the people who queued them: the app role, under row-level security.
        from core.jobs import Worker

        runner = Worker(poll_seconds=args.poll)
        if args.once:
            runner.run_periodic()
            print(f"ran {runner.run_until_idle()} jobs")
        else:
            try:
                runner.run_forever()
            except KeyboardInterrupt:
                runner.stop()
        return 0

    # Schema, partitions and demo data are the owner's business, never the app role's.
    engine = get_owner_engine()
    if args.command == "migrate":
        upgrade(engine)
    elif args.command == "check":
        from core.gdpr.categories import REGISTRY
        from core.gdpr.coverage import problems

        check(engine)
        print("models and migrations agree")
        with engine.connect() as conn:
            undecided = problems(conn, REGISTRY)
        for line in undecided:
            print(f"personal data: {line}", file=sys.stderr)
        if undecided:
            return 1
        print("the personal-data registry covers the schema")
    elif args.command == "partitions":
        with engine.begin() as conn:
            n = conn.execute(text("SELECT ensure_partitions(1, :m)"), {"m": args.months_ahead})
            print(f"created {n.scalar()} partitions")
    elif args.command == "refresh-analytics":
        from core.analytics.rollups import refresh_rollups
        from core.db import Actor

        at = refresh_rollups(Actor.system("refresh-analytics"))
        print(f"analytics rollups refreshed at {at:%Y-%m-%d %H:%M:%S} UTC")
    elif args.command in ("audit-seal", "audit-verify"):
        from core.audit.chain import seal_all, verify_chain

        if args.command == "audit-seal":
            print(f"sealed {seal_all(args.batch):,} audit entries")
        else:
            report = verify_chain(seal_first=True)
            print(report.summary())
            return 0 if report.ok else 1
    elif args.command == "retention":
        from core.retention.cli import run

        return run(dry_run=args.dry_run)
    elif args.command == "api-key":
        from core.api_keys.cli import run as run_api_key

        return run_api_key(args)
    elif args.command == "new-key":
        from core.crypto import new_key

        print(new_key())
    elif args.command == "demo":
        from core.demo import DemoDataExists, load_demo

        upgrade(engine)
        try:
            counts = load_demo(engine, scale=args.scale, seed=args.seed, progress=True)
        except DemoDataExists as exc:
            print(exc, file=sys.stderr)
            return 2
        for table, n in counts.items():
            print(f"{table:40s} {n:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
