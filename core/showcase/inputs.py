"""Checks on what people type into showcase forms, each naming its field and rule."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from core.errors import ValidationError
from core.models import limits
from core.services.inputs import blank_to_none, plain_text

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The models' limits (core/models/limits.py), which the database holds every writer to.
MAX_NAME = limits.NAME
MAX_TEXT = limits.TEXT
MAX_URL = limits.URL


def required(value: str | None, field: str, *, limit: int = MAX_NAME) -> str:
    """The trimmed text; ValidationError when empty or longer than `limit`."""
    cleaned = blank_to_none(value)
    if cleaned is None:
        raise ValidationError(f"{field.replace('_', ' ')} is required", field=field)
    return bounded(cleaned, field, limit=limit) or cleaned


def bounded(value: str | None, field: str, *, limit: int = MAX_TEXT) -> str | None:
    """The trimmed text or None; ValidationError when it is not text, holds NUL or is
    longer than `limit` characters."""
    if value is not None:
        plain_text(value, field, field.replace("_", " "))
    cleaned = blank_to_none(value)
    if cleaned is not None and len(cleaned) > limit:
        raise ValidationError(
            f"{field.replace('_', ' ')} must be at most {limit} characters", field=field
        )
    return cleaned


def web_url(value: str | None, field: str) -> str | None:
    """An http(s) address or None."""
    cleaned = bounded(value, field, limit=MAX_URL)
    if cleaned is not None and not re.match(r"^https?://[^\s/]+\.[^\s]+$", cleaned):
        raise ValidationError(
            f"{field.replace('_', ' ')} must be a web address starting with http:// or https://",
            field=field,
        )
    return cleaned


def email(value: str | None, field: str) -> str | None:
    cleaned = bounded(value, field, limit=limits.EMAIL)
    if cleaned is not None and not EMAIL.match(cleaned):
        raise ValidationError(f"{field.replace('_', ' ')} must be an email address", field=field)
    return cleaned


def one_of(value: object, choices: Sequence[object], field: str) -> None:
    """ValidationError ("item type must be one of …") unless `value` is one of `choices`."""
    if value not in choices:
        raise ValidationError(
            f"{field.replace('_', ' ')} must be one of {', '.join(map(str, choices))}",
            field=field,
        )


def whole_number(
    value: int | None, field: str, *, low: int = 0, high: int | None = None
) -> int | None:
    if value is None:
        return None
    if value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else " or more"
        rule = f"between {low}{upper}" if high is not None else f"{low}{upper}"
        raise ValidationError(f"{field.replace('_', ' ')} must be {rule}", field=field)
    return int(value)


def word_list(values: list[str] | tuple[str, ...], field: str, *, limit: int = 30) -> list[str]:
    """Distinct, trimmed, non-empty entries in their order; at most `limit` of them."""
    seen: list[str] = []
    for value in values:
        cleaned = (value or "").strip()
        if cleaned and cleaned.lower() not in (s.lower() for s in seen):
            if len(cleaned) > 60:
                raise ValidationError(
                    f"each of {field.replace('_', ' ')} must be at most 60 characters",
                    field=field,
                )
            seen.append(cleaned)
    if len(seen) > limit:
        raise ValidationError(
            f"{field.replace('_', ' ')} may list at most {limit} entries", field=field
        )
    return seen


def dated_lines(text_value: str, field: str, key: str) -> list[dict[str, Any]]:
    """Lines of "what, year" (the year optional) as [{key: what, "year": year}].

    Used for awards ("Emerging Designer Prize, 2019") and press ("Vogue, 2024").
    """
    found: list[dict[str, Any]] = []
    for number, raw in enumerate((text_value or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        what, _, tail = line.rpartition(",")
        year: int | None = None
        if what and re.fullmatch(r"\s*\d{4}\s*", tail):
            year = int(tail)
            if not 1900 <= year <= 2100:
                raise ValidationError(
                    f"{field.replace('_', ' ')}, line {number}: the year must be between"
                    " 1900 and 2100",
                    field=field,
                )
        else:
            what = line
        what = what.strip()
        if len(what) > MAX_NAME:
            raise ValidationError(
                f"{field.replace('_', ' ')}, line {number}: at most {MAX_NAME} characters",
                field=field,
            )
        found.append({key: what, "year": year} if year is not None else {key: what})
    return found


def lines_text(entries: list[Any], key: str) -> str:
    """The text form of what `dated_lines` reads, for an edit form to start with."""
    out = []
    for entry in entries or []:
        if isinstance(entry, dict):
            what = str(entry.get(key) or entry.get("name") or entry.get("title") or "")
            year = entry.get("year")
            out.append(f"{what}, {year}" if year else what)
        else:
            out.append(str(entry))
    return "\n".join(out)
