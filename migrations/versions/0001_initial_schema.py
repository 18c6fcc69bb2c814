"""Initial schema: every table of the design documents, reconciled (see docs/SCHEMA.md).

Besides the tables this creates the functions the schema relies on (acting user, updated_at,
slugs, the ticket-type version check, monthly partitions), attaches their triggers, and
makes a default partition plus the months around now for every partitioned table.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:48:04.378270
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = r"""
-- The acting user of the current transaction, or NULL (set by core.db.uow).
CREATE FUNCTION app_current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::uuid
$$;

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE FUNCTION generate_slug(input text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(nullif(trim(BOTH '-' FROM regexp_replace(
           regexp_replace(
             translate(lower(coalesce(input, '')),
                       'àáâãäåāçćčèéêëēėęìíîïīłñńòóôõöøōśšùúûüūýÿžźż',
                       'aaaaaaaccceeeeeeeiiiiilnnooooooossuuuuuyyzzz'),
             '[^a-z0-9\s-]', '', 'g'),
           '[\s-]+', '-', 'g')), ''), 'item')
$$;

-- BEFORE INSERT OR UPDATE trigger: fills an empty slug from the column named in TG_ARGV[0],
-- adding -2, -3 ... until it is unique in the table.
CREATE FUNCTION set_slug() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  base text;
  candidate text;
  n integer := 1;
  taken boolean;
BEGIN
  IF NEW.slug IS NOT NULL AND NEW.slug <> '' THEN
    RETURN NEW;
  END IF;
  base := generate_slug(to_jsonb(NEW) ->> TG_ARGV[0]);
  candidate := base;
  LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I WHERE slug = $1 AND id <> $2)',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME)
      INTO taken USING candidate, NEW.id;
    EXIT WHEN NOT taken;
    n := n + 1;
    candidate := base || '-' || n;
  END LOOP;
  NEW.slug := candidate;
  RETURN NEW;
END $$;

-- Optimistic version check for ticket types: a writer that sets version must set the one
-- it read; the row then moves to the next version. Raises serialization_failure (40001)
-- so callers treat it as "changed by someone else, reload and retry".
CREATE FUNCTION ticket_types_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version <> OLD.version THEN
    RAISE EXCEPTION 'ticket type % was changed by someone else (version % expected, % found)',
      OLD.id, NEW.version, OLD.version
      USING ERRCODE = 'serialization_failure';
  END IF;
  NEW.version := OLD.version + 1;
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- Create the monthly partition of `parent` that holds `month`, if missing. Rows that
-- landed in the default partition for that month are moved into it first, so the
-- partition can be attached; returns true when a partition was created.
CREATE FUNCTION ensure_month_partition(parent regclass, month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  parent_schema text;
  parent_name text;
  key_column text;
  key_type text;
  start_at date := date_trunc('month', month)::date;
  end_at date := (date_trunc('month', month) + interval '1 month')::date;
  part_name text;
  default_name text;
  lower_bound text;
  upper_bound text;
BEGIN
  SELECT n.nspname, c.relname INTO parent_schema, parent_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
  SELECT a.attname, format_type(a.atttypid, a.atttypmod) INTO key_column, key_type
    FROM pg_partitioned_table p
    JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
   WHERE p.partrelid = parent;
  IF key_column IS NULL THEN
    RAISE EXCEPTION '% is not a partitioned table', parent;
  END IF;
  part_name := parent_name || '_p' || to_char(start_at, 'YYYYMM');
  IF to_regclass(format('%I.%I', parent_schema, part_name)) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF key_type = 'date' THEN
    lower_bound := start_at::text;
    upper_bound := end_at::text;
  ELSE  -- timestamptz bounds at midnight UTC, whatever the session's time zone
    lower_bound := start_at::text || ' 00:00:00+00';
    upper_bound := end_at::text || ' 00:00:00+00';
  END IF;
  EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                 parent_schema, part_name, parent);
  default_name := parent_name || '_default';
  IF to_regclass(format('%I.%I', parent_schema, default_name)) IS NOT NULL THEN
    EXECUTE format(
      'WITH moved AS (DELETE FROM %I.%I WHERE %I >= %L AND %I < %L RETURNING *) '
      'INSERT INTO %I.%I SELECT * FROM moved',
      parent_schema, default_name, key_column, lower_bound, key_column, upper_bound,
      parent_schema, part_name);
  END IF;
  EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                 parent, parent_schema, part_name, lower_bound, upper_bound);
  RETURN true;
END $$;

-- Make sure every partitioned table in the schema has a default partition (so no insert
-- ever fails for a missing month) and monthly partitions from `months_back` months ago to
-- `months_ahead` months ahead. Returns how many partitions it created.
CREATE FUNCTION ensure_partitions(months_back integer DEFAULT 1, months_ahead integer DEFAULT 3,
                                  around date DEFAULT current_date)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  parent record;
  m integer;
  created integer := 0;
BEGIN
  FOR parent IN
    SELECT c.oid::regclass AS rel, n.nspname, c.relname
      FROM pg_partitioned_table p
      JOIN pg_class c ON c.oid = p.partrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND NOT c.relispartition
  LOOP
    IF to_regclass(format('%I.%I', parent.nspname, parent.relname || '_default')) IS NULL THEN
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT',
                     parent.nspname, parent.relname || '_default', parent.rel);
      created := created + 1;
    END IF;
    FOR m IN -months_back .. months_ahead LOOP
      IF ensure_month_partition(parent.rel, (date_trunc('month', around) + make_interval(months => m))::date) THEN
        created := created + 1;
      END IF;
    END LOOP;
  END LOOP;
  RETURN created;
END $$;
"""

FUNCTION_SIGNATURES = (
    "ensure_partitions(integer, integer, date)",
    "ensure_month_partition(regclass, date)",
    "ticket_types_bump_version()",
    "set_slug()",
    "generate_slug(text)",
    "set_updated_at()",
    "app_current_user_id()",
)

# Every table with an updated_at column; ticket_types has its own trigger that also
# bumps the version.
UPDATED_AT_TABLES = (
    "api_keys",
    "background_jobs",
    "campaign_analytics",
    "campaign_assets",
    "collections",
    "content_blocks",
    "data_subject_requests",
    "designer_analytics",
    "designer_collaborations",
    "designers",
    "discount_codes",
    "email_analytics",
    "email_campaigns",
    "event_categories",
    "event_schedules",
    "event_seats",
    "events",
    "fashion_item_images",
    "fashion_items",
    "graphql_schema_definitions",
    "marketing_campaigns",
    "marketing_segments",
    "media_items",
    "models",
    "order_items",
    "orders",
    "pages",
    "permissions",
    "promotional_codes",
    "rest_api_endpoints",
    "roles",
    "runway_appearances",
    "runway_segments",
    "runway_shows",
    "social_media_analytics",
    "social_media_posts",
    "sponsor_analytics",
    "sponsor_benefits",
    "sponsors",
    "sponsorship_assets",
    "sponsorship_tiers",
    "sponsorships",
    "system_configurations",
    "user_profiles",
    "users",
    "venue_seats",
    "venue_sections",
    "venues",
    "webhooks",
)

# Table -> column an empty slug is generated from.
SLUG_SOURCES = {
    "collections": "name",
    "designers": "name",
    "event_categories": "name",
    "events": "title",
    "models": "name",
    "pages": "title",
    "sponsors": "name",
    "venues": "name",
}


def create_functions_and_extensions() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(FUNCTIONS)


def create_triggers_and_partitions() -> None:
    for table in UPDATED_AT_TABLES:
        op.execute(
            f"CREATE TRIGGER set_updated_at BEFORE UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )
    for table, source in SLUG_SOURCES.items():
        op.execute(
            f"CREATE TRIGGER set_slug BEFORE INSERT OR UPDATE OF slug ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION set_slug('{source}')"
        )
    op.execute(
        "CREATE TRIGGER bump_version BEFORE UPDATE ON ticket_types"
        " FOR EACH ROW EXECUTE FUNCTION ticket_types_bump_version()"
    )
    # A default partition for every partitioned table, and the months around now.
    op.execute("SELECT ensure_partitions(1, 3)")


def drop_functions_and_extensions() -> None:
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")


def upgrade() -> None:
    create_functions_and_extensions()
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "audit_logs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Text(), nullable=True),
        sa.Column("old_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ip_address", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("is_redacted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", "created_at", name=op.f("pk_audit_logs")),
        postgresql_partition_by="RANGE (created_at)",
    )
    op.create_index("idx_audit_logs_action", "audit_logs", ["action"], unique=False)
    op.create_index("idx_audit_logs_created_at", "audit_logs", ["created_at"], unique=False)
    op.create_index(
        "idx_audit_logs_table_record",
        "audit_logs",
        ["table_name", "record_id", "created_at"],
        unique=False,
    )
    op.create_index("idx_audit_logs_user_id", "audit_logs", ["user_id", "created_at"], unique=False)
    op.create_table(
        "designer_collaborations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("start_date", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("end_date", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'active', 'completed', 'cancelled')",
            name=op.f("ck_designer_collaborations_status_valid"),
        ),
        sa.CheckConstraint(
            "end_date >= start_date",
            name=op.f("ck_designer_collaborations_end_date_after_start_date"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designer_collaborations")),
    )
    op.create_index(
        "idx_designer_collaborations_dates",
        "designer_collaborations",
        ["start_date", "end_date"],
        unique=False,
    )
    op.create_index(
        "idx_designer_collaborations_status", "designer_collaborations", ["status"], unique=False
    )
    op.create_table(
        "domain_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("aggregate_id", sa.Text(), nullable=False),
        sa.Column("aggregate_type", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("event_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("event_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "occurred_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "processing_status", sa.Text(), server_default=sa.text("'pending'"), nullable=False
        ),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("source_system", sa.Text(), nullable=False),
        sa.Column("correlation_id", sa.Text(), nullable=True),
        sa.Column("causation_id", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "processing_status IN ('pending', 'processing', 'processed', 'failed')",
            name=op.f("ck_domain_events_processing_status_valid"),
        ),
        sa.CheckConstraint(
            "event_version > 0", name=op.f("ck_domain_events_event_version_positive")
        ),
        sa.CheckConstraint(
            "retry_count >= 0", name=op.f("ck_domain_events_retry_count_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_domain_events_idempotency_key")),
    )
    op.create_index(
        "idx_domain_events_aggregate",
        "domain_events",
        ["aggregate_id", "aggregate_type", sa.literal_column("occurred_at DESC")],
        unique=False,
    )
    op.create_index(
        "idx_domain_events_pending",
        "domain_events",
        ["occurred_at"],
        unique=False,
        postgresql_where=sa.text("processing_status = 'pending'"),
    )
    op.create_table(
        "encryption_keys",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("key_name", sa.Text(), nullable=False),
        sa.Column("key_version", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.Text(), server_default=sa.text("'fernet'"), nullable=False),
        sa.Column("key_reference", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("rotated_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("key_version > 0", name=op.f("ck_encryption_keys_key_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encryption_keys")),
        sa.UniqueConstraint(
            "key_name", "key_version", name=op.f("uq_encryption_keys_key_name_key_version")
        ),
    )
    op.create_index(
        "uq_encryption_keys_one_active",
        "encryption_keys",
        ["key_name"],
        unique=True,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "event_categories",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("icon", sa.Text(), nullable=True),
        sa.Column("color", sa.Text(), nullable=True),
        sa.Column("order_index", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_event_categories_parent_not_self")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["event_categories.id"],
            name=op.f("fk_event_categories_parent_id_event_categories"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_categories")),
        sa.UniqueConstraint("name", name=op.f("uq_event_categories_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_event_categories_slug")),
        info={"slug_source": "name"},
    )
    op.create_index(
        "idx_event_categories_order_index", "event_categories", ["order_index"], unique=False
    )
    op.create_index(
        "idx_event_categories_parent_id", "event_categories", ["parent_id"], unique=False
    )
    op.create_table(
        "graphql_schema_definitions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("schema_definition", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_graphql_schema_definitions")),
        sa.UniqueConstraint("name", name=op.f("uq_graphql_schema_definitions_name")),
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("name", name=op.f("uq_permissions_name")),
        sa.UniqueConstraint("resource", "action", name=op.f("uq_permissions_resource_action")),
    )
    op.create_table(
        "rest_api_endpoints",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("function_name", sa.Text(), nullable=False),
        sa.Column("required_permissions", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("rate_limit", sa.Integer(), server_default=sa.text("100"), nullable=False),
        sa.Column("is_public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_deprecated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')",
            name=op.f("ck_rest_api_endpoints_method_valid"),
        ),
        sa.CheckConstraint(
            "rate_limit > 0", name=op.f("ck_rest_api_endpoints_rate_limit_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rest_api_endpoints")),
        sa.UniqueConstraint("path", "method", name=op.f("uq_rest_api_endpoints_path_method")),
    )
    op.create_index(
        "idx_rest_api_endpoints_function_name",
        "rest_api_endpoints",
        ["function_name"],
        unique=False,
    )
    op.create_table(
        "roles",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", name=op.f("uq_roles_name")),
    )
    op.create_table(
        "sponsor_benefits",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("icon_url", sa.Text(), nullable=True),
        sa.Column("is_digital", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_physical", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsor_benefits")),
    )
    op.create_table(
        "sponsorship_tiers",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price_range", sa.Text(), nullable=True),
        sa.Column("is_custom", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column("benefits", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorship_tiers")),
        sa.UniqueConstraint("name", name=op.f("uq_sponsorship_tiers_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("phone_number", sa.Text(), nullable=True),
        sa.Column("user_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("last_login", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("profile_image_url", sa.Text(), nullable=True),
        sa.Column("email_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("phone_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "two_factor_enabled", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("login_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reset_token", sa.Text(), nullable=True),
        sa.Column("reset_token_expires_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("is_anonymized", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "email ~* '^[A-Za-z0-9._%%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$'",
            name=op.f("ck_users_email_format"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'inactive', 'pending', 'suspended')",
            name=op.f("ck_users_status_valid"),
        ),
        sa.CheckConstraint(
            "user_type IN ('admin', 'organizer', 'designer', 'model', 'sponsor', 'attendee', 'staff', 'marketing')",
            name=op.f("ck_users_user_type_valid"),
        ),
        sa.CheckConstraint(
            "login_attempts >= 0", name=op.f("ck_users_login_attempts_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index("idx_users_created_at", "users", ["created_at"], unique=False)
    op.create_index(
        "idx_users_full_name_trgm",
        "users",
        ["full_name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"full_name": "gin_trgm_ops"},
    )
    op.create_index("idx_users_last_login", "users", ["last_login"], unique=False)
    op.create_index("idx_users_status", "users", ["status"], unique=False)
    op.create_index("idx_users_user_type", "users", ["user_type"], unique=False)
    op.create_table(
        "venues",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("city", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=False),
        sa.Column("postal_code", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Numeric(precision=10, scale=8), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=11, scale=8), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("floor_plan_url", sa.Text(), nullable=True),
        sa.Column(
            "images",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "facilities",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("accessibility_features", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_email", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'active'"), nullable=False),
        sa.Column(
            "meta_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'inactive', 'under_maintenance')",
            name=op.f("ck_venues_status_valid"),
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_venues_capacity_non_negative")),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name=op.f("ck_venues_latitude_range")),
        sa.CheckConstraint(
            "longitude BETWEEN -180 AND 180", name=op.f("ck_venues_longitude_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
        sa.UniqueConstraint("slug", name=op.f("uq_venues_slug")),
        info={"slug_source": "name"},
    )
    op.create_index("idx_venues_capacity", "venues", ["capacity"], unique=False)
    op.create_index("idx_venues_city_country", "venues", ["city", "country"], unique=False)
    op.create_index(
        "idx_venues_fts",
        "venues",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(address, '') || ' ' || coalesce(city, '') || ' ' || coalesce(country, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "idx_venues_location",
        "venues",
        ["latitude", "longitude"],
        unique=False,
        postgresql_where=sa.text("latitude IS NOT NULL AND longitude IS NOT NULL"),
    )
    op.create_index("idx_venues_status", "venues", ["status"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_prefix", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column(
            "permissions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("rate_limit", sa.Integer(), server_default=sa.text("100"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("expires_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("rate_limit > 0", name=op.f("ck_api_keys_rate_limit_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(
        "idx_api_keys_is_active",
        "api_keys",
        ["is_active"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_index("idx_api_keys_key_prefix", "api_keys", ["key_prefix"], unique=False)
    op.create_index("idx_api_keys_user_id", "api_keys", ["user_id"], unique=False)
    op.create_table(
        "background_jobs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("100"), nullable=False),
        sa.Column("max_retries", sa.Integer(), server_default=sa.text("3"), nullable=False),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "scheduled_for",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("completed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("failed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "progress",
            sa.Numeric(precision=5, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("progress_message", sa.Text(), nullable=True),
        sa.Column("locked_by", sa.Text(), nullable=True),
        sa.Column("locked_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.Text(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_background_jobs_status_valid"),
        ),
        sa.CheckConstraint(
            "max_retries >= 0", name=op.f("ck_background_jobs_max_retries_non_negative")
        ),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100",
            name=op.f("ck_background_jobs_progress_between_0_and_100"),
        ),
        sa.CheckConstraint(
            "retry_count >= 0", name=op.f("ck_background_jobs_retry_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_background_jobs_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_jobs")),
    )
    op.create_index(
        "idx_background_jobs_created_by", "background_jobs", ["created_by"], unique=False
    )
    op.create_index(
        "idx_background_jobs_pending",
        "background_jobs",
        ["priority", "scheduled_for"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "uq_background_jobs_live_dedupe_key",
        "background_jobs",
        ["dedupe_key"],
        unique=True,
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.create_table(
        "data_subject_requests",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("subject_email", sa.Text(), nullable=False),
        sa.Column("request_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("request_details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "submitted_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("due_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("identity_verified_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("identity_verification_method", sa.Text(), nullable=True),
        sa.Column("assigned_to", sa.UUID(), nullable=True),
        sa.Column("completed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("handled_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "request_type IN ('access', 'portability', 'erasure', 'rectification', 'restriction')",
            name=op.f("ck_data_subject_requests_request_type_valid"),
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR rejection_reason IS NOT NULL",
            name=op.f("ck_data_subject_requests_rejection_reason_required"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'rejected')",
            name=op.f("ck_data_subject_requests_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to"],
            ["users.id"],
            name=op.f("fk_data_subject_requests_assigned_to_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handled_by"],
            ["users.id"],
            name=op.f("fk_data_subject_requests_handled_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_data_subject_requests_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_subject_requests")),
    )
    op.create_index(
        "idx_data_subject_requests_assigned_to",
        "data_subject_requests",
        ["assigned_to"],
        unique=False,
    )
    op.create_index(
        "idx_data_subject_requests_handled_by",
        "data_subject_requests",
        ["handled_by"],
        unique=False,
    )
    op.create_index(
        "idx_data_subject_requests_status_due_at",
        "data_subject_requests",
        ["status", "due_at"],
        unique=False,
    )
    op.create_index(
        "idx_data_subject_requests_subject_email",
        "data_subject_requests",
        ["subject_email"],
        unique=False,
    )
    op.create_index(
        "idx_data_subject_requests_user_id", "data_subject_requests", ["user_id"], unique=False
    )
    op.create_table(
        "designers",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("brand_name", sa.Text(), nullable=True),
        sa.Column("specialty", sa.Text(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("website_url", sa.Text(), nullable=True),
        sa.Column(
            "social_media",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("contact_email", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("profile_image_url", sa.Text(), nullable=True),
        sa.Column("cover_image_url", sa.Text(), nullable=True),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("years_active", sa.Integer(), nullable=True),
        sa.Column(
            "awards",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "press_mentions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("location", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'inactive', 'pending', 'rejected')",
            name=op.f("ck_designers_status_valid"),
        ),
        sa.CheckConstraint(
            "years_active >= 0", name=op.f("ck_designers_years_active_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_designers_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designers")),
        sa.UniqueConstraint("slug", name=op.f("uq_designers_slug")),
        info={"slug_source": "name"},
    )
    op.create_index(
        "idx_designers_featured",
        "designers",
        ["is_featured"],
        unique=False,
        postgresql_where=sa.text("is_featured"),
    )
    op.create_index(
        "idx_designers_fts",
        "designers",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(brand_name, '') || ' ' || coalesce(specialty, '') || ' ' || coalesce(bio, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("idx_designers_specialty", "designers", ["specialty"], unique=False)
    op.create_index("idx_designers_status", "designers", ["status"], unique=False)
    op.create_index("idx_designers_user_id", "designers", ["user_id"], unique=False)
    op.create_index(
        "idx_designers_verified",
        "designers",
        ["is_verified"],
        unique=False,
        postgresql_where=sa.text("is_verified"),
    )
    op.create_table(
        "discount_codes",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("discount_type", sa.Text(), nullable=False),
        sa.Column("discount_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "minimum_order_amount",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("maximum_discount_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("start_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("end_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("current_usage", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_one_time_use", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "applies_to_all_events", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "is_first_purchase_only", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "discount_type <> 'percentage' OR discount_value <= 100",
            name=op.f("ck_discount_codes_check_percentage_discount"),
        ),
        sa.CheckConstraint(
            "discount_type IN ('percentage', 'fixed_amount')",
            name=op.f("ck_discount_codes_discount_type_valid"),
        ),
        sa.CheckConstraint(
            "current_usage >= 0", name=op.f("ck_discount_codes_current_usage_non_negative")
        ),
        sa.CheckConstraint(
            "discount_value >= 0", name=op.f("ck_discount_codes_discount_value_non_negative")
        ),
        sa.CheckConstraint(
            "end_date > start_date", name=op.f("ck_discount_codes_check_discount_dates")
        ),
        sa.CheckConstraint(
            "maximum_discount_amount >= 0",
            name=op.f("ck_discount_codes_maximum_discount_amount_non_negative"),
        ),
        sa.CheckConstraint(
            "minimum_order_amount >= 0",
            name=op.f("ck_discount_codes_minimum_order_amount_non_negative"),
        ),
        sa.CheckConstraint(
            "usage_limit IS NULL OR current_usage <= usage_limit",
            name=op.f("ck_discount_codes_check_discount_usage"),
        ),
        sa.CheckConstraint(
            "usage_limit IS NULL OR usage_limit > 0",
            name=op.f("ck_discount_codes_usage_limit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_discount_codes_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_discount_codes_code")),
    )
    op.create_index(
        "idx_discount_codes_active",
        "discount_codes",
        ["is_active"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_index("idx_discount_codes_created_by", "discount_codes", ["created_by"], unique=False)
    op.create_index(
        "idx_discount_codes_dates", "discount_codes", ["start_date", "end_date"], unique=False
    )
    op.create_index(
        "idx_discount_codes_usage",
        "discount_codes",
        ["current_usage", "usage_limit"],
        unique=False,
        postgresql_where=sa.text("usage_limit IS NOT NULL"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("organizer_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("short_description", sa.Text(), nullable=True),
        sa.Column("start_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("end_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("current_attendance", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("featured_image_url", sa.Text(), nullable=True),
        sa.Column(
            "gallery_images",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("ticket_url", sa.Text(), nullable=True),
        sa.Column("external_url", sa.Text(), nullable=True),
        sa.Column("seo_title", sa.Text(), nullable=True),
        sa.Column("seo_description", sa.Text(), nullable=True),
        sa.Column("seo_keywords", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("published_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "meta_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "tax_rate",
            sa.Numeric(precision=5, scale=4),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'cancelled', 'completed', 'postponed')",
            name=op.f("ck_events_status_valid"),
        ),
        sa.CheckConstraint(
            "type IN ('fashion_show', 'exhibition', 'workshop', 'conference', 'party', 'networking')",
            name=op.f("ck_events_type_valid"),
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_events_capacity_non_negative")),
        sa.CheckConstraint(
            "capacity IS NULL OR current_attendance <= capacity",
            name=op.f("ck_events_check_attendance"),
        ),
        sa.CheckConstraint(
            "current_attendance >= 0", name=op.f("ck_events_current_attendance_non_negative")
        ),
        sa.CheckConstraint("end_date > start_date", name=op.f("ck_events_check_dates")),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate < 1", name=op.f("ck_events_tax_rate_range")),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["users.id"],
            name=op.f("fk_events_organizer_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_events_venue_id_venues"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("slug", name=op.f("uq_events_slug")),
        info={"slug_source": "title"},
    )
    op.create_index("idx_events_date_range", "events", ["start_date", "end_date"], unique=False)
    op.create_index(
        "idx_events_featured",
        "events",
        ["featured"],
        unique=False,
        postgresql_where=sa.text("featured"),
    )
    op.create_index(
        "idx_events_fts",
        "events",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(short_description, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("idx_events_organizer_id", "events", ["organizer_id"], unique=False)
    op.create_index("idx_events_status", "events", ["status"], unique=False)
    op.create_index("idx_events_tags", "events", ["tags"], unique=False, postgresql_using="gin")
    op.create_index("idx_events_type", "events", ["type"], unique=False)
    op.create_index("idx_events_venue_id", "events", ["venue_id"], unique=False)
    op.create_table(
        "marketing_segments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("segment_type", sa.Text(), nullable=False),
        sa.Column("filter_criteria", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("estimated_size", sa.Integer(), nullable=True),
        sa.Column("last_calculated_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "segment_type IN ('static', 'dynamic', 'imported')",
            name=op.f("ck_marketing_segments_segment_type_valid"),
        ),
        sa.CheckConstraint(
            "estimated_size >= 0", name=op.f("ck_marketing_segments_estimated_size_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_marketing_segments_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_segments")),
    )
    op.create_index(
        "idx_marketing_segments_created_by", "marketing_segments", ["created_by"], unique=False
    )
    op.create_index(
        "idx_marketing_segments_segment_type", "marketing_segments", ["segment_type"], unique=False
    )
    op.create_table(
        "media_items",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_type", sa.Text(), nullable=False),
        sa.Column("mime_type", sa.Text(), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("uploaded_by", sa.UUID(), nullable=True),
        sa.Column("folder_path", sa.Text(), server_default=sa.text("'/'"), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column(
            "meta_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("duration >= 0", name=op.f("ck_media_items_duration_non_negative")),
        sa.CheckConstraint("file_size >= 0", name=op.f("ck_media_items_file_size_non_negative")),
        sa.CheckConstraint("height >= 0", name=op.f("ck_media_items_height_non_negative")),
        sa.CheckConstraint("width >= 0", name=op.f("ck_media_items_width_non_negative")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_media_items_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_items")),
    )
    op.create_index("idx_media_items_file_type", "media_items", ["file_type"], unique=False)
    op.create_index("idx_media_items_folder_path", "media_items", ["folder_path"], unique=False)
    op.create_index(
        "idx_media_items_fts",
        "media_items",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(file_name, '') || ' ' || coalesce(alt_text, '') || ' ' || coalesce(caption, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "idx_media_items_tags", "media_items", ["tags"], unique=False, postgresql_using="gin"
    )
    op.create_index("idx_media_items_uploaded_by", "media_items", ["uploaded_by"], unique=False)
    op.create_table(
        "models",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("agency", sa.Text(), nullable=True),
        sa.Column("height", sa.Text(), nullable=True),
        sa.Column("measurements", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("profile_image_url", sa.Text(), nullable=True),
        sa.Column("portfolio_url", sa.Text(), nullable=True),
        sa.Column(
            "social_media",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'active'"), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('active', 'inactive')", name=op.f("ck_models_status_valid")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_models_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("slug", name=op.f("uq_models_slug")),
        info={"slug_source": "name"},
    )
    op.create_index("idx_models_agency", "models", ["agency"], unique=False)
    op.create_index(
        "idx_models_featured",
        "models",
        ["is_featured"],
        unique=False,
        postgresql_where=sa.text("is_featured"),
    )
    op.create_index(
        "idx_models_fts",
        "models",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(agency, '') || ' ' || coalesce(bio, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("idx_models_status", "models", ["status"], unique=False)
    op.create_index("idx_models_user_id", "models", ["user_id"], unique=False)
    op.create_table(
        "pages",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("meta_description", sa.Text(), nullable=True),
        sa.Column("meta_keywords", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("layout", sa.Text(), server_default=sa.text("'default'"), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=True),
        sa.Column("published_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("is_homepage", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("requires_auth", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("cache_ttl", sa.Integer(), server_default=sa.text("3600"), nullable=False),
        sa.Column("seo_image_url", sa.Text(), nullable=True),
        sa.Column(
            "structured_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name=op.f("ck_pages_status_valid")
        ),
        sa.CheckConstraint("cache_ttl >= 0", name=op.f("ck_pages_cache_ttl_non_negative")),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_pages_author_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
        sa.UniqueConstraint("slug", name=op.f("uq_pages_slug")),
        info={"slug_source": "title"},
    )
    op.create_index("idx_pages_author_id", "pages", ["author_id"], unique=False)
    op.create_index(
        "idx_pages_fts",
        "pages",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(meta_description, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "idx_pages_is_homepage",
        "pages",
        ["is_homepage"],
        unique=True,
        postgresql_where=sa.text("is_homepage"),
    )
    op.create_index("idx_pages_published_at", "pages", ["published_at"], unique=False)
    op.create_index("idx_pages_status", "pages", ["status"], unique=False)
    op.create_table(
        "role_permissions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column("permission_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["permission_id"],
            ["permissions.id"],
            name=op.f("fk_role_permissions_permission_id_permissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.id"],
            name=op.f("fk_role_permissions_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_permissions")),
        sa.UniqueConstraint(
            "role_id", "permission_id", name=op.f("uq_role_permissions_role_id_permission_id")
        ),
    )
    op.create_index(
        "idx_role_permissions_permission_id", "role_permissions", ["permission_id"], unique=False
    )
    op.create_table(
        "sponsors",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("logo_url", sa.Text(), nullable=True),
        sa.Column("website_url", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("contact_email", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("company_size", sa.Text(), nullable=True),
        sa.Column("founded_year", sa.Integer(), nullable=True),
        sa.Column("headquarters", sa.Text(), nullable=True),
        sa.Column("social_media", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'pending', 'inactive', 'archived')",
            name=op.f("ck_sponsors_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sponsors_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsors")),
        sa.UniqueConstraint("slug", name=op.f("uq_sponsors_slug")),
        info={"slug_source": "name"},
    )
    op.create_index(
        "idx_sponsors_fts",
        "sponsors",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(industry, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("idx_sponsors_industry", "sponsors", ["industry"], unique=False)
    op.create_index("idx_sponsors_name", "sponsors", ["name"], unique=False)
    op.create_index("idx_sponsors_status", "sponsors", ["status"], unique=False)
    op.create_index("idx_sponsors_user_id", "sponsors", ["user_id"], unique=False)
    op.create_table(
        "system_configurations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "value", postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=False
        ),
        sa.Column("value_type", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "is_hot_reloadable", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "CASE value_type WHEN 'string' THEN jsonb_typeof(value) = 'string' WHEN 'number' THEN jsonb_typeof(value) = 'number' WHEN 'boolean' THEN jsonb_typeof(value) = 'boolean' ELSE true END",
            name=op.f("ck_system_configurations_value_matches_value_type"),
        ),
        sa.CheckConstraint(
            "value_type IN ('string', 'number', 'boolean', 'duration', 'json')",
            name=op.f("ck_system_configurations_value_type_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_system_configurations_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_configurations")),
        sa.UniqueConstraint("category", "key", name=op.f("uq_system_configurations_category_key")),
    )
    op.create_index(
        "idx_system_configurations_updated_by",
        "system_configurations",
        ["updated_by"],
        unique=False,
    )
    op.create_table(
        "tier_benefits",
        sa.Column("tier_id", sa.UUID(), nullable=False),
        sa.Column("benefit_id", sa.UUID(), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_tier_benefits_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["benefit_id"],
            ["sponsor_benefits.id"],
            name=op.f("fk_tier_benefits_benefit_id_sponsor_benefits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["sponsorship_tiers.id"],
            name=op.f("fk_tier_benefits_tier_id_sponsorship_tiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tier_id", "benefit_id", name=op.f("pk_tier_benefits")),
    )
    op.create_index("idx_tier_benefits_benefit_id", "tier_benefits", ["benefit_id"], unique=False)
    op.create_table(
        "user_profiles",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column(
            "social_links",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("interests", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column(
            "preferences",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "notification_settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text('\'{"email": true, "sms": false, "push": true}\'::jsonb'),
            nullable=False,
        ),
        sa.Column("encrypted_payment_info", sa.Text(), nullable=True),
        sa.Column("payment_info_key_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["payment_info_key_id"],
            ["encryption_keys.id"],
            name=op.f("fk_user_profiles_payment_info_key_id_encryption_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_profiles")),
        sa.UniqueConstraint("user_id", name=op.f("uq_user_profiles_user_id")),
    )
    op.create_index(
        "idx_user_profiles_interests",
        "user_profiles",
        ["interests"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("idx_user_profiles_location", "user_profiles", ["location"], unique=False)
    op.create_table(
        "user_roles",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_user_roles_role_id_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_roles")),
        sa.UniqueConstraint("user_id", "role_id", name=op.f("uq_user_roles_user_id_role_id")),
    )
    op.create_index("idx_user_roles_role_id", "user_roles", ["role_id"], unique=False)
    op.create_table(
        "venue_sections",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("section_type", sa.Text(), nullable=False),
        sa.Column(
            "price_multiplier",
            sa.Numeric(precision=5, scale=2),
            server_default=sa.text("1.0"),
            nullable=False,
        ),
        sa.Column("coordinates", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("accessibility", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "section_type IN ('general', 'vip', 'premium', 'backstage', 'press')",
            name=op.f("ck_venue_sections_section_type_valid"),
        ),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_venue_sections_capacity_non_negative")),
        sa.CheckConstraint(
            "price_multiplier >= 0", name=op.f("ck_venue_sections_price_multiplier_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["venues.id"],
            name=op.f("fk_venue_sections_venue_id_venues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue_sections")),
        sa.UniqueConstraint("venue_id", "name", name=op.f("uq_venue_sections_venue_id_name")),
    )
    op.create_index(
        "idx_venue_sections_section_type", "venue_sections", ["section_type"], unique=False
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("secret_key", sa.Text(), nullable=True),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_webhooks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index(
        "idx_webhooks_events", "webhooks", ["events"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "idx_webhooks_is_active",
        "webhooks",
        ["is_active"],
        unique=False,
        postgresql_where=sa.text("is_active"),
    )
    op.create_index("idx_webhooks_user_id", "webhooks", ["user_id"], unique=False)
    op.create_table(
        "api_usage_logs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("api_key_id", sa.UUID(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_time_ms", sa.Integer(), nullable=False),
        sa.Column("request_size_bytes", sa.Integer(), nullable=True),
        sa.Column("response_size_bytes", sa.Integer(), nullable=True),
        sa.Column("ip_address", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "request_size_bytes >= 0",
            name=op.f("ck_api_usage_logs_request_size_bytes_non_negative"),
        ),
        sa.CheckConstraint(
            "response_size_bytes >= 0",
            name=op.f("ck_api_usage_logs_response_size_bytes_non_negative"),
        ),
        sa.CheckConstraint(
            "response_time_ms >= 0", name=op.f("ck_api_usage_logs_response_time_ms_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_usage_logs_api_key_id_api_keys"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", "created_at", name=op.f("pk_api_usage_logs")),
        postgresql_partition_by="RANGE (created_at)",
    )
    op.create_index("idx_api_usage_logs_api_key_id", "api_usage_logs", ["api_key_id"], unique=False)
    op.create_index("idx_api_usage_logs_created_at", "api_usage_logs", ["created_at"], unique=False)
    op.create_index("idx_api_usage_logs_endpoint", "api_usage_logs", ["endpoint"], unique=False)
    op.create_table(
        "collections",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("designer_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("season", sa.Text(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("release_date", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'draft'"), nullable=False),
        sa.Column("cover_image_url", sa.Text(), nullable=True),
        sa.Column("inspiration", sa.Text(), nullable=True),
        sa.Column(
            "color_palette",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "materials",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("show_notes", sa.Text(), nullable=True),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "season IN ('spring', 'summer', 'fall', 'winter', 'resort', 'pre-fall', 'bridal', 'couture', 'other')",
            name=op.f("ck_collections_season_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'archived')", name=op.f("ck_collections_status_valid")
        ),
        sa.CheckConstraint("year BETWEEN 1900 AND 2100", name=op.f("ck_collections_year_range")),
        sa.ForeignKeyConstraint(
            ["designer_id"],
            ["designers.id"],
            name=op.f("fk_collections_designer_id_designers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_collections_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collections")),
        sa.UniqueConstraint("slug", name=op.f("uq_collections_slug")),
        info={"slug_source": "name"},
    )
    op.create_index("idx_collections_designer_id", "collections", ["designer_id"], unique=False)
    op.create_index(
        "idx_collections_event_id",
        "collections",
        ["event_id"],
        unique=False,
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )
    op.create_index(
        "idx_collections_featured",
        "collections",
        ["is_featured"],
        unique=False,
        postgresql_where=sa.text("is_featured"),
    )
    op.create_index(
        "idx_collections_fts",
        "collections",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(inspiration, '') || ' ' || coalesce(show_notes, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index("idx_collections_season_year", "collections", ["season", "year"], unique=False)
    op.create_index("idx_collections_status", "collections", ["status"], unique=False)
    op.create_table(
        "content_blocks",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("block_type", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column(
            "content_json",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("order_index", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "styles",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "visibility_rules",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "block_type IN ('hero', 'text', 'image', 'gallery', 'video', 'cta', 'testimonial', 'feature', 'event_list', 'designer_list', 'sponsor_list', 'custom')",
            name=op.f("ck_content_blocks_block_type_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["pages.id"],
            name=op.f("fk_content_blocks_page_id_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_blocks")),
    )
    op.create_index("idx_content_blocks_block_type", "content_blocks", ["block_type"], unique=False)
    op.create_index(
        "idx_content_blocks_order_index", "content_blocks", ["order_index"], unique=False
    )
    op.create_index("idx_content_blocks_page_id", "content_blocks", ["page_id"], unique=False)
    op.create_table(
        "designer_analytics",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("designer_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("profile_views", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "collection_views",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "item_views",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("favorites", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("shares", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("click_throughs", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "click_throughs >= 0", name=op.f("ck_designer_analytics_click_throughs_non_negative")
        ),
        sa.CheckConstraint(
            "favorites >= 0", name=op.f("ck_designer_analytics_favorites_non_negative")
        ),
        sa.CheckConstraint(
            "profile_views >= 0", name=op.f("ck_designer_analytics_profile_views_non_negative")
        ),
        sa.CheckConstraint("shares >= 0", name=op.f("ck_designer_analytics_shares_non_negative")),
        sa.ForeignKeyConstraint(
            ["designer_id"],
            ["designers.id"],
            name=op.f("fk_designer_analytics_designer_id_designers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "date", name=op.f("pk_designer_analytics")),
        sa.UniqueConstraint(
            "designer_id", "date", name=op.f("uq_designer_analytics_designer_id_date")
        ),
        postgresql_partition_by="RANGE (date)",
    )
    op.create_index("idx_designer_analytics_date", "designer_analytics", ["date"], unique=False)
    op.create_table(
        "designer_collaboration_participants",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("collaboration_id", sa.UUID(), nullable=False),
        sa.Column("designer_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["collaboration_id"],
            ["designer_collaborations.id"],
            name=op.f(
                "fk_designer_collaboration_participants_collaboration_id_designer_collaborations"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["designer_id"],
            ["designers.id"],
            name=op.f("fk_designer_collaboration_participants_designer_id_designers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_designer_collaboration_participants")),
        sa.UniqueConstraint(
            "collaboration_id",
            "designer_id",
            name=op.f("uq_designer_collaboration_participants_collaboration_id_designer_id"),
        ),
    )
    op.create_index(
        "idx_designer_collaboration_participants_designer_id",
        "designer_collaboration_participants",
        ["designer_id"],
        unique=False,
    )
    op.create_table(
        "discount_code_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("discount_code_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["discount_code_id"],
            ["discount_codes.id"],
            name=op.f("fk_discount_code_events_discount_code_id_discount_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_discount_code_events_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_code_events")),
        sa.UniqueConstraint(
            "discount_code_id",
            "event_id",
            name=op.f("uq_discount_code_events_discount_code_id_event_id"),
        ),
    )
    op.create_index(
        "idx_discount_code_events_event_id", "discount_code_events", ["event_id"], unique=False
    )
    op.create_table(
        "event_category_mappings",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["event_categories.id"],
            name=op.f("fk_event_category_mappings_category_id_event_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_category_mappings_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_category_mappings")),
        sa.UniqueConstraint(
            "event_id", "category_id", name=op.f("uq_event_category_mappings_event_id_category_id")
        ),
    )
    op.create_index(
        "idx_event_category_mappings_category_id",
        "event_category_mappings",
        ["category_id"],
        unique=False,
    )
    op.create_table(
        "event_schedules",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("speaker_id", sa.UUID(), nullable=True),
        sa.Column("start_time", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("end_time", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("order_index", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_break", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "meta_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_event_schedules_check_schedule_times")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_schedules_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"],
            ["users.id"],
            name=op.f("fk_event_schedules_speaker_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_schedules")),
    )
    op.create_index("idx_event_schedules_event_id", "event_schedules", ["event_id"], unique=False)
    op.create_index(
        "idx_event_schedules_order_index", "event_schedules", ["order_index"], unique=False
    )
    op.create_index(
        "idx_event_schedules_speaker_id", "event_schedules", ["speaker_id"], unique=False
    )
    op.create_index(
        "idx_event_schedules_start_time", "event_schedules", ["start_time"], unique=False
    )
    op.create_table(
        "marketing_campaigns",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("budget", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("target_audience", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("goals", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "channels",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'scheduled', 'active', 'paused', 'completed', 'cancelled')",
            name=op.f("ck_marketing_campaigns_status_valid"),
        ),
        sa.CheckConstraint("budget >= 0", name=op.f("ck_marketing_campaigns_budget_non_negative")),
        sa.CheckConstraint(
            "end_date >= start_date",
            name=op.f("ck_marketing_campaigns_end_date_not_before_start_date"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_marketing_campaigns_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_marketing_campaigns_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_campaigns")),
    )
    op.create_index(
        "idx_marketing_campaigns_created_by", "marketing_campaigns", ["created_by"], unique=False
    )
    op.create_index(
        "idx_marketing_campaigns_date_range",
        "marketing_campaigns",
        ["start_date", "end_date"],
        unique=False,
    )
    op.create_index(
        "idx_marketing_campaigns_event_id", "marketing_campaigns", ["event_id"], unique=False
    )
    op.create_index(
        "idx_marketing_campaigns_fts",
        "marketing_campaigns",
        [
            sa.literal_column(
                "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, ''))"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "idx_marketing_campaigns_status", "marketing_campaigns", ["status"], unique=False
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_number", sa.Text(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "total_amount",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "subtotal",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "tax_amount",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "discount_amount",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("currency", sa.Text(), server_default=sa.text("'USD'"), nullable=False),
        sa.Column("payment_intent_id", sa.Text(), nullable=True),
        sa.Column("payment_method", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("billing_email", sa.Text(), nullable=False),
        sa.Column("billing_name", sa.Text(), nullable=False),
        sa.Column("billing_phone", sa.Text(), nullable=True),
        sa.Column("billing_address", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("ip_address", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("encrypted_payment_details", sa.Text(), nullable=True),
        sa.Column("payment_details_key_id", sa.UUID(), nullable=True),
        sa.Column("is_anonymized", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("completed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("expiration_time", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'cancelled', 'refunded', 'failed')",
            name=op.f("ck_orders_status_valid"),
        ),
        sa.CheckConstraint("char_length(currency) = 3", name=op.f("ck_orders_currency_code")),
        sa.CheckConstraint(
            "discount_amount >= 0", name=op.f("ck_orders_discount_amount_non_negative")
        ),
        sa.CheckConstraint("subtotal >= 0", name=op.f("ck_orders_subtotal_non_negative")),
        sa.CheckConstraint("tax_amount >= 0", name=op.f("ck_orders_tax_amount_non_negative")),
        sa.CheckConstraint(
            "total_amount = subtotal - discount_amount + tax_amount",
            name=op.f("ck_orders_check_order_total"),
        ),
        sa.CheckConstraint("total_amount >= 0", name=op.f("ck_orders_total_amount_non_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_orders_event_id_events"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["payment_details_key_id"],
            ["encryption_keys.id"],
            name=op.f("fk_orders_payment_details_key_id_encryption_keys"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_orders_idempotency_key")),
        sa.UniqueConstraint("order_number", name=op.f("uq_orders_order_number")),
    )
    op.create_index("idx_orders_billing_email", "orders", ["billing_email"], unique=False)
    op.create_index(
        "idx_orders_billing_name_trgm",
        "orders",
        ["billing_name"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"billing_name": "gin_trgm_ops"},
    )
    op.create_index(
        "idx_orders_completed_at",
        "orders",
        ["completed_at"],
        unique=False,
        postgresql_where=sa.text("completed_at IS NOT NULL"),
    )
    op.create_index("idx_orders_created_at", "orders", ["created_at"], unique=False)
    op.create_index(
        "idx_orders_event_id_created_at", "orders", ["event_id", "created_at"], unique=False
    )
    op.create_index(
        "idx_orders_expiration_time",
        "orders",
        ["expiration_time"],
        unique=False,
        postgresql_where=sa.text("expiration_time IS NOT NULL"),
    )
    op.create_index(
        "idx_orders_payment_details_key_id", "orders", ["payment_details_key_id"], unique=False
    )
    op.create_index(
        "idx_orders_payment_intent_id",
        "orders",
        ["payment_intent_id"],
        unique=False,
        postgresql_where=sa.text("payment_intent_id IS NOT NULL"),
    )
    op.create_index("idx_orders_status", "orders", ["status"], unique=False)
    op.create_index("idx_orders_user_id", "orders", ["user_id"], unique=False)
    op.create_table(
        "page_versions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("page_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("meta_description", sa.Text(), nullable=True),
        sa.Column("meta_keywords", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("layout", sa.Text(), nullable=False),
        sa.Column("content_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("author_id", sa.UUID(), nullable=True),
        sa.Column("change_summary", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_page_versions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["page_id"],
            ["pages.id"],
            name=op.f("fk_page_versions_page_id_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page_versions")),
        sa.UniqueConstraint("page_id", "version", name=op.f("uq_page_versions_page_id_version")),
    )
    op.create_index("idx_page_versions_author_id", "page_versions", ["author_id"], unique=False)
    op.create_index("idx_page_versions_version", "page_versions", ["version"], unique=False)
    op.create_table(
        "segment_members",
        sa.Column("segment_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "added_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["segment_id"],
            ["marketing_segments.id"],
            name=op.f("fk_segment_members_segment_id_marketing_segments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_segment_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("segment_id", "user_id", name=op.f("pk_segment_members")),
    )
    op.create_index("idx_segment_members_user_id", "segment_members", ["user_id"], unique=False)
    op.create_table(
        "sponsor_analytics",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("sponsor_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("impressions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("clicks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("leads_generated", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("conversions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("engagement_metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("roi_metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "cost", sa.Numeric(precision=12, scale=2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "revenue",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("clicks >= 0", name=op.f("ck_sponsor_analytics_clicks_non_negative")),
        sa.CheckConstraint(
            "conversions >= 0", name=op.f("ck_sponsor_analytics_conversions_non_negative")
        ),
        sa.CheckConstraint("cost >= 0", name=op.f("ck_sponsor_analytics_cost_non_negative")),
        sa.CheckConstraint(
            "impressions >= 0", name=op.f("ck_sponsor_analytics_impressions_non_negative")
        ),
        sa.CheckConstraint(
            "leads_generated >= 0", name=op.f("ck_sponsor_analytics_leads_generated_non_negative")
        ),
        sa.CheckConstraint("revenue >= 0", name=op.f("ck_sponsor_analytics_revenue_non_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_sponsor_analytics_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sponsor_id"],
            ["sponsors.id"],
            name=op.f("fk_sponsor_analytics_sponsor_id_sponsors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "date", name=op.f("pk_sponsor_analytics")),
        sa.UniqueConstraint(
            "sponsor_id",
            "event_id",
            "date",
            name=op.f("uq_sponsor_analytics_sponsor_id_event_id_date"),
            postgresql_nulls_not_distinct=True,
        ),
        postgresql_partition_by="RANGE (date)",
    )
    op.create_index("idx_sponsor_analytics_date", "sponsor_analytics", ["date"], unique=False)
    op.create_index(
        "idx_sponsor_analytics_event_id", "sponsor_analytics", ["event_id"], unique=False
    )
    op.create_table(
        "sponsorships",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("sponsor_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("tier_id", sa.UUID(), nullable=True),
        sa.Column("custom_tier_name", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("payment_status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("contract_url", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("benefits", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "payment_status IN ('pending', 'partial', 'paid', 'refunded')",
            name=op.f("ck_sponsorships_payment_status_valid"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_sponsorships_amount_non_negative")),
        sa.CheckConstraint(
            "end_date >= start_date", name=op.f("ck_sponsorships_end_date_after_start_date")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_sponsorships_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sponsor_id"],
            ["sponsors.id"],
            name=op.f("fk_sponsorships_sponsor_id_sponsors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["sponsorship_tiers.id"],
            name=op.f("fk_sponsorships_tier_id_sponsorship_tiers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorships")),
        sa.UniqueConstraint(
            "sponsor_id", "event_id", name=op.f("uq_sponsorships_sponsor_id_event_id")
        ),
    )
    op.create_index(
        "idx_sponsorships_date_range", "sponsorships", ["start_date", "end_date"], unique=False
    )
    op.create_index("idx_sponsorships_event_id", "sponsorships", ["event_id"], unique=False)
    op.create_index("idx_sponsorships_featured", "sponsorships", ["is_featured"], unique=False)
    op.create_index("idx_sponsorships_tier_id", "sponsorships", ["tier_id"], unique=False)
    op.create_table(
        "ticket_types",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("base_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "features",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("max_quantity_per_order", sa.Integer(), nullable=True),
        sa.Column("total_capacity", sa.Integer(), nullable=False),
        sa.Column("remaining_capacity", sa.Integer(), nullable=False),
        sa.Column("sale_start_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("sale_end_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("tier", sa.Text(), nullable=False),
        sa.Column("seating_section_id", sa.UUID(), nullable=True),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "tier IN ('general', 'premium', 'vip', 'exclusive')",
            name=op.f("ck_ticket_types_tier_valid"),
        ),
        sa.CheckConstraint("base_price >= 0", name=op.f("ck_ticket_types_base_price_non_negative")),
        sa.CheckConstraint(
            "max_quantity_per_order IS NULL OR max_quantity_per_order > 0",
            name=op.f("ck_ticket_types_max_quantity_per_order_positive"),
        ),
        sa.CheckConstraint(
            "remaining_capacity >= 0 AND remaining_capacity <= total_capacity",
            name=op.f("ck_ticket_types_check_ticket_capacity"),
        ),
        sa.CheckConstraint(
            "sale_end_date > sale_start_date", name=op.f("ck_ticket_types_check_ticket_dates")
        ),
        sa.CheckConstraint(
            "tax_rate IS NULL OR (tax_rate >= 0 AND tax_rate < 1)",
            name=op.f("ck_ticket_types_tax_rate_range"),
        ),
        sa.CheckConstraint(
            "total_capacity >= 0", name=op.f("ck_ticket_types_total_capacity_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_ticket_types_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seating_section_id"],
            ["venue_sections.id"],
            name=op.f("fk_ticket_types_seating_section_id_venue_sections"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_types")),
    )
    op.create_index(
        "idx_ticket_types_active_featured",
        "ticket_types",
        ["is_active", "is_featured"],
        unique=False,
        postgresql_where=sa.text("is_active AND is_featured"),
    )
    op.create_index("idx_ticket_types_event_id", "ticket_types", ["event_id"], unique=False)
    op.create_index(
        "idx_ticket_types_sale_dates",
        "ticket_types",
        ["sale_start_date", "sale_end_date"],
        unique=False,
    )
    op.create_index(
        "idx_ticket_types_seating_section_id", "ticket_types", ["seating_section_id"], unique=False
    )
    op.create_index("idx_ticket_types_tier", "ticket_types", ["tier"], unique=False)
    op.create_table(
        "user_engagement",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=True),
        sa.Column("engagement_type", sa.Text(), nullable=False),
        sa.Column("engagement_source", sa.Text(), nullable=False),
        sa.Column("engagement_data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "occurred_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ip_address", sa.Text(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_user_engagement_event_id_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_engagement_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "occurred_at", name=op.f("pk_user_engagement")),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index("idx_user_engagement_event_id", "user_engagement", ["event_id"], unique=False)
    op.create_index(
        "idx_user_engagement_occurred_at", "user_engagement", ["occurred_at"], unique=False
    )
    op.create_index(
        "idx_user_engagement_source", "user_engagement", ["engagement_source"], unique=False
    )
    op.create_index(
        "idx_user_engagement_type", "user_engagement", ["engagement_type"], unique=False
    )
    op.create_index("idx_user_engagement_user_id", "user_engagement", ["user_id"], unique=False)
    op.create_table(
        "venue_seats",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("section_id", sa.UUID(), nullable=False),
        sa.Column("row_name", sa.Text(), nullable=True),
        sa.Column("seat_number", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'available'"), nullable=False),
        sa.Column("coordinates", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("x", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("y", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("is_accessible", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("accessibility_features", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('available', 'blocked', 'maintenance')",
            name=op.f("ck_venue_seats_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["venue_sections.id"],
            name=op.f("fk_venue_seats_section_id_venue_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue_seats")),
        sa.UniqueConstraint(
            "section_id",
            "row_name",
            "seat_number",
            name=op.f("uq_venue_seats_section_id_row_name_seat_number"),
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index(
        "idx_venue_seats_row_seat", "venue_seats", ["row_name", "seat_number"], unique=False
    )
    op.create_index("idx_venue_seats_status", "venue_seats", ["status"], unique=False)
    op.create_table(
        "webhook_delivery_logs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("webhook_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempt_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_retry_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("completed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'success', 'failed', 'retry')",
            name=op.f("ck_webhook_delivery_logs_status_valid"),
        ),
        sa.CheckConstraint(
            "attempt_count >= 0", name=op.f("ck_webhook_delivery_logs_attempt_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_delivery_logs_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "created_at", name=op.f("pk_webhook_delivery_logs")),
        postgresql_partition_by="RANGE (created_at)",
    )
    op.create_index(
        "idx_webhook_delivery_logs_created_at",
        "webhook_delivery_logs",
        ["created_at"],
        unique=False,
    )
    op.create_index(
        "idx_webhook_delivery_logs_event_type",
        "webhook_delivery_logs",
        ["event_type"],
        unique=False,
    )
    op.create_index(
        "idx_webhook_delivery_logs_status", "webhook_delivery_logs", ["status"], unique=False
    )
    op.create_index(
        "idx_webhook_delivery_logs_webhook_id",
        "webhook_delivery_logs",
        ["webhook_id"],
        unique=False,
    )
    op.create_table(
        "campaign_analytics",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("impressions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("clicks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("conversions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "revenue",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column(
            "cost", sa.Numeric(precision=12, scale=2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("clicks >= 0", name=op.f("ck_campaign_analytics_clicks_non_negative")),
        sa.CheckConstraint(
            "conversions >= 0", name=op.f("ck_campaign_analytics_conversions_non_negative")
        ),
        sa.CheckConstraint("cost >= 0", name=op.f("ck_campaign_analytics_cost_non_negative")),
        sa.CheckConstraint(
            "impressions >= 0", name=op.f("ck_campaign_analytics_impressions_non_negative")
        ),
        sa.CheckConstraint("revenue >= 0", name=op.f("ck_campaign_analytics_revenue_non_negative")),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["marketing_campaigns.id"],
            name=op.f("fk_campaign_analytics_campaign_id_marketing_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "date", name=op.f("pk_campaign_analytics")),
        sa.UniqueConstraint(
            "campaign_id",
            "date",
            "channel",
            name=op.f("uq_campaign_analytics_campaign_id_date_channel"),
        ),
        postgresql_partition_by="RANGE (date)",
    )
    op.create_index(
        "idx_campaign_analytics_channel", "campaign_analytics", ["channel"], unique=False
    )
    op.create_index("idx_campaign_analytics_date", "campaign_analytics", ["date"], unique=False)
    op.create_table(
        "campaign_assets",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("asset_type", sa.Text(), nullable=False),
        sa.Column("file_url", sa.Text(), nullable=False),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("dimensions", sa.Text(), nullable=True),
        sa.Column("duration", sa.Text(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "asset_type IN ('image', 'video', 'document', 'audio', 'other')",
            name=op.f("ck_campaign_assets_asset_type_valid"),
        ),
        sa.CheckConstraint(
            "size_bytes >= 0", name=op.f("ck_campaign_assets_size_bytes_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["marketing_campaigns.id"],
            name=op.f("fk_campaign_assets_campaign_id_marketing_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_campaign_assets_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_assets")),
    )
    op.create_index(
        "idx_campaign_assets_asset_type", "campaign_assets", ["asset_type"], unique=False
    )
    op.create_index(
        "idx_campaign_assets_campaign_id", "campaign_assets", ["campaign_id"], unique=False
    )
    op.create_index(
        "idx_campaign_assets_created_by", "campaign_assets", ["created_by"], unique=False
    )
    op.create_table(
        "discount_code_ticket_types",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("discount_code_id", sa.UUID(), nullable=False),
        sa.Column("ticket_type_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["discount_code_id"],
            ["discount_codes.id"],
            name=op.f("fk_discount_code_ticket_types_discount_code_id_discount_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_discount_code_ticket_types_ticket_type_id_ticket_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discount_code_ticket_types")),
        sa.UniqueConstraint(
            "discount_code_id",
            "ticket_type_id",
            name=op.f("uq_discount_code_ticket_types_discount_code_id_ticket_type_id"),
        ),
    )
    op.create_index(
        "idx_discount_code_ticket_types_ticket_type_id",
        "discount_code_ticket_types",
        ["ticket_type_id"],
        unique=False,
    )
    op.create_table(
        "email_campaigns",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("preview_text", sa.Text(), nullable=True),
        sa.Column("sender_name", sa.Text(), nullable=False),
        sa.Column("sender_email", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("scheduled_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("sent_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("recipient_segment", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("tracking_settings", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["marketing_campaigns.id"],
            name=op.f("fk_email_campaigns_campaign_id_marketing_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_campaigns")),
    )
    op.create_index(
        "idx_email_campaigns_campaign_id", "email_campaigns", ["campaign_id"], unique=False
    )
    op.create_index(
        "idx_email_campaigns_scheduled_at", "email_campaigns", ["scheduled_at"], unique=False
    )
    op.create_index("idx_email_campaigns_sent_at", "email_campaigns", ["sent_at"], unique=False)
    op.create_table(
        "fashion_items",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("collection_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("item_type", sa.Text(), nullable=False),
        sa.Column(
            "materials",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "colors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "sizes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "price_range",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text('\'{"min": null, "max": null}\'::jsonb'),
            nullable=False,
        ),
        sa.Column("is_featured", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "item_type IN ('dress', 'top', 'bottom', 'outerwear', 'footwear', 'accessory', 'swimwear', 'activewear', 'other')",
            name=op.f("ck_fashion_items_item_type_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_fashion_items_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fashion_items")),
    )
    op.create_index(
        "idx_fashion_items_display_order",
        "fashion_items",
        ["collection_id", "display_order"],
        unique=False,
    )
    op.create_index(
        "idx_fashion_items_featured",
        "fashion_items",
        ["is_featured"],
        unique=False,
        postgresql_where=sa.text("is_featured"),
    )
    op.create_index("idx_fashion_items_item_type", "fashion_items", ["item_type"], unique=False)
    op.create_table(
        "promotional_codes",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=True),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("discount_type", sa.Text(), nullable=False),
        sa.Column("discount_value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("min_purchase_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("max_discount_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("start_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("end_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("usage_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_single_use", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "is_first_purchase_only", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "discount_type <> 'percentage' OR discount_value <= 100",
            name=op.f("ck_promotional_codes_percentage_at_most_100"),
        ),
        sa.CheckConstraint(
            "discount_type IN ('percentage', 'fixed_amount', 'free_item')",
            name=op.f("ck_promotional_codes_discount_type_valid"),
        ),
        sa.CheckConstraint(
            "discount_value >= 0", name=op.f("ck_promotional_codes_discount_value_non_negative")
        ),
        sa.CheckConstraint(
            "end_date > start_date", name=op.f("ck_promotional_codes_end_date_after_start_date")
        ),
        sa.CheckConstraint(
            "max_discount_amount >= 0",
            name=op.f("ck_promotional_codes_max_discount_amount_non_negative"),
        ),
        sa.CheckConstraint(
            "min_purchase_amount >= 0",
            name=op.f("ck_promotional_codes_min_purchase_amount_non_negative"),
        ),
        sa.CheckConstraint(
            "usage_count <= usage_limit OR usage_limit IS NULL",
            name=op.f("ck_promotional_codes_usage_count_within_limit"),
        ),
        sa.CheckConstraint(
            "usage_count >= 0", name=op.f("ck_promotional_codes_usage_count_non_negative")
        ),
        sa.CheckConstraint(
            "usage_limit >= 0", name=op.f("ck_promotional_codes_usage_limit_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["marketing_campaigns.id"],
            name=op.f("fk_promotional_codes_campaign_id_marketing_campaigns"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotional_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_promotional_codes_code")),
    )
    op.create_index(
        "idx_promotional_codes_campaign_id", "promotional_codes", ["campaign_id"], unique=False
    )
    op.create_index(
        "idx_promotional_codes_date_range",
        "promotional_codes",
        ["start_date", "end_date"],
        unique=False,
    )
    op.create_table(
        "runway_shows",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("collection_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("venue_id", sa.UUID(), nullable=False),
        sa.Column("show_date", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("attendance", sa.Integer(), nullable=True),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column("livestream_url", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'in_progress', 'completed', 'cancelled')",
            name=op.f("ck_runway_shows_status_valid"),
        ),
        sa.CheckConstraint("attendance >= 0", name=op.f("ck_runway_shows_attendance_non_negative")),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_runway_shows_capacity_non_negative")),
        sa.CheckConstraint(
            "duration_minutes > 0", name=op.f("ck_runway_shows_duration_minutes_positive")
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_runway_shows_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_runway_shows_event_id_events"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["venues.id"],
            name=op.f("fk_runway_shows_venue_id_venues"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runway_shows")),
    )
    op.create_index(
        "idx_runway_shows_collection_id", "runway_shows", ["collection_id"], unique=False
    )
    op.create_index("idx_runway_shows_event_id", "runway_shows", ["event_id"], unique=False)
    op.create_index("idx_runway_shows_show_date", "runway_shows", ["show_date"], unique=False)
    op.create_index("idx_runway_shows_status", "runway_shows", ["status"], unique=False)
    op.create_index("idx_runway_shows_venue_id", "runway_shows", ["venue_id"], unique=False)
    op.create_table(
        "social_media_posts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("campaign_id", sa.UUID(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("media_urls", postgresql.ARRAY(sa.Text()), nullable=True),
        sa.Column("scheduled_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("published_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("post_url", sa.Text(), nullable=True),
        sa.Column("post_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "platform IN ('instagram', 'facebook', 'twitter', 'linkedin', 'tiktok', 'pinterest', 'other')",
            name=op.f("ck_social_media_posts_platform_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'scheduled', 'published', 'failed')",
            name=op.f("ck_social_media_posts_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["marketing_campaigns.id"],
            name=op.f("fk_social_media_posts_campaign_id_marketing_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_social_media_posts_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_media_posts")),
    )
    op.create_index(
        "idx_social_media_posts_campaign_id", "social_media_posts", ["campaign_id"], unique=False
    )
    op.create_index(
        "idx_social_media_posts_created_by", "social_media_posts", ["created_by"], unique=False
    )
    op.create_index(
        "idx_social_media_posts_platform", "social_media_posts", ["platform"], unique=False
    )
    op.create_index(
        "idx_social_media_posts_scheduled_at", "social_media_posts", ["scheduled_at"], unique=False
    )
    op.create_index("idx_social_media_posts_status", "social_media_posts", ["status"], unique=False)
    op.create_table(
        "sponsorship_assets",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("sponsorship_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("file_url", sa.Text(), nullable=False),
        sa.Column("file_type", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("dimensions", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("uploaded_by", sa.UUID(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.UUID(), nullable=True),
        sa.Column("reviewed_at", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR review_note IS NOT NULL",
            name=op.f("ck_sponsorship_assets_rejected_needs_review_note"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_sponsorship_assets_status_valid"),
        ),
        sa.CheckConstraint(
            "size_bytes >= 0", name=op.f("ck_sponsorship_assets_size_bytes_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
            name=op.f("fk_sponsorship_assets_reviewed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sponsorship_id"],
            ["sponsorships.id"],
            name=op.f("fk_sponsorship_assets_sponsorship_id_sponsorships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_sponsorship_assets_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sponsorship_assets")),
    )
    op.create_index(
        "idx_sponsorship_assets_reviewed_by", "sponsorship_assets", ["reviewed_by"], unique=False
    )
    op.create_index(
        "idx_sponsorship_assets_sponsorship_id",
        "sponsorship_assets",
        ["sponsorship_id"],
        unique=False,
    )
    op.create_index(
        "idx_sponsorship_assets_uploaded_by", "sponsorship_assets", ["uploaded_by"], unique=False
    )
    op.create_table(
        "ticket_inventory_locks",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("ticket_type_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.TIMESTAMP(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_ticket_inventory_locks_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_ticket_inventory_locks_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_ticket_inventory_locks_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_ticket_inventory_locks_ticket_type_id_ticket_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_inventory_locks")),
    )
    op.create_index(
        "idx_ticket_inventory_locks_event_id", "ticket_inventory_locks", ["event_id"], unique=False
    )
    op.create_index(
        "idx_ticket_inventory_locks_expires_at",
        "ticket_inventory_locks",
        ["expires_at"],
        unique=False,
    )
    op.create_index(
        "idx_ticket_inventory_locks_order_id",
        "ticket_inventory_locks",
        ["order_id"],
        unique=False,
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.create_index(
        "idx_ticket_inventory_locks_session_id",
        "ticket_inventory_locks",
        ["session_id"],
        unique=False,
    )
    op.create_index(
        "idx_ticket_inventory_locks_ticket_type_id_expires_at",
        "ticket_inventory_locks",
        ["ticket_type_id", "expires_at"],
        unique=False,
    )
    op.create_index(
        "uq_ticket_inventory_locks_ticket_type_id_order_id",
        "ticket_inventory_locks",
        ["ticket_type_id", "order_id"],
        unique=True,
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.create_table(
        "email_analytics",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("email_campaign_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("sends", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("opens", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("clicks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("bounces", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("unsubscribes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("complaints", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("bounces >= 0", name=op.f("ck_email_analytics_bounces_non_negative")),
        sa.CheckConstraint("clicks >= 0", name=op.f("ck_email_analytics_clicks_non_negative")),
        sa.CheckConstraint(
            "complaints >= 0", name=op.f("ck_email_analytics_complaints_non_negative")
        ),
        sa.CheckConstraint("opens >= 0", name=op.f("ck_email_analytics_opens_non_negative")),
        sa.CheckConstraint("sends >= 0", name=op.f("ck_email_analytics_sends_non_negative")),
        sa.CheckConstraint(
            "unsubscribes >= 0", name=op.f("ck_email_analytics_unsubscribes_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["email_campaign_id"],
            ["email_campaigns.id"],
            name=op.f("fk_email_analytics_email_campaign_id_email_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "date", name=op.f("pk_email_analytics")),
        sa.UniqueConstraint(
            "email_campaign_id", "date", name=op.f("uq_email_analytics_email_campaign_id_date")
        ),
        postgresql_partition_by="RANGE (date)",
    )
    op.create_index("idx_email_analytics_date", "email_analytics", ["date"], unique=False)
    op.create_table(
        "event_seats",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("seat_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'available'"), nullable=False),
        sa.Column("hold_id", sa.UUID(), nullable=True),
        sa.Column("held_until", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("ticket_type_id", sa.UUID(), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("blocked_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'held' OR held_until IS NOT NULL",
            name=op.f("ck_event_seats_held_has_expiry"),
        ),
        sa.CheckConstraint(
            "status <> 'sold' OR order_id IS NOT NULL", name=op.f("ck_event_seats_sold_has_order")
        ),
        sa.CheckConstraint(
            "status IN ('available', 'held', 'sold', 'blocked')",
            name=op.f("ck_event_seats_status_valid"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_event_seats_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_seats_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["ticket_inventory_locks.id"],
            name=op.f("fk_event_seats_hold_id_ticket_inventory_locks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_event_seats_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["seat_id"],
            ["venue_seats.id"],
            name=op.f("fk_event_seats_seat_id_venue_seats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_event_seats_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("event_id", "seat_id", name=op.f("pk_event_seats")),
    )
    op.create_index(
        "idx_event_seats_event_id_status", "event_seats", ["event_id", "status"], unique=False
    )
    op.create_index("idx_event_seats_hold_id", "event_seats", ["hold_id"], unique=False)
    op.create_index("idx_event_seats_order_id", "event_seats", ["order_id"], unique=False)
    op.create_index("idx_event_seats_seat_id", "event_seats", ["seat_id"], unique=False)
    op.create_index(
        "idx_event_seats_ticket_type_id", "event_seats", ["ticket_type_id"], unique=False
    )
    op.create_table(
        "fashion_item_images",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("fashion_item_id", sa.UUID(), nullable=False),
        sa.Column("image_url", sa.Text(), nullable=False),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("display_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["fashion_item_id"],
            ["fashion_items.id"],
            name=op.f("fk_fashion_item_images_fashion_item_id_fashion_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fashion_item_images")),
    )
    op.create_index(
        "idx_fashion_item_images_display_order",
        "fashion_item_images",
        ["fashion_item_id", "display_order"],
        unique=False,
    )
    op.create_index(
        "uq_fashion_item_images_one_primary",
        "fashion_item_images",
        ["fashion_item_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )
    op.create_table(
        "order_items",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("ticket_type_id", sa.UUID(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("subtotal", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column(
            "discount_amount",
            sa.Numeric(precision=12, scale=2),
            server_default=sa.text("0"),
            nullable=False,
        ),
        sa.Column("final_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("discount_code_id", sa.UUID(), nullable=True),
        sa.Column("promotional_code_id", sa.UUID(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "discount_amount >= 0", name=op.f("ck_order_items_discount_amount_non_negative")
        ),
        sa.CheckConstraint(
            "final_price = subtotal - discount_amount",
            name=op.f("ck_order_items_check_price_calculation"),
        ),
        sa.CheckConstraint(
            "final_price >= 0", name=op.f("ck_order_items_final_price_non_negative")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_order_items_quantity_positive")),
        sa.CheckConstraint(
            "subtotal = unit_price * quantity", name=op.f("ck_order_items_check_subtotal")
        ),
        sa.CheckConstraint("subtotal >= 0", name=op.f("ck_order_items_subtotal_non_negative")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_order_items_unit_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["discount_code_id"],
            ["discount_codes.id"],
            name=op.f("fk_order_items_discount_code_id_discount_codes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_items_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promotional_code_id"],
            ["promotional_codes.id"],
            name=op.f("fk_order_items_promotional_code_id_promotional_codes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_order_items_ticket_type_id_ticket_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    op.create_index(
        "idx_order_items_discount_code_id",
        "order_items",
        ["discount_code_id"],
        unique=False,
        postgresql_where=sa.text("discount_code_id IS NOT NULL"),
    )
    op.create_index("idx_order_items_order_id", "order_items", ["order_id"], unique=False)
    op.create_index(
        "idx_order_items_promotional_code_id",
        "order_items",
        ["promotional_code_id"],
        unique=False,
        postgresql_where=sa.text("promotional_code_id IS NOT NULL"),
    )
    op.create_index(
        "idx_order_items_ticket_type_id", "order_items", ["ticket_type_id"], unique=False
    )
    op.create_table(
        "promotional_code_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("promotional_code_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_promotional_code_events_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["promotional_code_id"],
            ["promotional_codes.id"],
            name=op.f("fk_promotional_code_events_promotional_code_id_promotional_codes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotional_code_events")),
        sa.UniqueConstraint(
            "promotional_code_id",
            "event_id",
            name=op.f("uq_promotional_code_events_promotional_code_id_event_id"),
        ),
    )
    op.create_index(
        "idx_promotional_code_events_event_id",
        "promotional_code_events",
        ["event_id"],
        unique=False,
    )
    op.create_table(
        "promotional_code_ticket_types",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("promotional_code_id", sa.UUID(), nullable=False),
        sa.Column("ticket_type_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["promotional_code_id"],
            ["promotional_codes.id"],
            name=op.f("fk_promotional_code_ticket_types_promotional_code_id_promotional_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_promotional_code_ticket_types_ticket_type_id_ticket_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotional_code_ticket_types")),
        sa.UniqueConstraint(
            "promotional_code_id",
            "ticket_type_id",
            name=op.f("uq_promotional_code_ticket_types_promotional_code_id_ticket_type_id"),
        ),
    )
    op.create_index(
        "idx_promotional_code_ticket_types_ticket_type_id",
        "promotional_code_ticket_types",
        ["ticket_type_id"],
        unique=False,
    )
    op.create_table(
        "promotional_code_usage",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("code_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column(
            "used_at", sa.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("discount_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("order_total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint(
            "discount_amount >= 0",
            name=op.f("ck_promotional_code_usage_discount_amount_non_negative"),
        ),
        sa.CheckConstraint(
            "order_total >= 0", name=op.f("ck_promotional_code_usage_order_total_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["promotional_codes.id"],
            name=op.f("fk_promotional_code_usage_code_id_promotional_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_promotional_code_usage_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_promotional_code_usage_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotional_code_usage")),
        sa.UniqueConstraint(
            "code_id", "order_id", name=op.f("uq_promotional_code_usage_code_id_order_id")
        ),
    )
    op.create_index(
        "idx_promotional_code_usage_order_id", "promotional_code_usage", ["order_id"], unique=False
    )
    op.create_index(
        "idx_promotional_code_usage_used_at", "promotional_code_usage", ["used_at"], unique=False
    )
    op.create_index(
        "idx_promotional_code_usage_user_id", "promotional_code_usage", ["user_id"], unique=False
    )
    op.create_table(
        "runway_segments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("runway_show_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("start_time", sa.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("segment_order", sa.Integer(), nullable=False),
        sa.Column("theme", sa.Text(), nullable=True),
        sa.Column("music", sa.Text(), nullable=True),
        sa.Column("lighting_notes", sa.Text(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "duration_minutes > 0", name=op.f("ck_runway_segments_duration_minutes_positive")
        ),
        sa.ForeignKeyConstraint(
            ["runway_show_id"],
            ["runway_shows.id"],
            name=op.f("fk_runway_segments_runway_show_id_runway_shows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runway_segments")),
        sa.UniqueConstraint(
            "runway_show_id",
            "segment_order",
            name=op.f("uq_runway_segments_runway_show_id_segment_order"),
        ),
    )
    op.create_table(
        "social_media_analytics",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("post_id", sa.UUID(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("impressions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reach", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("engagement", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("likes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("comments", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("shares", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("saves", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("clicks", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("metrics", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "clicks >= 0", name=op.f("ck_social_media_analytics_clicks_non_negative")
        ),
        sa.CheckConstraint(
            "comments >= 0", name=op.f("ck_social_media_analytics_comments_non_negative")
        ),
        sa.CheckConstraint(
            "engagement >= 0", name=op.f("ck_social_media_analytics_engagement_non_negative")
        ),
        sa.CheckConstraint(
            "impressions >= 0", name=op.f("ck_social_media_analytics_impressions_non_negative")
        ),
        sa.CheckConstraint("likes >= 0", name=op.f("ck_social_media_analytics_likes_non_negative")),
        sa.CheckConstraint("reach >= 0", name=op.f("ck_social_media_analytics_reach_non_negative")),
        sa.CheckConstraint("saves >= 0", name=op.f("ck_social_media_analytics_saves_non_negative")),
        sa.CheckConstraint(
            "shares >= 0", name=op.f("ck_social_media_analytics_shares_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["social_media_posts.id"],
            name=op.f("fk_social_media_analytics_post_id_social_media_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", "date", name=op.f("pk_social_media_analytics")),
        sa.UniqueConstraint("post_id", "date", name=op.f("uq_social_media_analytics_post_id_date")),
        postgresql_partition_by="RANGE (date)",
    )
    op.create_index(
        "idx_social_media_analytics_date", "social_media_analytics", ["date"], unique=False
    )
    op.create_table(
        "runway_appearances",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("runway_segment_id", sa.UUID(), nullable=False),
        sa.Column("model_id", sa.UUID(), nullable=False),
        sa.Column("fashion_item_id", sa.UUID(), nullable=True),
        sa.Column("appearance_order", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "appearance_order > 0", name=op.f("ck_runway_appearances_appearance_order_positive")
        ),
        sa.ForeignKeyConstraint(
            ["fashion_item_id"],
            ["fashion_items.id"],
            name=op.f("fk_runway_appearances_fashion_item_id_fashion_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_runway_appearances_model_id_models"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["runway_segment_id"],
            ["runway_segments.id"],
            name=op.f("fk_runway_appearances_runway_segment_id_runway_segments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runway_appearances")),
        sa.UniqueConstraint(
            "runway_segment_id",
            "appearance_order",
            name=op.f("uq_runway_appearances_runway_segment_id_appearance_order"),
        ),
    )
    op.create_index(
        "idx_runway_appearances_fashion_item_id",
        "runway_appearances",
        ["fashion_item_id"],
        unique=False,
    )
    op.create_index(
        "idx_runway_appearances_model_id", "runway_appearances", ["model_id"], unique=False
    )
    # ### end Alembic commands ###
    create_triggers_and_partitions()


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_index("idx_runway_appearances_model_id", table_name="runway_appearances")
    op.drop_index("idx_runway_appearances_fashion_item_id", table_name="runway_appearances")
    op.drop_table("runway_appearances")
    op.drop_index("idx_social_media_analytics_date", table_name="social_media_analytics")
    op.drop_table("social_media_analytics")
    op.drop_table("runway_segments")
    op.drop_index("idx_promotional_code_usage_user_id", table_name="promotional_code_usage")
    op.drop_index("idx_promotional_code_usage_used_at", table_name="promotional_code_usage")
    op.drop_index("idx_promotional_code_usage_order_id", table_name="promotional_code_usage")
    op.drop_table("promotional_code_usage")
    op.drop_index(
        "idx_promotional_code_ticket_types_ticket_type_id",
        table_name="promotional_code_ticket_types",
    )
    op.drop_table("promotional_code_ticket_types")
    op.drop_index("idx_promotional_code_events_event_id", table_name="promotional_code_events")
    op.drop_table("promotional_code_events")
    op.drop_index("idx_order_items_ticket_type_id", table_name="order_items")
    op.drop_index(
        "idx_order_items_promotional_code_id",
        table_name="order_items",
        postgresql_where=sa.text("promotional_code_id IS NOT NULL"),
    )
    op.drop_index("idx_order_items_order_id", table_name="order_items")
    op.drop_index(
        "idx_order_items_discount_code_id",
        table_name="order_items",
        postgresql_where=sa.text("discount_code_id IS NOT NULL"),
    )
    op.drop_table("order_items")
    op.drop_index(
        "uq_fashion_item_images_one_primary",
        table_name="fashion_item_images",
        postgresql_where=sa.text("is_primary"),
    )
    op.drop_index("idx_fashion_item_images_display_order", table_name="fashion_item_images")
    op.drop_table("fashion_item_images")
    op.drop_index("idx_event_seats_ticket_type_id", table_name="event_seats")
    op.drop_index("idx_event_seats_seat_id", table_name="event_seats")
    op.drop_index("idx_event_seats_order_id", table_name="event_seats")
    op.drop_index("idx_event_seats_hold_id", table_name="event_seats")
    op.drop_index("idx_event_seats_event_id_status", table_name="event_seats")
    op.drop_table("event_seats")
    op.drop_index("idx_email_analytics_date", table_name="email_analytics")
    op.drop_table("email_analytics")
    op.drop_index(
        "uq_ticket_inventory_locks_ticket_type_id_order_id",
        table_name="ticket_inventory_locks",
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.drop_index(
        "idx_ticket_inventory_locks_ticket_type_id_expires_at", table_name="ticket_inventory_locks"
    )
    op.drop_index("idx_ticket_inventory_locks_session_id", table_name="ticket_inventory_locks")
    op.drop_index(
        "idx_ticket_inventory_locks_order_id",
        table_name="ticket_inventory_locks",
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.drop_index("idx_ticket_inventory_locks_expires_at", table_name="ticket_inventory_locks")
    op.drop_index("idx_ticket_inventory_locks_event_id", table_name="ticket_inventory_locks")
    op.drop_table("ticket_inventory_locks")
    op.drop_index("idx_sponsorship_assets_uploaded_by", table_name="sponsorship_assets")
    op.drop_index("idx_sponsorship_assets_sponsorship_id", table_name="sponsorship_assets")
    op.drop_index("idx_sponsorship_assets_reviewed_by", table_name="sponsorship_assets")
    op.drop_table("sponsorship_assets")
    op.drop_index("idx_social_media_posts_status", table_name="social_media_posts")
    op.drop_index("idx_social_media_posts_scheduled_at", table_name="social_media_posts")
    op.drop_index("idx_social_media_posts_platform", table_name="social_media_posts")
    op.drop_index("idx_social_media_posts_created_by", table_name="social_media_posts")
    op.drop_index("idx_social_media_posts_campaign_id", table_name="social_media_posts")
    op.drop_table("social_media_posts")
    op.drop_index("idx_runway_shows_venue_id", table_name="runway_shows")
    op.drop_index("idx_runway_shows_status", table_name="runway_shows")
    op.drop_index("idx_runway_shows_show_date", table_name="runway_shows")
    op.drop_index("idx_runway_shows_event_id", table_name="runway_shows")
    op.drop_index("idx_runway_shows_collection_id", table_name="runway_shows")
    op.drop_table("runway_shows")
    op.drop_index("idx_promotional_codes_date_range", table_name="promotional_codes")
    op.drop_index("idx_promotional_codes_campaign_id", table_name="promotional_codes")
    op.drop_table("promotional_codes")
    op.drop_index("idx_fashion_items_item_type", table_name="fashion_items")
    op.drop_index(
        "idx_fashion_items_featured",
        table_name="fashion_items",
        postgresql_where=sa.text("is_featured"),
    )
    op.drop_index("idx_fashion_items_display_order", table_name="fashion_items")
    op.drop_table("fashion_items")
    op.drop_index("idx_email_campaigns_sent_at", table_name="email_campaigns")
    op.drop_index("idx_email_campaigns_scheduled_at", table_name="email_campaigns")
    op.drop_index("idx_email_campaigns_campaign_id", table_name="email_campaigns")
    op.drop_table("email_campaigns")
    op.drop_index(
        "idx_discount_code_ticket_types_ticket_type_id", table_name="discount_code_ticket_types"
    )
    op.drop_table("discount_code_ticket_types")
    op.drop_index("idx_campaign_assets_created_by", table_name="campaign_assets")
    op.drop_index("idx_campaign_assets_campaign_id", table_name="campaign_assets")
    op.drop_index("idx_campaign_assets_asset_type", table_name="campaign_assets")
    op.drop_table("campaign_assets")
    op.drop_index("idx_campaign_analytics_date", table_name="campaign_analytics")
    op.drop_index("idx_campaign_analytics_channel", table_name="campaign_analytics")
    op.drop_table("campaign_analytics")
    op.drop_index("idx_webhook_delivery_logs_webhook_id", table_name="webhook_delivery_logs")
    op.drop_index("idx_webhook_delivery_logs_status", table_name="webhook_delivery_logs")
    op.drop_index("idx_webhook_delivery_logs_event_type", table_name="webhook_delivery_logs")
    op.drop_index("idx_webhook_delivery_logs_created_at", table_name="webhook_delivery_logs")
    op.drop_table("webhook_delivery_logs")
    op.drop_index("idx_venue_seats_status", table_name="venue_seats")
    op.drop_index("idx_venue_seats_row_seat", table_name="venue_seats")
    op.drop_table("venue_seats")
    op.drop_index("idx_user_engagement_user_id", table_name="user_engagement")
    op.drop_index("idx_user_engagement_type", table_name="user_engagement")
    op.drop_index("idx_user_engagement_source", table_name="user_engagement")
    op.drop_index("idx_user_engagement_occurred_at", table_name="user_engagement")
    op.drop_index("idx_user_engagement_event_id", table_name="user_engagement")
    op.drop_table("user_engagement")
    op.drop_index("idx_ticket_types_tier", table_name="ticket_types")
    op.drop_index("idx_ticket_types_seating_section_id", table_name="ticket_types")
    op.drop_index("idx_ticket_types_sale_dates", table_name="ticket_types")
    op.drop_index("idx_ticket_types_event_id", table_name="ticket_types")
    op.drop_index(
        "idx_ticket_types_active_featured",
        table_name="ticket_types",
        postgresql_where=sa.text("is_active AND is_featured"),
    )
    op.drop_table("ticket_types")
    op.drop_index("idx_sponsorships_tier_id", table_name="sponsorships")
    op.drop_index("idx_sponsorships_featured", table_name="sponsorships")
    op.drop_index("idx_sponsorships_event_id", table_name="sponsorships")
    op.drop_index("idx_sponsorships_date_range", table_name="sponsorships")
    op.drop_table("sponsorships")
    op.drop_index("idx_sponsor_analytics_event_id", table_name="sponsor_analytics")
    op.drop_index("idx_sponsor_analytics_date", table_name="sponsor_analytics")
    op.drop_table("sponsor_analytics")
    op.drop_index("idx_segment_members_user_id", table_name="segment_members")
    op.drop_table("segment_members")
    op.drop_index("idx_page_versions_version", table_name="page_versions")
    op.drop_index("idx_page_versions_author_id", table_name="page_versions")
    op.drop_table("page_versions")
    op.drop_index("idx_orders_user_id", table_name="orders")
    op.drop_index("idx_orders_status", table_name="orders")
    op.drop_index(
        "idx_orders_payment_intent_id",
        table_name="orders",
        postgresql_where=sa.text("payment_intent_id IS NOT NULL"),
    )
    op.drop_index("idx_orders_payment_details_key_id", table_name="orders")
    op.drop_index(
        "idx_orders_expiration_time",
        table_name="orders",
        postgresql_where=sa.text("expiration_time IS NOT NULL"),
    )
    op.drop_index("idx_orders_event_id_created_at", table_name="orders")
    op.drop_index("idx_orders_created_at", table_name="orders")
    op.drop_index(
        "idx_orders_completed_at",
        table_name="orders",
        postgresql_where=sa.text("completed_at IS NOT NULL"),
    )
    op.drop_index(
        "idx_orders_billing_name_trgm",
        table_name="orders",
        postgresql_using="gin",
        postgresql_ops={"billing_name": "gin_trgm_ops"},
    )
    op.drop_index("idx_orders_billing_email", table_name="orders")
    op.drop_table("orders")
    op.drop_index("idx_marketing_campaigns_status", table_name="marketing_campaigns")
    op.drop_index(
        "idx_marketing_campaigns_fts", table_name="marketing_campaigns", postgresql_using="gin"
    )
    op.drop_index("idx_marketing_campaigns_event_id", table_name="marketing_campaigns")
    op.drop_index("idx_marketing_campaigns_date_range", table_name="marketing_campaigns")
    op.drop_index("idx_marketing_campaigns_created_by", table_name="marketing_campaigns")
    op.drop_table("marketing_campaigns")
    op.drop_index("idx_event_schedules_start_time", table_name="event_schedules")
    op.drop_index("idx_event_schedules_speaker_id", table_name="event_schedules")
    op.drop_index("idx_event_schedules_order_index", table_name="event_schedules")
    op.drop_index("idx_event_schedules_event_id", table_name="event_schedules")
    op.drop_table("event_schedules")
    op.drop_index("idx_event_category_mappings_category_id", table_name="event_category_mappings")
    op.drop_table("event_category_mappings")
    op.drop_index("idx_discount_code_events_event_id", table_name="discount_code_events")
    op.drop_table("discount_code_events")
    op.drop_index(
        "idx_designer_collaboration_participants_designer_id",
        table_name="designer_collaboration_participants",
    )
    op.drop_table("designer_collaboration_participants")
    op.drop_index("idx_designer_analytics_date", table_name="designer_analytics")
    op.drop_table("designer_analytics")
    op.drop_index("idx_content_blocks_page_id", table_name="content_blocks")
    op.drop_index("idx_content_blocks_order_index", table_name="content_blocks")
    op.drop_index("idx_content_blocks_block_type", table_name="content_blocks")
    op.drop_table("content_blocks")
    op.drop_index("idx_collections_status", table_name="collections")
    op.drop_index("idx_collections_season_year", table_name="collections")
    op.drop_index("idx_collections_fts", table_name="collections", postgresql_using="gin")
    op.drop_index(
        "idx_collections_featured",
        table_name="collections",
        postgresql_where=sa.text("is_featured"),
    )
    op.drop_index(
        "idx_collections_event_id",
        table_name="collections",
        postgresql_where=sa.text("event_id IS NOT NULL"),
    )
    op.drop_index("idx_collections_designer_id", table_name="collections")
    op.drop_table("collections")
    op.drop_index("idx_api_usage_logs_endpoint", table_name="api_usage_logs")
    op.drop_index("idx_api_usage_logs_created_at", table_name="api_usage_logs")
    op.drop_index("idx_api_usage_logs_api_key_id", table_name="api_usage_logs")
    op.drop_table("api_usage_logs")
    op.drop_index("idx_webhooks_user_id", table_name="webhooks")
    op.drop_index(
        "idx_webhooks_is_active", table_name="webhooks", postgresql_where=sa.text("is_active")
    )
    op.drop_index("idx_webhooks_events", table_name="webhooks", postgresql_using="gin")
    op.drop_table("webhooks")
    op.drop_index("idx_venue_sections_section_type", table_name="venue_sections")
    op.drop_table("venue_sections")
    op.drop_index("idx_user_roles_role_id", table_name="user_roles")
    op.drop_table("user_roles")
    op.drop_index("idx_user_profiles_location", table_name="user_profiles")
    op.drop_index("idx_user_profiles_interests", table_name="user_profiles", postgresql_using="gin")
    op.drop_table("user_profiles")
    op.drop_index("idx_tier_benefits_benefit_id", table_name="tier_benefits")
    op.drop_table("tier_benefits")
    op.drop_index("idx_system_configurations_updated_by", table_name="system_configurations")
    op.drop_table("system_configurations")
    op.drop_index("idx_sponsors_user_id", table_name="sponsors")
    op.drop_index("idx_sponsors_status", table_name="sponsors")
    op.drop_index("idx_sponsors_name", table_name="sponsors")
    op.drop_index("idx_sponsors_industry", table_name="sponsors")
    op.drop_index("idx_sponsors_fts", table_name="sponsors", postgresql_using="gin")
    op.drop_table("sponsors")
    op.drop_index("idx_role_permissions_permission_id", table_name="role_permissions")
    op.drop_table("role_permissions")
    op.drop_index("idx_pages_status", table_name="pages")
    op.drop_index("idx_pages_published_at", table_name="pages")
    op.drop_index(
        "idx_pages_is_homepage", table_name="pages", postgresql_where=sa.text("is_homepage")
    )
    op.drop_index("idx_pages_fts", table_name="pages", postgresql_using="gin")
    op.drop_index("idx_pages_author_id", table_name="pages")
    op.drop_table("pages")
    op.drop_index("idx_models_user_id", table_name="models")
    op.drop_index("idx_models_status", table_name="models")
    op.drop_index("idx_models_fts", table_name="models", postgresql_using="gin")
    op.drop_index(
        "idx_models_featured", table_name="models", postgresql_where=sa.text("is_featured")
    )
    op.drop_index("idx_models_agency", table_name="models")
    op.drop_table("models")
    op.drop_index("idx_media_items_uploaded_by", table_name="media_items")
    op.drop_index("idx_media_items_tags", table_name="media_items", postgresql_using="gin")
    op.drop_index("idx_media_items_fts", table_name="media_items", postgresql_using="gin")
    op.drop_index("idx_media_items_folder_path", table_name="media_items")
    op.drop_index("idx_media_items_file_type", table_name="media_items")
    op.drop_table("media_items")
    op.drop_index("idx_marketing_segments_segment_type", table_name="marketing_segments")
    op.drop_index("idx_marketing_segments_created_by", table_name="marketing_segments")
    op.drop_table("marketing_segments")
    op.drop_index("idx_events_venue_id", table_name="events")
    op.drop_index("idx_events_type", table_name="events")
    op.drop_index("idx_events_tags", table_name="events", postgresql_using="gin")
    op.drop_index("idx_events_status", table_name="events")
    op.drop_index("idx_events_organizer_id", table_name="events")
    op.drop_index("idx_events_fts", table_name="events", postgresql_using="gin")
    op.drop_index("idx_events_featured", table_name="events", postgresql_where=sa.text("featured"))
    op.drop_index("idx_events_date_range", table_name="events")
    op.drop_table("events")
    op.drop_index(
        "idx_discount_codes_usage",
        table_name="discount_codes",
        postgresql_where=sa.text("usage_limit IS NOT NULL"),
    )
    op.drop_index("idx_discount_codes_dates", table_name="discount_codes")
    op.drop_index("idx_discount_codes_created_by", table_name="discount_codes")
    op.drop_index(
        "idx_discount_codes_active",
        table_name="discount_codes",
        postgresql_where=sa.text("is_active"),
    )
    op.drop_table("discount_codes")
    op.drop_index(
        "idx_designers_verified", table_name="designers", postgresql_where=sa.text("is_verified")
    )
    op.drop_index("idx_designers_user_id", table_name="designers")
    op.drop_index("idx_designers_status", table_name="designers")
    op.drop_index("idx_designers_specialty", table_name="designers")
    op.drop_index("idx_designers_fts", table_name="designers", postgresql_using="gin")
    op.drop_index(
        "idx_designers_featured", table_name="designers", postgresql_where=sa.text("is_featured")
    )
    op.drop_table("designers")
    op.drop_index("idx_data_subject_requests_user_id", table_name="data_subject_requests")
    op.drop_index("idx_data_subject_requests_subject_email", table_name="data_subject_requests")
    op.drop_index("idx_data_subject_requests_status_due_at", table_name="data_subject_requests")
    op.drop_index("idx_data_subject_requests_handled_by", table_name="data_subject_requests")
    op.drop_index("idx_data_subject_requests_assigned_to", table_name="data_subject_requests")
    op.drop_table("data_subject_requests")
    op.drop_index(
        "uq_background_jobs_live_dedupe_key",
        table_name="background_jobs",
        postgresql_where=sa.text("status IN ('pending', 'running')"),
    )
    op.drop_index(
        "idx_background_jobs_pending",
        table_name="background_jobs",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index("idx_background_jobs_created_by", table_name="background_jobs")
    op.drop_table("background_jobs")
    op.drop_index("idx_api_keys_user_id", table_name="api_keys")
    op.drop_index("idx_api_keys_key_prefix", table_name="api_keys")
    op.drop_index(
        "idx_api_keys_is_active", table_name="api_keys", postgresql_where=sa.text("is_active")
    )
    op.drop_table("api_keys")
    op.drop_index("idx_venues_status", table_name="venues")
    op.drop_index(
        "idx_venues_location",
        table_name="venues",
        postgresql_where=sa.text("latitude IS NOT NULL AND longitude IS NOT NULL"),
    )
    op.drop_index("idx_venues_fts", table_name="venues", postgresql_using="gin")
    op.drop_index("idx_venues_city_country", table_name="venues")
    op.drop_index("idx_venues_capacity", table_name="venues")
    op.drop_table("venues")
    op.drop_index("idx_users_user_type", table_name="users")
    op.drop_index("idx_users_status", table_name="users")
    op.drop_index("idx_users_last_login", table_name="users")
    op.drop_index(
        "idx_users_full_name_trgm",
        table_name="users",
        postgresql_using="gin",
        postgresql_ops={"full_name": "gin_trgm_ops"},
    )
    op.drop_index("idx_users_created_at", table_name="users")
    op.drop_table("users")
    op.drop_table("sponsorship_tiers")
    op.drop_table("sponsor_benefits")
    op.drop_table("roles")
    op.drop_index("idx_rest_api_endpoints_function_name", table_name="rest_api_endpoints")
    op.drop_table("rest_api_endpoints")
    op.drop_table("permissions")
    op.drop_table("graphql_schema_definitions")
    op.drop_index("idx_event_categories_parent_id", table_name="event_categories")
    op.drop_index("idx_event_categories_order_index", table_name="event_categories")
    op.drop_table("event_categories")
    op.drop_index(
        "uq_encryption_keys_one_active",
        table_name="encryption_keys",
        postgresql_where=sa.text("is_active"),
    )
    op.drop_table("encryption_keys")
    op.drop_index(
        "idx_domain_events_pending",
        table_name="domain_events",
        postgresql_where=sa.text("processing_status = 'pending'"),
    )
    op.drop_index("idx_domain_events_aggregate", table_name="domain_events")
    op.drop_table("domain_events")
    op.drop_index("idx_designer_collaborations_status", table_name="designer_collaborations")
    op.drop_index("idx_designer_collaborations_dates", table_name="designer_collaborations")
    op.drop_table("designer_collaborations")
    op.drop_index("idx_audit_logs_user_id", table_name="audit_logs")
    op.drop_index("idx_audit_logs_table_record", table_name="audit_logs")
    op.drop_index("idx_audit_logs_created_at", table_name="audit_logs")
    op.drop_index("idx_audit_logs_action", table_name="audit_logs")
    op.drop_table("audit_logs")
    # ### end Alembic commands ###
    drop_functions_and_extensions()
