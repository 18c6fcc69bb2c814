"""Every kind of personal data the platform holds, defined once (see core/gdpr/registry.py).

Discovery and the export bundle, the erasure, the audit redaction, the subject guard
triggers and retention all read REGISTRY. To add a table with personal data, add a
Category here (its fields, how one person's rows are found, how they are erased, how long
they are kept), or declare it in NOT_PERSONAL with the reason; tests/test_gdpr_registry.py
fails until one of the two is done, and names what the migration's guard must add.

Rules sharing a retention key run by position, then in the order below; the last one's
rows are the key's count (an inactive account's profile goes first, then the account,
which its rule selects by; the account's credentials and sessions go with it, through the
sign-in path's trigger auth_user_changed, migration 0012).
"""

from __future__ import annotations

from core.gdpr.registry import (
    ERASED_DOMAIN,
    ERASED_NAME,
    KEEP,
    SCRUB,
    Category,
    Field,
    Kind,
    NotPersonal,
    Registry,
    Retention,
)

# The person's account and addresses, as every `find` below spells them.
BY_ACCOUNT = "{t}.user_id = CAST(:u AS uuid)"


def by_email(column: str) -> str:
    return f"lower({{t}}.{column}) = ANY(CAST(:emails AS text[]))"


def erased_email(key: str = "id") -> str:
    """An address that names no one: erased-<key>@erased.invalid."""
    return f"'erased-' || {key} || '@{ERASED_DOMAIN}'"


ERASED = f"'{ERASED_NAME}'"
ORDERS = f"{BY_ACCOUNT} OR {by_email('billing_email')}"
OF_ORDERS = "{t}.order_id IN (SELECT o.id FROM orders o WHERE " + ORDERS.format(t="o") + ")"
REQUESTS = f"{BY_ACCOUNT} OR {by_email('subject_email')}"
# Logs mention the person anywhere in their payloads: their e-mails or account id.
LIKES = "gdpr_like_patterns(CAST(:terms AS text[]))"


def mentions(*columns: str) -> str:
    return " OR ".join(f"lower({{t}}.{c}::text) LIKE ANY ({LIKES})" for c in columns)


# Inactive accounts whose last sign-in (or creation) is past the cutoff: one definition
# for the account, its credentials and its profile.
INACTIVE = (
    "status = 'inactive' AND NOT is_anonymized AND coalesce(last_login, created_at) < :cutoff"
)
INACTIVE_WHY = "Seed 001: inactive accounts, three years after their last sign-in."


# The account's own rule runs after its profile's and credentials' (which select by it).
INACTIVE_RULE = Retention(
    "inactive_users", "Inactive accounts (anonymised)", INACTIVE, "P3Y", INACTIVE_WHY,
    action="anonymise", position=1,
)  # fmt: skip
ACTOR = "a staff member's action; the account is anonymised if that person is erased"
SYSTEM = "system vocabulary (types, statuses, codes)"

_LOCKS = "order_id IS NULL AND expires_at < :cutoff"
VENUE_COLUMNS = (
    "name", "slug", "description", "address", "city", "state", "country", "postal_code",
    "floor_plan_url", "images", "facilities", "accessibility_features", "website", "status",
    "meta_data",
)  # fmt: skip
CAMPAIGN_COLUMNS = (
    "subject", "preview_text", "content", "template_id", "recipient_segment",
    "tracking_settings",
)  # fmt: skip

CATEGORIES: tuple[Category, ...] = (
    Category(
        "account",
        "Account",
        "users",
        (
            Field("email", Kind.EMAIL, erased_email()),
            Field("full_name", Kind.NAME, ERASED),
            Field("phone_number", Kind.PHONE),
            Field("profile_image_url", Kind.DETAIL),
        ),
        "{t}.id = CAST(:u AS uuid)",
        link="id",
        flag="is_anonymized",
        also=(
            "status = 'inactive'",
            "email_verified = false",
            "phone_verified = false",
            "is_anonymized = true",
        ),
        kept={
            "user_type": SYSTEM,
            "status": SYSTEM,
            "email_verified": "whether the address was confirmed (reset on erasure)",
            "phone_verified": "whether the number was confirmed (reset on erasure)",
            "must_change_password": "a sign-in flag",
        },
        retention=(INACTIVE_RULE,),
        label=lambda r: f"Account {r.get('full_name')} <{r.get('email')}>",
    ),
    Category(
        "credentials",
        "Password and reset token",
        "user_credentials",
        (
            Field("user_id", Kind.LINK),
            Field("password_hash", Kind.SECRET),
            Field("reset_token_hash", Kind.SECRET),
            Field("password_changed_at", Kind.DETAIL),
            Field("reset_token_expires_at", Kind.DETAIL),
        ),
        "true",
        # Only the sign-in path reaches the table (migration 0012): a definer function shows
        # whether there is a password or a token, never either. An anonymised account loses
        # them (trigger auth_user_changed); the erasure deletes them explicitly too.
        action="function",
        export="to_jsonb({t})",
        source="gdpr_subject_credentials(CAST(:u AS uuid)) {t}",
        # A sign-in may rehash the password: no reason to export again.
        fingerprinted=False,
        order_by="{t}.user_id",
        key_column="user_id",
        link="user_id",
        erase_sql="SELECT gdpr_erase_sign_in('user_credentials', CAST(:u AS uuid), NULL)",
    ),
    Category(
        "sessions",
        "Sign-in sessions",
        "auth_sessions",
        (Field("user_id", Kind.LINK), Field("token_hash", Kind.SECRET)),
        "true",
        action="function",
        export="to_jsonb({t})",
        source="gdpr_subject_sessions(CAST(:u AS uuid)) {t}",
        # Every page the person opens extends one.
        fingerprinted=False,
        order_by="{t}.created_at, {t}.id",
        link="user_id",
        erase_sql="SELECT gdpr_erase_sign_in('auth_sessions', CAST(:u AS uuid), NULL)",
        kept={"method": SYSTEM, "revoked_reason": SYSTEM},
    ),
    Category(
        "sign_in_throttles",
        "Failed sign-ins (throttling)",
        "sign_in_throttles",
        (Field("email", Kind.EMAIL), Field("ip_address", Kind.NETWORK)),
        "true",
        action="function",
        export="to_jsonb({t})",
        source="gdpr_subject_throttles(CAST(:emails AS text[])) {t}",
        # Forgotten within a day by the sign-in path itself (auth_purge, migration 0012).
        fingerprinted=False,
        order_by="{t}.last_failed_at",
        key_column=None,
        erase_sql=("SELECT gdpr_erase_sign_in('sign_in_throttles', NULL, CAST(:emails AS text[]))"),
        kept={"kind": SYSTEM},
    ),
    Category(
        "profile",
        "Profile",
        "user_profiles",
        (
            Field("user_id", Kind.LINK, KEEP),
            Field("first_name", Kind.NAME_PART),
            Field("last_name", Kind.NAME_PART),
            Field("address", Kind.ADDRESS),
            Field("date_of_birth", Kind.DETAIL),
            Field("bio", Kind.TEXT),
            Field("company", Kind.DETAIL),
            Field("position", Kind.DETAIL),
            Field("location", Kind.DETAIL),
            Field("website", Kind.TEXT),
            Field("interests", Kind.DETAIL),
            Field("social_links", Kind.DETAIL, "'{}'"),
            Field("preferences", Kind.DETAIL, "'{}'"),
            Field("notification_settings", Kind.DETAIL, "'{}'"),
            Field("encrypted_payment_info", Kind.SECRET),
        ),
        BY_ACCOUNT,
        link="user_id",
        also=("payment_info_key_id = NULL",),
        retention=(
            Retention(
                "inactive_users",
                "",
                f"user_id IN (SELECT id FROM users WHERE {INACTIVE})",
                "P3Y",
                INACTIVE_WHY,
                action="anonymise",
            ),
        ),
    ),
    Category(
        "roles",
        "Roles",
        "user_roles",
        (Field("user_id", Kind.LINK),),
        BY_ACCOUNT,
        action="delete",
        export=(
            "jsonb_build_object('role', (SELECT r.name FROM roles r WHERE r.id = {t}.role_id),"
            " 'granted_at', {t}.created_at)"
        ),
        order_by="{t}.created_at, {t}.id",
        link="user_id",
    ),
    Category(
        "orders",
        "Orders and billing details",
        "orders",
        (
            Field("user_id", Kind.LINK),
            Field("billing_email", Kind.EMAIL, erased_email()),
            Field("billing_name", Kind.NAME, ERASED),
            Field("billing_phone", Kind.PHONE),
            Field("billing_address", Kind.ADDRESS),
            Field("notes", Kind.TEXT),
            Field("ip_address", Kind.NETWORK),
            Field("user_agent", Kind.NETWORK),
            Field("metadata", Kind.TEXT, SCRUB),
            Field("encrypted_payment_details", Kind.SECRET),
        ),
        ORDERS,
        order_by="{t}.created_at, {t}.id",
        link="user_id",
        flag="is_anonymized",
        also=("payment_details_key_id = NULL", "is_anonymized = true"),
        kept={
            "order_number": "the bookkeeping number (kept by law)",
            "currency": SYSTEM,
            "status": SYSTEM,
            "payment_method": SYSTEM,
            "payment_intent_id": "the payment provider's reference (bookkeeping)",
            "idempotency_key": "a random key chosen by the checkout",
        },
        retention=(
            Retention(
                "orders",
                "Orders' personal data (anonymised; amounts kept)",
                "created_at < :cutoff AND NOT is_anonymized",
                "P7Y",
                "Seed 001's seven years; order numbers, amounts and dates stay for the books.",
                action="anonymise",
            ),
        ),
        label=lambda r: (
            f"Order {r.get('order_number')} · {r.get('billing_name')} <{r.get('billing_email')}>"
        ),
    ),
    Category(
        "order_items",
        "Order items",
        "order_items",
        (Field("metadata", Kind.TEXT, SCRUB),),
        OF_ORDERS,
        order_by="{t}.order_id, {t}.id",
        kept={"seat_ids": "the seats sold"},
    ),
    Category(
        "payments",
        "Payments",
        "order_payments",
        (),
        OF_ORDERS,
        action="none",
        order_by="{t}.created_at, {t}.id",
        kept={
            "provider": SYSTEM,
            "method": SYSTEM,
            "currency": SYSTEM,
            "reference": "the payment provider's reference (bookkeeping)",
        },
    ),
    Category(
        "refunds",
        "Refunds",
        "order_refunds",
        (Field("reason", Kind.TEXT, SCRUB),),
        OF_ORDERS,
        order_by="{t}.created_at, {t}.id",
        kept={
            "method": SYSTEM,
            "reference": "the payment provider's reference (bookkeeping)",
            "refunded_by": ACTOR,
        },
        label=lambda r: f"Refund {r.get('reference') or r.get('id')}",
    ),
    Category(
        "engagement",
        "Engagement",
        "user_engagement",
        (
            Field("user_id", Kind.LINK),
            Field("engagement_data", Kind.DETAIL),
            Field("ip_address", Kind.NETWORK),
            Field("user_agent", Kind.NETWORK),
            Field("session_id", Kind.NETWORK),
        ),
        BY_ACCOUNT,
        action="delete",
        order_by="{t}.occurred_at, {t}.id",
        link="user_id",
        kept={"engagement_type": SYSTEM, "engagement_source": SYSTEM},
        retention=(
            Retention(
                "user_engagement",
                "User engagement tracking",
                "occurred_at < :cutoff",
                "P2Y",
                "Seed 001's two years.",
                action="delete",
                drops_partitions=True,
            ),
        ),
    ),
    Category(
        "segments",
        "Marketing segments",
        "segment_members",
        (Field("user_id", Kind.LINK),),
        BY_ACCOUNT,
        action="delete",
        export=(
            "jsonb_build_object('segment_id', {t}.segment_id, 'segment',"
            " (SELECT s.name FROM marketing_segments s WHERE s.id = {t}.segment_id),"
            " 'added_at', {t}.added_at)"
        ),
        order_by="{t}.added_at, {t}.segment_id",
        key_column=None,
        link="user_id",
    ),
    Category(
        "promo_usage",
        "Promotional code usage",
        "promotional_code_usage",
        (Field("user_id", Kind.LINK),),
        f"{BY_ACCOUNT} OR {OF_ORDERS}",
        export=(
            "to_jsonb({t}) || jsonb_build_object('code',"
            " (SELECT c.code FROM promotional_codes c WHERE c.id = {t}.code_id))"
        ),
        order_by="{t}.used_at, {t}.id",
        link="user_id",
    ),
    Category(
        "designer_profiles",
        "Designer profiles",
        "designers",
        (
            Field("user_id", Kind.LINK),
            Field("name", Kind.NAME, "'Erased designer'"),
            Field("slug", Kind.DETAIL, "''"),
            Field("bio", Kind.TEXT),
            Field("contact_email", Kind.EMAIL),
            Field("contact_phone", Kind.PHONE),
            Field("profile_image_url", Kind.DETAIL),
            Field("cover_image_url", Kind.DETAIL),
            Field("website_url", Kind.DETAIL),
            Field("social_media", Kind.DETAIL, "'{}'"),
            Field("location", Kind.DETAIL),
            Field("awards", Kind.TEXT, SCRUB),
            Field("press_mentions", Kind.TEXT, SCRUB),
            Field("metadata", Kind.TEXT, SCRUB),
        ),
        BY_ACCOUNT,
        link="user_id",
        also=("status = 'inactive'",),
        kept={
            "brand_name": "the label's business name",
            "specialty": "what the label makes",
            "status": SYSTEM,
        },
        label=lambda r: f"Designer {r.get('name')}",
    ),
    Category(
        "designer_contacts",
        "Designer contacts",
        "designers",
        (Field("contact_email", Kind.EMAIL), Field("contact_phone", Kind.PHONE)),
        f"{by_email('contact_email')} AND {{t}}.user_id IS DISTINCT FROM CAST(:u AS uuid)",
        export=(
            "jsonb_build_object('designer_id', {t}.id, 'designer', {t}.name,"
            " 'contact_email', {t}.contact_email, 'contact_phone', {t}.contact_phone)"
        ),
        link="user_id",
    ),
    Category(
        "model_profiles",
        "Model profiles",
        "models",
        (
            Field("user_id", Kind.LINK),
            Field("name", Kind.NAME, "'Erased model'"),
            Field("slug", Kind.DETAIL, "''"),
            Field("height", Kind.DETAIL),
            Field("measurements", Kind.DETAIL),
            Field("bio", Kind.TEXT),
            Field("profile_image_url", Kind.DETAIL),
            Field("portfolio_url", Kind.DETAIL),
            Field("social_media", Kind.DETAIL, "'{}'"),
            Field("metadata", Kind.TEXT, SCRUB),
        ),
        BY_ACCOUNT,
        link="user_id",
        also=("status = 'inactive'",),
        kept={"agency": "the agency's business name", "status": SYSTEM},
        label=lambda r: f"Model {r.get('name')}",
    ),
    Category(
        "sponsor_contacts",
        "Sponsor contacts",
        "sponsors",
        (
            Field("user_id", Kind.LINK),
            Field("contact_name", Kind.NAME),
            Field("contact_email", Kind.EMAIL),
            Field("contact_phone", Kind.PHONE),
        ),
        f"{BY_ACCOUNT} OR {by_email('contact_email')}",
        export=(
            "jsonb_build_object('sponsor_id', {t}.id, 'sponsor', {t}.name,"
            " 'contact_name', {t}.contact_name, 'contact_email', {t}.contact_email,"
            " 'contact_phone', {t}.contact_phone,"
            " 'linked_account', {t}.user_id = CAST(:u AS uuid))"
        ),
        link="user_id",
        kept={
            "name": "the company's name",
            "slug": "the company's name",
            "logo_url": "the company's logo",
            "website_url": "the company's site",
            "description": "about the company",
            "industry": SYSTEM,
            "company_size": SYSTEM,
            "headquarters": "the company's seat",
            "social_media": "the company's accounts",
            "status": SYSTEM,
        },
        label=lambda r: f"Sponsor {r.get('name')} (contact {r.get('contact_name')})",
    ),
    Category(
        "venue_contacts",
        "Venue contacts",
        "venues",
        (
            Field("contact_name", Kind.NAME),
            Field("contact_email", Kind.EMAIL),
            Field("contact_phone", Kind.PHONE),
        ),
        by_email("contact_email"),
        export=(
            "jsonb_build_object('venue_id', {t}.id, 'venue', {t}.name,"
            " 'contact_name', {t}.contact_name, 'contact_email', {t}.contact_email,"
            " 'contact_phone', {t}.contact_phone)"
        ),
        kept=dict.fromkeys(VENUE_COLUMNS, "about the venue, a business"),
        label=lambda r: f"Venue {r.get('name')} (contact {r.get('contact_name')})",
    ),
    Category(
        "speaker_sessions",
        "Agenda items they speak at",
        "event_schedules",
        (Field("speaker_id", Kind.LINK),),
        "{t}.speaker_id = CAST(:u AS uuid)",
        export=(
            "jsonb_build_object('schedule_id', {t}.id, 'event_id', {t}.event_id,"
            " 'title', {t}.title, 'start_time', {t}.start_time)"
        ),
        order_by="{t}.start_time, {t}.id",
        link="speaker_id",
        kept={
            "title": "the agenda item",
            "description": "the agenda item",
            "location": "where it takes place",
            "type": SYSTEM,
            "meta_data": "the agenda item",
        },
        label=lambda r: f"Agenda item {r.get('title')}",
    ),
    Category(
        "event_staff",
        "Events they work",
        "event_staff",
        (Field("user_id", Kind.LINK),),
        BY_ACCOUNT,
        action="delete",
        export=("jsonb_build_object('event_id', {t}.event_id, 'assigned_at', {t}.created_at)"),
        order_by="{t}.created_at, {t}.id",
        link="user_id",
        kept={"assigned_by": ACTOR},
        label=lambda r: f"Event staff assignment {r.get('event_id')}",
    ),
    Category(
        "webhooks",
        "Webhooks",
        "webhooks",
        (
            Field("user_id", Kind.LINK),
            Field("name", Kind.DETAIL),
            Field("description", Kind.TEXT),
            Field("url", Kind.DETAIL),
            Field("secret_key", Kind.SECRET),
            Field("headers", Kind.SECRET),
            Field("secret_sealed", Kind.SECRET),
            Field("previous_secret_sealed", Kind.SECRET),
        ),
        "true",
        action="function",
        export="to_jsonb({t})",
        source="gdpr_subject_webhooks(CAST(:u AS uuid)) {t}",
        link="user_id",
        erase_sql="SELECT gdpr_erase_webhooks(CAST(:u AS uuid))",
        kept={
            "events": "the event types it subscribes to",
            "secret_key_id": "a reference to a key version",
            "previous_secret_key_id": "a reference to a key version",
            "previous_secret_expires_at": SYSTEM,
            "disabled_reason": "written by the dispatcher: a count of failures and a time",
        },
    ),
    Category(
        "api_keys",
        "API keys",
        "api_keys",
        (
            Field("user_id", Kind.LINK),
            Field("name", Kind.DETAIL),
            Field("key_hash", Kind.SECRET),
            # Where the key was last used from (migration 0016).
            Field("last_used_ip", Kind.NETWORK),
        ),
        "true",
        action="function",
        export="to_jsonb({t})",
        source="gdpr_subject_api_keys(CAST(:u AS uuid)) {t}",
        link="user_id",
        erase_sql="SELECT gdpr_erase_api_keys(CAST(:u AS uuid))",
        kept={
            "key_prefix": "the public start of a random key",
            "permissions": SYSTEM,
            "scopes": SYSTEM,
            "revoked_by": ACTOR,
            "created_by": ACTOR,
        },
    ),
    Category(
        "api_usage",
        "API usage",
        "api_usage_logs",
        (Field("ip_address", Kind.NETWORK), Field("user_agent", Kind.NETWORK)),
        "{t}.api_key_id IN (SELECT k.id FROM gdpr_subject_api_keys(CAST(:u AS uuid)) k)",
        # Every call with their key changes it; an export cannot hold still for it.
        fingerprinted=False,
        order_by="{t}.created_at, {t}.id",
        kept={"endpoint": "the API path called", "method": SYSTEM},
        retention=(
            Retention(
                "api_usage_logs",
                "API usage log",
                "created_at < :cutoff",
                "P1Y",
                "Seed 000's one-year limit on activity logs.",
                action="delete",
                drops_partitions=True,
            ),
        ),
    ),
    Category(
        "email_campaigns",
        "Email campaigns they send",
        "email_campaigns",
        (
            Field("sender_email", Kind.EMAIL, erased_email()),
            # A sender name is often a brand's; only the address makes the row theirs.
            Field("sender_name", Kind.DETAIL, ERASED),
        ),
        by_email("sender_email"),
        export=(
            "jsonb_build_object('campaign_id', {t}.id, 'subject', {t}.subject,"
            " 'sender_name', {t}.sender_name, 'sender_email', {t}.sender_email)"
        ),
        kept=dict.fromkeys(CAMPAIGN_COLUMNS, "the campaign's own content"),
        label=lambda r: f"Email campaign {r.get('subject')} from {r.get('sender_name')}",
    ),
    Category(
        "data_requests",
        "Data-subject requests",
        "data_subject_requests",
        (
            Field("user_id", Kind.LINK),
            Field("subject_email", Kind.EMAIL, erased_email("coalesce(user_id, id)")),
            Field("notes", Kind.TEXT, SCRUB),
            Field("rejection_reason", Kind.TEXT, SCRUB),
            Field("request_details", Kind.TEXT, SCRUB),
        ),
        REQUESTS,
        # Working the request changes them.
        fingerprinted=False,
        export=(
            "jsonb_build_object('request_id', {t}.id, 'type', {t}.request_type,"
            " 'status', {t}.status, 'subject_email', {t}.subject_email,"
            " 'submitted_at', {t}.submitted_at, 'due_at', {t}.due_at,"
            " 'completed_at', {t}.completed_at, 'rejection_reason', {t}.rejection_reason,"
            " 'notes', {t}.notes, 'request_details', {t}.request_details)"
        ),
        order_by="{t}.submitted_at, {t}.id",
        link="user_id",
        also=("export_file = NULL",),
        kept={
            "request_type": SYSTEM,
            "status": SYSTEM,
            "identity_verification_method": SYSTEM,
            "export_file": "a file name made of ids",
            "export_fingerprint": "a hash of the export",
            "outcome": "counts and field names, never values",
            "assigned_to": ACTOR,
            "handled_by": ACTOR,
        },
        label=lambda r: f"Data-subject request {r.get('id')}",
    ),
    Category(
        "request_matches",
        "Scan matches reviewed for their requests",
        "data_subject_request_matches",
        (Field("reason", Kind.TEXT, SCRUB),),
        "{t}.request_id IN (SELECT r.id FROM data_subject_requests r WHERE "
        + REQUESTS.format(t="r")
        + ")",
        fingerprinted=False,
        order_by="{t}.found_at, {t}.id",
        kept={
            "table_name": "a reference to a record",
            "record_key": "a reference to a record",
            "column_name": "a reference to a record",
            "matched": "the kinds of term found (email, name, phone), never the value",
            "decision": SYSTEM,
            "decided_by": ACTOR,
        },
    ),
    # --- logs: found by the person's terms, scrubbed wherever they hold them -------------
    Category(
        "audit_entries",
        "Audit log entries",
        "audit_logs",
        (Field("old_data", Kind.TEXT), Field("new_data", Kind.TEXT)),
        "{t}.user_id = CAST(:u AS uuid) OR {t}.record_id = CAST(:u AS text) OR "
        + mentions("old_data", "new_data"),
        action="audit",
        fingerprinted=False,
        log=True,
        export=(
            "jsonb_build_object('id', {t}.id, 'created_at', {t}.created_at, 'action',"
            " {t}.action, 'table', {t}.table_name, 'record_id', {t}.record_id, 'by_them',"
            " {t}.user_id = CAST(:u AS uuid), 'old_data', {t}.old_data,"
            " 'new_data', {t}.new_data)"
        ),
        order_by="{t}.created_at, {t}.seq",
        limit=10000,
        key_column=None,
        kept={
            "action": SYSTEM,
            "table_name": "a reference to a record",
            "record_id": "a reference to a record",
            "user_id": "the acting account (anonymised when that person is erased)",
            "ip_address": (
                "where an action came from, kept as evidence: only the audit trail's own"
                " functions change audit rows, and they overwrite payloads"
            ),
            "user_agent": "as ip_address",
        },
    ),
    Category(
        "webhook_deliveries",
        "Webhook deliveries",
        "webhook_delivery_logs",
        (
            Field("payload", Kind.TEXT, SCRUB),
            Field("response_body", Kind.TEXT, SCRUB),
            Field("error_message", Kind.TEXT, SCRUB),
            # Each attempt's capped response body and error, as response_body.
            Field("attempts", Kind.TEXT, SCRUB),
        ),
        "{t}.webhook_id IN (SELECT w.id FROM gdpr_subject_webhooks(CAST(:u AS uuid)) w) OR "
        + mentions("payload", "response_body", "error_message", "attempts"),
        action="scrub",
        fingerprinted=False,
        log=True,
        export=(
            "jsonb_build_object('id', {t}.id, 'created_at', {t}.created_at, 'event_type',"
            " {t}.event_type, 'status', {t}.status, 'payload', {t}.payload,"
            " 'response_body', {t}.response_body, 'error_message', {t}.error_message)"
        ),
        order_by="{t}.created_at, {t}.id",
        kept={
            "event_type": SYSTEM,
            "status": SYSTEM,
            "message_id": SYSTEM,
            "aggregate_id": "a reference to a record",
            "locked_by": "a worker's host name and process id",
        },
        retention=(
            Retention(
                "webhook_deliveries",
                "Finished webhook deliveries",
                "status IN ('success', 'failed') AND created_at < :cutoff",
                "P90D",
                "Pending and retrying deliveries are kept, so whole months cannot be dropped.",
                action="delete",
            ),
        ),
    ),
    Category(
        "domain_events",
        "Domain events",
        "domain_events",
        (
            Field("event_data", Kind.TEXT, SCRUB),
            Field("metadata", Kind.TEXT, SCRUB),
            Field("error", Kind.TEXT, SCRUB),
        ),
        "{t}.aggregate_id = CAST(:u AS text) OR " + mentions("event_data", "metadata"),
        action="scrub",
        fingerprinted=False,
        log=True,
        export=(
            "jsonb_build_object('id', {t}.id, 'occurred_at', {t}.occurred_at, 'event_type',"
            " {t}.event_type, 'aggregate_type', {t}.aggregate_type, 'aggregate_id',"
            " {t}.aggregate_id, 'event_data', {t}.event_data, 'metadata', {t}.metadata,"
            " 'error', {t}.error)"
        ),
        order_by="{t}.occurred_at, {t}.id",
        kept={
            "aggregate_id": "a record id",
            "aggregate_type": SYSTEM,
            "event_type": SYSTEM,
            "processing_status": SYSTEM,
            "idempotency_key": "a random key",
            "source_system": SYSTEM,
            "correlation_id": "a random id",
            "causation_id": "a random id",
        },
        retention=(
            Retention(
                "domain_events",
                "Processed outbox events",
                "processing_status = 'processed' AND processed_at < :cutoff",
                "P90D",
                "Pending and failed events stay for investigation and retry.",
                action="delete",
            ),
        ),
    ),
    Category(
        "background_jobs",
        "Background jobs",
        "background_jobs",
        (
            Field("payload", Kind.TEXT, SCRUB),
            Field("result", Kind.TEXT, SCRUB),
            Field("error", Kind.TEXT, SCRUB),
            Field("progress_message", Kind.TEXT, SCRUB),
        ),
        "{t}.created_by = CAST(:u AS uuid) OR "
        + mentions("payload", "result", "error", "progress_message"),
        action="scrub",
        fingerprinted=False,
        log=True,
        export=(
            "jsonb_build_object('id', {t}.id, 'job_type', {t}.job_type, 'status', {t}.status,"
            " 'created_at', {t}.created_at, 'payload', {t}.payload, 'result', {t}.result,"
            " 'error', {t}.error, 'progress_message', {t}.progress_message)"
        ),
        order_by="{t}.created_at, {t}.id",
        kept={
            "job_type": SYSTEM,
            "status": SYSTEM,
            "locked_by": "the worker process",
            "dedupe_key": "a job type and ids",
            "created_by": ACTOR,
        },
        retention=(
            Retention(
                "background_jobs",
                "Finished background jobs",
                "status IN ('completed', 'failed', 'cancelled')"
                " AND coalesce(completed_at, failed_at, updated_at) < :cutoff",
                "P90D",
                "Pending and running jobs are kept whatever their age.",
                action="delete",
            ),
        ),
    ),
    # --- no one's: kept only for its retention ------------------------------------------
    Category(
        "inventory_locks",
        "Expired ticket and seat holds",
        "ticket_inventory_locks",
        (),
        None,
        action="none",
        kept={
            "session_id": "a random checkout session id, tied to no person",
            "seat_ids": "the seats held",
        },
        retention=(
            Retention(
                "inventory_locks",
                "Expired ticket and seat holds",
                _LOCKS,
                "P1D",
                "A hold stops counting when it expires; the row only records an abandoned cart.",
                action="delete",
                statements=(
                    # Seats first: deleting the holds would only null hold_id, seats stay held.
                    "UPDATE event_seats SET status = 'available', hold_id = NULL,"
                    " held_until = NULL WHERE status = 'held' AND hold_id IN"
                    f" (SELECT id FROM ticket_inventory_locks WHERE {_LOCKS})",
                    f"DELETE FROM ticket_inventory_locks WHERE {_LOCKS}",
                ),
            ),
        ),
    ),
)

_MARKETING = "marketing copy and figures of the company's own campaigns"
_SHOWCASE = "about a designer's work (the designer's own profile is a category)"
_CMS = "the site's own pages"
NOT_PERSONAL: dict[str, NotPersonal] = {
    "alembic_version": NotPersonal("the schema's version"),
    "api_rate_windows": NotPersonal("a request count per API key and minute"),
    "analytics_rollups_refreshed": NotPersonal("when the rollups were last refreshed"),
    "audit_actions": NotPersonal(
        "the catalogue of actions the audit log may record",
        {"recorded_by": "which code may record the action: 'app' or 'database'"},
    ),
    "audit_chain_head": NotPersonal("the audit chain's last position and hash"),
    "campaign_analytics": NotPersonal("daily aggregates per campaign and channel"),
    "campaign_analytics_daily_by_campaign": NotPersonal("a rollup of campaign_analytics"),
    "campaign_analytics_daily_by_channel": NotPersonal("a rollup of campaign_analytics"),
    "campaign_analytics_monthly": NotPersonal("a rollup of campaign_analytics"),
    "campaign_assets": NotPersonal(_MARKETING, {"created_by": ACTOR}),
    "collections": NotPersonal(_SHOWCASE, {"show_notes": "notes about the collection's show"}),
    "content_blocks": NotPersonal(_CMS),
    "designer_analytics": NotPersonal("daily view counts of a designer's pages"),
    "designer_collaboration_participants": NotPersonal(_SHOWCASE),
    "designer_collaborations": NotPersonal(_SHOWCASE),
    "discount_code_events": NotPersonal("which events a code applies to"),
    "discount_code_ticket_types": NotPersonal("which ticket types a code applies to"),
    "discount_codes": NotPersonal("the codes' rules", {"created_by": ACTOR}),
    "email_analytics": NotPersonal(
        "daily aggregates per e-mail campaign", {"email_campaign_id": "the campaign"}
    ),
    "email_analytics_monthly": NotPersonal(
        "a rollup of email_analytics", {"email_campaign_id": "the campaign"}
    ),
    "encryption_keys": NotPersonal("key versions and where keys live, never a key"),
    "event_categories": NotPersonal("the event catalogue's categories"),
    "event_category_mappings": NotPersonal("which event is in which category"),
    "event_seats": NotPersonal(
        "a seat's status for an event; the buyer is the order's",
        {"blocked_reason": "why staff blocked a seat (about the seat)"},
    ),
    "events": NotPersonal(
        "the event catalogue",
        {"organizer_id": ACTOR},
    ),
    "fashion_item_images": NotPersonal(_SHOWCASE),
    "fashion_items": NotPersonal(_SHOWCASE),
    "graphql_schema_definitions": NotPersonal("API schema text"),
    "marketing_campaigns": NotPersonal(_MARKETING, {"created_by": ACTOR}),
    "marketing_segments": NotPersonal(
        "a segment's definition; its members are a category", {"created_by": ACTOR}
    ),
    "media_items": NotPersonal(
        "uploaded media of the site", {"uploaded_by": ACTOR, "height": "the image's height"}
    ),
    "page_versions": NotPersonal(_CMS, {"author_id": ACTOR}),
    "pages": NotPersonal(_CMS, {"author_id": ACTOR}),
    "permissions": NotPersonal("the permission catalogue"),
    "promotional_code_events": NotPersonal("which events a code applies to"),
    "promotional_code_ticket_types": NotPersonal("which ticket types a code applies to"),
    "promotional_codes": NotPersonal("the codes' rules"),
    "rest_api_endpoints": NotPersonal("the API's catalogue"),
    "role_permissions": NotPersonal("which role grants which permission"),
    "roles": NotPersonal("the role catalogue"),
    "runway_appearances": NotPersonal(
        "which look a model wears in a show; the model's profile is a category",
        {"notes": "styling notes about the look"},
    ),
    "runway_segments": NotPersonal(_SHOWCASE, {"lighting_notes": "stage lighting cues"}),
    "runway_shows": NotPersonal(_SHOWCASE, {"notes": "production notes about the show"}),
    "social_media_analytics": NotPersonal("daily aggregates per post"),
    "social_media_analytics_monthly": NotPersonal("a rollup of social_media_analytics"),
    "social_media_posts": NotPersonal(_MARKETING, {"created_by": ACTOR}),
    "sponsor_analytics": NotPersonal("daily aggregates per sponsor and event"),
    "sponsor_analytics_monthly": NotPersonal("a rollup of sponsor_analytics"),
    "sponsor_benefits": NotPersonal("the benefit catalogue"),
    "sponsorship_assets": NotPersonal(
        "a sponsor's logos and banners",
        {
            "uploaded_by": ACTOR,
            "reviewed_by": ACTOR,
            "notes": "about the asset",
            "review_note": "about the asset",
        },
    ),
    "sponsorship_tiers": NotPersonal("the tier catalogue"),
    "sponsorships": NotPersonal("a company's sponsorship of an event", {"notes": "about the deal"}),
    "system_configurations": NotPersonal("settings", {"updated_by": ACTOR}),
    "ticket_types": NotPersonal("what is on sale"),
    "tier_benefits": NotPersonal("which tier includes which benefit"),
    "venue_seats": NotPersonal(
        "a venue's seats", {"notes": "about the seat", "row_name": "a seat's row"}
    ),
    "venue_sections": NotPersonal("a venue's sections"),
}

REGISTRY = Registry(CATEGORIES, NOT_PERSONAL)
