"""A throwaway, migrated database for a benchmark, as its owner and as the app role."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text

from bench.checkout import EMBEDDED_DIR, create_database, drop_database, with_database
from core.db.embedded import start_embedded, to_sqlalchemy_url
from core.db.engine import app_url
from core.migrate import upgrade

_CONNECT = {"options": "-c timezone=UTC"}


def session_for(owner: Engine, user_id: uuid.UUID) -> str:
    """A sign-in session for `user_id`, opened as the owner: what the app role must set
    (`app.session`) to act as that person (migration 0012)."""
    with owner.begin() as conn:
        token = conn.execute(
            text("SELECT auth_open_session(:u, 'issued', 1440)"), {"u": user_id}
        ).scalar_one()
    assert token is not None, "only an active account gets a session"
    return token


def server_url() -> str:
    """DATABASE_URL's server, or the embedded one in ./.data/bench-postgres."""
    if os.environ.get("DATABASE_URL"):
        return to_sqlalchemy_url(os.environ["DATABASE_URL"])
    return start_embedded(EMBEDDED_DIR, "postgres")


@contextmanager
def scratch_database(
    prefix: str, pool_size: int = 1, revision: str = "head"
) -> Iterator[tuple[Engine, Engine]]:
    """(owner, app role) engines of a new database `<prefix>_<tag>` migrated to `revision`
    (head by default); the database is dropped when the block ends, whatever happens."""
    server = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    create_database(server, name)
    engines: list[Engine] = []
    try:
        url = with_database(server, name)
        owner = create_engine(url, pool_size=pool_size, max_overflow=0, connect_args=_CONNECT)
        engines.append(owner)
        upgrade(owner, revision)
        app = create_engine(
            app_url(url), pool_size=pool_size, max_overflow=0, connect_args=_CONNECT
        )
        engines.append(app)
        yield owner, app
    finally:
        for engine in engines:
            engine.dispose()
        drop_database(server, name)
