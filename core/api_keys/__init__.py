"""API keys: created once and shown once, found by their hash, acting as their owner.

A key is `fk_live_<prefix>_<secret>`: the prefix (8 characters) tells keys apart on
pages and in logs, the secret is 256 random bits. The database keeps the prefix and the
SHA-256 of the whole key (migration 0016; docs/API.md says why a fast hash is right for a
random secret). `authenticate` checks a presented key, counts its rate window and
returns a principal whose `actor` acts as the key's owner under row-level security and
in the audit trail: the key's own sign-in session, whose token is derived from the key.
`check_key`, the API's per-request check, keeps the principal a few seconds and leases
rate tokens in batches (core/api_keys/auth.py says how revocation stays immediate).

Every write here is audited by the api_keys audit trigger (key_hash masked); the key
itself is never stored, logged, put in an error message or in a repr.
"""

from core.api_keys.auth import (
    ApiPrincipal,
    authenticate,
    check_key,
    clear_cache,
    forget,
    require_scope,
    session_token,
)
from core.api_keys.endpoints import EndpointSpec, register_endpoints
from core.api_keys.keys import (
    KEY_PREFIX,
    SCOPES,
    CreatedKey,
    KeyInfo,
    create_key,
    get_key,
    hash_key,
    list_keys,
    revoke_key,
    rotate_key,
)
from core.api_keys.usage import UsageBucket, flush_usage, record_usage, usage_summary

__all__ = [
    "KEY_PREFIX",
    "SCOPES",
    "ApiPrincipal",
    "CreatedKey",
    "EndpointSpec",
    "KeyInfo",
    "UsageBucket",
    "authenticate",
    "check_key",
    "clear_cache",
    "create_key",
    "flush_usage",
    "forget",
    "get_key",
    "hash_key",
    "list_keys",
    "record_usage",
    "register_endpoints",
    "require_scope",
    "revoke_key",
    "rotate_key",
    "session_token",
    "usage_summary",
]
