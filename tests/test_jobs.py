"""The job queue and worker on the real database, as the app role."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, text

from core.auth import Identity
from core.db import Actor, unit_of_work
from core.errors import PermissionDenied, ValidationError
from core.jobs import (
    Worker,
    enqueue,
    queue,
    register_handler,
    register_periodic,
    registry,
    unregister_periodic,
)
from tests.conftest import SecureDatabase

# A periodic task runs while the worker holds a pooled connection for the task's
# session-level advisory lock (core/jobs/worker.py), and the task's own unit of work needs
# a second one: with the fixture's pool of one, each task would wait out the pool timeout
# (30 s) and fail. Issue 18 replaces that session lock with a transaction-scoped one.
APP_POOL_SIZE = 2


@pytest.fixture(scope="module")
def person(secure_database: SecureDatabase) -> Identity:
    """Who queues the tests' jobs: a job is queued by a person, in their own name."""
    from tests.apptest import make_person

    return make_person(secure_database.owner, ["admin"])


def _enqueue(person: Identity, job_type: str, n: int = 1, **kw: object) -> list[uuid.UUID]:
    with unit_of_work(person.actor()) as uow:
        ids = [
            enqueue(uow.session, job_type, {"n": i}, created_by=person.user_id, **kw)
            for i in range(n)
        ]
        uow.commit()
    return ids


def _job(owner: Engine, job_id: uuid.UUID) -> dict:
    with owner.connect() as c:
        return dict(
            c.execute(text("SELECT * FROM background_jobs WHERE id = :i"), {"i": job_id})
            .mappings()
            .one()
        )


@pytest.fixture
def job_type() -> str:
    return f"test.{uuid.uuid4().hex[:8]}"


def test_a_job_runs_as_the_person_who_queued_it(
    secure_database: SecureDatabase, job_type: str
) -> None:
    from tests.apptest import make_person

    admin = make_person(secure_database.owner, ["admin"])
    seen: list[tuple[str | None, str | None]] = []

    def handler(ctx: queue.JobContext) -> dict:
        with unit_of_work(ctx.actor, read_only=True) as uow:
            seen.append(
                uow.session.execute(
                    text("SELECT app_current_user_id()::text, current_setting('app.user_agent')")
                ).one()
            )
        return {"ok": True}

    register_handler(job_type, handler)
    with unit_of_work(admin.actor()) as uow:
        job_id = enqueue(uow.session, job_type, {"thing": uuid.uuid4()}, created_by=admin.user_id)
        uow.commit()
    assert Worker(job_types=[job_type]).run_until_idle() >= 1
    assert seen == [(str(admin.user_id), f"job:{job_type}")]
    row = _job(secure_database.owner, job_id)
    assert row["status"] == "completed" and row["result"] == {"ok": True}
    assert float(row["progress"]) == 100


def test_two_workers_never_run_one_job_twice(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    ran: list[uuid.UUID] = []
    lock = threading.Lock()
    gate = threading.Barrier(2)

    def handler(ctx: queue.JobContext) -> None:
        with lock:
            ran.append(ctx.job_id)

    register_handler(job_type, handler)
    ids = _enqueue(person, job_type, 30)

    def work() -> None:
        worker = Worker(job_types=[job_type])
        gate.wait()
        worker.run_until_idle()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(ran) == sorted(ids)
    assert len(set(ran)) == len(ran)


def test_claim_skips_a_row_another_transaction_holds(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    register_handler(job_type, lambda ctx: None)
    first, second = _enqueue(person, job_type, 2, priority=1)
    with secure_database.owner.connect() as holder:
        holder.execute(text("SELECT 1 FROM background_jobs WHERE id = :i FOR UPDATE"), {"i": first})
        claimed = queue.claim("w1", [job_type])
        holder.rollback()
    assert claimed is not None and claimed.job_id == second


def test_a_failing_job_is_retried_with_backoff_then_fails_with_its_message(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    def handler(ctx: queue.JobContext) -> None:
        raise RuntimeError("printer on fire")

    register_handler(job_type, handler)
    (job_id,) = _enqueue(person, job_type, max_retries=1)
    worker = Worker(backoff_seconds=0, job_types=[job_type])
    assert worker.run_job()
    row = _job(secure_database.owner, job_id)
    assert row["status"] == "pending" and row["retry_count"] == 1
    assert "printer on fire" in row["error"]
    assert worker.run_job()
    row = _job(secure_database.owner, job_id)
    assert row["status"] == "failed" and row["failed_at"] is not None
    assert "RuntimeError: printer on fire" in row["error"]
    assert not worker.run_job() or _job(secure_database.owner, job_id)["status"] == "failed"


def test_backoff_delays_the_retry(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    register_handler(job_type, lambda ctx: 1 / 0)
    (job_id,) = _enqueue(person, job_type, max_retries=3)
    worker = Worker(backoff_seconds=3600, job_types=[job_type])
    assert worker.run_job()
    row = _job(secure_database.owner, job_id)
    assert row["status"] == "pending"
    with secure_database.owner.connect() as c:
        later = c.execute(
            text(
                "SELECT scheduled_for > now() + interval '50 minutes' FROM background_jobs"
                " WHERE id = :i"
            ),
            {"i": job_id},
        ).scalar_one()
    assert later
    assert queue.claim("w", [job_type]) is None


def test_a_refusal_fails_at_once(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    def handler(ctx: queue.JobContext) -> None:
        raise ValidationError("the thing is gone")

    register_handler(job_type, handler)
    (job_id,) = _enqueue(person, job_type, max_retries=3)
    assert Worker(job_types=[job_type]).run_job()
    row = _job(secure_database.owner, job_id)
    assert row["status"] == "failed" and row["retry_count"] == 0
    assert row["error"] == "the thing is gone"


def test_progress_is_visible_from_another_connection_while_the_job_runs(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    seen: list[tuple] = []

    def handler(ctx: queue.JobContext) -> None:
        ctx.progress(42.5, "halfway through")
        with secure_database.owner.connect() as other:
            seen.append(
                other.execute(
                    text(
                        "SELECT status, progress, progress_message FROM background_jobs"
                        " WHERE id = :i"
                    ),
                    {"i": ctx.job_id},
                ).one()
            )

    register_handler(job_type, handler)
    _enqueue(person, job_type)
    assert Worker(job_types=[job_type]).run_job()
    assert len(seen) == 1
    status, progress, message = seen[0]
    assert (status, float(progress), message) == ("running", 42.5, "halfway through")


def test_dedupe_key_keeps_one_live_job(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    key = f"k-{uuid.uuid4().hex}"
    first = _enqueue(person, job_type, dedupe_key=key)
    again = _enqueue(person, job_type, dedupe_key=key)
    assert first == again
    register_handler(job_type, lambda ctx: None)
    Worker(job_types=[job_type]).run_until_idle()
    assert _enqueue(person, job_type, dedupe_key=key) != first


def test_payloads_hold_ids_not_personal_data(secure_database: SecureDatabase) -> None:
    with unit_of_work(Actor.system("test")) as uow, pytest.raises(ValueError, match="an id"):
        enqueue(uow.session, "x", {"email": "someone@example.com"}, created_by=None)


def test_stale_claims_go_back_to_the_queue(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    (job_id,) = _enqueue(person, job_type)
    assert queue.claim("dead-worker", [job_type]) is not None
    with secure_database.owner.begin() as c:
        c.execute(
            text("UPDATE background_jobs SET locked_at = now() - interval '1 hour' WHERE id = :i"),
            {"i": job_id},
        )
    assert queue.requeue_stale(600) >= 1
    assert _job(secure_database.owner, job_id)["status"] == "pending"


def test_periodic_tasks_run_when_due(secure_database: SecureDatabase) -> None:
    name = f"tick-{uuid.uuid4().hex[:6]}"
    calls: list[int] = []
    register_periodic(name, 60, lambda: calls.append(1))
    try:
        worker = Worker()
        assert name in worker.run_periodic(now=1000.0)
        assert name not in worker.run_periodic(now=1030.0)
        assert name in worker.run_periodic(now=1061.0)
        assert len(calls) == 2
        with pytest.raises(ValueError):
            register_periodic("bad", 0, lambda: None)
    finally:
        unregister_periodic(name)
    assert name not in [t.name for t in registry.periodic_tasks()]


def test_the_in_process_worker_stays_off_under_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.jobs.worker import in_process_enabled, start_in_process

    monkeypatch.delenv("FASHIONISTAS_WORKER", raising=False)
    assert not in_process_enabled()
    assert start_in_process() is None
    monkeypatch.setenv("FASHIONISTAS_WORKER", "off")
    assert not in_process_enabled()


def test_the_registered_periodic_tasks_do_their_work_on_the_app_role(
    secure_database: SecureDatabase,
) -> None:
    # The worker logs a failing task and goes on, so call each one here, as the worker
    # would, where an error surfaces: sealing the audit chain and refreshing the rollups.
    registry.load_handlers()
    tasks = {t.name: t for t in registry.periodic_tasks()}
    assert {"audit.seal", "analytics.refresh"} <= set(tasks)
    pending = text("SELECT count(*) FROM audit_logs WHERE sealed_at IS NULL")
    with secure_database.owner.begin() as c:
        c.execute(
            text(
                "UPDATE events SET title = title || ' (moved)'"
                " WHERE id = (SELECT id FROM events ORDER BY id LIMIT 1)"
            )
        )
    with secure_database.owner.connect() as c:
        assert c.execute(pending).scalar() >= 1
    tasks["audit.seal"].fn()
    tasks["analytics.refresh"].fn()
    with secure_database.owner.connect() as c:
        assert c.execute(pending).scalar() == 0
        assert c.execute(text("SELECT refreshed_at FROM analytics_rollups_refreshed")).scalar()


# -- row-level security (migration 0013) ------------------------------------------------


def test_nobody_queues_a_job_in_no_ones_or_someone_elses_name(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    """A job queued by no person would run as the system actor, past every permission
    check; one queued in someone else's name would run as them."""
    from tests.apptest import make_person

    with pytest.raises(PermissionDenied), unit_of_work(Actor.system("test")) as uow:
        enqueue(uow.session, job_type, {}, created_by=None)
    designer = make_person(secure_database.owner, ["designer"])
    with pytest.raises(PermissionDenied), unit_of_work(designer.actor()) as uow:
        enqueue(uow.session, job_type, {}, created_by=person.user_id)
    with secure_database.owner.connect() as c:
        queued = c.execute(
            text("SELECT count(*) FROM background_jobs WHERE job_type = :t"), {"t": job_type}
        ).scalar_one()
    assert queued == 0


def test_a_job_is_seen_by_its_creator_and_admins_only(
    secure_database: SecureDatabase, job_type: str
) -> None:
    from tests.apptest import make_person

    creator = make_person(secure_database.owner, ["marketing"])
    other = make_person(secure_database.owner, ["marketing"])
    admin = make_person(secure_database.owner, ["admin"])
    with unit_of_work(creator.actor()) as uow:
        job_id = enqueue(uow.session, job_type, {}, created_by=creator.user_id)
        uow.commit()
    seen = {}
    for name, who in (("creator", creator), ("other", other), ("admin", admin)):
        with unit_of_work(who.actor(), read_only=True) as uow:
            seen[name] = queue.read_job(uow.session, job_id) is not None
    assert seen == {"creator": True, "other": False, "admin": True}


def test_only_the_worker_that_claimed_a_job_reports_on_it(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    (job_id,) = _enqueue(person, job_type)
    claimed = queue.claim("w-owner", [job_type])
    assert claimed is not None and claimed.job_id == job_id
    queue.set_progress(job_id, 50, "someone else's", worker_id="w-intruder")
    queue.complete(claimed, {"forged": True}, worker_id="w-intruder")
    assert queue.fail(claimed, "forged", retry=False, worker_id="w-intruder") == "lost"
    row = _job(secure_database.owner, job_id)
    assert (row["status"], float(row["progress"]), row["result"]) == ("running", 0.0, None)
    queue.set_progress(job_id, 50, "halfway", worker_id="w-owner")
    queue.complete(claimed, {"ok": True}, worker_id="w-owner")
    row = _job(secure_database.owner, job_id)
    assert (row["status"], row["result"], row["progress_message"]) == (
        "completed",
        {"ok": True},
        "halfway",
    )


def test_requeueing_stale_claims_never_takes_a_live_one(
    secure_database: SecureDatabase, job_type: str, person: Identity
) -> None:
    (job_id,) = _enqueue(person, job_type)
    assert queue.claim("w-live", [job_type]) is not None
    queue.requeue_stale(0)  # asked for "everything running": held to a minute of silence
    assert _job(secure_database.owner, job_id)["status"] == "running"
