"""Forgetting what sign-in no longer needs, as a periodic task of the background worker:
throttle rows past their quiet period (IP addresses are personal data), sessions ended a
day ago and expired reset tokens (core.auth.sessions.purge, through the sign-in role)."""

from __future__ import annotations

from core.auth.sessions import purge
from core.jobs import register_periodic

PURGE_EVERY_SECONDS = 600

register_periodic("auth.purge", PURGE_EVERY_SECONDS, purge)
