"""The sealer as a periodic task of the background worker: every few seconds it chains
what finished transactions wrote, batch by batch until it has caught up
(core.audit.chain.seal_all, over seal_pending's batches), so a burst of writes never
leaves a backlog that a fixed batch per tick could not clear."""

from __future__ import annotations

from core.audit.chain import seal_all
from core.jobs import register_periodic

SEAL_EVERY_SECONDS = 5

register_periodic("audit.seal", SEAL_EVERY_SECONDS, seal_all)
