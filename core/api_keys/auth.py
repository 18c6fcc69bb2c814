"""Checking a presented API key: one round trip to api_key_authenticate (migration 0016)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from core.db import Actor, get_engine
from core.errors import PermissionDenied, RateLimited, Unauthenticated, from_database_error
from core.models.api import API_SCOPES

# Keys are ASCII letters, digits and underscores; anything longer than this is no key.
MAX_KEY_LENGTH = 200
_SESSION_SALT = "fashionistas-api-key-session:"

_AUTHENTICATE = text(
    "SELECT status, key_id, owner_id, scopes, rate_limit, hits, reset_seconds"
    " FROM api_key_authenticate(:raw, :ip, :ua, :count)"
)


@dataclass(frozen=True)
class ApiPrincipal:
    """Who a request with a valid key acts as: `actor` is the key's owner, with the key's
    session token (so row-level security and the audit trail see the owner)."""

    actor: Actor
    key_id: uuid.UUID
    owner_id: uuid.UUID
    scopes: tuple[str, ...]
    rate_limit: int
    remaining: int
    reset_seconds: int


def session_token(raw_key: str) -> str:
    """The token of the key's sign-in session, as api_key_session_token derives it: a
    one-way function of the key, so knowing the session's hash tells nothing of the key."""
    digest = hashlib.sha256((_SESSION_SALT + raw_key).encode("utf-8")).hexdigest()
    return f"aks_{digest}"


_autocommit_lock = threading.Lock()
_autocommit: tuple[Engine, Engine] | None = None


def _engine() -> Engine:
    # The app engine's pool in autocommit: the function is one statement, so no BEGIN and
    # COMMIT round trips around it.
    global _autocommit
    base = get_engine()
    with _autocommit_lock:
        if _autocommit is None or _autocommit[0] is not base:
            _autocommit = (base, base.execution_options(isolation_level="AUTOCOMMIT"))
        return _autocommit[1]


def _plausible(raw_key: object) -> bool:
    return (
        isinstance(raw_key, str)
        and 0 < len(raw_key) <= MAX_KEY_LENGTH
        and raw_key.isascii()
        and raw_key.replace("_", "").isalnum()
    )


def authenticate(
    raw_key: str | None,
    *,
    method: str,
    path: str,
    ip_address: str | None,
    user_agent: str | None,
    count: bool = True,
) -> ApiPrincipal:
    """Check `raw_key` and count it against its per-minute rate limit, in one round trip;
    the principal acts as the key's owner.

    Raises Unauthenticated for a missing, malformed, unknown, expired, revoked or replaced
    key, or one whose owner is not active (one message for all); RateLimited when the
    key's requests of this minute exceed its limit (counted in the database, so several
    API processes share it). `method` and `path` describe the request (they are recorded
    by record_usage, not here). `count=False` leaves the rate window alone (the API's
    switch for rate limiting off, for its benchmark); everything else is checked the same.
    """
    del method, path  # the usage log records them; the key decides alone
    if not _plausible(raw_key):
        raise Unauthenticated()
    assert isinstance(raw_key, str)
    try:
        with _engine().connect() as conn:
            row = conn.execute(
                _AUTHENTICATE,
                {
                    "raw": raw_key,
                    "ip": (ip_address or "")[:45],
                    "ua": (user_agent or "")[:1000],
                    "count": bool(count),
                },
            ).one()
    except DBAPIError as exc:
        # Never the statement (its parameters hold the key) in what leaves here.
        translated = from_database_error(exc)
        if translated is not None:
            raise translated from None
        state = getattr(exc.orig, "sqlstate", None)
        raise RuntimeError(f"API key check failed in the database (SQLSTATE {state})") from None
    if row.status == "rate_limited":
        raise RateLimited(retry_after=row.reset_seconds, limit=row.rate_limit)
    if row.status != "ok":
        raise Unauthenticated()
    actor = Actor(
        user_id=row.owner_id,
        ip_address=ip_address,
        user_agent=user_agent,
        session_token=session_token(raw_key),
    )
    return ApiPrincipal(
        actor=actor,
        key_id=row.key_id,
        owner_id=row.owner_id,
        scopes=tuple(row.scopes or ()),
        rate_limit=row.rate_limit,
        remaining=max(0, row.rate_limit - row.hits),
        reset_seconds=row.reset_seconds,
    )


def require_scope(principal: ApiPrincipal, scope: str) -> None:
    """Raise PermissionDenied naming `scope` unless the principal's key carries it."""
    if scope not in API_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if scope not in principal.scopes:
        raise PermissionDenied(f"This API key lacks the scope {scope}.", field="scope")
