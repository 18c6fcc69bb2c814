"""Payment details are Fernet ciphertext under keys from configuration, never stored in the
database; rotation re-encrypts every ciphertext with the new key, resumably; the page shows
the registry and rotates behind a confirmation.

A database of this module's own (rotation commits), with its own keys in the environment
and an empty local keys folder, so nothing here depends on a developer's .data/keys.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine, text

from core.auth import Identity
from core.crypto import (
    CannotDecrypt,
    KeyNotConfigured,
    PaymentDetails,
    list_key_versions,
    rotate_key,
    save_profile_payment_details,
    view_payment_details,
)
from core.crypto.payment_details import seal, unseal
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.apptest import make_person, messages, open_page, sign_in_as

KEYS = {name: Fernet.generate_key().decode() for name in ("V2", "V3", "V4")}


@pytest.fixture(scope="module", autouse=True)
def configured_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The demo's active key (V2) and two for rotations, set before the module's database
    loads its demo; only V1 (the demo's retired version, with no ciphertext) is missing."""
    patch = pytest.MonkeyPatch()
    patch.setenv("FASHIONISTAS_KEYS_DIR", str(tmp_path_factory.mktemp("keys")))
    patch.delenv("FASHIONISTAS_KEY_V1", raising=False)
    patch.setenv("FASHIONISTAS_KEY_V2", KEYS["V2"])
    patch.setenv("FASHIONISTAS_KEY_V3", KEYS["V3"])
    yield KEYS
    patch.undo()


@pytest.fixture(scope="module")
def admin(owner: Engine) -> Identity:
    return make_person(owner, ["admin"])


def _ciphertexts(owner: Engine) -> list[tuple[str, uuid.UUID, str, uuid.UUID]]:
    """(table, row id, token, key id) of every payment ciphertext."""
    with owner.connect() as conn:
        return [
            *conn.execute(
                text(
                    "SELECT 'orders', id, encrypted_payment_details, payment_details_key_id"
                    " FROM orders WHERE encrypted_payment_details IS NOT NULL"
                )
            ).all(),
            *conn.execute(
                text(
                    "SELECT 'user_profiles', id, encrypted_payment_info, payment_info_key_id"
                    " FROM user_profiles WHERE encrypted_payment_info IS NOT NULL"
                )
            ).all(),
        ]


def _key_id_or_none(owner: Engine, version: int) -> uuid.UUID | None:
    with owner.connect() as conn:
        return conn.execute(
            text(
                "SELECT id FROM encryption_keys WHERE key_name = 'payment_info'"
                " AND key_version = :v"
            ),
            {"v": version},
        ).scalar_one_or_none()


def _key_id(owner: Engine, version: int) -> uuid.UUID:
    key_id = _key_id_or_none(owner, version)
    assert key_id is not None, f"payment_info key version {version}"
    return key_id


def _holder_of_a_card(owner: Engine) -> uuid.UUID:
    with owner.connect() as conn:
        return conn.execute(
            text(
                "SELECT u.id FROM users u JOIN user_profiles p ON p.user_id = u.id"
                " WHERE p.encrypted_payment_info IS NOT NULL AND u.status = 'active'"
                " ORDER BY u.id LIMIT 1"
            )
        ).scalar_one()


# -- the demo's ciphertext ----------------------------------------------------------------


def test_the_demo_writes_real_ciphertext_of_cards_without_numbers(owner: Engine) -> None:
    rows = _ciphertexts(owner)
    assert {t for t, *_ in rows} == {"orders", "user_profiles"}
    v2 = _key_id(owner, 2)
    fernet = Fernet(KEYS["V2"].encode())
    for _, _, token, key_id in rows:
        assert key_id == v2
        details = unseal(fernet, token)
        assert len(details.last4) == 4 and details.brand
    # What is kept of a card, and nothing else.
    fields = {tuple(sorted(json.loads(fernet.decrypt(t.encode())))) for _, _, t, _ in rows}
    assert fields == {("brand", "exp_month", "exp_year", "last4")}


def test_a_full_card_number_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        PaymentDetails("visa", "4242424242424242", 12, 2030)
    assert refused.value.field == "last4"
    with pytest.raises(ValidationError, match="expiry month"):
        PaymentDetails("visa", "4242", 13, 2030)


# -- who may read them --------------------------------------------------------------------


def test_the_person_and_compliance_see_the_card_others_see_it_masked(
    owner: Engine, admin: Identity, organizer: Identity
) -> None:
    holder = _holder_of_a_card(owner)
    own = view_payment_details(sign_in_as(holder).actor(), user_id=holder)
    assert own.details is not None and own.display.endswith(
        f"expires {own.details.exp_month:02d}/{own.details.exp_year}"
    )
    assert view_payment_details(admin.actor(), user_id=holder).details == own.details
    with pytest.raises(PermissionDenied):
        view_payment_details(organizer.actor(), user_id=holder)

    with owner.begin() as conn:
        order_id, buyer, event_id = conn.execute(
            text(
                "SELECT o.id, o.user_id, o.event_id FROM orders o"
                " JOIN users u ON u.id = o.user_id"
                " WHERE o.encrypted_payment_details IS NOT NULL AND u.status = 'active'"
                " ORDER BY o.id LIMIT 1"
            )
        ).one()
        # The organizer works the order's event, so its orders are theirs to see.
        conn.execute(
            text(
                "INSERT INTO event_staff (event_id, user_id) VALUES (:e, :u) ON CONFLICT DO NOTHING"
            ),
            {"e": event_id, "u": organizer.user_id},
        )
    card = view_payment_details(sign_in_as(buyer).actor(), order_id=order_id)
    assert card.details is not None
    assert view_payment_details(admin.actor(), order_id=order_id).details == card.details
    masked = view_payment_details(organizer.actor(), order_id=order_id)
    assert masked.on_file and masked.details is None
    assert card.details.last4 not in masked.display
    # Someone with no business with the order does not learn it exists (row-level
    # security, migration 0013).
    with pytest.raises(NotFound):
        view_payment_details(make_person(owner, ["organizer"]).actor(), order_id=order_id)
    with owner.connect() as conn:
        decrypted = conn.execute(
            text(
                "SELECT count(*) FROM audit_logs WHERE action = 'payment_details.decrypted'"
                " AND record_id IN (:p, :o)"
            ),
            {"p": str(holder), "o": str(order_id)},
        ).scalar_one()
    assert decrypted == 4  # the people's and the admin's reads, not the masked one


def test_a_person_saves_their_own_card_and_not_someone_elses(
    owner: Engine, organizer: Identity
) -> None:
    holder = _holder_of_a_card(owner)
    card = PaymentDetails("amex", "0005", 4, 2031)
    own = sign_in_as(holder).actor()
    save_profile_payment_details(own, holder, card)
    assert view_payment_details(own, user_id=holder).details == card
    with pytest.raises(PermissionDenied):
        save_profile_payment_details(organizer.actor(), holder, card)


def test_a_missing_key_is_a_clear_error(
    owner: Engine, admin: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FASHIONISTAS_KEY_V2")
    holder = _holder_of_a_card(owner)
    with pytest.raises(KeyNotConfigured, match="env:FASHIONISTAS_KEY_V2 is not configured"):
        view_payment_details(admin.actor(), user_id=holder)


def test_a_wrong_key_is_a_clear_error(
    owner: Engine, admin: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHIONISTAS_KEY_V2", Fernet.generate_key().decode())
    holder = _holder_of_a_card(owner)
    with pytest.raises(CannotDecrypt, match="cannot be decrypted with payment_info version 2"):
        view_payment_details(admin.actor(), user_id=holder)
    monkeypatch.setenv("FASHIONISTAS_KEY_V2", "not a key")
    with pytest.raises(KeyNotConfigured, match="not a valid Fernet key"):
        view_payment_details(admin.actor(), user_id=holder)


# -- rotation -----------------------------------------------------------------------------


def test_rotation_refuses_a_missing_a_used_or_the_same_key(
    owner: Engine, admin: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _ciphertexts(owner)
    with pytest.raises(KeyNotConfigured, match="FASHIONISTAS_KEY_NOPE"):
        rotate_key(admin.actor(), "payment_info", "env:FASHIONISTAS_KEY_NOPE")
    monkeypatch.setenv("FASHIONISTAS_KEY_V1", Fernet.generate_key().decode())
    with pytest.raises(Conflict, match="already version 1"):
        rotate_key(admin.actor(), "payment_info", "env:FASHIONISTAS_KEY_V1")
    monkeypatch.setenv("FASHIONISTAS_KEY_COPY", KEYS["V2"])
    with pytest.raises(Conflict, match="same key as version 2"):
        rotate_key(admin.actor(), "payment_info", "env:FASHIONISTAS_KEY_COPY")
    assert _ciphertexts(owner) == before
    assert [k.key_version for k in list_key_versions(admin.actor()) if k.is_active] == [2, 1]


def test_rotation_re_encrypts_every_ciphertext_with_the_new_key(
    owner: Engine, admin: Identity
) -> None:
    before = _ciphertexts(owner)
    old = Fernet(KEYS["V2"].encode())
    plain = {(t, i): unseal(old, token) for t, i, token, _ in before}
    seen: list[tuple[int, int]] = []

    report = rotate_key(
        admin.actor(),
        "payment_info",
        "env:FASHIONISTAS_KEY_V3",
        batch_size=97,
        progress=lambda done, total: seen.append((done, total)),
    )

    assert report.active_version == 3 and not report.resumed
    assert report.total == len(before) and seen[-1] == (len(before), len(before))
    after = _ciphertexts(owner)
    v3 = _key_id(owner, 3)
    new = Fernet(KEYS["V3"].encode())
    assert {(t, i) for t, i, *_ in after} == set(plain)
    for table, row, token, key_id in after:
        assert key_id == v3
        assert unseal(new, token) == plain[(table, row)]
        with pytest.raises(InvalidToken):
            old.decrypt(token.encode())
    versions = {
        k.key_version: k for k in list_key_versions(admin.actor()) if k.key_name == "payment_info"
    }
    assert versions[3].is_active and versions[3].rows == len(before)
    assert not versions[2].is_active and versions[2].rotated_at is not None
    assert versions[2].rows == 0
    with owner.connect() as conn:
        actions = (
            conn.execute(
                text(
                    "SELECT action FROM audit_logs WHERE user_id = :u AND action LIKE"
                    " 'encryption_keys.rot%' ORDER BY created_at"
                ),
                {"u": admin.user_id},
            )
            .scalars()
            .all()
        )
    assert actions == ["encryption_keys.rotation_started", "encryption_keys.rotated"]


def test_an_unreadable_row_stops_rotation_by_name_and_rotating_again_resumes(
    owner: Engine, admin: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHIONISTAS_KEY_V4", KEYS["V4"])
    with owner.begin() as conn:
        number, good = conn.execute(
            text(
                "SELECT order_number, encrypted_payment_details FROM orders"
                " WHERE encrypted_payment_details IS NOT NULL ORDER BY id DESC LIMIT 1"
            )
        ).one()
        stranger = seal(Fernet(Fernet.generate_key()), PaymentDetails("visa", "1111", 1, 2030))
        conn.execute(
            text("UPDATE orders SET encrypted_payment_details = :t WHERE order_number = :n"),
            {"t": stranger, "n": number},
        )

    with pytest.raises(CannotDecrypt, match=f"order {number}"):
        rotate_key(admin.actor(), "payment_info", "env:FASHIONISTAS_KEY_V4", batch_size=50)
    # The batches before the broken row are done; the rest still name version 3.
    v3, v4 = _key_id(owner, 3), _key_id(owner, 4)
    left = [r for r in _ciphertexts(owner) if r[3] == v3]
    assert left and len(left) < len(_ciphertexts(owner))
    assert [k.key_version for k in list_key_versions(admin.actor()) if k.is_active] == [4, 1]

    with owner.begin() as conn:
        conn.execute(
            text("UPDATE orders SET encrypted_payment_details = :t WHERE order_number = :n"),
            {"t": good, "n": number},
        )
    report = rotate_key(admin.actor(), "payment_info", "env:FASHIONISTAS_KEY_V4")
    assert report.resumed and report.active_version == 4 and report.total == len(left)
    new = Fernet(KEYS["V4"].encode())
    for _, _, token, key_id in _ciphertexts(owner):
        assert key_id == v4
        unseal(new, token)


def test_no_key_is_stored_in_any_database_column(owner: Engine) -> None:
    """Every text, json and jsonb column of every table (partitions through their
    parents) is searched for every key value this module configured."""
    with owner.connect() as conn:
        columns = conn.execute(
            text(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c"
                " JOIN pg_class k ON k.relname = c.table_name AND NOT k.relispartition"
                " JOIN pg_namespace n ON n.oid = k.relnamespace AND n.nspname = c.table_schema"
                " WHERE c.table_schema = current_schema() AND k.relkind IN ('r', 'p')"
                " AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')"
            )
        ).all()
        assert len(columns) > 100
        found = []
        for table, column in columns:
            for name, key in KEYS.items():
                hit = conn.execute(
                    text(f'SELECT 1 FROM "{table}" WHERE strpos("{column}"::text, :k) > 0 LIMIT 1'),
                    {"k": key},
                ).first()
                if hit:
                    found.append((table, column, name))
    assert found == []


# -- the page -----------------------------------------------------------------------------


def test_the_page_lists_the_registry_and_rotates_after_confirming(
    owner: Engine, admin: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHIONISTAS_KEY_V4", KEYS["V4"])
    monkeypatch.setenv("FASHIONISTAS_KEY_V5", Fernet.generate_key().decode())
    at = open_page("retention.py", admin)
    assert not at.exception
    registry = next(df.value for df in at.dataframe if "Reference" in df.value.columns)
    active = registry[registry["Active"]]
    assert set(active["Key"]) == {"payment_info", "pii_export"}
    assert int(active[active["Key"] == "payment_info"]["Version"].iloc[0]) == 4

    at.text_input(key="rotate_reference").input("env:FASHIONISTAS_KEY_V5")
    at.button(key="rotate_key_ask").click().run()
    assert "Rotate payment_info to env:FASHIONISTAS_KEY_V5" in messages(at)
    assert _key_id_or_none(owner, 5) is None  # nothing happens before the confirmation
    at.button(key="rotate_key_yes").click().run()
    assert not at.exception
    assert "Rotated payment_info: version 5 is active" in messages(at)
    assert _key_id_or_none(owner, 5) is not None


def test_the_page_names_a_missing_key(owner: Engine, admin: Identity) -> None:
    at = open_page("retention.py", admin)
    at.text_input(key="rotate_reference").input("env:FASHIONISTAS_KEY_ABSENT")
    at.button(key="rotate_key_ask").click().run()
    at.button(key="rotate_key_yes").click().run()
    assert not at.exception
    assert "env:FASHIONISTAS_KEY_ABSENT is not configured" in messages(at)
