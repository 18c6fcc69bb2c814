"""Discovery: every record of one person, by category, and what identifies them.

A person is known by their account (when there is one) and their e-mail addresses. Every
category of the registry (core/gdpr/categories.py) that finds people is one query
returning JSON rows: the person's own data (account, profile, orders, ...) by account or
e-mail, and the logs that may mention them (audit entries, webhook deliveries, domain
events, background jobs) by their e-mails or account id.

The **fingerprint** is a SHA-256 of the person's own data (the fingerprinted categories;
the logs and requests are left out, since working the request writes to them). An erasure
runs only while the fingerprint equals the one taken at export.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import NotFound
from core.gdpr.categories import REGISTRY
from core.gdpr.registry import ERASED_DOMAIN, ERASED_NAME, Category, Kind

MIN_FREE_TEXT = 8
MIN_PHONE_DIGITS = 6
MIN_NAME = 3

CATEGORIES: tuple[Category, ...] = tuple(c for c in REGISTRY.categories if c.find is not None)
TITLES = {c.key: c.title for c in CATEGORIES}
FINGERPRINTED = tuple(c.key for c in CATEGORIES if c.fingerprinted)
# The person's own records (not the logs): what an erasure finds by key. Their terms are
# read from the fingerprinted ones only: a request's notes or a reviewer's reason are
# about the person, not theirs to search everyone's records for.
OWN = tuple(c.key for c in CATEGORIES if not c.log)
_TERM_SOURCES = tuple(c for c in CATEGORIES if c.fingerprinted)


@dataclass(frozen=True)
class Subject:
    """Whom a request is about: the account (if any) and the addresses given."""

    user_id: uuid.UUID | None
    emails: tuple[str, ...]


@dataclass
class Discovery:
    subject: Subject
    categories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.categories.items()}

    @property
    def fingerprint(self) -> str:
        return fingerprint(self)


@dataclass(frozen=True)
class Terms:
    """What identifies the person: scanned for after an erasure (emails, names, phones);
    free text is also overwritten in audit payloads but not scanned for."""

    emails: tuple[str, ...]
    names: tuple[str, ...]
    phones: tuple[str, ...]
    free_text: tuple[str, ...]

    @property
    def scanned(self) -> list[str]:
        return [*self.emails, *self.names, *self.phones]

    @property
    def kinds(self) -> list[str]:
        """The kind of each scanned term, in the same order."""
        return [
            *(Kind.EMAIL for _ in self.emails),
            *(Kind.NAME for _ in self.names),
            *(Kind.PHONE for _ in self.phones),
        ]

    @property
    def redacted(self) -> list[str]:
        return [*self.scanned, *self.free_text]


def parameters(subject: Subject) -> dict[str, Any]:
    """The parameters every category's SQL reads: the account, the e-mails, and the terms
    looked for in logs (the e-mails and the account id)."""
    terms = [*subject.emails, *([str(subject.user_id)] if subject.user_id else [])]
    # No terms: gdpr_like_patterns is NULL, which matches nothing.
    return {"u": subject.user_id, "emails": list(subject.emails), "terms": terms}


def subject_of_request(session: Session, request_id: uuid.UUID) -> Subject:
    """The request's person: its account and the lower-case emails (request and account)."""
    row = session.execute(
        text(
            "SELECT r.user_id, lower(r.subject_email), lower(u.email)"
            " FROM data_subject_requests r LEFT JOIN users u ON u.id = r.user_id"
            " WHERE r.id = :id"
        ),
        {"id": request_id},
    ).one()
    emails = tuple(sorted({e for e in row[1:] if e and not e.endswith("@" + ERASED_DOMAIN)}))
    return Subject(user_id=row[0], emails=emails)


def discover(
    session: Session,
    subject: Subject,
    *,
    only: Iterable[str] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Discovery:
    """Run every category's query (or those in `only`) in the caller's transaction."""
    params = parameters(subject)
    wanted = set(only) if only is not None else None
    chosen = [c for c in CATEGORIES if wanted is None or c.key in wanted]
    found = Discovery(subject)
    if progress is None:
        # One round trip for every category that has no row limit (the erasure's case).
        batch = [c for c in chosen if c.limit is None]
        if batch:
            arrays = ", ".join(REGISTRY.aggregate_sql(c) for c in batch)
            row = session.execute(text(f"SELECT {arrays}"), params).one()
            found.categories.update({c.key: list(rows) for c, rows in zip(batch, row, strict=True)})
    for index, category in enumerate(chosen):
        if progress is not None:
            progress(index, len(chosen), category.title)
        elif category.key in found.categories:
            continue
        rows = session.execute(text(REGISTRY.discovery_sql(category)), params).scalars()
        found.categories[category.key] = [dict(r) for r in rows]
    found.categories = {c.key: found.categories[c.key] for c in chosen}
    return found


def fingerprint(found: Discovery) -> str:
    """SHA-256 of the person's own data (fingerprinted categories), canonical JSON."""
    data = {name: found.categories.get(name, []) for name in FINGERPRINTED}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


_STREET_KEYS = re.compile(r"street|line|address", re.I)


def _address_lines(address: Any) -> list[str]:
    if not isinstance(address, dict):
        return []
    return [v for k, v in address.items() if _STREET_KEYS.search(k) and isinstance(v, str)]


def _row_terms(category: Category, row: dict[str, Any]) -> dict[str, set[str]]:
    """The terms one row of the person's own data contributes, by the kinds of its fields."""
    out: dict[str, set[str]] = {Kind.EMAIL: set(), Kind.NAME: set(), Kind.PHONE: set(), "": set()}
    parts = []
    for f in category.fields:
        value = row.get(f.column)
        if f.kind == Kind.EMAIL:
            out[Kind.EMAIL].add(_text(value).lower())
        elif f.kind in (Kind.NAME, Kind.PHONE):
            out[f.kind].add(_text(value))
        elif f.kind == Kind.NAME_PART:
            parts.append(_text(value))
        elif f.kind == Kind.TEXT:
            out[""].add(_text(value))
        elif f.kind == Kind.ADDRESS:
            out[""].update(_address_lines(value))
    if len([p for p in parts if p]) >= 2:
        out[Kind.NAME].add(" ".join(p for p in parts if p))
    return out


def identifying_terms(found: Discovery, other_accounts: Iterable[str] = ()) -> Terms:
    """The person's e-mails, names, phone numbers and personal free text, read from the
    fields of their own (fingerprinted) records. A record billed to `other_accounts`
    (e-mails of other people's accounts: an order placed for a friend) contributes
    nothing: its name and number are the friend's."""
    others = {e.lower() for e in other_accounts}
    emails = set(found.subject.emails)
    names: set[str] = set()
    phones: set[str] = set()
    free: set[str] = set()
    for category in _TERM_SOURCES:
        for row in found.categories.get(category.key, []):
            terms = _row_terms(category, row)
            if terms[Kind.EMAIL] & others:
                continue
            emails |= terms[Kind.EMAIL]
            names |= terms[Kind.NAME]
            phones |= terms[Kind.PHONE]
            free |= terms[""]
    erased = {ERASED_NAME.lower(), "erased designer", "erased model"}
    return Terms(
        emails=_keep(e for e in emails if e and not e.endswith("@" + ERASED_DOMAIN)),
        names=_keep(
            n for n in names if n.strip().lower() not in erased and len(n.strip()) >= MIN_NAME
        ),
        phones=_keep(p for p in phones if sum(ch.isdigit() for ch in p) >= MIN_PHONE_DIGITS),
        free_text=_keep(t for t in free if len(t.strip()) >= MIN_FREE_TEXT),
    )


def _keep(values: Any) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v and v.strip()}))


def other_accounts(session: Session, user_id: uuid.UUID | None, emails: Iterable[str]) -> set[str]:
    """Which of `emails` belong to accounts other than `user_id`."""
    return set(
        session.execute(
            text(
                "SELECT lower(email) FROM users WHERE lower(email) = ANY(CAST(:e AS text[]))"
                " AND id IS DISTINCT FROM CAST(:u AS uuid)"
            ),
            {"e": sorted({e.lower() for e in emails if e}), "u": user_id},
        ).scalars()
    )


def terms_of(session: Session, found: Discovery) -> Terms:
    """identifying_terms of `found`, less the e-mails of other people's accounts."""
    candidates = {
        e
        for c in _TERM_SOURCES
        for row in found.categories.get(c.key, [])
        for e in _row_terms(c, row)[Kind.EMAIL]
    }
    return identifying_terms(found, other_accounts(session, found.subject.user_id, candidates))


def discover_request(actor: Actor, request_id: uuid.UUID) -> Discovery:
    """Everything held about the person of a request, by category (read-only).

    Raises PermissionDenied without compliance.manage, NotFound for an unknown request.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        exists = uow.session.execute(
            text("SELECT 1 FROM data_subject_requests WHERE id = :id"), {"id": request_id}
        ).first()
        if exists is None:
            raise NotFound("No such data-subject request.")
        return discover(uow.session, subject_of_request(uow.session, request_id))
