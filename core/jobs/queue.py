"""The job queue on `background_jobs`: enqueue, claim, progress, finish, retry.

- `enqueue` runs inside the caller's unit of work, so a job exists exactly when the change
  that asked for it commits. A `dedupe_key` allows one live (pending or running) job per key.
- A worker claims the next due job with `FOR UPDATE SKIP LOCKED`, so any number of
  workers (threads or processes) never run one job twice.
- Progress is written in its own short transaction, so a page polling the job sees it
  while the job's own work is still uncommitted.
- A job that raises is retried with exponential backoff until `max_retries`, then marked
  failed with its message; a `DomainError` is a refusal that a retry cannot change, so it
  fails at once.
- A job acts as the person who queued it (`JobContext.actor`), so row-level security and
  the audit trail see that person: the worker obtains a session for them through the
  sign-in path (only for a running job they queued, only while their account is active),
  and ends it when the job is done. Payloads hold ids only, never personal data.
- Row-level security (migration 0013) shows a job to its creator and to admins, and lets
  a person queue jobs only in their own name. A worker is no person: it claims, reports
  and finishes jobs through the SECURITY DEFINER functions `job_claim`, `job_progress`,
  `job_complete`, `job_fail` and `job_requeue_stale`, each touching only the job that
  worker claimed.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.db import Actor, get_engine, require_transaction
from core.errors import Conflict, PermissionDenied
from core.models.system import BACKGROUND_JOB_LIVE_STATUSES

# Payload values: ids, numbers, flags and short codes. Anything longer or with other
# characters (an email, a name) is refused: payloads outlive the data they point at.
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:-]{0,64}$")
BACKOFF_SECONDS = 5.0
STALE_AFTER_SECONDS = 600
MAX_ERROR_LENGTH = 1000


@dataclass(frozen=True)
class JobView:
    """A job as a page shows it."""

    job_id: uuid.UUID
    job_type: str
    status: str
    progress: Decimal
    progress_message: str | None
    error: str | None
    result: dict[str, Any] | None
    retry_count: int
    max_retries: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    failed_at: datetime | None
    created_by: uuid.UUID | None


@dataclass(frozen=True)
class ClaimedJob:
    job_id: uuid.UUID
    job_type: str
    payload: dict[str, Any]
    created_by: uuid.UUID | None
    retry_count: int
    max_retries: int


class JobContext:
    """What a handler gets: the job, who it acts for, and a way to report progress."""

    def __init__(self, job: ClaimedJob, engine: Engine, worker_id: str):
        self.job = job
        self._engine = engine
        self._worker_id = worker_id
        self._actor: Actor | None = None

    @property
    def job_id(self) -> uuid.UUID:
        return self.job.job_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload

    @property
    def actor(self) -> Actor:
        """The person who queued the job, with a session the sign-in path opened for this
        job; a system actor when nobody queued it.

        Raises PermissionDenied when that person can no longer act (their account is not
        active): the job fails without a retry.
        """
        if self._actor is None:
            self._actor = self._obtain_actor()
        return self._actor

    def _obtain_actor(self) -> Actor:
        from core.auth.sessions import open_job_session  # late: core.auth imports core.db

        agent = f"job:{self.job.job_type}"
        if self.job.created_by is None:
            return Actor.system(agent)
        token = open_job_session(self.job.job_id)
        if token is None:
            raise PermissionDenied(
                "The person who queued this job can no longer act; it was not run."
            )
        return Actor(user_id=self.job.created_by, user_agent=agent, session_token=token)

    def end(self) -> None:
        """End the job's session, if one was opened (the worker calls it when the job is
        done, whatever the outcome)."""
        from core.auth.sessions import end_session

        if self._actor is not None and self._actor.session_token:
            end_session(self._actor.session_token, "job_finished")
        self._actor = None

    def progress(self, percent: float, message: str | None = None) -> None:
        """Record progress (0-100) and a short message, committed at once; it also keeps
        the job's session alive."""
        from core.auth.sessions import keep_alive

        set_progress(
            self.job.job_id, percent, message, engine=self._engine, worker_id=self._worker_id
        )
        if self._actor is not None and self._actor.session_token:
            keep_alive(self._actor.session_token)


def _check_payload(payload: dict[str, Any]) -> None:
    for key, value in payload.items():
        if not _SAFE_TEXT.match(key):
            raise ValueError(f"job payload key {key!r} is not a short identifier")
        if value is None or isinstance(value, bool | int | float | uuid.UUID):
            continue
        if isinstance(value, str) and _SAFE_TEXT.match(value):
            continue
        raise ValueError(f"job payload {key!r} must be an id, a number or a short code")


def enqueue(
    session: Session,
    job_type: str,
    payload: dict[str, Any],
    *,
    created_by: uuid.UUID | None,
    dedupe_key: str | None = None,
    priority: int = 100,
    max_retries: int = 3,
    delay_seconds: float = 0,
) -> uuid.UUID:
    """Queue a job in the caller's transaction; returns its id.

    `created_by` is the acting person: row-level security refuses a job queued in someone
    else's name or in nobody's (the worker would run it as the system actor). With
    `dedupe_key`, a live job of that key is returned instead of a second one. Raises
    ValueError when the payload holds anything but ids, numbers and short codes, Conflict
    when a live job of the key is someone else's.
    """
    require_transaction(session)
    _check_payload(payload)
    clean = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in payload.items()}
    live = ", ".join(f"'{s}'" for s in BACKGROUND_JOB_LIVE_STATUSES)
    job_id = session.execute(
        text(
            "INSERT INTO background_jobs (job_type, payload, priority, max_retries,"
            " scheduled_for, dedupe_key, created_by)"
            " VALUES (:t, :p, :pr, :mr, now() + make_interval(secs => :d), :k, :u)"
            f" ON CONFLICT (dedupe_key) WHERE status IN ({live}) DO NOTHING RETURNING id"
        ),
        {
            "t": job_type,
            "p": Jsonb(clean),
            "pr": priority,
            "mr": max_retries,
            "d": delay_seconds,
            "k": dedupe_key,
            "u": created_by,
        },
    ).scalar()
    if job_id is None:
        job_id = session.execute(
            text(f"SELECT id FROM background_jobs WHERE dedupe_key = :k AND status IN ({live})"),
            {"k": dedupe_key},
        ).scalar()
        if job_id is None:
            # The live job of this key exists (the insert stood back) but is not ours to see.
            raise Conflict("Someone else's job for this is already queued; wait for it to finish.")
    return job_id


def claim(
    worker_id: str, job_types: list[str], *, engine: Engine | None = None
) -> ClaimedJob | None:
    """Take the next due pending job of `job_types` (lowest priority number first), or None.

    Rows another worker holds are skipped, not waited for.
    """
    if not job_types:
        return None
    with (engine or get_engine()).begin() as conn:
        row = conn.execute(
            text("SELECT * FROM job_claim(:w, CAST(:types AS text[]))"),
            {"w": worker_id, "types": job_types},
        ).first()
    if row is None:
        return None
    return ClaimedJob(row[0], row[1], dict(row[2] or {}), row[3], row[4], row[5])


def set_progress(
    job_id: uuid.UUID,
    percent: float,
    message: str | None,
    *,
    engine: Engine | None = None,
    worker_id: str,
) -> None:
    """Store a running job's progress in its own transaction (also a heartbeat); only the
    worker that claimed the job can."""
    value = max(0.0, min(100.0, float(percent)))
    with (engine or get_engine()).begin() as conn:
        conn.execute(
            text("SELECT job_progress(:id, :w, CAST(:p AS numeric), :m)"),
            {"id": job_id, "w": worker_id, "p": round(value, 2), "m": message},
        )


def complete(
    job: ClaimedJob, result: dict[str, Any] | None, *, worker_id: str, engine: Engine | None = None
) -> None:
    """Mark the job the worker claimed completed with `result`."""
    with (engine or get_engine()).begin() as conn:
        conn.execute(
            text("SELECT job_complete(:id, :w, :r)"),
            {
                "id": job.job_id,
                "w": worker_id,
                "r": Jsonb(result) if result is not None else None,
            },
        )


def fail(
    job: ClaimedJob,
    message: str,
    *,
    retry: bool,
    worker_id: str,
    engine: Engine | None = None,
    backoff_seconds: float = BACKOFF_SECONDS,
) -> str:
    """Record a failed attempt: back to pending after a backoff while retries remain
    (and `retry`), else failed for good. Returns the new status."""
    with (engine or get_engine()).begin() as conn:
        status = conn.execute(
            text("SELECT job_fail(:id, :w, :e, :retry, :d)"),
            {
                "id": job.job_id,
                "w": worker_id,
                "e": message[:MAX_ERROR_LENGTH],
                "retry": retry,
                "d": backoff_seconds,
            },
        ).scalar()
    # None: the claim was lost (requeued as stale and taken by another worker).
    return status or "lost"


def requeue_stale(
    older_than_seconds: float = STALE_AFTER_SECONDS, *, engine: Engine | None = None
) -> int:
    """Put running jobs whose worker went silent (no progress for that long, at least a
    minute) back in the queue; returns how many. A worker that died mid-job leaves such a
    claim behind."""
    with (engine or get_engine()).begin() as conn:
        return conn.execute(
            text("SELECT job_requeue_stale(:s)"), {"s": older_than_seconds}
        ).scalar_one()


_VIEW = (
    "SELECT id, job_type, status, progress, progress_message, error, result, retry_count,"
    " max_retries, created_at, started_at, completed_at, failed_at, created_by"
    " FROM background_jobs"
)


def read_job(session: Session, job_id: uuid.UUID) -> JobView | None:
    """One job as it is now, read in the caller's transaction."""
    row = session.execute(text(f"{_VIEW} WHERE id = :id"), {"id": job_id}).first()
    return None if row is None else JobView(*row)
