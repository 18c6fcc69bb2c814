"""Explicit, ordered locks for the checkout (pretix's approach, on PostgreSQL).

Every transaction that changes inventory takes, in this order: the idempotency key, the
event (only when its own capacity binds), the ticket types sorted by key, the seats
sorted by id (row locks), then the code row. Locks are transaction-scoped and wait at
most `lock_timeout`; a timeout reaches the caller as core.errors.Busy.

`FASHIONISTAS_UNSAFE_CHECKOUT=1` switches the locks off and widens the read-to-write
window, for the tests' negative controls only: the same code must then oversell, which
proves the concurrency tests can catch the bug they guard against.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import require_transaction

# Advisory lock namespaces (the first int4 of pg_advisory_xact_lock(int4, int4)).
NS_IDEMPOTENCY = 1
NS_EVENT = 2
NS_TICKET_TYPE = 3
# A venue section, taken only inside migration 0010's triggers (a seated ticket type's
# capacity against its section's seats), after the ticket type's lock.
NS_SECTION = 4
# 5 is a data subject's (an erasure against every writer of their data), taken only inside
# migration 0014's functions and triggers; listed here so no other lock takes it.

DEFAULT_LOCK_TIMEOUT_MS = 5000


def locking_enabled() -> bool:
    return os.environ.get("FASHIONISTAS_UNSAFE_CHECKOUT") != "1"


def unsafe_pause(session: Session) -> None:
    """In unsafe mode, hold the read-to-write window open so races happen reliably."""
    if not locking_enabled():
        session.execute(text("SELECT pg_sleep(0.005)"))


def _key(value: uuid.UUID | str) -> int:
    """A stable int4 for any id or string; collisions only cost extra waiting.

    The first four bytes of the md5 of the id's bytes (or the string's UTF-8), signed: the
    same as checkout_lock_key() in SQL (migration 0004), so the checkout functions and
    Python take the same locks."""
    raw = value.bytes if isinstance(value, uuid.UUID) else str(value).encode()
    return int.from_bytes(hashlib.md5(raw, usedforsecurity=False).digest()[:4], "big", signed=True)


def lock_all(
    session: Session, namespace: int, values: Iterable[uuid.UUID | str], *, always: bool = False
) -> None:
    """Take transaction-scoped advisory locks on `values`, always in the same order.

    `always` keeps the lock in the tests' unsafe mode (idempotency is not under test there).
    """
    require_transaction(session)
    if not (always or locking_enabled()):
        return
    keys = sorted({_key(v) for v in values})
    if not keys:
        return
    # unnest() yields the array in order, so the locks are taken in sorted order.
    session.execute(
        text("SELECT count(pg_advisory_xact_lock(:ns, k)) FROM unnest(CAST(:keys AS int[])) k"),
        {"ns": namespace, "keys": keys},
    )


def for_update() -> str:
    """The row-lock clause for seat and code reads (nothing in unsafe mode)."""
    return " FOR UPDATE" if locking_enabled() else ""
