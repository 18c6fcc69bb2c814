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

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import base as postgresql_base
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

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
from core.models.limits import (
    Email,
    FreeText,
    IpAddress,
    Json,
    LargeJson,
    Name,
    Short,
    UserAgent,
    limited,
)

AUDIT_ACTION_RECORDERS = ("app", "database")
DATA_SUBJECT_REQUEST_TYPES = ("access", "portability", "erasure", "rectification", "restriction")
DATA_SUBJECT_REQUEST_STATUSES = ("pending", "processing", "completed", "rejected")


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (the audit trail's tx_id)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "xid8"


# Reflection (alembic check) must know the name too, or it reports an unknown type.
postgresql_base.ischema_names.setdefault("xid8", Xid8)


class AuditLog(CreatedAt, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        # The audit browser reads newest first in (created_at, seq) order, with or without
        # one filter; docs/AUDIT.md. That order is the key itself (migration 0005): one
        # index fewer to maintain on every audited write.
        PrimaryKeyConstraint("created_at", "seq", name="pk_audit_logs"),
        # action last: the filter on a row change's action is checked inside this index.
        Index("idx_audit_logs_table_created", "table_name", "created_at", "seq", "action"),
        Index("idx_audit_logs_table_record", "table_name", "record_id", "created_at", "seq"),
        Index("idx_audit_logs_user_created", "user_id", "created_at", "seq"),
        # The services' own actions only: the trigger's rows never enter it.
        Index(
            "idx_audit_logs_action_created",
            "action",
            "created_at",
            "seq",
            postgresql_where=text(r"action !~ '\.(insert|update|delete)$'"),
        ),
        # Sealed rows in chain order, for verifying a range; inserts never touch it.
        Index(
            "idx_audit_logs_chain_pos",
            "chain_pos",
            postgresql_where=text("chain_pos IS NOT NULL"),
        ),
        # Only rows waiting for the sealer: small, whatever the size of the log.
        Index(
            "idx_audit_logs_unsealed",
            "tx_id",
            "seq",
            postgresql_where=text("sealed_at IS NULL"),
        ),
        {"postgresql_partition_by": "RANGE (created_at)"},
    )

    # Part of each row's sealed content, not of any index.
    id: Mapped[uuid.UUID] = mapped_column(server_default=text("gen_random_uuid()"), sort_order=-100)
    # No foreign key: audit rows outlive the users they name, and a partitioned log must
    # not block (or be scanned by) a user delete.
    user_id: Mapped[uuid.UUID | None]
    # Dotted action code, e.g. 'orders.update'.
    action: Mapped[str] = limited(200)
    table_name: Mapped[str] = limited(63)
    # Text, not uuid: some audited tables have composite keys (joined with ':').
    record_id: Mapped[str | None] = limited(200)
    old_data: Mapped[dict[str, Any] | None]
    new_data: Mapped[dict[str, Any] | None]
    ip_address: Mapped[IpAddress | None]
    user_agent: Mapped[UserAgent | None]
    # GDPR erasure overwrites personal data in the payloads and sets this; rows are never deleted.
    is_redacted: Mapped[bool] = mapped_column(server_default=FALSE)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), sort_order=100)
    # Insertion order (a sequence: partitioned tables cannot have identity columns) and the
    # writing transaction: the sealer chains rows in (tx_id, seq) order (docs/AUDIT.md).
    seq: Mapped[int] = mapped_column(
        BigInteger, server_default=text("nextval('audit_logs_seq_seq'::regclass)")
    )
    tx_id: Mapped[int] = mapped_column(Xid8, server_default=text("pg_current_xact_id()"))
    # Set by audit_seal(): the position in the chain, sha256 of the salted payloads, the
    # chained hash and when. NULL until sealed.
    chain_pos: Mapped[int | None] = mapped_column(BigInteger)
    payload_digest: Mapped[bytes | None]
    row_hash: Mapped[bytes | None]
    sealed_at: Mapped[datetime | None]
    # 16 random bytes the payload digest is salted with (migration 0011): set by the sealer,
    # replaced by every redaction, so a digest kept after an erasure cannot confirm a guess
    # of the erased value. NULL on rows sealed under content format 1 and until sealed.
    payload_salt: Mapped[bytes | None]


class AuditChainHead(Base):
    """The end of the sealed audit chain: one row, written only by audit_seal()."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (check("only_row", "single_row", field="only_row", message="one row only"),)

    only_row: Mapped[bool] = mapped_column(primary_key=True, server_default=TRUE)
    last_pos: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    last_hash: Mapped[bytes] = mapped_column(server_default=text("'\\x'::bytea"))
    sealed_at: Mapped[datetime | None]
    # The first position sealed under content format 2 (migration 0011), which covers the
    # redaction flag; earlier positions keep format 1. docs/AUDIT.md.
    v2_from_pos: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))


class AuditAction(Base):
    """An action an audit row may carry besides a trigger's `<table>.<operation>`: the
    application records those marked `app` through audit_record(), database functions
    (sign-in, reset, redaction) those marked `database`; nothing else writes the log."""

    __tablename__ = "audit_actions"
    __table_args__ = (one_of("recorded_by", AUDIT_ACTION_RECORDERS),)

    action: Mapped[str] = mapped_column(String(100), primary_key=True)
    recorded_by: Mapped[str] = mapped_column(String(8))
    # A job (no person acting) may record it too.
    without_person: Mapped[bool] = mapped_column(server_default=FALSE)
    description: Mapped[str] = mapped_column(String(200))


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
    subject_email: Mapped[Email]
    request_type: Mapped[str]
    status: Mapped[str]
    request_details: Mapped[Json | None]
    submitted_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # One month from receipt; set by the service.
    due_at: Mapped[datetime]
    identity_verified_at: Mapped[datetime | None]
    identity_verification_method: Mapped[Short | None]
    assigned_to: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None]
    rejection_reason: Mapped[FreeText | None]
    notes: Mapped[FreeText | None]
    handled_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The export an erasure is based on (migration 0006): the job that built it, its file
    # name under the export folder, when it finished and the fingerprint of the data it held.
    export_job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("background_jobs.id", ondelete="SET NULL")
    )
    export_file: Mapped[str | None] = limited(255)
    exported_at: Mapped[datetime | None]
    export_fingerprint: Mapped[str | None] = limited(128)
    # What was done: counts per table, field names changed; never personal data.
    outcome: Mapped[LargeJson | None]


MATCH_DECISIONS = ("erase", "keep")


class DataSubjectRequestMatch(UUIDPrimaryKey, Base):
    """A cell of someone else's record in which an erasure's scan found the person's
    e-mail, name or phone (migration 0014), and what a person decided: erase it (it was
    theirs after all) or keep it, with the reason. Only references and the kinds of term
    are stored, never the value."""

    __tablename__ = "data_subject_request_matches"
    __table_args__ = (
        UniqueConstraint(
            "request_id",
            "table_name",
            "record_key",
            "column_name",
            name="uq_data_subject_request_matches_cell",
        ),
        one_of("decision", MATCH_DECISIONS),
        check(
            "decision IS DISTINCT FROM 'keep' OR btrim(coalesce(reason, '')) <> ''",
            "keep_needs_reason",
            field="reason",
            message="keeping a match needs the reason (whose record it is)",
        ),
        check(
            "(decision IS NULL) = (decided_at IS NULL)",
            "decided_at",
            field="decided_at",
            message="a decision needs its time, and only a decision has one",
        ),
        check(
            "matched ~ '^(email|name|phone)(,(email|name|phone))*$'",
            "matched_valid",
            field="matched",
            message="matched lists the kinds email, name and phone",
        ),
        Index("idx_data_subject_request_matches_decided_by", "decided_by"),
    )

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("data_subject_requests.id", ondelete="CASCADE")
    )
    table_name: Mapped[str] = mapped_column(String(63))
    # The row's key as gdpr_scan_rows gives it (its id, or a JSON object of its key).
    record_key: Mapped[str] = mapped_column(String(500))
    column_name: Mapped[str] = mapped_column(String(63))
    matched: Mapped[str] = mapped_column(String(20))
    found_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decision: Mapped[str | None] = mapped_column(String(5))
    reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]


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

    key_name: Mapped[Name]
    key_version: Mapped[int]
    algorithm: Mapped[Short] = mapped_column(server_default=text("'fernet'"))
    # Where the key lives (an environment variable or secret name), never the key.
    key_reference: Mapped[str] = limited(255)
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    rotated_at: Mapped[datetime | None]
