"""Where encryption keys come from: configuration, never the database.

`encryption_keys.key_reference` names a key as `env:NAME`. The key (a Fernet key, 32
url-safe base64 bytes) is looked up, in order, in:

1. the environment variable NAME (production, CI, tests);
2. a root-level NAME in `.streamlit/secrets.toml` (read here with tomllib, so the command
   line sees the same keys as the dashboard);
3. the file `<keys dir>/NAME` (`FASHIONISTAS_KEYS_DIR`, default `.data/keys`), which only
   `ensure_local_key` writes: the no-configuration local setup's demo data needs a key,
   and a generated one kept outside the repository is the honest default.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

from cryptography.fernet import Fernet

from core.config import PROJECT_ROOT, Settings
from core.errors import DomainError

log = logging.getLogger(__name__)

SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"
_PREFIX = "env:"


class KeyNotConfigured(DomainError):
    """A key reference that names no configured key, or a value that is not a Fernet key."""

    code = "key_not_configured"


def _name(reference: str) -> str:
    if not reference.startswith(_PREFIX) or not reference[len(_PREFIX) :].strip():
        raise KeyNotConfigured(
            f"key reference {reference!r} must look like env:NAME", field="key_reference"
        )
    return reference[len(_PREFIX) :].strip()


def _keys_dir() -> Path:
    return Settings.from_env().keys_dir


def _from_secrets(name: str) -> str | None:
    if not SECRETS_FILE.is_file():
        return None
    with SECRETS_FILE.open("rb") as handle:
        value = tomllib.load(handle).get(name)
    return value if isinstance(value, str) else None


def _lookup(name: str) -> tuple[str, str] | None:
    """(key, where it was found) or None."""
    if os.environ.get(name):
        return os.environ[name], f"environment variable {name}"
    secret = _from_secrets(name)
    if secret:
        return secret, f"{name} in {SECRETS_FILE}"
    path = _keys_dir() / name
    if path.is_file():
        return path.read_text().strip(), f"local key file {path}"
    return None


def resolve_key(reference: str) -> Fernet:
    """The Fernet for `reference`.

    Raises KeyNotConfigured when no source holds the key or its value is not a Fernet key;
    the message names the reference and where to put the key, never a key value.
    """
    name = _name(reference)
    found = _lookup(name)
    if found is None:
        raise KeyNotConfigured(
            f"The encryption key {reference} is not configured: set the environment variable"
            f" {name} (or {name} in .streamlit/secrets.toml) to a Fernet key.",
            field="key_reference",
        )
    value, where = found
    try:
        return Fernet(value.encode())
    except ValueError as exc:
        raise KeyNotConfigured(
            f"The encryption key {reference} ({where}) is not a valid Fernet key"
            " (32 url-safe base64-encoded bytes).",
            field="key_reference",
        ) from exc


def is_configured(reference: str) -> bool:
    """Whether `reference` resolves to a usable key."""
    try:
        resolve_key(reference)
    except KeyNotConfigured:
        return False
    return True


def same_key(first: str, second: str) -> bool:
    """Whether two references hold the same key value (False when either is missing)."""
    a, b = _lookup(_name(first)), _lookup(_name(second))
    return a is not None and b is not None and a[0].strip() == b[0].strip()


def ensure_local_key(reference: str) -> Path | None:
    """Generate a key file for `reference` unless some source already holds the key.

    For demo data in the no-configuration local setup only; returns the new file's path
    (None when nothing was generated) and warns loudly, because data encrypted under a
    generated key is lost with that file.
    """
    name = _name(reference)
    if _lookup(name) is not None:
        return None
    folder = _keys_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")
    log.warning(
        "GENERATED A LOCAL ENCRYPTION KEY for %s in %s. Demo payment details are encrypted"
        " with it; keep the file or they cannot be read. In production set %s instead.",
        reference,
        path,
        name,
    )
    return path


def new_key() -> str:
    """A fresh Fernet key, for an operator to put into the environment before rotating."""
    return Fernet.generate_key().decode()
