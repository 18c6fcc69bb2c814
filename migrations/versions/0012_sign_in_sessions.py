"""Sign-in hardening (issue 15, findings 5 and 6): credentials out of the app role's reach,
database-verified sessions, throttling instead of a lockout.

- A second login role for the sign-in path, FASHIONISTAS_AUTH_ROLE (default
  `fashionistas_auth`, LOGIN NOSUPERUSER NOBYPASSRLS, created like the app role in 0003).
  It owns no table and holds no table privilege: it may only EXECUTE the sign-in
  functions below (SECURITY DEFINER, fixed search_path).
- `user_credentials` (password hash, reset token hash and expiry) takes users.password_hash,
  users.reset_token and users.reset_token_expires_at; users.login_attempts and
  users.locked_until go (the lockout is replaced by throttling). Existing hashes and
  (already SHA-256) reset tokens are moved, not lost.
- `auth_sessions`: one row per sign-in (hash of a random token, user, method, created,
  last seen, idle window, expiry, revoked). `app_current_user_id()` now returns the user of
  the valid session named by the transaction-local `app.session`; only a connection of the
  role that owns the schema (migrations, demo loader, CLI, tests on the owner) may still
  name the acting user outright with `app.user_id`.
- `sign_in_throttles`: failures per (address, account typed) and per address, with
  doubling delays up to a ceiling, forgotten after a quiet period.
- A trigger ends a person's sessions when their account leaves 'active', and removes their
  credentials, sessions and throttle rows when it is anonymised.
- The retention category 'reset_tokens' goes: the sign-in path clears expired tokens itself.
- Tables of this migration have row-level security with a restrictive deny-all policy and
  no grants to the app or the sign-in role: only these definer functions reach them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import importlib.util
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")
RESET_TOKENS_SETTING = (
    uuid.uuid5(_NAMESPACE, "setting:retention:reset_tokens"),
    "reset_tokens",
    "P7D",
    "Expired password reset tokens are cleared after this.",
)

NEW_TABLES = ("user_credentials", "auth_sessions", "sign_in_throttles")
# users.manage's description named the unlock that throttling replaces: (before, after).
USERS_MANAGE_DESCRIPTION = (
    "Invite users, set roles, deactivate and unlock.",
    "Invite users, set roles, deactivate, and lift sign-in throttles.",
)

# Throttling: failures that cost nothing, then 1 s doubling to the ceiling; a row is
# forgotten after its quiet period (docs/SECURITY.md).
FREE_PER_ACCOUNT = 3
FREE_PER_ADDRESS = 10
CEILING_SECONDS = 900
FORGET_ACCOUNT = "24 hours"
FORGET_ADDRESS = "1 hour"
# Ended sessions are kept this long (nothing reads them after; the audit log keeps sign-ins).
KEEP_ENDED_SESSIONS = "1 day"

FUNCTIONS = r"""
CREATE FUNCTION auth_token_hash(p_token text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT encode(sha256(convert_to(p_token, 'UTF8')), 'hex')
$$;

-- 244 random bits (two version-4 uuids from the server's strong random source), hex.
CREATE FUNCTION auth_new_token() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'hex')
$$;

CREATE FUNCTION auth_throttle_delay(p_failures integer, p_free integer) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_failures <= p_free THEN interval '0'
              ELSE make_interval(secs => least({ceiling}, 2 ^ least(p_failures - p_free - 1, 30)))
         END
$$;

-- The acting person of this transaction. Runs in every policy (wrapped as a sub-select,
-- so once per query): one index lookup on the session's token hash. Sessions end when
-- their account leaves 'active' (trigger auth_user_changed), so the row alone decides.
-- SELECT INTO a variable, not RETURN (SELECT ...): the sub-select form costs about four
-- times as much per call (bench/rls.py).
CREATE OR REPLACE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  token text := current_setting('app.session', true);
  digest text;
  holder uuid;
BEGIN
  IF token IS NOT NULL AND token <> '' THEN
    digest := encode(sha256(convert_to(token, 'UTF8')), 'hex');
    SELECT s.user_id INTO holder FROM auth_sessions s
     WHERE s.token_hash = digest AND s.revoked_at IS NULL AND s.expires_at > now();
    RETURN holder;
  END IF;
  -- The owner (migrations, demo loader, command line, tests on the owner connection) may
  -- name the acting user: it can do anything anyway. current_user is this function's
  -- owner; session_user is who logged in. Every other role needs a session.
  IF pg_has_role(session_user, current_user, 'MEMBER') THEN
    RETURN nullif(current_setting('app.user_id', true), '')::uuid;
  END IF;
  RETURN NULL;
END $$;

-- A new session for an active account; the raw token is returned once, only its hash kept.
CREATE FUNCTION auth_open_session(p_user_id uuid, p_method text, p_idle_minutes integer,
                                  p_job_id uuid DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  token text;
BEGIN
  -- FOR SHARE: a deactivation committing meanwhile waits, or we see its result.
  PERFORM 1 FROM users WHERE id = p_user_id AND status = 'active' FOR SHARE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  token := auth_new_token();
  INSERT INTO auth_sessions (token_hash, user_id, method, idle_minutes, expires_at, job_id)
  VALUES (auth_token_hash(token), p_user_id, p_method, p_idle_minutes,
          now() + make_interval(mins => p_idle_minutes), p_job_id);
  RETURN token;
END $$;

-- Extend a valid session by its idle window and say whose it is, or why it ended.
CREATE FUNCTION auth_touch_session(p_token text)
RETURNS TABLE (acting_user uuid, ended text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  digest text := auth_token_hash(coalesce(p_token, ''));
  holder uuid;
  why text;
BEGIN
  UPDATE auth_sessions s
     SET last_seen_at = now(), expires_at = now() + make_interval(mins => s.idle_minutes)
   WHERE s.token_hash = digest AND s.revoked_at IS NULL AND s.expires_at > now()
  RETURNING s.user_id INTO holder;
  IF holder IS NOT NULL THEN
    RETURN QUERY SELECT holder, NULL::text;
    RETURN;
  END IF;
  SELECT CASE WHEN s.revoked_at IS NOT NULL THEN s.revoked_reason ELSE 'expired' END
    INTO why FROM auth_sessions s WHERE s.token_hash = digest;
  RETURN QUERY SELECT NULL::uuid, coalesce(why, 'unknown');
END $$;

-- End one session (its holder signing out, or a finished job).
CREATE FUNCTION auth_end_session(p_token text, p_reason text) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF p_reason NOT IN ('signed_out', 'job_finished') THEN
    RAISE EXCEPTION 'a session ends by signing out or when its job finishes'
      USING ERRCODE = '22023';
  END IF;
  UPDATE auth_sessions SET revoked_at = now(), revoked_reason = p_reason
   WHERE token_hash = auth_token_hash(coalesce(p_token, '')) AND revoked_at IS NULL;
  RETURN FOUND;
END $$;

-- Before a password is checked: the wait the throttle imposes on (address, email) and on
-- the address, and only when there is none the account's id and hash (active accounts
-- with a password). An unknown email is throttled exactly like a known one.
CREATE FUNCTION auth_sign_in_check(p_email text, p_ip text)
RETURNS TABLE (wait_seconds integer, account uuid, stored_hash text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  typed text := left(lower(trim(coalesce(p_email, ''))), 254);
  address text := left(coalesce(p_ip, ''), 45);
  wait integer;
BEGIN
  SELECT coalesce(ceil(extract(epoch FROM max(t.blocked_until) - now())), 0)
    INTO wait FROM sign_in_throttles t
   WHERE t.ip_address = address
     AND ((t.kind = 'account' AND t.email = typed) OR (t.kind = 'address' AND t.email = ''));
  IF wait > 0 THEN
    RETURN QUERY SELECT wait, NULL::uuid, NULL::text;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT 0, u.id, c.password_hash::text FROM users u
      JOIN user_credentials c ON c.user_id = u.id
     WHERE lower(u.email) = lower(trim(coalesce(p_email, ''))) AND u.status = 'active'
       AND c.password_hash IS NOT NULL;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 0, NULL::uuid, NULL::text;
  END IF;
END $$;

-- A wrong password (or an unknown email): count it per (address, email) and per address,
-- and return the wait now imposed on this address for this email, in seconds.
CREATE FUNCTION auth_sign_in_failed(p_email text, p_ip text, p_user_agent text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  typed text := left(lower(trim(coalesce(p_email, ''))), 254);
  address text := left(coalesce(p_ip, ''), 45);
  until_account timestamptz;
  until_address timestamptz;
  failures_account integer;
  account_id uuid;
BEGIN
  DELETE FROM sign_in_throttles t WHERE t.ip_address = address
     AND t.last_failed_at < now() - CASE WHEN t.kind = 'account' THEN interval '{forget_account}'
                                         ELSE interval '{forget_address}' END;
  INSERT INTO sign_in_throttles AS t (ip_address, kind, email, failures, first_failed_at,
                                      last_failed_at, blocked_until)
  VALUES (address, 'account', typed, 1, now(), now(), now() + auth_throttle_delay(1, {free_account}))
  ON CONFLICT (ip_address, kind, email) DO UPDATE
     SET failures = t.failures + 1, last_failed_at = now(),
         blocked_until = now() + auth_throttle_delay(t.failures + 1, {free_account})
  RETURNING t.blocked_until, t.failures INTO until_account, failures_account;
  INSERT INTO sign_in_throttles AS t (ip_address, kind, email, failures, first_failed_at,
                                      last_failed_at, blocked_until)
  VALUES (address, 'address', '', 1, now(), now(), now() + auth_throttle_delay(1, {free_address}))
  ON CONFLICT (ip_address, kind, email) DO UPDATE
     SET failures = t.failures + 1, last_failed_at = now(),
         blocked_until = now() + auth_throttle_delay(t.failures + 1, {free_address})
  RETURNING t.blocked_until INTO until_address;
  SELECT u.id INTO account_id FROM users u WHERE lower(u.email) = lower(trim(coalesce(p_email, '')));
  IF account_id IS NOT NULL THEN
    PERFORM audit_append(account_id, 'auth.sign_in_failed', 'users', account_id::text, NULL,
                         jsonb_build_object('failures_from_address', failures_account),
                         address, p_user_agent);
  END IF;
  RETURN greatest(0, ceil(extract(epoch FROM greatest(until_account, until_address) - now())));
END $$;

-- The password (checked by the caller) was right: forget this address's failures for the
-- email, note the sign-in, store a rehash if one is due, and open a session.
CREATE FUNCTION auth_sign_in_succeeded(p_user_id uuid, p_email text, p_ip text,
                                       p_user_agent text, p_new_hash text,
                                       p_idle_minutes integer)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  address text := left(coalesce(p_ip, ''), 45);
  token text;
BEGIN
  token := auth_open_session(p_user_id, 'password', p_idle_minutes);
  IF token IS NULL THEN
    RETURN NULL;
  END IF;
  DELETE FROM sign_in_throttles
   WHERE ip_address = address AND kind = 'account'
     AND email = left(lower(trim(coalesce(p_email, ''))), 254);
  UPDATE users SET last_login = now() WHERE id = p_user_id;
  IF p_new_hash IS NOT NULL THEN
    UPDATE user_credentials SET password_hash = p_new_hash WHERE user_id = p_user_id;
  END IF;
  PERFORM audit_append(p_user_id, 'auth.signed_in', 'users', p_user_id::text, NULL,
                       jsonb_build_object('method', 'password'), address, p_user_agent);
  RETURN token;
END $$;

-- The identity provider vouched for a verified email (checked by the caller): an invited
-- or active account signs in, an invited one becomes active. NULL for anyone else.
CREATE FUNCTION auth_oidc_sign_in(p_email text, p_ip text, p_user_agent text,
                                  p_idle_minutes integer)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  account_id uuid;
  token text;
BEGIN
  SELECT id INTO account_id FROM users
   WHERE lower(email) = lower(trim(coalesce(p_email, ''))) AND status IN ('active', 'pending')
   FOR UPDATE;
  IF account_id IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE users SET status = 'active', email_verified = true, last_login = now()
   WHERE id = account_id;
  token := auth_open_session(account_id, 'oidc', p_idle_minutes);
  PERFORM audit_append(account_id, 'auth.signed_in', 'users', account_id::text, NULL,
                       jsonb_build_object('method', 'oidc'), left(coalesce(p_ip, ''), 45),
                       p_user_agent);
  RETURN token;
END $$;

-- The user and password hash behind a valid session (changing one's own password).
CREATE FUNCTION auth_session_password(p_token text)
RETURNS TABLE (account uuid, stored_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT s.user_id, c.password_hash::text FROM auth_sessions s
    LEFT JOIN user_credentials c ON c.user_id = s.user_id
   WHERE s.token_hash = auth_token_hash(coalesce(p_token, ''))
     AND s.revoked_at IS NULL AND s.expires_at > now()
$$;

-- Set the password of a valid session's person (the caller checked the current one), end
-- the forced change and every other session of theirs.
CREATE FUNCTION auth_change_password(p_token text, p_new_hash text, p_ip text,
                                     p_user_agent text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  digest text := auth_token_hash(coalesce(p_token, ''));
  account_id uuid;
BEGIN
  SELECT user_id INTO account_id FROM auth_sessions
   WHERE token_hash = digest AND revoked_at IS NULL AND expires_at > now();
  IF account_id IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO user_credentials (user_id, password_hash, password_changed_at)
  VALUES (account_id, p_new_hash, now())
  ON CONFLICT (user_id) DO UPDATE
     SET password_hash = EXCLUDED.password_hash, password_changed_at = now();
  UPDATE users SET must_change_password = false WHERE id = account_id AND must_change_password;
  UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'password_changed'
   WHERE user_id = account_id AND revoked_at IS NULL AND token_hash <> digest;
  PERFORM audit_append(account_id, 'auth.password_changed', 'users', account_id::text, NULL,
                       NULL, left(coalesce(p_ip, ''), 45), p_user_agent);
  RETURN account_id;
END $$;

-- An admin (users.manage, asked of the verified acting person) has a reset or invitation
-- token made for an active or invited account. The token is made here, returned once,
-- and only its hash is stored: nobody can choose one.
CREATE FUNCTION auth_issue_reset_token(p_user_id uuid, p_minutes integer) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  token text;
BEGIN
  IF NOT coalesce(app_has_permission('users.manage'), false) THEN
    RAISE EXCEPTION 'making a reset token needs users.manage' USING ERRCODE = '42501';
  END IF;
  IF p_minutes NOT BETWEEN 1 AND 10080 THEN
    RAISE EXCEPTION 'a reset token lives between 1 minute and 7 days' USING ERRCODE = '22023';
  END IF;
  PERFORM 1 FROM users WHERE id = p_user_id AND status IN ('active', 'pending') FOR SHARE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  token := auth_new_token();
  INSERT INTO user_credentials (user_id, reset_token_hash, reset_token_expires_at)
  VALUES (p_user_id, auth_token_hash(token), now() + make_interval(mins => p_minutes))
  ON CONFLICT (user_id) DO UPDATE
     SET reset_token_hash = EXCLUDED.reset_token_hash,
         reset_token_expires_at = EXCLUDED.reset_token_expires_at;
  PERFORM audit_append(app_current_user_id(), 'auth.reset_token_issued', 'users',
                       p_user_id::text, NULL, jsonb_build_object('valid_minutes', p_minutes),
                       current_setting('app.ip_address', true),
                       current_setting('app.user_agent', true));
  RETURN token;
END $$;

-- Redeem a reset (or invitation) token once, before it expires: set the password, end the
-- forced change and every session, activate an invited account.
CREATE FUNCTION auth_redeem_reset_token(p_token text, p_new_hash text) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  account_id uuid;
BEGIN
  UPDATE user_credentials c
     SET password_hash = p_new_hash, password_changed_at = now(), reset_token_hash = NULL,
         reset_token_expires_at = NULL
    FROM users u
   WHERE u.id = c.user_id AND c.reset_token_hash = auth_token_hash(coalesce(p_token, ''))
     AND c.reset_token_expires_at > now() AND u.status IN ('active', 'pending')
  RETURNING c.user_id INTO account_id;
  IF account_id IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE users SET must_change_password = false,
                   status = CASE WHEN status = 'pending' THEN 'active' ELSE status END
   WHERE id = account_id;
  UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'password_changed'
   WHERE user_id = account_id AND revoked_at IS NULL;
  PERFORM audit_append(account_id, 'auth.password_reset', 'users', account_id::text, NULL,
                       NULL, NULL, NULL);
  RETURN account_id;
END $$;

-- A running job acts as the person who queued it, for as long as it runs.
CREATE FUNCTION auth_open_job_session(p_job_id uuid, p_idle_minutes integer) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  creator uuid;
BEGIN
  SELECT created_by INTO creator FROM background_jobs
   WHERE id = p_job_id AND status = 'running';
  IF creator IS NULL THEN
    RETURN NULL;
  END IF;
  RETURN auth_open_session(creator, 'job', p_idle_minutes, p_job_id);
END $$;

-- Addresses the throttle remembers, for admins (users.manage).
CREATE FUNCTION auth_throttles()
RETURNS TABLE (ip_address text, kind text, email text, failures integer,
               first_failed_at timestamptz, last_failed_at timestamptz,
               blocked_until timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
#variable_conflict use_column
BEGIN
  IF NOT coalesce(app_has_permission('users.manage'), false) THEN
    RAISE EXCEPTION 'seeing sign-in throttles needs users.manage' USING ERRCODE = '42501';
  END IF;
  RETURN QUERY
    SELECT t.ip_address::text, t.kind::text, t.email::text, t.failures, t.first_failed_at,
           t.last_failed_at, t.blocked_until
      FROM sign_in_throttles t
     WHERE t.last_failed_at >= now() - CASE WHEN t.kind = 'account'
                                            THEN interval '{forget_account}'
                                            ELSE interval '{forget_address}' END
     ORDER BY t.blocked_until DESC, t.last_failed_at DESC
     LIMIT 1000;
END $$;

-- Lift the throttle of an address (every row of it, or one email's), audited.
CREATE FUNCTION auth_lift_throttle(p_ip text, p_email text) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  lifted integer;
BEGIN
  IF NOT coalesce(app_has_permission('users.manage'), false) THEN
    RAISE EXCEPTION 'lifting a sign-in throttle needs users.manage' USING ERRCODE = '42501';
  END IF;
  DELETE FROM sign_in_throttles
   WHERE ip_address = coalesce(p_ip, '')
     AND (p_email IS NULL OR (kind = 'account' AND email = lower(trim(p_email))));
  GET DIAGNOSTICS lifted = ROW_COUNT;
  IF lifted > 0 THEN
    PERFORM audit_append(app_current_user_id(), 'auth.throttle_lifted', 'sign_in_throttles',
                         coalesce(p_ip, ''), NULL,
                         jsonb_build_object('address', coalesce(p_ip, ''), 'email', p_email,
                                            'rows', lifted),
                         current_setting('app.ip_address', true),
                         current_setting('app.user_agent', true));
  END IF;
  RETURN lifted;
END $$;

-- Forget what throttling and sessions no longer need, and expired reset tokens.
CREATE FUNCTION auth_purge() RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  total integer := 0;
  n integer;
BEGIN
  DELETE FROM sign_in_throttles
   WHERE last_failed_at < now() - CASE WHEN kind = 'account' THEN interval '{forget_account}'
                                       ELSE interval '{forget_address}' END;
  GET DIAGNOSTICS n = ROW_COUNT;
  total := total + n;
  DELETE FROM auth_sessions
   WHERE coalesce(revoked_at, expires_at) < now() - interval '{keep_sessions}';
  GET DIAGNOSTICS n = ROW_COUNT;
  total := total + n;
  UPDATE user_credentials SET reset_token_hash = NULL, reset_token_expires_at = NULL
   WHERE reset_token_expires_at < now();
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN total + n;
END $$;

-- An account that leaves 'active' loses its sessions at once; an anonymised one also its
-- credentials and the throttle rows naming its email.
CREATE FUNCTION auth_user_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF NEW.status <> 'active' THEN
    UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'deactivated'
     WHERE user_id = NEW.id AND revoked_at IS NULL;
  END IF;
  IF NEW.is_anonymized AND NOT OLD.is_anonymized THEN
    DELETE FROM user_credentials WHERE user_id = NEW.id;
    UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'erased'
     WHERE user_id = NEW.id AND revoked_at IS NULL;
    DELETE FROM sign_in_throttles WHERE kind = 'account' AND email = lower(OLD.email);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER auth_user_changed AFTER UPDATE OF status, is_anonymized ON users
FOR EACH ROW WHEN (NEW.status IS DISTINCT FROM OLD.status
                   OR NEW.is_anonymized IS DISTINCT FROM OLD.is_anonymized)
EXECUTE FUNCTION auth_user_changed();
"""

# Migrations 0003 and 0009's helpers asked app_current_user_id() inside their queries, where
# PostgreSQL may evaluate it once per row scanned (harmless while it read a setting, costly
# now that it looks a session up), and returned a sub-select, plpgsql's slow form
# (bench/rls.py). They ask it once, into a variable, and read into variables.
HELPERS = r"""
CREATE OR REPLACE FUNCTION app_has_role(role_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  me uuid := app_current_user_id();
BEGIN
  IF me IS NULL THEN
    RETURN false;
  END IF;
  PERFORM 1 FROM user_roles ur
    JOIN roles r ON r.id = ur.role_id
    JOIN users u ON u.id = ur.user_id
   WHERE ur.user_id = me AND r.name = role_name AND u.status = 'active';
  RETURN FOUND;
END $$;

CREATE OR REPLACE FUNCTION app_has_permission(permission_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  me uuid := app_current_user_id();
BEGIN
  IF me IS NULL THEN
    RETURN false;
  END IF;
  PERFORM 1 FROM user_roles ur
    JOIN role_permissions rp ON rp.role_id = ur.role_id
    JOIN permissions p ON p.id = rp.permission_id
    JOIN users u ON u.id = ur.user_id
   WHERE ur.user_id = me AND p.name = permission_name AND u.status = 'active';
  RETURN FOUND;
END $$;

CREATE OR REPLACE FUNCTION app_my_designer_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  me uuid := app_current_user_id();
  ids uuid[];
BEGIN
  IF me IS NULL THEN
    RETURN '{}';
  END IF;
  SELECT coalesce(array_agg(id), '{}') INTO ids FROM designers WHERE user_id = me;
  RETURN ids;
END $$;

CREATE OR REPLACE FUNCTION app_my_collection_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  me uuid := app_current_user_id();
  ids uuid[];
BEGIN
  IF me IS NULL THEN
    RETURN '{}';
  END IF;
  SELECT coalesce(array_agg(c.id), '{}') INTO ids FROM collections c
    JOIN designers d ON d.id = c.designer_id
   WHERE d.user_id = me;
  RETURN ids;
END $$;

CREATE OR REPLACE FUNCTION app_my_collaboration_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  me uuid := app_current_user_id();
  ids uuid[];
BEGIN
  IF me IS NULL THEN
    RETURN '{}';
  END IF;
  SELECT coalesce(array_agg(DISTINCT p.collaboration_id), '{}') INTO ids
    FROM designer_collaboration_participants p
    JOIN designers d ON d.id = p.designer_id
   WHERE d.user_id = me;
  RETURN ids;
END $$;
"""

# The same five as migrations 0003 and 0009 wrote them, restored by the downgrade.
OLD_HELPERS = r"""
CREATE OR REPLACE FUNCTION app_has_role(role_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM user_roles ur
      JOIN roles r ON r.id = ur.role_id
      JOIN users u ON u.id = ur.user_id
     WHERE ur.user_id = app_current_user_id() AND r.name = role_name AND u.status = 'active');
END $$;

CREATE OR REPLACE FUNCTION app_has_permission(permission_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM user_roles ur
      JOIN role_permissions rp ON rp.role_id = ur.role_id
      JOIN permissions p ON p.id = rp.permission_id
      JOIN users u ON u.id = ur.user_id
     WHERE ur.user_id = app_current_user_id() AND p.name = permission_name
       AND u.status = 'active');
END $$;

CREATE OR REPLACE FUNCTION app_my_designer_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(id), '{}') FROM designers
           WHERE user_id = app_current_user_id());
END $$;

CREATE OR REPLACE FUNCTION app_my_collection_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(c.id), '{}') FROM collections c
           JOIN designers d ON d.id = c.designer_id
          WHERE d.user_id = app_current_user_id());
END $$;

CREATE OR REPLACE FUNCTION app_my_collaboration_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(DISTINCT p.collaboration_id), '{}')
            FROM designer_collaboration_participants p
            JOIN designers d ON d.id = p.designer_id
           WHERE d.user_id = app_current_user_id());
END $$;
"""

# (signature, who may execute it besides the owner)
GRANTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("auth_token_hash(text)", ()),
    ("auth_new_token()", ()),
    ("auth_throttle_delay(integer, integer)", ()),
    ("auth_open_session(uuid, text, integer, uuid)", ()),
    ("auth_touch_session(text)", ("app", "auth")),
    ("auth_end_session(text, text)", ("app", "auth")),
    ("auth_sign_in_check(text, text)", ("auth",)),
    ("auth_sign_in_failed(text, text, text)", ("auth",)),
    ("auth_sign_in_succeeded(uuid, text, text, text, text, integer)", ("auth",)),
    ("auth_oidc_sign_in(text, text, text, integer)", ("auth",)),
    ("auth_session_password(text)", ("auth",)),
    ("auth_change_password(text, text, text, text)", ("auth",)),
    ("auth_issue_reset_token(uuid, integer)", ("app",)),
    ("auth_redeem_reset_token(text, text)", ("auth",)),
    ("auth_open_job_session(uuid, integer)", ("auth",)),
    ("auth_throttles()", ("app",)),
    ("auth_lift_throttle(text, text)", ("app",)),
    ("auth_purge()", ("auth",)),
    ("auth_user_changed()", ()),
)

# Migration 0001's acting user, restored by the downgrade.
OLD_CURRENT_USER = r"""
CREATE OR REPLACE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE sql STABLE SECURITY INVOKER AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;
ALTER FUNCTION app_current_user_id() RESET search_path;
"""

# Migration 0003's account lookup, exactly, restored by the downgrade with the other four
# sign-in functions as 0011 left them (0003's own downgrade drops all five by these
# signatures).
OLD_FUNCTIONS = r"""
CREATE FUNCTION auth_account(p_email text)
RETURNS TABLE (user_id uuid, email text, full_name text, password_hash text, status text,
               login_attempts integer, locked_until timestamptz,
               must_change_password boolean, checked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT id, email, full_name, password_hash, status, login_attempts, locked_until,
         must_change_password, now()
    FROM users WHERE lower(email) = lower(trim(p_email))
$$;
"""
OLD_SIGNATURES = (
    "auth_account(text)",
    "auth_record_failure(uuid, text, text)",
    "auth_record_success(uuid, text, text, text, text)",
    "auth_set_reset_token(text, text, integer)",
    "auth_redeem_reset_token(text, text)",
)


# The audit action catalogue of migration 0011, as sign-in now records it: the lockout's
# unlock and the self-service reset request are gone, a password change is recorded by its
# definer function, and issuing a token and lifting a throttle are new.
ACTIONS_GONE = (
    ("users.unlocked", "app", False, "an admin ended a lockout after failed sign-ins"),
    ("auth.reset_requested", "database", False, "a reset token was made (auth_set_reset_token)"),
)
ACTIONS_NEW = (
    ("auth.reset_token_issued", "database", False, "an admin had a reset token made"),
    ("auth.throttle_lifted", "database", False, "an admin lifted a sign-in throttle"),
)
PASSWORD_CHANGED = ("auth.password_changed", "app", "database")


def _catalogue(
    conn: sa.Connection,
    remove: Sequence[tuple[str, str, bool, str]],
    add: Sequence[tuple[str, str, bool, str]],
    password_changed_by: str,
) -> None:
    for action, *_ in remove:
        conn.execute(sa.text("DELETE FROM audit_actions WHERE action = :a"), {"a": action})
    for action, by, without_person, description in add:
        conn.execute(
            sa.text(
                "INSERT INTO audit_actions (action, recorded_by, without_person, description)"
                " VALUES (:a, :b, :w, :d)"
            ),
            {"a": action, "b": by, "w": without_person, "d": description},
        )
    conn.execute(
        sa.text("UPDATE audit_actions SET recorded_by = :b WHERE action = :a"),
        {"a": PASSWORD_CHANGED[0], "b": password_changed_by},
    )


def _shipped_module(file_name: str) -> ModuleType:
    # Migration modules are not a package: load a sibling by path.
    path = Path(__file__).with_name(file_name)
    spec = importlib.util.spec_from_file_location(f"_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def roles() -> dict[str, tuple[str, str | None]]:
    """The app's and the sign-in path's database roles and passwords, as core.config reads
    them."""
    return {
        "app": (
            os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app",
            os.environ.get("FASHIONISTAS_APP_PASSWORD") or None,
        ),
        "auth": (
            os.environ.get("FASHIONISTAS_AUTH_ROLE") or "fashionistas_auth",
            os.environ.get("FASHIONISTAS_AUTH_PASSWORD") or None,
        ),
    }


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _create_login_role(conn: sa.Connection, role: str, password: str | None) -> None:
    # As migration 0003 does for the app role: roles belong to the cluster and many
    # databases (tests) migrate at once, so a duplicate from a racing migration is success.
    op.execute(
        sa.text(
            """
            DO $$
            BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') THEN
                CREATE ROLE {ident} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
              END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """.format(name=role.replace("'", "''"), ident=_quote(conn, role))
        )
    )
    unsafe = conn.execute(
        sa.text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).scalar_one()
    if unsafe:
        raise RuntimeError(
            f"database role {role} is a superuser or bypasses row-level security;"
            " the sign-in path must connect as a role that does neither"
        )
    if password:
        literal = conn.execute(sa.text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
        op.execute(f"ALTER ROLE {_quote(conn, role)} PASSWORD {literal}")


def _tables() -> None:
    op.create_table(
        "user_credentials",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("password_changed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("reset_token_hash", sa.String(64), nullable=True),
        sa.Column("reset_token_expires_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(reset_token_hash IS NULL) = (reset_token_expires_at IS NULL)",
            name=op.f("ck_user_credentials_reset_token_with_expiry"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_credentials_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_credentials")),
    )
    op.create_index(
        "idx_user_credentials_reset_token_hash",
        "user_credentials",
        ["reset_token_hash"],
        unique=True,
        postgresql_where=sa.text("reset_token_hash IS NOT NULL"),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("idle_minutes", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.CheckConstraint(
            "method IN ('password', 'oidc', 'job', 'issued')",
            name=op.f("ck_auth_sessions_method_allowed"),
        ),
        sa.CheckConstraint(
            "idle_minutes BETWEEN 1 AND 1440", name=op.f("ck_auth_sessions_idle_minutes_range")
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)",
            name=op.f("ck_auth_sessions_revoked_with_reason"),
        ),
        sa.CheckConstraint(
            "revoked_reason IN ('signed_out', 'deactivated', 'password_changed', 'erased',"
            " 'job_finished')",
            name=op.f("ck_auth_sessions_revoked_reason_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["background_jobs.id"],
            name=op.f("fk_auth_sessions_job_id_background_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_sessions_token_hash")),
    )
    op.create_index(
        "idx_auth_sessions_user_id_open",
        "auth_sessions",
        ["user_id"],
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    op.create_index("idx_auth_sessions_job_id", "auth_sessions", ["job_id"])
    op.create_table(
        "sign_in_throttles",
        sa.Column("ip_address", sa.String(45), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('account', 'address')", name=op.f("ck_sign_in_throttles_kind_allowed")
        ),
        sa.CheckConstraint(
            "kind = 'account' OR email = ''", name=op.f("ck_sign_in_throttles_address_no_email")
        ),
        sa.CheckConstraint("failures > 0", name=op.f("ck_sign_in_throttles_failures_positive")),
        sa.PrimaryKeyConstraint("ip_address", "kind", "email", name=op.f("pk_sign_in_throttles")),
    )
    op.create_index("idx_sign_in_throttles_last_failed_at", "sign_in_throttles", ["last_failed_at"])


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    database = _quote(conn, conn.execute(sa.text("SELECT current_database()")).scalar_one())
    names = roles()

    _tables()
    _catalogue(conn, ACTIONS_GONE, ACTIONS_NEW, PASSWORD_CHANGED[2])
    op.execute(
        "INSERT INTO user_credentials (user_id, password_hash, reset_token_hash,"
        " reset_token_expires_at)"
        " SELECT id, password_hash,"
        "        CASE WHEN reset_token_expires_at IS NOT NULL THEN reset_token END,"
        "        CASE WHEN reset_token IS NOT NULL THEN reset_token_expires_at END"
        "   FROM users WHERE password_hash IS NOT NULL OR reset_token IS NOT NULL"
    )
    for column in ("password_hash", "reset_token", "reset_token_expires_at", "login_attempts",
                   "locked_until"):  # fmt: skip
        op.drop_column("users", column)
    for signature in OLD_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")

    op.execute(
        sa.text(
            FUNCTIONS.replace("{schema}", schema)
            .replace("{ceiling}", str(CEILING_SECONDS))
            .replace("{free_account}", str(FREE_PER_ACCOUNT))
            .replace("{free_address}", str(FREE_PER_ADDRESS))
            .replace("{forget_account}", FORGET_ACCOUNT)
            .replace("{forget_address}", FORGET_ADDRESS)
            .replace("{keep_sessions}", KEEP_ENDED_SESSIONS)
        )
    )

    op.execute(sa.text(HELPERS.replace("{schema}", schema)))

    for table in NEW_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        # Restrictive and false: even a permissive policy added later opens nothing.
        op.execute(
            f"CREATE POLICY {table}_nobody ON {table} AS RESTRICTIVE FOR ALL TO PUBLIC"
            " USING (false) WITH CHECK (false)"
        )

    app_role, _ = names["app"]
    auth_role, auth_password = names["auth"]
    _create_login_role(conn, auth_role, auth_password)
    app, auth = _quote(conn, app_role), _quote(conn, auth_role)
    exists = conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_role}
    ).scalar()
    op.execute(f"GRANT CONNECT ON DATABASE {database} TO {auth}")
    op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {auth}")
    for table in NEW_TABLES:
        op.execute(f"REVOKE ALL ON {table} FROM PUBLIC")
        if exists:
            op.execute(f"REVOKE ALL ON {table} FROM {app}")
    grantees = {"app": app if exists else None, "auth": auth}
    for signature, allowed in GRANTS:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        for who in allowed:
            if grantees[who] is not None:
                op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {grantees[who]}")

    conn.execute(
        sa.text("DELETE FROM system_configurations WHERE category = 'retention' AND key = :k"),
        {"k": RESET_TOKENS_SETTING[1]},
    )
    conn.execute(
        sa.text("UPDATE permissions SET description = :d WHERE name = 'users.manage'"),
        {"d": USERS_MANAGE_DESCRIPTION[1]},
    )


def downgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    database = _quote(conn, conn.execute(sa.text("SELECT current_database()")).scalar_one())
    names = roles()

    setting_id, key, period, description = RESET_TOKENS_SETTING
    conn.execute(
        sa.text(
            "INSERT INTO system_configurations (id, category, key, value, value_type,"
            " description) VALUES (:i, 'retention', :k, to_jsonb(CAST(:v AS text)),"
            " 'duration', :d) ON CONFLICT (category, key) DO NOTHING"
        ),
        {"i": setting_id, "k": key, "v": period, "d": description},
    )

    conn.execute(
        sa.text("UPDATE permissions SET description = :d WHERE name = 'users.manage'"),
        {"d": USERS_MANAGE_DESCRIPTION[0]},
    )
    op.execute("DROP TRIGGER auth_user_changed ON users")
    op.execute(sa.text(OLD_HELPERS.replace("{schema}", schema)))
    op.execute(sa.text(OLD_CURRENT_USER))
    for signature, _ in reversed(GRANTS):
        op.execute(f"DROP FUNCTION {signature}")

    op.add_column("users", sa.Column("password_hash", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("reset_token", sa.Text(), nullable=True))
    op.add_column(
        "users", sa.Column("reset_token_expires_at", sa.TIMESTAMP(timezone=True), nullable=True)
    )
    op.add_column(
        "users",
        sa.Column("login_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_users_login_attempts_non_negative"), "users", "login_attempts >= 0"
    )
    op.add_column("users", sa.Column("locked_until", sa.TIMESTAMP(timezone=True)))
    op.execute(
        "UPDATE users u SET password_hash = c.password_hash, reset_token = c.reset_token_hash,"
        " reset_token_expires_at = c.reset_token_expires_at"
        " FROM user_credentials c WHERE c.user_id = u.id"
    )
    op.execute(sa.text(OLD_FUNCTIONS.replace("{schema}", schema)))
    # The other four as migration 0011 left them (their audit rows through audit_append).
    op.execute(
        sa.text(
            _shipped_module("0011_audit_evidence.py").AUTH_FUNCTIONS.replace("@schema@", schema)
        )
    )
    app_role, _ = names["app"]
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": app_role}).scalar():
        app = _quote(conn, app_role)
        for signature in OLD_SIGNATURES:
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {app}")

    for table in reversed(NEW_TABLES):
        op.drop_table(table)
    _catalogue(conn, ACTIONS_NEW, ACTIONS_GONE, PASSWORD_CHANGED[1])

    # The role is shared by every database of the cluster: take back what this one gave it.
    auth_role, _ = names["auth"]
    if conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": auth_role}
    ).scalar():
        auth = _quote(conn, auth_role)
        op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {schema} FROM {auth}")
        op.execute(f"REVOKE ALL ON SCHEMA {schema} FROM {auth}")
        op.execute(f"REVOKE ALL ON DATABASE {database} FROM {auth}")
