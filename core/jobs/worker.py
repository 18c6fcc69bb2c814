"""The worker: runs due periodic tasks and queued jobs, one at a time, until stopped.

Run it as its own process (`python -m core worker`) or as one daemon thread per dashboard
process (`start_in_process`, called by dashboard/app.py). Several workers may run side by
side: jobs are claimed with SKIP LOCKED and each periodic task runs under an advisory lock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, text

from core.config import Settings
from core.db import get_engine
from core.errors import DomainError
from core.jobs import queue, registry

log = logging.getLogger("core.jobs")

POLL_SECONDS = 1.0
STALE_CHECK_SECONDS = 60.0


class Worker:
    """One worker: `run_once` does one round, `run_forever` loops until `stop()`."""

    def __init__(
        self,
        *,
        engine_factory: Callable[[], Engine] = get_engine,
        worker_id: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        backoff_seconds: float = queue.BACKOFF_SECONDS,
        job_types: list[str] | None = None,
    ):
        self.engine_factory = engine_factory
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll_seconds = poll_seconds
        self.backoff_seconds = backoff_seconds
        # Only these job types (a dedicated worker); None: every registered type.
        self.job_types = job_types
        self._stop = threading.Event()
        self._last_run: dict[str, float] = {}
        self._last_stale_check = 0.0

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run_periodic(self, *, now: float | None = None) -> list[str]:
        """Run every periodic task that is due; returns the names that ran."""
        registry.load_handlers()
        now = time.monotonic() if now is None else now
        ran = []
        for task in registry.periodic_tasks():
            last = self._last_run.get(task.name)
            if last is not None and now - last < task.every_seconds:
                continue
            self._last_run[task.name] = now
            if self._run_locked(task):
                ran.append(task.name)
        return ran

    def _run_locked(self, task: registry.PeriodicTask) -> bool:
        engine = self.engine_factory()
        with engine.connect() as conn:
            key = f"periodic:{task.name}"
            got = conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": key})
            if not got.scalar_one():
                conn.rollback()
                return False
            conn.commit()
            try:
                task.fn()
            except Exception:
                log.exception("periodic task %s failed", task.name)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                conn.commit()
        return True

    def run_job(self) -> bool:
        """Claim and run one due job; False when there was none."""
        registry.load_handlers()
        engine = self.engine_factory()
        types = [t for t in registry.job_types() if self.job_types is None or t in self.job_types]
        job = queue.claim(self.worker_id, types, engine=engine)
        if job is None:
            return False
        handler = registry.handler_for(job.job_type)
        assert handler is not None  # claim() asks only for registered types
        context = queue.JobContext(job, engine, self.worker_id)
        try:
            try:
                result = handler(context)
            finally:
                context.end()
        except DomainError as exc:
            queue.fail(job, exc.message, retry=False, worker_id=self.worker_id, engine=engine)
            log.info("job %s (%s) refused: %s", job.job_id, job.job_type, exc.message)
        except Exception as exc:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            status = queue.fail(
                job,
                detail,
                retry=True,
                worker_id=self.worker_id,
                engine=engine,
                backoff_seconds=self.backoff_seconds,
            )
            log.exception("job %s (%s) failed; now %s", job.job_id, job.job_type, status)
        else:
            queue.complete(job, result, worker_id=self.worker_id, engine=engine)
        return True

    def run_once(self) -> bool:
        """Periodic tasks that are due, then at most one job; True when a job ran."""
        self.run_periodic()
        now = time.monotonic()
        if now - self._last_stale_check >= STALE_CHECK_SECONDS:
            self._last_stale_check = now
            queue.requeue_stale(engine=self.engine_factory())
        return self.run_job()

    def run_until_idle(self, max_jobs: int = 1000) -> int:
        """Run jobs until none is due (tests, `--once`); returns how many ran."""
        ran = 0
        while ran < max_jobs and self.run_job():
            ran += 1
        return ran

    def run_forever(self) -> None:
        log.info("worker %s started", self.worker_id)
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("worker round failed")
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)
        log.info("worker %s stopped", self.worker_id)


_thread_lock = threading.Lock()
_in_process: tuple[threading.Thread, Worker] | None = None


def in_process_enabled(settings: Settings | None = None) -> bool:
    """FASHIONISTAS_WORKER is not "off"; under pytest only when set to "on" explicitly
    (tests drive jobs themselves, and a thread polling a test database swapped under it
    would race them)."""
    settings = settings or Settings.from_env()
    if settings.worker == "off":
        return False
    if "PYTEST_CURRENT_TEST" in os.environ:
        return os.environ.get("FASHIONISTAS_WORKER") == "on"
    return True


def start_in_process() -> Worker | None:
    """Start the worker as a daemon thread of this process, once; None when disabled."""
    global _in_process
    if not in_process_enabled():
        return None
    with _thread_lock:
        if _in_process is not None and _in_process[0].is_alive():
            return _in_process[1]
        worker = Worker()
        thread = threading.Thread(
            target=worker.run_forever, name="fashionistas-worker", daemon=True
        )
        thread.start()
        _in_process = (thread, worker)
        return worker


def stop_in_process(timeout: float = 5.0) -> None:
    """Stop the in-process worker thread, if any, and wait for it."""
    global _in_process
    with _thread_lock:
        current, _in_process = _in_process, None
    if current is not None:
        current[1].stop()
        current[0].join(timeout)
