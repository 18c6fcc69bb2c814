"""The request edge every route shares, as plain ASGI (no per-request task or copy):
bodies over 64 KiB refused with 413, the RateLimit-* headers of the key's limit on every
authenticated response, and the usage record handed to core.api_keys after the response
has gone (record_usage queues it; nothing is inserted on the request's path)."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MAX_BODY_BYTES, BodyTooLarge, problem

log = logging.getLogger("api")


class Edge:
    def __init__(self, app: ASGIApp, *, usage_log: bool = True):
        self.app = app
        self.usage_log = usage_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            response = problem(
                413 if declared.isdigit() else 400,
                "Request too large" if declared.isdigit() else "Bad request",
                f"The request body is over {MAX_BODY_BYTES // 1024} KiB."
                if declared.isdigit()
                else "Content-Length is not a number.",
                "too_large" if declared.isdigit() else "bad_request",
                field="body",
            )
            await response(scope, receive, send)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise BodyTooLarge()
            return message

        status = 500
        sent = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                principal = state.get("principal")
                if principal is not None and getattr(principal, "rate_limit", None):
                    raw = list(message.get("headers") or ())
                    names = {name.lower() for name, _ in raw}
                    if b"ratelimit-limit" not in names:
                        raw += [
                            (b"ratelimit-limit", str(principal.rate_limit).encode()),
                            (b"ratelimit-remaining", str(max(0, principal.remaining)).encode()),
                            (
                                b"ratelimit-reset",
                                str(max(0, int(principal.reset_seconds))).encode(),
                            ),
                        ]
                    message["headers"] = raw
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        finally:
            if self.usage_log:
                self._record(scope, state, status, started, received, sent)

    def _record(
        self,
        scope: Scope,
        state: dict[str, Any],
        status: int,
        started: float,
        received: int,
        sent: int,
    ) -> None:
        # A request without a recognised key is recorded too, with no key.
        principal = state.get("principal")
        from core.api_keys import record_usage

        route = scope.get("route")
        headers = dict(scope.get("headers") or ())
        client = scope.get("client")
        try:
            record_usage(
                key_id=principal.key_id if principal is not None else None,
                method=scope["method"],
                path=getattr(route, "path", scope["path"]),
                status=status,
                duration_ms=(time.perf_counter() - started) * 1000,
                request_bytes=received,
                response_bytes=sent,
                ip_address=client[0] if client else None,
                user_agent=headers.get(b"user-agent", b"").decode("latin-1")[:500] or None,
            )
        except Exception:  # the response has gone; a lost usage row must not become an error
            log.exception("could not queue the usage record")
