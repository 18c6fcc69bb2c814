"""Does the personal-data registry cover the schema? The check the registry test runs.

Every table of the schema must be covered by a category or declared not personal. In a
covered table every column that can hold text (text-like, json, jsonb, arrays), every
column linking to an account and every column whose name looks personal must be a
category's field or be declared kept with a reason; in a table declared not personal,
the account links and personal-looking names must be declared with a reason. Declared
columns must exist, an anonymisation may not set a NOT NULL column to NULL, every table
the registry finds people in by account or e-mail must carry the subject guard
(migration 0014) with the registry's arguments, and every audit trigger must mask exactly
the registry's secrets of its table. A new table or column that looks personal therefore
cannot be half handled: this fails until someone decides.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, text

from core.gdpr.registry import KEEP, SCRUB, Registry

# Names that suggest a person (an account link, contact details, notes about someone).
PERSONAL_NAME = re.compile(
    r"e_?mail|phone|contact|address|street|postal|birth|passw|token|secret|ip_addr"
    r"|user_agent|session|full_name|first_name|last_name|speaker|user_id|_by$|author"
    r"|organizer|holder|owner|note|bio|gender|nationality|social|measure|height"
)
GUARD = "gdpr_subject_guard"


@dataclass(frozen=True)
class _Column:
    name: str
    textual: bool
    links_account: bool
    not_null: bool


_COLUMNS = """
SELECT c.relname, a.attname, a.attnotnull,
       (t.typcategory = 'S' OR t.typname IN ('json', 'jsonb', 'inet')
        OR e.typcategory = 'S' OR e.typname IN ('json', 'jsonb')) AS textual,
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'f'
                  AND k.confrelid = to_regclass('users') AND a.attnum = ANY(k.conkey)) AS links
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition
 ORDER BY c.relname, a.attnum
"""

_GUARDS = """
SELECT c.relname, t.tgname,
       encode(substring(t.tgargs FROM 1 FOR length(t.tgargs) - 1), 'escape')
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND NOT c.relispartition
   AND t.tgname::text IN (CAST(:g AS text), :g || '_update')
"""


def problems(conn: Connection, registry: Registry) -> list[str]:
    """Everything in the schema the registry leaves undecided or gets wrong, one line each."""
    schema: dict[str, dict[str, _Column]] = defaultdict(dict)
    for table, name, not_null, textual, links in conn.execute(text(_COLUMNS)):
        schema[table][name] = _Column(name, bool(textual), bool(links), bool(not_null))
    found: list[str] = []
    covered = set(registry.tables)
    for table, columns in schema.items():
        if table not in covered and table not in registry.not_personal:
            found.append(f"{table}: a new table, neither a data category nor declared not personal")
            continue
        known = registry.classified(table)
        for column in columns.values():
            looks = column.links_account or bool(PERSONAL_NAME.search(column.name))
            must = looks or (table in covered and column.textual)
            if must and column.name not in known:
                found.append(
                    f"{table}.{column.name}: looks personal but is neither a field of a"
                    " category nor declared kept with a reason"
                )
    for table in [*covered, *registry.not_personal]:
        if table not in schema:
            found.append(f"{table}: declared in the registry but not in the schema")
            continue
        for column in registry.classified(table):
            if column not in schema[table]:
                found.append(f"{table}.{column}: declared in the registry but not in the schema")
    for category in registry.categories:
        if category.action not in ("anonymise", "scrub") or category.table not in schema:
            continue
        for f in category.fields:
            column = schema[category.table].get(f.column)
            if column and column.not_null and f.erased.strip().upper() == "NULL":
                found.append(
                    f"{category.table}.{f.column}: NOT NULL, but category {category.key}"
                    " erases it to NULL"
                )
            if f.erased == KEEP and category.action == "scrub":
                found.append(f"{category.table}.{f.column}: a log's field cannot be kept")
            if f.erased == SCRUB and column and not column.textual:
                found.append(f"{category.table}.{f.column}: only text can be scrubbed")
    found.extend(_guard_problems(conn, registry))
    found.extend(_mask_problems(conn, registry))
    return found


_MASKS = """
SELECT c.relname, encode(t.tgargs, 'escape')
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND NOT c.relispartition
   AND t.tgname::text IN ('audit_trail', 'audit_trail_update')
"""


def _mask_problems(conn: Connection, registry: Registry) -> list[str]:
    """The audit trigger masks (its second argument) exactly the registry's secrets of the
    table: a secret the registry names is never written into an audit payload."""
    found = []
    for table, args in conn.execute(text(_MASKS)):
        parts = args.split("\\000")
        masked = {c for c in (parts[1] if len(parts) > 1 else "").split(",") if c}
        secrets = set(registry.secrets(table))
        if masked != secrets:
            found.append(
                f"{table}: the audit trigger masks {sorted(masked)} but the registry's"
                f" secrets are {sorted(secrets)}"
            )
    return found


def _guard_problems(conn: Connection, registry: Registry) -> list[str]:
    installed: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for table, trigger, args in conn.execute(text(_GUARDS), {"g": GUARD}):
        installed[table][trigger] = tuple(args.split("\\000")) if args else ()
    found = []
    expected = registry.guards()
    for table, guard in expected.items():
        for trigger in (GUARD, f"{GUARD}_update"):
            if installed.get(table, {}).get(trigger) != guard.arguments:
                found.append(
                    f"{table}: trigger {trigger} missing or different; a migration must"
                    f" install gdpr_subject_guard{guard.arguments} (see migration 0014)"
                )
    for table in set(installed) - set(expected):
        found.append(f"{table}: has the subject guard but the registry finds no one there")
    return found
