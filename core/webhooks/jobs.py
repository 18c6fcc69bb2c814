"""Registers the webhook dispatcher with the worker (imported by core.jobs.registry).

The periodic task runs dispatch rounds until nothing has happened for half a second or
SLICE_SECONDS have passed, then gives the worker back (its queued jobs and other periodic
tasks). The worker holds a periodic task's advisory lock while it runs, so the task is
registered in FASHIONISTAS_WEBHOOKS_DISPATCHERS slots (default 2): that many worker
processes dispatch side by side (the claim protocol, SKIP LOCKED and leases, keeps that
safe), and more workers than slots wait their turn.
"""

from __future__ import annotations

import os

from core.jobs import register_periodic
from core.webhooks.dispatcher import process_dispatcher

DISPATCH_EVERY_SECONDS = 0.2
SLICE_SECONDS = 10.0


def dispatch() -> int:
    """Dispatch rounds for up to SLICE_SECONDS; returns events and deliveries handled."""
    return process_dispatcher().run_for(SLICE_SECONDS)


SLOTS = max(1, int(os.environ.get("FASHIONISTAS_WEBHOOKS_DISPATCHERS") or 2))
for slot in range(SLOTS):
    register_periodic(f"webhooks.dispatch.{slot}", DISPATCH_EVERY_SECONDS, dispatch)
