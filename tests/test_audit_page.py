"""The audit browser: core reads (filters, keyset paging both ways, diffs, the capped CSV
export) and the page in AppTest (filters, paging, diff, deep link, CSV button, chain
verification), as the app role on a database of this module's own."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from core.audit.browse import (
    AuditFilters,
    audit_filter_choices,
    browse_audit_log,
    export_audit_csv,
    field_diff,
    page_query,
)
from core.audit.chain import seal_all
from core.auth import Identity
from core.auth.audit import record
from core.db import unit_of_work
from core.errors import PermissionDenied, ValidationError
from dashboard import session
from tests.apptest import APP, make_person, messages, open_page, shown

PAGE = "audit_log.py"


@pytest.fixture(scope="module")
def admin(owner: Engine) -> Identity:
    return make_person(owner, ["admin"])


@pytest.fixture(scope="module")
def changed_code(admin: Identity) -> str:
    """A discount code the admin changed (committed, sealed): its id."""
    with unit_of_work(admin.actor("198.51.100.4", "pytest-page")) as uow:
        code_id = uow.session.execute(
            text(
                "UPDATE discount_codes SET description = 'Changed for the audit page',"
                " usage_limit = coalesce(usage_limit, 0) + 7 WHERE id ="
                " (SELECT id FROM discount_codes ORDER BY id LIMIT 1) RETURNING id::text"
            )
        ).scalar_one()
        uow.commit()
    seal_all()
    return code_id


def test_field_diff_shows_changed_fields_and_masks_secrets() -> None:
    old = {"a": 1, "b": "x", "updated_at": "t1", "password_hash": "[masked]"}
    new = {"a": 2, "b": "x", "updated_at": "t2", "password_hash": "[masked, changed]"}
    changes = {c.field: (c.old, c.new, c.masked) for c in field_diff(old, new)}
    assert changes == {
        "a": (1, 2, False),
        "password_hash": ("[masked]", "[masked, changed]", True),
    }
    inserted = field_diff(None, {"a": 1, "key_hash": "[masked]"})
    assert [(c.field, c.old, c.new, c.masked) for c in inserted] == [
        ("a", None, 1, False),
        ("key_hash", None, "[masked]", True),
    ]
    assert [c.field for c in field_diff({"a": 1}, None)] == ["a"]


def test_keyset_pages_walk_back_and_forth_without_overlap(admin: Identity) -> None:
    actor = admin.actor()
    first = browse_audit_log(actor, AuditFilters(), page_size=20)
    assert len(first.entries) == 20 and first.has_older and not first.has_newer
    second = browse_audit_log(actor, AuditFilters(), older_than=first.older, page_size=20)
    assert second.has_newer
    assert {e.id for e in first.entries}.isdisjoint(e.id for e in second.entries)
    keys = [(e.created_at, e.seq) for e in first.entries + second.entries]
    assert keys == sorted(keys, reverse=True)
    back = browse_audit_log(actor, AuditFilters(), newer_than=second.newer, page_size=20)
    assert [e.id for e in back.entries] == [e.id for e in first.entries]
    assert not back.has_newer


def test_each_filter_narrows_the_view(admin: Identity, changed_code: str) -> None:
    actor = admin.actor()
    by_record = browse_audit_log(
        actor, AuditFilters(table="discount_codes", record_id=changed_code)
    ).entries
    assert [e.action for e in by_record][:1] == ["discount_codes.update"]
    assert all(e.record_id == changed_code for e in by_record)
    [change] = [c for c in by_record[0].changes() if c.field == "description"]
    assert change.new == "Changed for the audit page"
    assert {c.field for c in by_record[0].changes()} == {"description", "usage_limit"}

    by_actor = browse_audit_log(actor, AuditFilters(actor_email=admin.email.upper())).entries
    assert by_actor and all(e.user_id == admin.user_id for e in by_actor)
    by_action = browse_audit_log(actor, AuditFilters(action="orders.update")).entries
    assert by_action and all(e.action == "orders.update" for e in by_action)
    by_table = browse_audit_log(actor, AuditFilters(table="users")).entries
    assert by_table and all(e.table_name == "users" for e in by_table)
    today = datetime.now(UTC).date()
    recent = browse_audit_log(actor, AuditFilters(since=today, until=today)).entries
    assert recent and all(e.created_at.date() == today for e in recent)
    old = browse_audit_log(actor, AuditFilters(until=today - timedelta(days=1))).entries
    assert all(e.created_at < datetime.combine(today, datetime.min.time(), UTC) for e in old)

    nobody = browse_audit_log(actor, AuditFilters(actor_email="nobody@example.invalid"))
    assert nobody.unknown_actor and not nobody.entries
    with pytest.raises(ValidationError, match="table"):
        browse_audit_log(actor, AuditFilters(record_id=changed_code))
    with pytest.raises(ValidationError, match="start date"):
        browse_audit_log(actor, AuditFilters(since=today, until=today - timedelta(days=1)))


def test_row_change_and_service_actions_each_filter_through_their_index(
    owner: Engine, admin: Identity, changed_code: str
) -> None:
    """A service's own action (its partial index) and a trigger's `<table>.<op>` (the table
    index, which ends in the action) both filter, are both offered, and each query can
    use its index: the browser states the partial index's predicate word for word."""
    actor = admin.actor()
    with unit_of_work(actor) as uow:
        record(uow.session, actor, "users.roles_changed", admin.user_id)
        uow.commit()
    by_service = browse_audit_log(actor, AuditFilters(action="users.roles_changed")).entries
    assert by_service and {e.action for e in by_service} == {"users.roles_changed"}
    assert any(e.record_id == str(admin.user_id) for e in by_service)
    by_change = browse_audit_log(actor, AuditFilters(action="discount_codes.update")).entries
    assert changed_code in {e.record_id for e in by_change}
    assert {e.action for e in by_change} == {"discount_codes.update"}

    actions = audit_filter_choices(actor).actions
    assert {"users.roles_changed", "discount_codes.update", "users.insert"} <= set(actions)
    assert not any(a.startswith("audit_logs.") for a in actions)

    expected = {
        "users.roles_changed": "action_created_at_seq_idx",
        "discount_codes.update": "table_name_created_at_seq_action_idx",
    }
    for action, index in expected.items():
        sql, params, _ = page_query(AuditFilters(action=action), None, limit=26)
        with owner.begin() as conn:
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(conn.execute(text("EXPLAIN " + sql), params).scalars())
        assert index in plan, plan


def test_only_compliance_may_browse(owner: Engine) -> None:
    organizer = make_person(owner, ["organizer"])
    with pytest.raises(PermissionDenied):
        browse_audit_log(organizer.actor(), AuditFilters())
    with pytest.raises(PermissionDenied):
        list(export_audit_csv(organizer.actor(), AuditFilters()))


def test_the_export_streams_the_filtered_view_up_to_its_cap(
    admin: Identity, changed_code: str
) -> None:
    actor = admin.actor()
    lines = list(export_audit_csv(actor, AuditFilters(table="orders"), cap=30, batch=7))
    rows = list(csv.reader(io.StringIO("".join(lines))))
    assert rows[0][:5] == ["created_at", "seq", "actor", "action", "table"]
    assert len(rows) == 1 + 30 + 1
    assert all(r[4] == "orders" for r in rows[1:31])
    assert rows[-1][0].startswith("# export stopped at 30 entries")
    assert [r[1] for r in rows[1:31]] == [
        str(e.seq)
        for e in browse_audit_log(actor, AuditFilters(table="orders"), page_size=30).entries
    ]
    one = list(
        csv.reader(
            io.StringIO(
                "".join(
                    export_audit_csv(
                        actor, AuditFilters(table="discount_codes", record_id=changed_code)
                    )
                )
            )
        )
    )
    assert not one[-1][0].startswith("#")
    assert "description: " in one[1][8]


# -- the page -------------------------------------------------------------------------------


def _titles(at: AppTest) -> list[str]:
    return [shown(e.label) for e in at.expander]


def test_the_page_lists_filters_and_pages(admin: Identity) -> None:
    at = open_page(PAGE, admin)
    assert not at.exception
    first = _titles(at)
    assert len(first) == 25
    at.selectbox[0].set_value("orders")
    at.button(key="FormSubmitter:audit_filters-Apply filters").click().run()
    assert not at.exception
    orders = _titles(at)
    assert orders and all("· orders" in t for t in orders)
    older = next(b for b in at.button if b.label == "Older")
    older.click().run()
    assert not at.exception
    page_two = _titles(at)
    assert page_two and page_two != orders and all("· orders" in t for t in page_two)
    newer = next(b for b in at.button if b.label == "Newer")
    newer.click().run()
    assert _titles(at) == orders
    # The filters survive a visit to another page.
    at.switch_page("../pages/overview.py").run()
    at.switch_page(f"../pages/{PAGE}").run()
    assert _titles(at) == orders
    assert at.get("download_button"), "a CSV download of the filtered view"


def test_a_deep_link_opens_a_records_history_with_its_diff(
    admin: Identity, changed_code: str
) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[session.IDENTITY] = admin
    at.session_state[session.LAST_ACTIVITY] = time.time()
    at.query_params["table"] = "discount_codes"
    at.query_params["record"] = changed_code
    at.switch_page(f"../pages/{PAGE}")
    at.run()
    assert not at.exception
    titles = _titles(at)
    assert titles and all(changed_code in t for t in titles)
    assert "discount_codes.update" in titles[0]
    diff = at.expander[0].dataframe[0].value
    assert set(diff["Field"]) == {"description", "usage_limit"}
    assert "Changed for the audit page" in set(diff["New"])
    assert at.text_input[0].value == changed_code


def test_verify_chain_seals_and_reports_intact(admin: Identity) -> None:
    at = open_page(PAGE, admin)
    assert any("waiting to be sealed" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Verify chain").click().run()
    assert not at.exception
    assert "chain intact:" in messages(at)


def test_verify_chain_names_the_first_broken_link(owner: Engine, admin: Identity) -> None:
    seal_all()
    with owner.begin() as conn:
        target = conn.execute(
            text("SELECT max(chain_pos) - 3 FROM audit_logs WHERE sealed_at IS NOT NULL")
        ).scalar_one()
        original = conn.execute(
            text("SELECT action FROM audit_logs WHERE chain_pos = :p"), {"p": target}
        ).scalar_one()
        conn.execute(
            text("UPDATE audit_logs SET action = 'forged' WHERE chain_pos = :p"), {"p": target}
        )
    try:
        at = open_page(PAGE, admin)
        next(b for b in at.button if b.label == "Verify chain").click().run()
        assert not at.exception
        assert f"chain broken at entry {target}" in messages(at)
    finally:
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE audit_logs SET action = :a WHERE chain_pos = :p"),
                {"a": original, "p": target},
            )


def test_people_without_compliance_get_no_access(owner: Engine) -> None:
    at = open_page(PAGE, make_person(owner, ["organizer"]))
    assert not at.exception
    assert "don't have access" in messages(at)
