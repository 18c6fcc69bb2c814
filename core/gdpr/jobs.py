"""Registers the GDPR job handlers with the worker (imported by core.jobs.registry)."""

from core.gdpr.export import EXPORT_JOB, run_export
from core.jobs import register_handler

register_handler(EXPORT_JOB, run_export)
