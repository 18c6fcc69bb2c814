"""The retention categories: which rows each one removes or anonymises, and why.

Periods live in `system_configurations` (category `retention`, one key per category;
migration 0007 seeds the defaults). Each category names the rows past its cutoff with one
WHERE clause, used alike to count them (dry run) and to act on them (run), so the two
cannot disagree. `audit_logs` is no category: the application never deletes audit entries
(issue 6); GDPR erasure redacts their payloads instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

SETTINGS_CATEGORY = "retention"
# core/auth/permissions.py's namespace: migration 0007 seeds the periods under these ids.
_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")
ANONYMISED_EMAIL = "anonymized@example.invalid"


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    table: str
    # "delete" removes rows, "anonymise" overwrites personal fields, "clear" empties one.
    action: str
    # Rows past :cutoff (and not yet treated), as a WHERE clause over `table`.
    where: str
    # Statements that treat the rows `where` selects, in order (the last one's row count
    # is the category's count). Their WHERE is `where`, spelled inside each.
    statements: tuple[str, ...]
    # Tables whose whole monthly partitions past the cutoff are dropped, not deleted from.
    drops_partitions: bool = False
    default_period: str = "P90D"
    why: str = ""


def _delete(table: str, where: str) -> str:
    return f"DELETE FROM {table} WHERE {where}"


_LOCKS = "order_id IS NULL AND expires_at < :cutoff"
_JOBS = (
    "status IN ('completed', 'failed', 'cancelled')"
    " AND coalesce(completed_at, failed_at, updated_at) < :cutoff"
)
_EVENTS = "processing_status = 'processed' AND processed_at < :cutoff"
_DELIVERIES = "status IN ('success', 'failed') AND created_at < :cutoff"
_TOKENS = "reset_token IS NOT NULL AND reset_token_expires_at < :cutoff"
_INACTIVE = (
    "status = 'inactive' AND NOT is_anonymized AND coalesce(last_login, created_at) < :cutoff"
)
_ORDERS = (
    "created_at < :cutoff AND (user_id IS NOT NULL"
    f" OR billing_email <> '{ANONYMISED_EMAIL}' OR billing_name <> 'Anonymized'"
    " OR billing_phone IS NOT NULL OR billing_address IS NOT NULL OR ip_address IS NOT NULL"
    " OR user_agent IS NOT NULL OR notes IS NOT NULL OR encrypted_payment_details IS NOT NULL)"
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        "inventory_locks",
        "Expired ticket and seat holds",
        "ticket_inventory_locks",
        "delete",
        _LOCKS,
        (
            # Seats first: deleting the holds would only null hold_id and leave them 'held'.
            "UPDATE event_seats SET status = 'available', hold_id = NULL, held_until = NULL"
            " WHERE status = 'held' AND hold_id IN"
            f" (SELECT id FROM ticket_inventory_locks WHERE {_LOCKS})",
            _delete("ticket_inventory_locks", _LOCKS),
        ),
        default_period="P1D",
        why="A hold stops counting when it expires; the row only records an abandoned cart.",
    ),
    Category(
        "background_jobs",
        "Finished background jobs",
        "background_jobs",
        "delete",
        _JOBS,
        (_delete("background_jobs", _JOBS),),
        default_period="P90D",
        why="Pending and running jobs are kept whatever their age.",
    ),
    Category(
        "domain_events",
        "Processed outbox events",
        "domain_events",
        "delete",
        _EVENTS,
        (_delete("domain_events", _EVENTS),),
        default_period="P90D",
        why="Pending and failed events stay for investigation and retry.",
    ),
    Category(
        "webhook_deliveries",
        "Finished webhook deliveries",
        "webhook_delivery_logs",
        "delete",
        _DELIVERIES,
        (_delete("webhook_delivery_logs", _DELIVERIES),),
        default_period="P90D",
        why="Pending and retrying deliveries are kept, so whole months cannot be dropped.",
    ),
    Category(
        "api_usage_logs",
        "API usage log",
        "api_usage_logs",
        "delete",
        "created_at < :cutoff",
        (_delete("api_usage_logs", "created_at < :cutoff"),),
        drops_partitions=True,
        default_period="P1Y",
        why="Seed 000's one-year limit on activity logs.",
    ),
    Category(
        "user_engagement",
        "User engagement tracking",
        "user_engagement",
        "delete",
        "occurred_at < :cutoff",
        (_delete("user_engagement", "occurred_at < :cutoff"),),
        drops_partitions=True,
        default_period="P2Y",
        why="Seed 001's two years.",
    ),
    Category(
        "reset_tokens",
        "Expired password reset tokens",
        "users",
        "clear",
        _TOKENS,
        (f"UPDATE users SET reset_token = NULL, reset_token_expires_at = NULL WHERE {_TOKENS}",),
        default_period="P7D",
        why="An expired token opens nothing; its hash has no reason to stay.",
    ),
    Category(
        "inactive_users",
        "Inactive accounts (anonymised)",
        "users",
        "anonymise",
        _INACTIVE,
        (
            "UPDATE user_profiles SET first_name = NULL, last_name = NULL,"
            " address = NULL, date_of_birth = NULL, bio = NULL,"
            " social_links = '{}', company = NULL, position = NULL, location = NULL,"
            " website = NULL, encrypted_payment_info = NULL, payment_info_key_id = NULL"
            f" WHERE user_id IN (SELECT id FROM users WHERE {_INACTIVE})",
            "UPDATE users SET email = 'anonymized-' || id || '@example.invalid',"
            " full_name = 'Anonymized user', phone_number = NULL, password_hash = NULL,"
            " profile_image_url = NULL, reset_token = NULL, reset_token_expires_at = NULL,"
            f" is_anonymized = true WHERE {_INACTIVE}",
        ),
        default_period="P3Y",
        why="Seed 001: inactive accounts, three years after their last sign-in.",
    ),
    Category(
        "orders",
        "Orders' personal data (anonymised; amounts kept)",
        "orders",
        "anonymise",
        _ORDERS,
        (
            "UPDATE orders SET user_id = NULL, billing_email = '" + ANONYMISED_EMAIL + "',"
            " billing_name = 'Anonymized', billing_phone = NULL, billing_address = NULL,"
            " ip_address = NULL, user_agent = NULL, notes = NULL,"
            f" encrypted_payment_details = NULL, payment_details_key_id = NULL WHERE {_ORDERS}",
        ),
        default_period="P7Y",
        why="Seed 001's seven years; order numbers, amounts and dates stay for the books.",
    ),
)

BY_KEY = {c.key: c for c in CATEGORIES}


def setting_id(key: str) -> uuid.UUID:
    """The fixed id of a category's period setting (the same as migration 0007 seeds)."""
    return uuid.uuid5(_NAMESPACE, f"setting:retention:{key}")
