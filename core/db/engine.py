"""One engine and one session factory per process, for the app role, the sign-in path and
the owner.

`get_engine()` is what services use: it connects as the app role (FASHIONISTAS_APP_ROLE,
no superuser, no BYPASSRLS), so row-level security applies to every query.
`get_auth_engine()` is the sign-in path's (FASHIONISTAS_AUTH_ROLE): it may only run the
functions that check passwords and open sessions (docs/SECURITY.md). The owner connection
(DATABASE_URL or the embedded server) is for migrations, the demo loader, command-line jobs
and bootstrap: `get_owner_engine()`.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.config import Settings
from core.db.embedded import start_embedded, to_sqlalchemy_url

_lock = threading.Lock()
_engine: Engine | None = None
_owner_engine: Engine | None = None
_auth_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None

# Identify the app in pg_stat_activity; keep the server's own time zone out of formatting
# decisions by fixing UTC for every connection.
_CONNECT_ARGS = {"application_name": "fashionistas", "options": "-c timezone=UTC"}


def database_url(settings: Settings | None = None) -> str:
    """The owner URL: DATABASE_URL, or the embedded server started on demand."""
    settings = settings or Settings.from_env()
    if settings.database_url:
        return to_sqlalchemy_url(settings.database_url)
    return start_embedded(settings.postgres_dir, settings.embedded_database)


def app_url(owner_url: str, settings: Settings | None = None) -> str:
    """`owner_url` with the user swapped for the app role (and its password, if any)."""
    settings = settings or Settings.from_env()
    url = make_url(owner_url).set(username=settings.app_role, password=settings.app_password)
    return url.render_as_string(hide_password=False)


def auth_url(owner_url: str, settings: Settings | None = None) -> str:
    """`owner_url` with the user swapped for the sign-in role (and its password, if any)."""
    settings = settings or Settings.from_env()
    url = make_url(owner_url).set(username=settings.auth_role, password=settings.auth_password)
    return url.render_as_string(hide_password=False)


def _create(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args=_CONNECT_ARGS,
    )


def get_engine() -> Engine:
    """The app-role engine, created on first use (never at import time)."""
    global _engine, _sessionmaker
    with _lock:
        if _engine is None:
            settings = Settings.from_env()
            _engine = _create(app_url(database_url(settings), settings))
            _sessionmaker = sessionmaker(_engine, expire_on_commit=False)
        return _engine


def get_owner_engine() -> Engine:
    """The owner engine (migrations, demo, CLI, bootstrap), created on first use."""
    global _owner_engine
    with _lock:
        if _owner_engine is None:
            _owner_engine = _create(database_url())
        return _owner_engine


def get_auth_engine() -> Engine:
    """The sign-in path's engine, created on first use (a small pool: sign-ins are rare)."""
    global _auth_engine
    with _lock:
        if _auth_engine is None:
            settings = Settings.from_env()
            _auth_engine = _create(
                auth_url(database_url(settings), settings), pool_size=2, max_overflow=5
            )
        return _auth_engine


def get_sessionmaker() -> sessionmaker[Session]:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker


def use_engine(engine: Engine, owner: Engine | None = None, auth: Engine | None = None) -> None:
    """Point this process at existing engines (tests use a throwaway database).

    `owner` defaults to `engine` and `auth` to the owner: a test that installs one owner
    engine keeps working as before, with row-level security out of the way.
    """
    global _engine, _owner_engine, _auth_engine, _sessionmaker
    with _lock:
        _engine = engine
        _owner_engine = owner if owner is not None else engine
        _auth_engine = auth if auth is not None else _owner_engine
        _sessionmaker = sessionmaker(engine, expire_on_commit=False)


def dispose_engine() -> None:
    global _engine, _owner_engine, _auth_engine, _sessionmaker
    with _lock:
        engines = (_engine, _owner_engine, _auth_engine)
        for engine in {id(e): e for e in engines if e is not None}.values():
            engine.dispose()
        _engine = None
        _owner_engine = None
        _auth_engine = None
        _sessionmaker = None
