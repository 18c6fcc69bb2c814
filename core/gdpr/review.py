"""The review of an erasure's scan matches: the person's e-mail, name or phone found in a
record that is not theirs by the registry (someone else's order with the same number, a
namesake, an event text that mentions them).

Each match is one cell (table, row key, column) with the kinds of term found, stored in
`data_subject_request_matches` without the value. A person decides each: **erase** (it is
the subject's after all: the erasure overwrites the terms in that cell) or **keep** with
the reason (it is someone else's: the cell keeps its value, and the erasure's proof
excludes exactly that cell). Decisions carry who made them and when; the audit trail
records every change. An erasure completes once every match it still finds is decided;
the matches themselves are found by `core.gdpr.erasure` (the scan of a rolled-back erasure,
or of the real one, which then stops).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import Conflict, NotFound, ValidationError
from core.gdpr.categories import REGISTRY
from core.gdpr.requests import load_request
from core.gdpr.scan import Cell, RowHit

DECISIONS = ("erase", "keep")
MAX_REASON = 500
EXCERPT = 160


@dataclass(frozen=True)
class Decision:
    decision: str
    reason: str | None


@dataclass(frozen=True)
class MatchView:
    """One match as the Data requests page lists it: the record it is in (described from
    the row as it is now), the column, what kind of term was found, the decision."""

    match_id: uuid.UUID
    cell: Cell
    matched: tuple[str, ...]
    record: str
    value: str
    found_at: datetime
    decision: str | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None


def decisions(session: Session, request_id: uuid.UUID) -> dict[Cell, Decision]:
    """The decided matches of a request, by cell."""
    rows = session.execute(
        text(
            "SELECT table_name, record_key, column_name, decision, reason"
            " FROM data_subject_request_matches WHERE request_id = :r AND decision IS NOT NULL"
        ),
        {"r": request_id},
    ).all()
    return {Cell(t, k, c): Decision(d, r) for t, k, c, d, r in rows}


def record_matches(session: Session, request_id: uuid.UUID, hits: Iterable[RowHit]) -> int:
    """Make the request's undecided matches what a scan found: new cells are added
    undecided, undecided cells it no longer finds are dropped (decided ones stay, with
    their decision). Returns how many cells are new."""
    found = {hit.cell: ",".join(hit.kinds) for hit in hits}
    rows = session.execute(
        text(
            "SELECT id, table_name, record_key, column_name, decision"
            " FROM data_subject_request_matches WHERE request_id = :r"
        ),
        {"r": request_id},
    ).all()
    known = {Cell(t, k, c): (i, d) for i, t, k, c, d in rows}
    gone = [i for cell, (i, d) in known.items() if d is None and cell not in found]
    if gone:
        session.execute(
            text("DELETE FROM data_subject_request_matches WHERE id = ANY(:ids)"), {"ids": gone}
        )
    new = [(cell, kinds) for cell, kinds in found.items() if cell not in known]
    for cell, kinds in new:
        session.execute(
            text(
                "INSERT INTO data_subject_request_matches"
                " (request_id, table_name, record_key, column_name, matched)"
                " VALUES (:r, :t, :k, :c, :m)"
            ),
            {"r": request_id, "t": cell.table, "k": cell.key, "c": cell.column, "m": kinds},
        )
    return len(new)


def _excerpt(value: Any) -> str:
    shown = value if isinstance(value, str) else "" if value is None else str(value)
    return shown if len(shown) <= EXCERPT else shown[: EXCERPT - 1] + "…"


def list_matches(actor: Actor, request_id: uuid.UUID) -> list[MatchView]:
    """The request's matches, undecided first, each with the record it is in as it is now
    (the admin's own row-level security applies). Raises NotFound, PermissionDenied."""
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        load_request(s, request_id)
        rows = s.execute(
            text(
                "SELECT m.id, m.table_name, m.record_key, m.column_name, m.matched,"
                " m.found_at, m.decision, m.reason, u.full_name, m.decided_at"
                " FROM data_subject_request_matches m LEFT JOIN users u ON u.id = m.decided_by"
                " WHERE m.request_id = :r"
                " ORDER BY m.decision IS NOT NULL, m.table_name, m.column_name, m.record_key"
            ),
            {"r": request_id},
        ).all()
        records: dict[tuple[str, str], dict[str, Any] | None] = {}
        for table in sorted({r[1] for r in rows}):
            keys = sorted({r[2] for r in rows if r[1] == table})
            found = s.execute(
                text("SELECT k, gdpr_row(:t, k) FROM unnest(CAST(:keys AS text[])) k"),
                {"t": table, "keys": keys},
            ).all()
            records.update({(table, k): row for k, row in found})
    views = []
    for match_id, table, key, column, matched, found_at, decision, reason, by, at in rows:
        row = records.get((table, key))
        views.append(
            MatchView(
                match_id,
                Cell(table, key, column),
                tuple(matched.split(",")),
                REGISTRY.label(table, row, key),
                _excerpt(row.get(column)) if row else "",
                found_at,
                decision,
                reason,
                by,
                at,
            )
        )
    return views


def decide_matches(
    actor: Actor,
    request_id: uuid.UUID,
    match_ids: Sequence[uuid.UUID],
    decision: str,
    reason: str | None = None,
) -> int:
    """Record `decision` ('erase': the subject's after all; 'keep': someone else's, with
    `reason`) for matches of an erasure request being processed; returns how many.

    Raises ValidationError (no match chosen, an unknown decision, keep without a reason,
    a reason over 500 characters), NotFound (a match not of this request), Conflict (the
    request is not an erasure being processed), PermissionDenied.
    """
    if decision not in DECISIONS:
        raise ValidationError("decision must be erase or keep", field="decision")
    cleaned = (reason or "").strip() or None
    if decision == "keep" and not cleaned:
        raise ValidationError(
            "keeping a match needs the reason (whose record it is)", field="reason"
        )
    if cleaned and len(cleaned) > MAX_REASON:
        raise ValidationError(f"reason must be at most {MAX_REASON} characters", field="reason")
    ids = sorted(set(match_ids))
    if not ids:
        raise ValidationError("choose at least one match", field="match_ids")
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        request = load_request(s, request_id, lock=True)
        if request.summary.request_type != "erasure" or request.summary.status != "processing":
            raise Conflict("Matches are decided while an erasure request is being processed.")
        changed = s.execute(
            text(
                "UPDATE data_subject_request_matches SET decision = :d, reason = :reason,"
                " decided_by = :by, decided_at = now()"
                " WHERE request_id = :r AND id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"d": decision, "reason": cleaned, "by": actor.user_id, "r": request_id, "ids": ids},
        ).rowcount
        if changed != len(ids):
            raise NotFound("A chosen match is not one of this request's.", field="match_ids")
        uow.commit()
    return changed
