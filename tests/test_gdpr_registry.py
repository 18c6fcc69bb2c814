"""One definition of personal data (issue 15): the registry covers the schema, and
discovery, export, erasure, audit redaction, the subject guard and retention read it.

The coverage test runs on the session database (migrated, demo loaded). Its negative
controls add, inside a transaction that is rolled back, what a later change might add: a
new table with an e-mail, a new free-text column on orders, a contact column on a table
declared not personal, a dropped guard trigger; each must be reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from core.gdpr import discovery, erasure
from core.gdpr.categories import REGISTRY
from core.gdpr.coverage import problems
from core.gdpr.registry import KEEP, SCRUB, Kind
from core.retention import categories as retention


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as c:
        c.begin()
        try:
            yield c
        finally:
            c.rollback()


def test_every_table_and_personal_looking_column_is_covered_or_declared(
    conn: Connection,
) -> None:
    assert problems(conn, REGISTRY) == []


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        (
            "CREATE TABLE loyalty_cards (id uuid PRIMARY KEY, holder_email text,"
            " user_id uuid REFERENCES users (id))",
            r"^loyalty_cards: a new table",
        ),
        ("ALTER TABLE orders ADD COLUMN gift_message text", r"^orders\.gift_message: looks"),
        ("ALTER TABLE events ADD COLUMN contact_phone text", r"^events\.contact_phone: looks"),
        (
            "ALTER TABLE ticket_types ADD COLUMN created_by uuid REFERENCES users (id)",
            r"^ticket_types\.created_by: looks",
        ),
        ("DROP TRIGGER gdpr_subject_guard ON orders", r"^orders: trigger gdpr_subject_guard "),
        (
            "DROP TRIGGER gdpr_subject_guard_update ON user_profiles",
            r"^user_profiles: trigger gdpr_subject_guard_update ",
        ),
        ("ALTER TABLE venues DROP COLUMN website", r"^venues\.website: declared"),
        (
            # An audit trigger that would write a secret into the log.
            "DROP TRIGGER audit_trail ON api_keys; CREATE TRIGGER audit_trail AFTER INSERT"
            " OR UPDATE OR DELETE ON api_keys FOR EACH ROW EXECUTE FUNCTION"
            " audit_row_change('id', '')",
            r"^api_keys: the audit trigger masks \[\] but the registry's secrets are",
        ),
    ],
)
def test_a_half_handled_change_is_reported(conn: Connection, change: str, reported: str) -> None:
    conn.execute(text(change))
    found = problems(conn, REGISTRY)
    assert any(re.search(reported, line) for line in found), found


def test_the_migrations_install_the_guards_the_registry_asks_for() -> None:
    """0014 guards the tables of its day, 0015 the sign-in tables of 0012, 0016 guards
    api_keys again with its new column; together they are the registry's guards (the
    coverage check compares the installed triggers)."""
    import importlib.util

    from core.config import PROJECT_ROOT

    installed: dict[str, tuple[str, str, str, str]] = {}
    for name in ("0014_gdpr_subject_guard", "0015_sign_in_personal_data"):
        path = PROJECT_ROOT / "migrations" / "versions" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for t, link, emails, personal, flag in module.GUARDED:
            assert t not in installed, f"{t} is guarded by two migrations"
            installed[t] = (link, emails, personal, flag)
    # Later migrations reinstall a guard whose table gained personal columns.
    for name in ("0016_api_keys", "0017_outbox_webhooks"):
        path = PROJECT_ROOT / "migrations" / "versions" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for t, link, emails, personal, flag in module.GUARDED_AGAIN:
            assert t in installed, f"{t} was not guarded before {name}"
            installed[t] = (link, emails, personal, flag)
    assert installed == {t: g.arguments for t, g in REGISTRY.guards().items()}


def test_discovery_export_and_erasure_read_the_registry() -> None:
    keyed = {c.key for c in REGISTRY.categories if c.find is not None}
    assert set(discovery.TITLES) == keyed
    assert set(discovery.FINGERPRINTED) == {
        c.key for c in REGISTRY.categories if c.find is not None and c.fingerprinted
    }
    for category in REGISTRY.categories:
        if category.find is None:
            continue
        sql = REGISTRY.discovery_sql(category)
        for secret in REGISTRY.secrets(category.table):
            # A secret leaves the export, whichever category of the table exports.
            assert (
                f"- '{secret}'" in sql
                or f"t.{secret} IS NOT NULL" in sql
                or (category.export is not None and f"t.{secret}" not in sql)
            ), (category.key, secret)
        if category.export is not None and category.source is None:
            for f in category.fields:
                if f.kind not in (Kind.SECRET, Kind.LINK):
                    # A custom export still holds every personal field (terms come from them).
                    assert f"t.{f.column}" in sql, (category.key, f.column)
        if category.action in ("anonymise", "scrub"):
            sets = category.assignments()
            for f in category.fields:
                if f.erased != KEEP:
                    assert sets.count(f"{f.column} = ") >= 1, (category.key, f.column)
            assert (SCRUB in {f.erased for f in category.fields}) == ("gdpr_scrub" in sets)
        if category.action == "function":
            assert category.erase_sql, category.key
    assert {c.key for c in erasure.CATEGORIES} == keyed


def test_retention_is_the_registrys_rules_and_anonymisation() -> None:
    rules = REGISTRY.retention_rules()
    assert [c.key for c in retention.CATEGORIES] == list(dict.fromkeys(r.key for _, r in rules))
    for line in retention.CATEGORIES:
        mine = [(c, r) for c, r in rules if r.key == line.key]
        expected = [
            s
            for c, r in mine
            for s in (
                r.statements
                or (
                    (f"DELETE FROM {c.table} WHERE {r.where}",)
                    if r.action == "delete"
                    else (c.erase_statement(r.where),)
                )
            )
        ]
        assert list(line.statements) == expected, line.key
    orders = next(line for line in retention.CATEGORIES if line.key == "orders")
    # What retention leaves of an order is what an erasure leaves.
    assert REGISTRY.by_key("orders").assignments() in orders.statements[0]
    inactive = next(line for line in retention.CATEGORIES if line.key == "inactive_users")
    assert inactive.statements[-1].startswith("UPDATE users SET email = 'erased-'")


def test_the_erasure_finds_rows_by_uuid_keys(conn: Connection) -> None:
    for category in REGISTRY.categories:
        if category.find is None or category.log or category.key_column is None:
            continue
        kind = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = :t AND column_name = :c"
            ),
            {"t": category.table, "c": category.key_column},
        ).scalar_one()
        assert kind == "uuid", category.key


def test_audit_redaction_fields_are_the_registrys_personal_fields() -> None:
    orders = REGISTRY.by_key("orders")
    assert set(orders.audit_fields) == {
        f.column for f in orders.fields if f.kind not in (Kind.SECRET, Kind.LINK)
    }
    assert "encrypted_payment_details" not in orders.audit_fields  # masked by the trigger
    profile = REGISTRY.by_key("profile")
    assert {"first_name", "last_name", "address", "bio"} <= set(profile.audit_fields)
