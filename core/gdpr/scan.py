"""The verification scan: which columns of which tables still hold any of some terms.

`scan` counts per table and column (gdpr_scan, migration 0006); `scan_rows` names the
rows (gdpr_scan_rows, migration 0014), which the erasure needs to tell a trace in someone
else's record, reviewed and kept, from one that must not be there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

_PARTITION = re.compile(r"_(p\d{6}|default)$")


@dataclass(frozen=True)
class ScanHit:
    table: str  # the parent of a partition (audit_logs for audit_logs_p202612)
    partition: str  # the table or partition scanned
    column: str
    rows: int


@dataclass(frozen=True)
class Cell:
    """One column of one row: (table, key as gdpr_scan_rows gives it, column)."""

    table: str
    key: str
    column: str


@dataclass(frozen=True)
class RowHit:
    cell: Cell
    kinds: tuple[str, ...]  # which kinds of term it holds: email, name, phone


def scan(session: Session, terms: list[str]) -> list[ScanHit]:
    """Search every text, varchar, json, jsonb and text-array column of every table in the
    schema (partitions and materialized views included; case-insensitive; JSON-escaped
    forms too) in the caller's transaction; terms shorter than three characters are
    ignored."""
    rows = session.execute(
        text("SELECT table_name, column_name, hits FROM gdpr_scan(CAST(:t AS text[]))"),
        {"t": terms},
    ).all()
    return [ScanHit(_PARTITION.sub("", t), t, c, int(n)) for t, c, n in rows]


def scan_rows(session: Session, terms: list[str], kinds: list[str]) -> list[RowHit]:
    """The same search, one hit per row and column, with the kinds of term found there
    (`kinds[i]` is the kind of `terms[i]`)."""
    rows = session.execute(
        text(
            "SELECT table_name, record_key, column_name, kinds"
            " FROM gdpr_scan_rows(CAST(:t AS text[]), CAST(:k AS text[]))"
        ),
        {"t": terms, "k": kinds},
    ).all()
    return [
        RowHit(Cell(table, key, column), tuple(sorted((found or "").split(","))))
        for table, key, column, found in rows
    ]
