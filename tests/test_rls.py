"""Row-level security, proven in the database itself: plain SQL as the app role, with no
Python check in the way, sees and changes only what the acting user may."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from core.auth.permissions import role_id
from core.auth.sessions import open_session
from core.db.rls_exemptions import BY_RELATION
from core.models import Base
from tests.apptest import make_person
from tests.checkout_fixtures import make_sale_event
from tests.factories import assign_staff, make_event, make_user

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

# Every table of the models has row-level security unless core/db/rls_exemptions.py says
# why not (tests/test_rls_default.py holds the database to that list).
RLS_TABLES = tuple(sorted(set(Base.metadata.tables) - set(BY_RELATION)))
# Migration 0012: no grants and a restrictive deny-all policy (only the sign-in path's
# definer functions reach them); tests/test_sessions.py proves the app role is refused.
# Migration 0016's rate windows likewise (only api_key_authenticate counts them).
SEALED_TABLES = ("user_credentials", "auth_sessions", "sign_in_throttles", "api_rate_windows")


@dataclass(frozen=True)
class World:
    alice: uuid.UUID  # organizer
    bob: uuid.UUID  # organizer
    admin: uuid.UUID
    bobs_draft: uuid.UUID
    bobs_published: uuid.UUID
    bobs_key: uuid.UUID
    bobs_webhook: uuid.UUID


def _grant(session: Session, user_id: uuid.UUID, role: str) -> None:
    session.execute(
        text("INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)"),
        {"u": user_id, "r": role_id(role)},
    )


@pytest.fixture(scope="module")
def world(secure_database: SecureDatabase) -> World:
    with Session(secure_database.owner) as s, s.begin():
        alice, bob = make_user(s), make_user(s)
        admin = make_user(s, user_type="admin")
        _grant(s, alice.id, "organizer")
        _grant(s, bob.id, "organizer")
        _grant(s, admin.id, "admin")
        draft = make_event(s, bob, status="draft")
        published = make_event(s, bob, status="published", published_at=datetime.now(UTC))
        s.execute(
            text("INSERT INTO user_profiles (user_id, bio) VALUES (:u, 'secret'), (:a, 'mine')"),
            {"u": bob.id, "a": alice.id},
        )
        key = s.execute(
            text(
                "INSERT INTO api_keys (name, key_prefix, key_hash, user_id)"
                " VALUES ('k', 'fsh_ab', :h, :u) RETURNING id"
            ),
            {"h": uuid.uuid4().hex, "u": bob.id},
        ).scalar_one()
        hook = s.execute(
            text(
                "INSERT INTO webhooks (user_id, name, url, events)"
                " VALUES (:u, 'h', 'https://example.com/h', ARRAY['order.created']) RETURNING id"
            ),
            {"u": bob.id},
        ).scalar_one()
        return World(alice.id, bob.id, admin.id, draft.id, published.id, key, hook)


_SESSIONS: dict[uuid.UUID, str] = {}


def _as(conn: Connection, user_id: uuid.UUID | None) -> None:
    """Act as `user_id` (None: nobody) for the rest of the transaction, through a sign-in
    session opened for them as the owner: the app role's claim of a user id is ignored."""
    token = ""
    if user_id is not None:
        if user_id not in _SESSIONS:
            _SESSIONS[user_id] = open_session(user_id) or ""
        token = _SESSIONS[user_id]
    conn.execute(
        text("SELECT set_config('app.user_id', :u, true), set_config('app.session', :t, true)"),
        {"u": str(user_id or ""), "t": token},
    )


def _count(conn: Connection, sql: str, **params: object) -> int:
    return conn.execute(text(f"SELECT count(*) FROM ({sql}) x"), params).scalar_one()


def _changed(conn: Connection, sql: str, **params: object) -> int:
    return conn.execute(text(sql), params).rowcount


def _refused(conn: Connection, sql: str, **params: object) -> bool:
    """True when the database refuses the statement for row-level security."""
    savepoint = conn.begin_nested()
    try:
        conn.execute(text(sql), params)
    except ProgrammingError as exc:
        savepoint.rollback()
        assert "row-level security" in str(exc.orig)
        return True
    savepoint.commit()
    return False


def test_the_app_role_neither_is_superuser_nor_bypasses_rls(
    secure_database: SecureDatabase,
) -> None:
    with secure_database.app.connect() as conn:
        row = conn.execute(
            text(
                "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles"
                " WHERE rolname = current_user"
            )
        ).one()
        tables = conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relname = ANY(:t) AND relrowsecurity"
                " AND relnamespace = current_schema()::regnamespace"
            ),
            {"t": list(RLS_TABLES)},
        ).scalars()
        assert set(tables) == set(RLS_TABLES)
    assert tuple(row) == (False, False, True)


def test_another_organizers_draft_is_invisible_and_unchangeable(
    secure_database: SecureDatabase, world: World
) -> None:
    with secure_database.app.connect() as conn, conn.begin():
        _as(conn, world.alice)
        assert _count(conn, "SELECT 1 FROM events WHERE id = :e", e=world.bobs_draft) == 0
        # Published events are every signed-in user's to see, not to change.
        assert _count(conn, "SELECT 1 FROM events WHERE id = :e", e=world.bobs_published) == 1
        for event in (world.bobs_draft, world.bobs_published):
            assert _changed(conn, "UPDATE events SET title = 'x' WHERE id = :e", e=event) == 0
            assert _changed(conn, "DELETE FROM events WHERE id = :e", e=event) == 0
        assert _refused(
            conn,
            "INSERT INTO events (organizer_id, title, start_date, end_date, type)"
            " VALUES (:o, 'forged', now(), now() + interval '1 hour', 'party')",
            o=world.bob,
        )
        # Taking over one's own event for someone else is refused too.
        mine = conn.execute(
            text(
                "INSERT INTO events (organizer_id, title, start_date, end_date, type)"
                " VALUES (:o, 'mine', now(), now() + interval '1 hour', 'party') RETURNING id"
            ),
            {"o": world.alice},
        ).scalar_one()
        assert _refused(
            conn, "UPDATE events SET organizer_id = :b WHERE id = :e", b=world.bob, e=mine
        )
    with secure_database.app.connect() as conn, conn.begin():
        _as(conn, world.bob)  # the control: the owner and an admin do see it
        assert _count(conn, "SELECT 1 FROM events WHERE id = :e", e=world.bobs_draft) == 1
        _as(conn, world.admin)
        assert _count(conn, "SELECT 1 FROM events WHERE id = :e", e=world.bobs_draft) == 1


def test_another_users_row_and_profile_are_out_of_reach(
    secure_database: SecureDatabase, world: World
) -> None:
    with secure_database.app.connect() as conn, conn.begin():
        _as(conn, world.alice)
        assert _count(conn, "SELECT 1 FROM users WHERE id = :u", u=world.bob) == 0
        assert _count(conn, "SELECT 1 FROM users") == 1  # her own row only
        assert _changed(conn, "UPDATE users SET full_name = 'x' WHERE id = :u", u=world.bob) == 0
        assert _changed(conn, "DELETE FROM users WHERE id = :u", u=world.bob) == 0
        assert _count(conn, "SELECT 1 FROM user_profiles WHERE user_id = :u", u=world.bob) == 0
        assert _count(conn, "SELECT 1 FROM user_profiles WHERE user_id = :u", u=world.alice) == 1
        assert (
            _changed(conn, "UPDATE user_profiles SET bio = 'x' WHERE user_id = :u", u=world.bob)
            == 0
        )
        # Nobody grants themselves a role.
        assert _refused(
            conn,
            "INSERT INTO user_roles (user_id, role_id) VALUES (:u, :r)",
            u=world.alice,
            r=role_id("admin"),
        )


def test_another_users_api_keys_and_webhooks_are_out_of_reach(
    secure_database: SecureDatabase, world: World
) -> None:
    with secure_database.app.connect() as conn, conn.begin():
        _as(conn, world.alice)
        assert _count(conn, "SELECT 1 FROM api_keys WHERE id = :k", k=world.bobs_key) == 0
        assert _count(conn, "SELECT 1 FROM webhooks WHERE id = :w", w=world.bobs_webhook) == 0
        assert (
            _changed(conn, "UPDATE api_keys SET is_active = false WHERE id = :k", k=world.bobs_key)
            == 0
        )
        assert _changed(conn, "DELETE FROM webhooks WHERE id = :w", w=world.bobs_webhook) == 0
        assert _refused(
            conn,
            "INSERT INTO webhooks (user_id, name, url, events)"
            " VALUES (:u, 'h', 'https://evil.example/h', ARRAY['order.created'])",
            u=world.bob,
        )
        _as(conn, world.bob)
        assert _count(conn, "SELECT 1 FROM api_keys WHERE id = :k", k=world.bobs_key) == 1
        assert _count(conn, "SELECT 1 FROM webhooks WHERE id = :w", w=world.bobs_webhook) == 1


def test_keys_and_compliance_rows_are_for_admins_only(
    secure_database: SecureDatabase, world: World
) -> None:
    tables = ("encryption_keys", "audit_logs", "data_subject_requests")
    with secure_database.owner.connect() as conn:
        totals = {t: _count(conn, f"SELECT 1 FROM {t}") for t in tables}
    assert all(totals.values())  # the demo filled them
    with secure_database.app.connect() as conn, conn.begin():
        _as(conn, world.alice)
        assert {t: _count(conn, f"SELECT 1 FROM {t}") for t in tables} == dict.fromkeys(tables, 0)
        assert _changed(conn, "UPDATE data_subject_requests SET notes = 'x'") == 0
        # Audit rows are append-only for the app role (migration 0005).
        savepoint = conn.begin_nested()
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("DELETE FROM audit_logs"))
        savepoint.rollback()
        assert _refused(
            conn,
            "INSERT INTO encryption_keys (key_name, key_version, key_reference)"
            " VALUES ('forged', 99, 'env:X')",
        )
        # Nor may she write audit rows, not even her own (migration 0011).
        for who in (world.bob, world.alice):
            savepoint = conn.begin_nested()
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(
                    text(
                        "INSERT INTO audit_logs (user_id, action, table_name)"
                        " VALUES (:u, 'x', 'users')"
                    ),
                    {"u": who},
                )
            savepoint.rollback()
        _as(conn, world.admin)
        assert {t: _count(conn, f"SELECT 1 FROM {t}") for t in tables} == totals


def test_partitions_cannot_be_read_around_their_parents_policies(
    secure_database: SecureDatabase,
) -> None:
    with (
        secure_database.app.connect() as conn,
        pytest.raises(DBAPIError, match="permission denied"),
    ):
        conn.execute(text("SELECT count(*) FROM audit_logs_default"))


def test_without_an_acting_user_every_protected_table_is_empty(
    secure_database: SecureDatabase, world: World
) -> None:
    with secure_database.app.connect() as conn, conn.begin():
        _as(conn, None)
        readable = [t for t in RLS_TABLES if t not in SEALED_TABLES]
        assert {t: _count(conn, f"SELECT 1 FROM {t}") for t in readable} == dict.fromkeys(
            readable, 0
        )
    for table in SEALED_TABLES:  # only their definer functions reach them
        with (
            secure_database.app.connect() as conn,
            pytest.raises(DBAPIError, match="permission denied"),
        ):
            _as(conn, None)
            conn.execute(text(f"SELECT count(*) FROM {table}"))
    with secure_database.app.connect() as conn:  # not even without a transaction's setting
        assert _count(conn, "SELECT 1 FROM events") == 0


def test_a_pooled_connection_carries_nothing_from_one_user_to_the_next(
    secure_database: SecureDatabase, world: World
) -> None:
    app = secure_database.app  # pool of one: every checkout is the same connection
    with app.connect() as conn, conn.begin():
        _as(conn, world.bob)
        first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert _count(conn, "SELECT 1 FROM events WHERE id = :e", e=world.bobs_draft) == 1
    with app.connect() as conn:
        with conn.begin():
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first_pid
            assert conn.execute(text("SELECT app_current_user_id()")).scalar() is None
            assert _count(conn, "SELECT 1 FROM events WHERE id = :e", e=world.bobs_draft) == 0
        with conn.begin():
            _as(conn, world.alice)
            assert _count(conn, "SELECT 1 FROM events WHERE id = :e", e=world.bobs_draft) == 0
            assert _count(conn, "SELECT 1 FROM api_keys WHERE id = :k", k=world.bobs_key) == 0


def test_every_policy_wraps_its_lookups_in_a_sub_select(
    secure_database: SecureDatabase,
) -> None:
    with secure_database.owner.connect() as conn:
        policies = conn.execute(
            text("SELECT tablename, policyname, qual, with_check FROM pg_policies")
        ).all()
    assert {p.tablename for p in policies} == set(RLS_TABLES)
    sealed = {(p.tablename, p.qual, p.with_check) for p in policies if p.tablename in SEALED_TABLES}
    assert sealed == {(t, "false", "false") for t in SEALED_TABLES}
    policies = [p for p in policies if p.tablename not in SEALED_TABLES]
    # Every lookup of who acts (app_current_user_id, app_has_role, app_has_permission,
    # app_my_*_ids) runs once per query as an InitPlan; app_setting_is_secret reads the
    # row's own columns and is inlined.
    helper = r"app_(?:current_user_id|has_role|has_permission|my_\w+_ids)"
    lookup = re.compile(rf"{helper}\(")
    wrapped = re.compile(rf"SELECT {helper}\(")
    bare = {
        p.policyname: expr
        for p in policies
        for expr in (p.qual, p.with_check)
        if expr and len(lookup.findall(expr)) != len(wrapped.findall(expr))
    }
    assert bare == {}
    # A policy without a lookup of its own follows its parent row: an EXISTS over tables
    # that have row-level security, whose policies then apply for the same person.
    parents = re.compile(r"FROM (\w+)")
    orphans = {
        p.policyname
        for p in policies
        if not lookup.search(p.qual or p.with_check)
        and not (
            parents.findall(p.qual or p.with_check)
            and set(parents.findall(p.qual or p.with_check)) <= set(RLS_TABLES)
        )
    }
    assert orphans == set()


def test_the_columns_policies_filter_on_are_indexed(secure_database: SecureDatabase) -> None:
    wanted = {
        ("events", "organizer_id"),
        ("events", "status"),
        ("users", "id"),
        ("user_profiles", "user_id"),
        ("user_roles", "user_id"),
        ("designers", "user_id"),
        ("collections", "designer_id"),
        ("api_keys", "user_id"),
        ("webhooks", "user_id"),
        ("audit_logs", "user_id"),
        # Migration 0013: what app_my_event_ids() and app_my_sponsor_ids() read, and the
        # columns the policies compare with them or follow to a parent row.
        ("event_staff", "user_id"),
        ("event_staff", "event_id"),
        ("orders", "event_id"),
        ("orders", "user_id"),
        ("order_items", "order_id"),
        ("order_payments", "order_id"),
        ("order_refunds", "order_id"),
        ("promotional_code_usage", "order_id"),
        ("ticket_inventory_locks", "event_id"),
        ("event_seats", "event_id"),
        ("ticket_types", "event_id"),
        ("event_schedules", "event_id"),
        ("event_category_mappings", "event_id"),
        ("discount_code_events", "discount_code_id"),
        ("discount_code_ticket_types", "discount_code_id"),
        ("promotional_code_events", "promotional_code_id"),
        ("promotional_code_ticket_types", "promotional_code_id"),
        ("sponsors", "user_id"),
        ("sponsorships", "sponsor_id"),
        ("sponsorship_assets", "sponsorship_id"),
        ("sponsor_analytics", "sponsor_id"),
        ("user_engagement", "user_id"),
        ("background_jobs", "created_by"),
        ("api_usage_logs", "api_key_id"),
        ("webhook_delivery_logs", "webhook_id"),
        ("pages", "author_id"),
        ("content_blocks", "page_id"),
        ("page_versions", "page_id"),
        ("media_items", "uploaded_by"),
    }
    with secure_database.owner.connect() as conn:
        leading = set(
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT c.relname, a.attname FROM pg_index i"
                    " JOIN pg_class c ON c.oid = i.indrelid"
                    " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]"
                )
            ).all()
        )
    assert wanted - leading == set()


def test_staff_sells_at_the_box_office_as_the_app_role(
    secure_database: SecureDatabase,
) -> None:
    from core.checkout.holds import HoldRequest, hold_tickets
    from core.checkout.orders import Buyer, OrderRequest, place_order
    from core.db import get_engine
    from core.services.overview import get_overview_counts

    assert get_engine() is secure_database.app
    staff = make_person(secure_database.owner, ["staff"], user_type="staff")
    with Session(secure_database.owner) as s, s.begin():
        sale = make_sale_event(s, capacity=10)
        assign_staff(s, sale.event_id, staff.user_id)
    actor = staff.actor()
    session_id = f"box-{uuid.uuid4().hex[:8]}"
    hold_tickets(actor, HoldRequest(sale.event_id, session_id, {sale.ticket_type_id: 2}))
    placed = place_order(
        actor,
        OrderRequest(
            event_id=sale.event_id,
            session_id=session_id,
            buyer=Buyer(name="Ada Lovelace", email="ada@example.com"),
            payment_method="card_terminal",
            expected_total=Decimal("86.60"),  # 2 x 40.00 + 8.25% tax
            idempotency_key=f"rls-{session_id}",
        ),
    )
    assert placed.total == Decimal("86.60")
    with secure_database.owner.connect() as conn:
        remaining = conn.execute(
            text("SELECT remaining_capacity FROM ticket_types WHERE id = :t"),
            {"t": sale.ticket_type_id},
        ).scalar_one()
        status = conn.execute(
            text("SELECT status FROM orders WHERE id = :o"), {"o": placed.order_id}
        ).scalar_one()
    assert (remaining, status) == (8, "completed")
    # The overview works for staff too (compliance counts are an admin's: zero here).
    counts = get_overview_counts(actor)
    assert counts.events > 0 and counts.open_compliance_requests == 0
    assert datetime.now(UTC) - counts.as_of < timedelta(minutes=5)
