"""The REST endpoint registry, filled from the API's own routes at start."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text

from core.db import get_owner_engine
from core.models.api import API_SCOPES, HTTP_METHODS


@dataclass(frozen=True)
class EndpointSpec:
    """One route of the API: method, path template, the function serving it, the scopes
    it needs, its rate limit per key and minute (None: the key's own), and whether it is
    public (no key needed)."""

    method: str
    path: str
    function_name: str
    scopes: tuple[str, ...] = ()
    rate_limit: int | None = None
    description: str | None = None
    is_public: bool = False


_VERSION = re.compile(r"^/(v\d+)(/|$)")
DEFAULT_RATE_LIMIT = 100


def register_endpoints(endpoints: Sequence[EndpointSpec]) -> int:
    """Upsert `endpoints` into rest_api_endpoints by (path, method) and mark every row not
    among them deprecated; returns how many are registered. Runs on the owner connection:
    the catalogue is the API's, and the app role may only read it (core/db/rls_exemptions).
    Raises ValueError for a method or scope the catalogue does not know (a bug in the API).
    """
    rows = []
    for spec in endpoints:
        method = spec.method.upper()
        if method not in HTTP_METHODS:
            raise ValueError(f"unknown HTTP method {spec.method!r} for {spec.path}")
        unknown = [s for s in spec.scopes if s not in API_SCOPES]
        if unknown:
            raise ValueError(f"unknown scopes {unknown} for {method} {spec.path}")
        match = _VERSION.match(spec.path)
        rows.append(
            {
                "path": spec.path,
                "method": method,
                "fn": spec.function_name[:200],
                "scopes": list(spec.scopes),
                "rate": spec.rate_limit or DEFAULT_RATE_LIMIT,
                "description": (spec.description or None) and spec.description[:5000],
                "public": spec.is_public,
                "version": match.group(1) if match else "v1",
            }
        )
    with get_owner_engine().begin() as conn:
        # One API process at a time rewrites the catalogue (replicas start together).
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('rest_api_endpoints'))"))
        if rows:
            conn.execute(
                text(
                    "INSERT INTO rest_api_endpoints (path, method, function_name,"
                    " required_permissions, rate_limit, description, is_public,"
                    " is_deprecated, version)"
                    " VALUES (:path, :method, :fn, CAST(:scopes AS text[]), :rate,"
                    " :description, :public, false, :version)"
                    " ON CONFLICT (path, method) DO UPDATE SET"
                    " function_name = EXCLUDED.function_name,"
                    " required_permissions = EXCLUDED.required_permissions,"
                    " rate_limit = EXCLUDED.rate_limit, description = EXCLUDED.description,"
                    " is_public = EXCLUDED.is_public, is_deprecated = false,"
                    " version = EXCLUDED.version, updated_at = now()"
                ),
                rows,
            )
        conn.execute(
            text(
                "UPDATE rest_api_endpoints SET is_deprecated = true, updated_at = now()"
                " WHERE NOT is_deprecated AND (path, method) NOT IN"
                " (SELECT * FROM unnest(CAST(:paths AS text[]), CAST(:methods AS text[])))"
            ),
            {"paths": [r["path"] for r in rows], "methods": [r["method"] for r in rows]},
        )
    return len(rows)
