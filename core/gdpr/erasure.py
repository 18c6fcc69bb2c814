"""Erasure: anonymize the person everywhere, prove it with a scan, all in one transaction.

Based on the request's own export: refused when there is none, or when the person's data
changed since (the fingerprint differs). Then, in one unit of work as the admin:

1. the account, profile, roles, orders' billing details, order items' and refunds' free
   text, designer and model profiles, sponsor and venue contact fields, their webhooks and
   API keys (SECURITY DEFINER), engagement (deleted), segment membership (deleted),
   promo-code usage (unlinked), and every data-subject request about them are anonymized;
   order numbers, amounts, dates and tax stay, as finance law requires;
2. job, webhook-delivery and domain-event payloads have the person's terms overwritten;
3. the request is completed with counts per table (no personal data);
4. `audit_redact` runs last, since every step above wrote audit rows with old values;
5. `gdpr_scan` searches every text and JSON column of every table for the person's emails,
   names and phone numbers: any hit rolls everything back and names table and column.

After the commit the person's export bundles are deleted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work
from core.errors import Conflict
from core.gdpr.discovery import (
    ERASED_DOMAIN,
    ERASED_NAME,
    FINGERPRINTED,
    Terms,
    discover,
    subject_of_request,
)
from core.gdpr.export import export_dir
from core.gdpr.requests import check_move, load_request, set_status
from core.gdpr.scan import ScanHit, scan

_RE = "gdpr_pattern(CAST(:terms AS text[]))"


def _scrub(column: str, *, json: bool = False) -> str:
    """SQL that overwrites the terms in `column` (text, or jsonb through its text)."""
    if json:
        return (
            f"CASE WHEN {column}::text ~* {_RE} THEN"
            f" regexp_replace({column}::text, {_RE}, '[erased]', 'gi')::jsonb ELSE {column} END"
        )
    return f"regexp_replace({column}, {_RE}, '[erased]', 'gi')"


def _where_any(*columns: str) -> str:
    likes = "gdpr_like_patterns(CAST(:terms AS text[]))"
    return " OR ".join(f"lower({c}::text) LIKE ANY ({likes})" for c in columns)


@dataclass(frozen=True)
class ErasureResult:
    """Rows changed per table, audit entries redacted, export files deleted."""

    counts: dict[str, int]
    audit_redacted: int
    files_deleted: int


class ErasureRefused(Conflict):
    """The erasure cannot run (no export, data changed since, or the scan found traces)."""

    code = "erasure_refused"


def _anonymize(session: Session, user_id: uuid.UUID | None, emails: list[str], terms: Terms):
    counts: dict[str, int] = {}
    erased_email = f"erased-{user_id or uuid.uuid4()}@{ERASED_DOMAIN}"
    p = {
        "u": user_id,
        "emails": emails,
        "terms": terms.redacted,
        "erased": erased_email,
        "name": ERASED_NAME,
    }

    def run(table: str, sql: str) -> None:
        counts[table] = counts.get(table, 0) + session.execute(text(sql), p).rowcount

    orders = (
        "SELECT id FROM orders WHERE user_id = CAST(:u AS uuid)"
        " OR lower(billing_email) = ANY(CAST(:emails AS text[]))"
    )
    run(
        "order_items",
        f"UPDATE order_items SET metadata = {_scrub('metadata', json=True)}"
        f" WHERE order_id IN ({orders}) AND ({_where_any('metadata')})",
    )
    run(
        "order_refunds",
        f"UPDATE order_refunds SET reason = {_scrub('reason')}"
        f" WHERE order_id IN ({orders}) AND ({_where_any('reason')})",
    )
    run(
        "orders",
        "UPDATE orders SET billing_email = :erased, billing_name = :name, billing_phone = NULL,"
        f" billing_address = NULL, notes = {_scrub('notes')}, ip_address = NULL,"
        f" user_agent = NULL, metadata = {_scrub('metadata', json=True)},"
        " encrypted_payment_details = NULL, payment_details_key_id = NULL,"
        f" is_anonymized = true WHERE id IN ({orders})",
    )
    if user_id is not None:
        run("user_engagement", "DELETE FROM user_engagement WHERE user_id = CAST(:u AS uuid)")
        run("segment_members", "DELETE FROM segment_members WHERE user_id = CAST(:u AS uuid)")
        run(
            "promotional_code_usage",
            "UPDATE promotional_code_usage SET user_id = NULL WHERE user_id = CAST(:u AS uuid)",
        )
        run(
            "user_profiles",
            "UPDATE user_profiles SET first_name = NULL, last_name = NULL, address = NULL,"
            " date_of_birth = NULL, bio = NULL, company = NULL, position = NULL,"
            " location = NULL, website = NULL, interests = NULL, social_links = '{}',"
            " preferences = '{}', notification_settings = '{}', encrypted_payment_info = NULL,"
            " payment_info_key_id = NULL WHERE user_id = CAST(:u AS uuid)",
        )
        run("user_roles", "DELETE FROM user_roles WHERE user_id = CAST(:u AS uuid)")
        run(
            "models",
            "UPDATE models SET name = 'Erased model', slug = '', measurements = NULL, bio = NULL,"
            " height = NULL, profile_image_url = NULL, portfolio_url = NULL,"
            " social_media = '{}', status = 'inactive',"
            f" metadata = {_scrub('metadata', json=True)} WHERE user_id = CAST(:u AS uuid)",
        )
        owned = session.execute(
            text("SELECT webhooks, api_keys FROM gdpr_erase_owned(CAST(:u AS uuid))"), p
        ).one()
        counts["webhooks"], counts["api_keys"] = owned
    run(
        "designers",
        "UPDATE designers SET name = 'Erased designer', slug = '', bio = NULL,"
        " contact_email = NULL, contact_phone = NULL, profile_image_url = NULL,"
        " cover_image_url = NULL, website_url = NULL, social_media = '{}', location = NULL,"
        f" metadata = {_scrub('metadata', json=True)},"
        f" press_mentions = {_scrub('press_mentions', json=True)}, status = 'inactive'"
        " WHERE user_id = CAST(:u AS uuid) OR lower(contact_email) = ANY(CAST(:emails AS text[]))",
    )
    run(
        "sponsors",
        "UPDATE sponsors SET contact_name = NULL, contact_email = NULL, contact_phone = NULL"
        " WHERE user_id = CAST(:u AS uuid) OR lower(contact_email) = ANY(CAST(:emails AS text[]))",
    )
    run(
        "venues",
        "UPDATE venues SET contact_name = NULL, contact_email = NULL, contact_phone = NULL"
        " WHERE lower(contact_email) = ANY(CAST(:emails AS text[]))",
    )
    run(
        "email_campaigns",
        f"UPDATE email_campaigns SET sender_email = {_scrub('sender_email')},"
        f" sender_name = {_scrub('sender_name')}"
        f" WHERE {_where_any('sender_email', 'sender_name')}",
    )
    run(
        "webhook_delivery_logs",
        f"UPDATE webhook_delivery_logs SET payload = {_scrub('payload', json=True)},"
        f" response_body = {_scrub('response_body')}, error_message = {_scrub('error_message')}"
        f" WHERE {_where_any('payload', 'response_body', 'error_message')}",
    )
    run(
        "domain_events",
        f"UPDATE domain_events SET event_data = {_scrub('event_data', json=True)},"
        f" metadata = {_scrub('metadata', json=True)}, error = {_scrub('error')}"
        f" WHERE {_where_any('event_data', 'metadata', 'error')}",
    )
    run(
        "background_jobs",
        f"UPDATE background_jobs SET payload = {_scrub('payload', json=True)},"
        f" result = {_scrub('result', json=True)}, error = {_scrub('error')},"
        f" progress_message = {_scrub('progress_message')}"
        f" WHERE {_where_any('payload', 'result', 'error', 'progress_message')}",
    )
    run(
        "data_subject_requests",
        "UPDATE data_subject_requests SET subject_email = :erased,"
        f" notes = {_scrub('notes')}, rejection_reason = {_scrub('rejection_reason')},"
        f" request_details = {_scrub('request_details', json=True)}, export_file = NULL"
        " WHERE user_id = CAST(:u AS uuid) OR lower(subject_email) = ANY(CAST(:emails AS text[]))",
    )
    if user_id is not None:
        run(
            "users",
            "UPDATE users SET email = :erased, full_name = :name, phone_number = NULL,"
            " profile_image_url = NULL, password_hash = NULL, reset_token = NULL,"
            " reset_token_expires_at = NULL, status = 'inactive', email_verified = false,"
            " phone_verified = false, is_anonymized = true WHERE id = CAST(:u AS uuid)",
        )
    return {k: v for k, v in counts.items() if v}


def erase(actor: Actor, request_id: uuid.UUID) -> ErasureResult:
    """Erase the person of an erasure request being processed, and complete the request.

    Raises ErasureRefused (a Conflict) when the request has no export, when the person's
    data changed since that export, or when the verification scan still finds their email,
    name or phone somewhere (naming the table and column; nothing is changed then);
    Conflict when the request is not an erasure being processed.
    """
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        request = load_request(s, request_id, lock=True)
        if request.summary.request_type != "erasure":
            raise Conflict("Only an erasure request erases data.")
        check_move(request, "completed")
        if not request.export_fingerprint or request.exported_at is None:
            raise ErasureRefused(
                "Export the person's data first: the erasure is based on that export."
            )
        subject = subject_of_request(s, request_id)
        # The person's own data (and their requests) is all the fingerprint, the terms and
        # the audit fields need; the logs are searched by the redaction and the scan below.
        found = discover(s, subject, only=(*FINGERPRINTED, "data_requests"))
        if found.fingerprint != request.export_fingerprint:
            raise ErasureRefused(
                "The person's data changed after the export of"
                f" {request.exported_at:%Y-%m-%d %H:%M} UTC; export again and review it"
                " before erasing."
            )
        terms = _without_other_accounts(s, subject.user_id, found.terms())
        files = _export_files(s, subject.user_id, list(subject.emails))
        counts = _anonymize(s, subject.user_id, list(terms.emails), terms)
        set_status(s, actor, request, "completed", outcome={"erased": counts})
        redacted = _redact_audit(s, found, terms)
        hits = scan(s, terms.scanned)
        if hits:
            raise ErasureRefused(_hits_message(hits))
        s.execute(
            text(
                "UPDATE data_subject_requests SET outcome = outcome || CAST(:o AS jsonb)"
                " WHERE id = :id"
            ),
            {"o": f'{{"audit_redacted": {int(redacted)}}}', "id": request_id},
        )
        uow.commit()
    deleted = 0
    for name in files:
        path = export_dir() / name
        if path.is_file():
            path.unlink()
            deleted += 1
    return ErasureResult(counts=counts, audit_redacted=int(redacted), files_deleted=deleted)


# (audited table, discovery category, id key, fields of the entries to overwrite)
AUDITED_FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("users", "account", "id", ("email", "full_name", "phone_number", "profile_image_url")),
    (
        "user_profiles",
        "profile",
        "id",
        (
            "first_name",
            "last_name",
            "address",
            "date_of_birth",
            "bio",
            "company",
            "position",
            "location",
            "website",
            "interests",
            "social_links",
        ),
    ),
    (
        "orders",
        "orders",
        "id",
        (
            "billing_email",
            "billing_name",
            "billing_phone",
            "billing_address",
            "notes",
            "ip_address",
            "user_agent",
            "metadata",
        ),
    ),
    ("order_items", "order_items", "id", ("metadata",)),
    ("webhooks", "webhooks", "id", ("name", "description", "url")),
    ("api_keys", "api_keys", "id", ("name",)),
    ("data_subject_requests", "data_requests", "request_id", ("subject_email", "notes")),
)


def _redact_audit(session: Session, found: Any, terms: Terms) -> int:
    """Overwrite the person in audit payloads: the personal fields of their own records'
    entries, then every occurrence of their terms anywhere (audit_redact). Last, because
    every change before wrote entries holding the old values."""
    redacted = 0
    for table, category, key, fields in AUDITED_FIELDS:
        ids = [str(row[key]) for row in found.categories.get(category, []) if row.get(key)]
        if ids:
            redacted += session.execute(
                text("SELECT audit_redact_fields(:t, CAST(:ids AS text[]), CAST(:f AS text[]))"),
                {"t": table, "ids": ids, "f": list(fields)},
            ).scalar_one()
    return (
        redacted
        + session.execute(
            text("SELECT audit_redact(CAST(:t AS text[]))"), {"t": terms.redacted}
        ).scalar_one()
    )


def _without_other_accounts(session: Session, user_id: uuid.UUID | None, terms: Terms) -> Terms:
    """`terms` less e-mail addresses of other accounts: an order the person placed for
    someone else names that someone, whose data this erasure must not touch."""
    others = set(
        session.execute(
            text(
                "SELECT lower(email) FROM users WHERE lower(email) = ANY(CAST(:e AS text[]))"
                " AND id IS DISTINCT FROM CAST(:u AS uuid)"
            ),
            {"e": list(terms.emails), "u": user_id},
        ).scalars()
    )
    if not others:
        return terms
    return Terms(
        emails=tuple(e for e in terms.emails if e not in others),
        names=terms.names,
        phones=terms.phones,
        free_text=terms.free_text,
    )


def _export_files(session: Session, user_id: uuid.UUID | None, emails: list[str]) -> list[str]:
    rows = session.execute(
        text(
            "SELECT export_file FROM data_subject_requests WHERE export_file IS NOT NULL"
            " AND (user_id = CAST(:u AS uuid) OR lower(subject_email) = ANY(CAST(:e AS text[])))"
        ),
        {"u": user_id, "e": emails},
    ).scalars()
    return [r for r in rows if "/" not in r and "\\" not in r]


def _hits_message(hits: list[ScanHit]) -> str:
    where = ", ".join(f"{h.table}.{h.column} ({h.rows} rows)" for h in hits[:10])
    return (
        "Erasure stopped and nothing was changed: the verification scan still finds the"
        f" person's email, name or phone in {where}. Anonymize those records (or, for a name"
        " shared with someone else, note it on the request) and try again."
    )
