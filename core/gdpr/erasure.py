"""Erasure: erase one person everywhere the registry says they are, prove it with a scan.

Based on the request's own export: refused when there is none, or when the person's data
changed since (the fingerprint differs). Then, in one unit of work as the admin:

1. **register** the person (gdpr_lock_subject, migration 0014): wait until every write of
   personal data in flight has committed, then hold their subject keys until the end, so
   no writer can add their data meanwhile (the database's subject guard refuses it);
2. find and lock the person's own records (every registry category, by key), discover
   them and compare the fingerprint with the export's;
3. erase each category as the registry defines it (anonymise, delete, or the SECURITY
   DEFINER functions for webhooks and API keys), scrub the logs of the person's terms,
   and overwrite the terms in every match someone decided "erase";
4. complete the request, then redact the audit trail (every step above wrote entries
   holding the old values): the registry's fields of the person's records, then every
   occurrence of their terms (`audit_redact_fields`, `audit_redact`);
5. scan every text and JSON column of every table, row by row, for the person's e-mails,
   names and phones. A hit in a cell someone decided to keep (someone else's record, with
   a reason) is allowed; any other hit rolls steps 3 to 5 back, is recorded as a match to
   review, and the erasure stops with ErasureRefused naming how many.

The scan runs while the person's subject keys are held: nothing can still write their
data. After the commit the person's export bundles are deleted. `find_matches` runs the
same steps and rolls them back, recording what the scan would find, for a review ahead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import Busy, Conflict, from_database_error
from core.gdpr.categories import REGISTRY
from core.gdpr.discovery import (
    CATEGORIES,
    OWN,
    Subject,
    Terms,
    discover,
    parameters,
    subject_of_request,
    terms_of,
)
from core.gdpr.export import export_dir
from core.gdpr.registry import Category
from core.gdpr.requests import RequestDetail, check_move, load_request, set_status
from core.gdpr.review import Decision, decisions, record_matches
from core.gdpr.scan import Cell, RowHit, scan_rows

# A checkout or refund holding one of the person's rows longer than this: Busy.
LOCK_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class ErasureResult:
    """Rows changed per data category, audit entries redacted, export files deleted, and
    the reviewed matches erased and kept."""

    counts: dict[str, int]
    audit_redacted: int
    files_deleted: int
    matches_erased: int = 0
    matches_kept: int = 0


@dataclass(frozen=True)
class MatchScan:
    """What a trial erasure's scan found outside the person's own records."""

    found: int
    new: int
    undecided: int


class ErasureRefused(Conflict):
    """The erasure cannot run (no export, data changed since, matches to review)."""

    code = "erasure_refused"


class MatchesToReview(ErasureRefused):
    """The scan found the person in records that are not theirs by the registry and no
    one has decided about yet; they are recorded for review, nothing else changed."""

    code = "matches_to_review"


@dataclass
class _Outcome:
    counts: dict[str, int] = field(default_factory=dict)
    audit_redacted: int = 0
    erased_cells: int = 0
    kept: int = 0
    undecided: list[RowHit] = field(default_factory=list)
    # Cells decided "erase" that still hold the person (the admin may not change them).
    stuck: list[RowHit] = field(default_factory=list)


def _erasable(request: RequestDetail) -> None:
    if request.summary.request_type != "erasure":
        raise Conflict("Only an erasure request erases data.")
    check_move(request, "completed")


def _register(session: Session, subject: Subject) -> None:
    """Take the person's subject keys (see the module docstring), or raise Busy."""
    try:
        session.execute(
            text("SELECT gdpr_lock_subject(CAST(:u AS uuid), CAST(:e AS text[]))"),
            {"u": subject.user_id, "e": list(subject.emails)},
        )
    except DBAPIError as exc:
        translated = from_database_error(exc)
        if getattr(exc.orig, "sqlstate", None) == "55P03":
            raise Busy(
                "Other changes to personal data are being saved right now; run the erasure"
                " again in a moment."
            ) from exc
        if translated is not None:
            raise translated from exc
        raise


def _resolve(session: Session, subject: Subject, *, lock: bool) -> dict[str, list[str]]:
    """The keys of the person's own rows per category (locked when `lock`): found before
    anything changes, since erasing a row changes what finds it (an e-mail, a link). One
    statement, a CTE per category."""
    chosen = [c for c in CATEGORIES if not c.log and c.key_column is not None]
    # Only rows the erasure changes are locked (and may be: payments are never updated).
    parts = [
        f"k{i}(k) AS ({REGISTRY.keys_sql(c, lock=lock and c.action in ('anonymise', 'delete'))})"
        for i, c in enumerate(chosen)
    ]
    arrays = ", ".join(f"ARRAY(SELECT k::text FROM k{i})" for i in range(len(chosen)))
    row = session.execute(
        text(f"WITH {', '.join(parts)} SELECT {arrays}"), parameters(subject)
    ).one()
    return {c.key: list(ids) for c, ids in zip(chosen, row, strict=True)}


def _erase_category(
    session: Session, category: Category, subject: Subject, ids: list[str], terms: Terms
) -> int:
    params = {**parameters(subject), "terms": terms.redacted, "ids": ids}
    if category.action == "none":
        return 0
    if category.action == "function":
        assert category.erase_sql is not None
        return int(session.execute(text(category.erase_sql), params).scalar_one() or 0)
    if category.action == "scrub":
        statement = category.erase_statement(category.scrub_where())
    elif category.key_column is None:
        statement = category.erase_statement(category.where(alias=category.table))
    elif not ids:
        return 0
    else:
        # Keys are uuid ids (the registry test checks): compared as such, the index serves.
        statement = category.erase_statement(f"{category.key_column} = ANY(CAST(:ids AS uuid[]))")
    return session.execute(text(statement), params).rowcount


def _apply(
    session: Session,
    actor: Actor,
    request: RequestDetail,
    subject: Subject,
    keys: dict[str, list[str]],
    terms: Terms,
    decided: dict[Cell, Decision],
) -> _Outcome:
    """Steps 3 to 5 of the module docstring, in the caller's transaction."""
    out = _Outcome()
    # The account last: it is what the other categories' rows were linked to.
    ordered = sorted(
        (c for c in CATEGORIES if c.action != "audit"), key=lambda c: c.table == "users"
    )
    for category in ordered:
        changed = _erase_category(session, category, subject, keys.get(category.key, []), terms)
        if changed:
            out.counts[category.key] = changed
    erase_cells = [cell for cell, d in decided.items() if d.decision == "erase"]
    for cell in erase_cells:
        out.erased_cells += session.execute(
            text("SELECT gdpr_erase_cell(:t, :k, :c, CAST(:terms AS text[]))"),
            {"t": cell.table, "k": cell.key, "c": cell.column, "terms": terms.redacted},
        ).scalar_one()
    set_status(session, actor, request, "completed", outcome={"erased": out.counts})
    out.audit_redacted = _redact_audit(session, keys, erase_cells, terms)
    hits = scan_rows(session, terms.scanned, terms.kinds)
    for hit in hits:
        decision = decided.get(hit.cell)
        if decision is None:
            out.undecided.append(hit)
        elif decision.decision == "keep":
            out.kept += 1
        else:
            out.stuck.append(hit)
    return out


def _redact_audit(
    session: Session, keys: dict[str, list[str]], cells: list[Cell], terms: Terms
) -> int:
    """Overwrite the person in audit payloads: the registry's personal fields in the
    entries of their own records and the erased cells' columns in those records' entries
    (one statement), then every occurrence of their terms anywhere (audit_redact). Last,
    because every change before wrote entries holding the old values."""
    spec = [
        {"t": c.table, "ids": keys[c.key], "f": list(c.audit_fields)}
        for c in CATEGORIES
        if not c.log and c.audit_fields and keys.get(c.key)
    ] + [{"t": cell.table, "ids": [cell.key], "f": [cell.column]} for cell in cells]
    redacted = session.execute(
        text(
            "SELECT coalesce(sum(audit_redact_fields(e ->> 't',"
            " ARRAY(SELECT jsonb_array_elements_text(e -> 'ids')),"
            " ARRAY(SELECT jsonb_array_elements_text(e -> 'f')))), 0)"
            " FROM jsonb_array_elements(:spec) e"
        ),
        {"spec": Jsonb(spec)},
    ).scalar_one()
    return (
        int(redacted)
        + session.execute(
            text("SELECT audit_redact(CAST(:t AS text[]))"), {"t": terms.redacted}
        ).scalar_one()
    )


def _stuck(hits: list[RowHit]) -> ErasureRefused:
    where = ", ".join(f"{h.cell.table}.{h.cell.column} ({h.cell.key})" for h in hits[:5])
    return ErasureRefused(
        f"Erasure stopped and nothing was erased: {len(hits)} match(es) decided 'erase'"
        f" still hold the person's data ({where}); you may not be allowed to change those"
        " records. Ask someone who may, or decide again."
    )


def _refused_for(hits: list[RowHit], new: int) -> MatchesToReview:
    places: dict[str, int] = {}
    for hit in hits:
        where = f"{hit.cell.table}.{hit.cell.column}"
        places[where] = places.get(where, 0) + 1
    listed = ", ".join(f"{w} ({n})" for w, n in sorted(places.items())[:8])
    return MatchesToReview(
        "Erasure stopped and nothing was erased: the scan found the person's e-mail, name"
        f" or phone in {len(hits)} place(s) outside their own records ({new} new): {listed}."
        " They are listed under Matches: decide for each whether it is theirs (erase) or"
        " someone else's (keep, with the reason), then complete the erasure."
    )


def erase(actor: Actor, request_id: uuid.UUID) -> ErasureResult:
    """Erase the person of an erasure request being processed, and complete the request.

    Raises ErasureRefused (a Conflict) when the request has no export or the person's data
    changed since; MatchesToReview (an ErasureRefused) when the scan finds the person in
    records no one has decided about yet (they are recorded as matches; nothing else
    changes); Busy when other writes of personal data, or another erasure of the person,
    hold them longer than 10 s; Conflict when the request is not an erasure being
    processed.
    """
    with unit_of_work(actor, lock_timeout_ms=LOCK_TIMEOUT_MS) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        request = load_request(s, request_id, lock=True)
        _erasable(request)
        if not request.export_fingerprint or request.exported_at is None:
            raise ErasureRefused(
                "Export the person's data first: the erasure is based on that export."
            )
        subject = subject_of_request(s, request_id)
        _register(s, subject)
        keys = _resolve(s, subject, lock=True)
        found = discover(s, subject, only=OWN)
        if found.fingerprint != request.export_fingerprint:
            raise ErasureRefused(
                "The person's data changed after the export of"
                f" {request.exported_at:%Y-%m-%d %H:%M} UTC; export again and review it"
                " before erasing."
            )
        terms = terms_of(s, found)
        files = _export_files(s, subject)
        decided = decisions(s, request_id)
        trial = s.begin_nested()
        outcome = _apply(s, actor, request, subject, keys, terms, decided)
        if outcome.stuck:
            raise _stuck(outcome.stuck)
        if outcome.undecided:
            trial.rollback()
            new = record_matches(s, request_id, outcome.undecided)
            uow.commit()
            raise _refused_for(outcome.undecided, new)
        trial.commit()
        matches = {"erased": outcome.erased_cells, "kept": outcome.kept}
        s.execute(
            text("UPDATE data_subject_requests SET outcome = outcome || :o WHERE id = :id"),
            {"o": Jsonb({"audit_redacted": outcome.audit_redacted, "matches": matches}),
             "id": request_id},
        )  # fmt: skip
        uow.commit()
    deleted = 0
    for name in files:
        path = export_dir() / name
        if path.is_file():
            path.unlink()
            deleted += 1
    return ErasureResult(
        counts=outcome.counts,
        audit_redacted=outcome.audit_redacted,
        files_deleted=deleted,
        matches_erased=outcome.erased_cells,
        matches_kept=outcome.kept,
    )


def find_matches(actor: Actor, request_id: uuid.UUID) -> MatchScan:
    """Run the erasure and roll it back, recording what its scan finds outside the
    person's own records as matches to review (undecided ones it no longer finds go).
    Needs no export; changes nothing else. Raises Conflict when the request is not an
    erasure being processed, PermissionDenied."""
    with unit_of_work(actor, lock_timeout_ms=LOCK_TIMEOUT_MS) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        request = load_request(s, request_id, lock=True)
        _erasable(request)
        subject = subject_of_request(s, request_id)
        keys = _resolve(s, subject, lock=False)
        found = discover(s, subject, only=OWN)
        terms = terms_of(s, found)
        decided = decisions(s, request_id)
        trial = s.begin_nested()
        outcome = _apply(s, actor, request, subject, keys, terms, decided)
        trial.rollback()
        new = record_matches(s, request_id, [*outcome.undecided, *outcome.stuck])
        uow.commit()
    return MatchScan(
        found=len(outcome.undecided) + outcome.kept, new=new, undecided=len(outcome.undecided)
    )


def _export_files(session: Session, subject: Subject) -> list[str]:
    rows = session.execute(
        text(
            "SELECT export_file FROM data_subject_requests WHERE export_file IS NOT NULL"
            " AND (user_id = CAST(:u AS uuid) OR lower(subject_email) = ANY(CAST(:e AS text[])))"
        ),
        {"u": subject.user_id, "e": list(subject.emails)},
    ).scalars()
    return [r for r in rows if "/" not in r and "\\" not in r]
