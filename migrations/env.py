"""Alembic environment: runs migrations on the connection it is handed, or on the app's database."""

from __future__ import annotations

import re
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Column, create_engine, pool

from core.db.engine import database_url
from core.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Monthly and default partitions are made by ensure_partitions(), not declared in the
# models; comparing them would report every partition as a table to drop.
_PARTITION = re.compile(r".+_(p\d{6}|default)$")


# PostgreSQL stores an index expression in its own normalised spelling ('english'::regconfig,
# extra parentheses), so the text comparison reports every expression index as changed.
# They are left out of the comparison here; tests/test_migrations.py checks by name that
# each one exists.
EXPRESSION_INDEXES = frozenset(
    str(index.name)
    for table in target_metadata.tables.values()
    for index in table.indexes
    if any(not isinstance(e, Column) for e in index.expressions)
)


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    if type_ == "table" and name and _PARTITION.match(name):
        return name in target_metadata.tables
    return True


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=include_name,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(
        config.get_main_option("sqlalchemy.url") or database_url(), poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_migrations_online()
