"""Bring a database to a usable state: migrated, partitions ahead, a first admin and demo
data on first start."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import text

from core.config import Settings
from core.db import get_owner_engine
from core.migrate import BOOTSTRAP_LOCK_KEY, upgrade

log = logging.getLogger(__name__)
# Set once this process has prepared its database (the server's start, dashboard/server.py),
# so the page script does not do it again at the first visit.
_prepared = False


@dataclass(frozen=True)
class BootstrapReport:
    migrated: bool
    demo_loaded: bool
    first_admin_created: bool = False


def prepare_database(settings: Settings | None = None) -> BootstrapReport:
    """Migrate to head, make next months' partitions and, when there are no users yet,
    create the first admin (its generated password is printed once, to the terminal,
    never logged) and load the small demo.

    Runs as the owner role. Safe to call from several processes at once: an advisory
    lock serialises them. Raises RuntimeError when the embedded server cannot start.
    """
    from core.auth import ensure_first_admin
    from core.demo import load_demo  # late: the demo pulls in Faker

    global _prepared
    settings = settings or Settings.from_env()
    engine = get_owner_engine()
    upgrade(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": BOOTSTRAP_LOCK_KEY})
        try:
            conn.execute(text("SELECT ensure_partitions(1, 3)"))
            conn.commit()
            empty = conn.execute(text("SELECT NOT EXISTS (SELECT 1 FROM users)")).scalar()
            conn.commit()
            # Before the demo: the demo's people get no password, so without this no one
            # could sign in.
            credentials = ensure_first_admin(settings)
            if credentials is not None:
                _print_credentials(*credentials)
            demo = bool(empty and settings.demo_on_first_start)
            if demo:
                log.info("empty database: loading the small demo data set")
                load_demo(engine, scale="small")
            # The first admin's rows and anything written before: a fresh app shows a
            # verified chain (later rows are sealed by the background worker).
            conn.execute(text("SELECT audit_seal(1000000)"))
            conn.commit()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": BOOTSTRAP_LOCK_KEY})
            conn.commit()
    _prepared = True
    return BootstrapReport(
        migrated=True, demo_loaded=demo, first_admin_created=credentials is not None
    )


def prepared_in_this_process() -> bool:
    """True once prepare_database has run to the end in this process."""
    return _prepared


def _print_credentials(email: str, password: str) -> None:
    # print, not log: log files and collectors must never hold the password.
    print(
        "\n".join(
            (
                "",
                "=" * 72,
                "First start: an admin account was created.",
                f"  email:    {email}",
                f"  password: {password}",
                "Sign in with it and choose a new password; it is not shown again.",
                "=" * 72,
                "",
            )
        ),
        flush=True,
    )
