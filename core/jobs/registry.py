"""What the worker knows how to do: job handlers by job type, and periodic tasks.

Handlers and periodic tasks are plain functions registered at import time by the modules
that own them; `load_handlers()` imports those modules, so a worker started on its own
(`python -m core worker`) knows every job type the dashboard can queue.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.jobs.queue import JobContext

Handler = Callable[["JobContext"], dict[str, Any] | None]

# Modules that register handlers or periodic tasks when imported: add a module here and
# both the dashboard's worker thread and `python -m core worker` know its jobs and tasks.
HANDLER_MODULES: list[str] = [
    "core.gdpr.jobs",
    "core.audit.jobs",
    "core.analytics.jobs",
    "core.auth.jobs",
    "core.webhooks.jobs",
]

_lock = threading.Lock()
_handlers: dict[str, Handler] = {}
_periodic: dict[str, PeriodicTask] = {}


@dataclass(frozen=True)
class PeriodicTask:
    """A function the worker calls every `every_seconds` (one process at a time)."""

    name: str
    every_seconds: float
    fn: Callable[[], object]


def register_handler(job_type: str, handler: Handler) -> None:
    """Make `handler` run jobs of `job_type`; registering the same type again replaces it."""
    with _lock:
        _handlers[job_type] = handler


def handler_for(job_type: str) -> Handler | None:
    with _lock:
        return _handlers.get(job_type)


def job_types() -> list[str]:
    """Every job type a handler is registered for."""
    with _lock:
        return sorted(_handlers)


def register_periodic(name: str, every_seconds: float, fn: Callable[[], object]) -> None:
    """Run `fn()` from the worker about every `every_seconds` seconds.

    Raises ValueError for a non-positive period. `fn` opens its own transactions; the
    worker holds an advisory lock named after the task while it runs, so two processes
    never run the same task at once.
    """
    if every_seconds <= 0:
        raise ValueError("every_seconds must be greater than zero")
    with _lock:
        _periodic[name] = PeriodicTask(name, float(every_seconds), fn)


def unregister_periodic(name: str) -> None:
    with _lock:
        _periodic.pop(name, None)


def periodic_tasks() -> list[PeriodicTask]:
    with _lock:
        return list(_periodic.values())


def load_handlers() -> None:
    """Import every module that registers handlers (idempotent)."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
