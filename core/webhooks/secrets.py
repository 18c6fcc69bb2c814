"""Webhook signing secrets: made here, shown once, kept sealed.

A secret is `whsec_` and 32 random bytes in base64 (the Standard Webhooks format). The
database holds it only as Fernet ciphertext under the active version of the registered
key `webhook_secret` (core/crypto; the key itself lives in configuration), with the key
version's id beside it. Nothing here logs, returns in an error or reprs a secret.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.crypto.keys import ensure_local_key, resolve_key
from core.errors import DomainError, NotFound

WEBHOOK_KEY = "webhook_secret"
# Version 1 of the key, registered by the first sealing when no version is: set this
# variable to a Fernet key in production (`python -m core new-key`); the local setup
# generates one into the keys folder (core.crypto.keys.ensure_local_key says so).
FIRST_REFERENCE = "env:FASHIONISTAS_WEBHOOK_KEY_V1"
PREFIX = "whsec_"


class CannotUnseal(DomainError):
    """A sealed secret the configured key cannot open (wrong or missing key)."""

    code = "cannot_unseal_webhook_secret"


def new_secret() -> str:
    """A fresh signing secret, `whsec_` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=16)
def _fernet(reference: str) -> Fernet:
    # The no-configuration local setup has no key yet: make one, as the demo does for
    # payment details (core.crypto.keys says so loudly).
    ensure_local_key(reference)
    return resolve_key(reference)


def seal(session: Session, secret: str) -> tuple[str, uuid.UUID]:
    """(ciphertext, key id) of `secret` under the active `webhook_secret` key.

    The first sealing registers version 1 of the key (FIRST_REFERENCE) in the caller's
    transaction (the audit trail records it). Raises KeyNotConfigured, PermissionDenied
    for a caller who may not register a key (admins may).
    """
    active = text("SELECT id, key_reference FROM encryption_active_key(:n)")
    row = session.execute(active, {"n": WEBHOOK_KEY}).one_or_none()
    if row is None:
        session.execute(
            text(
                "INSERT INTO encryption_keys (key_name, key_version, key_reference, is_active)"
                " VALUES (:n, 1, :r, true) ON CONFLICT DO NOTHING"
            ),
            {"n": WEBHOOK_KEY, "r": FIRST_REFERENCE},
        )
        row = session.execute(active, {"n": WEBHOOK_KEY}).one_or_none()
    if row is None:
        raise NotFound(f"No active encryption key named {WEBHOOK_KEY} is registered.")
    return _fernet(row.key_reference).encrypt(secret.encode()).decode(), row.id


def unseal(session: Session, token: str, key_id: uuid.UUID) -> str:
    """The secret in `token`, opened with key version `key_id`.

    Raises NotFound (unknown key version), KeyNotConfigured, CannotUnseal; the messages
    name the key, never the secret.
    """
    row = session.execute(
        text("SELECT key_reference FROM encryption_key_for(:i)"), {"i": key_id}
    ).one_or_none()
    if row is None:
        raise NotFound(f"Encryption key {key_id} is not registered.")
    return unseal_with(row.key_reference, token)


def unseal_with(reference: str, token: str) -> str:
    """The secret in `token` under the key `reference` names; raises CannotUnseal."""
    try:
        return _fernet(reference).decrypt(token.encode()).decode()
    except InvalidToken:
        raise CannotUnseal(
            f"The webhook secret cannot be opened with the key {reference}; rotate the"
            " endpoint's secret."
        ) from None
