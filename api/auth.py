"""Who calls: the API key in `Authorization: Bearer <key>` (or `X-Api-Key`), checked by
core.api_keys, and the scope each route requires.

`Requires(scope)` is the dependency a route lists; the app's route table is read for the
endpoint registry from these same objects (api.app.endpoint_specs), so the registry can
never disagree with what the routes check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.security import APIKeyHeader, HTTPBearer

from core.db import Actor

# Only for the OpenAPI document (the security schemes /docs offers); the dependency
# below reads the headers itself.
bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `Bearer fsh_…`")
header_scheme = APIKeyHeader(name="X-Api-Key", auto_error=False)


def raw_key(request: Request) -> str:
    """The key the request carries, or "" (which authenticate refuses with 401)."""
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key", "").strip()


def rate_limit_enabled() -> bool:
    """FASHIONISTAS_API_RATE_LIMIT=off: for the benchmark's baseline only (bench/api.py).
    The key is still checked on every request, but not counted against its limit
    (core.api_keys.authenticate(count=False)); never set it in production."""
    return os.environ.get("FASHIONISTAS_API_RATE_LIMIT", "on").strip().lower() not in (
        "off",
        "0",
        "false",
        "no",
    )


def key_cache_enabled() -> bool:
    """FASHIONISTAS_API_KEY_CACHE=off: every request checks its key in the database and
    counts one request (core.api_keys.authenticate), as before the principal cache; for
    the benchmark's comparison only (bench/api.py)."""
    return os.environ.get("FASHIONISTAS_API_KEY_CACHE", "on").strip().lower() not in (
        "off",
        "0",
        "false",
        "no",
    )


_RATE_LIMIT = rate_limit_enabled()
_KEY_CACHE = key_cache_enabled()


def _authenticate(raw: str, request: Request, path: str) -> Any:
    from core.api_keys import authenticate, check_key

    if _KEY_CACHE:
        # The principal kept a few seconds and rate tokens leased in batches; a revoked
        # key still stops at once (its unit of work refuses it, see forget_principal).
        return check_key(
            raw,
            ip_address=client_address(request),
            user_agent=request.headers.get("user-agent"),
            count=_RATE_LIMIT,
        )
    return authenticate(
        raw,
        method=request.method,
        path=path,
        ip_address=client_address(request),
        user_agent=request.headers.get("user-agent"),
        count=_RATE_LIMIT,
    )


def forget_principal(request: Request) -> None:
    """The request's unit of work found its key's session ended (revoked, owner
    deactivated or erased): drop the key from this process's cache, so the next request
    asks the database, and answer without the key's RateLimit-* headers."""
    from core.api_keys import forget

    principal = getattr(request.state, "principal", None)
    if principal is not None:
        forget(principal)
        request.state.principal = None


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


@dataclass(frozen=True)
class Requires:
    """A route's dependency: a valid key with `scope`; returns core.api_keys' principal.

    `rate_limit` (requests per minute) tightens the key's own limit on this route.
    """

    scope: str
    rate_limit: int | None = None
    is_public: bool = False

    def __call__(self, request: Request) -> Any:
        from core.api_keys import require_scope

        route = request.scope.get("route")
        principal = _authenticate(raw_key(request), request, getattr(route, "path", ""))
        # Set before the scope check: a 403 is still an authenticated, counted request.
        request.state.principal = principal
        require_scope(principal, self.scope)
        return principal


def actor_of(principal: Any) -> Actor:
    """The actor a principal acts as: the key's owner."""
    actor: Actor = principal.actor
    return actor
