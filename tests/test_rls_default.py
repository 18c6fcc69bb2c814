"""Row-level security is the default (issue 15, finding 3): every table, view and
materialized view of the schema either has row-level security enabled with policies, or
is listed in core/db/rls_exemptions.py with its reason, and then the app role may do with
it exactly what the list says. A table added without either fails here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from core.config import PROJECT_ROOT
from core.db.rls_exemptions import BY_RELATION

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

KINDS = {"r": "table", "p": "table", "m": "materialized view", "v": "view", "f": "table"}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")

# Every relation of the schema but partitions (they are reached through their parent and
# carry its policies), with what the app role may do with it.
_RELATIONS = """
SELECT c.relname, c.relkind, c.relrowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
       ARRAY(SELECT p FROM unnest(CAST(:privileges AS text[])) p
              WHERE has_table_privilege(:app, c.oid, p)) AS app_access
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'm', 'v', 'f')
   AND NOT c.relispartition
 ORDER BY c.relname
"""


def _app_role(secure_database: SecureDatabase) -> str:
    with secure_database.app.connect() as conn:
        return conn.execute(text("SELECT current_user")).scalar_one()


def _relations(conn: Connection, app: str) -> list:
    return conn.execute(text(_RELATIONS), {"privileges": list(PRIVILEGES), "app": app}).all()


def unprotected(conn: Connection, app: str) -> dict[str, str]:
    """Relations that break the rule, with what is wrong with each."""
    problems: dict[str, str] = {}
    for name, kind, rls, policies, access in _relations(conn, app):
        exemption = BY_RELATION.get(name)
        if exemption is None:
            if not (rls and policies):
                problems[name] = (
                    f"{KINDS[kind]} without row-level security and policies, and no reason"
                    " recorded in core/db/rls_exemptions.py"
                )
            continue
        if rls or policies:
            problems[name] = "has row-level security now: take it off the exemption list"
        elif exemption.kind != KINDS[kind]:
            problems[name] = f"is a {KINDS[kind]}, the list says {exemption.kind}"
        elif frozenset(access) != exemption.app_access:
            problems[name] = (
                f"the app role may {sorted(access)}, the list says {sorted(exemption.app_access)}"
            )
    return problems


def test_every_relation_has_policies_or_a_recorded_exemption(
    secure_database: SecureDatabase,
) -> None:
    app = _app_role(secure_database)
    with secure_database.owner.connect() as conn:
        assert unprotected(conn, app) == {}
        names = {row[0] for row in _relations(conn, app)}
    # No stale entry: every exemption names a relation that exists.
    assert set(BY_RELATION) - names == set()
    assert len(names) > 80  # the whole schema was looked at, not an empty one


def test_a_new_table_without_policies_is_caught(secure_database: SecureDatabase) -> None:
    """The negative control: the check fails for a table made the way 0001 made them."""
    app = _app_role(secure_database)
    with secure_database.owner.connect() as conn, conn.begin():
        conn.execute(text("CREATE TABLE rls_probe (id uuid PRIMARY KEY, email text)"))
        conn.execute(text(f"GRANT SELECT, INSERT ON rls_probe TO {app}"))
        assert set(unprotected(conn, app)) == {"rls_probe"}
        conn.execute(text("ALTER TABLE rls_probe ENABLE ROW LEVEL SECURITY"))
        # Enabled without a policy is refused too: it says nothing about who may see what.
        assert set(unprotected(conn, app)) == {"rls_probe"}
        conn.execute(
            text("CREATE POLICY rls_probe_none ON rls_probe USING ((SELECT app_has_role('admin')))")
        )
        assert unprotected(conn, app) == {}
        conn.rollback()


def test_no_session_of_the_app_role_can_truncate_or_read_a_partition(
    secure_database: SecureDatabase,
) -> None:
    # TRUNCATE skips row-level security; a partition read directly skips its parent's.
    app = _app_role(secure_database)
    with secure_database.owner.connect() as conn:
        truncatable = [r[0] for r in _relations(conn, app) if "TRUNCATE" in r[4]]
        partitions = conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relispartition"
                " AND (has_table_privilege(:app, c.oid, 'SELECT')"
                "      OR has_table_privilege(:app, c.oid, 'INSERT')"
                "      OR has_table_privilege(:app, c.oid, 'UPDATE')"
                "      OR has_table_privilege(:app, c.oid, 'DELETE'))"
            ),
            {"app": app},
        ).scalars()
        assert (truncatable, list(partitions)) == ([], [])


@pytest.mark.parametrize("relation", sorted(BY_RELATION))
def test_an_exempt_relation_cannot_be_changed_by_the_app_role(
    secure_database: SecureDatabase, relation: str
) -> None:
    exemption = BY_RELATION[relation]
    assert exemption.app_access <= {"SELECT"}  # none of them is written by the app
    if "SELECT" not in exemption.app_access:
        statement = f"SELECT count(*) FROM {relation}"
    elif exemption.kind == "materialized view":
        statement = f"REFRESH MATERIALIZED VIEW {relation}"
    else:
        statement = f"DELETE FROM {relation}"
    with secure_database.app.connect() as conn, conn.begin():
        savepoint = conn.begin_nested()
        refused = r"permission denied|must be owner|cannot delete from view"
        with pytest.raises(DBAPIError, match=refused):
            conn.execute(text(statement))
        savepoint.rollback()


def test_security_doc_lists_every_exemption() -> None:
    doc = (PROJECT_ROOT / "docs" / "SECURITY.md").read_text()
    section = doc.split("## Tables without row-level security", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert listed == set(BY_RELATION)
