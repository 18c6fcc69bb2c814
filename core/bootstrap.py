"""Bring a database to a usable state: migrated, partitions ahead, demo data on first start."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text

from core.config import Settings
from core.db import get_engine
from core.migrate import BOOTSTRAP_LOCK_KEY, upgrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BootstrapReport:
    migrated: bool
    demo_loaded: bool


def prepare_database(settings: Settings | None = None) -> BootstrapReport:
    """Migrate to head, make next months' partitions and load the small demo when empty.

    Safe to call from several processes at once: an advisory lock serialises them.
    Raises RuntimeError when the embedded server cannot start.
    """
    from core.demo import load_demo  # late: the demo pulls in Faker

    settings = settings or Settings.from_env()
    engine = get_engine()
    upgrade(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": BOOTSTRAP_LOCK_KEY})
        try:
            conn.execute(text("SELECT ensure_partitions(1, 3)"))
            conn.commit()
            empty = conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM users)")).scalar()
            demo = bool(empty and settings.demo_on_first_start)
            if demo:
                log.info("empty database: loading the small demo data set")
                load_demo(engine, scale="small")
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": BOOTSTRAP_LOCK_KEY})
            conn.commit()
    return BootstrapReport(migrated=True, demo_loaded=demo)
