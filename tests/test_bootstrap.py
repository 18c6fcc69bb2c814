"""First start: an empty database is migrated and seeded once; a second start changes nothing."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine, text

from core.bootstrap import prepare_database
from core.config import Settings
from core.db import use_engine
from core.migrate import current_revision


def test_first_start_migrates_and_seeds_then_later_starts_do_not(
    engine: Engine, scratch_database: Engine
) -> None:
    settings = replace(Settings.from_env(), demo_on_first_start=True)
    use_engine(scratch_database)
    try:
        first = prepare_database(settings)
        with scratch_database.connect() as conn:
            users = conn.execute(text("SELECT count(*) FROM users")).scalar()
        second = prepare_database(settings)
        with scratch_database.connect() as conn:
            users_again = conn.execute(text("SELECT count(*) FROM users")).scalar()
    finally:
        use_engine(engine)
    assert current_revision(scratch_database) is not None
    assert first.demo_loaded and users > 0
    assert not second.demo_loaded and users_again == users


def test_demo_can_be_switched_off(engine: Engine, scratch_database: Engine) -> None:
    settings = replace(Settings.from_env(), demo_on_first_start=False)
    use_engine(scratch_database)
    try:
        report = prepare_database(settings)
    finally:
        use_engine(engine)
    with scratch_database.connect() as conn:
        # Only the first admin (core.auth.ensure_first_admin), so someone can sign in.
        assert conn.execute(text("SELECT user_type FROM users")).scalars().all() == ["admin"]
    assert not report.demo_loaded and report.first_admin_created
