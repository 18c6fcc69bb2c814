"""Marketing and sponsor analytics rollups (issue 7).

- Seeds the permission `campaigns.manage` (admin, marketing) with 0003's fixed uuid5 ids.
- Rollups of the daily analytics tables, as materialized views created empty (WITH NO
  DATA): monthly ones of all four, and campaign analytics per campaign and day and per
  channel and day. The read services use a rollup only once it has been refreshed: the
  monthly ones for whole past months inside a long range, the daily ones for the days
  before the last refresh; everything else comes from the raw tables
  (core/analytics/rollups.py).
- `refresh_analytics_rollups()` (SECURITY DEFINER, so the app role can refresh views the
  owner owns) refreshes them all, concurrently once populated, and then the one-row view
  `analytics_rollups_refreshed` that says when.
- Audience functions (SECURITY DEFINER: the app role sees only its own `users` row, and
  a segment's size counts everyone): `marketing_audience_size(criteria)`,
  `marketing_segment_size(segment)` and `marketing_segment_add_members(segment, emails)`.
  They answer counts, never rows, only to a person holding campaigns.manage (or the owner
  when no person acts), and leave out people who are not active, anonymized or have
  restricted processing (`users.marketing_restricted_at`, migration 0006).
- SELECT on the views and EXECUTE on the functions for the app role.

No table here holds a person's rows, so no policy is added.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import os
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As core/auth/permissions.py had it when this was written (a migration must not change).
_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")
PERMISSIONS = {
    "campaigns.manage": (
        "Manage campaigns, e-mails, social posts, promo codes and segments.",
        ("admin", "marketing"),
    ),
}

# The all-zero uuid stands for "no event" in the sponsor rollup's unique key: a concurrent
# refresh needs a unique index on plain, non-null columns.
NO_EVENT = "00000000-0000-0000-0000-000000000000"

ROLLUPS = {
    "campaign_analytics_monthly": (
        """
        SELECT campaign_id, channel, date_trunc('month', date)::date AS month,
               sum(impressions)::bigint AS impressions, sum(clicks)::bigint AS clicks,
               sum(conversions)::bigint AS conversions, sum(revenue) AS revenue,
               sum(cost) AS cost, coalesce(sum(revenue) FILTER (WHERE cost > 0), 0)
                   AS paid_revenue, count(*)::bigint AS day_rows
          FROM campaign_analytics GROUP BY 1, 2, 3
        """,
        ("campaign_id", "channel", "month"),
    ),
    # Day by day across channels, and across campaigns: short ranges (a daily series)
    # read these for the days before the last refresh instead of every channel's row.
    "campaign_analytics_daily_by_campaign": (
        """
        SELECT campaign_id, date, sum(impressions)::bigint AS impressions,
               sum(clicks)::bigint AS clicks, sum(conversions)::bigint AS conversions,
               sum(revenue) AS revenue, sum(cost) AS cost,
               coalesce(sum(revenue) FILTER (WHERE cost > 0), 0) AS paid_revenue,
               count(*)::bigint AS day_rows
          FROM campaign_analytics GROUP BY 1, 2
        """,
        ("campaign_id", "date"),
    ),
    "campaign_analytics_daily_by_channel": (
        """
        SELECT channel, date, sum(impressions)::bigint AS impressions,
               sum(clicks)::bigint AS clicks, sum(conversions)::bigint AS conversions,
               sum(revenue) AS revenue, sum(cost) AS cost,
               coalesce(sum(revenue) FILTER (WHERE cost > 0), 0) AS paid_revenue,
               count(*)::bigint AS day_rows
          FROM campaign_analytics GROUP BY 1, 2
        """,
        ("channel", "date"),
    ),
    "sponsor_analytics_monthly": (
        f"""
        SELECT sponsor_id, coalesce(event_id, '{NO_EVENT}'::uuid) AS event_key, event_id,
               date_trunc('month', date)::date AS month,
               sum(impressions)::bigint AS impressions, sum(clicks)::bigint AS clicks,
               sum(leads_generated)::bigint AS leads, sum(conversions)::bigint AS conversions,
               sum(cost) AS cost, sum(revenue) AS revenue, count(*)::bigint AS day_rows
          FROM sponsor_analytics GROUP BY 1, 2, 3, 4
        """,
        ("sponsor_id", "event_key", "month"),
    ),
    "email_analytics_monthly": (
        """
        SELECT email_campaign_id, date_trunc('month', date)::date AS month,
               sum(sends)::bigint AS sends, sum(opens)::bigint AS opens,
               sum(clicks)::bigint AS clicks, sum(bounces)::bigint AS bounces,
               sum(unsubscribes)::bigint AS unsubscribes, sum(complaints)::bigint AS complaints,
               count(*)::bigint AS day_rows
          FROM email_analytics GROUP BY 1, 2
        """,
        ("email_campaign_id", "month"),
    ),
    "social_media_analytics_monthly": (
        """
        SELECT post_id, date_trunc('month', date)::date AS month,
               sum(impressions)::bigint AS impressions, sum(reach)::bigint AS reach,
               sum(engagement)::bigint AS engagement, sum(likes)::bigint AS likes,
               sum(comments)::bigint AS comments, sum(shares)::bigint AS shares,
               sum(saves)::bigint AS saves, sum(clicks)::bigint AS clicks,
               count(*)::bigint AS day_rows
          FROM social_media_analytics GROUP BY 1, 2
        """,
        ("post_id", "month"),
    ),
}

REFRESH_FUNCTION = """
CREATE FUNCTION refresh_analytics_rollups() RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  view_name text;
BEGIN
  -- One refresh at a time; a second caller waits, then refreshes again (cheap, correct).
  PERFORM pg_advisory_xact_lock(hashtext('refresh_analytics_rollups'));
  FOREACH view_name IN ARRAY ARRAY[{views}] LOOP
    IF (SELECT relispopulated FROM pg_class
         WHERE oid = format('%I.%I', '{schema_text}', view_name)::regclass) THEN
      -- Readers keep reading the old rows while the new ones are computed.
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', view_name);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %I', view_name);
    END IF;
  END LOOP;
  REFRESH MATERIALIZED VIEW analytics_rollups_refreshed;
  RETURN (SELECT refreshed_at FROM analytics_rollups_refreshed);
END $$;
"""


AUDIENCE_FUNCTIONS = r"""
CREATE FUNCTION marketing_assert_allowed() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF app_current_user_id() IS NULL THEN
    IF session_user::text = current_user::text THEN
      RETURN;
    END IF;
  ELSIF app_has_permission('campaigns.manage') THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'not allowed: this needs campaigns.manage' USING ERRCODE = '42501';
END $$;

-- People marketing may reach: active accounts, not anonymized, processing not restricted.
CREATE FUNCTION marketing_reachable(u users) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT u.status = 'active' AND NOT u.is_anonymized AND u.marketing_restricted_at IS NULL
$$;

-- criteria: {"user_type": text, "interests": [text] (any of), "min_orders": int
-- (completed orders)}; a missing key does not filter.
CREATE FUNCTION marketing_audience_size(criteria jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  wanted_type text := nullif(criteria ->> 'user_type', '');
  wanted_interests text[] := ARRAY(
    SELECT jsonb_array_elements_text(coalesce(criteria -> 'interests', '[]'::jsonb)));
  min_orders int := coalesce((criteria ->> 'min_orders')::int, 0);
BEGIN
  PERFORM marketing_assert_allowed();
  RETURN (
    SELECT count(*) FROM users u
     WHERE marketing_reachable(u)
       AND (wanted_type IS NULL OR u.user_type = wanted_type)
       AND (cardinality(wanted_interests) = 0 OR EXISTS (
             SELECT 1 FROM user_profiles p
              WHERE p.user_id = u.id AND p.interests && wanted_interests))
       AND (min_orders <= 0 OR (
             SELECT count(*) FROM orders o
              WHERE o.user_id = u.id AND o.status = 'completed') >= min_orders));
END $$;

CREATE FUNCTION marketing_segment_size(segment uuid) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  seg marketing_segments;
BEGIN
  PERFORM marketing_assert_allowed();
  SELECT * INTO seg FROM marketing_segments WHERE id = segment;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF seg.segment_type = 'dynamic' THEN
    RETURN marketing_audience_size(coalesce(seg.filter_criteria, '{}'::jsonb));
  END IF;
  RETURN (SELECT count(*) FROM segment_members m JOIN users u ON u.id = m.user_id
           WHERE m.segment_id = segment AND marketing_reachable(u));
END $$;

-- Adds the reachable accounts among `emails` (any case); returns how many were added.
CREATE FUNCTION marketing_segment_add_members(segment uuid, emails text[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  added bigint;
BEGIN
  PERFORM marketing_assert_allowed();
  INSERT INTO segment_members (segment_id, user_id)
  SELECT segment, u.id FROM users u
   WHERE lower(u.email) = ANY (SELECT lower(e) FROM unnest(emails) e)
     AND marketing_reachable(u)
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS added = ROW_COUNT;
  RETURN added;
END $$;
"""
AUDIENCE_SIGNATURES = (
    "marketing_segment_add_members(uuid, text[])",
    "marketing_segment_size(uuid)",
    "marketing_audience_size(jsonb)",
    "marketing_reachable(users)",
    "marketing_assert_allowed()",
)


def app_role() -> str:
    """The app's database role, as migration 0003 names it."""
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def upgrade() -> None:
    conn = op.get_bind()
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
    ident = _quote(conn, app_role())

    for name, (description, holders) in PERMISSIONS.items():
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

    for name, (query, key) in ROLLUPS.items():
        op.execute(f"CREATE MATERIALIZED VIEW {name} AS {query} WITH NO DATA")
        op.execute(f"CREATE UNIQUE INDEX uq_{name} ON {name} ({', '.join(key)})")
        op.execute(f"CREATE INDEX idx_{name}_{key[-1]} ON {name} ({key[-1]})")
        op.execute(f"GRANT SELECT ON {name} TO {ident}")
    op.execute(
        "CREATE MATERIALIZED VIEW analytics_rollups_refreshed AS"
        " SELECT now() AS refreshed_at WITH NO DATA"
    )
    op.execute(f"GRANT SELECT ON analytics_rollups_refreshed TO {ident}")
    op.execute(
        REFRESH_FUNCTION.format(
            schema=_quote(conn, schema),
            schema_text=schema.replace("'", "''"),
            views=", ".join(f"'{name}'" for name in ROLLUPS),
        )
    )
    op.execute("REVOKE EXECUTE ON FUNCTION refresh_analytics_rollups() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION refresh_analytics_rollups() TO {ident}")
    op.execute(AUDIENCE_FUNCTIONS.replace("@schema@", _quote(conn, schema)))
    for signature in AUDIENCE_SIGNATURES:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {ident}")


def downgrade() -> None:
    conn = op.get_bind()
    for signature in AUDIENCE_SIGNATURES:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    op.execute("DROP FUNCTION IF EXISTS refresh_analytics_rollups()")
    op.execute("DROP MATERIALIZED VIEW IF EXISTS analytics_rollups_refreshed")
    for name in ROLLUPS:
        op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}")
    ids = [str(uuid.uuid5(_NAMESPACE, f"permission:{n}")) for n in PERMISSIONS]
    conn.execute(
        sa.text("DELETE FROM role_permissions WHERE permission_id = ANY(CAST(:p AS uuid[]))"),
        {"p": ids},
    )
    conn.execute(sa.text("DELETE FROM permissions WHERE id = ANY(CAST(:p AS uuid[]))"), {"p": ids})
