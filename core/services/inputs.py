"""Cleaning what people type into forms before the rules look at it."""

from __future__ import annotations


def blank_to_none(value: str | None) -> str | None:
    """The text without surrounding spaces, or None when nothing is left."""
    value = (value or "").strip()
    return value or None
