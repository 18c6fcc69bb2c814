"""The sealer as a periodic task of the background worker: every few seconds it chains
what finished transactions wrote (core.audit.chain.seal_pending)."""

from __future__ import annotations

from core.audit.chain import seal_pending
from core.jobs import register_periodic

SEAL_EVERY_SECONDS = 5

register_periodic("audit.seal", SEAL_EVERY_SECONDS, seal_pending)
