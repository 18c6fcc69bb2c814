"""The embedded server: starts in a data folder, is reused by the next start, serves a database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from core.config import PROJECT_ROOT
from core.db.embedded import start_embedded

START_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from core.db.embedded import start_embedded
print(start_embedded(Path(sys.argv[1]), "fashionistas_embedded_test", keep_running=True))
"""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _start_time(url: str) -> object:
    with psycopg.connect(_libpq(url)) as conn:
        return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


def test_embedded_server_starts_creates_database_and_is_reused(tmp_path: Path) -> None:
    pgdata = tmp_path / "postgres"
    first = (
        subprocess.run(
            [sys.executable, "-c", START_IN_ANOTHER_PROCESS, str(pgdata)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    assert (pgdata / "PG_VERSION").exists()
    assert make_url(first).database == "fashionistas_embedded_test"
    started = _start_time(first)

    # This process attaches to the server the first one left running (and, being its
    # last user, stops it when the test session exits).
    again = start_embedded(pgdata, "fashionistas_embedded_test")
    assert again == first
    assert _start_time(again) == started
    with psycopg.connect(_libpq(again)) as conn:
        assert int(conn.execute("SHOW server_version_num").fetchone()[0]) >= 150000
