"""Checking a presented API key.

`authenticate` is one round trip to api_key_authenticate (migration 0016) per call, each
call one request counted. `check_key` is what the API calls per request: a principal kept
per process for a few seconds (keyed by the key's SHA-256, never the key), and rate
tokens leased from the key's shared window in batches (api_key_lease, migration 0018), so
most requests make no round trip for their key. Revocation stays immediate because the
principal's actor requires its session: the unit of work's first statement finds a
revoked key's (or a deactivated owner's) session ended and raises Unauthenticated, and
the API then forgets the principal (`forget`).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from core.db import Actor, get_engine
from core.errors import Busy, PermissionDenied, RateLimited, Unauthenticated, from_database_error
from core.models.api import API_SCOPES

# Keys are ASCII letters, digits and underscores; anything longer than this is no key.
MAX_KEY_LENGTH = 200
_SESSION_SALT = "fashionistas-api-key-session:"

_AUTHENTICATE = text(
    "SELECT status, key_id, owner_id, scopes, rate_limit, hits, reset_seconds"
    " FROM api_key_authenticate(:raw, :ip, :ua, :count)"
)
_LEASE = text(
    "SELECT status, key_id, owner_id, scopes, rate_limit, hits, granted, reset_ms,"
    " valid_seconds FROM api_key_lease(:raw, :ip, :ua, :want)"
)

# How long a process keeps a checked key's principal without asking the database again
# (never past the key's expiry or grace end). Revocation does not wait for it: see the
# module docstring. The key's session, extended by each lease, outlives it by minutes.
CACHE_SECONDS = 5.0
# A lease asks for this share of the key's per-minute limit (at least one token).
LEASE_SHARE = 20


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
    # The cache's key (SHA-256 of the key, hex) for `forget`; never shown.
    key_digest: str = field(default="", repr=False, compare=False)


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


@dataclass
class _Entry:
    """A checked key in this process: its principal, until when it may be used without
    asking the database, and the rate tokens leased for the current window."""

    principal: ApiPrincipal
    fresh_until: float  # time.monotonic()
    window_end: float  # time.monotonic(); tokens are spent only before it
    tokens: int  # leased, not yet spent
    window_left: int  # what the shared window had left after the last lease


_cache_lock = threading.Lock()
_cache: dict[str, _Entry] = {}
_MAX_ENTRIES = 10_000  # no key is checked more often than this many others


def _digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def _lease_size(limit: int) -> int:
    return max(1, limit // LEASE_SHARE)


def check_key(
    raw_key: str | None,
    *,
    ip_address: str | None,
    user_agent: str | None,
    count: bool = True,
) -> ApiPrincipal:
    """Check `raw_key` for one request and spend one of its rate tokens; the principal
    acts as the key's owner and requires its session (core.db.Actor.require_session).

    Most calls answer from this process's memory: a key checked in the last few seconds
    (CACHE_SECONDS, never past its expiry or grace end) with a token left from its last
    lease. Otherwise one round trip (api_key_lease) checks the key again and leases a
    batch of tokens (LEASE_SHARE of the limit) from the window all processes share, so
    the limit is never exceeded; tokens unspent when the window ends are dropped.
    `remaining` is what the shared window had left at the last lease plus this process's
    unspent tokens. A key revoked meanwhile still passes here for up to CACHE_SECONDS,
    but the first unit of work of its request raises Unauthenticated (call `forget`).

    Raises Unauthenticated for a missing, malformed, unknown, expired, revoked or replaced
    key, or one whose owner is not active (one message for all); RateLimited when the
    window has no token left. `count=False` spends no tokens (rate limiting off).
    """
    if not _plausible(raw_key):
        raise Unauthenticated()
    assert isinstance(raw_key, str)
    digest = _digest(raw_key)
    for _ in range(3):
        now = time.monotonic()
        with _cache_lock:
            entry = _cache.get(digest)
            live = entry is not None and now < entry.window_end
            if entry is not None and now < entry.fresh_until:
                if not count:
                    return entry.principal
                if live and entry.tokens > 0:
                    entry.tokens -= 1
                    return _with_remaining(entry, now)
            unspent = entry.tokens if entry is not None and live else 0
        if not count or unspent > 0:
            want = 0  # only the key to check again: tokens of this window are left
        else:
            # A key first seen here leases one token; later leases are sized by its limit.
            want = _lease_size(entry.principal.rate_limit) if entry is not None else 1
        row = _lease(raw_key, ip_address, user_agent, want)
        if row.status == "rate_limited":
            raise RateLimited(
                retry_after=max(1, math.ceil(row.reset_ms / 1000)), limit=row.rate_limit
            )
        if row.status != "ok":
            forget_digest(digest)
            raise Unauthenticated()
        principal = _principal(row, raw_key, digest, ip_address, user_agent)
        # `now` was taken before the round trip, so these end no later than the database's.
        fresh_until = now + min(CACHE_SECONDS, max(0, row.valid_seconds or 0))
        window_end = now + row.reset_ms / 1000
        with _cache_lock:
            held = _cache.get(digest)
            if len(_cache) >= _MAX_ENTRIES and held is None:
                _cache.clear()
            if not count:
                _cache[digest] = _Entry(principal, fresh_until, window_end, 0, row.rate_limit)
                return principal
            same_window = held is not None and now < held.window_end
            left = held.tokens if held is not None and same_window else 0
            if want == 0:
                if left == 0:
                    continue  # other threads spent them meanwhile: lease after all
                # No lease: the window's figure is the one the last lease saw.
                window_left = held.window_left if held is not None else 0
                window_end = held.window_end if held is not None else window_end
                entry = _Entry(principal, fresh_until, window_end, left - 1, window_left)
            else:
                # A new lease: its tokens, and any another thread leased in this window.
                if held is None or not same_window or held.window_end < window_end - 1:
                    left = 0
                tokens = left + int(row.granted) - 1  # one is this request's
                window_left = max(0, row.rate_limit - row.hits)
                entry = _Entry(principal, fresh_until, window_end, tokens, window_left)
            _cache[digest] = entry
            return _with_remaining(entry, now)
    raise Busy("The API key could not be checked; retry.")


def _principal(
    row: Any, raw_key: str, digest: str, ip_address: str | None, user_agent: str | None
) -> ApiPrincipal:
    return ApiPrincipal(
        actor=Actor(
            user_id=row.owner_id,
            ip_address=ip_address,
            user_agent=user_agent,
            session_token=session_token(raw_key),
            require_session=True,
        ),
        key_id=row.key_id,
        owner_id=row.owner_id,
        scopes=tuple(row.scopes or ()),
        rate_limit=row.rate_limit,
        remaining=row.rate_limit,
        reset_seconds=max(1, math.ceil(row.reset_ms / 1000)),
        key_digest=digest,
    )


def _with_remaining(entry: _Entry, now: float) -> ApiPrincipal:
    return replace(
        entry.principal,
        remaining=entry.window_left + entry.tokens,
        reset_seconds=max(1, math.ceil(entry.window_end - now)),
    )


def forget(principal: ApiPrincipal) -> None:
    """Drop `principal`'s key from this process's cache (its unit of work found the key's
    session ended): the next request with it asks the database."""
    if principal.key_digest:
        forget_digest(principal.key_digest)


def forget_digest(digest: str) -> None:
    with _cache_lock:
        _cache.pop(digest, None)


def clear_cache() -> None:
    """Forget every key this process checked (tests)."""
    with _cache_lock:
        _cache.clear()


def _lease(raw_key: str, ip_address: str | None, user_agent: str | None, want: int) -> Any:
    try:
        with _engine().connect() as conn:
            return conn.execute(
                _LEASE,
                {
                    "raw": raw_key,
                    "ip": (ip_address or "")[:45],
                    "ua": (user_agent or "")[:1000],
                    "want": want,
                },
            ).one()
    except DBAPIError as exc:
        # Never the statement (its parameters hold the key) in what leaves here.
        translated = from_database_error(exc)
        if translated is not None:
            raise translated from None
        state = getattr(exc.orig, "sqlstate", None)
        raise RuntimeError(f"API key check failed in the database (SQLSTATE {state})") from None


def require_scope(principal: ApiPrincipal, scope: str) -> None:
    """Raise PermissionDenied naming `scope` unless the principal's key carries it."""
    if scope not in API_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    if scope not in principal.scopes:
        raise PermissionDenied(f"This API key lacks the scope {scope}.", field="scope")
