"""Discovery: every record of one person, by category, and what identifies them.

A person is known by their account (when there is one) and their email addresses. Each
category is one query returning JSON rows; the queries cover the account, profile, roles,
orders with billing details, items, payments and refunds, engagement, segment membership,
promo-code usage, designer and model profiles, sponsor and venue contacts, talks they
give, their webhooks and API keys (through SECURITY DEFINER functions: row-level security
shows those only to their owner), and the logs that may mention them: audit entries,
webhook deliveries, domain events, background jobs, email campaigns they send, and
data-subject requests.

The **fingerprint** is a SHA-256 of the person's own data (the categories in
FINGERPRINTED; the logs are left out, since processing the request itself writes to them).
An erasure runs only while the fingerprint equals the one taken at export.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import NotFound

# Values the erasure writes; never taken for the person's own.
ERASED_NAME = "Erased person"
ERASED_DOMAIN = "erased.invalid"
MIN_FREE_TEXT = 8
MIN_PHONE_DIGITS = 6
AUDIT_LIMIT = 10000

_ORDERS = (
    "SELECT o.id FROM orders o WHERE o.user_id = CAST(:u AS uuid)"
    " OR lower(o.billing_email) = ANY(CAST(:emails AS text[]))"
)
_LIKES = "gdpr_like_patterns(CAST(:terms AS text[]))"

# (category, title, query returning one jsonb per row). Parameters: :u (account id or
# NULL), :emails (lower-case), :terms (emails and the account id, looked for in free-form payloads).
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    (
        "account",
        "Account",
        "SELECT to_jsonb(u) - 'password_hash' - 'reset_token' FROM users u"
        " WHERE u.id = CAST(:u AS uuid)",
    ),
    (
        "profile",
        "Profile",
        "SELECT to_jsonb(p) - 'encrypted_payment_info'"
        " || jsonb_build_object('has_payment_info', p.encrypted_payment_info IS NOT NULL)"
        " FROM user_profiles p WHERE p.user_id = CAST(:u AS uuid) ORDER BY p.id",
    ),
    (
        "roles",
        "Roles",
        "SELECT jsonb_build_object('role', r.name, 'granted_at', ur.created_at)"
        " FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
        " WHERE ur.user_id = CAST(:u AS uuid) ORDER BY r.name",
    ),
    (
        "orders",
        "Orders and billing details",
        "SELECT to_jsonb(o) - 'encrypted_payment_details'"
        " || jsonb_build_object('has_payment_details', o.encrypted_payment_details IS NOT NULL)"
        f" FROM orders o WHERE o.id IN ({_ORDERS}) ORDER BY o.created_at, o.id",
    ),
    (
        "order_items",
        "Order items",
        f"SELECT to_jsonb(i) FROM order_items i WHERE i.order_id IN ({_ORDERS})"
        " ORDER BY i.order_id, i.id",
    ),
    (
        "payments",
        "Payments",
        f"SELECT to_jsonb(p) FROM order_payments p WHERE p.order_id IN ({_ORDERS})"
        " ORDER BY p.created_at, p.id",
    ),
    (
        "refunds",
        "Refunds",
        f"SELECT to_jsonb(r) FROM order_refunds r WHERE r.order_id IN ({_ORDERS})"
        " ORDER BY r.created_at, r.id",
    ),
    (
        "engagement",
        "Engagement",
        "SELECT to_jsonb(e) FROM user_engagement e WHERE e.user_id = CAST(:u AS uuid)"
        " ORDER BY e.occurred_at, e.id",
    ),
    (
        "segments",
        "Marketing segments",
        "SELECT jsonb_build_object('segment_id', s.id, 'segment', s.name,"
        " 'added_at', m.added_at) FROM segment_members m"
        " JOIN marketing_segments s ON s.id = m.segment_id"
        " WHERE m.user_id = CAST(:u AS uuid) ORDER BY s.name, s.id",
    ),
    (
        "promo_usage",
        "Promotional code usage",
        "SELECT to_jsonb(x) || jsonb_build_object('code', c.code)"
        " FROM promotional_code_usage x JOIN promotional_codes c ON c.id = x.code_id"
        f" WHERE x.user_id = CAST(:u AS uuid) OR x.order_id IN ({_ORDERS})"
        " ORDER BY x.used_at, x.id",
    ),
    (
        "designer_profiles",
        "Designer profiles",
        "SELECT to_jsonb(d) FROM designers d WHERE d.user_id = CAST(:u AS uuid)"
        " OR lower(d.contact_email) = ANY(CAST(:emails AS text[])) ORDER BY d.id",
    ),
    (
        "model_profiles",
        "Model profiles",
        "SELECT to_jsonb(m) FROM models m WHERE m.user_id = CAST(:u AS uuid) ORDER BY m.id",
    ),
    (
        "sponsor_contacts",
        "Sponsor contacts",
        "SELECT jsonb_build_object('sponsor_id', s.id, 'sponsor', s.name,"
        " 'contact_name', s.contact_name, 'contact_email', s.contact_email,"
        " 'contact_phone', s.contact_phone, 'linked_account', s.user_id = CAST(:u AS uuid))"
        " FROM sponsors s WHERE s.user_id = CAST(:u AS uuid)"
        " OR lower(s.contact_email) = ANY(CAST(:emails AS text[])) ORDER BY s.id",
    ),
    (
        "venue_contacts",
        "Venue contacts",
        "SELECT jsonb_build_object('venue_id', v.id, 'venue', v.name,"
        " 'contact_name', v.contact_name, 'contact_email', v.contact_email,"
        " 'contact_phone', v.contact_phone) FROM venues v"
        " WHERE lower(v.contact_email) = ANY(CAST(:emails AS text[])) ORDER BY v.id",
    ),
    (
        "speaker_sessions",
        "Agenda items they speak at",
        "SELECT jsonb_build_object('schedule_id', s.id, 'event_id', s.event_id,"
        " 'title', s.title, 'start_time', s.start_time) FROM event_schedules s"
        " WHERE s.speaker_id = CAST(:u AS uuid) ORDER BY s.start_time, s.id",
    ),
    (
        "webhooks",
        "Webhooks",
        "SELECT to_jsonb(w) FROM gdpr_subject_webhooks(CAST(:u AS uuid)) w ORDER BY w.id",
    ),
    (
        "api_keys",
        "API keys",
        "SELECT to_jsonb(k) FROM gdpr_subject_api_keys(CAST(:u AS uuid)) k ORDER BY k.id",
    ),
    (
        "data_requests",
        "Data-subject requests",
        "SELECT jsonb_build_object('request_id', r.id, 'type', r.request_type,"
        " 'status', r.status, 'submitted_at', r.submitted_at, 'due_at', r.due_at,"
        " 'completed_at', r.completed_at) FROM data_subject_requests r"
        " WHERE r.user_id = CAST(:u AS uuid)"
        " OR lower(r.subject_email) = ANY(CAST(:emails AS text[])) ORDER BY r.submitted_at",
    ),
    (
        "audit_entries",
        "Audit log entries",
        "SELECT jsonb_build_object('id', a.id, 'created_at', a.created_at, 'action', a.action,"
        " 'table', a.table_name, 'record_id', a.record_id, 'by_them', a.user_id ="
        " CAST(:u AS uuid), 'old', a.old_data, 'new', a.new_data) FROM audit_logs a"
        " WHERE a.user_id = CAST(:u AS uuid) OR a.record_id = CAST(:u AS text)"
        f" OR lower(a.old_data::text) LIKE ANY ({_LIKES})"
        f" OR lower(a.new_data::text) LIKE ANY ({_LIKES})"
        f" ORDER BY a.created_at, a.id LIMIT {AUDIT_LIMIT}",
    ),
    (
        "webhook_deliveries",
        "Webhook deliveries",
        "SELECT jsonb_build_object('id', d.id, 'created_at', d.created_at, 'event_type',"
        " d.event_type, 'status', d.status, 'payload', d.payload) FROM webhook_delivery_logs d"
        " WHERE d.webhook_id IN (SELECT id FROM gdpr_subject_webhooks(CAST(:u AS uuid)))"
        f" OR lower(d.payload::text) LIKE ANY ({_LIKES})"
        f" OR lower(d.response_body::text) LIKE ANY ({_LIKES})"
        f" OR lower(d.error_message::text) LIKE ANY ({_LIKES}) ORDER BY d.created_at, d.id",
    ),
    (
        "domain_events",
        "Domain events",
        "SELECT jsonb_build_object('id', e.id, 'occurred_at', e.occurred_at, 'event_type',"
        " e.event_type, 'aggregate_type', e.aggregate_type, 'aggregate_id', e.aggregate_id,"
        " 'data', e.event_data, 'metadata', e.metadata) FROM domain_events e"
        " WHERE e.aggregate_id = CAST(:u AS text)"
        f" OR lower(e.event_data::text) LIKE ANY ({_LIKES})"
        f" OR lower(e.metadata::text) LIKE ANY ({_LIKES})"
        " ORDER BY e.occurred_at, e.id",
    ),
    (
        "background_jobs",
        "Background jobs",
        "SELECT jsonb_build_object('id', j.id, 'job_type', j.job_type, 'status', j.status,"
        " 'created_at', j.created_at, 'payload', j.payload) FROM background_jobs j"
        " WHERE j.created_by = CAST(:u AS uuid)"
        f" OR lower(j.payload::text) LIKE ANY ({_LIKES})"
        f" OR lower(j.result::text) LIKE ANY ({_LIKES})"
        f" OR lower(j.error::text) LIKE ANY ({_LIKES})"
        f" OR lower(j.progress_message::text) LIKE ANY ({_LIKES})"
        " ORDER BY j.created_at, j.id",
    ),
    (
        "email_campaigns",
        "Email campaigns they send",
        "SELECT jsonb_build_object('campaign_id', c.id, 'subject', c.subject,"
        " 'sender_name', c.sender_name, 'sender_email', c.sender_email) FROM email_campaigns c"
        " WHERE lower(c.sender_email) = ANY(CAST(:emails AS text[])) ORDER BY c.id",
    ),
)
TITLES = {name: title for name, title, _ in CATEGORIES}
# The person's own data; logs and requests change while the request itself is worked.
FINGERPRINTED = (
    "account",
    "profile",
    "roles",
    "orders",
    "order_items",
    "payments",
    "refunds",
    "engagement",
    "segments",
    "promo_usage",
    "designer_profiles",
    "model_profiles",
    "sponsor_contacts",
    "venue_contacts",
    "speaker_sessions",
    "webhooks",
    "api_keys",
)


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

    def terms(self) -> Terms:
        return identifying_terms(self)


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
    def redacted(self) -> list[str]:
        return [*self.scanned, *self.free_text]


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
    only: tuple[str, ...] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Discovery:
    """Run every category's query (or those in `only`) in the caller's transaction."""
    terms = [*subject.emails, *([str(subject.user_id)] if subject.user_id else [])]
    params = {
        "u": subject.user_id,
        "emails": list(subject.emails),
        # No terms: gdpr_like_patterns is NULL, which matches nothing.
        "terms": terms,
    }
    found = Discovery(subject)
    chosen = [c for c in CATEGORIES if only is None or c[0] in only]
    for index, (name, title, query) in enumerate(chosen):
        if progress is not None:
            progress(index, len(chosen), title)
        found.categories[name] = [dict(r) for r in session.execute(text(query), params).scalars()]
    return found


def fingerprint(found: Discovery) -> str:
    """SHA-256 of the person's own data (FINGERPRINTED categories), canonical JSON."""
    data = {name: found.categories.get(name, []) for name in FINGERPRINTED}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


_STREET_KEYS = re.compile(r"street|line|address", re.I)


def _address_lines(address: Any) -> list[str]:
    if not isinstance(address, dict):
        return []
    return [v for k, v in address.items() if _STREET_KEYS.search(k) and isinstance(v, str)]


def identifying_terms(found: Discovery) -> Terms:
    """The person's emails, names, phone numbers and personal free text, from discovery."""
    c = found.categories
    emails = set(found.subject.emails)
    names: set[str] = set()
    phones: set[str] = set()
    free: set[str] = set()
    for row in c.get("account", []):
        emails.add((row.get("email") or "").lower())
        names.add(row.get("full_name") or "")
        phones.add(row.get("phone_number") or "")
    for row in c.get("profile", []):
        first, last = _text(row.get("first_name")), _text(row.get("last_name"))
        if first and last:
            names.add(f"{first} {last}")
        free.update(row.get(k) or "" for k in ("bio", "website"))
        free.update(_address_lines(row.get("address")))
    for row in c.get("orders", []):
        emails.add((row.get("billing_email") or "").lower())
        names.add(row.get("billing_name") or "")
        phones.add(row.get("billing_phone") or "")
        free.add(row.get("notes") or "")
        free.update(_address_lines(row.get("billing_address")))
    for key in ("designer_profiles", "model_profiles"):
        for row in c.get(key, []):
            if found.subject.user_id and row.get("user_id") == str(found.subject.user_id):
                names.add(row.get("name") or "")
                free.add(row.get("bio") or "")
            phones.add(row.get("contact_phone") or "")
    for key in ("sponsor_contacts", "venue_contacts"):
        for row in c.get(key, []):
            names.add(row.get("contact_name") or "")
            phones.add(row.get("contact_phone") or "")
    erased = {ERASED_NAME.lower()}
    return Terms(
        emails=_keep(e for e in emails if e and not e.endswith("@" + ERASED_DOMAIN)),
        names=_keep(n for n in names if n.strip().lower() not in erased and len(n.strip()) >= 3),
        phones=_keep(p for p in phones if sum(ch.isdigit() for ch in p) >= MIN_PHONE_DIGITS),
        free_text=_keep(t for t in free if len(t.strip()) >= MIN_FREE_TEXT),
    )


def _keep(values: Any) -> tuple[str, ...]:
    return tuple(sorted({v.strip() for v in values if v and v.strip()}))


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
