"""The verification scan: which columns of which tables still hold any of some terms."""

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
