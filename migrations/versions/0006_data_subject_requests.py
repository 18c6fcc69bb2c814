"""GDPR data-subject requests: discovery, export, erasure, restriction (issue 6).

- users.marketing_restricted_at: a restricted person is left out of marketing (segments'
  sizes and sends, campaigns) until the restriction is lifted.
- data_subject_requests: the export a request is based on (job, file, time, fingerprint of
  the data exported) and an outcome summary (counts, field names; never personal data);
  a trigger refuses illegal status moves (pending -> processing -> completed, or
  pending/processing -> rejected; completed and rejected are final).
- SECURITY DEFINER functions (fixed search_path), each refusing unless the acting person
  holds compliance.manage (or, with no acting person, the caller is the owner itself):
  * audit_redact(terms): overwrites every case-insensitive occurrence of the terms (also
    JSON-escaped) in audit_logs.old_data/new_data with '[erased]' and flags the rows
    is_redacted; no other column changes and no row is deleted.
  * audit_redact_fields(table, record ids, fields): the same for named fields of the
    entries of named records (a profile's last name, bio, address).
  * gdpr_scan(terms): counts, per table and column, the rows of every text, varchar, json,
    jsonb and text-array column of every table in the schema (partitions and materialized
    views included) that still hold one of the terms.
  * gdpr_subject_webhooks / gdpr_subject_api_keys / gdpr_erase_owned: the subject's own
    webhooks and API keys, which row-level security shows only to their owner.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = r"""
-- Who may call the GDPR functions: a person holding compliance.manage, or the owner itself
-- when no person acts (command line, migrations, tests arranging data).
CREATE FUNCTION gdpr_assert_allowed() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF app_current_user_id() IS NULL THEN
    IF session_user::text = current_user::text THEN
      RETURN;
    END IF;
  ELSIF app_has_permission('compliance.manage') THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'not allowed: this needs compliance.manage' USING ERRCODE = '42501';
END $$;

-- One case-insensitive regular expression matching any of the terms, as written and as
-- they appear inside JSON text (quotes and backslashes escaped). Terms shorter than three
-- characters are ignored: they would match almost everything. NULL when none is left.
CREATE FUNCTION gdpr_pattern(p_terms text[]) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = @schema@, pg_temp AS $$
  SELECT '(' || string_agg(DISTINCT regexp_replace(f, '([.^$*+?()\[\]{}|\\-])', '\\\1', 'g'),
                           '|') || ')'
    FROM (SELECT t FROM unnest(p_terms) t WHERE length(btrim(t)) >= 3) terms,
         LATERAL (VALUES (t), (substr(to_jsonb(t)::text, 2, length(to_jsonb(t)::text) - 2))) v(f)
$$;

-- The same terms as lower-case LIKE patterns ('%term%', wildcards escaped): finding rows
-- with lower(x) LIKE ANY (...) is about five times faster than with the regular
-- expression (bench/gdpr.py); the expression then only rewrites the rows found.
CREATE FUNCTION gdpr_like_patterns(p_terms text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE SET search_path = @schema@, pg_temp AS $$
  SELECT array_agg(DISTINCT '%' || replace(replace(replace(lower(f), '\', '\\'), '%', '\%'),
                                            '_', '\_') || '%')
    FROM (SELECT t FROM unnest(p_terms) t WHERE length(btrim(t)) >= 3) terms,
         LATERAL (VALUES (t), (substr(to_jsonb(t)::text, 2, length(to_jsonb(t)::text) - 2))) v(f)
$$;

CREATE FUNCTION audit_redact(p_terms text[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  pattern text := gdpr_pattern(p_terms);
  likes text[] := gdpr_like_patterns(p_terms);
  changed bigint;
BEGIN
  PERFORM gdpr_assert_allowed();
  IF pattern IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE audit_logs
     SET old_data = CASE WHEN old_data::text ~* pattern
                         THEN regexp_replace(old_data::text, pattern, '[erased]', 'gi')::jsonb
                         ELSE old_data END,
         new_data = CASE WHEN new_data::text ~* pattern
                         THEN regexp_replace(new_data::text, pattern, '[erased]', 'gi')::jsonb
                         ELSE new_data END,
         is_redacted = true
   WHERE lower(old_data::text) LIKE ANY (likes) OR lower(new_data::text) LIKE ANY (likes);
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END $$;

-- The audit entries of given records, with the values of given fields overwritten (a
-- person's last name or bio is no term to search everyone's entries for, but in the
-- entries of their own profile it is theirs). Same guarantees as audit_redact.
CREATE FUNCTION audit_redact_fields(p_table text, p_record_ids text[], p_fields text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  changed bigint;
BEGIN
  PERFORM gdpr_assert_allowed();
  UPDATE audit_logs
     SET old_data = gdpr_erase_keys(old_data, p_fields),
         new_data = gdpr_erase_keys(new_data, p_fields),
         is_redacted = true
   WHERE table_name = p_table AND record_id = ANY(p_record_ids)
     AND (old_data ?| p_fields OR new_data ?| p_fields);
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END $$;

-- `doc` with the non-null values of `keys` replaced by "[erased]" (objects only).
CREATE FUNCTION gdpr_erase_keys(doc jsonb, keys text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = @schema@, pg_temp AS $$
  SELECT CASE WHEN doc IS NULL OR jsonb_typeof(doc) <> 'object' OR NOT doc ?| keys THEN doc
         ELSE coalesce((SELECT jsonb_object_agg(e.key,
                          CASE WHEN e.key = ANY(keys) AND e.value <> 'null'::jsonb
                               THEN '"[erased]"'::jsonb ELSE e.value END)
                          FROM jsonb_each(doc) e), '{}'::jsonb) END
$$;

-- Every column that can hold text: text-like scalars, json, jsonb and arrays of those.
CREATE FUNCTION gdpr_scan(p_terms text[])
RETURNS TABLE (table_name text, column_name text, hits bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  likes text[] := gdpr_like_patterns(p_terms);
  rel record;
  counts bigint[];
BEGIN
  PERFORM gdpr_assert_allowed();
  IF likes IS NULL THEN
    RETURN;
  END IF;
  FOR rel IN
    SELECT c.oid, c.relname,
           array_agg(a.attname::text ORDER BY a.attnum) AS cols
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm') AND c.relispopulated
       AND (t.typcategory = 'S' OR t.typname IN ('json', 'jsonb')
            OR e.typcategory = 'S' OR e.typname IN ('json', 'jsonb'))
     GROUP BY c.oid, c.relname
     ORDER BY c.relname
  LOOP
    EXECUTE format('SELECT ARRAY[%s] FROM ONLY %s',
                   (SELECT string_agg(format('count(*) FILTER (WHERE lower(%I::text) LIKE ANY ($1))', col),
                                      ', ')
                      FROM unnest(rel.cols) col),
                   rel.oid::regclass)
       INTO counts USING likes;
    FOR i IN 1 .. array_length(rel.cols, 1) LOOP
      IF counts[i] > 0 THEN
        table_name := rel.relname;
        column_name := rel.cols[i];
        hits := counts[i];
        RETURN NEXT;
      END IF;
    END LOOP;
  END LOOP;
END $$;

-- Row-level security shows webhooks and API keys only to their owner; discovery and
-- erasure need the subject's, and nothing else.
CREATE FUNCTION gdpr_subject_webhooks(p_user uuid)
RETURNS TABLE (id uuid, name text, description text, url text, events text[],
               is_active boolean, created_at timestamptz, deliveries bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM gdpr_assert_allowed();
  RETURN QUERY
    SELECT w.id, w.name, w.description, w.url, w.events, w.is_active, w.created_at,
           (SELECT count(*) FROM webhook_delivery_logs d WHERE d.webhook_id = w.id)
      FROM webhooks w WHERE w.user_id = p_user ORDER BY w.created_at;
END $$;

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

-- Erasure: the subject's webhooks go (their delivery logs cascade), and so do their API
-- keys (usage logs keep their figures, the key reference set to NULL).
CREATE FUNCTION gdpr_erase_owned(p_user uuid)
RETURNS TABLE (webhooks bigint, api_keys bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  w bigint;
  k bigint;
BEGIN
  PERFORM gdpr_assert_allowed();
  DELETE FROM webhooks WHERE user_id = p_user;
  GET DIAGNOSTICS w = ROW_COUNT;
  DELETE FROM api_keys WHERE user_id = p_user;
  GET DIAGNOSTICS k = ROW_COUNT;
  webhooks := w;
  api_keys := k;
  RETURN NEXT;
END $$;

-- pending -> processing -> completed; pending or processing -> rejected; nothing leaves
-- completed or rejected. The services say so first; this keeps any other writer honest.
CREATE FUNCTION data_subject_requests_status_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status AND NOT (
       (OLD.status = 'pending' AND NEW.status IN ('processing', 'rejected'))
    OR (OLD.status = 'processing' AND NEW.status IN ('completed', 'rejected'))) THEN
    RAISE EXCEPTION 'a % request cannot become %', OLD.status, NEW.status
      USING ERRCODE = 'check_violation',
            CONSTRAINT = 'ck_data_subject_requests_status_transition';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER status_transition BEFORE UPDATE OF status ON data_subject_requests
FOR EACH ROW EXECUTE FUNCTION data_subject_requests_status_guard();
"""

DEFINER_FUNCTIONS = (
    "gdpr_assert_allowed()",
    "audit_redact(text[])",
    "audit_redact_fields(text, text[], text[])",
    "gdpr_scan(text[])",
    "gdpr_subject_webhooks(uuid)",
    "gdpr_subject_api_keys(uuid)",
    "gdpr_erase_owned(uuid)",
)


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    role = _quote(conn, os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app")

    op.add_column("users", sa.Column("marketing_restricted_at", sa.TIMESTAMP(timezone=True)))
    op.create_index(
        "idx_users_marketing_restricted_at",
        "users",
        ["marketing_restricted_at"],
        postgresql_where=sa.text("marketing_restricted_at IS NOT NULL"),
    )

    op.add_column(
        "data_subject_requests",
        sa.Column(
            "export_job_id",
            sa.Uuid(),
            sa.ForeignKey(
                "background_jobs.id",
                name="fk_data_subject_requests_export_job_id_background_jobs",
                ondelete="SET NULL",
            ),
        ),
    )
    op.add_column("data_subject_requests", sa.Column("export_file", sa.Text()))
    op.add_column("data_subject_requests", sa.Column("exported_at", sa.TIMESTAMP(timezone=True)))
    op.add_column("data_subject_requests", sa.Column("export_fingerprint", sa.Text()))
    op.add_column(
        "data_subject_requests",
        sa.Column("outcome", sa.dialects.postgresql.JSONB(), nullable=True),
    )
    op.create_index(
        "idx_data_subject_requests_export_job_id", "data_subject_requests", ["export_job_id"]
    )

    op.execute(sa.text(FUNCTIONS.replace("@schema@", schema)))
    # Functions are executable by PUBLIC by default; the definer ones only by the app.
    for signature in DEFINER_FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {role}")
    op.execute(f"GRANT EXECUTE ON FUNCTION gdpr_pattern(text[]) TO {role}")
    op.execute(f"GRANT EXECUTE ON FUNCTION gdpr_like_patterns(text[]) TO {role}")
    op.execute(f"GRANT EXECUTE ON FUNCTION gdpr_erase_keys(jsonb, text[]) TO {role}")


def downgrade() -> None:
    op.execute("DROP TRIGGER status_transition ON data_subject_requests")
    op.execute("DROP FUNCTION data_subject_requests_status_guard()")
    for signature in reversed(DEFINER_FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
    op.execute("DROP FUNCTION gdpr_pattern(text[])")
    op.execute("DROP FUNCTION gdpr_like_patterns(text[])")
    op.execute("DROP FUNCTION gdpr_erase_keys(jsonb, text[])")
    op.drop_index("idx_data_subject_requests_export_job_id", table_name="data_subject_requests")
    for column in ("outcome", "export_fingerprint", "exported_at", "export_file", "export_job_id"):
        op.drop_column("data_subject_requests", column)
    op.drop_index("idx_users_marketing_restricted_at", table_name="users")
    op.drop_column("users", "marketing_restricted_at")
