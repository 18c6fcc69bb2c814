"""Test fixtures: every test session gets its own throwaway database on a real PostgreSQL.

The server is DATABASE_URL's when set (CI points it at the PostgreSQL 15 service), or an
embedded server started in a temporary folder. The session database is migrated to head
and filled with the small demo data set once; tests that change data do so inside a unit
of work they do not commit, or in a database of their own (`scratch_database`).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from core.auth import Identity
from core.config import PROJECT_ROOT
from core.db import dispose_engine, use_engine
from core.db.embedded import start_embedded, to_sqlalchemy_url


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """SQLAlchemy URL of a maintenance database on the server the tests use."""
    if os.environ.get("DATABASE_URL"):
        yield to_sqlalchemy_url(os.environ["DATABASE_URL"])
        return
    # Kept between runs (it is ignored by git): the second run skips initdb.
    yield start_embedded(PROJECT_ROOT / ".data" / "test-postgres", "postgres")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class DatabaseFactory:
    """Creates and drops throwaway databases on the test server."""

    def __init__(self, server_url: str):
        self.server_url = server_url
        self.created: list[str] = []

    def create(self, prefix: str = "fashionistas_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_libpq(self.server_url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(_libpq(self.server_url), autocommit=True) as conn:
            for name in self.created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture(scope="session")
def databases(server_url: str) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(server_url)
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    """The session's database: migrated, partitions made, small demo data loaded."""
    from core.demo import load_demo
    from core.migrate import upgrade

    eng = create_engine(
        databases.create(), pool_size=5, max_overflow=5, connect_args={"options": "-c timezone=UTC"}
    )
    upgrade(eng)
    load_demo(eng, scale="small")
    use_engine(eng)
    yield eng
    dispose_engine()


@pytest.fixture
def scratch_database(databases: DatabaseFactory) -> Iterator[Engine]:
    """An empty database of the test's own, for migrations and destructive checks."""
    eng = create_engine(
        databases.create("fashionistas_scratch"), connect_args={"options": "-c timezone=UTC"}
    )
    yield eng
    eng.dispose()


class SecureDatabase:
    """A database of a test module's own, as its owner, the app role and the sign-in role."""

    def __init__(self, owner: Engine, app: Engine, auth: Engine):
        self.owner = owner
        self.app = app
        self.auth = auth


@pytest.fixture(scope="module")
def secure_database(
    request: pytest.FixtureRequest, databases: DatabaseFactory, engine: Engine
) -> Iterator[SecureDatabase]:
    """A migrated database with the small demo, installed so that core.db.get_engine() is
    the app role (row-level security applies), get_auth_engine() the sign-in role and
    get_owner_engine() its owner.

    Its own database, because sign-in and user administration commit (the session
    database's row counts must stay the demo's). The app pool holds one connection, so
    tests see it reused by one user after another; a module whose code holds two at once
    (a job reporting progress beside its work) sets `APP_POOL_SIZE`.
    """
    from core.db.engine import app_url, auth_url
    from core.demo import load_demo
    from core.migrate import upgrade

    url = databases.create("fashionistas_sec")
    args = {"options": "-c timezone=UTC"}
    owner = create_engine(url, pool_size=2, max_overflow=2, connect_args=args)
    upgrade(owner)
    load_demo(owner, scale="small")
    pool = getattr(request.module, "APP_POOL_SIZE", 1)
    app = create_engine(app_url(url), pool_size=pool, max_overflow=0, connect_args=args)
    auth = create_engine(auth_url(url), pool_size=1, max_overflow=1, connect_args=args)
    use_engine(app, owner=owner, auth=auth)
    try:
        yield SecureDatabase(owner, app, auth)
    finally:
        use_engine(engine)
        app.dispose()
        auth.dispose()
        owner.dispose()


@pytest.fixture(scope="module")
def owner(secure_database: SecureDatabase) -> Engine:
    """The owner engine of the module's secure database (row-level security bypassed), for
    arranging rows and checking what the services wrote."""
    return secure_database.owner


@pytest.fixture(scope="module")
def organizer(owner: Engine) -> Identity:
    """An organizer of the module's secure database, signed in as core.auth sees them."""
    from tests.apptest import make_person

    return make_person(owner, ["organizer"])


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Put back the `__main__` module after each test. AppTest runs a page as
    `__main__` and leaves it there; a process started with multiprocessing's "spawn"
    then runs that page first (dashboard/app.py prepares the DATABASE_URL database: it
    migrated the server's maintenance database under the process tests)."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
