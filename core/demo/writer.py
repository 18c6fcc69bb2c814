"""COPY machinery: stream rows from generators into tables over one psycopg connection."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
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


class Writer:
    """Counts rows per table; subclasses decide where the rows go."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def write(self, load: TableLoad) -> int:
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
    """COPY ... FROM STDIN with write_row, inside the caller's transaction."""

    def __init__(self, conn: psycopg.Connection, progress: bool = False):
        super().__init__()
        self.conn = conn
        self.progress = progress

    def _write(self, load: TableLoad) -> int:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(load.table), sql.SQL(", ").join(map(sql.Identifier, load.columns))
        )
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
            bar.close()
        return n


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
