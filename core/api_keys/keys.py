"""Creating, listing, revoking and rotating API keys."""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.permissions import API_KEYS_MANAGE
from core.db import Actor, UnitOfWork, context_params, get_owner_engine, unit_of_work
from core.db.uow import ACTOR_CONTEXT
from core.errors import Conflict, NotFound, ValidationError
from core.models.api import API_SCOPES
from core.models.limits import NAME

SCOPES: tuple[str, ...] = API_SCOPES
KEY_PREFIX = "fk_live_"
_ALPHABET = string.ascii_letters + string.digits
# 43 characters of 62 carry 256.1 bits: the secret is as strong as 32 random bytes, and
# letters and digits alone survive a double-click, a shell and a URL unquoted.
SECRET_LENGTH = 43
PREFIX_LENGTH = 8
MAX_RATE_LIMIT = 100_000  # requests per minute
MAX_GRACE_MINUTES = 7 * 24 * 60
DEFAULT_RATE_LIMIT = 100


@dataclass(frozen=True)
class CreatedKey:
    """A key just made: `secret` is the whole key, shown once and never stored."""

    key_id: uuid.UUID
    prefix: str
    name: str
    owner_id: uuid.UUID
    scopes: tuple[str, ...]
    rate_limit: int
    expires_at: datetime | None
    secret: str = field(repr=False)


@dataclass(frozen=True)
class KeyInfo:
    """A key as pages and the API list it (never its hash)."""

    key_id: uuid.UUID
    name: str
    prefix: str
    owner_id: uuid.UUID | None
    owner_email: str | None
    owner_name: str | None
    scopes: tuple[str, ...]
    rate_limit: int
    status: str  # active | rotating | replaced | expired | revoked
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    revoked_at: datetime | None
    grace_until: datetime | None
    rotated_from_id: uuid.UUID | None


def hash_key(raw_key: str) -> str:
    """SHA-256 (hex) of the whole key, as api_key_authenticate computes it."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def _new_key() -> tuple[str, str]:
    prefix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(8))
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_LENGTH))
    return f"{KEY_PREFIX}{prefix}", f"{KEY_PREFIX}{prefix}_{secret}"


class _OwnerUnitOfWork(UnitOfWork):
    """A unit of work on the owner connection for a system actor (the command line).

    On the app role a system actor is no one: row-level security would hide every user
    and key. The owner writes the audit rows with no user and the command as agent.
    """

    def __enter__(self) -> UnitOfWork:
        self.session = Session(get_owner_engine(), expire_on_commit=False)
        try:
            self.session.execute(
                ACTOR_CONTEXT, context_params(self.actor, read_only=self.read_only)
            )
        except BaseException:
            self.session.close()
            raise
        return self


def unit(actor: Actor, *, read_only: bool = False) -> UnitOfWork:
    """The unit of work for `actor`: the owner's for a system actor, else the app role's."""
    if actor.is_system:
        return _OwnerUnitOfWork(actor, read_only=read_only)
    return unit_of_work(actor, read_only=read_only)


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("Name is required.", field="name")
    name = name.strip()
    if len(name) > NAME:
        raise ValidationError(f"Name is at most {NAME} characters.", field="name")
    if "\x00" in name:
        raise ValidationError("Name cannot contain NUL characters.", field="name")
    return name


def _clean_scopes(scopes: Any) -> tuple[str, ...]:
    if isinstance(scopes, str) or not isinstance(scopes, Sequence) or not scopes:
        raise ValidationError("Choose at least one scope.", field="scopes")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        shown = ", ".join(repr(str(s))[:40] for s in unknown[:3])
        raise ValidationError(
            f"Unknown scope {shown}; scopes are: {', '.join(SCOPES)}.", field="scopes"
        )
    return tuple(s for s in SCOPES if s in scopes)


def _clean_expiry(expires_at: Any) -> datetime | None:
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime):
        raise ValidationError("Expiry must be a date and time.", field="expires_at")
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= datetime.now(UTC):
        raise ValidationError("Expiry must be in the future.", field="expires_at")
    if expires_at > datetime.now(UTC) + timedelta(days=3660):
        raise ValidationError("Expiry is at most ten years ahead.", field="expires_at")
    return expires_at


def _clean_rate_limit(rate_limit: Any) -> int:
    if rate_limit is None:
        return DEFAULT_RATE_LIMIT
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int):
        raise ValidationError("Rate limit must be a whole number.", field="rate_limit")
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise ValidationError(
            f"Rate limit must be between 1 and {MAX_RATE_LIMIT:,} requests per minute.",
            field="rate_limit",
        )
    return rate_limit


_INSERT = text(
    "INSERT INTO api_keys (name, key_prefix, key_hash, user_id, scopes, rate_limit,"
    " expires_at, created_by, rotated_from_id)"
    " VALUES (:name, :prefix, :hash, :owner, CAST(:scopes AS text[]), :rate,"
    " :expires, :by, :from_id) RETURNING id"
)


def _insert(
    session: Session,
    actor: Actor,
    *,
    name: str,
    owner_id: uuid.UUID,
    scopes: tuple[str, ...],
    rate_limit: int,
    expires_at: datetime | None,
    rotated_from: uuid.UUID | None = None,
) -> CreatedKey:
    prefix, raw = _new_key()
    key_id = session.execute(
        _INSERT,
        {
            "name": name,
            "prefix": prefix,
            "hash": hash_key(raw),
            "owner": owner_id,
            "scopes": list(scopes),
            "rate": rate_limit,
            "expires": expires_at,
            "by": actor.user_id,
            "from_id": rotated_from,
        },
    ).scalar_one()
    return CreatedKey(key_id, prefix, name, owner_id, scopes, rate_limit, expires_at, raw)


def create_key(
    actor: Actor,
    *,
    owner_email: str,
    name: str,
    scopes: Sequence[str],
    expires_at: datetime | None = None,
    rate_limit: int | None = None,
) -> CreatedKey:
    """Make a key for the active account `owner_email`; the returned `secret` is the
    whole key, shown once (only its prefix and SHA-256 are kept). Audited.

    Raises ValidationError naming the field (name, scopes, expires_at, rate_limit,
    owner_email for an account that is not active), PermissionDenied unless the actor
    holds api_keys.manage, NotFound for an unknown owner.
    """
    name = _clean_name(name)
    clean_scopes = _clean_scopes(scopes)
    expiry = _clean_expiry(expires_at)
    limit = _clean_rate_limit(rate_limit)
    if not isinstance(owner_email, str) or not owner_email.strip():
        raise ValidationError("Owner email is required.", field="owner_email")
    with unit(actor) as uow:
        uow.require(API_KEYS_MANAGE)
        owner = uow.session.execute(
            text("SELECT id, status FROM users WHERE lower(email) = lower(:e)"),
            {"e": owner_email.strip()[:254]},
        ).first()
        if owner is None:
            raise NotFound("No account has this email.", field="owner_email")
        if owner.status != "active":
            raise ValidationError(
                "The owner's account is not active; a key acts as its owner.",
                field="owner_email",
            )
        created = _insert(
            uow.session,
            actor,
            name=name,
            owner_id=owner.id,
            scopes=clean_scopes,
            rate_limit=limit,
            expires_at=expiry,
        )
        uow.commit()
    return created


_STATUS = """
  CASE WHEN k.revoked_at IS NOT NULL OR NOT k.is_active THEN 'revoked'
       WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired'
       WHEN k.grace_until IS NOT NULL AND k.grace_until <= now() THEN 'replaced'
       WHEN k.grace_until IS NOT NULL THEN 'rotating'
       ELSE 'active' END
"""
_SELECT = f"""
SELECT k.id, k.name, k.key_prefix, k.user_id, u.email, u.full_name, k.scopes, k.rate_limit,
       {_STATUS} AS status, k.created_at, k.expires_at, k.last_used_at, k.last_used_ip,
       k.revoked_at, k.grace_until, k.rotated_from_id
  FROM api_keys k LEFT JOIN users u ON u.id = k.user_id
"""
STATUSES = ("active", "rotating", "replaced", "expired", "revoked")


def _info(row: Any) -> KeyInfo:
    return KeyInfo(
        key_id=row.id,
        name=row.name,
        prefix=row.key_prefix,
        owner_id=row.user_id,
        owner_email=row.email,
        owner_name=row.full_name,
        scopes=tuple(row.scopes or ()),
        rate_limit=row.rate_limit,
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        last_used_ip=row.last_used_ip,
        revoked_at=row.revoked_at,
        grace_until=row.grace_until,
        rotated_from_id=row.rotated_from_id,
    )


def list_keys(
    actor: Actor, *, owner_id: uuid.UUID | None = None, include_revoked: bool = False
) -> list[KeyInfo]:
    """The keys the actor may see (all for api_keys.manage, else their own; row-level
    security decides), newest first; without `include_revoked`, revoked keys and old keys
    past their rotation's grace period are left out. Raises nothing of its own."""
    where = ["true"]
    params: dict[str, Any] = {}
    if owner_id is not None:
        where.append("k.user_id = :owner")
        params["owner"] = owner_id
    if not include_revoked:
        where.append(f"({_STATUS}) NOT IN ('revoked', 'replaced')")
    with unit(actor, read_only=True) as uow:
        rows = uow.session.execute(
            text(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY k.created_at DESC, k.id"),
            params,
        ).all()
    return [_info(r) for r in rows]


def get_key(actor: Actor, key_id: uuid.UUID) -> KeyInfo:
    """One key the actor may see; NotFound otherwise."""
    with unit(actor, read_only=True) as uow:
        row = uow.session.execute(text(f"{_SELECT} WHERE k.id = :k"), {"k": key_id}).first()
    if row is None:
        raise NotFound("No such API key.", field="key_id")
    return _info(row)


def _key_id(key_id: Any) -> uuid.UUID:
    if isinstance(key_id, uuid.UUID):
        return key_id
    try:
        return uuid.UUID(str(key_id))
    except ValueError:
        raise NotFound("No such API key.", field="key_id") from None


def revoke_key(actor: Actor, key_id: uuid.UUID | str) -> KeyInfo:
    """Revoke the key `key_id` now: its next request is refused and its session ends at
    once (trigger api_key_changed). Its owner or a holder of api_keys.manage may; revoking
    a revoked key changes nothing. Audited. Raises NotFound for a key the actor cannot
    see."""
    key = _key_id(key_id)
    with unit(actor) as uow:
        found = uow.session.execute(
            text(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()),"
                " revoked_by = CASE WHEN revoked_at IS NULL THEN :by ELSE revoked_by END,"
                " is_active = false WHERE id = :k RETURNING id"
            ),
            {"k": key, "by": actor.user_id},
        ).first()
        if found is None:
            raise NotFound("No such API key.", field="key_id")
        row = uow.session.execute(text(f"{_SELECT} WHERE k.id = :k"), {"k": key}).one()
        uow.commit()
    return _info(row)


def rotate_key(actor: Actor, key_id: uuid.UUID | str, *, grace_minutes: int = 60) -> CreatedKey:
    """Replace the key `key_id` by a new one with the same name, owner, scopes, limit and
    expiry; the old key keeps working for `grace_minutes` (0 to 10080), then stops.
    Returns the new key (its secret shown once). Audited.

    Raises ValidationError (grace_minutes), PermissionDenied without api_keys.manage,
    NotFound for a key the actor cannot see, Conflict for a key that is revoked, expired
    or already rotated.
    """
    if isinstance(grace_minutes, bool) or not isinstance(grace_minutes, int):
        raise ValidationError("Grace period must be a whole number of minutes.", field="grace")
    if not 0 <= grace_minutes <= MAX_GRACE_MINUTES:
        raise ValidationError(
            f"Grace period must be between 0 and {MAX_GRACE_MINUTES} minutes.", field="grace"
        )
    key = _key_id(key_id)
    with unit(actor) as uow:
        uow.require(API_KEYS_MANAGE)
        old = uow.session.execute(
            text(
                f"SELECT k.id, k.name, k.user_id, k.scopes, k.rate_limit, k.expires_at,"
                f" {_STATUS} AS status FROM api_keys k WHERE k.id = :k FOR UPDATE"
            ),
            {"k": key},
        ).first()
        if old is None:
            raise NotFound("No such API key.", field="key_id")
        if old.status != "active":
            raise Conflict(f"This key is {old.status}; only an active key can be rotated.")
        created = _insert(
            uow.session,
            actor,
            name=old.name,
            owner_id=old.user_id,
            scopes=tuple(old.scopes),
            rate_limit=old.rate_limit,
            expires_at=old.expires_at,
            rotated_from=old.id,
        )
        uow.session.execute(
            text(
                "UPDATE api_keys SET grace_until = now() + make_interval(mins => :g) WHERE id = :k"
            ),
            {"g": grace_minutes, "k": key},
        )
        uow.commit()
    return created
