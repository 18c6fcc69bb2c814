"""Sign-in: credentials, sessions and throttling (migration 0012).

None of these tables is granted to the app role or the sign-in role: only the SECURITY
DEFINER functions of migration 0012 read and write them (docs/SECURITY.md). The models
exist so that `alembic check` keeps the migration honest and the owner (tests, bootstrap)
can arrange rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, CreatedAt, UUIDPrimaryKey, check, one_of

SESSION_METHODS = ("password", "oidc", "job", "issued", "api_key")
SESSION_END_REASONS = (
    "signed_out",
    "deactivated",
    "password_changed",
    "erased",
    "job_finished",
    "key_revoked",
)
THROTTLE_KINDS = ("account", "address")


class UserCredential(CreatedAt, Base):
    """A person's password hash and pending reset token (moved out of users: docs/SCHEMA.md)."""

    __tablename__ = "user_credentials"
    __table_args__ = (
        check(
            "(reset_token_hash IS NULL) = (reset_token_expires_at IS NULL)",
            "reset_token_with_expiry",
            field="reset_token_expires_at",
            message="a reset token needs an expiry",
        ),
        Index(
            "idx_user_credentials_reset_token_hash",
            "reset_token_hash",
            unique=True,
            postgresql_where=text("reset_token_hash IS NOT NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # argon2id's encoded form (about 100 characters).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_changed_at: Mapped[datetime | None]
    # SHA-256 (hex) of the token; the token itself exists only in the link given out.
    reset_token_hash: Mapped[str | None] = mapped_column(String(64))
    reset_token_expires_at: Mapped[datetime | None]


class AuthSession(UUIDPrimaryKey, Base):
    """One sign-in: the database's proof of who acts (app_current_user_id)."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        one_of("method", SESSION_METHODS, name="method_allowed"),
        one_of("revoked_reason", SESSION_END_REASONS, name="revoked_reason_allowed"),
        check(
            "idle_minutes BETWEEN 1 AND 1440",
            "idle_minutes_range",
            field="idle_minutes",
            message="idle minutes must be between 1 and 1440",
        ),
        check(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)",
            "revoked_with_reason",
            field="revoked_reason",
            message="an ended session says why",
        ),
        UniqueConstraint("token_hash"),
        Index(
            "idx_auth_sessions_user_id_open",
            "user_id",
            postgresql_where=text("revoked_at IS NULL"),
        ),
        Index("idx_auth_sessions_job_id", "job_id"),
        check(
            "(method = 'api_key') = (api_key_id IS NOT NULL)",
            "api_key_with_method",
            field="api_key_id",
            message="an API key's session names its key, and only such a session does",
        ),
        Index("idx_auth_sessions_api_key_id", "api_key_id"),
    )

    # SHA-256 (hex) of the random token the signed-in person's browser session holds.
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(16))
    # The job a 'job' session acts for (as the person who queued it).
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("background_jobs.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    idle_minutes: Mapped[int]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # The API key an 'api_key' session acts for (as the key's owner; migration 0016).
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE")
    )


class SignInThrottle(Base):
    """Failed sign-ins from one address, for one typed email ('account') or for all of them
    ('address', email ''). IP addresses are personal data: rows go after their quiet period
    (docs/SECURITY.md)."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (
        one_of("kind", THROTTLE_KINDS, name="kind_allowed"),
        check(
            "kind = 'account' OR email = ''",
            "address_no_email",
            field="email",
            message="an address-wide throttle names no email",
        ),
        check(
            "failures > 0",
            "failures_positive",
            field="failures",
            message="failures must be positive",
        ),
        Index("idx_sign_in_throttles_last_failed_at", "last_failed_at"),
    )

    ip_address: Mapped[str] = mapped_column(String(45), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    failures: Mapped[int]
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    blocked_until: Mapped[datetime]
