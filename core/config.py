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
        )
