"""API keys that act as their owner (issue 16): scopes, revocation, rotation with a grace
period, last use, rate windows in the database, and the key's own kind of sign-in session.

- api_keys gains `scopes` (text[], the API's scope names, checked against the list), `revoked_at` / `revoked_by`, `created_by`, `last_used_ip`, `rotated_from_id` (the
  key this one replaced) and `grace_until` (an old key of a rotation stops then).
  `key_hash` (SHA-256 of the whole key, hex) is beyond the app role's reach: it may insert
  it but neither read nor change it (column privileges); only `api_key_authenticate`
  (SECURITY DEFINER) compares it.
- auth_sessions gains the method 'api_key' and `api_key_id`: a key's session. Its token is
  derived from the key (`api_key_session_token`), so the API sets it on every unit of work
  without opening a session per request; app_current_user_id() (migration 0012) then
  answers with the key's owner, for row-level security and the audit trail alike.
  Revoking, deactivating or expiring the key ends or shortens the session at once
  (trigger api_key_changed; a deactivated owner's sessions end by auth_user_changed).
- api_rate_windows: one row per key, the requests of its current minute. Counted by
  `api_key_authenticate` in the same statement that checks the key, so several API
  processes share one limit. Sealed (restrictive deny-all; no grants).
- `api_key_authenticate(raw, ip, user_agent)`: in one round trip checks the key's hash,
  expiry, revocation, grace period and owner, counts the rate window, notes the last use
  (at most once a minute, so a busy key is not rewritten per request) and opens or
  extends the key's session (at most once every few minutes).
- `api_usage_record(...)`: a batch of usage rows as one multi-row insert (the API's
  flusher; a key deleted meanwhile leaves its rows without a key).
- Row-level security of api_keys: owners see and revoke their own keys; holders of the
  new permission api_keys.manage (admins) see, create, change and delete all. A trigger
  (api_key_guard) keeps owners to revocation and makes revocation final.
- The audit trigger of api_keys ignores last_used_at and last_used_ip (a key's use is in
  the usage log, not the audit trail) and masks key_hash as before.
- The GDPR subject guard of api_keys watches last_used_ip too, and the subject's keys
  (gdpr_subject_api_keys, for discovery and the export) show scopes, revocation, grace
  period and where the key was last used from.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import os
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")
PERMISSION = ("api_keys.manage", "Create, revoke and rotate API keys for anyone.", ("admin",))

# As core.api_keys.SCOPES says at the time of this migration.
SCOPES = (
    "events:read",
    "events:write",
    "orders:read",
    "orders:write",
    "attendees:read",
    "analytics:read",
    "discounts:read",
    "webhooks:read",
    "webhooks:write",
    "keys:admin",
)
METHODS_BEFORE = ("password", "oidc", "job", "issued")
METHODS = (*METHODS_BEFORE, "api_key")
REASONS_BEFORE = ("signed_out", "deactivated", "password_changed", "erased", "job_finished")
REASONS = (*REASONS_BEFORE, "key_revoked")

# How long a key's session lives after its last extension, and how close to its end a
# request extends it (so a key in use writes its session about once every five minutes).
SESSION_MINUTES = 10
EXTEND_WITHIN = "5 minutes"
LAST_USED_EVERY = "1 minute"

# The audit trigger of api_keys (key, masked, ignored) before and after, and the subject
# guard's arguments (link, emails, personal, anonymised flag) before and after.
AUDIT_BEFORE = ("id", "key_hash", "")
AUDIT = ("id", "key_hash", "last_used_at,last_used_ip")
GUARD_BEFORE = ("user_id", "", "name,key_hash", "")
GUARD = ("user_id", "", "name,key_hash,last_used_ip", "")
# core.gdpr.categories.REGISTRY.guards() of the tables whose guard this migration
# reinstalls (0014 installed it first): (table, link, emails, personal, flag).
GUARDED_AGAIN: tuple[tuple[str, str, str, str, str], ...] = (("api_keys", *GUARD),)

MANAGE = "(SELECT app_has_permission('api_keys.manage'))"
UID = "(SELECT app_current_user_id())"
POLICIES = (
    ("api_keys_select", "SELECT", f"user_id = {UID} OR {MANAGE}", None),
    ("api_keys_insert", "INSERT", None, MANAGE),
    ("api_keys_update", "UPDATE", f"user_id = {UID} OR {MANAGE}", f"user_id = {UID} OR {MANAGE}"),
    ("api_keys_delete", "DELETE", MANAGE, None),
)
OLD_POLICY = ("api_keys_own", "ALL", f"user_id = {UID}", f"user_id = {UID}")

# What the app role may read and change of api_keys (never key_hash; the owner and the
# identity of a key are fixed once it exists).
READABLE = (
    "id",
    "name",
    "key_prefix",
    "user_id",
    "permissions",
    "rate_limit",
    "is_active",
    "expires_at",
    "last_used_at",
    "created_at",
    "updated_at",
    "scopes",
    "revoked_at",
    "revoked_by",
    "created_by",
    "last_used_ip",
    "rotated_from_id",
    "grace_until",
)
WRITABLE = (
    "name",
    "rate_limit",
    "is_active",
    "expires_at",
    "updated_at",
    "scopes",
    "revoked_at",
    "revoked_by",
    "grace_until",
)

FUNCTIONS = r"""
-- The session token of a key: derived, so the key's holder can name its session without
-- the database keeping anything it could be recomputed from (only sha256 of this token
-- is stored in auth_sessions, only sha256 of the key in api_keys).
CREATE FUNCTION api_key_session_token(p_raw text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT 'aks_' || encode(sha256(convert_to('fashionistas-api-key-session:' || p_raw, 'UTF8')),
                          'hex')
$$;

CREATE FUNCTION api_key_authenticate(p_raw text, p_ip text, p_user_agent text,
                                     p_count boolean DEFAULT true)
RETURNS TABLE (status text, key_id uuid, owner_id uuid, scopes text[], rate_limit integer,
               hits integer, reset_seconds integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
#variable_conflict use_column
DECLARE
  k record;
  n integer;
  window_start timestamptz := date_trunc('minute', now());
  reset integer;
  session_hash text;
  valid_until timestamptz;
BEGIN
  -- What this writes (a rate count, the last use, a session extension) may be lost in a
  -- crash without harm, so its commit need not wait for the WAL flush: the setting is
  -- transaction-local and outlives this function (its SET clause names search_path only).
  PERFORM set_config('synchronous_commit', 'off', true);
  IF p_raw IS NULL OR p_raw = '' OR length(p_raw) > 200 THEN
    RETURN QUERY SELECT 'unauthenticated', NULL::uuid, NULL::uuid, NULL::text[], NULL::integer,
                        NULL::integer, NULL::integer;
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
                        NULL::integer, NULL::integer;
    RETURN;
  END IF;

  IF p_count THEN
    INSERT INTO api_rate_windows AS w (api_key_id, window_start, hits)
    VALUES (k.id, window_start, 1)
    ON CONFLICT (api_key_id) DO UPDATE
       SET hits = CASE WHEN w.window_start = EXCLUDED.window_start THEN w.hits + 1 ELSE 1 END,
           window_start = EXCLUDED.window_start
    RETURNING w.hits INTO n;
  ELSE
    n := 0;  -- rate limiting switched off by the caller (benchmarks, trusted deployments)
  END IF;
  reset := greatest(1, ceil(extract(epoch FROM window_start + interval '1 minute' - now())));
  IF n > k.rate_limit THEN
    RETURN QUERY SELECT 'rate_limited', k.id, k.user_id, k.scopes, k.rate_limit, n, reset;
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
    -- Rarely (every few minutes per key): lock the key and its owner against a revocation
    -- or deactivation committing meanwhile (a lock waits for it, then sees its result), so
    -- an ended session is never reopened for a key revoked or an owner deactivated since.
    PERFORM 1 FROM api_keys a JOIN users u ON u.id = a.user_id
     WHERE a.id = k.id AND a.revoked_at IS NULL AND a.is_active
       AND u.status = 'active' AND NOT u.is_anonymized
       FOR SHARE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT 'unauthenticated', NULL::uuid, NULL::uuid, NULL::text[],
                          NULL::integer, NULL::integer, NULL::integer;
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
  RETURN QUERY SELECT 'ok', k.id, k.user_id, k.scopes, k.rate_limit, n, reset;
END $$;

-- A key revoked, deactivated, or given an earlier end: its session follows at once.
CREATE FUNCTION api_key_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF NEW.revoked_at IS NOT NULL OR NOT NEW.is_active THEN
    UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'key_revoked'
     WHERE api_key_id = NEW.id AND revoked_at IS NULL;
  ELSE
    UPDATE auth_sessions
       SET expires_at = least(expires_at, coalesce(NEW.expires_at, 'infinity'),
                              coalesce(NEW.grace_until, 'infinity'))
     WHERE api_key_id = NEW.id AND revoked_at IS NULL;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER api_key_changed AFTER UPDATE OF revoked_at, is_active, expires_at, grace_until
ON api_keys FOR EACH ROW EXECUTE FUNCTION api_key_changed();

-- An owner may revoke their own key (their policy lets them update it), nothing more:
-- scopes, limit, expiry, name and grace period are for api_keys.manage; and a revoked key
-- stays revoked, for everyone. The owner role (migrations, api_key_authenticate noting
-- the last use) is not asked.
CREATE FUNCTION api_key_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID),
                 'MEMBER') THEN
    RETURN NEW;
  END IF;
  IF (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at)
     OR (NOT OLD.is_active AND NEW.is_active) THEN
    RAISE EXCEPTION 'a revoked API key cannot be restored; make a new one'
      USING ERRCODE = '42501';
  END IF;
  IF (NEW.name, NEW.rate_limit, NEW.expires_at, NEW.scopes, NEW.grace_until)
     IS DISTINCT FROM (OLD.name, OLD.rate_limit, OLD.expires_at, OLD.scopes, OLD.grace_until)
     AND NOT coalesce(app_has_permission('api_keys.manage'), false) THEN
    RAISE EXCEPTION 'changing an API key needs api_keys.manage; its owner may only revoke it'
      USING ERRCODE = '42501';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER api_key_guard BEFORE UPDATE ON api_keys
FOR EACH ROW EXECUTE FUNCTION api_key_guard();

-- A batch of usage rows in one insert (the API's flusher runs it every half second).
CREATE FUNCTION api_usage_record(p_key_ids uuid[], p_methods text[], p_paths text[],
                                 p_statuses integer[], p_durations integer[],
                                 p_request_bytes integer[], p_response_bytes integer[],
                                 p_ips text[], p_agents text[], p_at timestamptz[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  INSERT INTO api_usage_logs (api_key_id, method, endpoint, status_code, response_time_ms,
                              request_size_bytes, response_size_bytes, ip_address,
                              user_agent, created_at)
  SELECT k.id, left(r.m, 16), left(r.p, 2048), r.s, greatest(r.d, 0), greatest(r.rq, 0),
         greatest(r.rs, 0), left(r.ip, 45), left(r.ua, 1000), coalesce(r.at, now())
    FROM unnest(p_key_ids, p_methods, p_paths, p_statuses, p_durations, p_request_bytes,
                p_response_bytes, p_ips, p_agents, p_at) AS r(k, m, p, s, d, rq, rs, ip, ua, at)
    LEFT JOIN api_keys k ON k.id = r.k;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
"""

# The subject's keys for discovery and the export (migration 0006's, with what 0016 adds:
# where a key was last used from is the person's data too). Never the hash.
SUBJECT_KEYS = r"""
CREATE FUNCTION gdpr_subject_api_keys(p_user uuid)
RETURNS TABLE (id uuid, name text, key_prefix text, permissions jsonb, is_active boolean,
               expires_at timestamptz, last_used_at timestamptz, created_at timestamptz,
               scopes text[], revoked_at timestamptz, last_used_ip text,
               grace_until timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM gdpr_assert_allowed();
  RETURN QUERY
    SELECT k.id, k.name, k.key_prefix, k.permissions, k.is_active, k.expires_at,
           k.last_used_at, k.created_at, k.scopes, k.revoked_at, k.last_used_ip::text,
           k.grace_until
      FROM api_keys k WHERE k.user_id = p_user ORDER BY k.created_at;
END $$;
"""
SUBJECT_KEYS_BEFORE = r"""
CREATE FUNCTION gdpr_subject_api_keys(p_user uuid)
RETURNS TABLE (id uuid, name text, key_prefix text, permissions jsonb, is_active boolean,
               expires_at timestamptz, last_used_at timestamptz, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM gdpr_assert_allowed();
  RETURN QUERY
    SELECT k.id, k.name, k.key_prefix, k.permissions, k.is_active, k.expires_at,
           k.last_used_at, k.created_at
      FROM api_keys k WHERE k.user_id = p_user ORDER BY k.created_at;
END $$;
"""


def _subject_keys(conn: sa.Connection, sql: str, schema: str) -> None:
    op.execute("DROP FUNCTION gdpr_subject_api_keys(uuid)")
    op.execute(sa.text(sql.replace("@schema@", schema)))
    op.execute("REVOKE ALL ON FUNCTION gdpr_subject_api_keys(uuid) FROM PUBLIC")
    app = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app}).scalar():
        op.execute(f"GRANT EXECUTE ON FUNCTION gdpr_subject_api_keys(uuid) TO {_quote(conn, app)}")


GRANTS = (
    ("api_key_session_token(text)", True),
    ("api_key_authenticate(text, text, text, boolean)", True),
    ("api_key_changed()", False),
    ("api_key_guard()", False),
    (
        "api_usage_record(uuid[], text[], text[], integer[], integer[], integer[], integer[],"
        " text[], text[], timestamptz[])",
        True,
    ),
)


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _app_role() -> str:
    # As migration 0003 reads it (migrations must not change with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _audit_trigger(args: tuple[str, str, str]) -> None:
    quoted = ", ".join(f"'{a}'" for a in args)
    op.execute("DROP TRIGGER audit_trail ON api_keys")
    op.execute(
        "CREATE TRIGGER audit_trail AFTER INSERT OR UPDATE OR DELETE ON api_keys"
        f" FOR EACH ROW EXECUTE FUNCTION audit_row_change({quoted})"
    )


def _guard_trigger(args: tuple[str, str, str, str]) -> None:
    op.execute("DROP TRIGGER gdpr_subject_guard_update ON api_keys")
    op.execute("DROP TRIGGER gdpr_subject_guard ON api_keys")
    quoted = ", ".join(f"'{a}'" for a in args)
    watched = [c for part in args for c in part.split(",") if c]
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
    op.execute(
        "CREATE TRIGGER gdpr_subject_guard BEFORE INSERT ON api_keys"
        f" FOR EACH ROW EXECUTE FUNCTION gdpr_subject_guard({quoted})"
    )
    op.execute(
        "CREATE TRIGGER gdpr_subject_guard_update BEFORE UPDATE ON api_keys"
        f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION gdpr_subject_guard({quoted})"
    )


def _session_checks(methods: Sequence[str], reasons: Sequence[str]) -> None:
    op.drop_constraint("ck_auth_sessions_method_allowed", "auth_sessions")
    op.create_check_constraint(
        op.f("ck_auth_sessions_method_allowed"), "auth_sessions", _in("method", methods)
    )
    op.drop_constraint("ck_auth_sessions_revoked_reason_allowed", "auth_sessions")
    op.create_check_constraint(
        op.f("ck_auth_sessions_revoked_reason_allowed"),
        "auth_sessions",
        _in("revoked_reason", reasons),
    )


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())

    op.add_column(
        "api_keys",
        sa.Column(
            "scopes",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column("api_keys", sa.Column("revoked_at", sa.TIMESTAMP(timezone=True)))
    op.add_column("api_keys", sa.Column("revoked_by", sa.Uuid()))
    op.add_column("api_keys", sa.Column("created_by", sa.Uuid()))
    op.add_column("api_keys", sa.Column("last_used_ip", sa.String(45)))
    op.add_column("api_keys", sa.Column("rotated_from_id", sa.Uuid()))
    op.add_column("api_keys", sa.Column("grace_until", sa.TIMESTAMP(timezone=True)))
    for column, target in (
        ("revoked_by", "users"),
        ("created_by", "users"),
        ("rotated_from_id", "api_keys"),
    ):
        op.create_foreign_key(
            op.f(f"fk_api_keys_{column}_{target}"),
            "api_keys",
            target,
            [column],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index("idx_api_keys_rotated_from_id", "api_keys", ["rotated_from_id"])
    op.create_check_constraint(
        op.f("ck_api_keys_scopes_known"),
        "api_keys",
        # The bounds first, in the form tests/test_text_limits.py recognises.
        f"cardinality(scopes) <= {len(SCOPES)} AND text_array_longest(scopes) <= 32"
        f" AND scopes <@ ARRAY[{', '.join(repr(s) for s in SCOPES)}]",
    )
    op.create_check_constraint(
        op.f("ck_api_keys_revoked_with_time"),
        "api_keys",
        "revoked_by IS NULL OR revoked_at IS NOT NULL",
    )

    op.add_column("auth_sessions", sa.Column("api_key_id", sa.Uuid()))
    op.create_foreign_key(
        op.f("fk_auth_sessions_api_key_id_api_keys"),
        "auth_sessions",
        "api_keys",
        ["api_key_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index("idx_auth_sessions_api_key_id", "auth_sessions", ["api_key_id"])
    _session_checks(METHODS, REASONS)
    op.create_check_constraint(
        op.f("ck_auth_sessions_api_key_with_method"),
        "auth_sessions",
        "(method = 'api_key') = (api_key_id IS NOT NULL)",
    )

    op.create_table(
        "api_rate_windows",
        sa.Column("api_key_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.CheckConstraint("hits > 0", name=op.f("ck_api_rate_windows_hits_positive")),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_rate_windows_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("api_key_id", name=op.f("pk_api_rate_windows")),
    )
    op.execute("ALTER TABLE api_rate_windows ENABLE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY api_rate_windows_nobody ON api_rate_windows AS RESTRICTIVE FOR ALL"
        " TO PUBLIC USING (false) WITH CHECK (false)"
    )
    op.execute("REVOKE ALL ON api_rate_windows FROM PUBLIC")

    op.execute(
        sa.text(
            FUNCTIONS.replace("@schema@", schema)
            .replace("@minutes@", str(SESSION_MINUTES))
            .replace("@extend_within@", EXTEND_WITHIN)
            .replace("@last_used@", LAST_USED_EVERY)
        )
    )

    name, description, holders = PERMISSION
    resource, action = name.split(".")
    conn.execute(
        sa.text(
            "INSERT INTO permissions (id, name, description, resource, action)"
            " VALUES (:i, :n, :d, :r, :a)"
            " ON CONFLICT (resource, action) DO UPDATE SET name = EXCLUDED.name,"
            " description = EXCLUDED.description"
        ),
        {
            "i": uuid.uuid5(_NAMESPACE, f"permission:{name}"),
            "n": name,
            "d": description,
            "r": resource,
            "a": action,
        },
    )
    for holder in holders:
        conn.execute(
            sa.text(
                "INSERT INTO role_permissions (id, role_id, permission_id)"
                " SELECT :i, r.id, p.id FROM roles r, permissions p"
                " WHERE r.name = :r AND p.name = :p ON CONFLICT DO NOTHING"
            ),
            {"i": uuid.uuid5(_NAMESPACE, f"grant:{holder}:{name}"), "r": holder, "p": name},
        )

    op.execute(f"DROP POLICY {OLD_POLICY[0]} ON api_keys")
    for policy, command, using, check in POLICIES:
        clauses = f" USING ({using})" if using else ""
        clauses += f" WITH CHECK ({check})" if check else ""
        op.execute(f"CREATE POLICY {policy} ON api_keys FOR {command} TO PUBLIC{clauses}")

    _audit_trigger(AUDIT)
    _guard_trigger(GUARD)
    _subject_keys(conn, SUBJECT_KEYS, schema)

    app = _app_role()
    exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app}).scalar()
    for signature, granted in GRANTS:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        if granted and exists:
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {_quote(conn, app)}")
    if exists:
        ident = _quote(conn, app)
        op.execute(f"REVOKE ALL ON api_rate_windows FROM {ident}")
        op.execute(f"REVOKE SELECT, UPDATE ON api_keys FROM {ident}")
        op.execute(f"GRANT SELECT ({', '.join(READABLE)}) ON api_keys TO {ident}")
        op.execute(f"GRANT UPDATE ({', '.join(WRITABLE)}) ON api_keys TO {ident}")


def downgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    _subject_keys(conn, SUBJECT_KEYS_BEFORE, schema)
    app = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app}).scalar():
        ident = _quote(conn, app)
        op.execute(f"REVOKE SELECT ({', '.join(READABLE)}) ON api_keys FROM {ident}")
        op.execute(f"REVOKE UPDATE ({', '.join(WRITABLE)}) ON api_keys FROM {ident}")
        op.execute(f"GRANT SELECT, UPDATE ON api_keys TO {ident}")
    _guard_trigger(GUARD_BEFORE)
    _audit_trigger(AUDIT_BEFORE)
    for policy, *_ in POLICIES:
        op.execute(f"DROP POLICY {policy} ON api_keys")
    policy, command, using, check = OLD_POLICY
    op.execute(
        f"CREATE POLICY {policy} ON api_keys FOR {command} TO PUBLIC USING ({using})"
        f" WITH CHECK ({check})"
    )
    conn.execute(
        sa.text("DELETE FROM role_permissions WHERE permission_id = :p"),
        {"p": uuid.uuid5(_NAMESPACE, f"permission:{PERMISSION[0]}")},
    )
    conn.execute(sa.text("DELETE FROM permissions WHERE name = :n"), {"n": PERMISSION[0]})

    op.execute("DROP TRIGGER api_key_guard ON api_keys")
    op.execute("DROP TRIGGER api_key_changed ON api_keys")
    for signature, _ in reversed(GRANTS):
        op.execute(f"DROP FUNCTION {signature}")
    op.drop_table("api_rate_windows")

    op.execute(
        "DELETE FROM auth_sessions WHERE method = 'api_key' OR revoked_reason = 'key_revoked'"
    )
    op.drop_constraint("ck_auth_sessions_api_key_with_method", "auth_sessions")
    _session_checks(METHODS_BEFORE, REASONS_BEFORE)
    op.drop_index("idx_auth_sessions_api_key_id", table_name="auth_sessions")
    op.drop_constraint("fk_auth_sessions_api_key_id_api_keys", "auth_sessions")
    op.drop_column("auth_sessions", "api_key_id")

    op.drop_constraint("ck_api_keys_revoked_with_time", "api_keys")
    op.drop_constraint("ck_api_keys_scopes_known", "api_keys")
    op.drop_index("idx_api_keys_rotated_from_id", table_name="api_keys")
    for column, target in (
        ("revoked_by", "users"),
        ("created_by", "users"),
        ("rotated_from_id", "api_keys"),
    ):
        op.drop_constraint(f"fk_api_keys_{column}_{target}", "api_keys")
    for column in (
        "grace_until",
        "rotated_from_id",
        "last_used_ip",
        "created_by",
        "revoked_by",
        "revoked_at",
        "scopes",
    ):
        op.drop_column("api_keys", column)
