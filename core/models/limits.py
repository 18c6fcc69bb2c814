"""Length limits: how much any text, list or JSON column may hold, declared once per column.

A column states its limit in the model (`name: Mapped[Name]`, or `limited(32)` for a
number of its own) and nothing else spells the number out again:

- `add_limit_checks` turns every declared limit into a named CHECK constraint
  (`ck_<table>_<column>_length`) whose message names the field and the limit; migration
  0010 created them in the database, so every writer is held to them, and
  core.errors translates a violation into that message;
- `core.services.inputs` reads the same `LengthLimit` to refuse longer input before the
  database is asked, with the same words ("Buyer name must be at most 200 characters.").

CHECK rather than varchar(n): a CHECK is added NOT VALID (no table rewrite, a moment's
lock) and validated afterwards while writes go on; changing text to varchar(n) rewrites
the table under an exclusive lock. A CHECK also carries a name, so its violation can say
which field broke which limit (varchar's 22001 names neither). See docs/SCHEMA.md.

Columns limited by an enumeration (`one_of`) need nothing here; tests/test_text_limits.py
lists every text-like column of the catalogue and fails on one with neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from sqlalchemy import ARRAY, CheckConstraint, Column, MetaData, Table
from sqlalchemy.dialects.postgresql import JSON, JSONB
from sqlalchemy.orm import MappedColumn, mapped_column

_INFO = "length_limit"

# Visible ASCII, no spaces: keys and ids machines make and compare byte for byte.
ASCII_TOKEN = "^[!-~]*$"


@dataclass(frozen=True)
class LengthLimit:
    """The limit of one column: at most `max_length` characters (text), `max_length`
    bytes of JSON text (json/jsonb), or `items` entries of at most `max_length`
    characters each (text[])."""

    max_length: int
    items: int | None = None
    ascii: bool = False
    label: str | None = None

    def __post_init__(self) -> None:
        if self.max_length <= 0 or (self.items is not None and self.items <= 0):
            raise ValueError("a length limit must be positive")


def limited(
    max_length: int,
    *args: Any,
    items: int | None = None,
    ascii: bool = False,
    label: str | None = None,
    **kwargs: Any,
) -> MappedColumn[Any]:
    """`mapped_column(*args, **kwargs)` with a length limit (see LengthLimit); `label` is
    how messages name the field when its column name would not (billing_name: "Buyer
    name")."""
    info = dict(kwargs.pop("info", None) or {})
    info[_INFO] = LengthLimit(max_length, items, ascii, label)
    return mapped_column(*args, info=info, **kwargs)


# The limits a real product gives each kind of text; a column with a number of its own uses
# limited(n). Characters, except JSON (bytes of its text form).
NAME = 200
EMAIL = 254  # RFC 5321's longest forward path
PHONE = 32  # E.164 is 15 digits; room for "+", spaces and an extension
URL = 2048
SLUG = 255  # a name's slug plus "-<n>" to make it unique
SHORT = 100
CODE = 64
TOKEN = 200
IP_ADDRESS = 45  # the longest IPv6 text form (IPv4-mapped)
USER_AGENT = 1000
TEXT = 5000  # descriptions, notes, bios
BODY = 100_000  # e-mail bodies, page content, schemas
JSON_SMALL = 65_536
JSON_LARGE = 1_048_576
WORDS = 100  # one entry of a list of tags or keywords
WORD_COUNT = 50

Name = Annotated[str, limited(NAME)]
Email = Annotated[str, limited(EMAIL)]
Phone = Annotated[str, limited(PHONE)]
Url = Annotated[str, limited(URL)]
Slug = Annotated[str, limited(SLUG)]
Short = Annotated[str, limited(SHORT)]
Code = Annotated[str, limited(CODE)]
Token = Annotated[str, limited(TOKEN, ascii=True)]
IpAddress = Annotated[str, limited(IP_ADDRESS)]
UserAgent = Annotated[str, limited(USER_AGENT)]
FreeText = Annotated[str, limited(TEXT)]
Body = Annotated[str, limited(BODY)]
Json = Annotated[dict[str, Any], limited(JSON_SMALL)]
JsonList = Annotated[list[Any], limited(JSON_SMALL)]
LargeJson = Annotated[dict[str, Any], limited(JSON_LARGE)]
LargeJsonList = Annotated[list[Any], limited(JSON_LARGE)]
Words = Annotated[list[str], limited(WORDS, items=WORD_COUNT)]


def length_limit(column: Column[Any]) -> LengthLimit | None:
    """The column's declared limit, with its label filled in, or None."""
    found = column.info.get(_INFO)
    if found is None:
        return None
    label = column.info.get("label") or found.label or humanize(column.name)
    return LengthLimit(found.max_length, found.items, found.ascii, label)


_WORDS = {"ip": "IP", "url": "URL", "seo": "SEO", "id": "ID"}


def humanize(name: str) -> str:
    """A column name as a form would label it: billing_name -> "Billing name"."""
    words = [_WORDS.get(w, w) for w in name.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


def kind(column: Column[Any]) -> str:
    """text, json or list: what a limit counts in for this column."""
    if isinstance(column.type, (JSON, JSONB)):
        return "json"
    if isinstance(column.type, ARRAY):
        return "list"
    return "text"


def limit_message(column: Column[Any]) -> str:
    """What a person is told when a value is too long for `column`."""
    limit = length_limit(column)
    assert limit is not None, column
    n = f"{limit.max_length:,}"
    match kind(column):
        case "json":
            return f"{limit.label} must be at most {n} bytes of JSON."
        case "list":
            return (
                f"{limit.label} may list at most {limit.items:,} entries of at most {n}"
                " characters each."
            )
        case _ if limit.ascii:
            return f"{limit.label} must be at most {n} visible ASCII characters (no spaces)."
        case _:
            return f"{limit.label} must be at most {n} characters."


def limit_sql(column: Column[Any]) -> str:
    """The CHECK expression holding `column` to its limit (migration 0010 spells the same)."""
    limit = length_limit(column)
    assert limit is not None, column
    name = column.name
    match kind(column):
        case "json":
            return f"octet_length(({name})::text) <= {limit.max_length}"
        case "list":
            return (
                f"cardinality({name}) <= {limit.items}"
                f" AND text_array_longest({name}) <= {limit.max_length}"
            )
        case _ if limit.ascii:
            return f"char_length({name}) <= {limit.max_length} AND {name} ~ '{ASCII_TOKEN}'"
        case _:
            return f"char_length({name}) <= {limit.max_length}"


def check_name(column: Column[Any]) -> str:
    """The constraint's name before the naming convention adds ck_<table>_."""
    return f"{column.name}_length"


def add_limit_checks(metadata: MetaData) -> None:
    """Give every limited column of `metadata` its CHECK constraint (once)."""
    for table in metadata.tables.values():
        have = {str(c.name) for c in table.constraints if c.name is not None}
        for column in table.columns:
            if length_limit(column) is None:
                continue
            if f"ck_{table.name}_{check_name(column)}" in have:
                continue
            table.append_constraint(
                CheckConstraint(
                    limit_sql(column),
                    name=check_name(column),
                    info={"field": column.name, "message": limit_message(column)},
                )
            )


def limited_columns(metadata: MetaData) -> dict[tuple[str, str], Column[Any]]:
    """(table, column) of every column with a declared limit."""
    return {
        (table.name, column.name): column
        for table in metadata.tables.values()
        for column in table.columns
        if length_limit(column) is not None
    }


def column_of(table: Table | Any, name: str) -> Column[Any]:
    """The Column `name` of a Table or a mapped class."""
    table = getattr(table, "__table__", table)
    return table.c[name]


def max_length(table: Table | Any, name: str) -> int:
    """The declared limit of column `name` of a Table or mapped class (KeyError if none)."""
    limit = length_limit(column_of(table, name))
    if limit is None:
        raise KeyError(f"{name} declares no length limit")
    return limit.max_length
