"""Plan and run the retention policy: one dry run, one audited transaction.

`plan_retention` counts, per category, the rows its period has expired; `run_retention`
treats exactly those rows (the same WHERE clauses, see categories.py) in one transaction
and writes one audit row with the per-category counts. Both take `as_of` (default: the
database's now) so a run can be pinned to the moment its dry run showed.

Whole monthly partitions of api_usage_logs and user_engagement that lie before the cutoff
are dropped (migration 0007's `retention_partitions`), not deleted from row by row; the
drops come last, so the parent tables' exclusive lock is held only until the commit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.auth.audit import record
from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, UnitOfWork, get_owner_engine, unit_of_work
from core.db.uow import ACTOR_CONTEXT, context_params
from core.errors import Busy, NotFound, ValidationError
from core.retention.categories import BY_KEY, CATEGORIES, SETTINGS_CATEGORY, Category

# Retention runs one at a time (advisory lock key; any fixed bigint unused elsewhere).
RUN_LOCK_KEY = 0x726574656E74  # "retent"
LOCK_TIMEOUT_MS = 10_000
CLI_AGENT = "python -m core retention"

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class RetentionLine:
    key: str
    label: str
    table: str
    action: str
    # ISO 8601 duration as configured, or None when the setting is missing.
    period: str | None
    cutoff: datetime | None
    rows: int
    # Monthly partitions wholly past the cutoff: dropped by a run instead of deleted from.
    partitions: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class RetentionPlan:
    as_of: datetime
    lines: tuple[RetentionLine, ...]
    dry_run: bool
    run_id: uuid.UUID | None = None

    @property
    def total(self) -> int:
        return sum(line.rows for line in self.lines)

    def counts(self) -> dict[str, int]:
        return {line.key: line.rows for line in self.lines}


class _OwnerUnitOfWork(UnitOfWork):
    """A unit of work on the owner connection, for a system actor (the command line).

    On the app role a system actor is no one: row-level security would hide the users it
    must anonymise, and the audit policy accepts only a person's own rows. The owner writes
    the run's audit row with no user and the command as its user agent.
    """

    def __enter__(self) -> UnitOfWork:
        self.session = Session(get_owner_engine(), expire_on_commit=False)
        try:
            self.session.execute(
                ACTOR_CONTEXT,
                context_params(
                    self.actor, read_only=self.read_only, lock_timeout_ms=self.lock_timeout_ms
                ),
            )
        except BaseException:
            self.session.close()
            raise
        return self


def _unit(actor: Actor, *, read_only: bool) -> UnitOfWork:
    if actor.is_system:
        return _OwnerUnitOfWork(actor, read_only=read_only, lock_timeout_ms=LOCK_TIMEOUT_MS)
    return unit_of_work(actor, read_only=read_only, lock_timeout_ms=LOCK_TIMEOUT_MS)


def _as_of(session: Session, as_of: datetime | None) -> datetime:
    # Never later than now: a future as_of would expire rows early.
    return session.execute(
        text("SELECT least(coalesce(CAST(:a AS timestamptz), now()), now())"), {"a": as_of}
    ).scalar_one()


def _plan_line(session: Session, category: Category, as_of: datetime) -> RetentionLine:
    row = session.execute(
        text(
            "SELECT (SELECT value #>> '{}' FROM system_configurations"
            "         WHERE category = :c AND key = :k) AS period,"
            " CAST(:a AS timestamptz) - retention_period(:k) AS cutoff"
        ),
        {"c": SETTINGS_CATEGORY, "k": category.key, "a": as_of},
    ).one()
    base = RetentionLine(
        category.key,
        category.label,
        category.table,
        category.action,
        row.period,
        row.cutoff,
        0,
        why=category.why,
    )
    if row.cutoff is None:
        return base
    rows = session.execute(
        text(f"SELECT count(*) FROM {category.table} WHERE {category.where}"),
        {"cutoff": row.cutoff},
    ).scalar_one()
    partitions: tuple[str, ...] = ()
    if category.drops_partitions:
        partitions = tuple(
            session.execute(
                text("SELECT partition_name FROM retention_partitions(:t, :k, :c, false)"),
                {"t": category.table, "k": category.key, "c": row.cutoff},
            ).scalars()
        )
    return replace(base, rows=rows, partitions=partitions)


def plan_retention(actor: Actor, *, as_of: datetime | None = None) -> RetentionPlan:
    """Dry run: per category its period, cutoff and the rows a run would treat now.

    Changes nothing. Raises PermissionDenied without compliance.manage.
    """
    with _unit(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        moment = _as_of(uow.session, as_of)
        lines = tuple(_plan_line(uow.session, c, moment) for c in CATEGORIES)
    return RetentionPlan(moment, lines, dry_run=True)


def run_retention(
    actor: Actor, *, as_of: datetime | None = None, progress: Progress | None = None
) -> RetentionPlan:
    """Delete or anonymise every expired row of every category, in one transaction, and
    record one audit row (`retention.run`) with the per-category counts.

    A person runs it on the app role; a system actor (the command line) on the owner
    connection, its audit row naming the command. `progress(i, n, label)` is called
    before each category. Raises PermissionDenied, Busy (another run holds the lock, or a
    row stayed locked for 10 s); on any error nothing is changed.
    """
    run_id = uuid.uuid4()
    with _unit(actor, read_only=False) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        if not s.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RUN_LOCK_KEY}
        ).scalar():
            raise Busy("A retention run is already in progress; wait for it to finish.")
        moment = _as_of(s, as_of)
        lines = []
        drops: list[tuple[int, Category, RetentionLine]] = []
        for i, category in enumerate(CATEGORIES):
            if progress:
                progress(i, len(CATEGORIES), category.label)
            line = _plan_line(s, category, moment)
            if line.cutoff is None:
                lines.append(line)
                continue
            # No terms: an anonymisation scrubs each row of its own values only.
            params = {"cutoff": line.cutoff, "parts": list(line.partitions), "terms": []}
            count = 0
            for statement in category.statements:
                if line.partitions:
                    # Rows in partitions about to be dropped are counted by the drop.
                    statement += (
                        " AND tableoid <> ALL (ARRAY(SELECT to_regclass(p)::oid"
                        " FROM unnest(CAST(:parts AS text[])) p))"
                    )
                count = s.execute(text(statement), params).rowcount
            if line.partitions:
                drops.append((len(lines), category, replace(line, rows=count)))
            lines.append(replace(line, rows=count))
        for index, category, line in drops:
            dropped = s.execute(
                text(
                    "SELECT partition_name, row_count FROM retention_partitions(:t, :k, :c, true)"
                ),
                {"t": category.table, "k": category.key, "c": line.cutoff},
            ).all()
            lines[index] = replace(
                line,
                rows=line.rows + sum(r.row_count for r in dropped),
                partitions=tuple(r.partition_name for r in dropped),
            )
        if progress:
            progress(len(CATEGORIES), len(CATEGORIES), "done")
        result = RetentionPlan(moment, tuple(lines), dry_run=False, run_id=run_id)
        record(
            s,
            actor,
            "retention.run",
            run_id,
            new={
                "as_of": moment.isoformat(),
                "counts": result.counts(),
                "cutoffs": {
                    line.key: line.cutoff.isoformat() for line in lines if line.cutoff is not None
                },
                "dropped_partitions": [p for line in lines for p in line.partitions],
            },
            table="system_configurations",
        )
        uow.commit()
    return result


_DAYS = re.compile(r"^\d+$")


def set_retention_period(actor: Actor, key: str, period: str) -> str:
    """Set a category's period: an ISO 8601 duration (P90D, P1Y, P2Y6M) or a whole number
    of days. Returns the stored duration.

    Raises ValidationError naming the field (`period`) for an empty, malformed, zero or
    negative period; NotFound for an unknown category; PermissionDenied.
    """
    if key not in BY_KEY:
        raise NotFound(f"No retention category {key}.", field="category")
    value = (period or "").strip().upper()
    if not value:
        raise ValidationError(
            "period is required (e.g. P90D, P1Y or a number of days)", field="period"
        )
    if _DAYS.match(value):
        value = f"P{int(value)}D"
    if not value.startswith("P"):
        raise ValidationError(
            "period must be an ISO 8601 duration such as P90D or P1Y, or a number of days",
            field="period",
        )
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        try:
            with s.begin_nested():
                positive = s.execute(
                    text(
                        "SELECT CAST(:v AS interval) > interval '0'"
                        " AND now() - CAST(:v AS interval) < now()"
                    ),
                    {"v": value},
                ).scalar_one()
        except DBAPIError as exc:
            raise ValidationError(
                f"period {period!r} is not an ISO 8601 duration such as P90D or P1Y",
                field="period",
            ) from exc
        if not positive:
            raise ValidationError("period must be longer than zero", field="period")
        changed = s.execute(
            text(
                "UPDATE system_configurations SET value = :v, value_type = 'duration',"
                " updated_by = :u WHERE category = :c AND key = :k"
            ),
            {"v": Jsonb(value), "u": actor.user_id, "c": SETTINGS_CATEGORY, "k": key},
        ).rowcount
        if not changed:
            s.execute(
                text(
                    "INSERT INTO system_configurations"
                    " (category, key, value, value_type, description, updated_by)"
                    " VALUES (:c, :k, :v, 'duration', :d, :u)"
                ),
                {
                    "c": SETTINGS_CATEGORY,
                    "k": key,
                    "v": Jsonb(value),
                    "d": BY_KEY[key].label,
                    "u": actor.user_id,
                },
            )
        uow.commit()
    return value
