"""Audit evidence (issue 15): redaction recorded in the chain, no forged rows, order children
audited, sign-in bookkeeping left out.

- Redaction is evidence (finding 2). Rows sealed from now on are hashed under content
  format 2, which covers the redaction flag as it was at sealing; rows sealed before keep
  format 1 and verify as they did (`audit_chain_head.v2_from_pos` is the first format-2
  position: history is not re-hashed). Every call of `audit_redact` / `audit_redact_fields`
  (same signatures) writes `audit.redacted` entries, chained like any other, naming each
  row it overwrote (created_at, seq, chain position or none when not yet sealed), the top
  level fields it changed and the payload digest before and after; never a value or a
  search term. `audit_verify(from_pos, max_problems)` re-derives every redacted row from
  those entries and reports up to `max_problems` problems, naming the entry concerned.
  Digests are salted per row (`audit_logs.payload_salt`, 16 random bytes set by the sealer
  and replaced by each redaction), so a digest kept after a redaction cannot confirm a
  guess of the erased value. Rows flagged redacted before this migration get one
  `audit.redacted` entry (function "migration 0011") that records them as found.
- No forged rows (finding 7). The app role loses INSERT on audit_logs (the 0005 column
  grants, the sequence, the 0003 insert policy). The catalogue `audit_actions` lists
  every action that is not a trigger's row change: the actions core code records
  (`core.auth.audit.record`), recorded through the one SECURITY DEFINER function the app
  may call, `audit_record(action, table, record, old, new)`, which takes the acting person
  from `app_current_user_id()`, IP and user agent from the transaction's settings, refuses
  an action it does not list (and, with no person acting, one that is not a job's), and
  masks secret-looking keys; and the actions database functions record (sign-in, reset,
  redaction), which only those functions write. Both go through `audit_append`, which the
  app role cannot execute; it and the trigger are the only writers of audit_logs. The
  auth_* functions of 0003 now call it.
- Orders (defect 4): order_payments and order_refunds get the audit trigger.
- Sign-in (defect 10): `audit_row_change` takes a third argument, columns whose changes
  alone write nothing (generalising updated_at and version); users passes `last_login,
  login_attempts, locked_until`, so a sign-in is recorded once, as `auth.signed_in`. The
  trigger reads the acting person through `app_current_user_id()` (one definition of
  who acts) and caps IP and user agent at 64 and 500 characters.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import importlib.util
import os
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "audit_trail"
# As migration 0005: the sealer's advisory lock, which redaction now takes too.
SEAL_LOCK_KEY = 0x6175646974_5345
# Rows per audit.redacted entry: an erasure touching thousands of rows writes several
# entries of bounded size.
REDACTION_CHUNK = 500
# Keys whose values audit_append masks in a recorded payload, at any depth: a secret's
# name, alone or as the end of a longer one (reset_token, client_secret, password_hash),
# and ciphertext columns. Whole names only, so a category called reset_tokens or a
# token_expires_at stays readable. SECRET_HINT finds payloads that may hold one.
SECRET_KEY = (
    r"^(.*_)?(password|passwd|secret|secret_key|token|api_?key|private_key|credentials?"
    r"|key_hash|authorization)(_hash)?$|^encrypted_"
)
SECRET_HINT = (
    r"(passw|secret|token|api_?key|private_key|credential|key_hash|authorization|encrypted_)"
)

# (table, key columns, masked columns, columns whose changes alone write nothing)
NEW_TRIGGERS: tuple[tuple[str, str, str, str], ...] = (
    ("order_payments", "id", "", ""),
    ("order_refunds", "id", "", ""),
)
USERS_ARGS = ("id", "password_hash,reset_token", "last_login,login_attempts,locked_until")
USERS_ARGS_0005 = ("id", "password_hash,reset_token")

# (action, recorded by, a job may record it with no person acting, what it records)
# 'app': core code through audit_record; 'database': only SECURITY DEFINER functions.
ACTIONS: tuple[tuple[str, str, bool, str], ...] = (
    ("auth.password_changed", "app", False, "a person changed their own password"),
    ("users.invited", "app", False, "an admin invited a person, with their roles"),
    ("users.roles_changed", "app", False, "an admin set a person's roles, by name"),
    ("users.unlocked", "app", False, "an admin ended a lockout after failed sign-ins"),
    ("users.first_admin_created", "app", True, "the first start created the first admin"),
    ("retention.run", "app", True, "a retention run and what it removed, by category"),
    ("encryption_keys.registered", "app", False, "the first version of a key was registered"),
    ("encryption_keys.rotation_started", "app", False, "a key rotation began"),
    ("encryption_keys.rotation_resumed", "app", False, "an interrupted key rotation resumed"),
    ("encryption_keys.rotated", "app", False, "a key rotation finished"),
    ("payment_details.decrypted", "app", False, "someone read stored payment details"),
    ("user_profiles.payment_info_saved", "app", False, "payment details were stored"),
    ("event.published", "app", False, "an event was published"),
    ("event.postponed", "app", False, "an event was postponed, with its new date"),
    ("event.cancelled", "app", False, "an event was cancelled, with the reason"),
    ("event.completed", "app", False, "an event was completed"),
    ("event.duplicated", "app", False, "an event was copied from another"),
    ("event.seats.blocked", "app", False, "seats of an event were blocked, with the reason"),
    ("event.seats.unblocked", "app", False, "seats of an event were unblocked"),
    ("venue.created", "app", False, "a venue was created"),
    ("venue.seat_grid.generated", "app", False, "a section's seat grid was generated"),
    ("venue.seats.blocked", "app", False, "seats of a venue were blocked, with the reason"),
    ("venue.seats.unblocked", "app", False, "seats of a venue were unblocked"),
    ("discount_codes.created", "app", False, "a code was created, with its events and types"),
    ("discount_codes.updated", "app", False, "a code was changed, with its events and types"),
    ("showcase.designer.created", "app", False, "a designer profile was created"),
    ("showcase.designer.updated", "app", False, "a designer profile was changed"),
    ("showcase.designer.status_changed", "app", False, "a designer profile was reviewed"),
    ("showcase.designer.flags_changed", "app", False, "a designer was verified or featured"),
    ("showcase.collection.created", "app", False, "a collection was created"),
    ("showcase.collection.updated", "app", False, "a collection was changed"),
    ("showcase.collection.status_changed", "app", False, "a collection was published or not"),
    ("showcase.item.created", "app", False, "a piece was added to a collection"),
    ("showcase.item.updated", "app", False, "a piece was changed"),
    ("showcase.item.deleted", "app", False, "a piece was removed"),
    ("showcase.image.added", "app", False, "an image was added to a piece"),
    ("showcase.image.made_primary", "app", False, "a piece's primary image changed"),
    ("showcase.image.deleted", "app", False, "an image was removed"),
    ("showcase.model.created", "app", False, "a model profile was created"),
    ("showcase.model.updated", "app", False, "a model profile was changed"),
    ("showcase.show.created", "app", False, "a runway show was created"),
    ("showcase.show.status_changed", "app", False, "a runway show moved on"),
    ("showcase.collaboration.created", "app", False, "a collaboration was created"),
    ("showcase.collaboration.status_changed", "app", False, "a collaboration moved on"),
    ("auth.signed_in", "database", False, "a person signed in (auth_record_success)"),
    ("auth.sign_in_failed", "database", False, "a wrong password (auth_record_failure)"),
    ("auth.reset_requested", "database", False, "a reset token was made (auth_set_reset_token)"),
    ("auth.password_reset", "database", False, "a token set a password (auth_redeem_reset_token)"),
    ("audit.redacted", "database", False, "GDPR erasure overwrote audit payloads (audit_redact*)"),
)

FUNCTIONS = r"""
CREATE TABLE audit_actions (
  action varchar(100) NOT NULL,
  recorded_by varchar(8) NOT NULL,
  without_person boolean DEFAULT false NOT NULL,
  description varchar(200) NOT NULL,
  CONSTRAINT pk_audit_actions PRIMARY KEY (action),
  CONSTRAINT ck_audit_actions_recorded_by_valid CHECK (recorded_by IN ('app', 'database'))
);

-- `doc` with the value of every key that names a secret replaced by "[masked]", at any
-- depth (NULL stays NULL). Most payloads hold no such key: the text test skips the walk.
CREATE FUNCTION audit_mask(p_doc jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF p_doc IS NULL OR jsonb_typeof(p_doc) NOT IN ('object', 'array')
     OR p_doc::text !~* '@secret_hint@' THEN
    RETURN p_doc;
  END IF;
  IF jsonb_typeof(p_doc) = 'array' THEN
    RETURN (SELECT jsonb_agg(audit_mask(e) ORDER BY i)
              FROM jsonb_array_elements(p_doc) WITH ORDINALITY AS t(e, i));
  END IF;
  RETURN (SELECT jsonb_object_agg(e.key,
            CASE WHEN e.key ~* '@secret@' AND e.value <> 'null'::jsonb THEN '"[masked]"'::jsonb
                 ELSE audit_mask(e.value) END)
            FROM jsonb_each(p_doc) e);
END $$;

-- The one INSERT of an audit row that no trigger writes. Not executable by the app role
-- (it would choose the person); SECURITY DEFINER functions call it: audit_record for the
-- app, and the sign-in, reset and redaction functions for what they record themselves.
CREATE FUNCTION audit_append(p_user uuid, p_action text, p_table text, p_record text,
                             p_old jsonb, p_new jsonb, p_ip text, p_user_agent text)
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_actions WHERE action = p_action) THEN
    RAISE EXCEPTION 'audit action "%" is not in audit_actions', left(p_action, 100)
      USING ERRCODE = '42501';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = current_schema() AND c.relname = p_table
                    AND c.relkind IN ('r', 'p')) THEN
    RAISE EXCEPTION 'an audit row must name a table of this schema, not "%"', left(p_table, 63)
      USING ERRCODE = '22023';
  END IF;
  IF length(p_record) > 200 THEN
    RAISE EXCEPTION 'an audit record id has at most 200 characters' USING ERRCODE = '22001';
  END IF;
  IF coalesce(octet_length(p_old::text), 0) + coalesce(octet_length(p_new::text), 0) > 1048576 THEN
    RAISE EXCEPTION 'an audit payload has at most 1 MiB' USING ERRCODE = '54000';
  END IF;
  INSERT INTO audit_logs (user_id, action, table_name, record_id, old_data, new_data,
                          ip_address, user_agent)
  VALUES (p_user, p_action, p_table, p_record, audit_mask(p_old), audit_mask(p_new),
          left(nullif(p_ip, ''), 64), left(nullif(p_user_agent, ''), 500));
END $$;

-- What the application records beside the trigger's row changes. The acting person is the
-- transaction's (never a parameter), so is where from; the action must be one the
-- catalogue lets the application record, and with no person acting one a job may record.
-- Returns the person it recorded (NULL for a job).
CREATE FUNCTION audit_record(p_action text, p_table text, p_record text,
                             p_old jsonb DEFAULT NULL, p_new jsonb DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  who uuid := app_current_user_id();
  kind audit_actions%ROWTYPE;
BEGIN
  SELECT * INTO kind FROM audit_actions WHERE action = p_action;
  IF NOT FOUND OR kind.recorded_by <> 'app' THEN
    RAISE EXCEPTION 'audit action "%" is not one the application may record', left(p_action, 100)
      USING ERRCODE = '42501';
  END IF;
  IF who IS NULL AND NOT kind.without_person THEN
    RAISE EXCEPTION 'audit action "%" needs a signed-in person', p_action
      USING ERRCODE = '42501';
  END IF;
  PERFORM audit_append(who, p_action, p_table, p_record, p_old, p_new,
                       current_setting('app.ip_address', true),
                       current_setting('app.user_agent', true));
  RETURN who;
END $$;

-- One audit row per changed row. SECURITY DEFINER: the row is the owner's to write, not
-- the acting person's (the app role may not insert audit rows at all). Lean on purpose:
-- it runs inside every audited write. Arguments: key columns (composite keys joined with
-- ':'), masked columns, and columns whose changes alone write nothing (beside updated_at
-- and version: users' sign-in bookkeeping).
CREATE OR REPLACE FUNCTION audit_row_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  old_j jsonb;
  new_j jsonb;
  row_j jsonb;
  rid text;
  col text;
  masked text[];
  ignored text[] := '{updated_at,version}';
BEGIN
  IF TG_OP <> 'INSERT' THEN
    old_j := to_jsonb(OLD);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_j := to_jsonb(NEW);
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF TG_NARGS > 2 AND TG_ARGV[2] <> '' THEN
      ignored := ignored || string_to_array(TG_ARGV[2], ',');
    END IF;
    IF old_j - ignored = new_j - ignored THEN
      RETURN NULL;
    END IF;
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
  VALUES (app_current_user_id(), TG_TABLE_NAME || '.' || lower(TG_OP), TG_TABLE_NAME, rid,
          old_j, new_j,
          left(nullif(current_setting('app.ip_address', true), ''), 64),
          left(nullif(current_setting('app.user_agent', true), ''), 500));
  RETURN NULL;
END $$;

-- The payload digest, salted with the row's own random salt. Without a salt (rows sealed
-- under format 1) it is exactly 0005's audit_payload_digest(old, new).
CREATE FUNCTION audit_payload_digest(p_salt bytea, p_old jsonb, p_new jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT sha256(coalesce(p_salt, '\x'::bytea)
                || convert_to(jsonb_build_array(p_old, p_new)::text, 'UTF8'))
$$;

-- Content format 2: format 1's fields behind the format number, and the redaction flag as
-- it was when the row was sealed.
CREATE FUNCTION audit_row_content_v2(p_pos bigint, p_seq bigint, p_id uuid, p_tx xid8,
                                     p_created_at timestamptz, p_user uuid, p_action text,
                                     p_table text, p_record text, p_ip text, p_ua text,
                                     p_digest bytea, p_redacted boolean)
RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT convert_to(jsonb_build_array(2, p_pos, p_seq, p_id, p_tx::text,
                                      extract(epoch FROM p_created_at), p_user, p_action,
                                      p_table, p_record, p_ip, p_ua,
                                      encode(p_digest, 'hex'), p_redacted)::text, 'UTF8')
$$;

-- Chain up to p_limit unsealed rows of finished transactions, in (tx_id, seq) order, under
-- content format 2. A row without a salt gets one; a row redacted before sealing keeps
-- the salt its redaction gave it (its digest is then the one the redaction recorded).
-- When another sealer or an erasure's redaction holds the lock, seals nothing (returns 0)
-- rather than wait: a redaction holds it until its transaction ends, and the worker that
-- seals runs its other tasks in the same loop. The next run seals what is left.
CREATE OR REPLACE FUNCTION audit_seal(p_limit integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  horizon xid8;
  head audit_chain_head%ROWTYPE;
  seqs bigint[];
  stamps timestamptz[];
  salts bytea[];
  digests bytea[];
  contents bytea[];
  hashes bytea[];
  h bytea;
  n integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(@lock@) THEN
    RETURN 0;
  END IF;
  horizon := audit_seal_horizon();
  SELECT * INTO head FROM audit_chain_head;
  -- Materialized: the salt is drawn once per row.
  WITH batch AS MATERIALIZED (
    SELECT a.*, coalesce(a.payload_salt, uuid_send(gen_random_uuid())) AS salt
      FROM (SELECT * FROM audit_logs
             WHERE sealed_at IS NULL AND tx_id < horizon
             ORDER BY tx_id, seq LIMIT p_limit) a
  )
  SELECT array_agg(seq ORDER BY rn), array_agg(created_at ORDER BY rn),
         array_agg(salt ORDER BY rn), array_agg(digest ORDER BY rn),
         array_agg(audit_row_content_v2(head.last_pos + rn, seq, id, tx_id, created_at,
                                        user_id, action, table_name, record_id, ip_address,
                                        user_agent, digest, is_redacted) ORDER BY rn)
    INTO seqs, stamps, salts, digests, contents
    FROM (SELECT b.*, row_number() OVER (ORDER BY b.tx_id, b.seq) AS rn,
                 audit_payload_digest(b.salt, b.old_data, b.new_data) AS digest
            FROM batch b) s;
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
     SET chain_pos = head.last_pos + u.pos, payload_salt = u.salt, payload_digest = u.digest,
         row_hash = u.hash, sealed_at = clock_timestamp()
    FROM unnest(seqs, stamps, salts, digests, hashes)
           WITH ORDINALITY AS u(seq, created_at, salt, digest, hash, pos)
   WHERE a.created_at = u.created_at AND a.seq = u.seq AND a.sealed_at IS NULL;
  UPDATE audit_chain_head
     SET last_pos = head.last_pos + n, last_hash = h, sealed_at = clock_timestamp();
  RETURN n;
END $$;

-- The top-level fields (`old.<key>`, `new.<key>`, or the whole side) that differ between
-- a payload before and after a redaction. Keys are column names or the code's own keys,
-- never personal data; values are not looked at further.
CREATE FUNCTION audit_changed_fields(p_old jsonb, p_new jsonb, p_old2 jsonb, p_new2 jsonb)
RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(f ORDER BY f), '{}') FROM (
    SELECT 'old.' || e.key AS f
      FROM jsonb_each(CASE WHEN jsonb_typeof(p_old) = 'object' THEN p_old END) e
     WHERE e.value IS DISTINCT FROM p_old2 -> e.key
    UNION ALL
    SELECT 'new.' || e.key
      FROM jsonb_each(CASE WHEN jsonb_typeof(p_new) = 'object' THEN p_new END) e
     WHERE e.value IS DISTINCT FROM p_new2 -> e.key
    UNION ALL
    SELECT 'old' WHERE jsonb_typeof(p_old) IS DISTINCT FROM 'object' AND p_old IS DISTINCT FROM p_old2
    UNION ALL
    SELECT 'new' WHERE jsonb_typeof(p_new) IS DISTINCT FROM 'object' AND p_new IS DISTINCT FROM p_new2
  ) x
$$;

-- The top-level fields (`old.<key>`, `new.<key>`, or the whole side when it is no object)
-- whose value holds an erasure mark: what redactions left.
CREATE FUNCTION audit_erased_fields(p_old jsonb, p_new jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(f ORDER BY f), '{}') FROM (
    SELECT 'old.' || e.key AS f
      FROM jsonb_each(CASE WHEN jsonb_typeof(p_old) = 'object' THEN p_old END) e
     WHERE strpos(e.value::text, '[erased]') > 0
    UNION ALL
    SELECT 'new.' || e.key
      FROM jsonb_each(CASE WHEN jsonb_typeof(p_new) = 'object' THEN p_new END) e
     WHERE strpos(e.value::text, '[erased]') > 0
    UNION ALL
    SELECT 'old' WHERE jsonb_typeof(p_old) <> 'object' AND strpos(p_old::text, '[erased]') > 0
    UNION ALL
    SELECT 'new' WHERE jsonb_typeof(p_new) <> 'object' AND strpos(p_new::text, '[erased]') > 0
  ) x
$$;

-- One row's record in an audit.redacted entry: its key, its chain position (NULL: not
-- sealed yet), the digest of its payload before (NULL when it was neither sealed nor
-- redacted before: nothing had proved it, and an unsalted digest of personal data could
-- confirm a guess of it) and after, and the fields overwritten.
CREATE FUNCTION audit_redaction_record(p_created_at timestamptz, p_seq bigint, p_pos bigint,
                                       p_salt bytea, p_old jsonb, p_new jsonb,
                                       p_salt2 bytea, p_old2 jsonb, p_new2 jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'at', p_created_at, 'seq', p_seq, 'pos', p_pos,
    'before', CASE WHEN p_pos IS NOT NULL OR p_salt IS NOT NULL
                   THEN encode(audit_payload_digest(p_salt, p_old, p_new), 'hex') END,
    'after', encode(audit_payload_digest(p_salt2, p_old2, p_new2), 'hex'),
    'fields', to_jsonb(audit_changed_fields(p_old, p_new, p_old2, p_new2)))
$$;

-- Write the records of one redaction as audit.redacted entries of at most @chunk@ rows,
-- by the acting person, from where they act. Returns how many rows were redacted.
CREATE FUNCTION audit_log_redaction(p_function text, p_records jsonb) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = @schema@, pg_temp AS $$
DECLARE
  docs jsonb[];
  doc jsonb;
  total bigint := coalesce(jsonb_array_length(p_records), 0);
BEGIN
  IF total = 0 THEN
    RETURN 0;
  END IF;
  SELECT array_agg(jsonb_build_object('function', p_function, 'part', chunk + 1,
                                      'of', (total + @chunk@ - 1) / @chunk@,
                                      'rows', rows) ORDER BY chunk)
    INTO docs
    FROM (SELECT (i - 1) / @chunk@ AS chunk, jsonb_agg(r ORDER BY i) AS rows
            FROM jsonb_array_elements(p_records) WITH ORDINALITY AS t(r, i)
           GROUP BY 1) x;
  FOREACH doc IN ARRAY docs LOOP
    PERFORM audit_append(app_current_user_id(), 'audit.redacted', 'audit_logs', NULL, NULL, doc,
                         current_setting('app.ip_address', true),
                         current_setting('app.user_agent', true));
  END LOOP;
  RETURN total;
END $$;

-- Overwrite every case-insensitive occurrence of the terms (also JSON-escaped) in audit
-- payloads with '[erased]', flag the rows, give each a new salt, and record the redaction
-- (no term, no value). Takes the sealer's lock until the transaction ends, so no row is
-- sealed half-way through an erasure. Redaction entries are never redacted: they hold
-- keys, field names and digests only.
CREATE OR REPLACE FUNCTION audit_redact(p_terms text[]) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  pattern text := gdpr_pattern(p_terms);
  likes text[] := gdpr_like_patterns(p_terms);
  records jsonb;
BEGIN
  PERFORM gdpr_assert_allowed();
  IF pattern IS NULL THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(@lock@);
  WITH target AS (
    SELECT a.created_at, a.seq, a.chain_pos, a.payload_salt, a.old_data, a.new_data,
           CASE WHEN a.old_data::text ~* pattern
                THEN regexp_replace(a.old_data::text, pattern, '[erased]', 'gi')::jsonb
                ELSE a.old_data END AS old2,
           CASE WHEN a.new_data::text ~* pattern
                THEN regexp_replace(a.new_data::text, pattern, '[erased]', 'gi')::jsonb
                ELSE a.new_data END AS new2
      FROM audit_logs a
     WHERE (lower(a.old_data::text) LIKE ANY (likes) OR lower(a.new_data::text) LIKE ANY (likes))
       AND a.action <> 'audit.redacted'
  ), changed AS MATERIALIZED (
    SELECT t.*, uuid_send(gen_random_uuid()) AS salt2
      FROM target t
     WHERE t.old2 IS DISTINCT FROM t.old_data OR t.new2 IS DISTINCT FROM t.new_data
  ), done AS (
    UPDATE audit_logs a
       SET old_data = c.old2, new_data = c.new2, is_redacted = true, payload_salt = c.salt2
      FROM changed c
     WHERE a.created_at = c.created_at AND a.seq = c.seq
    RETURNING c.seq, audit_redaction_record(c.created_at, c.seq, c.chain_pos, c.payload_salt,
                                            c.old_data, c.new_data, c.salt2, c.old2,
                                            c.new2) AS rec
  )
  SELECT jsonb_agg(rec ORDER BY seq) INTO records FROM done;
  RETURN audit_log_redaction('audit_redact', records);
END $$;

-- The audit entries of given records, with the values of given fields overwritten (a
-- person's last name or bio is no term to search everyone's entries for, but in the
-- entries of their own profile it is theirs). Same guarantees as audit_redact.
CREATE OR REPLACE FUNCTION audit_redact_fields(p_table text, p_record_ids text[], p_fields text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  records jsonb;
BEGIN
  PERFORM gdpr_assert_allowed();
  PERFORM pg_advisory_xact_lock(@lock@);
  WITH target AS (
    SELECT a.created_at, a.seq, a.chain_pos, a.payload_salt, a.old_data, a.new_data,
           gdpr_erase_keys(a.old_data, p_fields) AS old2,
           gdpr_erase_keys(a.new_data, p_fields) AS new2
      FROM audit_logs a
     WHERE a.table_name = p_table AND a.record_id = ANY(p_record_ids)
       AND (a.old_data ?| p_fields OR a.new_data ?| p_fields)
  ), changed AS MATERIALIZED (
    SELECT t.*, uuid_send(gen_random_uuid()) AS salt2
      FROM target t
     WHERE t.old2 IS DISTINCT FROM t.old_data OR t.new2 IS DISTINCT FROM t.new_data
  ), done AS (
    UPDATE audit_logs a
       SET old_data = c.old2, new_data = c.new2, is_redacted = true, payload_salt = c.salt2
      FROM changed c
     WHERE a.created_at = c.created_at AND a.seq = c.seq
    RETURNING c.seq, audit_redaction_record(c.created_at, c.seq, c.chain_pos, c.payload_salt,
                                            c.old_data, c.new_data, c.salt2, c.old2,
                                            c.new2) AS rec
  )
  SELECT jsonb_agg(rec ORDER BY seq) INTO records FROM done;
  RETURN audit_log_redaction('audit_redact_fields', records);
END $$;

-- The row records of one audit.redacted entry's payload; one row with `malformed` when
-- any of it cannot be read (verification then reports the entry instead of failing).
CREATE FUNCTION audit_redaction_rows(p_doc jsonb)
RETURNS TABLE (seq bigint, at timestamptz, pos bigint, before bytea, after bytea,
               fields jsonb, malformed boolean)
LANGUAGE plpgsql IMMUTABLE SET search_path = @schema@, pg_temp AS $$
DECLARE
  bad boolean;
BEGIN
  BEGIN
    SELECT jsonb_typeof(p_doc -> 'rows') IS DISTINCT FROM 'array' OR EXISTS (
             SELECT 1 FROM jsonb_array_elements(p_doc -> 'rows') r
              WHERE jsonb_typeof(r) <> 'object'
                 OR (r ->> 'seq')::bigint IS NULL OR (r ->> 'at')::timestamptz IS NULL
                 OR (r ->> 'pos')::bigint < 1
                 OR length(decode(r ->> 'after', 'hex')) IS DISTINCT FROM 32
                 OR length(decode(r ->> 'before', 'hex')) <> 32
                 OR jsonb_typeof(coalesce(r -> 'fields', '[]')) <> 'array'
                 OR EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(r -> 'fields', '[]')) f
                             WHERE jsonb_typeof(f) <> 'string'))
      INTO bad;
  EXCEPTION WHEN OTHERS THEN
    bad := true;
  END;
  IF bad THEN
    RETURN QUERY SELECT NULL::bigint, NULL::timestamptz, NULL::bigint, NULL::bytea,
                        NULL::bytea, NULL::jsonb, true;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT (r ->> 'seq')::bigint, (r ->> 'at')::timestamptz, (r ->> 'pos')::bigint,
           decode(r ->> 'before', 'hex'), decode(r ->> 'after', 'hex'),
           coalesce(r -> 'fields', '[]'::jsonb), false
      FROM jsonb_array_elements(p_doc -> 'rows') r;
END $$;

-- Re-check the sealed chain from position p_from_pos (1: all of it) and return up to
-- p_max_problems problems in chain order (one row with ok when there is none). One pass
-- over the chain checks positions, each row's hash against its predecessor's and its own
-- content (format 1 before v2_from_pos, format 2 from there, with the redaction flag it
-- was sealed with) and each payload against its digest; the rows that are redacted, or
-- whose payload or flag do not match, are then re-derived from the audit.redacted entries
-- that name them: a redacted row verifies only if sealed entries name it, each starting
-- from the digest the one before left (the first from the sealed digest), the last ending
-- at the digest its payload has now, every field they name still erased, and its sealed
-- flag what they say (redacted before sealing or not). A later start trusts the hash of
-- the row before it.
CREATE FUNCTION audit_verify(p_from_pos bigint DEFAULT 1, p_max_problems integer DEFAULT 1)
RETURNS TABLE (ok boolean, checked bigint, broken_pos bigint, broken_seq bigint,
               broken_id uuid, broken_at timestamptz, problem text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  head audit_chain_head%ROWTYPE;
  total bigint;
  found_problems integer;
  last_hash bytea;
  last_pos bigint;
BEGIN
  SELECT * INTO head FROM audit_chain_head;
  SELECT count(*) INTO total FROM audit_logs WHERE chain_pos >= p_from_pos;
  RETURN QUERY
  WITH entries AS MATERIALIZED (
    SELECT e.chain_pos AS e_pos, e.seq AS e_seq, e.id AS e_id, e.created_at AS e_at, r.*
      FROM audit_logs e CROSS JOIN LATERAL audit_redaction_rows(e.new_data) r
     WHERE e.action = 'audit.redacted' AND e.action !~ '\.(insert|update|delete)$'
  ), linked AS (
    SELECT x.*, lag(x.after) OVER w AS prev_after, lag(x.pos) OVER w AS prev_pos,
           lag(x.e_pos) OVER w AS prev_e
      FROM entries x
     WHERE x.e_pos IS NOT NULL AND NOT x.malformed
    WINDOW w AS (PARTITION BY x.seq ORDER BY x.e_pos)
  ), named AS MATERIALIZED (
    SELECT l.seq, min(l.at) AS at_min, max(l.at) AS at_max,
           min(l.pos) AS pos_min, max(l.pos) AS pos_max, bool_or(l.pos IS NULL) AS pre_seal,
           min(l.e_pos) FILTER (WHERE l.prev_e IS NOT NULL AND (
                 (l.pos IS NULL AND l.prev_pos IS NOT NULL)
              OR (l.pos IS NOT NULL AND l.before IS NULL)
              OR (l.before IS NOT NULL AND l.before IS DISTINCT FROM l.prev_after))) AS bad_link_e,
           (array_agg(l.before ORDER BY l.e_pos) FILTER (WHERE l.pos IS NOT NULL))[1]
             AS first_post_before,
           min(l.e_pos) FILTER (WHERE l.pos IS NOT NULL) AS first_post_e,
           (array_agg(l.after ORDER BY l.e_pos DESC) FILTER (WHERE l.pos IS NULL))[1]
             AS last_pre_after,
           max(l.e_pos) FILTER (WHERE l.pos IS NULL) AS last_pre_e,
           (array_agg(l.after ORDER BY l.e_pos DESC))[1] AS last_after,
           max(l.e_pos) AS last_e,
           jsonb_agg(jsonb_build_object('e', l.e_pos, 'fields', l.fields)) AS marks
      FROM linked l
     GROUP BY l.seq
  ), waiting AS MATERIALIZED (
    SELECT x.seq, min(x.e_seq) AS e_seq
      FROM entries x WHERE x.e_pos IS NULL AND NOT x.malformed GROUP BY x.seq
  ), chain AS (
    SELECT a.chain_pos, a.seq, a.id, a.created_at, a.is_redacted, a.payload_digest,
           audit_payload_digest(a.payload_salt, a.old_data, a.new_data) AS cur_digest,
           CASE WHEN a.is_redacted THEN audit_erased_fields(a.old_data, a.new_data) END
             AS erased_fields,
           CASE WHEN a.chain_pos <> coalesce(lag(a.chain_pos) OVER w, 0) + 1
                THEN 'link: the entry before this one is missing (positions '
                     || coalesce(lag(a.chain_pos) OVER w, 0) || ' -> ' || a.chain_pos || ')'
           END AS link_problem,
           -- How the row was sealed: format 1, format 2 unredacted or redacted; NULL when
           -- its hash matches none (the row or the hash before it changed).
           CASE
             WHEN a.chain_pos < head.v2_from_pos THEN
               CASE WHEN a.row_hash = sha256(coalesce(lag(a.row_hash) OVER w, '\x'::bytea)
                      || audit_row_content(a.chain_pos, a.seq, a.id, a.tx_id, a.created_at,
                                           a.user_id, a.action, a.table_name, a.record_id,
                                           a.ip_address, a.user_agent, a.payload_digest))
                    THEN 'v1' END
             WHEN a.row_hash = sha256(coalesce(lag(a.row_hash) OVER w, '\x'::bytea)
                    || audit_row_content_v2(a.chain_pos, a.seq, a.id, a.tx_id, a.created_at,
                                            a.user_id, a.action, a.table_name, a.record_id,
                                            a.ip_address, a.user_agent, a.payload_digest,
                                            false))
               THEN 'v2'
             WHEN a.row_hash = sha256(coalesce(lag(a.row_hash) OVER w, '\x'::bytea)
                    || audit_row_content_v2(a.chain_pos, a.seq, a.id, a.tx_id, a.created_at,
                                            a.user_id, a.action, a.table_name, a.record_id,
                                            a.ip_address, a.user_agent, a.payload_digest,
                                            true))
               THEN 'v2 redacted'
           END AS sealed_as
      FROM audit_logs a
     WHERE a.chain_pos >= p_from_pos - 1
    WINDOW w AS (ORDER BY a.chain_pos)
  ), suspects AS MATERIALIZED (
    SELECT c.* FROM chain c
     WHERE c.chain_pos >= p_from_pos
       AND (c.link_problem IS NOT NULL OR c.sealed_as IS NULL OR c.sealed_as = 'v2 redacted'
            OR c.is_redacted OR c.payload_digest IS DISTINCT FROM c.cur_digest)
  ), row_problems AS (
    SELECT s.chain_pos AS pos, s.seq, s.id, s.created_at AS at,
      CASE
        WHEN s.link_problem IS NOT NULL THEN s.link_problem
        WHEN s.sealed_as IS NULL
          THEN 'content: this entry (or the hash of the one before it) was changed'
        WHEN r.seq IS NULL AND s.is_redacted AND w.seq IS NOT NULL
          THEN 'redaction: flagged as redacted by an entry still waiting to be sealed (seq '
               || w.e_seq || '); seal, then verify again'
        WHEN r.seq IS NULL AND s.is_redacted
          THEN 'redaction: flagged as redacted, but no redaction entry names it'
               || ' (the flag was set and the payload changed outside a redaction)'
        WHEN r.seq IS NULL AND s.sealed_as = 'v2 redacted'
          THEN 'redaction: sealed as redacted, but no redaction entry names it'
               || ' (its redaction entry was removed or changed)'
        WHEN r.seq IS NULL THEN 'content: old or new data changed after sealing'
        WHEN NOT s.is_redacted
          THEN 'redaction: the redaction entry at position ' || r.last_e
               || ' overwrote it, but it is no longer flagged as redacted'
        WHEN r.at_min <> s.created_at OR r.at_max <> s.created_at
             OR r.pos_min <> s.chain_pos OR r.pos_max <> s.chain_pos
          THEN 'redaction: a redaction entry names seq ' || s.seq
               || ' with another time or position than this entry''s'
        WHEN r.bad_link_e IS NOT NULL
          THEN 'redaction: the redaction entry at position ' || r.bad_link_e
               || ' does not start from what the redaction before it left'
        WHEN r.first_post_e IS NOT NULL AND r.first_post_before IS DISTINCT FROM s.payload_digest
          THEN 'redaction: the redaction entry at position ' || r.first_post_e
               || ' started from another payload than the sealed one'
        WHEN r.first_post_e IS NULL AND r.last_pre_after IS DISTINCT FROM s.payload_digest
          THEN 'redaction: sealed with another payload than its redaction (entry at position '
               || r.last_pre_e || ') left'
        WHEN s.sealed_as <> 'v1' AND (s.sealed_as = 'v2 redacted') IS DISTINCT FROM r.pre_seal
          THEN 'redaction: sealed ' || CASE WHEN r.pre_seal THEN 'unredacted' ELSE 'redacted' END
               || ', but its redaction entries say it was '
               || CASE WHEN r.pre_seal THEN 'redacted before' ELSE 'sealed before' END
               || ' (entry at position ' || r.last_e || ')'
        WHEN r.last_after IS DISTINCT FROM s.cur_digest
          THEN 'content: old or new data changed after its last redaction (entry at position '
               || r.last_e || ')'
        -- Every field a redaction named still holds its mark (the latest naming it is
        -- the one that left it so).
        ELSE (SELECT 'redaction: the field ' || f.field || ' that the redaction entry at position '
                     || (m ->> 'e') || ' erased holds something else'
                FROM jsonb_array_elements(r.marks) m,
                     jsonb_array_elements_text(m -> 'fields') f(field)
               WHERE NOT f.field = ANY(s.erased_fields)
               ORDER BY (m ->> 'e')::bigint DESC, f.field LIMIT 1)
      END AS problem
      FROM suspects s
      LEFT JOIN named r ON r.seq = s.seq
      LEFT JOIN waiting w ON w.seq = s.seq
  ), stray AS (
    -- Entries named by a redaction although nothing about them looks redacted.
    SELECT coalesce(a.chain_pos, r.last_e) AS pos, coalesce(a.seq, e.e_seq) AS seq,
           coalesce(a.id, e.e_id) AS id, coalesce(a.created_at, e.e_at) AS at,
           CASE WHEN a.seq IS NOT NULL
                THEN 'redaction: the redaction entry at position ' || r.last_e
                     || ' names this entry, but it is not flagged as redacted'
                ELSE 'redaction: this redaction entry names seq ' || r.seq
                     || ', which is not in the chain'
           END AS problem
      FROM named r
      JOIN entries e ON e.e_pos = r.last_e AND e.seq = r.seq
      LEFT JOIN audit_logs a ON a.created_at = r.at_min AND a.seq = r.seq
     WHERE NOT EXISTS (SELECT 1 FROM suspects s WHERE s.seq = r.seq)
       AND (a.seq IS NULL OR a.chain_pos >= p_from_pos)
       AND r.last_e >= p_from_pos
  ), unreadable AS (
    SELECT DISTINCT x.e_pos AS pos, x.e_seq AS seq, x.e_id AS id, x.e_at AS at,
           'redaction: this redaction entry cannot be read' AS problem
      FROM entries x WHERE x.malformed AND x.e_pos >= p_from_pos
  ), problems AS (
    SELECT * FROM row_problems WHERE row_problems.problem IS NOT NULL
    UNION ALL SELECT * FROM stray
    UNION ALL SELECT * FROM unreadable
  )
  SELECT false, total, p.pos, p.seq, p.id, p.at, p.problem
    FROM problems p
   ORDER BY p.pos, p.seq
   LIMIT greatest(p_max_problems, 1);
  GET DIAGNOSTICS found_problems = ROW_COUNT;
  IF found_problems >= greatest(p_max_problems, 1) THEN
    RETURN;
  END IF;
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
  IF found_problems = 0 THEN
    RETURN QUERY SELECT true, total, NULL::bigint, NULL::bigint, NULL::uuid,
                        NULL::timestamptz, NULL::text;
  END IF;
END $$;
"""

# The auth functions of migration 0003, their audit rows written through audit_append.
AUTH_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION auth_record_failure(p_user_id uuid, p_ip text, p_user_agent text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  attempts integer;
BEGIN
  UPDATE users
     SET login_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= now()
                               THEN 1 ELSE login_attempts + 1 END,
         locked_until = CASE
           WHEN locked_until IS NOT NULL AND locked_until <= now() THEN NULL
           WHEN login_attempts + 1 >= 5 THEN coalesce(locked_until, now() + interval '15 minutes')
           ELSE locked_until END
   WHERE id = p_user_id
  RETURNING login_attempts INTO attempts;
  PERFORM audit_append(p_user_id, 'auth.sign_in_failed', 'users', p_user_id::text, NULL,
                       jsonb_build_object('login_attempts', attempts), p_ip, p_user_agent);
  RETURN attempts;
END $$;

-- Called only after the password (or the identity provider) has vouched for the person.
CREATE OR REPLACE FUNCTION auth_record_success(p_user_id uuid, p_method text, p_new_hash text,
                                               p_ip text, p_user_agent text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  UPDATE users
     SET login_attempts = 0, locked_until = NULL, last_login = now(),
         password_hash = coalesce(p_new_hash, password_hash),
         status = CASE WHEN status = 'pending' AND p_method = 'oidc' THEN 'active'
                       ELSE status END,
         email_verified = email_verified OR p_method = 'oidc'
   WHERE id = p_user_id;
  PERFORM audit_append(p_user_id, 'auth.signed_in', 'users', p_user_id::text, NULL,
                       jsonb_build_object('method', p_method), p_ip, p_user_agent);
END $$;

CREATE OR REPLACE FUNCTION auth_set_reset_token(p_email text, p_token_hash text, p_minutes integer)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  found uuid;
BEGIN
  UPDATE users
     SET reset_token = p_token_hash,
         reset_token_expires_at = now() + make_interval(mins => p_minutes)
   WHERE lower(email) = lower(trim(p_email)) AND status IN ('active', 'pending')
  RETURNING id INTO found;
  IF found IS NOT NULL THEN
    PERFORM audit_append(found, 'auth.reset_requested', 'users', found::text, NULL, NULL,
                         current_setting('app.ip_address', true),
                         current_setting('app.user_agent', true));
  END IF;
  RETURN found;
END $$;

-- Redeem a token once: sets the new hash, clears the token and any lockout, and
-- activates an invited account. NULL when the token is unknown, used or expired.
CREATE OR REPLACE FUNCTION auth_redeem_reset_token(p_token_hash text, p_new_hash text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  found uuid;
BEGIN
  UPDATE users
     SET password_hash = p_new_hash, reset_token = NULL, reset_token_expires_at = NULL,
         login_attempts = 0, locked_until = NULL, must_change_password = false,
         status = CASE WHEN status = 'pending' THEN 'active' ELSE status END
   WHERE reset_token = p_token_hash AND reset_token_expires_at > now()
     AND status IN ('active', 'pending')
  RETURNING id INTO found;
  IF found IS NOT NULL THEN
    PERFORM audit_append(found, 'auth.password_reset', 'users', found::text, NULL, NULL,
                         current_setting('app.ip_address', true),
                         current_setting('app.user_agent', true));
  END IF;
  RETURN found;
END $$;
"""

# Rows flagged redacted before this migration: recorded as found, each with a salt so its
# digest from now on is salted like every other.
LEGACY_REDACTIONS = r"""
WITH changed AS MATERIALIZED (
  SELECT a.created_at, a.seq, a.chain_pos, a.payload_digest, a.old_data, a.new_data,
         uuid_send(gen_random_uuid()) AS salt2
    FROM audit_logs a
   WHERE a.is_redacted
), done AS (
  UPDATE audit_logs a SET payload_salt = c.salt2
    FROM changed c
   WHERE a.created_at = c.created_at AND a.seq = c.seq
  RETURNING c.seq, jsonb_build_object(
    'at', c.created_at, 'seq', c.seq, 'pos', c.chain_pos,
    'before', encode(c.payload_digest, 'hex'),
    'after', encode(audit_payload_digest(c.salt2, c.old_data, c.new_data), 'hex'),
    'fields', to_jsonb(audit_erased_fields(c.old_data, c.new_data))) AS rec
)
SELECT audit_log_redaction('migration 0011', jsonb_agg(rec ORDER BY seq)) FROM done
"""

# Created here; dropped by the downgrade (in this order).
NEW_FUNCTIONS = (
    "audit_verify(bigint, integer)",
    "audit_redaction_rows(jsonb)",
    "audit_log_redaction(text, jsonb)",
    "audit_redaction_record(timestamptz, bigint, bigint, bytea, jsonb, jsonb, bytea, jsonb, jsonb)",
    "audit_erased_fields(jsonb, jsonb)",
    "audit_changed_fields(jsonb, jsonb, jsonb, jsonb)",
    "audit_row_content_v2(bigint, bigint, uuid, xid8, timestamptz, uuid, text, text, text,"
    " text, text, bytea, boolean)",
    "audit_payload_digest(bytea, jsonb, jsonb)",
    "audit_record(text, text, text, jsonb, jsonb)",
    "audit_append(uuid, text, text, text, jsonb, jsonb, text, text)",
    "audit_mask(jsonb)",
)
# Replaced here; the downgrade restores the definitions their migrations shipped.
REPLACED = (
    ("0003_security.py", "auth_record_failure"),
    ("0003_security.py", "auth_record_success"),
    ("0003_security.py", "auth_set_reset_token"),
    ("0003_security.py", "auth_redeem_reset_token"),
    ("0005_audit_trail.py", "audit_row_change"),
    ("0005_audit_trail.py", "audit_seal"),
    ("0006_data_subject_requests.py", "audit_redact"),
    ("0006_data_subject_requests.py", "audit_redact_fields"),
)
APP_INSERT_COLUMNS_0005 = (
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


def _app_role() -> str:
    # As migration 0003 reads it: migrations must not change with the application code.
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _shipped_module(file_name: str) -> ModuleType:
    # Migration modules are not a package: load a sibling by path.
    path = Path(__file__).with_name(file_name)
    spec = importlib.util.spec_from_file_location(f"_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shipped(file_name: str, function: str, schema: str) -> str:
    """`function` as the migration `file_name` shipped it, as CREATE OR REPLACE."""
    source: str = _shipped_module(file_name).FUNCTIONS
    found = re.search(rf"^CREATE FUNCTION {function}\(.*?\$\$;$", source, re.M | re.S)
    assert found is not None, f"{function} not in {file_name}"
    body = found.group(0).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    if file_name.startswith("0003"):
        return body.format(schema=schema)
    return body.replace("@schema@", schema).replace("@lock@", str(SEAL_LOCK_KEY))


def _trigger(table: str, args: Sequence[str]) -> str:
    quoted = ", ".join(f"'{a}'" for a in args)
    return (
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION audit_row_change({quoted})"
    )


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    # No row is sealed while the chain's format and its writers change.
    op.execute(f"SELECT pg_advisory_xact_lock({SEAL_LOCK_KEY})")

    op.add_column("audit_logs", sa.Column("payload_salt", sa.LargeBinary(), nullable=True))
    op.add_column(
        "audit_chain_head",
        sa.Column("v2_from_pos", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
    )
    sql = (
        FUNCTIONS.replace("@schema@", schema)
        .replace("@lock@", str(SEAL_LOCK_KEY))
        .replace("@chunk@", str(REDACTION_CHUNK))
        .replace("@secret_hint@", SECRET_HINT)
        .replace("@secret@", SECRET_KEY)
    )
    op.execute("DROP FUNCTION audit_verify(bigint)")
    op.execute(sa.text(sql))
    op.execute(sa.text(AUTH_FUNCTIONS.replace("@schema@", schema)))
    actions = sa.table(
        "audit_actions",
        sa.column("action"),
        sa.column("recorded_by"),
        sa.column("without_person"),
        sa.column("description"),
    )
    op.bulk_insert(
        actions,
        [
            {"action": a, "recorded_by": by, "without_person": job, "description": d}
            for a, by, job, d in ACTIONS
        ],
    )
    op.execute("SELECT set_config('app.user_agent', 'migration 0011', true)")
    conn.execute(sa.text(LEGACY_REDACTIONS))
    # Only the redaction entry is this migration's: the migrations after it share the
    # transaction and must not be recorded under its name.
    op.execute("SELECT set_config('app.user_agent', '', true)")
    op.execute("UPDATE audit_chain_head SET v2_from_pos = last_pos + 1")

    for table, keys, masked, ignored in NEW_TRIGGERS:
        op.execute(_trigger(table, (keys, masked, ignored)))
    op.execute(f"DROP TRIGGER {TRIGGER} ON users")
    op.execute(_trigger("users", USERS_ARGS))

    op.execute("DROP POLICY audit_logs_insert ON audit_logs")
    op.execute("ALTER TABLE audit_actions ENABLE ROW LEVEL SECURITY")
    # A catalogue of action names, no personal data: anyone signed in may read it, nobody
    # but the owner (migrations) writes it.
    op.execute(
        "CREATE POLICY audit_actions_read ON audit_actions FOR SELECT TO PUBLIC"
        " USING ((SELECT app_current_user_id()) IS NOT NULL)"
    )
    for signature in NEW_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    role = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        app = _quote(conn, role)
        op.execute(f"REVOKE INSERT ({', '.join(APP_INSERT_COLUMNS_0005)}) ON audit_logs FROM {app}")
        op.execute(f"REVOKE INSERT ON audit_logs FROM {app}")
        op.execute(f"REVOKE USAGE ON SEQUENCE audit_logs_seq_seq FROM {app}")
        op.execute(f"GRANT SELECT ON audit_actions TO {app}")
        for signature in (
            "audit_record(text, text, text, jsonb, jsonb)",
            "audit_verify(bigint, integer)",
        ):
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {app}")


def downgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    op.execute(f"SELECT pg_advisory_xact_lock({SEAL_LOCK_KEY})")
    # Rows sealed under format 2 go back to waiting; 0005's sealer chains them again
    # under format 1 after the last row it sealed itself.
    op.execute(
        """
        UPDATE audit_logs SET chain_pos = NULL, payload_digest = NULL, row_hash = NULL,
               sealed_at = NULL
         WHERE chain_pos >= (SELECT v2_from_pos FROM audit_chain_head)
        """
    )
    op.execute(
        """
        UPDATE audit_chain_head h
           SET last_pos = h.v2_from_pos - 1,
               last_hash = coalesce((SELECT a.row_hash FROM audit_logs a
                                      WHERE a.chain_pos = h.v2_from_pos - 1), '\\x'::bytea),
               sealed_at = (SELECT a.sealed_at FROM audit_logs a
                             WHERE a.chain_pos = h.v2_from_pos - 1)
        """
    )
    op.execute(f"DROP TRIGGER {TRIGGER} ON users")
    op.execute(_trigger("users", USERS_ARGS_0005))
    for table, *_ in NEW_TRIGGERS:
        op.execute(f"DROP TRIGGER {TRIGGER} ON {table}")
    for file_name, function in REPLACED:
        op.execute(sa.text(_shipped(file_name, function, schema)))
    for signature in NEW_FUNCTIONS:
        op.execute(f"DROP FUNCTION {signature}")
    op.execute(sa.text(_shipped("0005_audit_trail.py", "audit_verify", schema)))
    op.execute("REVOKE ALL ON FUNCTION audit_verify(bigint) FROM PUBLIC")
    op.execute("DROP TABLE audit_actions")
    op.drop_column("audit_chain_head", "v2_from_pos")
    op.drop_column("audit_logs", "payload_salt")
    role = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        app = _quote(conn, role)
        op.execute(f"GRANT INSERT ({', '.join(APP_INSERT_COLUMNS_0005)}) ON audit_logs TO {app}")
        op.execute(f"GRANT USAGE ON SEQUENCE audit_logs_seq_seq TO {app}")
        op.execute(f"GRANT EXECUTE ON FUNCTION audit_verify(bigint) TO {app}")
    op.execute(
        "CREATE POLICY audit_logs_insert ON audit_logs FOR INSERT TO PUBLIC"
        " WITH CHECK (user_id = (SELECT app_current_user_id()))"
    )
