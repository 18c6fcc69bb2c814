"""GDPR: erasure serialised with every writer of a person's data; reviewed scan matches.

- Subject locks (issue 15, finding 1). An erasure registers its person with
  gdpr_lock_subject(account, e-mails): it takes the barrier (one session-level advisory
  lock, GDPR_BARRIER) exclusively, which waits until every write of personal data in
  flight has committed, takes a transaction-scoped exclusive advisory lock per subject key
  (namespace 5; the account id and each lower-case e-mail, keyed like the checkout's
  checkout_lock_key of migration 0004) and lets the barrier go. It keeps the subject keys
  until it commits.
- gdpr_subject_guard(): a BEFORE INSERT OR UPDATE trigger on every table the registry
  (core/gdpr/categories.py) finds a person in by account or e-mail. A write that adds or
  changes personal data takes the barrier's shared side until it commits (so an erasure
  registering waits for it), probes each subject key of the row for a running erasure
  and refuses (SQLSTATE FW002, DETAIL 'busy') if there is one, and refuses (DETAIL
  'erased') a row linked to an anonymised account, or personal data put back into a row
  flagged anonymised. Writes that only remove personal data pass untouched (retention,
  erasure). It runs for every writer, Python or not; the UPDATE trigger fires only when a
  watched column changes. The probes take no lasting lock, so bulk writes cannot fill the
  lock table.
- data_subject_request_matches: what an erasure's scan found in other people's records,
  as references (table, key, column, the kinds of term), never values, with the decision
  (erase: it was the person's after all; keep, with a reason: someone else's), who made it
  and when. Row-level security: compliance.manage only. Audited.
- gdpr_scan_rows(terms, kinds): the verification scan, row by row (gdpr_scan counts);
  gdpr_row / gdpr_erase_cell: read and erase one cell a decision names (invoker: the
  admin's own row-level security applies); gdpr_scrub: a value without the terms;
  gdpr_erase_webhooks / gdpr_erase_api_keys: one kind each of the subject's own rows that
  row-level security hides.

GUARDED is core.gdpr.categories.REGISTRY.guards() as of this migration;
`python -m core check` (core.gdpr.coverage) fails when the installed triggers and the
registry differ; migration 0015 guards the sign-in tables of 0012.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The subject locks' namespace (the checkout holds 1 to 3) and the barrier's key (the
# one-argument form: a key space of its own).
SUBJECT_NAMESPACE = 5
GDPR_BARRIER = 0x67647072_5355424A  # "gdpr" "SUBJ"

# (table, account link, e-mail columns, other personal columns, anonymised flag)
GUARDED: tuple[tuple[str, str, str, str, str], ...] = (
    ("users", "id", "email",
     "full_name,phone_number,profile_image_url", "is_anonymized"),
    ("user_profiles", "user_id", "",
     "first_name,last_name,address,date_of_birth,bio,company,position,location,website,"
     "interests,social_links,preferences,notification_settings,encrypted_payment_info", ""),
    ("user_roles", "user_id", "", "", ""),
    ("orders", "user_id", "billing_email",
     "billing_name,billing_phone,billing_address,notes,ip_address,user_agent,metadata,"
     "encrypted_payment_details", "is_anonymized"),
    ("user_engagement", "user_id", "", "engagement_data,ip_address,user_agent,session_id", ""),
    ("segment_members", "user_id", "", "", ""),
    ("promotional_code_usage", "user_id", "", "", ""),
    ("designers", "user_id", "contact_email",
     "name,slug,bio,contact_phone,profile_image_url,cover_image_url,website_url,social_media,"
     "location,awards,press_mentions,metadata", ""),
    ("models", "user_id", "",
     "name,slug,height,measurements,bio,profile_image_url,portfolio_url,social_media,metadata",
     ""),
    ("sponsors", "user_id", "contact_email", "contact_name,contact_phone", ""),
    ("venues", "", "contact_email", "contact_name,contact_phone", ""),
    ("event_schedules", "speaker_id", "", "", ""),
    ("webhooks", "user_id", "", "name,description,url,secret_key,headers", ""),
    ("api_keys", "user_id", "", "name,key_hash", ""),
    ("email_campaigns", "", "sender_email", "sender_name", ""),
    ("data_subject_requests", "user_id", "subject_email",
     "notes,rejection_reason,request_details", ""),
)  # fmt: skip
GUARD = "gdpr_subject_guard"

FUNCTIONS = r"""
-- A value without the terms (case-insensitive, JSON-escaped forms too), '[erased]' in
-- their place. SQL and no SET clause, so it inlines: the pattern of constant terms is
-- computed once per statement.
CREATE FUNCTION gdpr_scrub(p_value text, p_terms text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_value IS NULL OR p_value = '' THEN p_value
              ELSE coalesce(regexp_replace(p_value, gdpr_pattern(p_terms), '[erased]', 'gi'),
                            p_value) END
$$;

CREATE FUNCTION gdpr_scrub(p_value jsonb, p_terms text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_value IS NULL OR p_value IN ('{}'::jsonb, '[]'::jsonb) THEN p_value
              ELSE coalesce(regexp_replace(p_value::text, gdpr_pattern(p_terms), '[erased]',
                                           'gi')::jsonb, p_value) END
$$;

-- A subject's lock key: its account id, or one of its e-mails (trimmed, lower case).
CREATE FUNCTION gdpr_subject_key(p_user uuid) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT checkout_lock_key(uuid_send(p_user)) $$;

CREATE FUNCTION gdpr_subject_key(p_email text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT checkout_lock_key(convert_to(lower(btrim(p_email)), 'UTF8'))
$$;

-- Does this transaction hold the subject key exclusively (is it that person's erasure)?
CREATE FUNCTION gdpr_holds_subject(p_key integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM pg_locks
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
       AND mode = 'ExclusiveLock' AND classid = @ns@::oid
       AND objid = (p_key::bigint & 4294967295)::oid AND objsubid = 2
       AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
$$;

-- Register an erasure of one person (see the module docstring). Waits for writes of
-- personal data in flight (lock_timeout applies), never while holding subject keys.
CREATE FUNCTION gdpr_lock_subject(p_user uuid, p_emails text[]) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = @schema@, pg_temp AS $$
DECLARE
  keys integer[];
  k integer;
BEGIN
  SELECT array_agg(DISTINCT x ORDER BY x) INTO keys
    FROM (SELECT gdpr_subject_key(p_user) WHERE p_user IS NOT NULL
          UNION ALL
          SELECT gdpr_subject_key(e) FROM unnest(p_emails) e
           WHERE e IS NOT NULL AND btrim(e) <> '') s(x);
  PERFORM pg_advisory_lock(@barrier@);
  BEGIN
    FOREACH k IN ARRAY coalesce(keys, '{}') LOOP
      IF NOT pg_try_advisory_xact_lock(@ns@, k) THEN
        RAISE EXCEPTION USING ERRCODE = 'FW002', DETAIL = 'busy',
          MESSAGE = 'Another erasure of this person is running; wait until it is done.';
      END IF;
    END LOOP;
  EXCEPTION WHEN OTHERS THEN
    PERFORM pg_advisory_unlock(@barrier@);
    RAISE;
  END;
  PERFORM pg_advisory_unlock(@barrier@);
  RETURN coalesce(cardinality(keys), 0);
END $$;

-- The guard of the tables holding a person's data (arguments: account link column,
-- e-mail columns, other personal columns, anonymised flag; commas between columns).
-- SECURITY DEFINER: it must see whether the linked account is anonymised whoever writes.
CREATE FUNCTION gdpr_subject_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  link_col text := nullif(TG_ARGV[0], '');
  email_cols text[] := coalesce(string_to_array(nullif(TG_ARGV[1], ''), ','), '{}');
  personal_cols text[] := coalesce(string_to_array(nullif(TG_ARGV[2], ''), ','), '{}');
  flag_col text := nullif(TG_ARGV[3], '');
  new_j jsonb := to_jsonb(NEW);
  old_j jsonb;
  adds boolean := false;
  col text;
  v jsonb;
  link uuid;
  keys integer[] := '{}';
  k integer;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    old_j := to_jsonb(OLD);
  END IF;
  -- Does this write put personal data in (a value, not a removal)?
  FOREACH col IN ARRAY array_remove(ARRAY[link_col], NULL) || email_cols || personal_cols LOOP
    v := new_j -> col;
    IF v IS NOT NULL AND v NOT IN ('null'::jsonb, '""'::jsonb, '{}'::jsonb, '[]'::jsonb)
       AND (old_j IS NULL OR v IS DISTINCT FROM old_j -> col) THEN
      adds := true;
      EXIT;
    END IF;
  END LOOP;
  IF link_col IS NOT NULL THEN
    link := (new_j ->> link_col)::uuid;
  END IF;
  IF flag_col IS NOT NULL AND old_j IS NOT NULL THEN
    IF (old_j ->> flag_col)::boolean THEN
      -- Anonymised for good; only that person's own erasure may still rewrite it.
      IF (adds OR NOT (new_j ->> flag_col)::boolean)
         AND NOT (link IS NOT NULL AND gdpr_holds_subject(gdpr_subject_key(link))) THEN
        RAISE EXCEPTION USING ERRCODE = 'FW002', DETAIL = 'erased', HINT = coalesce(link_col, ''),
          MESSAGE = 'This record was anonymised (erasure or retention); personal data'
                    ' cannot be put back into it.';
      END IF;
      RETURN NEW;
    ELSIF (new_j ->> flag_col)::boolean THEN
      RETURN NEW;  -- the anonymisation itself
    END IF;
  END IF;
  IF NOT adds THEN
    RETURN NEW;
  END IF;
  -- Until commit: an erasure registering now waits for this write.
  PERFORM pg_advisory_xact_lock_shared(@barrier@);
  IF link IS NOT NULL THEN
    keys := keys || gdpr_subject_key(link);
  END IF;
  FOREACH col IN ARRAY email_cols LOOP
    IF new_j ->> col IS NOT NULL AND btrim(new_j ->> col) <> ''
       AND lower(new_j ->> col) NOT LIKE '%@@erased_domain@' THEN
      keys := keys || gdpr_subject_key(new_j ->> col);
    END IF;
  END LOOP;
  FOREACH k IN ARRAY keys LOOP
    -- A probe, released at once: only erasures hold subject keys for long.
    IF pg_try_advisory_lock_shared(@ns@, k) THEN
      PERFORM pg_advisory_unlock_shared(@ns@, k);
    ELSIF NOT gdpr_holds_subject(k) THEN
      RAISE EXCEPTION USING ERRCODE = 'FW002', DETAIL = 'busy', HINT = '',
        MESSAGE = 'This person''s data is being erased right now (a data-subject'
                  ' request); nothing was saved. Try again in a minute.';
    END IF;
  END LOOP;
  IF link IS NOT NULL AND TG_TABLE_NAME <> 'users'
     AND EXISTS (SELECT 1 FROM users u WHERE u.id = link AND u.is_anonymized) THEN
    RAISE EXCEPTION USING ERRCODE = 'FW002', DETAIL = 'erased', HINT = link_col,
      MESSAGE = 'This person''s account was erased (anonymised); it takes no new personal'
                ' data. Record it without the account if it is someone new.';
  END IF;
  RETURN NEW;
END $$;

-- The primary key of a table as (columns, their types), its id alone when the key holds
-- one (a partitioned log's key adds its time column), or ctid for a view without a key.
CREATE FUNCTION gdpr_key_columns(p_rel regclass, OUT cols text[], OUT types text[])
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  WITH pk AS (
    SELECT a.attname::text AS col, format_type(a.atttypid, a.atttypmod) AS typ, k.ord
      FROM pg_index i
      CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = p_rel AND i.indisprimary)
  SELECT CASE WHEN EXISTS (SELECT 1 FROM pk WHERE col = 'id') THEN ARRAY['id']
              WHEN EXISTS (SELECT 1 FROM pk) THEN (SELECT array_agg(col ORDER BY ord) FROM pk)
              ELSE ARRAY['ctid'] END,
         CASE WHEN EXISTS (SELECT 1 FROM pk WHERE col = 'id')
                THEN ARRAY[(SELECT typ FROM pk WHERE col = 'id')]
              WHEN EXISTS (SELECT 1 FROM pk) THEN (SELECT array_agg(typ ORDER BY ord) FROM pk)
              ELSE ARRAY['tid'] END
$$;

-- SQL for the key of a row of p_rel (alias t): the column as text, or a JSON object of
-- the columns when the key has several.
CREATE FUNCTION gdpr_key_sql(p_rel regclass) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
DECLARE
  k record;
BEGIN
  SELECT * INTO k FROM gdpr_key_columns(p_rel);
  IF cardinality(k.cols) = 1 THEN
    RETURN format('t.%I::text', k.cols[1]);
  END IF;
  RETURN 'jsonb_build_object(' || (SELECT string_agg(format('%L, t.%I', c, c), ', ')
                                     FROM unnest(k.cols) c) || ')::text';
END $$;

-- The WHERE clause selecting the row of p_rel whose key (as gdpr_key_sql gives it) is p_key.
CREATE FUNCTION gdpr_key_where(p_rel regclass, p_key text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
DECLARE
  k record;
BEGIN
  SELECT * INTO k FROM gdpr_key_columns(p_rel);
  IF cardinality(k.cols) = 1 THEN
    RETURN format('t.%I = CAST(%L AS %s)', k.cols[1], p_key, k.types[1]);
  END IF;
  RETURN (SELECT string_agg(format('t.%I = CAST(%L AS %s)', c, p_key::jsonb ->> c, typ), ' AND ')
            FROM unnest(k.cols, k.types) AS u(c, typ));
END $$;

-- A table of this schema by name (tables, partitioned tables, materialized views).
CREATE FUNCTION gdpr_relation(p_table text) RETURNS regclass
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
DECLARE
  rel regclass;
BEGIN
  SELECT c.oid INTO rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relname = p_table AND c.relkind IN ('r', 'p', 'm');
  IF rel IS NULL THEN
    RAISE EXCEPTION 'no table %', p_table USING ERRCODE = '42P01';
  END IF;
  RETURN rel;
END $$;

-- The verification scan row by row: every text-like, json, jsonb and array column of
-- every table, partition and materialized view holding one of the terms, with the kinds
-- of the terms it holds (p_kinds parallels p_terms). Partitions are named by their root.
CREATE FUNCTION gdpr_scan_rows(p_terms text[], p_kinds text[])
RETURNS TABLE (table_name text, record_key text, column_name text, kinds text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  likes text[] := gdpr_like_patterns(p_terms);
  patterns text[];
  pattern_kinds text[];
  rel record;
  any_col text;
  hit boolean;
BEGIN
  PERFORM gdpr_assert_allowed();
  IF likes IS NULL THEN
    RETURN;
  END IF;
  SELECT array_agg(p), array_agg(k) INTO patterns, pattern_kinds
    FROM unnest(p_terms, p_kinds) AS u(term, k),
         LATERAL unnest(gdpr_like_patterns(ARRAY[u.term])) AS p;
  FOR rel IN
    SELECT c.oid, coalesce(pg_partition_root(c.oid), c.oid)::regclass AS root,
           array_agg(a.attname::text ORDER BY a.attnum) AS cols
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm') AND c.relispopulated
       AND (t.typcategory = 'S' OR t.typname IN ('json', 'jsonb')
            OR e.typcategory = 'S' OR e.typname IN ('json', 'jsonb'))
     GROUP BY c.oid
     ORDER BY c.relname
  LOOP
    -- One pass over the relation with the OR of its columns (as gdpr_scan), stopping at
    -- the first hit; only a relation with hits is read again, its rows taken apart
    -- column by column (most relations have none: their keys are never looked up).
    any_col := (SELECT string_agg(format('lower(t.%I::text) LIKE ANY ($1)', col), ' OR ')
                  FROM unnest(rel.cols) col);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM ONLY %s t WHERE %s)', rel.oid::regclass,
                   any_col)
       INTO hit USING likes;
    CONTINUE WHEN NOT hit;
    RETURN QUERY EXECUTE format(
      'SELECT %L::text, %s, v.col, (SELECT string_agg(DISTINCT x.k, %L ORDER BY x.k)'
      '   FROM unnest($2, $3) AS x(p, k) WHERE lower(v.val) LIKE x.p)'
      '  FROM ONLY %s t CROSS JOIN LATERAL (VALUES %s) AS v(col, val)'
      ' WHERE (%s) AND lower(v.val) LIKE ANY ($1)',
      (SELECT relname FROM pg_class WHERE oid = rel.root), gdpr_key_sql(rel.root), ',',
      rel.oid::regclass,
      (SELECT string_agg(format('(%L, t.%I::text)', col, col), ', ') FROM unnest(rel.cols) col),
      any_col)
    USING likes, patterns, pattern_kinds;
  END LOOP;
END $$;

-- One row as JSON, by the key gdpr_scan_rows gave (the caller's row-level security
-- applies: NULL when the row is gone or hidden).
CREATE FUNCTION gdpr_row(p_table text, p_key text) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = @schema@, pg_temp AS $$
DECLARE
  rel regclass := gdpr_relation(p_table);
  found jsonb;
BEGIN
  EXECUTE format('SELECT to_jsonb(t) FROM %s t WHERE %s', rel, gdpr_key_where(rel, p_key))
     INTO found;
  RETURN found;
END $$;

-- Erase the terms from one cell (a match decided "erase"): '[erased]' in their place, or
-- NULL when nothing else was there and the column allows it. The caller's row-level
-- security and the table's triggers apply. Returns the rows changed (0 or 1).
CREATE FUNCTION gdpr_erase_cell(p_table text, p_key text, p_column text, p_terms text[])
RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = @schema@, pg_temp AS $$
DECLARE
  rel regclass := gdpr_relation(p_table);
  col record;
  changed integer;
BEGIN
  SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS typ,
         NOT a.attnotnull AS nullable INTO col
    FROM pg_attribute a WHERE a.attrelid = rel AND a.attname = p_column
     AND a.attnum > 0 AND NOT a.attisdropped;
  IF col IS NULL THEN
    RAISE EXCEPTION 'no column %.%', p_table, p_column USING ERRCODE = '42703';
  END IF;
  EXECUTE format(
    'UPDATE %s t SET %I = CASE WHEN %L AND btrim(gdpr_scrub(t.%I::text, $1), %L) = %L'
    ' THEN NULL ELSE CAST(gdpr_scrub(t.%I::text, $1) AS %s) END WHERE %s',
    rel, col.name, col.nullable, col.name, ' ,;:/-."', '[erased]', col.name, col.typ,
    gdpr_key_where(rel, p_key))
  USING p_terms;
  GET DIAGNOSTICS changed = ROW_COUNT;
  RETURN changed;
END $$;

-- The subject's webhooks (their deliveries cascade) and API keys (usage keeps its figures),
-- one kind each, which row-level security shows only to their owner.
CREATE FUNCTION gdpr_erase_webhooks(p_user uuid) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM gdpr_assert_allowed();
  DELETE FROM webhooks WHERE user_id = p_user;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

CREATE FUNCTION gdpr_erase_api_keys(p_user uuid) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM gdpr_assert_allowed();
  DELETE FROM api_keys WHERE user_id = p_user;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
"""

MATCHES = """
CREATE TABLE data_subject_request_matches (
  id uuid DEFAULT gen_random_uuid() NOT NULL,
  request_id uuid NOT NULL,
  table_name varchar(63) NOT NULL,
  record_key varchar(500) NOT NULL,
  column_name varchar(63) NOT NULL,
  matched varchar(20) NOT NULL,
  found_at timestamptz DEFAULT now() NOT NULL,
  decision varchar(5),
  reason varchar(500),
  decided_by uuid,
  decided_at timestamptz,
  CONSTRAINT pk_data_subject_request_matches PRIMARY KEY (id),
  CONSTRAINT fk_data_subject_request_matches_request_id_data_subject_requests
    FOREIGN KEY (request_id) REFERENCES data_subject_requests (id) ON DELETE CASCADE,
  CONSTRAINT fk_data_subject_request_matches_decided_by_users
    FOREIGN KEY (decided_by) REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT uq_data_subject_request_matches_cell
    UNIQUE (request_id, table_name, record_key, column_name),
  CONSTRAINT ck_data_subject_request_matches_decision_valid
    CHECK (decision IN ('erase', 'keep')),
  CONSTRAINT ck_data_subject_request_matches_keep_needs_reason
    CHECK (decision IS DISTINCT FROM 'keep' OR btrim(coalesce(reason, '')) <> ''),
  CONSTRAINT ck_data_subject_request_matches_decided_at
    CHECK ((decision IS NULL) = (decided_at IS NULL)),
  CONSTRAINT ck_data_subject_request_matches_matched_valid
    CHECK (matched ~ '^(email|name|phone)(,(email|name|phone))*$')
);
CREATE INDEX idx_data_subject_request_matches_decided_by
  ON data_subject_request_matches (decided_by);
ALTER TABLE data_subject_request_matches ENABLE ROW LEVEL SECURITY;
CREATE POLICY data_subject_request_matches_compliance ON data_subject_request_matches
  FOR ALL TO PUBLIC
  USING ((SELECT app_has_permission('compliance.manage')))
  WITH CHECK ((SELECT app_has_permission('compliance.manage')));
CREATE TRIGGER audit_trail AFTER INSERT OR UPDATE OR DELETE ON data_subject_request_matches
  FOR EACH ROW EXECUTE FUNCTION audit_row_change('id', '');
"""

DEFINER_FUNCTIONS = (
    "gdpr_scan_rows(text[], text[])",
    "gdpr_erase_webhooks(uuid)",
    "gdpr_erase_api_keys(uuid)",
)
INVOKER_FUNCTIONS = (
    "gdpr_scrub(text, text[])",
    "gdpr_scrub(jsonb, text[])",
    "gdpr_subject_key(uuid)",
    "gdpr_subject_key(text)",
    "gdpr_holds_subject(integer)",
    "gdpr_lock_subject(uuid, text[])",
    "gdpr_key_columns(regclass)",
    "gdpr_key_sql(regclass)",
    "gdpr_key_where(regclass, text)",
    "gdpr_relation(text)",
    "gdpr_row(text, text)",
    "gdpr_erase_cell(text, text, text, text[])",
)


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _app_role() -> str:
    # As migration 0003 reads it (migrations must not change with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _watched(link: str, emails: str, personal: str, flag: str) -> list[str]:
    return [c for c in (link, *emails.split(","), *personal.split(","), flag) if c]


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    op.execute(
        sa.text(
            FUNCTIONS.replace("@schema@", schema)
            .replace("@ns@", str(SUBJECT_NAMESPACE))
            .replace("@barrier@", str(GDPR_BARRIER))
            .replace("@erased_domain@", "erased.invalid")
        )
    )
    op.execute(sa.text(MATCHES))
    for table, link, emails, personal, flag in GUARDED:
        args = ", ".join(f"'{a}'" for a in (link, emails, personal, flag))
        changed = " OR ".join(
            f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _watched(link, emails, personal, flag)
        )
        op.execute(
            f"CREATE TRIGGER {GUARD} BEFORE INSERT ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION gdpr_subject_guard({args})"
        )
        op.execute(
            f"CREATE TRIGGER {GUARD}_update BEFORE UPDATE ON {table}"
            f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION gdpr_subject_guard({args})"
        )
    role = _app_role()
    for signature in DEFINER_FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
    op.execute("REVOKE EXECUTE ON FUNCTION gdpr_subject_guard() FROM PUBLIC")
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        ident = _quote(conn, role)
        op.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON data_subject_request_matches TO {ident}"
        )
        for signature in (*DEFINER_FUNCTIONS, *INVOKER_FUNCTIONS):
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {ident}")


def downgrade() -> None:
    for table, *_ in GUARDED:
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD}_update ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {GUARD} ON {table}")
    op.execute("DROP TABLE data_subject_request_matches")
    op.execute("DROP FUNCTION gdpr_subject_guard()")
    for signature in reversed((*DEFINER_FUNCTIONS, *INVOKER_FUNCTIONS)):
        op.execute(f"DROP FUNCTION {signature}")
