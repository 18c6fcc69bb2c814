"""One engine and one session factory per process."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings
from core.db.embedded import start_embedded, to_sqlalchemy_url

_lock = threading.Lock()
_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None


def database_url(settings: Settings | None = None) -> str:
    """The URL this process talks to: DATABASE_URL, or the embedded server started on demand."""
    settings = settings or Settings.from_env()
    if settings.database_url:
        return to_sqlalchemy_url(settings.database_url)
    return start_embedded(settings.postgres_dir, settings.embedded_database)


def get_engine() -> Engine:
    """The process-wide engine, created on first use (never at import time)."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is None:
            _engine = create_engine(
                database_url(),
                pool_size=5,
                max_overflow=10,
                pool_pre_ping=True,
                # Identify the app in pg_stat_activity; keep the server's own time zone out
                # of formatting decisions by fixing UTC for every connection.
                connect_args={"application_name": "fashionistas", "options": "-c timezone=UTC"},
            )
            _sessionmaker = sessionmaker(_engine, expire_on_commit=False)
        return _engine


def get_sessionmaker() -> sessionmaker[Session]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


def use_engine(engine: Engine) -> None:
    """Point this process at an existing engine (tests use a throwaway database)."""
    global _engine, _sessionmaker
    with _lock:
        _engine = engine
        _sessionmaker = sessionmaker(engine, expire_on_commit=False)


def dispose_engine() -> None:
    global _engine, _sessionmaker
    with _lock:
        if _engine is not None:
            _engine.dispose()
        _engine = None
        _sessionmaker = None
