"""The API usage log: recorded off the request's path, summarised per key and hour.

`record_usage` only puts a row on a bounded in-process queue; a flusher thread writes
what has gathered every half second (and at exit) as one multi-row insert through
api_usage_record (SECURITY DEFINER, migration 0016). A full queue drops rows and counts
them rather than slow requests down: the log is for charts and forensics, not billing.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.api_keys.keys import unit
from core.db import Actor, get_engine
from core.errors import ValidationError

log = logging.getLogger(__name__)

QUEUE_SIZE = 20_000
BATCH = 2_000
FLUSH_SECONDS = 0.5
MAX_SUMMARY_DAYS = 93

_RECORD = text(
    "SELECT api_usage_record(CAST(:k AS uuid[]), CAST(:m AS text[]), CAST(:p AS text[]),"
    " CAST(:s AS integer[]), CAST(:d AS integer[]), CAST(:rq AS integer[]),"
    " CAST(:rs AS integer[]), CAST(:ip AS text[]), CAST(:ua AS text[]),"
    " CAST(:at AS timestamptz[]))"
)

_queue: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=QUEUE_SIZE)
_flush_lock = threading.Lock()
_start_lock = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()
dropped = 0


def _int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return max(0, min(int(value), 2**31 - 1))
    except (TypeError, ValueError):
        return None


def record_usage(
    *,
    key_id: uuid.UUID | None,
    method: str,
    path: str,
    status: int,
    duration_ms: float | int,
    request_bytes: int | None,
    response_bytes: int | None,
    ip_address: str | None,
    user_agent: str | None,
) -> None:
    """Queue one request for the usage log (no database call here). `path` is the route
    template or path, never a query string (the API must not pass secrets in it). Never
    raises: a full queue drops the row and counts it in `dropped`."""
    global dropped
    _ensure_flusher()
    row = (
        str(key_id) if key_id else None,
        str(method or "")[:16],
        str(path or "").split("?", 1)[0][:2048],
        _int(status) or 0,
        _int(round(duration_ms or 0)) or 0,
        _int(request_bytes),
        _int(response_bytes),
        (ip_address or None) and ip_address[:45],
        (user_agent or None) and user_agent[:1000],
        datetime.now(UTC),
    )
    try:
        _queue.put_nowait(row)
    except queue.Full:
        dropped += 1
        if dropped % 1000 == 1:
            log.warning("API usage queue full: %d usage rows dropped so far", dropped)


def _write(rows: list[tuple[Any, ...]]) -> None:
    columns = list(zip(*rows, strict=True))
    names = ("k", "m", "p", "s", "d", "rq", "rs", "ip", "ua", "at")
    with get_engine().begin() as conn:
        conn.execute(_RECORD, {n: list(c) for n, c in zip(names, columns, strict=True)})


def flush_usage() -> int:
    """Write every queued usage row now (tests, shutdown); returns how many were written.
    A database error is logged and the batch dropped (the log must not take the API down)."""
    written = 0
    with _flush_lock:
        while True:
            rows: list[tuple[Any, ...]] = []
            while len(rows) < BATCH:
                try:
                    rows.append(_queue.get_nowait())
                except queue.Empty:
                    break
            if not rows:
                return written
            try:
                _write(rows)
                written += len(rows)
            except SQLAlchemyError as exc:
                state = getattr(getattr(exc, "orig", None), "sqlstate", None)
                log.warning("API usage batch of %d rows lost (SQLSTATE %s)", len(rows), state)


def _run() -> None:
    while not _stop.wait(FLUSH_SECONDS):
        try:
            flush_usage()
        except Exception:  # the flusher must outlive any one bad batch
            log.exception("API usage flusher failed")


def _ensure_flusher() -> None:
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    with _start_lock:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(target=_run, name="api-usage-flusher", daemon=True)
            _thread.start()


def _at_exit() -> None:
    _stop.set()
    try:
        flush_usage()
    except Exception:
        log.exception("API usage rows could not be written at exit")


atexit.register(_at_exit)


@dataclass(frozen=True)
class UsageBucket:
    """One key's requests in one hour."""

    key_id: uuid.UUID | None
    key_name: str | None
    key_prefix: str | None
    hour: datetime
    requests: int
    errors: int  # status 400 and above
    server_errors: int  # status 500 and above
    p50_ms: float
    p95_ms: float


def usage_summary(
    actor: Actor,
    *,
    key_id: uuid.UUID | None = None,
    since: datetime,
    until: datetime,
) -> list[UsageBucket]:
    """Requests, errors and median / 95th-percentile latency per key and hour between
    `since` and `until` (at most 93 days), for the keys the actor may see (row-level
    security: all for api_keys.manage, else their own). Raises ValidationError
    (since/until)."""
    for name, value in (("since", since), ("until", until)):
        if not isinstance(value, datetime):
            raise ValidationError(f"{name} must be a date and time.", field=name)
    since = since if since.tzinfo else since.replace(tzinfo=UTC)
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    if until <= since:
        raise ValidationError("until must be after since.", field="until")
    if until - since > timedelta(days=MAX_SUMMARY_DAYS):
        raise ValidationError(f"At most {MAX_SUMMARY_DAYS} days at once.", field="since")
    params: dict[str, Any] = {"since": since, "until": until}
    where = "l.created_at >= :since AND l.created_at < :until"
    if key_id is not None:
        where += " AND l.api_key_id = :k"
        params["k"] = key_id
    with unit(actor, read_only=True) as uow:
        rows = uow.session.execute(
            text(
                "SELECT l.api_key_id, k.name, k.key_prefix, date_trunc('hour', l.created_at) h,"
                " count(*) n, count(*) FILTER (WHERE l.status_code >= 400) e,"
                " count(*) FILTER (WHERE l.status_code >= 500) se,"
                " percentile_cont(0.5) WITHIN GROUP (ORDER BY l.response_time_ms) p50,"
                " percentile_cont(0.95) WITHIN GROUP (ORDER BY l.response_time_ms) p95"
                " FROM api_usage_logs l LEFT JOIN api_keys k ON k.id = l.api_key_id"
                f" WHERE {where} GROUP BY 1, 2, 3, 4 ORDER BY 4, 2"
            ),
            params,
        ).all()
    return [
        UsageBucket(r.api_key_id, r.name, r.key_prefix, r.h, r.n, r.e, r.se, r.p50, r.p95)
        for r in rows
    ]
