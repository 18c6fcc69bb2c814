"""Seal the audit log into a hash chain and verify it (docs/AUDIT.md).

Writers only INSERT audit rows; `seal_pending` asks the database (`audit_seal`) to chain
the rows of finished transactions in (tx_id, seq) order, and `verify_chain` re-checks the
whole chain (`audit_verify`), redacted entries against the redaction entries that name
them, and names the first broken links.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from core.auth.permissions import COMPLIANCE_MANAGE
from core.db import Actor, unit_of_work

SEALER = Actor.system("audit sealer")
# How many problems a verification names at most (the first one in chain order leads).
MAX_PROBLEMS = 10


@dataclass(frozen=True)
class ChainProblem:
    """One broken entry: its position, seq, id and time (None when the problem is the
    chain's end), and what is wrong, naming the redaction entry concerned if any."""

    pos: int | None
    seq: int | None
    id: uuid.UUID | None
    at: datetime | None
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found: `ok`, how many sealed entries it checked, and for a broken
    chain the first bad entry (position, seq, id, time) and what is wrong with it."""

    ok: bool
    checked: int
    pending: int
    # Only the latest entries were checked (from `from_pos` on).
    from_pos: int = 1
    broken_pos: int | None = None
    broken_seq: int | None = None
    broken_id: uuid.UUID | None = None
    broken_at: datetime | None = None
    problem: str | None = None
    # Every problem found, first one first (at most MAX_PROBLEMS).
    problems: tuple[ChainProblem, ...] = ()

    def summary(self) -> str:
        """One line for people and the command line."""
        if self.ok:
            waiting = f"; {self.pending:,} waiting to be sealed" if self.pending else ""
            which = "" if self.from_pos <= 1 else f" (the latest, from position {self.from_pos:,})"
            return f"chain intact: {self.checked:,} entries{which}{waiting}"
        where = f"entry {self.broken_pos}" if self.broken_pos is not None else "the chain"
        if self.broken_seq is not None:
            where += (
                f" (seq {self.broken_seq}, id {self.broken_id}, {self.broken_at:%Y-%m-%d %H:%M:%S})"
            )
        line = f"chain broken at {where}: {self.problem}"
        more = [p.pos for p in self.problems[1:] if p.pos is not None]
        if more:
            line += f"; also at {', '.join(str(p) for p in more)}"
        return line


def seal_pending(limit: int = 10_000) -> int:
    """Seal up to `limit` audit rows of finished transactions; returns how many.

    Safe to call from several processes at once: one sealer runs at a time, and a call
    that finds another sealer (or an erasure's redaction, which holds the same lock until
    its transaction ends) at work seals nothing and returns 0. Rows of transactions still
    open stay pending until they end. Raises ValueError for a limit below 1.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    with unit_of_work(SEALER) as uow:
        n = uow.session.execute(text("SELECT audit_seal(:n)"), {"n": limit}).scalar_one()
        uow.commit()
    return int(n)


def seal_all(batch: int = 10_000) -> int:
    """Seal every row that can be sealed now, `seal_pending` batch by batch (a transaction
    each); returns how many."""
    total = 0
    while (n := seal_pending(batch)) > 0:
        total += n
        if n < batch:
            break
    return total


_PENDING = text("SELECT audit_pending()")


def verify_chain(
    actor: Actor = SEALER, *, seal_first: bool = False, latest: int | None = None
) -> ChainReport:
    """Re-check the sealed audit entries (payload digests, hash links, positions, the head,
    and each redacted entry against the redaction entries that name it) and report the
    broken ones, if any, first one first: all entries, or with `latest` only the last
    `latest` (trusting the hash of the entry before them).

    With `seal_first`, seals what can be sealed before checking. Raises PermissionDenied
    unless `actor` holds compliance.manage (or is a system actor), ValueError for a
    `latest` below 1.
    """
    if latest is not None and latest < 1:
        raise ValueError("latest must be at least 1")
    if seal_first:
        with unit_of_work(actor) as uow:
            uow.require(COMPLIANCE_MANAGE)
        seal_all()
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(COMPLIANCE_MANAGE)
        session = uow.session
        from_pos = 1
        if latest is not None:
            last = session.execute(text("SELECT last_pos FROM audit_chain_head")).scalar_one()
            from_pos = max(1, int(last) - latest + 1)
        rows = session.execute(
            text("SELECT * FROM audit_verify(:p, :m)"), {"p": from_pos, "m": MAX_PROBLEMS}
        ).all()
        pending = int(session.execute(_PENDING).scalar_one())
    row = rows[0]
    problems = tuple(
        ChainProblem(r.broken_pos, r.broken_seq, r.broken_id, r.broken_at, r.problem)
        for r in rows
        if not r.ok
    )
    return ChainReport(
        ok=row.ok,
        checked=int(row.checked),
        pending=pending,
        from_pos=from_pos,
        broken_pos=row.broken_pos,
        broken_seq=row.broken_seq,
        broken_id=row.broken_id,
        broken_at=row.broken_at,
        problem=row.problem,
        problems=problems,
    )
