"""Every text-like column of the schema has a length limit (finding 8), defined once.

The catalogue is the judge: every text, varchar, char, text[], json, jsonb and bytea
column of every table must be bounded by its type (varchar(n)) or by a CHECK on that
column alone that bounds its length or lists its values, unless it is in EXEMPT with its
reason. So a column added tomorrow without a limit fails here, whoever adds it. The
limits in the database are the ones the models declare (core/models/limits.py), and a
value over one is refused with the message the models give, naming the field.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Connection, Engine, text

from core.db import Actor, unit_of_work
from core.errors import ValidationError
from core.models import Base
from core.models.limits import kind, length_limit, limit_message, limited_columns

# (table, column): why it has no limit of its own. Keep it short and reasoned.
EXEMPT = {
    ("audit_logs", "old_data"): (
        "a copy of the audited row as it was: each of that row's columns is limited, and a"
        " bound here could refuse a valid change for being audited"
    ),
    ("audit_logs", "new_data"): "the same, as the row became",
    ("audit_logs", "payload_digest"): "a SHA-256 digest the audit sealer writes, never input",
    ("audit_logs", "row_hash"): "a SHA-256 digest the audit sealer writes, never input",
    ("audit_logs", "payload_salt"): "16 random bytes the audit sealer writes, never input",
    ("audit_chain_head", "last_hash"): "a SHA-256 digest the audit sealer writes, never input",
}

TEXT_LIKE = {
    "text",
    "character varying",
    "character",
    "text[]",
    "character varying[]",
    "json",
    "jsonb",
    "bytea",
    "citext",
    "xml",
}

_COLUMNS = text(
    """
    SELECT c.relname, a.attname, format_type(a.atttypid, NULL), a.atttypmod,
           coalesce(array_agg(pg_get_constraintdef(k.oid)) FILTER (WHERE k.oid IS NOT NULL),
                    '{}')
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'c'
                               AND k.conkey = ARRAY[a.attnum]
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
       AND a.attnum > 0 AND NOT a.attisdropped
     GROUP BY 1, 2, 3, 4
     ORDER BY 1, 2
    """
)


def _bounds(column: str, definitions: list[str]) -> bool:
    """Does one of the CHECK definitions on `column` alone bound its length or values?"""
    c = f'"?{re.escape(column)}"?'  # quoted when it is a keyword ("position")
    patterns = (
        rf"(char_length|octet_length|length)\(\(?{c}\)?(::text)?\) (<=|=|<) \d+",
        rf"cardinality\({c}\) <= \d+\)? AND \(?text_array_longest\({c}\) <= \d+",
        rf"\(?{c} = ANY \(ARRAY\[",
    )
    return any(re.search(p, d) for d in definitions for p in patterns)


def unbounded_columns(conn: Connection) -> set[tuple[str, str]]:
    """Text-like columns of the catalogue that nothing holds to a length."""
    found = set()
    for table, column, type_, typmod, definitions in conn.execute(_COLUMNS):
        if type_ not in TEXT_LIKE:
            continue
        if type_ in ("character varying", "character") and typmod > 0:
            continue  # varchar(n)
        if not _bounds(column, list(definitions)):
            found.add((table, column))
    return found


def test_every_text_like_column_has_a_length_limit(engine: Engine) -> None:
    with engine.connect() as conn:
        unbounded = unbounded_columns(conn)
    assert unbounded - set(EXEMPT) == set(), "give these a limit (core/models/limits.py)"
    # An exemption for a column that is limited after all, or gone, is stale.
    assert set(EXEMPT) <= unbounded


def test_the_scan_finds_a_new_column_without_a_limit(engine: Engine) -> None:
    """The test above can fail: a column added without a limit is reported."""
    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(text("ALTER TABLE venues ADD COLUMN nickname text"))
        conn.execute(text("ALTER TABLE venues ADD COLUMN labels jsonb"))
        conn.execute(text("ALTER TABLE venues ADD COLUMN short varchar(10)"))
        conn.execute(text("ALTER TABLE venues ADD COLUMN kind text CHECK (kind IN ('a', 'b'))"))
        found = unbounded_columns(conn)
        tx.rollback()
    assert {("venues", "nickname"), ("venues", "labels")} <= found
    assert not {("venues", "short"), ("venues", "kind")} & found


def test_the_database_holds_the_limits_the_models_declare(engine: Engine) -> None:
    """Each declared limit is its CHECK in the database, validated, with the same numbers
    (`python -m core check` asks the same through core.migrate.length_limit_drift)."""
    from core.migrate import length_limit_drift

    with engine.connect() as conn:
        assert length_limit_drift(conn) == []
        not_valid = conn.execute(
            text("SELECT conname FROM pg_constraint WHERE NOT convalidated")
        ).scalars()
        assert list(not_valid) == []


def test_a_changed_limit_is_reported_as_drift(engine: Engine) -> None:
    from core.migrate import length_limit_drift

    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(text("ALTER TABLE orders DROP CONSTRAINT ck_orders_billing_name_length"))
        conn.execute(
            text(
                "ALTER TABLE orders ADD CONSTRAINT ck_orders_billing_name_length"
                " CHECK (char_length(billing_name) <= 300)"
            )
        )
        conn.execute(text("ALTER TABLE orders DROP CONSTRAINT ck_orders_notes_length"))
        drift = length_limit_drift(conn)
        tx.rollback()
    assert sorted(drift) == [
        "orders.billing_name: the models say 200, the database 300",
        "orders.notes: the models say 5000, the database has no limit",
    ]


def test_constraint_names_fit_postgresql_identifiers() -> None:
    for (table, column), _ in limited_columns(Base.metadata).items():
        assert len(f"ck_{table}_{column}_length") <= 63, (table, column)


@pytest.mark.parametrize(
    ("table", "column", "message"),
    [
        ("orders", "billing_name", "Buyer name must be at most 200 characters."),
        ("orders", "billing_email", "Buyer email must be at most 254 characters."),
        ("orders", "notes", "Notes must be at most 5,000 characters."),
        (
            "orders",
            "idempotency_key",
            "Idempotency key must be at most 200 visible ASCII characters (no spaces).",
        ),
        ("venues", "images", "Images must be at most 65,536 bytes of JSON."),
        ("events", "tags", "Tags may list at most 50 entries of at most 100 characters each."),
    ],
)
def test_messages_name_the_field_and_the_limit(table: str, column: str, message: str) -> None:
    assert limit_message(Base.metadata.tables[table].c[column]) == message


def test_a_writer_that_skips_the_services_is_refused_with_the_models_message(
    engine: Engine,
) -> None:
    """The owner's own SQL, no Python validation in the way: the CHECK refuses a 1 MB
    note, and the unit of work reports it on its field with the models' words."""
    order_id = _any(engine, "SELECT id FROM orders LIMIT 1")
    with pytest.raises(ValidationError) as caught, unit_of_work(Actor.system("pytest")) as uow:
        uow.session.execute(
            text("UPDATE orders SET notes = :n WHERE id = :o"),
            {"n": "n" * 1_000_000, "o": order_id},
        )
        uow.commit()
    assert (caught.value.field, caught.value.message) == (
        "notes",
        "Notes must be at most 5,000 characters.",
    )


@pytest.mark.parametrize(
    ("sql", "field"),
    [
        ("UPDATE venues SET images = to_jsonb(repeat('x', 70000)) WHERE id = :i", "images"),
        ("UPDATE venues SET accessibility_features = ARRAY[repeat('x', 101)] WHERE id = :i",
         "accessibility_features"),
        ("UPDATE venues SET accessibility_features = array_fill('x'::text, ARRAY[51])"
         " WHERE id = :i", "accessibility_features"),
    ],
)  # fmt: skip
def test_json_and_list_columns_are_bounded_too(engine: Engine, sql: str, field: str) -> None:
    venue_id = _any(engine, "SELECT id FROM venues LIMIT 1")
    with pytest.raises(ValidationError) as caught, unit_of_work(Actor.system("pytest")) as uow:
        uow.session.execute(text(sql), {"i": venue_id})
        uow.commit()
    assert caught.value.field == field


def test_the_demo_data_fits_every_limit(engine: Engine) -> None:
    """The session database holds the small demo; every limit validated over it above.
    Here, directly: the longest value of each limited column is within its limit."""
    over = []
    with engine.connect() as conn:
        for (table, name), column in limited_columns(Base.metadata).items():
            limit = length_limit(column)
            assert limit is not None
            measure = {
                "text": f"max(char_length({name}))",
                "json": f"max(octet_length(({name})::text))",
                "list": f"max(text_array_longest({name}))",
            }[kind(column)]
            longest = conn.execute(text(f"SELECT {measure} FROM {table}")).scalar()
            if longest is not None and longest > limit.max_length:
                over.append(f"{table}.{name}: {longest} > {limit.max_length}")
    assert over == []


def _any(engine: Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()
