"""`python -m core retention [--dry-run]`: the retention policy from the command line."""

from __future__ import annotations

from core.db import Actor
from core.errors import DomainError
from core.retention.service import CLI_AGENT, RetentionPlan, plan_retention, run_retention


def _print(plan: RetentionPlan) -> None:
    verb = "would be treated" if plan.dry_run else "treated"
    kind = "dry run" if plan.dry_run else "run"
    print(f"retention as of {plan.as_of:%Y-%m-%d %H:%M:%S %Z} ({kind})")
    print(f"{'category':20s} {'period':>8s} {'cutoff':>20s} {'rows':>12s}  partitions")
    for line in plan.lines:
        cutoff = f"{line.cutoff:%Y-%m-%d %H:%M}" if line.cutoff else "not configured"
        print(
            f"{line.key:20s} {line.period or '-':>8s} {cutoff:>20s} {line.rows:>12,}"
            f"  {', '.join(line.partitions)}"
        )
    print(f"{plan.total:,} rows {verb}" + (f"; audit record {plan.run_id}" if plan.run_id else ""))


def run(*, dry_run: bool) -> int:
    """Plan or run retention as the system actor on the owner connection; 0 on success."""
    actor = Actor.system(CLI_AGENT)
    try:
        plan = plan_retention(actor) if dry_run else run_retention(actor)
    except DomainError as exc:
        print(f"retention refused: {exc.message}")
        return 1
    _print(plan)
    return 0
