"""Users, their profiles, roles and permissions (seeds 001, section 1)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
    EMPTY_OBJECT,
    FALSE,
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
    Json,
    Name,
    Phone,
    Short,
    Url,
    Words,
    limited,
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

    email: Mapped[Email] = mapped_column(unique=True)
    # The password hash and reset token live in user_credentials (migration 0012), out of
    # the app role's reach; the lockout columns went with the lockout (docs/SCHEMA.md).
    full_name: Mapped[Name]
    phone_number: Mapped[Phone | None]
    user_type: Mapped[str]
    status: Mapped[str] = mapped_column(server_default=text("'pending'"))
    last_login: Mapped[datetime | None]
    profile_image_url: Mapped[Url | None]
    email_verified: Mapped[bool] = mapped_column(server_default=FALSE)
    phone_verified: Mapped[bool] = mapped_column(server_default=FALSE)
    two_factor_enabled: Mapped[bool] = mapped_column(server_default=FALSE)
    # Added by migration 0003: the forced change at the next sign-in (the generated
    # first-admin password).
    must_change_password: Mapped[bool] = mapped_column(server_default=FALSE)
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
    first_name: Mapped[Name | None]
    last_name: Mapped[Name | None]
    address: Mapped[Json | None]
    date_of_birth: Mapped[date | None]
    bio: Mapped[FreeText | None]
    social_links: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    company: Mapped[Name | None]
    position: Mapped[Name | None]
    location: Mapped[Name | None]
    website: Mapped[Url | None]
    interests: Mapped[Words | None]
    preferences: Mapped[Json] = mapped_column(server_default=EMPTY_OBJECT)
    notification_settings: Mapped[Json] = mapped_column(
        server_default=text("""'{"email": true, "sms": false, "push": true}'::jsonb""")
    )
    # Ciphertext produced in Python; the key lives outside the database (see encryption_keys).
    encrypted_payment_info: Mapped[str | None] = limited(4096)
    payment_info_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encryption_keys.id", ondelete="SET NULL")
    )

    user: Mapped[User] = relationship(back_populates="profile")


class Role(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "roles"

    name: Mapped[Short] = mapped_column(unique=True)
    description: Mapped[FreeText | None]


class Permission(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "permissions"
    __table_args__ = (UniqueConstraint("resource", "action"),)

    name: Mapped[Short] = mapped_column(unique=True)
    description: Mapped[FreeText | None]
    resource: Mapped[Short]
    action: Mapped[Short]


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
