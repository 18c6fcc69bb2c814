"""Retention policy and payment-detail encryption keys (issue 6).

- Seeds one `system_configurations` row per retention category (category `retention`,
  ISO 8601 durations), with fixed uuid5 ids so the demo loader's copy of the same rows
  merges into them.
- `encryption_active_key(name)`, `encryption_key_for(id)`: the key version to encrypt with
  and the one a ciphertext names (SECURITY DEFINER: a person decrypting their own payment
  details may not read the admin-only registry).
- `retention_period(key)`: a category's period as an interval (a JSON number counts days).
- `retention_partitions(table, key, cutoff, drop)`: the monthly partitions of a log table
  that lie wholly before `cutoff`, with their row counts; with `drop` it drops them.
  SECURITY DEFINER because the app role does not own the tables; it refuses any table
  but the two whose whole rows expire (api_usage_logs, user_engagement) and any cutoff
  later than the category's own period allows.

No key material and no new table: encryption is done in Python (core/crypto) and
`encryption_keys` (migration 0001) only records versions and where each key lives.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import os
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")

# The defaults as they were when this migration was written (core/retention may grow; a
# migration must not change under an existing database). (key, ISO 8601 period, description)
RETENTION_DEFAULTS = (
    ("inventory_locks", "P1D", "Expired ticket and seat holds are deleted after this."),
    ("background_jobs", "P90D", "Finished background jobs are deleted after this."),
    ("domain_events", "P90D", "Processed outbox events are deleted after this."),
    ("webhook_deliveries", "P90D", "Finished webhook deliveries are deleted after this."),
    ("api_usage_logs", "P1Y", "API usage log entries are deleted after this."),
    ("user_engagement", "P2Y", "Engagement tracking rows are deleted after this."),
    ("reset_tokens", "P7D", "Expired password reset tokens are cleared after this."),
    ("inactive_users", "P3Y", "Inactive accounts are anonymised this long after last sign-in."),
    ("orders", "P7Y", "Orders lose their personal data (amounts stay) after this."),
)

# Tables whose expired months may be dropped whole, and the retention key that governs them.
PARTITION_DROPS = {"api_usage_logs": "api_usage_logs", "user_engagement": "user_engagement"}

FUNCTIONS = r"""
-- Which key version encrypts, and which one a ciphertext names. Key references are names of
-- configuration entries, not keys; a person reading their own payment details needs them
-- although row-level security keeps the registry itself for admins.
CREATE FUNCTION encryption_active_key(p_name text)
RETURNS TABLE (id uuid, key_version integer, key_reference text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT id, key_version, key_reference FROM encryption_keys
   WHERE key_name = p_name AND is_active
$$;

CREATE FUNCTION encryption_key_for(p_id uuid)
RETURNS TABLE (key_name text, key_version integer, key_reference text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT key_name, key_version, key_reference FROM encryption_keys WHERE id = p_id
$$;

CREATE FUNCTION retention_period(p_key text) RETURNS interval
LANGUAGE sql STABLE SET search_path = {schema}, pg_temp AS $$
  SELECT CASE jsonb_typeof(value)
           WHEN 'number' THEN make_interval(days => (value #>> '{{}}')::numeric::int)
           ELSE (value #>> '{{}}')::interval END
    FROM system_configurations WHERE category = 'retention' AND key = p_key
$$;

CREATE FUNCTION retention_partitions(p_table text, p_key text, p_cutoff timestamptz,
                                     p_drop boolean)
RETURNS TABLE (partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  allowed constant jsonb := '{allowed}'::jsonb;
  period interval;
  part record;
  upper_bound timestamptz;
BEGIN
  IF allowed ->> p_table IS DISTINCT FROM p_key THEN
    RAISE EXCEPTION 'retention may not drop partitions of % for %', p_table, p_key
      USING ERRCODE = '42501';
  END IF;
  period := retention_period(p_key);
  IF period IS NULL OR period <= interval '0' OR p_cutoff > now() - period THEN
    RAISE EXCEPTION 'cutoff % is inside the retention period of %', p_cutoff, p_key
      USING ERRCODE = '22023';
  END IF;
  FOR part IN
    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = p_table::regclass ORDER BY c.relname
  LOOP
    CONTINUE WHEN part.bound = 'DEFAULT';
    upper_bound := substring(part.bound FROM $re$TO \('([^']+)'\)$re$)::timestamptz;
    CONTINUE WHEN upper_bound IS NULL OR upper_bound > p_cutoff;
    partition_name := part.relname;
    EXECUTE format('SELECT count(*) FROM %I', part.relname) INTO row_count;
    IF p_drop THEN
      EXECUTE format('DROP TABLE %I', part.relname);
    END IF;
    RETURN NEXT;
  END LOOP;
END $$;
"""


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def setting_id(key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"setting:retention:{key}")


def upgrade() -> None:
    conn = op.get_bind()
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    for key, period, description in RETENTION_DEFAULTS:
        conn.execute(
            sa.text(
                "INSERT INTO system_configurations"
                " (id, category, key, value, value_type, description)"
                " VALUES (:i, 'retention', :k, to_jsonb(CAST(:v AS text)), 'duration', :d)"
                " ON CONFLICT (category, key) DO NOTHING"
            ),
            {"i": setting_id(key), "k": key, "v": period, "d": description},
        )
    allowed = "{" + ", ".join(f'"{t}": "{k}"' for t, k in PARTITION_DROPS.items()) + "}"
    op.execute(sa.text(FUNCTIONS.format(schema=_quote(conn, schema), allowed=allowed)))
    # Dropping partitions is the owner's power lent out: only the app role may borrow it.
    op.execute(
        "REVOKE EXECUTE ON FUNCTION retention_partitions(text, text, timestamptz, boolean)"
        " FROM PUBLIC"
    )
    role = os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        ident = _quote(conn, role)
        op.execute(f"GRANT EXECUTE ON FUNCTION retention_period(text) TO {ident}")
        op.execute(f"GRANT EXECUTE ON FUNCTION encryption_active_key(text) TO {ident}")
        op.execute(f"GRANT EXECUTE ON FUNCTION encryption_key_for(uuid) TO {ident}")
        op.execute(
            "GRANT EXECUTE ON FUNCTION retention_partitions(text, text, timestamptz, boolean)"
            f" TO {ident}"
        )


def downgrade() -> None:
    op.execute("DROP FUNCTION retention_partitions(text, text, timestamptz, boolean)")
    op.execute("DROP FUNCTION retention_period(text)")
    op.execute("DROP FUNCTION encryption_key_for(uuid)")
    op.execute("DROP FUNCTION encryption_active_key(text)")
    op.execute(
        sa.text("DELETE FROM system_configurations WHERE category = 'retention' AND id = ANY(:i)")
        .bindparams(sa.bindparam("i", type_=sa.ARRAY(sa.Uuid())))
        .bindparams(i=[setting_id(k) for k, _, _ in RETENTION_DEFAULTS])
    )
