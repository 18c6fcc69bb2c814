"""Every error as `application/problem+json` (RFC 9457).

A problem document carries `type`, `title`, `status`, `detail`, the domain error's stable
`code` and, where one input is at fault, its `field`. Domain errors map to statuses by
class (the most specific class wins); request validation names the field and the rule;
anything else is a bug: a 500 whose body holds a reference id only, the traceback going to
the log under the same id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.checkout.errors import (
    AmountChanged,
    CheckoutError,
    CodeNotValid,
    CodeUsedUp,
    HoldExpired,
    InvalidOrderState,
    LimitExceeded,
    SaleClosed,
    SeatTaken,
    SoldOut,
)
from core.errors import (
    Busy,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RateLimited,
    SignInThrottled,
    Unauthenticated,
    Unavailable,
    ValidationError,
)

log = logging.getLogger("api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://fashionistas.example/problems/"
WWW_AUTHENTICATE = 'Bearer realm="fashionistas-api"'
MAX_BODY_BYTES = 64 * 1024


class Problem(BaseModel):
    """An error (RFC 9457): `code` is stable, `detail` is for people."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    instance: str | None = None


# Most specific first: the first class an error is an instance of gives its status.
_STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (Unauthenticated, 401, "Unauthenticated"),
    (RateLimited, 429, "Rate limited"),
    (ValidationError, 422, "Invalid input"),
    (NotFound, 404, "Not found"),
    (PermissionDenied, 403, "Forbidden"),
    (SignInThrottled, 429, "Too many requests"),
    (Busy, 503, "Busy, retry"),
    (Unavailable, 503, "Temporarily unavailable"),
    (LimitExceeded, 422, "Limit exceeded"),
    (CodeNotValid, 422, "Code not valid"),
    (CodeUsedUp, 409, "Code used up"),
    (SoldOut, 409, "Sold out"),
    (SeatTaken, 409, "Seat taken"),
    (HoldExpired, 409, "Hold expired"),
    (SaleClosed, 409, "Sale closed"),
    (AmountChanged, 409, "Amount changed"),
    (InvalidOrderState, 409, "Invalid order state"),
    (CheckoutError, 409, "Checkout refused"),
    (Conflict, 409, "Conflict"),
)


def status_of(exc: DomainError) -> tuple[int, str]:
    """The HTTP status and title of a domain error."""
    for cls, status, title in _STATUS:
        if isinstance(exc, cls):
            return status, title
    return 422, "Refused"


def problem(
    status: int,
    title: str,
    detail: str,
    code: str,
    *,
    field: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def domain_problem(exc: DomainError, instance: str | None = None) -> JSONResponse:
    """The problem document of a domain error, with the headers its status calls for."""
    status, title = status_of(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    elif status == 429:
        retry = getattr(exc, "retry_after", None) or getattr(exc, "retry_after_seconds", None)
        headers["Retry-After"] = str(max(1, int(retry or 1)))
        limit = getattr(exc, "limit", None)
        if limit is not None:
            headers["RateLimit-Limit"] = str(limit)
            headers["RateLimit-Remaining"] = "0"
            headers["RateLimit-Reset"] = str(
                max(0, int(getattr(exc, "reset_seconds", None) or retry or 1))
            )
    elif status == 503:
        headers["Retry-After"] = "1"
    return problem(
        status, title, exc.message, exc.code, field=exc.field, instance=instance, headers=headers
    )


def _field_of(location: Sequence[Any], rule: str = "") -> str | None:
    # ("body", "buyer", "email") -> "buyer.email"; ("query", "limit") -> "limit"; a body
    # that is not JSON at all: "body" (its location is a character offset).
    if rule == "json_invalid":
        return "body"
    parts = [str(p) for p in location[1:]] if len(location) > 1 else [str(p) for p in location]
    return ".".join(parts) or None


def validation_problem(exc: RequestValidationError, instance: str | None = None) -> JSONResponse:
    """422 naming the first field at fault and the rule it breaks; every error listed."""
    errors = list(exc.errors())
    listed = [
        {
            "field": _field_of(e.get("loc", ()), e.get("type", "")),
            "rule": e.get("type", "invalid"),
            "message": str(e.get("msg", "invalid")),
        }
        for e in errors[:20]
    ]
    first = listed[0] if listed else {"field": None, "rule": "invalid", "message": "invalid"}
    where = f"{first['field']}: " if first["field"] else ""
    return problem(
        422,
        "Invalid input",
        f"{where}{first['message']} (rule: {first['rule']})",
        "invalid",
        field=first["field"],
        instance=instance,
        extra={"errors": listed},
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def http_problem(exc: StarletteHTTPException, instance: str | None = None) -> JSONResponse:
    status = exc.status_code
    if status >= 500:
        # Nothing here raises a 5xx HTTPException on purpose; treat it as a bug.
        return internal_problem(exc, instance)
    detail = exc.detail if isinstance(exc.detail, str) else "The request was refused."
    if status == 400 and detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 (or not text at all): bad input.
        return problem(
            422,
            "Invalid input",
            "The body is not valid UTF-8 JSON.",
            "malformed_body",
            field="body",
            instance=instance,
        )
    code = getattr(exc, "code", None) or _HTTP_CODES.get(status, "error")
    if status == 404 and detail == "Not Found":
        detail = "No such resource."
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return problem(
        status,
        title,
        detail,
        code,
        field=getattr(exc, "field", None),
        instance=instance,
        headers=getattr(exc, "headers", None),
    )


def internal_problem(exc: BaseException, instance: str | None = None) -> JSONResponse:
    """500 with a reference only; the traceback is logged under the same reference."""
    reference = uuid.uuid4().hex[:12]
    log.error("unexpected error, reference %s", reference, exc_info=exc)
    return problem(
        500,
        "Internal error",
        f"Something went wrong on our side; quote reference {reference}.",
        "internal",
        instance=instance,
        extra={"reference": reference},
    )


class BodyTooLarge(HTTPException):
    """A request body over MAX_BODY_BYTES (raised while it is read)."""

    code = "too_large"

    def __init__(self) -> None:
        super().__init__(413, f"The request body is over {MAX_BODY_BYTES // 1024} KiB.")


def install(app: FastAPI) -> None:
    """Register the problem handlers on `app`."""

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        if isinstance(exc, Unauthenticated):
            from api.auth import forget_principal

            forget_principal(request)
        return domain_problem(exc, request.url.path)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc, request.url.path)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return http_problem(exc, request.url.path)

    async def on_anything(request: Request, exc: Exception) -> JSONResponse:
        return internal_problem(exc, request.url.path)

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_anything)


# For route decorators: the problem documents a route may answer with.
def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Malformed request",
        401: "Missing, wrong, expired or revoked API key",
        403: "The key lacks the scope, or the owner the permission",
        404: "Not found (or not visible to the key's owner)",
        409: "Conflict with the current state",
        413: "Body over 64 KiB",
        422: "Invalid input: the field and rule are named",
        429: "Rate limited: see Retry-After and RateLimit-*",
        503: "Busy or unavailable: retry",
    }
    return {
        s: {
            "model": Problem,
            "description": described.get(s, "Error"),
            "content": {PROBLEM_JSON: {}},
        }
        for s in statuses
    }
