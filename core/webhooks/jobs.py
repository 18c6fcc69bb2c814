"""Registers the webhook dispatcher with the worker (imported by core.jobs.registry).

The periodic task runs dispatch rounds until nothing has happened for half a second or
SLICE_SECONDS have passed, then gives the worker back (its queued jobs and other periodic
tasks); the worker holds the task's advisory lock meanwhile, so one process at a time
dispatches, while the claim protocol (SKIP LOCKED and leases) keeps it safe for several
to run rounds side by side.
"""

from __future__ import annotations

from core.jobs import register_periodic
from core.webhooks.dispatcher import process_dispatcher

DISPATCH_EVERY_SECONDS = 0.2
SLICE_SECONDS = 10.0


def dispatch() -> int:
    """Dispatch rounds for up to SLICE_SECONDS; returns events and deliveries handled."""
    return process_dispatcher().run_for(SLICE_SECONDS)


register_periodic("webhooks.dispatch", DISPATCH_EVERY_SECONDS, dispatch)
