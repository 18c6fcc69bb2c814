"""API keys and their usage log, webhooks and their delivery log, and the GraphQL schema
and REST endpoint registries (seeds 001 phase 5 and 000, reconciled).

The two logs are range-partitioned by month on created_at; the migration creates the
partitions.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
    EMPTY_ARRAY,
    EMPTY_OBJECT,
    FALSE,
    TRUE,
    ZERO,
    Base,
    CreatedAt,
    Timestamps,
    UUIDPrimaryKey,
    check,
    non_negative,
    one_of,
)
from core.models.limits import (
    Body,
    FreeText,
    IpAddress,
    Json,
    JsonList,
    LargeJson,
    LargeJsonList,
    Name,
    Short,
    Url,
    UserAgent,
    Words,
    limited,
)

# The API's scopes (read and write per resource group); core.api_keys.SCOPES is this list,
# and migration 0016 checks api_keys.scopes against it.
API_SCOPES = (
    "events:read",
    "events:write",
    "orders:read",
    "orders:write",
    "attendees:read",
    "analytics:read",
    "discounts:read",
    "webhooks:read",
    "webhooks:write",
    "keys:admin",
)
WEBHOOK_DELIVERY_STATUSES = ("pending", "success", "failed", "retry")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

DEFAULT_RATE_LIMIT = text("100")


def _positive_rate_limit() -> CheckConstraint:
    return check(
        "rate_limit > 0",
        "rate_limit_positive",
        field="rate_limit",
        message="rate limit must be greater than zero",
    )


class ApiKey(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        _positive_rate_limit(),
        check(
            f"cardinality(scopes) <= {len(API_SCOPES)} AND text_array_longest(scopes) <= 32"
            " AND scopes <@ ARRAY[{}]".format(", ".join(f"'{s}'" for s in API_SCOPES)),
            "scopes_known",
            field="scopes",
            message=f"scopes must be among: {', '.join(API_SCOPES)}",
        ),
        check(
            "revoked_by IS NULL OR revoked_at IS NOT NULL",
            "revoked_with_time",
            field="revoked_by",
            message="a key revoked by someone has a revocation time",
        ),
        Index("idx_api_keys_key_prefix", "key_prefix"),
        Index("idx_api_keys_user_id", "user_id"),
        Index("idx_api_keys_is_active", "is_active", postgresql_where=text("is_active")),
        Index("idx_api_keys_rotated_from_id", "rotated_from_id"),
    )

    name: Mapped[Name]
    # Shown to people to tell keys apart; the key is found by its hash.
    key_prefix: Mapped[str] = limited(32, ascii=True)
    # SHA-256 (hex) of the whole key. The app role may write it once, never read it
    # (migration 0016); api_key_authenticate compares it.
    key_hash: Mapped[str] = limited(128, ascii=True, unique=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    permissions: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    rate_limit: Mapped[int] = mapped_column(server_default=DEFAULT_RATE_LIMIT)
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    scopes: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Where the key was last used from (updated at most once a minute).
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    # The key this one replaced by rotation; that key stops at its grace_until.
    rotated_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    grace_until: Mapped[datetime | None]


class ApiRateWindow(Base):
    """The requests of a key's current minute, counted by api_key_authenticate so that
    every API process shares one limit. Sealed: only that function reaches it."""

    __tablename__ = "api_rate_windows"
    __table_args__ = (
        check("hits > 0", "hits_positive", field="hits", message="hits must be positive"),
    )

    api_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime]
    hits: Mapped[int]


class ApiUsageLog(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "api_usage_logs"
    __table_args__ = (
        non_negative("response_time_ms"),
        non_negative("request_size_bytes"),
        non_negative("response_size_bytes"),
        Index("idx_api_usage_logs_api_key_id", "api_key_id"),
        Index("idx_api_usage_logs_endpoint", "endpoint"),
        Index("idx_api_usage_logs_created_at", "created_at"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    endpoint: Mapped[Url]
    method: Mapped[str] = limited(16)
    status_code: Mapped[int]
    response_time_ms: Mapped[int]
    request_size_bytes: Mapped[int | None]
    response_size_bytes: Mapped[int | None]
    ip_address: Mapped[IpAddress | None]
    user_agent: Mapped[UserAgent | None]
    created_at: Mapped[datetime] = mapped_column(
        primary_key=True, server_default=func.now(), sort_order=100
    )


class Webhook(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "webhooks"
    __table_args__ = (
        Index("idx_webhooks_user_id", "user_id"),
        Index("idx_webhooks_is_active", "is_active", postgresql_where=text("is_active")),
        Index("idx_webhooks_events", "events", postgresql_using="gin"),
        check(
            "secret_key IS NULL",
            "no_plaintext_secret",
            field="secret_key",
            message="webhook secrets are stored sealed, never in plain text",
        ),
        check(
            "(previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL)",
            "previous_secret_expires",
            field="previous_secret_expires_at",
            message="a previous secret needs the time it stops signing",
        ),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[Name]
    description: Mapped[FreeText | None]
    url: Mapped[Url]
    events: Mapped[Words]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    # The design's plain signing secret: always NULL since migration 0017 (a CHECK), the
    # secret is sealed below (core/webhooks/secrets.py).
    secret_key: Mapped[str | None] = limited(255)
    headers: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    # The signing secret as Fernet ciphertext under a version of the `webhook_secret` key.
    secret_sealed: Mapped[str | None] = limited(1024, ascii=True)
    secret_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encryption_keys.id", ondelete="RESTRICT")
    )
    # After a rotation the previous secret also signs until previous_secret_expires_at.
    previous_secret_sealed: Mapped[str | None] = limited(1024, ascii=True)
    previous_secret_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encryption_keys.id", ondelete="RESTRICT")
    )
    previous_secret_expires_at: Mapped[datetime | None]
    # Since when every attempt failed (NULL after a success); the dispatcher disables the
    # endpoint after core.webhooks.dispatcher.DISABLE_AFTER of that.
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = limited(1000)

    # The ORM deletes loaded logs, the database's ON DELETE CASCADE the rest.
    delivery_logs: Mapped[list[WebhookDeliveryLog]] = relationship(
        back_populates="webhook",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class WebhookDeliveryLog(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "webhook_delivery_logs"
    __table_args__ = (
        one_of("status", WEBHOOK_DELIVERY_STATUSES),
        non_negative("attempt_count"),
        Index("idx_webhook_delivery_logs_webhook_id", "webhook_id"),
        Index("idx_webhook_delivery_logs_event_type", "event_type"),
        Index("idx_webhook_delivery_logs_status", "status"),
        Index("idx_webhook_delivery_logs_created_at", "created_at"),
        non_negative("duration_ms"),
        # One delivery per (domain event, endpoint): created_at is the event's time, so
        # the partition column in the key changes nothing.
        Index(
            "uq_webhook_delivery_logs_event_endpoint",
            "domain_event_id",
            "webhook_id",
            "created_at",
            unique=True,
        ),
        Index("uq_webhook_delivery_logs_message_id", "message_id", "created_at", unique=True),
        Index(
            "idx_webhook_delivery_logs_due",
            "next_retry_at",
            postgresql_where=text("status IN ('pending', 'retry')"),
        ),
        Index(
            "idx_webhook_delivery_logs_open_aggregate",
            "webhook_id",
            "aggregate_id",
            "event_sequence",
            postgresql_where=text("status IN ('pending', 'retry')"),
        ),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_type: Mapped[Short]
    payload: Mapped[LargeJson]
    response_code: Mapped[int | None]
    response_body: Mapped[Body | None]
    error_message: Mapped[FreeText | None]
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    attempt_count: Mapped[int] = mapped_column(server_default=ZERO)
    next_retry_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(
        primary_key=True, server_default=func.now(), sort_order=100
    )
    completed_at: Mapped[datetime | None]
    # The outbox row this delivers (NULL for a test ping); no foreign key, so the outbox's
    # retention never waits on the delivery log.
    domain_event_id: Mapped[uuid.UUID | None]
    # Standard Webhooks' webhook-id (msg_...): the same on every attempt and replay.
    message_id: Mapped[str] = limited(
        64,
        ascii=True,
        server_default=text(
            "('msg_'::text || replace((gen_random_uuid())::text, '-'::text, ''::text))"
        ),
    )
    # Deliveries of one aggregate to one endpoint go out in event_sequence order.
    aggregate_id: Mapped[str | None] = limited(200)
    event_sequence: Mapped[int | None] = mapped_column(BigInteger)
    # The lease of the worker sending the current attempt.
    locked_by: Mapped[str | None] = limited(200)
    locked_until: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    # Every attempt: number, time, response code, capped body, duration, error.
    attempts: Mapped[LargeJsonList] = mapped_column(server_default=EMPTY_ARRAY)

    webhook: Mapped[Webhook] = relationship(back_populates="delivery_logs")


class GraphqlSchemaDefinition(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "graphql_schema_definitions"

    name: Mapped[Name] = mapped_column(unique=True)
    description: Mapped[FreeText | None]
    schema_definition: Mapped[Body]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    version: Mapped[str] = limited(32)


class RestApiEndpoint(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "rest_api_endpoints"
    __table_args__ = (
        # The seeds made path unique alone, but one path serves several methods.
        UniqueConstraint("path", "method"),
        one_of("method", HTTP_METHODS),
        _positive_rate_limit(),
        Index("idx_rest_api_endpoints_function_name", "function_name"),
    )

    path: Mapped[Url]
    method: Mapped[str]
    description: Mapped[FreeText | None]
    function_name: Mapped[Name]
    required_permissions: Mapped[Words | None]
    rate_limit: Mapped[int] = mapped_column(server_default=DEFAULT_RATE_LIMIT)
    is_public: Mapped[bool] = mapped_column(server_default=FALSE)
    is_deprecated: Mapped[bool] = mapped_column(server_default=FALSE)
    version: Mapped[str] = limited(32)
