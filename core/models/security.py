"""Audit log, GDPR data subject requests and the encryption key registry (seeds 001 phase 5
and 000, reconciled).

Row-level security policies and the seeds' SQL functions (audit trigger, retention,
export, pgcrypto encryption) are not model objects: policies belong to the migrations,
the rest is done in Python services.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import (
    FALSE,
    TRUE,
    Base,
    CreatedAt,
    Timestamps,
    UUIDPrimaryKey,
    check,
    one_of,
)

DATA_SUBJECT_REQUEST_TYPES = ("access", "portability", "erasure", "rectification", "restriction")
DATA_SUBJECT_REQUEST_STATUSES = ("pending", "processing", "completed", "rejected")


class AuditLog(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("idx_audit_logs_table_record", "table_name", "record_id", "created_at"),
        Index("idx_audit_logs_user_id", "user_id", "created_at"),
        Index("idx_audit_logs_action", "action"),
        Index("idx_audit_logs_created_at", "created_at"),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    # No foreign key: audit rows outlive the users they name, and a partitioned log must
    # not block (or be scanned by) a user delete.
    user_id: Mapped[uuid.UUID | None]
    # Dotted action code, e.g. 'orders.update'.
    action: Mapped[str]
    table_name: Mapped[str]
    # Text, not uuid: some audited tables have composite keys.
    record_id: Mapped[str | None]
    old_data: Mapped[dict[str, Any] | None]
    new_data: Mapped[dict[str, Any] | None]
    ip_address: Mapped[str | None]
    user_agent: Mapped[str | None]
    # GDPR erasure overwrites personal data in the payloads and sets this; rows are never deleted.
    is_redacted: Mapped[bool] = mapped_column(server_default=FALSE)
    created_at: Mapped[datetime] = mapped_column(
        primary_key=True, server_default=func.now(), sort_order=100
    )


class DataSubjectRequest(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "data_subject_requests"
    __table_args__ = (
        one_of("request_type", DATA_SUBJECT_REQUEST_TYPES),
        one_of("status", DATA_SUBJECT_REQUEST_STATUSES),
        check(
            "status <> 'rejected' OR rejection_reason IS NOT NULL",
            "rejection_reason_required",
            field="rejection_reason",
            message="a rejected request needs a rejection reason",
        ),
        Index("idx_data_subject_requests_status_due_at", "status", "due_at"),
        Index("idx_data_subject_requests_user_id", "user_id"),
        Index("idx_data_subject_requests_assigned_to", "assigned_to"),
        Index("idx_data_subject_requests_handled_by", "handled_by"),
        Index("idx_data_subject_requests_subject_email", "subject_email"),
        Index("idx_data_subject_requests_export_job_id", "export_job_id"),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Requests may come from people without an account, so the email is what identifies them.
    subject_email: Mapped[str]
    request_type: Mapped[str]
    status: Mapped[str]
    request_details: Mapped[dict[str, Any] | None]
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # One month from receipt; set by the service.
    due_at: Mapped[datetime]
    identity_verified_at: Mapped[datetime | None]
    identity_verification_method: Mapped[str | None]
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None]
    notes: Mapped[str | None]
    handled_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The export an erasure is based on (migration 0006): the job that built it, its file
    # name under the export folder, when it finished and the fingerprint of the data it held.
    export_job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("background_jobs.id", ondelete="SET NULL")
    )
    export_file: Mapped[str | None]
    exported_at: Mapped[datetime | None]
    export_fingerprint: Mapped[str | None]
    # What was done: counts per table, field names changed; never personal data.
    outcome: Mapped[dict[str, Any] | None]


class EncryptionKey(UUIDPrimaryKey, CreatedAt, Base):
    """A registered key version. The key itself never enters the database."""

    __tablename__ = "encryption_keys"
    __table_args__ = (
        UniqueConstraint("key_name", "key_version"),
        check(
            "key_version > 0",
            "key_version_positive",
            field="key_version",
            message="key version must be greater than zero",
        ),
        Index(
            "uq_encryption_keys_one_active",
            "key_name",
            unique=True,
            postgresql_where=text("is_active"),
        ),
    )

    key_name: Mapped[str]
    key_version: Mapped[int]
    algorithm: Mapped[str] = mapped_column(server_default=text("'fernet'"))
    # Where the key lives (an environment variable or secret name), never the key.
    key_reference: Mapped[str]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    rotated_at: Mapped[datetime | None]
