"""Issue 15's audit findings and defects, each reproduced (migration 0011, docs/AUDIT.md):

- finding 2: a redacted payload is no excuse: redaction is its own chained entry, and
  verification re-derives every redacted row from it (flag-and-rewrite, unflagging, an
  edited redaction entry and a forged second one are found, naming the entry);
- finding 7: nobody forges audit rows: the app role has no INSERT, and audit_record takes
  the person from the database and records only the catalogue's actions;
- defect 4: an order's history shows its items, payments, refunds and cancellation;
- defect 10: a sign-in is recorded once, as itself, not also as a `users.update`.

On a database of this module's own. Tampering happens as the owner inside a transaction
that is rolled back; legitimate redactions are committed (the chain stays intact).
"""

from __future__ import annotations

import ast
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core import auth
from core.audit.chain import seal_all, seal_pending, verify_chain
from core.auth.audit import record
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.orders import (
    Buyer,
    OrderRequest,
    cancel_order,
    place_order,
    quote_order,
    refund_order,
)
from core.config import PROJECT_ROOT
from core.db import Actor, unit_of_work
from core.errors import PermissionDenied
from core.migrate import downgrade, upgrade
from core.models import EventSeat, User
from core.services.orders import get_order
from tests.apptest import make_person, set_password
from tests.factories import make_event, make_seated_section, make_ticket_type, make_user

if TYPE_CHECKING:
    from tests.conftest import SecureDatabase

# The sealer runs on a connection of its own while a redaction's unit of work is open.
APP_POOL_SIZE = 2
IP = "198.51.100.23"
UA = "pytest-evidence/1.0"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def admin(owner: Engine) -> auth.Identity:
    return make_person(owner, ["admin"])


def _marked_row(owner: Engine, marker: str) -> int:
    """An audited change whose payload holds `marker` (the staff role's description, by
    the owner: no person); returns its audit row's seq."""
    with owner.begin() as conn:
        role_id = conn.execute(
            text("UPDATE roles SET description = :m WHERE name = 'staff' RETURNING id::text"),
            {"m": f"Door and box office ({marker})"},
        ).scalar_one()
        return conn.execute(
            text(
                "SELECT max(seq) FROM audit_logs WHERE table_name = 'roles'"
                " AND record_id = :r AND tx_id = pg_current_xact_id()"
            ),
            {"r": role_id},
        ).scalar_one()


def _row(conn: Connection, seq: int) -> Any:
    return conn.execute(text("SELECT * FROM audit_logs WHERE seq = :s"), {"s": seq}).one()


def _problems(conn: Connection) -> list[Any]:
    return conn.execute(text("SELECT * FROM audit_verify(1, 10)")).all()


def _redact(admin: auth.Identity, *terms: str) -> int:
    with unit_of_work(admin.actor(IP, UA)) as uow:
        n = uow.session.execute(
            text("SELECT audit_redact(CAST(:t AS text[]))"), {"t": list(terms)}
        ).scalar_one()
        uow.commit()
    return int(n)


def _entries_naming(conn: Connection, seq: int) -> list[Any]:
    """The audit.redacted entries that name the row `seq`, oldest first, with that row's
    record."""
    return conn.execute(
        text(
            "SELECT e.*, r AS rec FROM audit_logs e, jsonb_array_elements(e.new_data -> 'rows') r"
            " WHERE e.action = 'audit.redacted' AND (r ->> 'seq')::bigint = :s ORDER BY e.seq"
        ),
        {"s": seq},
    ).all()


def _seal_in_place(conn: Connection, seq: int) -> int:
    """Seal the row `seq` inside `conn`'s transaction as audit_seal would (a forger who
    owns the database does not wait for the sealer); returns its position."""
    conn.execute(
        text(
            "UPDATE audit_logs SET payload_salt = coalesce(payload_salt,"
            " uuid_send(gen_random_uuid())) WHERE seq = :s"
        ),
        {"s": seq},
    )
    conn.execute(
        text(
            "UPDATE audit_logs a SET chain_pos = h.last_pos + 1,"
            " payload_digest = audit_payload_digest(a.payload_salt, a.old_data, a.new_data),"
            " row_hash = sha256(h.last_hash || audit_row_content_v2(h.last_pos + 1, a.seq,"
            " a.id, a.tx_id, a.created_at, a.user_id, a.action, a.table_name, a.record_id,"
            " a.ip_address, a.user_agent,"
            " audit_payload_digest(a.payload_salt, a.old_data, a.new_data), a.is_redacted)),"
            " sealed_at = now() FROM audit_chain_head h WHERE a.seq = :s"
        ),
        {"s": seq},
    )
    return conn.execute(
        text(
            "UPDATE audit_chain_head h SET last_pos = a.chain_pos, last_hash = a.row_hash"
            " FROM audit_logs a WHERE a.seq = :s RETURNING h.last_pos"
        ),
        {"s": seq},
    ).scalar_one()


def _redacted_and_sealed(owner: Engine, admin: auth.Identity) -> tuple[int, int, str]:
    """A sealed row whose marker an admin then redacted; all sealed. (row seq, position of
    its redaction entry, marker)."""
    marker = f"redact-me-{uuid.uuid4().hex[:12]}"
    seq = _marked_row(owner, marker)
    seal_all()
    assert _redact(admin, marker) == 1
    seal_all()
    with owner.connect() as conn:
        [entry] = _entries_naming(conn, seq)
    return seq, entry.chain_pos, marker


# -- finding 2: redaction is evidence -------------------------------------------------------


def test_flagging_a_sealed_row_redacted_does_not_excuse_a_rewritten_payload(
    owner: Engine,
) -> None:
    seq = _marked_row(owner, f"plain-{uuid.uuid4().hex[:8]}")
    seal_all()
    assert verify_chain().ok
    with owner.begin() as conn:
        original = _row(conn, seq)
        # The owner's attack of the finding: flag it, then write what the row "said".
        conn.execute(
            text(
                "UPDATE audit_logs SET is_redacted = true,"
                ' new_data = new_data || \'{"description": "nothing to see"}\' WHERE seq = :s'
            ),
            {"s": seq},
        )
    try:
        report = verify_chain()
    finally:
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE audit_logs SET is_redacted = false, new_data = :n WHERE seq = :s"),
                {"s": seq, "n": Jsonb(original.new_data)},
            )
    assert not report.ok, report.summary()
    assert (report.broken_pos, report.broken_seq) == (original.chain_pos, seq)
    assert report.problem is not None
    assert report.problem.startswith("redaction: flagged as redacted, but no redaction entry")
    assert verify_chain().ok


def test_a_redaction_is_a_chained_entry_naming_rows_fields_and_digests_but_no_values(
    owner: Engine, admin: auth.Identity
) -> None:
    marker = f"jane.doe.{uuid.uuid4().hex[:8]}@example.com"
    seq = _marked_row(owner, marker)
    seal_all()
    with owner.connect() as conn:
        before = _row(conn, seq)
    assert _redact(admin, marker) == 1
    with owner.connect() as conn:
        [entry] = _entries_naming(conn, seq)
        after = _row(conn, seq)
        recomputed = conn.execute(
            text("SELECT audit_payload_digest(:s, :o, :n)"),
            {"s": after.payload_salt, "o": Jsonb(after.old_data), "n": Jsonb(after.new_data)},
        ).scalar_one()
        unsalted_guess = conn.execute(
            text("SELECT audit_payload_digest(NULL, :o, :n)"),
            {"o": Jsonb(before.old_data), "n": Jsonb(before.new_data)},
        ).scalar_one()
    assert (entry.user_id, entry.ip_address, entry.user_agent) == (admin.user_id, IP, UA)
    assert (entry.table_name, entry.record_id, entry.old_data) == ("audit_logs", None, None)
    assert entry.new_data["function"] == "audit_redact"
    rec = entry.rec
    assert (rec["seq"], rec["pos"]) == (seq, before.chain_pos)
    assert datetime.fromisoformat(rec["at"]) == before.created_at
    assert rec["fields"] == ["new.description"]
    assert bytes.fromhex(rec["before"]) == before.payload_digest
    assert bytes.fromhex(rec["after"]) == recomputed
    assert after.is_redacted and after.payload_digest == before.payload_digest
    assert after.payload_salt != before.payload_salt
    # Neither the erased value nor the search term is in the record...
    assert marker not in str(entry.new_data) and marker.split("@")[0] not in str(entry.new_data)
    assert marker not in str(after.new_data) and "[erased]" in after.new_data["description"]
    # ... and the digest kept from before cannot confirm a guess of the erased value.
    assert unsalted_guess != before.payload_digest
    report = verify_chain(seal_first=True)
    assert report.ok, report.summary()


def test_rewriting_a_redacted_payload_is_found_naming_the_redaction_entry(
    owner: Engine, admin: auth.Identity
) -> None:
    seq, entry_pos, _ = _redacted_and_sealed(owner, admin)
    assert verify_chain().ok
    with owner.connect() as conn, conn.begin() as tx:
        conn.execute(
            text(
                'UPDATE audit_logs SET new_data = new_data || \'{"name": "admin"}\' WHERE seq = :s'
            ),
            {"s": seq},
        )
        [first, *_] = _problems(conn)
        tx.rollback()
    assert first.broken_seq == seq
    assert first.problem == (
        f"content: old or new data changed after its last redaction (entry at position {entry_pos})"
    )


def test_unflagging_a_redacted_row_is_found(owner: Engine, admin: auth.Identity) -> None:
    seq, entry_pos, _ = _redacted_and_sealed(owner, admin)
    with owner.connect() as conn, conn.begin() as tx:
        conn.execute(text("UPDATE audit_logs SET is_redacted = false WHERE seq = :s"), {"s": seq})
        [first, *_] = _problems(conn)
        tx.rollback()
    assert first.broken_seq == seq
    assert first.problem == (
        f"redaction: the redaction entry at position {entry_pos} overwrote it, but it is no"
        " longer flagged as redacted"
    )


def test_editing_the_redaction_entry_is_found_at_the_entry(
    owner: Engine, admin: auth.Identity
) -> None:
    seq, entry_pos, _ = _redacted_and_sealed(owner, admin)
    with owner.connect() as conn, conn.begin() as tx:
        # Rewrite the row, then make its redaction record claim the new payload's digest.
        conn.execute(
            text(
                'UPDATE audit_logs SET new_data = new_data || \'{"name": "admin"}\' WHERE seq = :s'
            ),
            {"s": seq},
        )
        conn.execute(
            text(
                "UPDATE audit_logs e SET new_data = jsonb_set(e.new_data, '{rows,0,after}',"
                " to_jsonb(encode(audit_payload_digest(a.payload_salt, a.old_data,"
                " a.new_data), 'hex'))) FROM audit_logs a"
                " WHERE e.chain_pos = :p AND a.seq = :s"
            ),
            {"p": entry_pos, "s": seq},
        )
        problems = _problems(conn)
        tx.rollback()
    assert [(p.broken_pos, p.problem) for p in problems] == [
        (entry_pos, "content: old or new data changed after sealing")
    ]


@pytest.mark.parametrize("variant", ["copied", "chained", "unsealed"])
def test_a_second_forged_redaction_is_found(
    owner: Engine, admin: auth.Identity, variant: str
) -> None:
    seq, entry_pos, _ = _redacted_and_sealed(owner, admin)
    with owner.connect() as conn, conn.begin() as tx:
        row = _row(conn, seq)
        [real] = _entries_naming(conn, seq)
        # The forger rewrites the already redacted row ...
        forged_value = "[erased]" if variant == "copied" else "Door staff, admin rights"
        conn.execute(
            text(
                "UPDATE audit_logs SET new_data = jsonb_set(new_data, '{description}', :v),"
                " payload_salt = uuid_send(gen_random_uuid()) WHERE seq = :s"
            ),
            {"s": seq, "v": Jsonb(forged_value)},
        )
        new_digest = conn.execute(
            text(
                "SELECT encode(audit_payload_digest(payload_salt, old_data, new_data), 'hex')"
                " FROM audit_logs WHERE seq = :s"
            ),
            {"s": seq},
        ).scalar_one()
        # ... and writes a redaction entry of its own that covers the new payload: a copy
        # of the real one (starting from the sealed digest again), or one that starts from
        # what the real one left (but the field it names holds no erasure mark).
        start = real.rec["before"] if variant == "copied" else real.rec["after"]
        forged_rec = real.rec | {"before": start, "after": new_digest}
        forged_seq = conn.execute(
            text(
                "INSERT INTO audit_logs (user_id, action, table_name, new_data)"
                " VALUES (:u, 'audit.redacted', 'audit_logs', :d) RETURNING seq"
            ),
            {
                "u": admin.user_id,
                "d": Jsonb({"function": "audit_redact", "part": 1, "of": 1, "rows": [forged_rec]}),
            },
        ).scalar_one()
        forged_pos = None if variant == "unsealed" else _seal_in_place(conn, forged_seq)
        [first, *_] = _problems(conn)
        tx.rollback()
    assert not first.ok
    if variant == "copied":
        assert (first.broken_seq, first.problem) == (
            seq,
            f"redaction: the redaction entry at position {forged_pos} does not start from"
            " what the redaction before it left",
        )
    elif variant == "chained":
        assert (first.broken_seq, first.problem) == (
            seq,
            f"redaction: the field new.description that the redaction entry at position"
            f" {forged_pos} erased holds something else",
        )
    else:
        assert first.broken_seq == seq
        assert first.problem == (
            f"content: old or new data changed after its last redaction (entry at position"
            f" {entry_pos})"
        )
    assert row.is_redacted


def test_a_row_redacted_before_it_is_sealed_is_sealed_as_redacted(
    owner: Engine, admin: auth.Identity
) -> None:
    marker = f"same-transaction-{uuid.uuid4().hex[:8]}"
    # An erasure's own changes write audit rows that its redaction overwrites in the same
    # transaction, before any sealer can see them.
    with unit_of_work(admin.actor(IP, UA)) as uow:
        s = uow.session
        # Roles are the owner's to change (migration 0013); an event is the admin's.
        s.execute(
            text(
                "UPDATE events SET description = :m"
                " WHERE id = (SELECT id FROM events ORDER BY id LIMIT 1)"
            ),
            {"m": f"Runway ({marker})"},
        )
        seq = s.execute(
            text(
                "SELECT max(seq) FROM audit_logs WHERE table_name = 'events'"
                " AND tx_id = pg_current_xact_id()"
            )
        ).scalar_one()
        assert s.execute(text("SELECT audit_redact(ARRAY[:m])"), {"m": marker}).scalar_one() == 1
        uow.commit()
    report = verify_chain(seal_first=True)
    assert report.ok, report.summary()
    with owner.connect() as conn:
        [entry] = _entries_naming(conn, seq)
        row = _row(conn, seq)
        sealed_as_redacted = conn.execute(
            text(
                "SELECT a.row_hash = sha256(p.row_hash || audit_row_content_v2(a.chain_pos,"
                " a.seq, a.id, a.tx_id, a.created_at, a.user_id, a.action, a.table_name,"
                " a.record_id, a.ip_address, a.user_agent, a.payload_digest, true))"
                " FROM audit_logs a JOIN audit_logs p ON p.chain_pos = a.chain_pos - 1"
                " WHERE a.seq = :s"
            ),
            {"s": seq},
        ).scalar_one()
    assert (entry.rec["pos"], entry.rec["before"]) == (None, None)
    assert bytes.fromhex(entry.rec["after"]) == row.payload_digest
    assert sealed_as_redacted and row.is_redacted
    assert entry.chain_pos > row.chain_pos
    with owner.connect() as conn, conn.begin() as tx:
        conn.execute(text("UPDATE audit_logs SET is_redacted = false WHERE seq = :s"), {"s": seq})
        [first, *_] = _problems(conn)
        tx.rollback()
    assert first.broken_seq == seq and first.problem.startswith("redaction:")


def test_no_row_is_sealed_while_a_redaction_is_in_progress(
    owner: Engine, admin: auth.Identity
) -> None:
    marker = f"in-progress-{uuid.uuid4().hex[:8]}"
    seq = _marked_row(owner, marker)  # committed, not sealed yet
    with unit_of_work(admin.actor(IP, UA)) as uow:
        uow.session.execute(text("SELECT audit_redact(ARRAY[:m])"), {"m": marker})
        # A sealer now would chain the row with the flag and digest the redaction is
        # about to change; it finds the lock taken and seals nothing, without waiting.
        assert seal_pending() == 0
        with owner.connect() as conn:
            assert _row(conn, seq).chain_pos is None
        uow.commit()
    assert seal_all() >= 2  # the row and its redaction entry
    report = verify_chain()
    assert report.ok, report.summary()


def test_two_redactions_of_one_row_chain_their_digests(owner: Engine, admin: auth.Identity) -> None:
    marker = f"twice-{uuid.uuid4().hex[:8]}"
    seq = _marked_row(owner, marker)
    seal_all()
    with owner.connect() as conn:
        role_id = _row(conn, seq).record_id
    # As an erasure does: the record's fields first, then the terms everywhere.
    with unit_of_work(admin.actor(IP, UA)) as uow:
        fields = uow.session.execute(
            text("SELECT audit_redact_fields('roles', ARRAY[:r], ARRAY['name'])"),
            {"r": role_id},
        ).scalar_one()
        terms = uow.session.execute(
            text("SELECT audit_redact(ARRAY[:m])"), {"m": marker}
        ).scalar_one()
        uow.commit()
    assert fields >= 1 and terms == 1
    with owner.connect() as conn:
        entries = _entries_naming(conn, seq)
    assert [e.new_data["function"] for e in entries] == ["audit_redact_fields", "audit_redact"]
    assert entries[1].rec["before"] == entries[0].rec["after"]
    assert entries[0].rec["fields"] == ["new.name", "old.name"]
    report = verify_chain(seal_first=True)
    assert report.ok, report.summary()


def test_the_verify_report_names_every_problem_up_to_ten(
    owner: Engine, admin: auth.Identity
) -> None:
    seq, _, _ = _redacted_and_sealed(owner, admin)
    other = _marked_row(owner, f"other-{uuid.uuid4().hex[:8]}")
    seal_all()
    with owner.begin() as conn:
        positions = [_row(conn, s).chain_pos for s in (seq, other)]
        conn.execute(
            text("UPDATE audit_logs SET is_redacted = NOT is_redacted WHERE seq IN (:a, :b)"),
            {"a": seq, "b": other},
        )
    try:
        report = verify_chain()
    finally:
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE audit_logs SET is_redacted = NOT is_redacted WHERE seq IN (:a, :b)"),
                {"a": seq, "b": other},
            )
    assert [p.pos for p in report.problems] == positions
    assert f"also at {positions[1]}" in report.summary()
    assert verify_chain().ok


# -- finding 2: rows sealed before migration 0011 -------------------------------------------

REPLACED = (
    "auth_record_failure(uuid, text, text)",
    "auth_record_success(uuid, text, text, text, text)",
    "auth_set_reset_token(text, text, integer)",
    "auth_redeem_reset_token(text, text)",
    "audit_row_change()",
    "audit_seal(integer)",
    "audit_verify(bigint)",
    "audit_redact(text[])",
    "audit_redact_fields(text, text[], text[])",
)


def _definitions(conn: Connection) -> dict[str, str]:
    return {
        signature: conn.execute(
            text("SELECT pg_get_functiondef(CAST(:f AS regprocedure))"), {"f": signature}
        ).scalar_one()
        for signature in REPLACED
    }


def _change_role(conn: Connection, role: str, marker: str) -> int:
    conn.execute(
        text("UPDATE roles SET description = :m WHERE name = :r"),
        {"m": f"{role} ({marker})", "r": role},
    )
    return conn.execute(
        text("SELECT max(seq) FROM audit_logs WHERE tx_id = pg_current_xact_id()")
    ).scalar_one()


def test_rows_sealed_under_the_old_format_still_verify_and_the_downgrade_restores_it(
    scratch_database: Engine,
) -> None:
    db = scratch_database
    upgrade(db, "0009")
    # One role each, so that no entry's old value holds another's marker.
    roles = {
        "plain": "sponsor",
        "erased-after-sealing": "designer",
        "erased-later": "staff",
        "tamper": "marketing",
    }
    seqs: dict[str, int] = {}
    for name, role in roles.items():
        with db.begin() as conn:
            seqs[name] = _change_role(conn, role, f"{name}-{uuid.uuid4().hex[:6]}")
    with db.begin() as conn:
        conn.execute(text("SELECT audit_seal(10000)"))
    with db.begin() as conn:
        # 0006's redaction: flag and overwrite, nothing else.
        conn.execute(text("SELECT audit_redact(ARRAY['erased-after-sealing'])"))
        seqs["erased-unsealed"] = _change_role(conn, "organizer", "erased-unsealed")
        conn.execute(text("SELECT audit_redact(ARRAY['erased-unsealed'])"))
    with db.connect() as conn:
        assert conn.execute(text("SELECT ok FROM audit_verify()")).scalar_one()
        old_last = conn.execute(text("SELECT last_pos FROM audit_chain_head")).scalar_one()
        shipped = _definitions(conn)

    upgrade(db)
    with db.begin() as conn:
        conn.execute(text("SELECT audit_seal(10000)"))
    with db.connect() as conn:
        assert conn.execute(text("SELECT v2_from_pos FROM audit_chain_head")).scalar_one() == (
            old_last + 1
        )
        legacy = _entries_naming(conn, seqs["erased-after-sealing"])
        assert [e.new_data["function"] for e in legacy] == ["migration 0011"]
        assert legacy[0].user_agent == "migration 0011"
        assert legacy[0].rec["fields"] == ["new.description"]
        assert _entries_naming(conn, seqs["erased-unsealed"])[0].rec["pos"] is None
        assert _problems(conn)[0].ok
    with db.begin() as conn:
        _change_role(conn, "sponsor", "after the upgrade")
        conn.execute(text("SELECT audit_redact(ARRAY['erased-later'])"))
    with db.begin() as conn:
        conn.execute(text("SELECT audit_seal(10000)"))
    with db.connect() as conn:
        assert _problems(conn)[0].ok
        assert _row(conn, seqs["erased-later"]).chain_pos <= old_last
    for name in ("tamper", "erased-after-sealing"):
        with db.connect() as conn, conn.begin() as tx:
            conn.execute(
                text(
                    "UPDATE audit_logs SET is_redacted = true,"
                    " new_data = new_data || '{\"x\": 1}' WHERE seq = :s"
                ),
                {"s": seqs[name]},
            )
            [first, *_] = _problems(conn)
            tx.rollback()
        assert (first.ok, first.broken_seq) == (False, seqs[name]), name

    downgrade(db, "0009")
    with db.begin() as conn:
        conn.execute(text("SELECT audit_seal(10000)"))
    with db.connect() as conn:
        assert _definitions(conn) == shipped
        assert conn.execute(text("SELECT ok FROM audit_verify()")).scalar_one()


# -- finding 7: no forged audit rows ----------------------------------------------------------


def test_a_signed_in_person_cannot_insert_an_audit_row(
    secure_database: SecureDatabase, organizer: auth.Identity
) -> None:
    forged = (
        "INSERT INTO audit_logs (user_id, action, table_name, record_id, old_data, new_data)"
        " VALUES (:me, 'users.roles_changed', 'users', :rec, '{\"roles\": []}',"
        ' \'{"roles": ["admin"]}\')'
    )
    with unit_of_work(organizer.actor(IP, UA)) as uow, pytest.raises(DBAPIError) as caught:
        uow.session.execute(text(forged), {"me": organizer.user_id, "rec": str(organizer.user_id)})
    assert "permission denied" in str(caught.value.orig)
    role = secure_database.app.url.username
    with secure_database.owner.connect() as conn:
        rights = conn.execute(
            text(
                "SELECT has_any_column_privilege(:r, 'audit_logs', 'INSERT'),"
                " has_sequence_privilege(:r, 'audit_logs_seq_seq', 'USAGE'),"
                " has_function_privilege(:r,"
                " 'audit_append(uuid, text, text, text, jsonb, jsonb, text, text)', 'EXECUTE'),"
                " has_function_privilege(:r, 'audit_record(text, text, text, jsonb, jsonb)',"
                " 'EXECUTE'),"
                " (SELECT count(*) FROM pg_policy WHERE polrelid = 'audit_logs'::regclass"
                "  AND polcmd = 'a')"
            ),
            {"r": role},
        ).one()
    assert tuple(rights) == (False, False, False, True, 0)


def test_the_app_role_cannot_call_the_writer_behind_audit_record(organizer: auth.Identity) -> None:
    with unit_of_work(organizer.actor()) as uow, pytest.raises(DBAPIError) as caught:
        uow.session.execute(
            text(
                "SELECT audit_append(:me, 'users.roles_changed', 'users', 'x', NULL, NULL, '', '')"
            ),
            {"me": organizer.user_id},
        )
    assert "permission denied" in str(caught.value.orig)


@pytest.mark.parametrize(
    "action",
    [
        "users.made_admin",  # in no catalogue
        "orders.update",  # a trigger's row change
        "auth.signed_in",  # only the sign-in function records it
        "audit.redacted",  # only a redaction records it
    ],
)
def test_audit_record_refuses_an_action_it_does_not_list(
    organizer: auth.Identity, action: str
) -> None:
    with pytest.raises(PermissionDenied), unit_of_work(organizer.actor(IP, UA)) as uow:
        record(uow.session, uow.actor, action, organizer.user_id, new={"roles": ["admin"]})


def test_audit_record_writes_the_person_and_origin_of_the_transaction(
    owner: Engine, organizer: auth.Identity
) -> None:
    with unit_of_work(organizer.actor(IP, UA)) as uow:
        recorded = uow.session.execute(
            text("SELECT audit_record('event.published', 'events', :r, NULL, :n)"),
            {"r": str(organizer.user_id), "n": Jsonb({"status": "published"})},
        ).scalar_one()
        uow.commit()
    with owner.connect() as conn:
        row = conn.execute(
            text(
                "SELECT user_id, ip_address, user_agent, new_data FROM audit_logs"
                " WHERE action = 'event.published' AND record_id = :r"
            ),
            {"r": str(organizer.user_id)},
        ).one()
        parameters = conn.execute(
            text(
                "SELECT proargnames FROM pg_proc WHERE oid ="
                " 'audit_record(text, text, text, jsonb, jsonb)'::regprocedure"
            )
        ).scalar_one()
    assert recorded == organizer.user_id
    assert tuple(row) == (organizer.user_id, IP, UA, {"status": "published"})
    # No parameter could name anyone else.
    assert parameters == ["p_action", "p_table", "p_record", "p_old", "p_new"]


def test_a_job_records_only_a_jobs_actions(owner: Engine) -> None:
    job = Actor.system("nightly job")
    run_id = uuid.uuid4()
    with unit_of_work(job) as uow:
        record(uow.session, job, "retention.run", run_id, new={"counts": {}},
               table="system_configurations")  # fmt: skip
        uow.commit()
    with owner.connect() as conn:
        row = conn.execute(
            text("SELECT user_id, user_agent FROM audit_logs WHERE record_id = :r"),
            {"r": str(run_id)},
        ).one()
    assert tuple(row) == (None, "nightly job")
    with pytest.raises(PermissionDenied), unit_of_work(job) as uow:
        record(uow.session, job, "users.roles_changed", run_id, new={"roles": ["admin"]})


def test_secrets_in_a_recorded_payload_are_masked(owner: Engine, admin: auth.Identity) -> None:
    new = {
        "email": "kept@example.com",
        "password": "hunter2hunter2",
        "nested": {"reset_token": "tok-123", "list": [{"api_key": "ak_live_1"}, "plain"]},
        "headers": {"Authorization": "Bearer abc", "client_secret": "s3cr3t"},
        "key_hash": None,
        # Names that merely contain a secret's name are not secrets.
        "counts": {"reset_tokens": 3},
        "token_expires_at": "2026-12-31",
    }
    with unit_of_work(admin.actor()) as uow:
        record(uow.session, uow.actor, "users.invited", admin.user_id, new=new)
        uow.commit()
    with owner.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT new_data FROM audit_logs WHERE action = 'users.invited'"
                " AND record_id = :r ORDER BY seq DESC LIMIT 1"
            ),
            {"r": str(admin.user_id)},
        ).scalar_one()
    assert stored == {
        "email": "kept@example.com",
        "password": "[masked]",
        "nested": {"reset_token": "[masked]", "list": [{"api_key": "[masked]"}, "plain"]},
        "headers": {"Authorization": "[masked]", "client_secret": "[masked]"},
        "key_hash": None,
        "counts": {"reset_tokens": 3},
        "token_expires_at": "2026-12-31",
    }


def test_only_the_trigger_and_audit_append_write_the_log(owner: Engine) -> None:
    with owner.connect() as conn:
        writers = set(
            conn.execute(
                text(
                    "SELECT proname FROM pg_proc"
                    " WHERE pronamespace = current_schema()::regnamespace"
                    " AND prosrc ~* 'insert\\s+into\\s+audit_logs'"
                )
            ).scalars()
        )
    assert writers == {"audit_row_change", "audit_append"}


_ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
_RECORDERS = {"record", "record_by_person", "_audit"}


def _actions_in_core() -> set[str]:
    """Every action string passed to record, record_by_person or a module's _audit helper
    anywhere in core/."""
    found: set[str] = set()
    for path in (PROJECT_ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = getattr(func, "id", None) or getattr(func, "attr", None)
            if name not in _RECORDERS:
                continue
            for arg in node.args:
                found.update(
                    leaf.value
                    for leaf in ast.walk(arg)
                    if isinstance(leaf, ast.Constant)
                    and isinstance(leaf.value, str)
                    and _ACTION.match(leaf.value)
                )
    return found


def test_the_catalogue_lists_exactly_the_actions_code_and_functions_record(owner: Engine) -> None:
    with owner.connect() as conn:
        catalogue = dict(conn.execute(text("SELECT action, recorded_by FROM audit_actions")).all())
        sources = conn.execute(
            text("SELECT prosrc FROM pg_proc WHERE prosrc LIKE '%audit_append(%'")
        ).scalars()
        in_functions = {
            m for src in sources for m in re.findall(r"audit_append\([^,]*,\s*'([a-z_.]+)'", src)
        }
    code = _actions_in_core()
    assert code == {a for a, by in catalogue.items() if by == "app"}
    assert in_functions == {a for a, by in catalogue.items() if by == "database"}


# -- defect 10: a sign-in is recorded once ---------------------------------------------------


def _entries_of_user(owner: Engine, user_id: uuid.UUID, after: int) -> list[tuple[str, Any]]:
    with owner.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT action, user_id FROM audit_logs WHERE table_name = 'users'"
                    " AND record_id = :u AND seq > :after ORDER BY seq"
                ),
                {"u": str(user_id), "after": after},
            )
        ]


def _last_seq(owner: Engine) -> int:
    with owner.connect() as conn:
        return conn.execute(text("SELECT coalesce(max(seq), 0) FROM audit_logs")).scalar_one()


def test_a_sign_in_is_recorded_once_as_itself(owner: Engine, admin: auth.Identity) -> None:
    with Session(owner) as s, s.begin():
        user = make_user(s, user_type="staff")
        s.flush()
        set_password(s, user.id, PASSWORD)
        email = user.email
    start = _last_seq(owner)
    with pytest.raises(auth.SignInFailed):
        auth.sign_in_with_password(email, "not the password at all")
    who = auth.sign_in_with_password(email, PASSWORD, ip_address=IP, user_agent=UA)
    # The sign-in's last_login is not a second, anonymous users.update (migration 0015).
    assert _entries_of_user(owner, who.user_id, start) == [
        ("auth.sign_in_failed", who.user_id),
        ("auth.signed_in", who.user_id),
    ]
    # A real change to the account is still the trigger's.
    with unit_of_work(admin.actor()) as uow:
        uow.session.execute(
            text("UPDATE users SET full_name = 'Sigrid Signed-In' WHERE id = :u"),
            {"u": who.user_id},
        )
        uow.commit()
    assert _entries_of_user(owner, who.user_id, start)[-1] == ("users.update", admin.user_id)


# -- defect 4: an order's history ------------------------------------------------------------


@dataclass(frozen=True)
class _Show:
    event_id: uuid.UUID
    general: uuid.UUID
    seated: uuid.UUID
    seat_ids: tuple[uuid.UUID, ...]


def _show(owner: Engine, organizer: auth.Identity) -> _Show:
    with Session(owner) as s, s.begin():
        venue, section, seats = make_seated_section(s, 2)
        event = make_event(
            s, s.get(User, organizer.user_id), status="published",
            published_at=datetime.now(UTC), venue_id=venue.id,
        )  # fmt: skip
        general = make_ticket_type(s, event, name="General", base_price=Decimal("40.00"))
        seated = make_ticket_type(
            s, event, name="Front row", base_price=Decimal("100.00"), total_capacity=2,
            remaining_capacity=2, seating_section_id=section.id,
        )  # fmt: skip
        s.add_all(EventSeat(event_id=event.id, seat_id=seat.id) for seat in seats)
        return _Show(event.id, general.id, seated.id, tuple(x.id for x in seats))


def test_an_orders_history_shows_its_items_payments_refunds_and_cancellation(
    owner: Engine, organizer: auth.Identity, admin: auth.Identity
) -> None:
    show = _show(owner, organizer)
    actor = organizer.actor()
    session_id = uuid.uuid4().hex
    hold_tickets(actor, HoldRequest(show.event_id, session_id, {show.general: 2}, show.seat_ids))
    buyer = Buyer(name="Hedda History", email=f"hedda.{uuid.uuid4().hex[:6]}@example.com")
    quote = quote_order(actor, show.event_id, session_id, None, buyer)
    order_id = place_order(
        actor, OrderRequest(show.event_id, session_id, buyer, "cash", quote.total, session_id)
    ).order_id
    detail = get_order(actor, order_id)
    front = next(i for i in detail.items if i.ticket_type == "Front row")
    general = next(i for i in detail.items if i.ticket_type == "General")
    refund_order(actor, order_id, "seat swap", [front.item_id])
    cancel_order(actor, order_id, "event moved")

    history = get_order(admin.actor(), order_id).history
    actions = [h.action for h in history]
    assert actions.count("order_items.insert") == 2
    assert actions.count("order_payments.insert") == 1
    assert actions.count("order_refunds.insert") == 2
    assert [h.at for h in history] == sorted(h.at for h in history)

    def position(action: str, text_in_changes: str = "", after: int = -1) -> int:
        return next(
            i
            for i, h in enumerate(history)
            if i > after and h.action == action and text_in_changes in h.changes
        )

    placed = position("orders.insert")
    paid = position("order_payments.insert", after=placed)
    first_refund = position("order_refunds.insert", f"order_item_id: {front.item_id}", paid)
    second_refund = position(
        "order_refunds.insert", f"order_item_id: {general.item_id}", first_refund
    )
    cancelled = position("orders.update", "status: completed → cancelled", second_refund)
    assert placed < paid < first_refund < second_refund < cancelled
    refunded_items = [
        h for h in history if h.action == "order_items.update" and "refunded_at" in h.changes
    ]
    assert len(refunded_items) == 2
    assert all(h.actor == organizer.full_name for h in history[placed:])
