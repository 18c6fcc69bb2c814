"""API key checks that lease rate tokens in batches (issue 16, the API's throughput goal).

- `api_key_lease(raw, ip, user_agent, want)`: the key check of `api_key_authenticate`
  (migration 0016: hash, expiry, revocation, grace period, owner; last use noted at most
  once a minute; the key's session opened or extended every few minutes), but instead of
  counting one request it takes up to `want` tokens from the key's rate window at once
  and says how many it got (`granted`). An API process spends them locally, so a busy key
  costs the database one call per batch instead of one per request. Tokens never exceed
  the window's limit (the window row is locked while they are taken, so several API
  processes share one limit); a process that dies loses its unspent tokens, which only
  ever makes the limit stricter. In the last ten seconds of a window a lease grants
  proportionally fewer (at least one), since what is unspent at the window's end is lost.
  `want = 0` checks the key without touching the window (rate limiting off).
  It also returns the window's end in milliseconds (so the caller can stop spending
  before the database's next window begins) and the seconds the key stays valid (its
  expiry or the end of its rotation's grace period), which bound how long a caller may
  keep the answer.
- `api_key_authenticate` (one request counted per call) stays as it is.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As migration 0016 (a session lives 10 minutes, is extended within 5 of its end; the
# last use is noted at most once a minute).
SESSION_MINUTES = 10
EXTEND_WITHIN = "5 minutes"
LAST_USED_EVERY = "1 minute"
# In its last seconds a window grants a share of what is asked, at least one token.
TAPER_SECONDS = 10

SIGNATURE = "api_key_lease(text, text, text, integer)"

FUNCTION = r"""
CREATE FUNCTION api_key_lease(p_raw text, p_ip text, p_user_agent text, p_want integer)
RETURNS TABLE (status text, key_id uuid, owner_id uuid, scopes text[], rate_limit integer,
               hits integer, granted integer, reset_ms integer, valid_seconds integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
#variable_conflict use_column
DECLARE
  k record;
  used integer;
  got integer := 0;
  window_start timestamptz := date_trunc('minute', now());
  left_ms integer;
  valid integer;
  session_hash text;
  valid_until timestamptz;
BEGIN
  -- As api_key_authenticate: what this writes may be lost in a crash without harm.
  PERFORM set_config('synchronous_commit', 'off', true);
  IF p_raw IS NULL OR p_raw = '' OR length(p_raw) > 200 OR p_want IS NULL OR p_want < 0 THEN
    RETURN QUERY SELECT 'unauthenticated', NULL::uuid, NULL::uuid, NULL::text[], NULL::integer,
                        NULL::integer, NULL::integer, NULL::integer, NULL::integer;
    RETURN;
  END IF;
  SELECT a.id, a.user_id, a.scopes::text[] AS scopes, a.rate_limit, a.expires_at,
         a.grace_until, a.last_used_at
    INTO k
    FROM api_keys a JOIN users u ON u.id = a.user_id
   WHERE a.key_hash = encode(sha256(convert_to(p_raw, 'UTF8')), 'hex')
     AND a.is_active AND a.revoked_at IS NULL
     AND (a.expires_at IS NULL OR a.expires_at > now())
     AND (a.grace_until IS NULL OR a.grace_until > now())
     AND u.status = 'active' AND NOT u.is_anonymized;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'unauthenticated', NULL::uuid, NULL::uuid, NULL::text[], NULL::integer,
                        NULL::integer, NULL::integer, NULL::integer, NULL::integer;
    RETURN;
  END IF;

  left_ms := greatest(1, floor(extract(epoch FROM window_start + interval '1 minute' - now())
                               * 1000))::integer;
  IF p_want > 0 THEN
    -- The upsert locks the window row: concurrent leases of one key take turns, each
    -- seeing what the ones before it took. It counts one token at once (hits stays
    -- positive, as its check wants); the lease is then corrected to what it grants.
    INSERT INTO api_rate_windows AS w (api_key_id, window_start, hits)
    VALUES (k.id, window_start, 1)
    ON CONFLICT (api_key_id) DO UPDATE
       SET hits = CASE WHEN w.window_start = EXCLUDED.window_start THEN w.hits + 1 ELSE 1 END,
           window_start = EXCLUDED.window_start
    RETURNING w.hits - 1 INTO used;
    got := greatest(0, least(p_want, k.rate_limit - used));
    IF left_ms < @taper@ * 1000 THEN
      got := least(got, greatest(1, ceil(p_want * left_ms / (@taper@ * 1000.0))::integer));
    END IF;
    IF got <> 1 THEN
      UPDATE api_rate_windows SET hits = used + got WHERE api_key_id = k.id;
    END IF;
    used := used + got;
  ELSE
    used := 0;  -- rate limiting switched off by the caller
  END IF;
  IF p_want > 0 AND got = 0 THEN
    RETURN QUERY SELECT 'rate_limited', k.id, k.user_id, k.scopes, k.rate_limit, used, 0,
                        left_ms, NULL::integer;
    RETURN;
  END IF;

  IF k.last_used_at IS NULL OR k.last_used_at < now() - interval '@last_used@' THEN
    UPDATE api_keys SET last_used_at = now(), last_used_ip = left(p_ip, 45) WHERE id = k.id;
  END IF;

  session_hash := auth_token_hash(api_key_session_token(p_raw));
  PERFORM 1 FROM auth_sessions s
   WHERE s.token_hash = session_hash AND s.revoked_at IS NULL
     AND s.expires_at > now() + interval '@extend_within@';
  IF NOT FOUND THEN
    -- As api_key_authenticate: lock the key and its owner against a revocation or
    -- deactivation committing meanwhile, so an ended session is never reopened for them.
    PERFORM 1 FROM api_keys a JOIN users u ON u.id = a.user_id
     WHERE a.id = k.id AND a.revoked_at IS NULL AND a.is_active
       AND u.status = 'active' AND NOT u.is_anonymized
       FOR SHARE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'unauthenticated', NULL::uuid, NULL::uuid, NULL::text[],
                          NULL::integer, NULL::integer, NULL::integer, NULL::integer,
                          NULL::integer;
      RETURN;
    END IF;
    valid_until := least(now() + make_interval(mins => @minutes@),
                         coalesce(k.expires_at, 'infinity'), coalesce(k.grace_until, 'infinity'));
    INSERT INTO auth_sessions AS s (token_hash, user_id, method, idle_minutes, expires_at,
                                    api_key_id)
    VALUES (session_hash, k.user_id, 'api_key', @minutes@, valid_until, k.id)
    ON CONFLICT (token_hash) DO UPDATE
       SET expires_at = EXCLUDED.expires_at, last_seen_at = now(), revoked_at = NULL,
           revoked_reason = NULL;
  END IF;
  -- Whole seconds, rounded down: a caller keeping the answer stops before the key does.
  valid := floor(extract(epoch FROM least(coalesce(k.expires_at, 'infinity'),
                                          coalesce(k.grace_until, 'infinity'),
                                          now() + interval '1 day') - now()))::integer;
  RETURN QUERY SELECT 'ok', k.id, k.user_id, k.scopes, k.rate_limit, used, got, left_ms, valid;
END $$;
"""


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _app_role() -> str:
    # As migration 0003 reads it (migrations must not change with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    op.execute(
        sa.text(
            FUNCTION.replace("@schema@", schema)
            .replace("@minutes@", str(SESSION_MINUTES))
            .replace("@extend_within@", EXTEND_WITHIN)
            .replace("@last_used@", LAST_USED_EVERY)
            .replace("@taper@", str(TAPER_SECONDS))
        )
    )
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    app = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app}).scalar():
        op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {_quote(conn, app)}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
