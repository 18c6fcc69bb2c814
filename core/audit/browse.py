"""The audit browser's reads: filtered, keyset-paged entries with a field-by-field diff,
the filter choices, and a capped CSV export streamed in pages.

Every query walks one index newest first in (created_at, seq) order (migration 0005):
no filter (the primary key), table, table and record, actor, action; a date range narrows
any of them. Paging never uses OFFSET: a page is "the next N after this (created_at, seq)".

Actions: the trigger's `<table>.insert|update|delete` ride the table index (which ends in
the action, so the filter is checked inside the index); only the services' own actions
(`auth.signed_in` and the like) have an index of their own, a partial one, so the
trigger's rows stay out of it and audited writes maintain one index fewer.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import ValidationError
from core.spreadsheets import csv_line

MASKED_PREFIX = "[masked"
# Columns every update touches by itself: not worth a line in a diff.
_BOOKKEEPING = frozenset({"updated_at", "version"})
EXPORT_CAP = 100_000
PAGE_SIZE_MAX = 500
ROW_OPERATIONS = ("insert", "update", "delete")
# An action the trigger writes: `<table>.<operation>`.
_ROW_CHANGE = re.compile(r"^(?P<table>[a-z_][a-z0-9_]*)\.(?:insert|update|delete)$")
# The predicate of the partial action index (migration 0005), word for word: the planner
# uses that index only when the query states it.
SERVICE_ACTION = r"a.action !~ '\.(insert|update|delete)$'"


@dataclass(frozen=True)
class AuditFilters:
    """What the browser shows: all optional; `until` is inclusive (whole days, UTC)."""

    table: str | None = None
    record_id: str | None = None
    actor_email: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first order: an entry's (created_at, seq)."""

    created_at: datetime
    seq: int

    def token(self) -> str:
        """A string for session state or a URL."""
        return f"{self.created_at.isoformat()}|{self.seq}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """The cursor `token` names; raises ValidationError for a malformed one."""
        try:
            stamp, seq = token.rsplit("|", 1)
            return cls(datetime.fromisoformat(stamp), int(seq))
        except ValueError as exc:
            raise ValidationError("That page position is not valid.", field="cursor") from exc


@dataclass(frozen=True)
class FieldChange:
    """One field of a diff; `masked` when the trigger hid a secret's value."""

    field: str
    old: Any
    new: Any
    masked: bool = False


@dataclass(frozen=True)
class AuditEntry:
    id: uuid.UUID
    seq: int
    created_at: datetime
    user_id: uuid.UUID | None
    actor: str
    action: str
    table_name: str
    record_id: str | None
    ip_address: str | None
    user_agent: str | None
    old_data: dict[str, Any] | None
    new_data: dict[str, Any] | None
    is_redacted: bool
    sealed: bool

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.created_at, self.seq)

    def changes(self) -> list[FieldChange]:
        """This entry's field-by-field diff (see `field_diff`)."""
        return field_diff(self.old_data, self.new_data)


@dataclass(frozen=True)
class AuditPage:
    """One page of entries, newest first, and whether older or newer entries exist."""

    entries: tuple[AuditEntry, ...]
    has_older: bool
    has_newer: bool
    # The actor filter's email matched nobody: the page is empty for that reason.
    unknown_actor: bool = False

    @property
    def older(self) -> Cursor | None:
        return self.entries[-1].cursor if self.entries and self.has_older else None

    @property
    def newer(self) -> Cursor | None:
        return self.entries[0].cursor if self.entries and self.has_newer else None


@dataclass(frozen=True)
class FilterChoices:
    tables: tuple[str, ...]
    actions: tuple[str, ...]
    pending: int = 0


def _masked(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(MASKED_PREFIX)


def field_diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[FieldChange]:
    """Old against new, field by field, in field order.

    An insert lists every field of the new row, a delete every field of the old one; an
    update only the fields that changed (a secret whose value changed shows as masked on
    both sides, never its value), leaving out updated_at and version.
    """
    if old is None and new is None:
        return []
    if old is None or new is None:
        row = new if old is None else old
        assert row is not None
        return [
            FieldChange(
                k,
                None if old is None else v,
                v if old is None else None,
                _masked(v),
            )
            for k, v in sorted(row.items())
        ]
    out = []
    for key in sorted(set(old) | set(new)):
        if key in _BOOKKEEPING:
            continue
        before, after = old.get(key), new.get(key)
        masked = _masked(before) or _masked(after)
        if masked and after == "[masked, changed]":
            out.append(FieldChange(key, "[masked]", "[masked, changed]", True))
        elif before != after:
            out.append(FieldChange(key, before, after, masked))
    return out


_COLUMNS = """
SELECT a.id, a.seq, a.created_at, a.user_id,
       coalesce(u.email, CASE WHEN a.user_id IS NULL THEN 'system' ELSE a.user_id::text END),
       a.action, a.table_name, a.record_id, a.ip_address, a.user_agent, a.old_data,
       a.new_data, a.is_redacted, a.sealed_at IS NOT NULL
  FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id
"""


def _where(filters: AuditFilters, user_id: uuid.UUID | None) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if filters.table:
        clauses.append("a.table_name = :table")
        params["table"] = filters.table
    if filters.record_id:
        clauses.append("a.record_id = :record")
        params["record"] = filters.record_id
    if user_id is not None:
        clauses.append("a.user_id = :user")
        params["user"] = user_id
    if filters.action:
        clauses.append("a.action = :action")
        params["action"] = filters.action
        row_change = _ROW_CHANGE.match(filters.action)
        if row_change:
            # The trigger names the action after the table: the table index serves it.
            clauses.append("a.table_name = :action_table")
            params["action_table"] = row_change["table"]
        else:
            clauses.append(SERVICE_ACTION)
    if filters.since:
        clauses.append("a.created_at >= :since")
        params["since"] = datetime.combine(filters.since, time.min, UTC)
    if filters.until:
        clauses.append("a.created_at < :until")
        params["until"] = datetime.combine(filters.until + timedelta(days=1), time.min, UTC)
    return clauses, params


def _check(filters: AuditFilters) -> None:
    if filters.record_id and not filters.table:
        raise ValidationError("Choose the table the record belongs to.", field="table")
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationError("The start date is after the end date.", field="since")


def _actor_id(session: Session, email: str | None) -> tuple[uuid.UUID | None, bool]:
    """The user id of the actor filter's email; (None, True) when no one has it."""
    if not email or not email.strip():
        return None, False
    found = session.execute(
        text("SELECT id FROM users WHERE lower(email) = lower(:e)"), {"e": email.strip()}
    ).scalar()
    return found, found is None


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(*row)


def page_query(
    filters: AuditFilters,
    user_id: uuid.UUID | None,
    *,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    limit: int = 50,
) -> tuple[str, dict[str, Any], bool]:
    """The SQL of one page and its parameters, and whether it reads oldest first (a page
    before `newer_than`). Public for bench/audit.py, which EXPLAINs it."""
    clauses, params = _where(filters, user_id)
    order = "DESC"
    if older_than is not None:
        clauses.append("(a.created_at, a.seq) < (:c_at, :c_seq)")
        params |= {"c_at": older_than.created_at, "c_seq": older_than.seq}
    elif newer_than is not None:
        clauses.append("(a.created_at, a.seq) > (:c_at, :c_seq)")
        params |= {"c_at": newer_than.created_at, "c_seq": newer_than.seq}
        order = "ASC"
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"{_COLUMNS}{where} ORDER BY a.created_at {order}, a.seq {order} LIMIT :limit"
    return sql, params | {"limit": limit}, order == "ASC"


def _fetch(
    session: Session,
    filters: AuditFilters,
    user_id: uuid.UUID | None,
    *,
    older_than: Cursor | None,
    newer_than: Cursor | None,
    limit: int,
) -> list[AuditEntry]:
    sql, params, ascending = page_query(
        filters, user_id, older_than=older_than, newer_than=newer_than, limit=limit
    )
    rows = [_entry(r) for r in session.execute(text(sql), params)]
    return rows[::-1] if ascending else rows


def browse_audit_log(
    actor: Actor,
    filters: AuditFilters,
    *,
    older_than: Cursor | None = None,
    newer_than: Cursor | None = None,
    page_size: int = 50,
) -> AuditPage:
    """One page of audit entries matching `filters`, newest first: the first page, the
    page after `older_than` or the page before `newer_than` (keyset, never OFFSET).

    Raises PermissionDenied without compliance.manage, ValidationError for a record
    without its table, a start after the end, or a page size out of 1..500.
    """
    _check(filters)
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise ValidationError(f"A page holds 1 to {PAGE_SIZE_MAX} entries.", field="page_size")
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        user_id, unknown = _actor_id(uow.session, filters.actor_email)
        if unknown:
            return AuditPage((), False, False, unknown_actor=True)
        rows = _fetch(
            uow.session,
            filters,
            user_id,
            older_than=older_than,
            newer_than=newer_than,
            limit=page_size + 1,
        )
        extra = len(rows) > page_size
        if newer_than is not None:
            # Fetched oldest-first and reversed: the surplus row is the newest one.
            page = rows[-page_size:] if extra else rows
            has_newer = extra
            has_older = True
        else:
            page = rows[:page_size]
            has_older = extra
            has_newer = older_than is not None
        if not page:
            return AuditPage((), False, False)
        return AuditPage(tuple(page), has_older=has_older, has_newer=has_newer)


# A loose index scan: one index probe per distinct value, instead of reading every row.
_DISTINCT = """
WITH RECURSIVE v AS (
  (SELECT {col} AS x FROM audit_logs a WHERE {where} ORDER BY {col} LIMIT 1)
  UNION ALL
  SELECT (SELECT {col} FROM audit_logs a WHERE {where} AND {col} > v.x ORDER BY {col} LIMIT 1)
    FROM v WHERE v.x IS NOT NULL
)
SELECT x FROM v WHERE x IS NOT NULL
"""
_AUDITED_TABLES = """
SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname LIKE 'audit_trail%' AND NOT t.tgisinternal
"""


def audit_filter_choices(actor: Actor) -> FilterChoices:
    """The tables that occur in the log, the actions one can filter by and how many
    entries wait to be sealed. Actions: the services' own that occur, and insert, update
    and delete of each audited table in the log (whether or not that operation has
    happened yet: finding out would read all of the table's entries).
    Raises PermissionDenied without compliance.manage."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        tables = tuple(s.execute(text(_DISTINCT.format(col="table_name", where="true"))).scalars())
        audited = set(s.execute(text(_AUDITED_TABLES)).scalars())
        service = s.execute(text(_DISTINCT.format(col="action", where=SERVICE_ACTION))).scalars()
        row_changes = [f"{t}.{op}" for t in tables if t in audited for op in ROW_OPERATIONS]
        actions = tuple(sorted({*service, *row_changes}))
        pending = int(s.execute(text("SELECT audit_pending()")).scalar_one())
    return FilterChoices(tables, actions, pending)


EXPORT_HEADER = (
    "created_at",
    "seq",
    "actor",
    "action",
    "table",
    "record_id",
    "ip_address",
    "user_agent",
    "changes",
    "old_data",
    "new_data",
    "redacted",
    "sealed",
)


def export_audit_csv(
    actor: Actor, filters: AuditFilters, *, cap: int = EXPORT_CAP, batch: int = 2_000
) -> Iterator[str]:
    """The filtered view as CSV lines (header first), newest first, at most `cap` entries,
    read page by page (keyset) in one read-only transaction. When the cap cuts the view
    short, the last line says so.

    Raises PermissionDenied without compliance.manage, ValidationError as
    `browse_audit_log`.
    """
    _check(filters)
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        user_id, unknown = _actor_id(uow.session, filters.actor_email)
        yield csv_line(EXPORT_HEADER)
        if unknown:
            return
        cursor: Cursor | None = None
        written = 0
        while True:
            rows = _fetch(
                uow.session, filters, user_id, older_than=cursor, newer_than=None, limit=batch
            )
            for e in rows:
                if written == cap:
                    yield csv_line((f"# export stopped at {cap:,} entries; narrow the filters",))
                    return
                yield csv_line(_export_values(e))
                written += 1
            if len(rows) < batch:
                return
            cursor = rows[-1].cursor


def _export_values(e: AuditEntry) -> tuple[Any, ...]:
    changes = "; ".join(f"{c.field}: {_short(c.old)} -> {_short(c.new)}" for c in e.changes())
    return (
        e.created_at.isoformat(),
        e.seq,
        e.actor,
        e.action,
        e.table_name,
        e.record_id or "",
        e.ip_address or "",
        e.user_agent or "",
        changes,
        json.dumps(e.old_data) if e.old_data is not None else "",
        json.dumps(e.new_data) if e.new_data is not None else "",
        e.is_redacted,
        e.sealed,
    )


def _short(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
