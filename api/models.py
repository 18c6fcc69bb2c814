"""Shared pieces of the request and response models.

Every request model forbids unknown fields and bounds its numbers and strings, so a
malformed request is a 422 naming the field and the rule before any core service runs.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.errors import ValidationError


class Input(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    """A response body, read from the core's dataclasses by attribute."""

    model_config = ConfigDict(from_attributes=True)


# Visible ASCII, like the checkout's session ids (core.checkout.holds.session_id_of).
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Quantity = Annotated[int, Field(ge=1, le=10_000, strict=True)]
Limit = Annotated[int, Field(ge=1, le=200)]


def encode_cursor(*parts: Any) -> str:
    """An opaque cursor for the next page."""
    raw = json.dumps([p.isoformat() if isinstance(p, datetime) else str(p) for p in parts])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[str]:
    """The parts of a cursor made by encode_cursor; ValidationError (field cursor) for
    anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise ValidationError("This cursor was not given by the API.", field="cursor") from exc
    if (
        not isinstance(parts, list)
        or len(parts) != count
        or not all(isinstance(p, str) for p in parts)
    ):
        raise ValidationError("This cursor was not given by the API.", field="cursor")
    return parts


def cursor_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValidationError("This cursor was not given by the API.", field="cursor") from exc


def cursor_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("This cursor was not given by the API.", field="cursor") from exc
