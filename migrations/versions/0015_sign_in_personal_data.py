"""The sign-in and staffing tables in the personal-data registry (issue 15).

Migrations 0012 (credentials, sessions, sign-in throttles) and 0013 (event staff) were
written beside 0014's registry and subject guard; this one joins them:

- gdpr_subject_credentials / gdpr_subject_sessions / gdpr_subject_throttles: what the
  sign-in tables hold about one person, for discovery and the export. SECURITY DEFINER
  (the tables are sealed: no grants, a deny-all policy), compliance.manage only, and never
  a hash: whether there is a password or a reset token, a session's method and times, a
  throttle's address and counts.
- gdpr_erase_sign_in(table, user, emails): the erasure of those rows (an anonymised
  account also loses them through auth_user_changed; the erasure says so itself, counted).
- The subject guard (migration 0014) on user_credentials, auth_sessions,
  sign_in_throttles and event_staff, with the registry's arguments.
- The users audit trigger masks nothing any more and leaves out only last_login: the
  hash, the reset token and the lockout counters left users in 0012 (the registry's
  coverage check holds every audit trigger's masks to the registry's secrets).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# core.gdpr.categories.REGISTRY.guards() of these tables, as of this migration:
# (table, account link, e-mail columns, other personal columns, anonymised flag).
GUARDED: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "user_credentials",
        "user_id",
        "",
        "password_hash,reset_token_hash,password_changed_at,reset_token_expires_at",
        "",
    ),
    ("auth_sessions", "user_id", "", "token_hash", ""),
    ("sign_in_throttles", "", "email", "ip_address", ""),
    ("event_staff", "user_id", "", "", ""),
)
GUARD = "gdpr_subject_guard"
# The users audit trigger's arguments (key, masked, ignored), before (0011) and after.
USERS_AUDIT_0011 = ("id", "password_hash,reset_token", "last_login,login_attempts,locked_until")
USERS_AUDIT = ("id", "", "last_login")

FUNCTIONS = r"""
CREATE FUNCTION gdpr_subject_credentials(p_user uuid)
RETURNS TABLE (user_id uuid, has_password boolean, password_changed_at timestamptz,
               has_reset_token boolean, reset_token_expires_at timestamptz,
               created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM gdpr_assert_allowed();
  RETURN QUERY
    SELECT c.user_id, c.password_hash IS NOT NULL, c.password_changed_at,
           c.reset_token_hash IS NOT NULL, c.reset_token_expires_at, c.created_at
      FROM user_credentials c WHERE c.user_id = p_user;
END $$;

CREATE FUNCTION gdpr_subject_sessions(p_user uuid)
RETURNS TABLE (id uuid, user_id uuid, method text, created_at timestamptz,
               last_seen_at timestamptz, expires_at timestamptz, revoked_at timestamptz,
               revoked_reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM gdpr_assert_allowed();
  RETURN QUERY
    SELECT s.id, s.user_id, s.method::text, s.created_at, s.last_seen_at, s.expires_at,
           s.revoked_at, s.revoked_reason::text
      FROM auth_sessions s WHERE s.user_id = p_user;
END $$;

CREATE FUNCTION gdpr_subject_throttles(p_emails text[])
RETURNS TABLE (ip_address text, kind text, email text, failures integer,
               first_failed_at timestamptz, last_failed_at timestamptz,
               blocked_until timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM gdpr_assert_allowed();
  RETURN QUERY
    SELECT t.ip_address::text, t.kind::text, t.email::text, t.failures, t.first_failed_at,
           t.last_failed_at, t.blocked_until
      FROM sign_in_throttles t
     WHERE t.kind = 'account' AND t.email = ANY(p_emails);
END $$;

-- One of the three sign-in tables' rows of the person: by account (credentials,
-- sessions) or by the addresses typed at sign-in (throttles). Returns how many went.
CREATE FUNCTION gdpr_erase_sign_in(p_table text, p_user uuid, p_emails text[])
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  n bigint;
BEGIN
  PERFORM gdpr_assert_allowed();
  IF p_table = 'user_credentials' THEN
    DELETE FROM user_credentials WHERE user_id = p_user;
  ELSIF p_table = 'auth_sessions' THEN
    DELETE FROM auth_sessions WHERE user_id = p_user;
  ELSIF p_table = 'sign_in_throttles' THEN
    DELETE FROM sign_in_throttles WHERE kind = 'account' AND email = ANY(p_emails);
  ELSE
    RAISE EXCEPTION 'no sign-in table %', left(p_table, 63) USING ERRCODE = '22023';
  END IF;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
"""

DEFINER_FUNCTIONS = (
    "gdpr_subject_credentials(uuid)",
    "gdpr_subject_sessions(uuid)",
    "gdpr_subject_throttles(text[])",
    "gdpr_erase_sign_in(text, uuid, text[])",
)


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _app_role() -> str:
    # As migration 0003 reads it (migrations must not change with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _users_audit_trigger(args: tuple[str, str, str]) -> None:
    quoted = ", ".join(f"'{a}'" for a in args)
    op.execute("DROP TRIGGER audit_trail ON users")
    op.execute(
        "CREATE TRIGGER audit_trail AFTER INSERT OR UPDATE OR DELETE ON users"
        f" FOR EACH ROW EXECUTE FUNCTION audit_row_change({quoted})"
    )


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    op.execute(sa.text(FUNCTIONS.replace("@schema@", schema)))
    for table, link, emails, personal, flag in GUARDED:
        args = ", ".join(f"'{a}'" for a in (link, emails, personal, flag))
        watched = [c for part in (link, emails, personal, flag) for c in part.split(",") if c]
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        op.execute(
            f"CREATE TRIGGER {GUARD} BEFORE INSERT ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION gdpr_subject_guard({args})"
        )
        op.execute(
            f"CREATE TRIGGER {GUARD}_update BEFORE UPDATE ON {table}"
            f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION gdpr_subject_guard({args})"
        )
    _users_audit_trigger(USERS_AUDIT)
    role = _app_role()
    app = None
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        app = _quote(conn, role)
    for signature in DEFINER_FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
        if app is not None:
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {app}")


def downgrade() -> None:
    _users_audit_trigger(USERS_AUDIT_0011)
    for table, *_ in GUARDED:
        op.execute(f"DROP TRIGGER {GUARD}_update ON {table}")
        op.execute(f"DROP TRIGGER {GUARD} ON {table}")
    for signature in reversed(DEFINER_FUNCTIONS):
        op.execute(f"DROP FUNCTION {signature}")
