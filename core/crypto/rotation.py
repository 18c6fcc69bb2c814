"""The key registry and key rotation.

Rotating key K to a new reference registers version n+1 as the active one (new writes
use it at once), then re-encrypts every ciphertext of K still on an older version, in
batches of one transaction each, and finally stamps the old versions `rotated_at`. An
interrupted rotation is resumed by rotating again to the same reference: the rows still
on an old key id are exactly the ones left.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.audit import record_by_person
from core.auth.permissions import COMPLIANCE_MANAGE
from core.crypto.keys import KeyNotConfigured, is_configured, resolve_key, same_key
from core.crypto.payment_details import CannotDecrypt
from core.db import Actor, unit_of_work
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError

# (table, ciphertext column, key id column, how a person names the row)
CIPHERTEXT_COLUMNS = (
    ("orders", "encrypted_payment_details", "payment_details_key_id", "'order ' || order_number"),
    (
        "user_profiles",
        "encrypted_payment_info",
        "payment_info_key_id",
        "'profile of user ' || user_id",
    ),
    # Webhook signing secrets (key webhook_secret, migration 0017): rows name their key.
    ("webhooks", "secret_sealed", "secret_key_id", "'webhook ' || t.name"),
    ("webhooks", "previous_secret_sealed", "previous_secret_key_id", "'webhook ' || t.name"),
)
DEFAULT_BATCH = 500

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class KeyVersionRow:
    key_id: uuid.UUID
    key_name: str
    key_version: int
    algorithm: str
    key_reference: str
    is_active: bool
    created_at: datetime
    rotated_at: datetime | None
    rows: int
    configured: bool


def list_key_versions(actor: Actor) -> list[KeyVersionRow]:
    """Every registered key version with the number of ciphertexts on it and whether the
    configuration holds its key. Raises PermissionDenied without compliance.manage."""
    counts = " + ".join(
        f"(SELECT count(*) FROM {table} WHERE {key_col} = k.id)"
        for table, _, key_col, _ in CIPHERTEXT_COLUMNS
    )
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        rows = uow.session.execute(
            text(
                "SELECT k.id, k.key_name, k.key_version, k.algorithm, k.key_reference,"
                f" k.is_active, k.created_at, k.rotated_at, {counts} AS rows"
                " FROM encryption_keys k ORDER BY k.key_name, k.key_version DESC"
            )
        ).all()
    return [
        KeyVersionRow(
            r.id,
            r.key_name,
            r.key_version,
            r.algorithm,
            r.key_reference,
            r.is_active,
            r.created_at,
            r.rotated_at,
            r.rows,
            is_configured(r.key_reference),
        )
        for r in rows
    ]


def _require_person(actor: Actor) -> None:
    if actor.user_id is None:
        raise PermissionDenied("Key changes are recorded against a person: sign in to make them.")


def register_key(actor: Actor, key_name: str, reference: str) -> int:
    """Register version 1 of a new key name, active at once; returns the version.

    Raises ValidationError (blank name), KeyNotConfigured (the reference names no key),
    Conflict (the name exists: rotate it instead), PermissionDenied.
    """
    _require_person(actor)
    key_name = key_name.strip()
    if not key_name:
        raise ValidationError("key name is required", field="key_name")
    resolve_key(reference)
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        exists = uow.session.execute(
            text("SELECT 1 FROM encryption_keys WHERE key_name = :n"), {"n": key_name}
        ).first()
        if exists:
            raise Conflict(f"A key named {key_name} exists; rotate it instead.", field="key_name")
        new_id = uow.session.execute(
            text(
                "INSERT INTO encryption_keys (key_name, key_version, key_reference, is_active)"
                " VALUES (:n, 1, :r, true) RETURNING id"
            ),
            {"n": key_name, "r": reference},
        ).scalar_one()
        record_by_person(
            uow.session,
            actor,
            "encryption_keys.registered",
            new_id,
            new={"key_name": key_name, "key_version": 1, "key_reference": reference},
            table="encryption_keys",
        )
        uow.commit()
    return 1


@dataclass
class RotationReport:
    key_name: str
    active_version: int
    resumed: bool
    reencrypted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.reencrypted.values())


def _remaining(session: Session, key_name: str, active_id: uuid.UUID) -> dict[str, int]:
    out = {}
    for table, _, key_col, _ in CIPHERTEXT_COLUMNS:
        # A table may hold two ciphertext columns (webhooks): their counts add up.
        out[table] = (
            out.get(table, 0)
            + session.execute(
                text(
                    f"SELECT count(*) FROM {table} t JOIN encryption_keys k ON k.id = t.{key_col}"
                    " WHERE k.key_name = :n AND k.id <> :a"
                ),
                {"n": key_name, "a": active_id},
            ).scalar_one()
        )
    return out


def _start(actor: Actor, key_name: str, new_reference: str) -> tuple[uuid.UUID, int, bool, int]:
    """Register the new version (or find the one an interrupted rotation left active).

    Returns (active id, active version, resumed, rows to re-encrypt).
    """
    resolve_key(new_reference)
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        s.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('key-rotation:' || :n))"), {"n": key_name}
        )
        versions = s.execute(
            text(
                "SELECT id, key_version, key_reference, is_active FROM encryption_keys"
                " WHERE key_name = :n ORDER BY key_version FOR UPDATE"
            ),
            {"n": key_name},
        ).all()
        if not versions:
            raise NotFound(f"No key named {key_name} is registered.", field="key_name")
        active = next((v for v in versions if v.is_active), None)
        resumed = active is not None and active.key_reference == new_reference
        if not resumed:
            for v in versions:
                if v.key_reference == new_reference:
                    raise Conflict(
                        f"{new_reference} is already version {v.key_version} of {key_name};"
                        " a rotation needs a new key under a new reference.",
                        field="new_reference",
                    )
            for v in versions:
                if same_key(v.key_reference, new_reference):
                    raise Conflict(
                        f"{new_reference} holds the same key as version {v.key_version}"
                        f" ({v.key_reference}); generate a new key.",
                        field="new_reference",
                    )
        # Refuse before changing anything when an old version's key is missing.
        for v in versions:
            if (active is None or v.id != active.id or not resumed) and _has_rows(s, v.id):
                try:
                    resolve_key(v.key_reference)
                except KeyNotConfigured as exc:
                    raise KeyNotConfigured(
                        f"{exc.message} Ciphertexts on {key_name} version {v.key_version}"
                        " cannot be re-encrypted without it.",
                        field="key_reference",
                    ) from exc
        if resumed:
            assert active is not None
            active_id, version = active.id, active.key_version
        else:
            version = versions[-1].key_version + 1
            s.execute(
                text("UPDATE encryption_keys SET is_active = false WHERE key_name = :n"),
                {"n": key_name},
            )
            active_id = s.execute(
                text(
                    "INSERT INTO encryption_keys (key_name, key_version, key_reference, is_active)"
                    " VALUES (:n, :v, :r, true) RETURNING id"
                ),
                {"n": key_name, "v": version, "r": new_reference},
            ).scalar_one()
        remaining = _remaining(s, key_name, active_id)
        record_by_person(
            s,
            actor,
            "encryption_keys.rotation_resumed" if resumed else "encryption_keys.rotation_started",
            active_id,
            old=None if resumed else {"key_version": versions[-1].key_version},
            new={
                "key_name": key_name,
                "key_version": version,
                "key_reference": new_reference,
                "to_reencrypt": remaining,
            },
            table="encryption_keys",
        )
        uow.commit()
    return active_id, version, resumed, sum(remaining.values())


def _has_rows(session: Session, key_id: uuid.UUID) -> bool:
    return any(
        session.execute(
            text(f"SELECT 1 FROM {table} WHERE {key_col} = :k LIMIT 1"), {"k": key_id}
        ).first()
        is not None
        for table, _, key_col, _ in CIPHERTEXT_COLUMNS
    )


def _batch(
    actor: Actor, key_name: str, active_id: uuid.UUID, table: str, cipher: str, key_col: str,
    label: str, size: int,
) -> int:  # fmt: skip
    """Re-encrypt up to `size` rows of `table` still on an old version; one transaction."""
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        s = uow.session
        active_ref = s.execute(
            text("SELECT key_reference FROM encryption_keys WHERE id = :a AND is_active"),
            {"a": active_id},
        ).scalar_one_or_none()
        if active_ref is None:
            raise Conflict("Another rotation of this key started meanwhile; reload and retry.")
        new = resolve_key(active_ref)
        rows = s.execute(
            text(
                f"SELECT t.id, t.{cipher} AS token, {label} AS label, k.key_version,"
                f" k.key_reference FROM {table} t JOIN encryption_keys k ON k.id = t.{key_col}"
                " WHERE k.key_name = :n AND k.id <> :a ORDER BY t.id LIMIT :size FOR UPDATE OF t"
            ),
            {"n": key_name, "a": active_id, "size": size},
        ).all()
        if not rows:
            return 0
        keys = {}
        updates = []
        for r in rows:
            if r.key_reference not in keys:
                keys[r.key_reference] = MultiFernet([new, resolve_key(r.key_reference)])
            try:
                token = keys[r.key_reference].rotate(r.token.encode()).decode()
            except InvalidToken as exc:
                raise CannotDecrypt(
                    f"The payment details of {r.label} ({table} row {r.id}) cannot be"
                    f" decrypted with {key_name} version {r.key_version} ({r.key_reference});"
                    " nothing in this batch was changed. Fix or clear that row, then rotate"
                    " again to resume."
                ) from exc
            updates.append({"i": r.id, "t": token, "k": active_id})
        s.execute(text(f"UPDATE {table} SET {cipher} = :t, {key_col} = :k WHERE id = :i"), updates)
        uow.commit()
        return len(rows)


def rotate_key(
    actor: Actor,
    key_name: str,
    new_reference: str,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> RotationReport:
    """Rotate `key_name` to the key at `new_reference` and re-encrypt every ciphertext.

    Registers version n+1 as active, re-encrypts in batches (each its own transaction;
    `progress(done, total)` after each), then marks the old versions rotated. Rotating
    again to the same reference resumes an interrupted rotation. Audited at start and end.
    Raises KeyNotConfigured (new or old key missing from the configuration), Conflict (the
    reference or key was used before), CannotDecrypt naming the row, NotFound,
    PermissionDenied.
    """
    _require_person(actor)
    if batch_size <= 0:
        raise ValidationError("batch size must be greater than zero", field="batch_size")
    active_id, version, resumed, total = _start(actor, key_name, new_reference)
    report = RotationReport(key_name, version, resumed, {t: 0 for t, *_ in CIPHERTEXT_COLUMNS})
    done = 0
    if progress:
        progress(0, total)
    for table, cipher, key_col, label in CIPHERTEXT_COLUMNS:
        while n := _batch(actor, key_name, active_id, table, cipher, key_col, label, batch_size):
            report.reencrypted[table] += n
            done += n
            if progress:
                progress(done, max(total, done))
    with unit_of_work(actor) as uow:
        uow.require(COMPLIANCE_MANAGE)
        left = _remaining(uow.session, key_name, active_id)
        if any(left.values()):
            raise Conflict(
                f"{sum(left.values())} ciphertexts of {key_name} were written under an old"
                " version during the rotation; rotate again to finish."
            )
        uow.session.execute(
            text(
                "UPDATE encryption_keys SET rotated_at = now()"
                " WHERE key_name = :n AND id <> :a AND rotated_at IS NULL"
            ),
            {"n": key_name, "a": active_id},
        )
        record_by_person(
            uow.session,
            actor,
            "encryption_keys.rotated",
            active_id,
            new={"key_name": key_name, "key_version": version, "reencrypted": report.reencrypted},
            table="encryption_keys",
        )
        uow.commit()
    return report
