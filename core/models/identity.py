"""Users, their profiles, roles and permissions (seeds 001, section 1)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
    EMPTY_OBJECT,
    FALSE,
    ZERO,
    Base,
    CreatedAt,
    Timestamps,
    UUIDPrimaryKey,
    check,
    non_negative,
    one_of,
)

USER_TYPES = (
    "admin",
    "organizer",
    "designer",
    "model",
    "sponsor",
    "attendee",
    "staff",
    "marketing",
)
USER_STATUSES = ("active", "inactive", "pending", "suspended")


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        check(
            r"email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$'",
            "email_format",
            field="email",
            message="email must look like name@example.com",
        ),
        one_of("user_type", USER_TYPES),
        one_of("status", USER_STATUSES),
        non_negative("login_attempts"),
        Index("idx_users_user_type", "user_type"),
        Index("idx_users_status", "status"),
        Index("idx_users_created_at", "created_at"),
        Index("idx_users_last_login", "last_login"),
        # Sign-in looks people up by email whatever its case (migration 0003).
        Index("idx_users_email_lower", text("lower(email)")),
        Index(
            "idx_users_full_name_trgm",
            "full_name",
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
        ),
        Index(
            "idx_users_marketing_restricted_at",
            "marketing_restricted_at",
            postgresql_where=text("marketing_restricted_at IS NOT NULL"),
        ),
    )

    email: Mapped[str] = mapped_column(unique=True)
    # Nullable: people who sign in through OpenID Connect have no password.
    password_hash: Mapped[str | None]
    full_name: Mapped[str]
    phone_number: Mapped[str | None]
    user_type: Mapped[str]
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    last_login: Mapped[datetime | None]
    profile_image_url: Mapped[str | None]
    email_verified: Mapped[bool] = mapped_column(server_default=FALSE)
    phone_verified: Mapped[bool] = mapped_column(server_default=FALSE)
    two_factor_enabled: Mapped[bool] = mapped_column(server_default=FALSE)
    login_attempts: Mapped[int] = mapped_column(server_default=ZERO)
    # Added by migration 0003: the lockout's end (set at the fifth failure in a row) and the
    # forced change at the next sign-in (the generated first-admin password).
    locked_until: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(server_default=FALSE)
    reset_token: Mapped[str | None]
    reset_token_expires_at: Mapped[datetime | None]
    # Used by the seeds' retention function but never defined there.
    is_anonymized: Mapped[bool] = mapped_column(server_default=FALSE)
    # GDPR restriction (migration 0006): while set, marketing leaves the person out.
    marketing_restricted_at: Mapped[datetime | None]

    profile: Mapped[UserProfile | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan", passive_deletes=True
    )
    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class UserProfile(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "user_profiles"
    __table_args__ = (
        Index("idx_user_profiles_location", "location"),
        Index("idx_user_profiles_interests", "interests", postgresql_using="gin"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    # first_name .. date_of_birth: used by the seeds' export and retention functions, never defined.
    first_name: Mapped[str | None]
    last_name: Mapped[str | None]
    address: Mapped[dict[str, Any] | None]
    date_of_birth: Mapped[date | None]
    bio: Mapped[str | None]
    social_links: Mapped[dict[str, Any]] = mapped_column(server_default=EMPTY_OBJECT)
    company: Mapped[str | None]
    position: Mapped[str | None]
    location: Mapped[str | None]
    website: Mapped[str | None]
    interests: Mapped[list[str] | None]
    preferences: Mapped[dict[str, Any]] = mapped_column(server_default=EMPTY_OBJECT)
    notification_settings: Mapped[dict[str, Any]] = mapped_column(
        server_default=text("""'{"email": true, "sms": false, "push": true}'::jsonb""")
    )
    # Ciphertext produced in Python; the key lives outside the database (see encryption_keys).
    encrypted_payment_info: Mapped[str | None]
    payment_info_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encryption_keys.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(back_populates="profile")


class Role(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(unique=True)
    description: Mapped[str | None]


class Permission(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "permissions"
    __table_args__ = (UniqueConstraint("resource", "action"),)

    name: Mapped[str] = mapped_column(unique=True)
    description: Mapped[str | None]
    resource: Mapped[str]
    action: Mapped[str]


class RolePermission(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "role_permissions"
    __table_args__ = (
        UniqueConstraint("role_id", "permission_id"),
        Index("idx_role_permissions_permission_id", "permission_id"),
    )

    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    permission_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permissions.id", ondelete="CASCADE")
    )


class UserRole(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role_id"),
        Index("idx_user_roles_role_id", "role_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship(back_populates="roles")
    role: Mapped[Role] = relationship()
