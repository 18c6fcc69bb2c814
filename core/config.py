"""Settings read from the environment, once, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """What the process needs to know about its surroundings.

    `database_url` empty means: run an embedded PostgreSQL in `postgres_dir`.
    """

    database_url: str | None
    data_dir: Path
    postgres_dir: Path
    embedded_database: str
    demo_on_first_start: bool
    # Sign-in: "password" or "oidc" (Streamlit's st.login, configured in secrets.toml).
    auth_provider: str = "password"
    # Signed-in sessions end after this many minutes without activity.
    session_minutes: int = 30
    # The database role the app's services connect as (no superuser, no BYPASSRLS).
    app_role: str = "fashionistas_app"
    app_password: str | None = None
    # The sign-in path's database role: it alone may run the functions that read password
    # hashes and open sessions (migration 0012).
    auth_role: str = "fashionistas_auth"
    auth_password: str | None = None
    # The first admin's email, created on first start with a generated password.
    admin_email: str = "admin@fashionistas.local"
    # Where uploaded showcase images are kept (FASHIONISTAS_UPLOADS_DIR), and their size cap.
    uploads_dir: Path = PROJECT_ROOT / ".data" / "uploads"
    upload_max_bytes: int = 5 * 1024 * 1024
    # GDPR export bundles (zip files of personal data), kept outside git under data_dir.
    export_dir: Path = PROJECT_ROOT / ".data" / "exports"
    # The background-job worker thread in each dashboard process: "on" or "off".
    worker: str = "on"
    # Locally generated encryption keys (FASHIONISTAS_KEYS_DIR), used only when no environment
    # variable or secret holds a key (core/crypto/keys.py); outside git under data_dir.
    keys_dir: Path = PROJECT_ROOT / ".data" / "keys"

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("FASHIONISTAS_DATA_DIR", PROJECT_ROOT / ".data")).resolve()
        postgres_dir = Path(os.environ.get("FASHIONISTAS_PG_DIR", data_dir / "postgres")).resolve()
        return cls(
            database_url=os.environ.get("DATABASE_URL") or None,
            data_dir=data_dir,
            postgres_dir=postgres_dir,
            embedded_database=os.environ.get("FASHIONISTAS_EMBEDDED_DB", "fashionistas"),
            demo_on_first_start=os.environ.get("FASHIONISTAS_DEMO", "1")
            not in ("0", "false", "no"),
            auth_provider=_choice("FASHIONISTAS_AUTH", ("password", "oidc")),
            session_minutes=int(os.environ.get("FASHIONISTAS_SESSION_MINUTES") or 30),
            app_role=os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app",
            app_password=os.environ.get("FASHIONISTAS_APP_PASSWORD") or None,
            auth_role=os.environ.get("FASHIONISTAS_AUTH_ROLE") or "fashionistas_auth",
            auth_password=os.environ.get("FASHIONISTAS_AUTH_PASSWORD") or None,
            admin_email=os.environ.get("FASHIONISTAS_ADMIN_EMAIL") or "admin@fashionistas.local",
            uploads_dir=Path(
                os.environ.get("FASHIONISTAS_UPLOADS_DIR") or data_dir / "uploads"
            ).resolve(),
            upload_max_bytes=int(float(os.environ.get("FASHIONISTAS_UPLOAD_MAX_MB") or 5) * 2**20),
            export_dir=Path(
                os.environ.get("FASHIONISTAS_EXPORT_DIR") or data_dir / "exports"
            ).resolve(),
            worker=_choice("FASHIONISTAS_WORKER", ("on", "off")),
            keys_dir=Path(os.environ.get("FASHIONISTAS_KEYS_DIR") or data_dir / "keys").resolve(),
        )


def _choice(variable: str, allowed: tuple[str, ...]) -> str:
    value = (os.environ.get(variable) or allowed[0]).strip().lower()
    if value not in allowed:
        raise ValueError(f"{variable} must be one of {', '.join(allowed)}, not {value!r}")
    return value
