"""COPY machinery: stream rows from generators into tables over one psycopg connection."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from tqdm import tqdm

# Rows between progress-bar refreshes: tqdm per row would cost more than the COPY itself.
_PROGRESS_EVERY = 5_000


@dataclass
class TableLoad:
    """One table's rows, in the column order given; `estimate` sizes the progress bar."""

    table: str
    columns: tuple[str, ...]
    rows: Iterable[Sequence[Any]]
    estimate: int | None = None
    # Rows that may already be there (the catalogue a migration seeded): keep those.
    merge: bool = False


class Writer:
    """Counts rows per table; subclasses decide where the rows go."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def write(self, load: TableLoad) -> int:
        """Write one table's rows; returns how many."""
        n = self._write(load)
        self.counts[load.table] = self.counts.get(load.table, 0) + n
        return n

    def _write(self, load: TableLoad) -> int:
        raise NotImplementedError


class DryWriter(Writer):
    """Generates every row and throws it away: the counts a load would produce, no database."""

    def _write(self, load: TableLoad) -> int:
        n = 0
        for row in load.rows:
            if len(row) != len(load.columns):
                raise ValueError(f"{load.table}: row has {len(row)} values for {load.columns}")
            n += 1
        return n


class CopyWriter(Writer):
    """COPY ... FROM STDIN with write_row, inside the caller's transaction.

    Tables expecting at least `defer_indexes_from` rows lose their non-unique indexes for
    the COPY and get them back, from their own definitions, right after: building an index
    once is several times faster than growing it row by row. Primary keys and unique
    indexes stay, so the database still checks every row. The caller's transaction makes
    this invisible to anyone else (and undoes it on failure).
    """

    def __init__(
        self, conn: psycopg.Connection, progress: bool = False, defer_indexes_from: int = 1_000
    ):
        super().__init__()
        self.conn = conn
        self.progress = progress
        self.defer_indexes_from = defer_indexes_from

    def _write(self, load: TableLoad) -> int:
        if load.merge:
            return self._merge(load)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(load.table), sql.SQL(", ").join(map(sql.Identifier, load.columns))
        )
        deferred: list[str] = []
        if (load.estimate or 0) >= self.defer_indexes_from:
            deferred = self._drop_secondary_indexes(load.table)
        bar = _bar(load, self.progress)
        n = 0
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            write_row: Callable[[Sequence[Any]], None] = copy.write_row
            for row in load.rows:
                write_row(row)
                n += 1
                if bar is not None and n % _PROGRESS_EVERY == 0:
                    bar.update(_PROGRESS_EVERY)
        if bar is not None:
            bar.update(n % _PROGRESS_EVERY)
            if deferred:
                bar.set_postfix_str(f"rebuilding {len(deferred)} indexes")
        for definition in deferred:
            self.conn.execute(definition)
        if bar is not None:
            bar.close()
        return n

    def _merge(self, load: TableLoad) -> int:
        """COPY into a temporary table, then insert what the table lacks."""
        columns = sql.SQL(", ").join(map(sql.Identifier, load.columns))
        staging = sql.Identifier(f"merge_{load.table}")
        self.conn.execute(
            sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(
                staging, sql.Identifier(load.table)
            )
        )
        n = 0
        copy_in = sql.SQL("COPY {} ({}) FROM STDIN").format(staging, columns)
        with self.conn.cursor() as cur, cur.copy(copy_in) as copy:
            for row in load.rows:
                copy.write_row(row)
                n += 1
        self.conn.execute(
            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT DO NOTHING").format(
                sql.Identifier(load.table), columns, columns, staging
            )
        )
        return n

    def _drop_secondary_indexes(self, table: str) -> list[str]:
        """Drop `table`'s non-unique indexes; returns the statements that recreate them."""
        rows = self.conn.execute(
            """
            SELECT n.nspname, c.relname, pg_get_indexdef(i.indexrelid), c.relkind
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary
             ORDER BY c.relname
            """,
            (table,),
        ).fetchall()
        definitions = []
        for schema, name, definition, kind in rows:
            # A partitioned index is shown as "ON ONLY parent"; created plainly it cascades
            # to every partition again, as the dropped one did.
            if kind == "I":
                definition = definition.replace(" ON ONLY ", " ON ", 1)
            self.conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))
            definitions.append(definition)
        return definitions


@contextmanager
def audit_triggers_off(conn: psycopg.Connection) -> Iterator[None]:
    """Switch the audit-trail triggers (migration 0005) and the outbox's (0017: the demo
    writes its own domain events) off for a bulk load in the caller's transaction, and
    back on at the end.

    Only those triggers: the others (slugs, timestamps, foreign keys) must still run, which
    `session_replication_role = replica` would stop too. ALTER TABLE locks each table until
    the transaction ends, so no one else ever writes to it unaudited; a failed load rolls
    the switch back with everything else.
    """
    rows = conn.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE (tgname IN ('audit_trail', 'audit_trail_update') OR tgname LIKE 'outbox\\_%')"
        " AND NOT tgisinternal"
        " ORDER BY 1, 2"
    ).fetchall()
    # regclass::text is already quoted (and schema-qualified where needed).
    for table, trigger in rows:
        conn.execute(
            sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
                sql.SQL(table), sql.Identifier(trigger)
            )
        )
    yield
    for table, trigger in rows:
        conn.execute(
            sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(
                sql.SQL(table), sql.Identifier(trigger)
            )
        )


def _bar(load: TableLoad, enabled: bool) -> tqdm | None:
    if not enabled:
        return None
    return tqdm(
        total=load.estimate,
        desc=f"{load.table:32s}",
        unit=" rows",
        unit_scale=True,
        file=sys.stderr,
        dynamic_ncols=True,
    )
