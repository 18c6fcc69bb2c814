"""Domain event outbox, background job queue and runtime configuration (seeds 002: its
`events`, `background_jobs` and `system_configurations` tables).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import (
    EMPTY_OBJECT,
    TRUE,
    ZERO,
    Base,
    Timestamps,
    UUIDPrimaryKey,
    check,
    non_negative,
    one_of,
)
from core.models.limits import (
    JSON_SMALL,
    FreeText,
    Json,
    LargeJson,
    Short,
    limited,
)

DOMAIN_EVENT_STATUSES = ("pending", "processing", "processed", "failed")
BACKGROUND_JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
# Statuses in which a job still holds its dedupe_key.
BACKGROUND_JOB_LIVE_STATUSES = ("pending", "running")
CONFIG_VALUE_TYPES = ("string", "number", "boolean", "duration", "json")


class DomainEvent(UUIDPrimaryKey, Base):
    """An event-sourcing / outbox record (002's `events`, renamed: `events` are fashion events)."""

    __tablename__ = "domain_events"
    # Not partitioned: idempotency_key must be unique across the whole table, and a
    # partitioned table's unique keys must contain the partition column.
    __table_args__ = (
        one_of("processing_status", DOMAIN_EVENT_STATUSES),
        non_negative("retry_count"),
        check(
            "event_version > 0",
            "event_version_positive",
            field="event_version",
            message="event version must be greater than zero",
        ),
        Index(
            "idx_domain_events_aggregate",
            "aggregate_id",
            "aggregate_type",
            text("occurred_at DESC"),
        ),
        Index(
            "idx_domain_events_pending",
            "occurred_at",
            postgresql_where=text("processing_status = 'pending'"),
        ),
        Index(
            "idx_domain_events_pending_sequence",
            "sequence",
            postgresql_where=text("processing_status = 'pending'"),
        ),
    )

    aggregate_id: Mapped[str] = limited(200)
    aggregate_type: Mapped[Short]
    event_type: Mapped[str] = limited(200)
    event_version: Mapped[int] = mapped_column(server_default=text("1"))
    event_data: Mapped[LargeJson]
    # `metadata` is reserved on declarative classes; the column keeps its name.
    event_metadata: Mapped[Json | None] = mapped_column("metadata")
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    processed_at: Mapped[datetime | None]
    processing_status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    retry_count: Mapped[int] = mapped_column(server_default=ZERO)
    error: Mapped[FreeText | None]
    idempotency_key: Mapped[str] = limited(200, unique=True)
    source_system: Mapped[Short]
    correlation_id: Mapped[str | None] = limited(200)
    causation_id: Mapped[str | None] = limited(200)
    # The webhook fan-out's order (migration 0017).
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(always=True))


class BackgroundJob(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "background_jobs"
    __table_args__ = (
        one_of("status", BACKGROUND_JOB_STATUSES),
        non_negative("max_retries"),
        non_negative("retry_count"),
        check(
            "progress >= 0 AND progress <= 100",
            "progress_between_0_and_100",
            field="progress",
            message="progress must be between 0 and 100",
        ),
        Index(
            "idx_background_jobs_pending",
            "priority",
            "scheduled_for",
            postgresql_where=text("status = 'pending'"),
        ),
        # One live job per dedupe key; finished jobs release it.
        Index(
            "uq_background_jobs_live_dedupe_key",
            "dedupe_key",
            unique=True,
            postgresql_where=text(
                "status IN (" + ", ".join(f"'{s}'" for s in BACKGROUND_JOB_LIVE_STATUSES) + ")"
            ),
        ),
        Index("idx_background_jobs_created_by", "created_by"),
    )

    job_type: Mapped[Short]
    payload: Mapped[LargeJson] = mapped_column(server_default=EMPTY_OBJECT)
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    # Lower runs first.
    priority: Mapped[int] = mapped_column(server_default=text("100"))
    max_retries: Mapped[int] = mapped_column(server_default=text("3"))
    retry_count: Mapped[int] = mapped_column(server_default=ZERO)
    scheduled_for: Mapped[datetime] = mapped_column(server_default=func.now())
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error: Mapped[FreeText | None]
    result: Mapped[LargeJson | None]
    progress: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=ZERO)
    progress_message: Mapped[str | None] = limited(1000)
    locked_by: Mapped[str | None] = limited(200)
    locked_at: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = limited(200)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class SystemConfiguration(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "system_configurations"
    __table_args__ = (
        UniqueConstraint("category", "key"),
        one_of("value_type", CONFIG_VALUE_TYPES),
        # jsonb keeps the value's type; make it agree with value_type where JSON can say so.
        check(
            "CASE value_type"
            " WHEN 'string' THEN jsonb_typeof(value) = 'string'"
            " WHEN 'number' THEN jsonb_typeof(value) = 'number'"
            " WHEN 'boolean' THEN jsonb_typeof(value) = 'boolean'"
            " ELSE true END",
            "value_matches_value_type",
            field="value",
            message="value must be of the kind named by value type",
        ),
        Index("idx_system_configurations_updated_by", "updated_by"),
    )

    category: Mapped[Short]
    key: Mapped[Short]
    # Any JSON value: a number, string, boolean or object. Python None is SQL NULL (refused),
    # not a JSON null.
    value: Mapped[Any] = limited(JSON_SMALL, JSONB(none_as_null=True))
    value_type: Mapped[str]
    description: Mapped[FreeText | None]
    is_hot_reloadable: Mapped[bool] = mapped_column(server_default=TRUE)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
