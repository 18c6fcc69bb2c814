"""The tamper-evident audit trail: sealing and verifying the chain (`chain`), and the audit
browser's reads (`browse`). The rows themselves are written by database triggers
(migration 0005) and by `core.auth.audit.record`."""
