"""The ASGI app: `create_app()`.

OpenAPI 3.1 at /openapi.json, interactive docs at /docs, every resource under /v1. At
start the app registers its own routes (method, path, scopes, rate limit) in the endpoint
registry through core.api_keys.register_endpoints, read from the route table: the scopes
are the `Requires` dependencies the routes check.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api import problems
from api.auth import Requires
from api.middleware import Edge
from api.routes import ROUTERS

log = logging.getLogger("api")
PREFIX = "/v1"

DESCRIPTION = """The Fashionistas REST API: events, venues, availability, holds, orders,
attendees, discount codes and analytics over the same core as the dashboard.

Authenticate with `Authorization: Bearer <key>` (or `X-Api-Key: <key>`). Errors are
`application/problem+json` (RFC 9457) with a stable `code` and the `field` at fault.
See docs/API.md."""


def usage_log_enabled() -> bool:
    """FASHIONISTAS_API_USAGE_LOG=off stops recording usage (for the benchmark's baseline)."""
    return os.environ.get("FASHIONISTAS_API_USAGE_LOG", "on").strip().lower() not in (
        "off",
        "0",
        "false",
        "no",
    )


@dataclass(frozen=True)
class RouteEntry:
    """One operation of the route table: what the registry and the tests read."""

    method: str
    path: str
    function_name: str
    summary: str
    requires: tuple[Requires, ...]


def route_table(app: FastAPI) -> list[RouteEntry]:
    """Every /v1 operation of `app` with the Requires dependencies it checks. FastAPI keeps
    included routers as such in `app.routes`; iter_route_contexts gives each route with
    its full path."""
    entries = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""
        if not isinstance(route, APIRoute) or not path.startswith(PREFIX):
            continue
        requires = tuple(
            d.call for d in route.dependant.dependencies if isinstance(d.call, Requires)
        )
        for method in sorted(context.methods or ()):
            entries.append(
                RouteEntry(
                    method,
                    path,
                    route.endpoint.__qualname__,
                    route.summary or route.name or "",
                    requires,
                )
            )
    return entries


def endpoint_specs(app: FastAPI) -> list[Any]:
    """The endpoint registry's rows, read from the app's own route table."""
    from core.api_keys import EndpointSpec

    return [
        EndpointSpec(
            method=entry.method,
            path=entry.path,
            function_name=entry.function_name,
            scopes=tuple(r.scope for r in entry.requires),
            rate_limit=next((r.rate_limit for r in entry.requires if r.rate_limit), None),
            description=entry.summary[:500],
            is_public=not entry.requires,
        )
        for entry in route_table(app)
    ]


def register(app: FastAPI) -> int:
    from core.api_keys import register_endpoints

    specs = endpoint_specs(app)
    if not specs:
        raise RuntimeError("the API found no /v1 routes to register")
    register_endpoints(specs)
    return len(specs)


def create_app(*, register_routes: bool = True) -> FastAPI:
    """The API app; `register_routes` fills the endpoint registry at start."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if register_routes:
            n = await anyio.to_thread.run_sync(register, app)
            log.info("registered %d API endpoints", n)
        yield

    app = FastAPI(
        title="Fashionistas API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    problems.install(app)
    # Each router straight onto the app (not through a /v1 router of routers): one level
    # of route matching per request.
    for router in ROUTERS:
        app.include_router(router, prefix=PREFIX)
    app.add_middleware(Edge, usage_log=usage_log_enabled())
    _security_schemes(app)
    return app


def _security_schemes(app: FastAPI) -> None:
    """Bearer and X-Api-Key in the OpenAPI document, required by every /v1 operation."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "an API key"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        }
        for path, operations in schema.get("paths", {}).items():
            if path.startswith(PREFIX):
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}, {"apiKey": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
