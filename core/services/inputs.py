"""Checking what callers pass in before the rules look at it, each refusal naming its field.

Forms, tests and later API clients reach the core services with whatever they send: text
too long for its column, NUL characters PostgreSQL cannot store, 1.5 tickets, "3" where a
number belongs, a float where money belongs. These helpers turn each of those into a
ValidationError on the field (never a TypeError or a database error), using the limits
the models declare (core/models/limits.py), so the message is the database's own ("Buyer
name must be at most 200 characters.") and the number is written once.
"""

from __future__ import annotations

import numbers
import re
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Column

from core.errors import ValidationError
from core.models.limits import ASCII_TOKEN, length_limit, limit_message

MONEY_MAX = Decimal("9999999999.99")  # numeric(12, 2)
# The database's rule for token columns (ASCII_TOKEN), as Python reads it.
_TOKEN = re.compile(ASCII_TOKEN)
CENT = Decimal("0.01")


def blank_to_none(value: str | None) -> str | None:
    """The text without surrounding spaces, or None when nothing is left."""
    value = (value or "").strip()
    return value or None


def _label(column: Column[Any], label: str | None) -> str:
    limit = length_limit(column)
    return label or (limit.label if limit and limit.label else column.name)


def plain_text(value: object, field: str, label: str) -> str:
    """`value` if it is text PostgreSQL can store: a str, no NUL, valid UTF-8."""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.", field=field, code="not_text")
    if "\x00" in value:
        raise ValidationError(
            f"{label} cannot contain NUL characters (\\x00).", field=field, code="nul_character"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            f"{label} is not valid text (it holds an unpaired surrogate).",
            field=field,
            code="not_text",
        ) from None
    return value


def text_value(
    column: Column[Any] | Any,
    value: object,
    *,
    field: str | None = None,
    label: str | None = None,
    required: bool = False,
    strip: bool = True,
) -> str | None:
    """The text for `column` (a Column, or `Model.attribute`), trimmed unless `strip` is
    False, or None when blank. Refuses non-text, NUL, a blank value when `required`, and
    text longer than the column's declared limit, with the limit's own message."""
    column = _column(column)
    field = field or column.name
    label = _label(column, label)
    if value is None:
        cleaned = None
    else:
        text = plain_text(value, field, label)
        cleaned = (text.strip() if strip else text) or None
    if cleaned is None:
        if required:
            raise ValidationError(f"{label} is required.", field=field)
        return None
    limit = length_limit(column)
    if limit is not None:
        if len(cleaned) > limit.max_length:
            raise ValidationError(_message(column, label), field=field, code="too_long")
        if limit.ascii and not _is_token(cleaned):
            raise ValidationError(_message(column, label), field=field, code="not_ascii")
    return cleaned


def required_text(column: Column[Any] | Any, value: object, **kw: Any) -> str:
    """text_value(..., required=True), typed as never None."""
    cleaned = text_value(column, value, required=True, **kw)
    assert cleaned is not None
    return cleaned


def whole_number(
    value: object,
    field: str,
    *,
    label: str,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """An int (not a bool, a float or a numeral in a string) between `low` and `high`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValidationError(f"{label} must be a whole number.", field=field, code="not_integer")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            rule = f"between {low:,} and {high:,}"
        elif low is not None:
            rule = f"at least {low:,}"
        else:
            rule = f"at most {high:,}"
        raise ValidationError(f"{label} must be {rule}.", field=field, code="out_of_range")
    return number


def money(value: object, field: str, *, label: str) -> Decimal:
    """An exact amount in whole cents: a Decimal or an int, finite, within numeric(12, 2).

    Floats are refused, not converted: a binary float holds most cent amounts only
    approximately (0.1 + 0.2 != 0.3), and money must not depend on how a caller printed
    one. Strings are refused too: a caller parses what people type into a Decimal.
    """
    if isinstance(value, bool) or not isinstance(value, (Decimal, numbers.Integral)):
        kind_ = "a float" if isinstance(value, float) else type(value).__name__
        raise ValidationError(
            f"{label} must be an exact amount (a Decimal such as 43.30), not {kind_}.",
            field=field,
            code="not_money",
        )
    amount = Decimal(int(value)) if isinstance(value, numbers.Integral) else value
    if not amount.is_finite():
        raise ValidationError(f"{label} must be a finite amount.", field=field, code="not_money")
    low = Decimal(0)
    if not low <= amount <= MONEY_MAX:
        raise ValidationError(
            f"{label} must be between {low:,.2f} and {MONEY_MAX:,.2f}.",
            field=field,
            code="out_of_range",
        )
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:  # more digits than any amount in range has
        cents = None
    if cents is None or cents != amount:
        raise ValidationError(f"{label} must be in whole cents.", field=field, code="not_money")
    return cents


def uuid_value(value: object, field: str, *, label: str) -> uuid.UUID:
    """A UUID object (an id a page read from the core, not text to parse)."""
    if not isinstance(value, uuid.UUID):
        raise ValidationError(f"{label} must be an id (a UUID).", field=field, code="not_uuid")
    return value


def uuid_list(
    values: object, field: str, *, label: str, most: int, unique: bool = True
) -> list[uuid.UUID]:
    """A list (or tuple, set) of at most `most` UUIDs, each once when `unique`."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise ValidationError(f"{label} must be a list of ids.", field=field, code="not_list")
    found = list(values)
    if len(found) > most:
        raise ValidationError(
            f"{label}: at most {most:,} at a time.", field=field, code="out_of_range"
        )
    ids = [uuid_value(v, field, label=label) for v in found]
    if unique and len(set(ids)) != len(ids):
        raise ValidationError(f"{label}: the same one was chosen twice.", field=field)
    return ids


def _column(column: Column[Any] | Any) -> Column[Any]:
    if isinstance(column, Column):
        return column
    # An ORM attribute (Order.billing_name).
    return column.property.columns[0]


def _message(column: Column[Any], label: str) -> str:
    message = limit_message(column)
    limit = length_limit(column)
    assert limit is not None
    return message.replace(str(limit.label), label, 1) if label != limit.label else message


def _is_token(value: str) -> bool:
    return _TOKEN.fullmatch(value) is not None
