"""What the campaign, promo-code, segment, sponsor and sponsorship services share in turning
a draft into a row: checking a choice, inserting the row and replacing its values.

Table and column names come from the services' own code (a `_clean` function's keys),
never from input; only the values are bound parameters.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.errors import NotFound, ValidationError


def one_of(value: object, choices: Sequence[object], field: str) -> None:
    """Raises ValidationError ("Payment status must be one of: …", naming `field`) unless
    `value` is one of `choices`."""
    if value not in choices:
        label = field.replace("_", " ").capitalize()
        raise ValidationError(
            f"{label} must be one of: {', '.join(map(str, choices))}.", field=field
        )


def insert_row(session: Session, table: str, values: Mapping[str, object]) -> uuid.UUID:
    """Insert `values` (column: value) into `table`; returns the new row's id."""
    return session.execute(
        text(
            f"INSERT INTO {table} ({', '.join(values)})"
            f" VALUES ({', '.join(':' + k for k in values)}) RETURNING id"
        ),
        dict(values),
    ).scalar_one()


def update_row(
    session: Session,
    table: str,
    row_id: uuid.UUID,
    values: Mapping[str, object],
    *,
    missing: str,
    field: str,
) -> None:
    """Set `values` (column: value) on the row `row_id` of `table`.

    Raises NotFound(`missing`, field=`field`) when there is no such row (or RLS hides it).
    """
    found = session.execute(
        text(
            f"UPDATE {table} SET {', '.join(f'{k} = :{k}' for k in values)}"
            " WHERE id = :id RETURNING id"
        ),
        {**values, "id": row_id},
    ).scalar()
    if found is None:
        raise NotFound(missing, field=field)
