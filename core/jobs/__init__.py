"""Background jobs on the `background_jobs` table: a queue, a worker and periodic tasks.

Services queue work with `enqueue(uow.session, ...)`; handlers register with
`register_handler(job_type, fn)` and periodic tasks with `register_periodic(name,
every_seconds, fn)`. See core/jobs/queue.py for the queue's rules.
"""

from core.jobs.queue import JobContext, JobView, enqueue, read_job
from core.jobs.registry import register_handler, register_periodic, unregister_periodic
from core.jobs.worker import Worker, start_in_process, stop_in_process

__all__ = [
    "JobContext",
    "JobView",
    "Worker",
    "enqueue",
    "read_job",
    "register_handler",
    "register_periodic",
    "start_in_process",
    "stop_in_process",
    "unregister_periodic",
]
