"""The audit trail (migrations 0005, 0011): triggers on every critical table write who, from
where and what, secrets masked; the app role cannot write audit rows at all; the sealed
hash chain finds a tampered or deleted entry at that very place; sealing follows (tx_id,
seq) and waits for open transactions. On a database of this module's own, as the app role
where it matters. Redaction, the audit_record function and the order history:
tests/test_audit_evidence.py.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from core.audit.chain import seal_all, seal_pending, verify_chain
from core.auth import Identity, PermissionDenied
from core.db import unit_of_work
from tests.apptest import make_person

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

IP = "203.0.113.7"
UA = "pytest-audit/1.0"

# table -> statement changing one row as an admin, returning the audited record id.
# api_keys and webhooks are visible to their owner only, so the admin makes their own.
CHANGES: dict[str, str] = {
    "users": "UPDATE users SET full_name = full_name || '.' WHERE id ="
    " (SELECT id FROM users ORDER BY id LIMIT 1) RETURNING id::text",
    "user_profiles": "UPDATE user_profiles SET bio = coalesce(bio, '') || '.' WHERE id ="
    " (SELECT id FROM user_profiles ORDER BY id LIMIT 1) RETURNING id::text",
    "roles": "UPDATE roles SET description = coalesce(description, '') || '.'"
    " WHERE name = 'staff' RETURNING id::text",
    "user_roles": "UPDATE user_roles SET created_at = created_at + interval '1 second'"
    " WHERE id = (SELECT id FROM user_roles ORDER BY id LIMIT 1) RETURNING id::text",
    "role_permissions": "UPDATE role_permissions SET created_at = created_at"
    " + interval '1 second' WHERE id = (SELECT id FROM role_permissions ORDER BY id LIMIT 1)"
    " RETURNING id::text",
    "events": "UPDATE events SET description = coalesce(description, '') || '.' WHERE id ="
    " (SELECT id FROM events ORDER BY id LIMIT 1) RETURNING id::text",
    "ticket_types": "UPDATE ticket_types SET description = coalesce(description, '') || '.'"
    " WHERE id = (SELECT id FROM ticket_types ORDER BY id LIMIT 1) RETURNING id::text",
    "orders": "UPDATE orders SET notes = coalesce(notes, '') || '.' WHERE id ="
    " (SELECT id FROM orders ORDER BY id LIMIT 1) RETURNING id::text",
    "order_items": "UPDATE order_items SET metadata = metadata || '{\"audited\": 1}' WHERE id ="
    " (SELECT id FROM order_items ORDER BY id LIMIT 1) RETURNING id::text",
    "order_payments": "UPDATE order_payments SET reference = reference || '.' WHERE id ="
    " (SELECT id FROM order_payments ORDER BY id LIMIT 1) RETURNING id::text",
    "order_refunds": "UPDATE order_refunds SET reason = reason || '.' WHERE id ="
    " (SELECT id FROM order_refunds ORDER BY id LIMIT 1) RETURNING id::text",
    "discount_codes": "UPDATE discount_codes SET description = coalesce(description, '') || '.'"
    " WHERE id = (SELECT id FROM discount_codes ORDER BY id LIMIT 1) RETURNING id::text",
    "promotional_codes": "UPDATE promotional_codes SET description ="
    " coalesce(description, '') || '.' WHERE id ="
    " (SELECT id FROM promotional_codes ORDER BY id LIMIT 1) RETURNING id::text",
    "event_seats": "UPDATE event_seats SET status = 'blocked', blocked_reason = 'audit test'"
    " WHERE (event_id, seat_id) = (SELECT event_id, seat_id FROM event_seats"
    " WHERE status = 'available' ORDER BY 1, 2 LIMIT 1)"
    " RETURNING event_id::text || ':' || seat_id::text",
    "sponsorships": "UPDATE sponsorships SET notes = coalesce(notes, '') || '.' WHERE id ="
    " (SELECT id FROM sponsorships ORDER BY id LIMIT 1) RETURNING id::text",
    "marketing_campaigns": "UPDATE marketing_campaigns SET description ="
    " coalesce(description, '') || '.' WHERE id ="
    " (SELECT id FROM marketing_campaigns ORDER BY id LIMIT 1) RETURNING id::text",
    "api_keys": "INSERT INTO api_keys (name, key_prefix, key_hash, user_id)"
    " VALUES ('audit test', 'ak_test', 'hash-of-the-key', :me) RETURNING id::text",
    # The signing secret is sealed since migration 0017 (the plain column stays empty).
    "webhooks": "INSERT INTO webhooks (user_id, name, url, events, secret_sealed, headers)"
    " VALUES (:me, 'audit test', 'https://example.com/hook', ARRAY['order.created'],"
    " 'whsec_secret', '{\"Authorization\": \"Bearer x\"}') RETURNING id::text",
    "data_subject_requests": "UPDATE data_subject_requests SET notes = coalesce(notes, '')"
    " || '.' WHERE id = (SELECT id FROM data_subject_requests ORDER BY id LIMIT 1)"
    " RETURNING id::text",
    "system_configurations": "UPDATE system_configurations SET description ="
    " coalesce(description, '') || '.' WHERE id ="
    " (SELECT id FROM system_configurations ORDER BY id LIMIT 1) RETURNING id::text",
    "encryption_keys": "UPDATE encryption_keys SET created_at = created_at + interval"
    " '1 second' WHERE id = (SELECT id FROM encryption_keys ORDER BY id LIMIT 1)"
    " RETURNING id::text",
    # Migration 0013.
    "event_staff": "UPDATE event_staff SET created_at = created_at + interval '1 second'"
    " WHERE id = (SELECT id FROM event_staff ORDER BY id LIMIT 1) RETURNING id::text",
    # Migration 0014: an erasure's reviewed matches and their decisions.
    "data_subject_request_matches": "INSERT INTO data_subject_request_matches"
    " (request_id, table_name, record_key, column_name, matched)"
    " SELECT id, 'orders', gen_random_uuid()::text, 'billing_phone', 'phone'"
    " FROM data_subject_requests ORDER BY id LIMIT 1 RETURNING id::text",
}
# Catalogues only migrations change: migration 0013 took the app role's writes away, and
# their trigger records what the owner changes.
OWNER_ONLY = {"roles", "role_permissions"}


@pytest.fixture(scope="module")
def admin(owner: Engine) -> Identity:
    return make_person(owner, ["admin"])


def _entries(conn: Connection, table: str, record_id: str) -> list[Any]:
    return conn.execute(
        text(
            "SELECT action, user_id, ip_address, user_agent, old_data, new_data"
            " FROM audit_logs WHERE table_name = :t AND record_id = :r ORDER BY seq"
        ),
        {"t": table, "r": record_id},
    ).all()


def test_the_triggers_cover_every_critical_table(owner: Engine) -> None:
    with owner.connect() as conn:
        audited = set(
            conn.execute(
                text("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'audit_trail'")
            ).scalars()
        )
    assert audited == set(CHANGES)


@pytest.mark.parametrize("table", sorted(set(CHANGES) - OWNER_ONLY))
def test_a_change_is_written_with_actor_ip_and_user_agent(
    secure_database: SecureDatabase, admin: Identity, table: str
) -> None:
    actor = admin.actor(IP, UA)
    with unit_of_work(actor) as uow:  # never committed: the module's data stays as it was
        record_id = uow.session.execute(text(CHANGES[table]), {"me": admin.user_id}).scalar_one()
        rows = _entries(uow.session.connection(), table, record_id)
    operation = "insert" if CHANGES[table].startswith("INSERT") else "update"
    assert [r.action for r in rows[-1:]] == [f"{table}.{operation}"]
    _action, user_id, ip, ua, old, new = rows[-1]
    assert (user_id, ip, ua) == (admin.user_id, IP, UA)
    assert new is not None and (old is not None) == (operation == "update")
    assert old != new


@pytest.mark.parametrize("table", sorted(OWNER_ONLY))
def test_a_catalogue_is_changed_by_the_owner_only_and_still_audited(
    owner: Engine, admin: Identity, table: str
) -> None:
    with pytest.raises(PermissionDenied), unit_of_work(admin.actor(IP, UA)) as uow:
        uow.session.execute(text(CHANGES[table]))
    with owner.connect() as conn, conn.begin():
        record_id = conn.execute(text(CHANGES[table])).scalar_one()
        [*_, last] = _entries(conn, table, record_id)
        conn.rollback()
    assert (last.action, last.user_id) == (f"{table}.update", None)


def test_a_change_without_a_person_is_recorded_as_no_one(owner: Engine) -> None:
    # On the app role a job without a person reaches no protected row (migration 0013);
    # what runs without one runs on the owner connection, as the retention command does.
    with owner.connect() as conn, conn.begin():
        conn.execute(
            text(
                "SELECT set_config('app.user_id', '', true), set_config('app.user_agent', :a, true)"
            ),
            {"a": "nightly job"},
        )
        code_id = conn.execute(text(CHANGES["discount_codes"])).scalar_one()
    with owner.connect() as conn:
        [*_, last] = _entries(conn, "discount_codes", code_id)
    assert (last.action, last.user_id, last.user_agent) == (
        "discount_codes.update",
        None,
        "nightly job",
    )


def test_an_update_that_changes_nothing_writes_nothing(admin: Identity) -> None:
    with unit_of_work(admin.actor(IP, UA)) as uow:
        code_id = uow.session.execute(
            text("SELECT id::text FROM discount_codes ORDER BY id LIMIT 1")
        ).scalar_one()
        before = len(_entries(uow.session.connection(), "discount_codes", code_id))
        # updated_at moves (its trigger), nothing else does.
        uow.session.execute(
            text("UPDATE discount_codes SET code = code WHERE id = :c"), {"c": code_id}
        )
        assert len(_entries(uow.session.connection(), "discount_codes", code_id)) == before
        uow.session.execute(
            text("UPDATE discount_codes SET description = 'x' || coalesce(description, '')"
                 " WHERE id = :c"),
            {"c": code_id},
        )  # fmt: skip
        assert len(_entries(uow.session.connection(), "discount_codes", code_id)) == before + 1


def test_a_hold_is_not_audited_but_a_sale_is(admin: Identity) -> None:
    with unit_of_work(admin.actor(IP, UA)) as uow:
        s = uow.session
        event_id, seat_id, order_id = s.execute(
            text(
                "SELECT es.event_id, es.seat_id, (SELECT id FROM orders WHERE event_id ="
                " es.event_id LIMIT 1) FROM event_seats es WHERE es.status = 'available'"
                " AND EXISTS (SELECT 1 FROM orders o WHERE o.event_id = es.event_id)"
                " ORDER BY 1, 2 LIMIT 1"
            )
        ).one()
        key = {"e": event_id, "s": seat_id}
        s.execute(
            text(
                "UPDATE event_seats SET status = 'held', held_until = now() + interval '5 min'"
                " WHERE event_id = :e AND seat_id = :s"
            ),
            key,
        )
        record_id = f"{event_id}:{seat_id}"
        assert _entries(s.connection(), "event_seats", record_id) == []
        s.execute(
            text(
                "UPDATE event_seats SET status = 'sold', held_until = NULL, order_id = :o"
                " WHERE event_id = :e AND seat_id = :s"
            ),
            key | {"o": order_id},
        )
        [sold] = _entries(s.connection(), "event_seats", record_id)
    assert sold.action == "event_seats.update"
    assert (sold.old_data["status"], sold.new_data["status"]) == ("held", "sold")


def test_secrets_and_password_hashes_are_masked(admin: Identity) -> None:
    with unit_of_work(admin.actor(IP, UA)) as uow:
        s = uow.session
        key_id = s.execute(text(CHANGES["api_keys"]), {"me": admin.user_id}).scalar_one()
        hook_id = s.execute(text(CHANGES["webhooks"]), {"me": admin.user_id}).scalar_one()
        order_id = s.execute(
            text(
                "UPDATE orders SET encrypted_payment_details = 'ciphertext' WHERE id ="
                " (SELECT id FROM orders ORDER BY id LIMIT 1) RETURNING id::text"
            )
        ).scalar_one()
        config_id = s.execute(
            text(
                "INSERT INTO system_configurations (category, key, value, value_type)"
                " VALUES ('mail', 'smtp_password', '\"hunter22\"', 'string') RETURNING id::text"
            )
        ).scalar_one()
        conn = s.connection()
        [key] = _entries(conn, "api_keys", key_id)
        [hook] = _entries(conn, "webhooks", hook_id)
        [*_, order] = _entries(conn, "orders", order_id)
        [config] = _entries(conn, "system_configurations", config_id)
        everything = conn.execute(
            text("SELECT string_agg(coalesce(old_data::text, '') || new_data::text, ' ')"
                 " FROM audit_logs WHERE record_id = ANY(:ids)"),
            {"ids": [key_id, hook_id, order_id, config_id]},
        ).scalar_one()  # fmt: skip
    assert key.new_data["key_hash"] == "[masked]"
    assert key.new_data["key_prefix"] == "ak_test"  # not a secret
    assert (hook.new_data["secret_sealed"], hook.new_data["headers"]) == ("[masked]", "[masked]")
    assert order.new_data["encrypted_payment_details"] == "[masked, changed]"
    assert config.new_data["value"] == "[masked]"
    # Password hashes are not in users any more (user_credentials, migration 0012).
    for secret in ("hash-of-the-key", "whsec_secret", "Bearer x", "ciphertext", "hunter22"):
        assert secret not in everything


def test_the_app_role_cannot_alter_or_delete_audit_rows_not_even_an_admin(
    secure_database: SecureDatabase, admin: Identity
) -> None:
    statements = (
        "UPDATE audit_logs SET action = 'forged'",
        "UPDATE audit_logs SET old_data = NULL, new_data = NULL, is_redacted = true",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
        "UPDATE audit_chain_head SET last_pos = 0",
        # Not even its own rows (migration 0011): audit_record writes those.
        "INSERT INTO audit_logs (user_id, action, table_name) VALUES (:me, 'x', 'users')",
        "INSERT INTO audit_logs (user_id, action, table_name, sealed_at)"
        " VALUES (:me, 'x', 'users', now())",
        "INSERT INTO audit_logs (user_id, action, table_name, created_at)"
        " VALUES (:me, 'x', 'users', now() - interval '1 year')",
        "INSERT INTO audit_logs (user_id, action, table_name, is_redacted)"
        " VALUES (:me, 'x', 'users', true)",
    )
    for statement in statements:
        with unit_of_work(admin.actor(IP, UA)) as uow, pytest.raises(DBAPIError) as caught:
            uow.session.execute(text(statement), {"me": admin.user_id})
        assert "permission denied" in str(caught.value.orig), statement


def test_partitions_made_later_give_the_app_role_nothing(
    secure_database: SecureDatabase,
) -> None:
    with secure_database.owner.begin() as conn:
        conn.execute(text("SELECT ensure_partitions(0, 18)"))
        role = secure_database.app.url.username
        granted = conn.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'audit_logs'::regclass"
                " AND (has_table_privilege(:r, c.oid, 'UPDATE')"
                "   OR has_table_privilege(:r, c.oid, 'DELETE')"
                "   OR has_table_privilege(:r, c.oid, 'SELECT'))"
            ),
            {"r": role},
        ).all()
        partitions = conn.execute(
            text("SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass")
        ).scalar_one()
    assert partitions > 18
    assert granted == []


def test_the_demo_load_left_the_triggers_on_and_wrote_no_row_per_demo_row(
    owner: Engine,
) -> None:
    with owner.connect() as conn:
        states = set(
            conn.execute(
                text("SELECT tgenabled FROM pg_trigger WHERE tgname LIKE 'audit_trail%'")
            ).scalars()
        )
        seats = conn.execute(text("SELECT count(*) FROM event_seats")).scalar_one()
        seat_rows = conn.execute(
            text("SELECT count(*) FROM audit_logs WHERE action = 'event_seats.insert'")
        ).scalar_one()
    assert states == {"O"}  # enabled (origin mode)
    assert seats > 1_000 and seat_rows == 0


# -- the chain ----------------------------------------------------------------------------


def _sealed_positions(conn: Connection) -> tuple[int, int]:
    return conn.execute(
        text("SELECT min(chain_pos), max(chain_pos) FROM audit_logs WHERE sealed_at IS NOT NULL")
    ).one()


def _verify(conn: Connection) -> Any:
    return conn.execute(text("SELECT * FROM audit_verify()")).one()


def test_a_fresh_demo_verifies_and_sealing_is_idempotent(owner: Engine) -> None:
    seal_all()
    report = verify_chain()
    assert report.ok, report.summary()
    assert report.checked > 100
    assert seal_all() == 0
    assert verify_chain().checked == report.checked


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ("new_data = coalesce(new_data, '{}') || '{\"forged\": true}'", "payload"),
        ("user_id = gen_random_uuid()", "field"),
        ("action = 'orders.nothing_happened'", "field"),
        ("created_at = created_at - interval '1 second'", "field"),
    ],
)
def test_tampering_with_one_row_is_found_at_that_row(
    owner: Engine, change: str, column: str
) -> None:
    seal_all()
    with owner.connect() as conn, conn.begin() as tx:
        low, high = _sealed_positions(conn)
        target = (low + high) // 2
        conn.execute(text(f"UPDATE audit_logs SET {change} WHERE chain_pos = :p"), {"p": target})
        broken = _verify(conn)
        tx.rollback()
    assert not broken.ok
    assert broken.broken_pos == target
    assert broken.problem.startswith("content")


def test_a_rehashed_forgery_breaks_the_next_link(owner: Engine) -> None:
    seal_all()
    with owner.connect() as conn, conn.begin() as tx:
        low, high = _sealed_positions(conn)
        target = (low + high) // 2
        # The forger recomputes the row's own digest and hash, but cannot fix the next one.
        conn.execute(
            text(
                "UPDATE audit_logs a SET action = 'forged', row_hash = sha256(p.row_hash"
                " || audit_row_content_v2(a.chain_pos, a.seq, a.id, a.tx_id, a.created_at,"
                " a.user_id, 'forged', a.table_name, a.record_id, a.ip_address, a.user_agent,"
                " a.payload_digest, a.is_redacted)) FROM audit_logs p"
                " WHERE a.chain_pos = :t AND p.chain_pos = :t - 1"
            ),
            {"t": target},
        )
        broken = _verify(conn)
        tx.rollback()
    assert broken.broken_pos == target + 1


def test_deleting_a_row_is_found_at_the_following_link(owner: Engine) -> None:
    seal_all()
    with owner.connect() as conn, conn.begin() as tx:
        low, high = _sealed_positions(conn)
        target = (low + high) // 2
        conn.execute(text("DELETE FROM audit_logs WHERE chain_pos = :p"), {"p": target})
        broken = _verify(conn)
        tx.rollback()
    assert not broken.ok
    assert broken.broken_pos == target + 1
    assert broken.problem.startswith("link")


def test_deleting_the_last_rows_is_found_at_the_head(owner: Engine) -> None:
    seal_all()
    with owner.connect() as conn, conn.begin() as tx:
        _, high = _sealed_positions(conn)
        conn.execute(text("DELETE FROM audit_logs WHERE chain_pos >= :p"), {"p": high - 1})
        broken = _verify(conn)
        tx.rollback()
    assert not broken.ok
    assert broken.problem.startswith("link")
    assert broken.broken_pos == high - 2


def test_verifying_the_latest_entries_trusts_what_came_before(owner: Engine) -> None:
    seal_all()
    with owner.connect() as conn:
        low, high = _sealed_positions(conn)
        original = conn.execute(
            text("SELECT action FROM audit_logs WHERE chain_pos = :p"), {"p": low + 1}
        ).scalar_one()
    with owner.begin() as conn:
        conn.execute(
            text("UPDATE audit_logs SET action = 'forged' WHERE chain_pos = :p"), {"p": low + 1}
        )
    try:
        latest = verify_chain(latest=10)
        everything = verify_chain()
    finally:
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE audit_logs SET action = :a WHERE chain_pos = :p"),
                {"a": original, "p": low + 1},
            )
    assert latest.ok and latest.checked == 10 and latest.from_pos == high - 9
    assert "the latest" in latest.summary()
    assert not everything.ok and everything.broken_pos == low + 1
    assert verify_chain().ok


def _write_one(conn: Connection, marker: str, order: str) -> int:
    """An audited change to the first or last code (`order`, so that two transactions do
    not wait for each other's row lock) in `conn`'s transaction; returns the row's seq."""
    conn.execute(text("SELECT set_config('app.user_agent', :m, true)"), {"m": marker})
    conn.execute(
        text(
            "UPDATE discount_codes SET description = :m WHERE id ="
            f" (SELECT id FROM discount_codes ORDER BY id {order} LIMIT 1)"
        ),
        {"m": marker},
    )
    return conn.execute(
        text("SELECT seq FROM audit_logs WHERE user_agent = :m"), {"m": marker}
    ).scalar_one()


def test_sealing_waits_for_open_transactions_and_follows_tx_order(owner: Engine) -> None:
    seal_all()
    first, second = f"first-{uuid.uuid4()}", f"second-{uuid.uuid4()}"
    with owner.connect() as slow, owner.connect() as fast:
        slow.begin()
        slow_seq = _write_one(slow, first, "ASC")  # the older transaction, still open
        with fast.begin():
            fast_seq = _write_one(fast, second, "DESC")
        assert fast_seq > slow_seq
        seal_pending()
        with owner.connect() as look:
            state = dict(
                look.execute(
                    text("SELECT user_agent, chain_pos FROM audit_logs WHERE user_agent IN"
                         " (:a, :b)"),
                    {"a": first, "b": second},
                ).all()
            )  # fmt: skip
        # The committed row waits too: sealing it now would put it before the open one.
        assert state == {second: None}
        slow.commit()
    seal_all()
    with owner.connect() as look:
        positions = dict(
            look.execute(
                text("SELECT user_agent, chain_pos FROM audit_logs WHERE user_agent IN (:a, :b)"),
                {"a": first, "b": second},
            ).all()
        )
    assert positions[first] is not None and positions[second] is not None
    assert positions[first] < positions[second]  # (tx_id, seq) order
    assert verify_chain().ok


def test_sealing_chains_in_tx_id_then_seq_order(owner: Engine) -> None:
    seal_all()
    with owner.connect() as conn:
        out_of_order = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT tx_id, seq, lag(tx_id) OVER w AS ptx,"
                " lag(seq) OVER w AS pseq FROM audit_logs WHERE sealed_at IS NOT NULL"
                " WINDOW w AS (ORDER BY chain_pos)) x"
                " WHERE (ptx, pseq) > (tx_id, seq)"
            )
        ).scalar_one()
    assert out_of_order == 0
