"""Audit trail: triggers, sealed hash chain, append-only audit log (issue 6).

- audit_row_change(): one generic AFTER ROW trigger function (SECURITY DEFINER, fixed
  search_path) on the critical tables. It writes who acted (`app.user_id`), from where
  (`app.ip_address`, `app.user_agent`), `<table>.insert|update|delete`, the record's key
  (trigger argument 1: key columns, composite keys joined with ':') and the old and new
  row as jsonb, with secret columns (trigger argument 2) replaced by '[masked]'. UPDATEs
  that change nothing but bookkeeping columns (updated_at, version) write nothing.
- audit_logs gains seq (a sequence: identity columns are not allowed on partitioned
  tables), tx_id (the writing transaction), chain_pos, payload_digest, row_hash and
  sealed_at. Writers only INSERT; audit_seal(limit) later chains finished transactions'
  rows in (tx_id, seq) order under one advisory lock, keeping the chain head in
  audit_chain_head, which only the sealer touches. audit_verify() re-checks the whole
  chain in one set-based query and returns the first broken link. docs/AUDIT.md explains.
- Append-only for the app role: no UPDATE, DELETE or TRUNCATE (the 0003 update policy is
  dropped: GDPR redaction goes through a SECURITY DEFINER function), INSERT only of the
  columns a caller may choose (never the chain's, the time or the redaction flag).
- The primary key becomes (created_at, seq), the audit browser's keyset order; indexes
  for its filters end in that order. The plain created_at and action indexes they
  replace are dropped.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, key columns, masked columns, WHEN clause for UPDATE or None)
AUDITED: tuple[tuple[str, str, str, str | None], ...] = (
    ("users", "id", "password_hash,reset_token", None),
    ("user_profiles", "id", "encrypted_payment_info", None),
    ("roles", "id", "", None),
    ("user_roles", "id", "", None),
    ("role_permissions", "id", "", None),
    ("events", "id", "", None),
    ("ticket_types", "id", "", None),
    ("orders", "id", "encrypted_payment_details", None),
    ("order_items", "id", "", None),
    ("discount_codes", "id", "", None),
    ("promotional_codes", "id", "", None),
    # Holds come and go by the thousand; a seat's sale, block and release are what matter.
    (
        "event_seats",
        "event_id,seat_id",
        "",
        "OLD.status IN ('sold', 'blocked') OR NEW.status IN ('sold', 'blocked')",
    ),
    ("sponsorships", "id", "", None),
    ("marketing_campaigns", "id", "", None),
    ("api_keys", "id", "key_hash", None),
    # Headers may carry an Authorization value.
    ("webhooks", "id", "secret_key,headers", None),
    ("data_subject_requests", "id", "", None),
    ("system_configurations", "id", "", None),
    ("encryption_keys", "id", "", None),
)

TRIGGER = "audit_trail"
# Rows the trigger did not write (their action is not `<table>.insert|update|delete`);
# core/audit/browse.py repeats it word for word so the planner can use the partial index.
ROW_CHANGE_PREDICATE = r"action !~ '\.(insert|update|delete)$'"
# Advisory lock key of the sealer (one at a time); any fixed bigint unused elsewhere.
SEAL_LOCK_KEY = 0x6175646974_5345  # "audit" "SE"

FUNCTIONS = r"""
CREATE TABLE audit_chain_head (
  only_row boolean DEFAULT true NOT NULL,
  last_pos bigint DEFAULT 0 NOT NULL,
  last_hash bytea DEFAULT '\x'::bytea NOT NULL,
  sealed_at timestamptz,
  CONSTRAINT pk_audit_chain_head PRIMARY KEY (only_row),
  CONSTRAINT ck_audit_chain_head_single_row CHECK (only_row)
);
INSERT INTO audit_chain_head DEFAULT VALUES;

-- One audit row per changed row. SECURITY DEFINER: the row is the owner's to write, not
-- the acting person's (the app role may insert only its own rows, and a job acts as no
-- one). Lean on purpose: it runs inside every audited write.
CREATE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  old_j jsonb;
  new_j jsonb;
  row_j jsonb;
  rid text;
  col text;
  masked text[];
BEGIN
  IF TG_OP <> 'INSERT' THEN
    old_j := to_jsonb(OLD);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_j := to_jsonb(NEW);
  END IF;
  IF TG_OP = 'UPDATE' AND old_j - '{updated_at,version}'::text[] = new_j - '{updated_at,version}'::text[] THEN
    RETURN NULL;
  END IF;
  row_j := coalesce(new_j, old_j);
  IF strpos(TG_ARGV[0], ',') = 0 THEN
    rid := row_j ->> TG_ARGV[0];
  ELSE
    SELECT string_agg(row_j ->> k, ':' ORDER BY o) INTO rid
      FROM unnest(string_to_array(TG_ARGV[0], ',')) WITH ORDINALITY AS t(k, o);
  END IF;
  IF TG_ARGV[1] <> '' THEN
    masked := string_to_array(TG_ARGV[1], ',');
  END IF;
  -- A setting whose key names a secret keeps its value out of the log.
  IF TG_TABLE_NAME = 'system_configurations'
     AND row_j ->> 'key' ~* '(secret|password|token|private|credential|api_?key)' THEN
    masked := array_append(masked, 'value');
  END IF;
  IF masked IS NOT NULL THEN
    FOREACH col IN ARRAY masked LOOP
      -- NULL stays NULL (there is no secret to hide); a changed secret says so, not how.
      IF new_j IS NOT NULL AND jsonb_typeof(new_j -> col) <> 'null' THEN
        new_j := jsonb_set(new_j, ARRAY[col],
          CASE WHEN old_j IS NOT NULL AND (old_j -> col) IS DISTINCT FROM (new_j -> col)
               THEN '"[masked, changed]"'::jsonb ELSE '"[masked]"'::jsonb END);
      END IF;
      IF old_j IS NOT NULL AND jsonb_typeof(old_j -> col) <> 'null' THEN
        old_j := jsonb_set(old_j, ARRAY[col], '"[masked]"');
      END IF;
    END LOOP;
  END IF;
  -- id and seq come from the column defaults; the primary key (created_at, seq) takes
  -- the row at its right edge.
  INSERT INTO audit_logs (user_id, action, table_name, record_id, old_data, new_data,
                          ip_address, user_agent)
  VALUES (nullif(current_setting('app.user_id', true), '')::uuid,
          TG_TABLE_NAME || '.' || lower(TG_OP), TG_TABLE_NAME, rid, old_j, new_j,
          nullif(current_setting('app.ip_address', true), ''),
          nullif(current_setting('app.user_agent', true), ''));
  RETURN NULL;
END $$;

-- The canonical text a row's hash covers: every column but the payloads (covered by
-- payload_digest, which GDPR redaction leaves as it was), the chain fields and the
-- redaction flag. jsonb's text form is deterministic, and an array cannot shift a value
-- from one field into the next.
CREATE FUNCTION audit_row_content(p_pos bigint, p_seq bigint, p_id uuid, p_tx xid8,
                                  p_created_at timestamptz, p_user uuid, p_action text,
                                  p_table text, p_record text, p_ip text, p_ua text,
                                  p_digest bytea)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT convert_to(jsonb_build_array(p_pos, p_seq, p_id, p_tx::text,
                                      extract(epoch FROM p_created_at), p_user, p_action,
                                      p_table, p_record, p_ip, p_ua,
                                      encode(p_digest, 'hex'))::text, 'UTF8')
$$;

CREATE FUNCTION audit_payload_digest(p_old jsonb, p_new jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(convert_to(jsonb_build_array(p_old, p_new)::text, 'UTF8'))
$$;

-- The oldest transaction of this database that may still add audit rows: transactions
-- of other databases on the same server cannot, so unlike the plain snapshot xmin they
-- do not hold sealing back. An xid whose database is unknown counts (the safe side).
CREATE FUNCTION audit_seal_horizon() RETURNS xid8
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  snap pg_snapshot := pg_current_snapshot();
  horizon xid8;
BEGIN
  SELECT min(x) INTO horizon
    FROM pg_snapshot_xip(snap) AS x
   WHERE NOT EXISTS (
     SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
        AND l.transactionid::text = (x::text::numeric % 4294967296)::text
        AND a.datname IS DISTINCT FROM current_database());
  horizon := coalesce(horizon, pg_snapshot_xmax(snap));
  -- Our own rows, if we wrote any, wait for our commit like everyone else's.
  RETURN least(horizon, coalesce(pg_current_xact_id_if_assigned(), horizon));
END $$;

-- Chain up to p_limit unsealed rows of finished transactions, in (tx_id, seq) order.
-- Every transaction before the horizon has ended, so no row can later appear before one
-- sealed here: the chain grows at its end only. Returns how many rows it sealed.
CREATE FUNCTION audit_seal(p_limit integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  horizon xid8;
  head audit_chain_head%ROWTYPE;
  seqs bigint[];
  stamps timestamptz[];
  digests bytea[];
  contents bytea[];
  hashes bytea[];
  h bytea;
  n integer;
BEGIN
  PERFORM pg_advisory_xact_lock(@lock@);
  horizon := audit_seal_horizon();
  SELECT * INTO head FROM audit_chain_head;
  SELECT array_agg(seq ORDER BY tx_id, seq), array_agg(created_at ORDER BY tx_id, seq),
         array_agg(digest ORDER BY tx_id, seq),
         array_agg(audit_row_content(head.last_pos + rn, seq, id, tx_id, created_at, user_id,
                                     action, table_name, record_id, ip_address, user_agent,
                                     digest) ORDER BY tx_id, seq)
    INTO seqs, stamps, digests, contents
    FROM (SELECT a.*, row_number() OVER (ORDER BY tx_id, seq) AS rn,
                 audit_payload_digest(a.old_data, a.new_data) AS digest
            FROM (SELECT * FROM audit_logs
                   WHERE sealed_at IS NULL AND tx_id < horizon
                   ORDER BY tx_id, seq LIMIT p_limit) a) s;
  n := coalesce(array_length(seqs, 1), 0);
  IF n = 0 THEN
    RETURN 0;
  END IF;
  h := head.last_hash;
  hashes := array_fill(NULL::bytea, ARRAY[n]);
  FOR i IN 1 .. n LOOP
    h := sha256(h || contents[i]);
    hashes[i] := h;
  END LOOP;
  UPDATE audit_logs a
     SET chain_pos = head.last_pos + u.pos, payload_digest = u.digest, row_hash = u.hash,
         sealed_at = clock_timestamp()
    FROM unnest(seqs, stamps, digests, hashes) WITH ORDINALITY AS u(seq, created_at, digest, hash, pos)
   WHERE a.created_at = u.created_at AND a.seq = u.seq AND a.sealed_at IS NULL;
  UPDATE audit_chain_head
     SET last_pos = head.last_pos + n, last_hash = h, sealed_at = clock_timestamp();
  RETURN n;
END $$;

-- How many rows wait for the sealer (a job acting as no one cannot count them under RLS).
CREATE FUNCTION audit_pending() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
  SELECT count(*) FROM audit_logs WHERE sealed_at IS NULL
$$;

-- Re-check the sealed chain from position p_from_pos (1: all of it) in one pass: each
-- row's payload against its digest (redacted rows excepted: erasure overwrote their
-- payloads on purpose), each row's hash against its predecessor's hash and its own
-- content, the positions for gaps, and the last row against the head. A later start
-- trusts the hash of the row before it. One row: ok, how many were checked, and the
-- first problem.
CREATE FUNCTION audit_verify(p_from_pos bigint DEFAULT 1)
RETURNS TABLE (ok boolean, checked bigint, broken_pos bigint, broken_seq bigint,
               broken_id uuid, broken_at timestamptz, problem text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  head audit_chain_head%ROWTYPE;
  total bigint;
  last_hash bytea;
  last_pos bigint;
BEGIN
  SELECT * INTO head FROM audit_chain_head;
  RETURN QUERY
  WITH chain AS (
    SELECT a.chain_pos, a.seq, a.id, a.created_at, a.row_hash,
           CASE
             WHEN NOT a.is_redacted
                  AND a.payload_digest IS DISTINCT FROM audit_payload_digest(a.old_data, a.new_data)
               THEN 'content: old or new data changed after sealing'
             WHEN a.chain_pos <> coalesce(lag(a.chain_pos) OVER w, 0) + 1
               THEN 'link: the entry before this one is missing (positions '
                    || coalesce(lag(a.chain_pos) OVER w, 0) || ' -> ' || a.chain_pos || ')'
             WHEN a.row_hash IS DISTINCT FROM
                  sha256(coalesce(lag(a.row_hash) OVER w, '\x'::bytea)
                         || audit_row_content(a.chain_pos, a.seq, a.id, a.tx_id, a.created_at,
                                              a.user_id, a.action, a.table_name, a.record_id,
                                              a.ip_address, a.user_agent, a.payload_digest))
               THEN 'content: this entry (or the hash of the one before it) was changed'
           END AS problem
      FROM audit_logs a
     WHERE a.chain_pos >= p_from_pos - 1
    WINDOW w AS (ORDER BY a.chain_pos)
  ), first_broken AS (
    SELECT * FROM chain
     WHERE chain.chain_pos >= p_from_pos AND chain.problem IS NOT NULL
     ORDER BY chain_pos LIMIT 1
  )
  SELECT false, (SELECT count(*) FROM chain WHERE chain.chain_pos >= p_from_pos),
         f.chain_pos, f.seq, f.id, f.created_at, f.problem
    FROM first_broken f;
  IF FOUND THEN
    RETURN;
  END IF;
  SELECT count(*) INTO total FROM audit_logs WHERE chain_pos >= p_from_pos;
  SELECT max(chain_pos) INTO last_pos FROM audit_logs WHERE chain_pos IS NOT NULL;
  SELECT row_hash INTO last_hash FROM audit_logs WHERE chain_pos = last_pos;
  IF coalesce(last_pos, 0) <> head.last_pos OR coalesce(last_hash, '\x'::bytea) <> head.last_hash THEN
    RETURN QUERY SELECT false, total, coalesce(last_pos, 0), NULL::bigint, NULL::uuid,
                        NULL::timestamptz,
                        'link: the chain ends at ' || coalesce(last_pos, 0)
                        || ' but its head says ' || head.last_pos
                        || ' (entries at the end were removed or the head was changed)';
    RETURN;
  END IF;
  RETURN QUERY SELECT true, total, NULL::bigint, NULL::bigint, NULL::uuid, NULL::timestamptz,
                      NULL::text;
END $$;
"""

FUNCTION_SIGNATURES = (
    "audit_verify(bigint)",
    "audit_pending()",
    "audit_seal(integer)",
    "audit_seal_horizon()",
    "audit_payload_digest(jsonb, jsonb)",
    "audit_row_content(bigint, bigint, uuid, xid8, timestamptz, uuid, text, text, text,"
    " text, text, bytea)",
    "audit_row_change()",
)

# Columns the app may choose when it writes an audit row of its own (sign-in and the like).
APP_INSERT_COLUMNS = (
    "id",
    "user_id",
    "action",
    "table_name",
    "record_id",
    "old_data",
    "new_data",
    "ip_address",
    "user_agent",
)


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _app_role() -> str:
    # Imported late and by path: migration modules are not a package.
    import os

    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    app = _quote(conn, _app_role())

    op.execute("CREATE SEQUENCE audit_logs_seq_seq AS bigint")
    op.add_column(
        "audit_logs",
        sa.Column(
            "seq",
            sa.BigInteger(),
            server_default=sa.text("nextval('audit_logs_seq_seq'::regclass)"),
            nullable=False,
        ),
    )
    op.execute("ALTER SEQUENCE audit_logs_seq_seq OWNED BY audit_logs.seq")
    # xid8 has no SQLAlchemy type of its own (core.models.security.Xid8 names it for the model).
    op.execute("ALTER TABLE audit_logs ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.add_column("audit_logs", sa.Column("chain_pos", sa.BigInteger(), nullable=True))
    op.add_column("audit_logs", sa.Column("payload_digest", sa.LargeBinary(), nullable=True))
    op.add_column("audit_logs", sa.Column("row_hash", sa.LargeBinary(), nullable=True))
    op.add_column("audit_logs", sa.Column("sealed_at", sa.TIMESTAMP(timezone=True), nullable=True))

    op.drop_index("idx_audit_logs_created_at", table_name="audit_logs")
    op.drop_index("idx_audit_logs_action", table_name="audit_logs")
    op.drop_index("idx_audit_logs_table_record", table_name="audit_logs")
    op.drop_index("idx_audit_logs_user_id", table_name="audit_logs")
    # The browser's order is the primary key: one index fewer for every audited write
    # than (id, created_at) beside a (created_at, seq) index. seq is unique (a sequence the
    # app cannot set); a partitioned table's key must hold created_at.
    op.drop_constraint("pk_audit_logs", "audit_logs", type_="primary")
    op.create_primary_key("pk_audit_logs", "audit_logs", ["created_at", "seq"])
    # action last: an action filter on a row change (`<table>.<op>`) rides this index,
    # its action checked in the index without visiting the rows (core/audit/browse.py).
    op.create_index(
        "idx_audit_logs_table_created",
        "audit_logs",
        ["table_name", "created_at", "seq", "action"],
    )
    op.create_index(
        "idx_audit_logs_table_record",
        "audit_logs",
        ["table_name", "record_id", "created_at", "seq"],
    )
    op.create_index("idx_audit_logs_user_created", "audit_logs", ["user_id", "created_at", "seq"])
    # Only the services' own (semantic) actions: the trigger's rows, nearly all of them,
    # never enter it, so audited writes maintain one index fewer.
    op.create_index(
        "idx_audit_logs_action_created",
        "audit_logs",
        ["action", "created_at", "seq"],
        postgresql_where=sa.text(ROW_CHANGE_PREDICATE),
    )
    # Sealed rows in chain order (verification of a range): rows enter it when sealed,
    # so inserts never touch it.
    op.create_index(
        "idx_audit_logs_chain_pos",
        "audit_logs",
        ["chain_pos"],
        postgresql_where=sa.text("chain_pos IS NOT NULL"),
    )
    op.create_index(
        "idx_audit_logs_unsealed",
        "audit_logs",
        ["tx_id", "seq"],
        postgresql_where=sa.text("sealed_at IS NULL"),
    )

    op.execute(sa.text(FUNCTIONS.replace("@schema@", schema).replace("@lock@", str(SEAL_LOCK_KEY))))
    for table, keys, masked, when in AUDITED:
        args = f"'{keys}', '{masked}'"
        if when is None:
            op.execute(
                f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION audit_row_change({args})"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR DELETE ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION audit_row_change({args})"
            )
            op.execute(
                f"CREATE TRIGGER {TRIGGER}_update AFTER UPDATE ON {table}"
                f" FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION audit_row_change({args})"
            )

    # Append-only for the app. Partitions never had grants (0003), and ensure_partitions
    # makes new ones without any, so the parent's privileges are all there is.
    op.execute("DROP POLICY audit_logs_update ON audit_logs")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_logs FROM {app}")
    op.execute(f"GRANT INSERT ({', '.join(APP_INSERT_COLUMNS)}) ON audit_logs TO {app}")
    op.execute(f"GRANT USAGE ON SEQUENCE audit_logs_seq_seq TO {app}")
    op.execute("REVOKE ALL ON audit_chain_head FROM PUBLIC")
    op.execute(f"GRANT SELECT ON audit_chain_head TO {app}")
    for signature in FUNCTION_SIGNATURES[:4]:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {app}")
    op.execute(f"REVOKE ALL ON FUNCTION audit_row_change() FROM PUBLIC, {app}")


def downgrade() -> None:
    conn = op.get_bind()
    app = _quote(conn, _app_role())
    for table, _keys, _masked, when in AUDITED:
        op.execute(f"DROP TRIGGER {TRIGGER} ON {table}")
        if when is not None:
            op.execute(f"DROP TRIGGER {TRIGGER}_update ON {table}")
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")
    op.execute("DROP TABLE audit_chain_head")
    exists = conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": _app_role()}
    ).scalar()
    if exists:
        op.execute(f"REVOKE INSERT ON audit_logs FROM {app}")
        op.execute(f"GRANT INSERT, UPDATE, DELETE ON audit_logs TO {app}")
    op.execute(
        "CREATE POLICY audit_logs_update ON audit_logs FOR UPDATE TO PUBLIC"
        " USING ((SELECT app_has_role('admin'))) WITH CHECK ((SELECT app_has_role('admin')))"
    )
    op.drop_index("idx_audit_logs_unsealed", table_name="audit_logs")
    op.drop_index("idx_audit_logs_chain_pos", table_name="audit_logs")
    op.drop_index("idx_audit_logs_action_created", table_name="audit_logs")
    op.drop_index("idx_audit_logs_user_created", table_name="audit_logs")
    op.drop_index("idx_audit_logs_table_record", table_name="audit_logs")
    op.drop_index("idx_audit_logs_table_created", table_name="audit_logs")
    op.drop_constraint("pk_audit_logs", "audit_logs", type_="primary")
    op.create_primary_key("pk_audit_logs", "audit_logs", ["id", "created_at"])
    op.create_index("idx_audit_logs_user_id", "audit_logs", ["user_id", "created_at"])
    op.create_index(
        "idx_audit_logs_table_record", "audit_logs", ["table_name", "record_id", "created_at"]
    )
    op.create_index("idx_audit_logs_action", "audit_logs", ["action"])
    op.create_index("idx_audit_logs_created_at", "audit_logs", ["created_at"])
    for column in ("sealed_at", "row_hash", "payload_digest", "chain_pos", "tx_id", "seq"):
        op.drop_column("audit_logs", column)
