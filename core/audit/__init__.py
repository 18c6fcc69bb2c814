"""The tamper-evident audit trail: sealing and verifying the chain (`chain`), the audit
browser's reads (`browse`) and a record's history with its children (`history`). The rows
themselves are written by database triggers (migrations 0005, 0011) and, for what a
service does beyond a row change, by `core.auth.audit.record` through the database's
`audit_record`."""
