"""Row-level security by default (issue 15, finding 3), and who works which event.

- `event_staff`: which staff person works which event (unique per event and person),
  who assigned them; row-level security (the event's organizer and admins assign and see
  the event's staff, a person sees their own assignments) and the audit trigger.
- Helpers for policies (STABLE SECURITY DEFINER, fixed search_path, like 0003's):
  `app_my_event_ids()` (the events whose sales the acting person may see: organised with
  events.manage, worked with box_office.sell, every event for an admin),
  `app_my_sponsor_ids()` (the sponsors whose account the person is),
  `app_require_permission(name)` (raises 42501 unless the person holds it; the owner with
  no person passes) and `app_setting_is_secret(category, key)` (IMMUTABLE SQL).
- Row-level security with policies on every table that has none yet, except the ones
  core/db/rls_exemptions.py lists with their reasons: orders and what hangs below them,
  holds, event seats, ticket types, codes and their uses, sponsors and sponsorships,
  marketing, engagement, the outbox, background jobs, settings, API logs, the CMS,
  categories, agendas and venues (see POLICIES and docs/SECURITY.md).
- The app role loses INSERT, UPDATE and DELETE on the catalogues no service writes
  (roles, permissions, role_permissions, rest_api_endpoints, graphql_schema_definitions),
  and SELECT on the six analytics rollups, which it reads through security-barrier views
  (`<rollup>_guarded`) that return rows only to a holder of analytics.view (a
  materialized view cannot carry row-level security).
- Narrow SECURITY DEFINER functions for what the policies would otherwise break:
  the worker's `job_claim`, `job_progress`, `job_complete`, `job_fail`,
  `job_requeue_stale` (a worker is no person); the checkout's `checkout_buyer_history`
  (yes/no across all of a buyer's orders, for first-purchase and once-per-customer
  codes); figures across all orders as aggregates only (`overview_order_totals`,
  `discount_code_usage`); `event_staff_directory` (who can be assigned to an event, with
  the names the users policy hides from an organizer).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UID = "(SELECT app_current_user_id())"
ADMIN = "(SELECT app_has_role('admin'))"
SIGNED_IN = f"{UID} IS NOT NULL"


def _perm(name: str) -> str:
    return f"(SELECT app_has_permission('{name}'))"


SELL = _perm("box_office.sell")
MANAGE_EVENTS = _perm("events.manage")
REFUND = _perm("orders.refund")
ANALYTICS = _perm("analytics.view")
SPONSORS = _perm("sponsors.manage")
CAMPAIGNS = _perm("campaigns.manage")
MY_EVENTS = "CAST((SELECT app_my_event_ids()) AS uuid[])"
MY_SPONSORS = "CAST((SELECT app_my_sponsor_ids()) AS uuid[])"
# The event ids of the acting person's sales (admins: all), as an index condition: no
# `OR admin` beside it, which would turn every orders list into a sequential scan.
MINE = f"event_id = ANY ({MY_EVENTS})"
# Sub-selects on a table with row-level security apply that table's policies for the same
# person: an item is visible exactly when its order is.
ORDER_VISIBLE = "EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id)"
ORDER_MINE = (
    f"EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.event_id = ANY ({MY_EVENTS}))"
)
BUYERS_PENDING = (
    "EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id"
    f" AND o.user_id = {UID} AND o.status = 'pending')"
)
EVENT_VISIBLE = "EXISTS (SELECT 1 FROM events e WHERE e.id = event_id)"
EVENT_ORGANISED = (
    f"EXISTS (SELECT 1 FROM events e WHERE e.id = event_id AND e.organizer_id = {UID}) OR {ADMIN}"
)

Policy = tuple[str, str, str, str | None, str | None]


def _crud(table: str, read: str, write: str, *, insert: str | None = None) -> list[Policy]:
    """Read with `read`; insert (with `insert` if given), update and delete with `write`."""
    return [
        (table, f"{table}_select", "SELECT", read, None),
        (table, f"{table}_insert", "INSERT", None, insert or write),
        (table, f"{table}_update", "UPDATE", write, write),
        (table, f"{table}_delete", "DELETE", write, None),
    ]


def _policies(table: str, *, select: str, insert: str, update: str, delete: str) -> list[Policy]:
    return [
        (table, f"{table}_select", "SELECT", select, None),
        (table, f"{table}_insert", "INSERT", None, insert),
        (table, f"{table}_update", "UPDATE", update, update),
        (table, f"{table}_delete", "DELETE", delete, None),
    ]


# (table, policy, command, USING, WITH CHECK)
POLICIES: tuple[Policy, ...] = (
    # -- sales: an organizer's events, a staff person's worked events, a buyer's own --
    *_policies(
        "orders",
        select=f"{MINE} OR user_id = {UID}",
        # A seller sells for their events; a buyer opens their own pending order (the
        # design's order_self_insert); payment and stock stay the sellers'.
        insert=f"({SELL} AND {MINE}) OR (user_id = {UID} AND status = 'pending')",
        update=MINE,
        delete=ADMIN,
    ),
    *_policies(
        "order_items",
        # Marketing's promo-code figures sum items; items hold no personal data.
        select=f"{ANALYTICS} OR {ORDER_VISIBLE}",
        insert=f"{ORDER_MINE} OR {BUYERS_PENDING}",
        update=ORDER_MINE,
        delete=ADMIN,
    ),
    *_policies(
        "order_payments", select=ORDER_VISIBLE, insert=ORDER_MINE, update=ADMIN, delete=ADMIN
    ),
    *_policies(
        "order_refunds",
        select=ORDER_VISIBLE,
        # Nobody records a refund in someone else's name.
        insert=f"{REFUND} AND refunded_by = {UID} AND {ORDER_MINE}",
        update=ADMIN,
        delete=ADMIN,
    ),
    *_policies(
        "ticket_inventory_locks",
        select=MINE,
        insert=f"{SELL} AND {MINE}",
        update=MINE,
        delete=MINE,
    ),
    # Venue work (blocking a seat, rebuilding a section) reaches every event's copy of a
    # seat, so holders of events.manage reach all of them; staff only their events'.
    *_crud("event_seats", f"{MINE} OR {MANAGE_EVENTS}", f"{MINE} OR {MANAGE_EVENTS}"),
    *_policies(
        "ticket_types",
        select=EVENT_VISIBLE,
        insert=EVENT_ORGANISED,
        # Every sale and refund counts the stock down or up as the seller.
        update=f"{MINE} OR {EVENT_ORGANISED}",
        delete=EVENT_ORGANISED,
    ),
    *_policies(
        "discount_codes",
        select=f"{MANAGE_EVENTS} OR {SELL} OR {CAMPAIGNS}",
        insert=MANAGE_EVENTS,
        update=f"{MANAGE_EVENTS} OR {SELL}",  # a sale counts a use
        delete=MANAGE_EVENTS,
    ),
    *_crud(
        "discount_code_events",
        "EXISTS (SELECT 1 FROM discount_codes dc WHERE dc.id = discount_code_id)",
        MANAGE_EVENTS,
    ),
    *_crud(
        "discount_code_ticket_types",
        "EXISTS (SELECT 1 FROM discount_codes dc WHERE dc.id = discount_code_id)",
        MANAGE_EVENTS,
    ),
    *_policies(
        "promotional_codes",
        select=f"{CAMPAIGNS} OR {ANALYTICS} OR {SELL} OR {MANAGE_EVENTS}",
        insert=CAMPAIGNS,
        update=f"{CAMPAIGNS} OR {SELL}",
        delete=CAMPAIGNS,
    ),
    *_crud(
        "promotional_code_events",
        "EXISTS (SELECT 1 FROM promotional_codes pc WHERE pc.id = promotional_code_id)",
        CAMPAIGNS,
    ),
    *_crud(
        "promotional_code_ticket_types",
        "EXISTS (SELECT 1 FROM promotional_codes pc WHERE pc.id = promotional_code_id)",
        CAMPAIGNS,
    ),
    *_policies(
        "promotional_code_usage",
        select=f"{ANALYTICS} OR {ORDER_VISIBLE}",
        insert=f"{SELL} AND {ORDER_MINE}",
        update=ADMIN,
        delete=ORDER_MINE,  # a cancelled order gives its use back
    ),
    # -- who works which event --
    *_policies(
        "event_staff",
        select=f"user_id = {UID} OR {EVENT_ORGANISED}",
        insert=f"assigned_by = {UID} AND ({EVENT_ORGANISED})",
        update=EVENT_ORGANISED,
        delete=EVENT_ORGANISED,
    ),
    # -- events' own rows follow the event --
    *_crud("event_schedules", EVENT_VISIBLE, EVENT_ORGANISED),
    *_crud("event_category_mappings", EVENT_VISIBLE, EVENT_ORGANISED),
    *_crud("event_categories", SIGNED_IN, MANAGE_EVENTS),
    # Venues carry a contact person's name, e-mail and phone.
    *_crud("venues", SIGNED_IN, MANAGE_EVENTS),
    *_crud("venue_sections", SIGNED_IN, MANAGE_EVENTS),
    *_crud("venue_seats", SIGNED_IN, MANAGE_EVENTS),
    # -- sponsors: marketing, admins, and a sponsor's own account --
    *_policies(
        "sponsors",
        select=f"{SPONSORS} OR {ANALYTICS} OR user_id = {UID}",
        insert=SPONSORS,
        update=f"{SPONSORS} OR user_id = {UID}",
        delete=SPONSORS,
    ),
    *_crud(
        "sponsorships", f"{SPONSORS} OR {ANALYTICS} OR sponsor_id = ANY ({MY_SPONSORS})", SPONSORS
    ),
    *_crud(
        "sponsorship_assets",
        "EXISTS (SELECT 1 FROM sponsorships s WHERE s.id = sponsorship_id)",
        SPONSORS,
    ),
    *_crud(
        "sponsor_analytics",
        f"{ANALYTICS} OR {SPONSORS} OR sponsor_id = ANY ({MY_SPONSORS})",
        ADMIN,
    ),
    *_crud("sponsorship_tiers", SIGNED_IN, SPONSORS),
    *_crud("sponsor_benefits", SIGNED_IN, SPONSORS),
    *_crud("tier_benefits", SIGNED_IN, SPONSORS),
    # -- marketing: the team (the design's marketing_team_access) and analytics readers --
    *_crud("marketing_campaigns", f"{CAMPAIGNS} OR {ANALYTICS}", CAMPAIGNS),
    *_crud("email_campaigns", f"{CAMPAIGNS} OR {ANALYTICS}", CAMPAIGNS),
    *_crud("social_media_posts", f"{CAMPAIGNS} OR {ANALYTICS}", CAMPAIGNS),
    *_crud("campaign_assets", f"{CAMPAIGNS} OR {ANALYTICS}", CAMPAIGNS),
    *_crud("marketing_segments", f"{CAMPAIGNS} OR {ANALYTICS}", CAMPAIGNS),
    *_crud("segment_members", CAMPAIGNS, CAMPAIGNS),
    *_crud("campaign_analytics", f"{ANALYTICS} OR {CAMPAIGNS}", ADMIN),
    *_crud("email_analytics", f"{ANALYTICS} OR {CAMPAIGNS}", ADMIN),
    *_crud("social_media_analytics", f"{ANALYTICS} OR {CAMPAIGNS}", ADMIN),
    # A person's own tracking, and admins (retention, GDPR).
    *_policies(
        "user_engagement",
        select=f"user_id = {UID} OR {ADMIN}",
        insert=f"user_id = {UID} OR {ADMIN}",
        update=ADMIN,
        delete=ADMIN,
    ),
    # -- system --
    # Outbox payloads may carry anything an event said; no service writes them yet.
    *_crud("domain_events", ADMIN, ADMIN),
    # A job runs as the person who queued it: nobody queues one in another's name or in
    # nobody's (which the worker would run as the system actor). The worker claims and
    # finishes jobs through the job_* functions.
    *_policies(
        "background_jobs",
        select=f"created_by = {UID} OR {ADMIN}",
        insert=f"created_by = {UID}",
        update=ADMIN,
        delete=ADMIN,
    ),
    *_crud(
        "system_configurations",
        f"{ADMIN} OR ({SIGNED_IN} AND NOT app_setting_is_secret(category, key))",
        ADMIN,
    ),
    # -- API logs follow the key or webhook they belong to (0003: their owner's) --
    *_policies(
        "api_usage_logs",
        select=f"EXISTS (SELECT 1 FROM api_keys k WHERE k.id = api_key_id) OR {ADMIN}",
        insert=f"EXISTS (SELECT 1 FROM api_keys k WHERE k.id = api_key_id) OR {ADMIN}",
        update=ADMIN,
        delete=ADMIN,
    ),
    *_policies(
        "webhook_delivery_logs",
        select=f"EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_id) OR {ADMIN}",
        insert=f"EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_id) OR {ADMIN}",
        update=f"EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_id) OR {ADMIN}",
        delete=ADMIN,
    ),
    # -- CMS: published pages to anyone signed in, drafts to their author and admins; no
    # service edits the site, so only admins write it --
    *_crud(
        "pages",
        f"(status = 'published' AND {SIGNED_IN}) OR author_id = {UID} OR {ADMIN}",
        ADMIN,
    ),
    *_crud("content_blocks", "EXISTS (SELECT 1 FROM pages p WHERE p.id = page_id)", ADMIN),
    *_crud("page_versions", "EXISTS (SELECT 1 FROM pages p WHERE p.id = page_id)", ADMIN),
    *_crud("media_items", SIGNED_IN, ADMIN),
)

RLS_TABLES = tuple(dict.fromkeys(table for table, *_ in POLICIES))

# Catalogues no service writes: the app role keeps SELECT only.
READ_ONLY = (
    "roles",
    "permissions",
    "role_permissions",
    "rest_api_endpoints",
    "graphql_schema_definitions",
)
ROLLUPS = (
    "campaign_analytics_monthly",
    "campaign_analytics_daily_by_campaign",
    "campaign_analytics_daily_by_channel",
    "sponsor_analytics_monthly",
    "email_analytics_monthly",
    "social_media_analytics_monthly",
)

FUNCTIONS = r"""
-- The events whose sales (orders, holds, seats) the acting person may see and work on:
-- those they organise while holding events.manage, those they work (event_staff) while
-- holding box_office.sell, and every event for an admin. A role taken away stops working
-- at once; an inactive account holds none. One query, no nested helper calls: policies
-- call this once per statement, and a sale runs about fifteen statements that do
-- (bench/rls.py: with app_has_role and app_has_permission inside, a fifth more a call).
CREATE FUNCTION app_my_event_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  me uuid := app_current_user_id();
BEGIN
  IF me IS NULL THEN
    RETURN '{{}}';
  END IF;
  RETURN coalesce((
    SELECT CASE
      WHEN EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                    WHERE ur.user_id = me AND r.name = 'admin')
      THEN (SELECT coalesce(array_agg(id), '{{}}') FROM events)
      ELSE ARRAY(
        SELECT e.id FROM events e
         WHERE e.organizer_id = me AND EXISTS (
           SELECT 1 FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id
             JOIN permissions p ON p.id = rp.permission_id
            WHERE ur.user_id = me AND p.name = 'events.manage')
        UNION ALL
        SELECT s.event_id FROM event_staff s
         WHERE s.user_id = me AND EXISTS (
           SELECT 1 FROM user_roles ur JOIN role_permissions rp ON rp.role_id = ur.role_id
             JOIN permissions p ON p.id = rp.permission_id
            WHERE ur.user_id = me AND p.name = 'box_office.sell'))
      END
      FROM users u WHERE u.id = me AND u.status = 'active'), '{{}}');
END $$;

-- The sponsors whose account the acting person is (sponsors.user_id).
CREATE FUNCTION app_my_sponsor_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  RETURN (SELECT coalesce(array_agg(id), '{{}}') FROM sponsors
           WHERE user_id = app_current_user_id());
END $$;

-- Definer functions that answer across rows a person may not read check the permission
-- their service checks. The owner connected as itself with no person (the command line,
-- the demo loader, the tests' owner engine) passes, as in 0008's marketing_assert_allowed.
CREATE FUNCTION app_require_permission(p_permission text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF app_current_user_id() IS NULL THEN
    IF session_user::text = current_user::text THEN
      RETURN;
    END IF;
  ELSIF app_has_permission(p_permission) THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'not allowed: this needs %', p_permission USING ERRCODE = '42501';
END $$;

-- A setting only admins may read: sign-in security, and any key that names a secret
-- (the same words the audit trigger masks).
CREATE FUNCTION app_setting_is_secret(p_category text, p_key text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_category = 'security'
      OR p_key ~* '(secret|password|token|private|credential|api_?key)'
$$;

-- The worker is no person: it claims, reports and finishes jobs only through these, and
-- only the job it claimed (locked_by). A claim returns what the handler needs (ids only,
-- by the queue's rule), never another job's result or error.
CREATE FUNCTION job_claim(p_worker text, p_types text[])
RETURNS TABLE (o_id uuid, o_job_type text, o_payload jsonb, o_created_by uuid,
               o_retry_count integer, o_max_retries integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF coalesce(length(p_worker), 0) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'a worker claims under its own name (1 to 200 characters)'
      USING ERRCODE = '22023';
  END IF;
  RETURN QUERY
  UPDATE background_jobs j SET status = 'running', locked_by = p_worker, locked_at = now(),
         started_at = coalesce(j.started_at, now())
   WHERE j.id = (SELECT b.id FROM background_jobs b
                  WHERE b.status = 'pending' AND b.scheduled_for <= now()
                    AND b.job_type = ANY(p_types)
                  ORDER BY b.priority, b.scheduled_for FOR UPDATE SKIP LOCKED LIMIT 1)
  RETURNING j.id, j.job_type, j.payload, j.created_by, j.retry_count, j.max_retries;
END $$;

CREATE FUNCTION job_progress(p_job uuid, p_worker text, p_percent numeric, p_message text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  UPDATE background_jobs
     SET progress = round(least(greatest(coalesce(p_percent, 0), 0), 100), 2),
         progress_message = p_message, locked_at = now()
   WHERE id = p_job AND status = 'running' AND locked_by = p_worker;
  RETURN FOUND;
END $$;

CREATE FUNCTION job_complete(p_job uuid, p_worker text, p_result jsonb) RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  UPDATE background_jobs
     SET status = 'completed', progress = 100, completed_at = now(), result = p_result,
         error = NULL, locked_by = NULL, locked_at = NULL
   WHERE id = p_job AND status = 'running' AND locked_by = p_worker;
  RETURN FOUND;
END $$;

-- A failed attempt: back to pending after backoff * 2^(attempts - 1) while retries remain
-- (and p_retry), else failed for good. Returns the new status, NULL if not this worker's.
CREATE FUNCTION job_fail(p_job uuid, p_worker text, p_error text, p_retry boolean,
                         p_backoff_seconds double precision) RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  new_status text;
BEGIN
  UPDATE background_jobs
     SET status = CASE WHEN p_retry AND retry_count + 1 <= max_retries THEN 'pending'
                       ELSE 'failed' END,
         retry_count = CASE WHEN p_retry THEN retry_count + 1 ELSE retry_count END,
         error = left(p_error, 1000),
         failed_at = CASE WHEN p_retry AND retry_count + 1 <= max_retries THEN failed_at
                          ELSE now() END,
         scheduled_for = CASE WHEN p_retry AND retry_count + 1 <= max_retries
           THEN now() + make_interval(secs => greatest(coalesce(p_backoff_seconds, 0), 0)
                                              * 2 ^ retry_count)
           ELSE scheduled_for END,
         locked_by = NULL, locked_at = NULL
   WHERE id = p_job AND status = 'running' AND locked_by = p_worker
  RETURNING status INTO new_status;
  RETURN new_status;
END $$;

-- Running jobs whose worker went silent go back to the queue; never sooner than a minute,
-- so nobody can pull jobs from under live workers.
CREATE FUNCTION job_requeue_stale(p_seconds double precision) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  n integer;
BEGIN
  UPDATE background_jobs SET status = 'pending', locked_by = NULL, locked_at = NULL
   WHERE status = 'running'
     AND locked_at < now() - make_interval(secs => greatest(coalesce(p_seconds, 60), 60));
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;

-- First-purchase-only and once-per-customer codes ask about all of a buyer's live orders,
-- not only the ones of the seller's events: yes or no, never the orders.
CREATE FUNCTION checkout_buyer_history(p_user uuid, p_email text, p_kind text, p_code uuid)
RETURNS TABLE (o_has_prior_purchase boolean, o_has_used_code boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  PERFORM app_require_permission('box_office.sell');
  RETURN QUERY SELECT
    EXISTS (SELECT 1 FROM orders o
             WHERE (o.user_id = p_user OR lower(o.billing_email) = lower(p_email))
               AND o.status IN ('pending', 'completed')),
    p_code IS NOT NULL AND EXISTS (
      SELECT 1 FROM orders o JOIN order_items oi ON oi.order_id = o.id
       WHERE (o.user_id = p_user OR lower(o.billing_email) = lower(p_email))
         AND o.status IN ('pending', 'completed')
         AND CASE p_kind WHEN 'discount' THEN oi.discount_code_id = p_code
                         WHEN 'promo' THEN oi.promotional_code_id = p_code
                         ELSE false END);
END $$;

-- Ticket revenue, defined once (docs/ANALYTICS.md, core/analytics/revenue.py): money is
-- counted where it moved. Gross is what buyers paid (order_payments), refunds what was
-- given back (order_refunds), net the difference; a pending order has paid nothing yet.
CREATE FUNCTION order_net_amount(p_order uuid) RETURNS numeric
LANGUAGE sql STABLE SET search_path = {schema}, pg_temp AS $$
  SELECT (SELECT coalesce(sum(p.amount), 0) FROM order_payments p WHERE p.order_id = p_order)
       - (SELECT coalesce(sum(r.amount), 0) FROM order_refunds r WHERE r.order_id = p_order)
$$;

-- The overview's figures across every order, for anyone who may see the overview.
CREATE FUNCTION overview_order_totals()
RETURNS TABLE (o_completed_orders bigint, o_gross numeric, o_refunds numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  PERFORM app_require_permission('overview.view');
  RETURN QUERY SELECT (SELECT count(*) FROM orders WHERE status = 'completed'),
                      (SELECT coalesce(sum(amount), 0) FROM order_payments),
                      (SELECT coalesce(sum(amount), 0) FROM order_refunds);
END $$;

-- What each discount code brought in across all orders (a code serves every organizer's
-- events): live orders carrying it, their discount on items not refunded, and what they
-- brought in (order_net_amount: paid less refunded). Aggregates only, to holders of
-- events.manage.
CREATE FUNCTION discount_code_usage(p_codes uuid[])
RETURNS TABLE (o_code_id uuid, o_orders bigint, o_discount numeric, o_revenue numeric)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  PERFORM app_require_permission('events.manage');
  RETURN QUERY
  SELECT c.id, count(o.id),
         coalesce(sum(x.discount) FILTER (WHERE o.id IS NOT NULL), 0),
         coalesce(sum(order_net_amount(o.id)), 0)
    FROM unnest(p_codes) AS c(id)
    LEFT JOIN LATERAL (
         SELECT oi.order_id,
                coalesce(sum(oi.discount_amount - oi.refunded_discount)
                         FILTER (WHERE oi.refunded_at IS NULL), 0) AS discount
           FROM order_items oi WHERE oi.discount_code_id = c.id GROUP BY oi.order_id) x
      ON true
    LEFT JOIN orders o ON o.id = x.order_id AND o.status IN ('pending', 'completed')
   GROUP BY c.id;
END $$;

-- The people an event's staff is chosen from (active accounts with the staff role) and
-- everyone assigned to it, with the names the users policy hides from an organizer; to
-- the event's organizer and admins.
CREATE FUNCTION event_staff_directory(p_event uuid)
RETURNS TABLE (o_user_id uuid, o_full_name text, o_email text, o_assigned boolean,
               o_assigned_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
  IF NOT (app_has_role('admin') OR (app_has_permission('events.manage') AND EXISTS (
            SELECT 1 FROM events e
             WHERE e.id = p_event AND e.organizer_id = app_current_user_id()))) THEN
    RAISE EXCEPTION 'not allowed: only the event''s organizer or an admin assigns its staff'
      USING ERRCODE = '42501';
  END IF;
  RETURN QUERY
  SELECT u.id, u.full_name, u.email, s.user_id IS NOT NULL, s.created_at
    FROM users u
    LEFT JOIN event_staff s ON s.event_id = p_event AND s.user_id = u.id
   WHERE s.user_id IS NOT NULL
      OR (u.status = 'active' AND NOT u.is_anonymized AND EXISTS (
            SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.user_id = u.id AND r.name = 'staff'))
   ORDER BY u.full_name, u.email;
END $$;
"""

# Dropped in reverse order of dependence.
FUNCTION_SIGNATURES = (
    "event_staff_directory(uuid)",
    "discount_code_usage(uuid[])",
    "overview_order_totals()",
    "order_net_amount(uuid)",
    "checkout_buyer_history(uuid, text, text, uuid)",
    "job_requeue_stale(double precision)",
    "job_fail(uuid, text, text, boolean, double precision)",
    "job_complete(uuid, text, jsonb)",
    "job_progress(uuid, text, numeric, text)",
    "job_claim(text, text[])",
    "app_setting_is_secret(text, text)",
    "app_require_permission(text)",
    "app_my_sponsor_ids()",
    "app_my_event_ids()",
)


def _app_role() -> str:
    # As migration 0003 reads it (migrations must not change with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _create_event_staff() -> None:
    op.create_table(
        "event_staff",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("assigned_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_staff_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_event_staff_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_event_staff_assigned_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_staff")),
        sa.UniqueConstraint("event_id", "user_id", name=op.f("uq_event_staff_event_id_user_id")),
    )
    # app_my_event_ids() finds a person's events by user_id; the unique key serves event_id.
    op.create_index("idx_event_staff_user_id", "event_staff", ["user_id"])
    op.create_index("idx_event_staff_assigned_by", "event_staff", ["assigned_by"])
    op.execute(
        "CREATE TRIGGER audit_trail AFTER INSERT OR UPDATE OR DELETE ON event_staff"
        " FOR EACH ROW EXECUTE FUNCTION audit_row_change('id', '')"
    )


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    role = _app_role()
    has_role = conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).scalar()
    app = _quote(conn, role)

    _create_event_staff()
    op.execute(sa.text(FUNCTIONS.format(schema=schema)))
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        if has_role:
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {app}")

    for table in RLS_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    for table, name, command, using, check in POLICIES:
        statement = f"CREATE POLICY {name} ON {table} FOR {command} TO PUBLIC"
        if using is not None:
            statement += f" USING ({using})"
        if check is not None:
            statement += f" WITH CHECK ({check})"
        op.execute(statement)

    for rollup in ROLLUPS:
        op.execute(
            f"CREATE VIEW {rollup}_guarded WITH (security_barrier = true) AS"
            f" SELECT * FROM {rollup} WHERE {ANALYTICS}"
        )
    if has_role:
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON event_staff TO {app}")
        for table in READ_ONLY:
            op.execute(f"REVOKE INSERT, UPDATE, DELETE ON {table} FROM {app}")
        for rollup in ROLLUPS:
            op.execute(f"REVOKE ALL ON {rollup} FROM {app}")
            op.execute(f"GRANT SELECT ON {rollup}_guarded TO {app}")


def downgrade() -> None:
    conn = op.get_bind()
    role = _app_role()
    has_role = conn.execute(
        sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
    ).scalar()
    app = _quote(conn, role)
    for rollup in ROLLUPS:
        op.execute(f"DROP VIEW {rollup}_guarded")
    if has_role:
        for rollup in ROLLUPS:
            op.execute(f"GRANT SELECT ON {rollup} TO {app}")
        for table in READ_ONLY:
            op.execute(f"GRANT INSERT, UPDATE, DELETE ON {table} TO {app}")
    for table, name, *_ in POLICIES:
        op.execute(f"DROP POLICY {name} ON {table}")
    for table in RLS_TABLES:
        if table != "event_staff":
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.drop_table("event_staff")
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")
