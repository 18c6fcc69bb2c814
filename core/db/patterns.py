"""LIKE patterns built from what a person typed."""

from __future__ import annotations


def escape_like(value: str) -> str:
    """`value` with LIKE's wildcards and its escape character taken literally (the default
    escape, backslash), so a search for "50%" finds "50%" and not everything from "50"."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
