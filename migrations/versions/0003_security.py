"""Security: roles and permissions, the app's database role, row-level security, sign-in.

- Seeds the role and permission catalogue of core/auth/permissions.py (fixed uuid5 ids).
- Adds users.locked_until and users.must_change_password, and an index on lower(email).
- Creates the app role (NOSUPERUSER NOBYPASSRLS LOGIN) if the cluster lacks it, and grants
  it DML on this database's tables (never on partitions: those would bypass the parent's
  policies), its sequences and functions.
- Helpers app_has_role / app_has_permission / app_my_designer_ids (STABLE SECURITY DEFINER,
  fixed search_path) and the narrow SECURITY DEFINER functions sign-in needs before anyone
  is known (auth_*).
- Row-level security with policies on users, user_profiles, user_roles, events, designers,
  collections, encryption_keys, audit_logs, data_subject_requests, api_keys and webhooks.
  Every lookup is wrapped as (SELECT ...) so it runs once per query, and no acting user
  means no rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import os
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The catalogue as it was when this migration was written (core/auth/permissions.py may
# grow later; a migration must not change under an existing database).
_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")
ROLES = {
    "admin": "Runs the platform: users, settings, compliance and audit.",
    "organizer": "Plans events, venues, ticketing and the box office.",
    "marketing": "Runs campaigns, sponsors and reads analytics.",
    "designer": "Manages a designer profile, collections and runway shows.",
    "sponsor": "Follows sponsorships, assets and sponsor analytics.",
    "staff": "Works the door and the box office on event days.",
}
_ALL = tuple(ROLES)
PERMISSIONS = {
    "overview.view": ("See the overview page.", _ALL),
    "events.manage": ("Create and change events, venues and ticket types.", ("admin", "organizer")),
    "box_office.sell": ("Sell tickets at the box office.", ("admin", "organizer", "staff")),
    "orders.refund": ("Refund and cancel orders.", ("admin", "organizer")),
    "analytics.view": ("Read campaign and sales analytics.", ("admin", "marketing")),
    "sponsors.manage": ("Manage sponsors and sponsorships.", ("admin", "marketing")),
    "showcase.view": ("See designers, collections and runway shows.", _ALL),
    "showcase.manage": ("Manage designers' collections and shows.", ("admin", "designer")),
    "sponsor_portal.view": ("See the sponsor portal.", ("admin", "sponsor")),
    "compliance.manage": ("Work the audit log and data subject requests.", ("admin",)),
    "users.manage": ("Invite users, set roles, deactivate and unlock.", ("admin",)),
    "account.manage": ("Change one's own password.", _ALL),
}

RLS_TABLES = (
    "users",
    "user_profiles",
    "user_roles",
    "events",
    "designers",
    "collections",
    "encryption_keys",
    "audit_logs",
    "data_subject_requests",
    "api_keys",
    "webhooks",
)

UID = "(SELECT app_current_user_id())"
ADMIN = "(SELECT app_has_role('admin'))"
SIGNED_IN = f"{UID} IS NOT NULL"

# (table, policy, command, USING, WITH CHECK)
POLICIES: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("users", "users_select", "SELECT", f"id = {UID} OR {ADMIN}", None),
    ("users", "users_update", "UPDATE", f"id = {UID} OR {ADMIN}", f"id = {UID} OR {ADMIN}"),
    ("users", "users_insert", "INSERT", None, ADMIN),
    ("users", "users_delete", "DELETE", ADMIN, None),
    (
        "user_profiles",
        "user_profiles_own",
        "ALL",
        f"user_id = {UID} OR {ADMIN}",
        f"user_id = {UID} OR {ADMIN}",
    ),
    ("user_roles", "user_roles_select", "SELECT", f"user_id = {UID} OR {ADMIN}", None),
    ("user_roles", "user_roles_insert", "INSERT", None, ADMIN),
    ("user_roles", "user_roles_update", "UPDATE", ADMIN, ADMIN),
    ("user_roles", "user_roles_delete", "DELETE", ADMIN, None),
    (
        "events",
        "events_select",
        "SELECT",
        f"(status <> 'draft' AND {SIGNED_IN}) OR organizer_id = {UID} OR {ADMIN}",
        None,
    ),
    ("events", "events_insert", "INSERT", None, f"organizer_id = {UID} OR {ADMIN}"),
    (
        "events",
        "events_update",
        "UPDATE",
        f"organizer_id = {UID} OR {ADMIN}",
        f"organizer_id = {UID} OR {ADMIN}",
    ),
    ("events", "events_delete", "DELETE", f"organizer_id = {UID} OR {ADMIN}", None),
    (
        "designers",
        "designers_select",
        "SELECT",
        f"(status = 'active' AND {SIGNED_IN}) OR user_id = {UID} OR {ADMIN}",
        None,
    ),
    ("designers", "designers_insert", "INSERT", None, f"user_id = {UID} OR {ADMIN}"),
    (
        "designers",
        "designers_update",
        "UPDATE",
        f"user_id = {UID} OR {ADMIN}",
        f"user_id = {UID} OR {ADMIN}",
    ),
    ("designers", "designers_delete", "DELETE", f"user_id = {UID} OR {ADMIN}", None),
    (
        "collections",
        "collections_select",
        "SELECT",
        f"(status = 'published' AND {SIGNED_IN})"
        f" OR designer_id = ANY (CAST((SELECT app_my_designer_ids()) AS uuid[])) OR {ADMIN}",
        None,
    ),
    (
        "collections",
        "collections_insert",
        "INSERT",
        None,
        f"designer_id = ANY (CAST((SELECT app_my_designer_ids()) AS uuid[])) OR {ADMIN}",
    ),
    (
        "collections",
        "collections_update",
        "UPDATE",
        f"designer_id = ANY (CAST((SELECT app_my_designer_ids()) AS uuid[])) OR {ADMIN}",
        f"designer_id = ANY (CAST((SELECT app_my_designer_ids()) AS uuid[])) OR {ADMIN}",
    ),
    (
        "collections",
        "collections_delete",
        "DELETE",
        f"designer_id = ANY (CAST((SELECT app_my_designer_ids()) AS uuid[])) OR {ADMIN}",
        None,
    ),
    ("encryption_keys", "encryption_keys_admin", "ALL", ADMIN, ADMIN),
    ("audit_logs", "audit_logs_select", "SELECT", ADMIN, None),
    # Anyone signed in writes their own audit rows; only admins redact (GDPR); no one deletes.
    ("audit_logs", "audit_logs_insert", "INSERT", None, f"user_id = {UID}"),
    ("audit_logs", "audit_logs_update", "UPDATE", ADMIN, ADMIN),
    ("data_subject_requests", "data_subject_requests_admin", "ALL", ADMIN, ADMIN),
    ("api_keys", "api_keys_own", "ALL", f"user_id = {UID}", f"user_id = {UID}"),
    ("webhooks", "webhooks_own", "ALL", f"user_id = {UID}", f"user_id = {UID}"),
)

FUNCTIONS = r"""
-- Does the acting user hold `role_name`? SECURITY DEFINER so policies can ask without the
-- caller seeing user_roles; an inactive account holds nothing.
-- plpgsql, not sql: a SQL function that cannot be inlined (SECURITY DEFINER) is planned
-- again at every call, a plpgsql one keeps its plan for the session (bench/rls.py).
CREATE FUNCTION app_has_role(role_name text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM user_roles ur
      JOIN roles r ON r.id = ur.role_id
      JOIN users u ON u.id = ur.user_id
     WHERE ur.user_id = app_current_user_id() AND r.name = role_name AND u.status = 'active');
END $$;

CREATE FUNCTION app_has_permission(permission_name text) RETURNS boolean
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

-- The designer profiles of the acting user (collections' policies).
CREATE FUNCTION app_my_designer_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(id), '{{}}') FROM designers
           WHERE user_id = app_current_user_id());
END $$;

-- Sign-in runs before anyone is known, so it cannot read users under row-level security.
-- These functions are all it may do: look one account up by email, count a failure,
-- record a success, and set or redeem a reset token (only its hash is stored).
CREATE FUNCTION auth_account(p_email text)
RETURNS TABLE (user_id uuid, email text, full_name text, password_hash text, status text,
               login_attempts integer, locked_until timestamptz,
               must_change_password boolean, checked_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT id, email, full_name, password_hash, status, login_attempts, locked_until,
         must_change_password, now()
    FROM users WHERE lower(email) = lower(trim(p_email))
$$;

CREATE FUNCTION auth_record_failure(p_user_id uuid, p_ip text, p_user_agent text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
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
  INSERT INTO audit_logs (user_id, action, table_name, record_id, new_data, ip_address, user_agent)
  VALUES (p_user_id, 'auth.sign_in_failed', 'users', p_user_id::text,
          jsonb_build_object('login_attempts', attempts), nullif(p_ip, ''),
          nullif(p_user_agent, ''));
  RETURN attempts;
END $$;

-- Called only after the password (or the identity provider) has vouched for the person.
CREATE FUNCTION auth_record_success(p_user_id uuid, p_method text, p_new_hash text,
                                    p_ip text, p_user_agent text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  UPDATE users
     SET login_attempts = 0, locked_until = NULL, last_login = now(),
         password_hash = coalesce(p_new_hash, password_hash),
         status = CASE WHEN status = 'pending' AND p_method = 'oidc' THEN 'active'
                       ELSE status END,
         email_verified = email_verified OR p_method = 'oidc'
   WHERE id = p_user_id;
  INSERT INTO audit_logs (user_id, action, table_name, record_id, new_data, ip_address, user_agent)
  VALUES (p_user_id, 'auth.signed_in', 'users', p_user_id::text,
          jsonb_build_object('method', p_method), nullif(p_ip, ''), nullif(p_user_agent, ''));
END $$;

CREATE FUNCTION auth_set_reset_token(p_email text, p_token_hash text, p_minutes integer)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  found uuid;
BEGIN
  UPDATE users
     SET reset_token = p_token_hash,
         reset_token_expires_at = now() + make_interval(mins => p_minutes)
   WHERE lower(email) = lower(trim(p_email)) AND status IN ('active', 'pending')
  RETURNING id INTO found;
  IF found IS NOT NULL THEN
    INSERT INTO audit_logs (user_id, action, table_name, record_id)
    VALUES (found, 'auth.reset_requested', 'users', found::text);
  END IF;
  RETURN found;
END $$;

-- Redeem a token once: sets the new hash, clears the token and any lockout, and
-- activates an invited account. NULL when the token is unknown, used or expired.
CREATE FUNCTION auth_redeem_reset_token(p_token_hash text, p_new_hash text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
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
    INSERT INTO audit_logs (user_id, action, table_name, record_id)
    VALUES (found, 'auth.password_reset', 'users', found::text);
  END IF;
  RETURN found;
END $$;
"""

FUNCTION_SIGNATURES = (
    "auth_redeem_reset_token(text, text)",
    "auth_set_reset_token(text, text, integer)",
    "auth_record_success(uuid, text, text, text, text)",
    "auth_record_failure(uuid, text, text)",
    "auth_account(text)",
    "app_my_designer_ids()",
    "app_has_permission(text)",
    "app_has_role(text)",
)


def app_role() -> tuple[str, str | None]:
    """The app's database role and password, as core.config reads them."""
    return (
        os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app",
        os.environ.get("FASHIONISTAS_APP_PASSWORD") or None,
    )


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _create_app_role(conn: sa.Connection, role: str, password: str | None) -> None:
    # Roles belong to the cluster, and many databases (tests) migrate at once: create it
    # only when missing and take a duplicate from a racing migration as success.
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
            " the app must connect as a role that does neither"
        )
    if password:
        # Utility statements take no bind parameters: quote the literal server-side.
        literal = conn.execute(sa.text("SELECT quote_literal(:p)"), {"p": password}).scalar_one()
        op.execute(f"ALTER ROLE {_quote(conn, role)} PASSWORD {literal}")


def upgrade() -> None:
    conn = op.get_bind()
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    role, password = app_role()

    op.add_column("users", sa.Column("locked_until", sa.TIMESTAMP(timezone=True)))
    op.add_column(
        "users",
        sa.Column(
            "must_change_password", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.create_index("idx_users_email_lower", "users", [sa.text("lower(email)")])

    for name, description in ROLES.items():
        conn.execute(
            sa.text(
                "INSERT INTO roles (id, name, description) VALUES (:i, :n, :d)"
                " ON CONFLICT (name) DO NOTHING"
            ),
            {"i": uuid.uuid5(_NAMESPACE, f"role:{name}"), "n": name, "d": description},
        )
    for name, (description, holders) in PERMISSIONS.items():
        resource, action = name.split(".")
        # A database loaded with the old demo catalogue has the same (resource, action)
        # under another name: take that row over.
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
                {
                    "i": uuid.uuid5(_NAMESPACE, f"grant:{holder}:{name}"),
                    "r": holder,
                    "p": name,
                },
            )

    op.execute(sa.text(FUNCTIONS.format(schema=_quote(conn, schema))))

    _create_app_role(conn, role, password)
    ident = _quote(conn, role)
    database = _quote(conn, conn.execute(sa.text("SELECT current_database()")).scalar_one())
    op.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {ident}")
    op.execute(f"GRANT USAGE ON SCHEMA {_quote(conn, schema)} TO {ident}")
    # Parents only: privileges on a partition would let the app read it directly, past the
    # policies on its parent. Queries through the parent need no grant on partitions.
    tables = conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = :s AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " AND c.relname <> 'alembic_version' ORDER BY 1"
        ),
        {"s": schema},
    ).scalars()
    for table in tables:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_quote(conn, table)} TO {ident}")
    op.execute(f"GRANT SELECT ON alembic_version TO {ident}")
    quoted_schema = _quote(conn, schema)
    op.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {quoted_schema} TO {ident}")
    op.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {quoted_schema} TO {ident}")

    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    for table, name, command, using, check in POLICIES:
        statement = f"CREATE POLICY {name} ON {table} FOR {command} TO PUBLIC"
        if using is not None:
            statement += f" USING ({using})"
        if check is not None:
            statement += f" WITH CHECK ({check})"
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    role, _ = app_role()
    schema = _quote(conn, schema)
    for table, name, *_ in POLICIES:
        op.execute(f"DROP POLICY {name} ON {table}")
    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    # The role is shared by every database of the cluster: take back what this one gave it.
    exists = conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).scalar()
    if exists:
        ident = _quote(conn, role)
        database = _quote(conn, conn.execute(sa.text("SELECT current_database()")).scalar_one())
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {ident}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {ident}")
        op.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {schema} FROM {ident}")
        op.execute(f"REVOKE ALL ON SCHEMA {schema} FROM {ident}")
        op.execute(f"REVOKE ALL ON DATABASE {database} FROM {ident}")
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")
    ids = {
        "roles": [str(uuid.uuid5(_NAMESPACE, f"role:{n}")) for n in ROLES],
        "permissions": [str(uuid.uuid5(_NAMESPACE, f"permission:{n}")) for n in PERMISSIONS],
    }
    conn.execute(
        sa.text("DELETE FROM role_permissions WHERE permission_id = ANY(CAST(:p AS uuid[]))"),
        {"p": ids["permissions"]},
    )
    conn.execute(
        sa.text("DELETE FROM permissions WHERE id = ANY(CAST(:p AS uuid[]))"),
        {"p": ids["permissions"]},
    )
    conn.execute(
        sa.text(
            "DELETE FROM roles WHERE id = ANY(CAST(:r AS uuid[]))"
            " AND NOT EXISTS (SELECT 1 FROM user_roles ur WHERE ur.role_id = roles.id)"
        ),
        {"r": ids["roles"]},
    )
    op.drop_index("idx_users_email_lower", table_name="users")
    op.drop_column("users", "must_change_password")
    op.drop_column("users", "locked_until")
