"""Hardening the checkout's inputs (issue 15, findings 8 and 9, defects 2 and 3).

1. Length limits (finding 8). Every text, text[] and jsonb column the models limit
   (core/models/limits.py) gets its CHECK `ck_<table>_<column>_length`:
   `char_length(c) <= n` for text (plus `c ~ '^[!-~]*$'` for keys and session ids),
   `octet_length(c::text) <= n` for JSON, `cardinality(c) <= items AND
   text_array_longest(c) <= n` for text[]. They are added NOT VALID: no scan, each table
   locked only for the moment the catalogue changes; core.migrate.upgrade validates every
   NOT VALID constraint after the migrations commit, one per transaction under SHARE
   UPDATE EXCLUSIVE, so reads and writes go on meanwhile (docs/SCHEMA.md has the figures
   for the large demo). `text_array_longest(text[])`, IMMUTABLE, is new for those CHECKs.
   The list below is the models' as this migration was written; a later change to a
   limit is a later migration.
2. Idempotency fingerprints (finding 9). `orders.idempotency_fingerprint` (bytea, SHA-256)
   holds a fingerprint of the request that placed the order:
   `checkout_fingerprint(...)` over the event, session, buyer (user, email, name, phone),
   notes, payment method, code, expected total and the held lines and seats
   (`checkout_lines_of_holds(hold ids)`, the same form as `checkout_lines_of_order`).
   `checkout_replay(key, ...)` is the one replay rule of both checkout paths: no order
   with the key, nothing; the same request, the order (replayed); a different one (or an
   order from before this migration, which has no fingerprint), SQLSTATE FW001
   'idempotency_conflict' on field idempotency_key, changing nothing.
   `checkout_place` is replaced (CREATE OR REPLACE, same signature) with exactly two
   changes to 0004's text: the replay block (`RETURN QUERY SELECT ... FROM orders WHERE
   idempotency_key = p_key`) now calls checkout_replay, and the INSERT INTO orders also
   writes idempotency_fingerprint. Nothing else in it changed.
3. Refunds by quantity and seat (defect 2). order_items gains refunded_quantity,
   refunded_discount, refunded_tax, refunded_amount (what was given back so far, per
   cumulative per-unit shares, see core/checkout/pricing.refund_share) and
   refunded_seat_ids; order_refunds gains quantity, seat_ids, discount_amount and
   tax_amount. Items refunded whole before this migration are backfilled (all of their
   quantity and seats, and their amounts when their refund rows paid them back).
   CHECKs keep every counter within its item, refunded seats among the item's seats, and
   refunded_at set exactly when nothing of the item is left.
4. Seated capacity (defect 3). The rule is `ticket_type_seats_refusal(section,
   capacity)` and `section_seats_refusal(section, seats)` (the refusal's text, or NULL;
   core/services/ticket_types.py and venues.py ask them before writing).
   `ticket_types_within_section_seats` (AFTER INSERT OR UPDATE OF total_capacity,
   seating_section_id, per row) refuses a ticket type whose
   capacity is above the number of seats of the section it sells ("Section Floor has 40
   seats; capacity 100 is more than that."), and `venue_seats_within_ticket_types`
   (AFTER INSERT, UPDATE, DELETE, per statement, transition tables) refuses a change of a
   section's seats that leaves it fewer than a ticket type selling it has as capacity. A
   section without seats (standing) is not held to either. Both functions are SECURITY
   DEFINER (they must count every seat and every ticket type, whatever the caller may
   see) and take the advisory lock (4, section), so a capacity change and a seat change
   of one section cannot pass each other. SQLSTATE 23514 with the column named, so
   core.errors reports their message on that field.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import importlib.util
import os
import re
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table column kind max_length [items]; kind is text, ascii (visible ASCII, no spaces),
# json (bytes of its text) or list (text[]: entries, each of at most max_length).
LIMITS = """
api_keys key_hash ascii 128
api_keys key_prefix ascii 32
api_keys name text 200
api_keys permissions json 65536
api_usage_logs endpoint text 2048
api_usage_logs ip_address text 45
api_usage_logs method text 16
api_usage_logs user_agent text 1000
audit_logs action text 200
audit_logs ip_address text 45
audit_logs record_id text 200
audit_logs table_name text 63
audit_logs user_agent text 1000
background_jobs dedupe_key text 200
background_jobs error text 5000
background_jobs job_type text 100
background_jobs locked_by text 200
background_jobs payload json 1048576
background_jobs progress_message text 1000
background_jobs result json 1048576
campaign_analytics channel text 100
campaign_analytics metrics json 65536
campaign_assets dimensions text 100
campaign_assets duration text 100
campaign_assets file_url text 2048
campaign_assets name text 200
campaign_assets thumbnail_url text 2048
collections color_palette json 65536
collections cover_image_url text 2048
collections description text 5000
collections inspiration text 5000
collections materials json 65536
collections metadata json 65536
collections name text 200
collections show_notes text 5000
collections slug text 255
content_blocks content text 100000
content_blocks content_json json 1048576
content_blocks settings json 65536
content_blocks styles json 65536
content_blocks title text 200
content_blocks visibility_rules json 65536
data_subject_requests export_file text 255
data_subject_requests export_fingerprint text 128
data_subject_requests identity_verification_method text 100
data_subject_requests notes text 5000
data_subject_requests outcome json 1048576
data_subject_requests rejection_reason text 5000
data_subject_requests request_details json 65536
data_subject_requests subject_email text 254
designer_analytics collection_views json 65536
designer_analytics item_views json 65536
designer_analytics metadata json 65536
designer_collaboration_participants role text 100
designer_collaborations description text 5000
designer_collaborations metadata json 65536
designer_collaborations name text 200
designers awards json 65536
designers bio text 5000
designers brand_name text 200
designers contact_email text 254
designers contact_phone text 32
designers cover_image_url text 2048
designers location json 65536
designers metadata json 65536
designers name text 200
designers press_mentions json 65536
designers profile_image_url text 2048
designers slug text 255
designers social_media json 65536
designers specialty text 200
designers website_url text 2048
discount_codes code text 64
discount_codes description text 500
discount_codes metadata json 65536
domain_events aggregate_id text 200
domain_events aggregate_type text 100
domain_events causation_id text 200
domain_events correlation_id text 200
domain_events error text 5000
domain_events event_data json 1048576
domain_events event_type text 200
domain_events idempotency_key text 200
domain_events metadata json 65536
domain_events source_system text 100
email_analytics metrics json 65536
email_campaigns content text 100000
email_campaigns preview_text text 500
email_campaigns recipient_segment json 65536
email_campaigns sender_email text 254
email_campaigns sender_name text 200
email_campaigns subject text 255
email_campaigns template_id text 100
email_campaigns tracking_settings json 65536
encryption_keys algorithm text 100
encryption_keys key_name text 200
encryption_keys key_reference text 255
event_categories color text 32
event_categories description text 5000
event_categories icon text 100
event_categories name text 200
event_categories slug text 255
event_schedules description text 5000
event_schedules location text 200
event_schedules meta_data json 65536
event_schedules title text 200
event_schedules type text 100
event_seats blocked_reason text 200
events category text 100
events description text 5000
events external_url text 2048
events featured_image_url text 2048
events gallery_images json 65536
events meta_data json 65536
events seo_description text 1000
events seo_keywords list 100 50
events seo_title text 200
events short_description text 500
events slug text 255
events tags list 100 50
events ticket_url text 2048
events title text 200
fashion_item_images alt_text text 1000
fashion_item_images image_url text 2048
fashion_item_images metadata json 65536
fashion_items colors json 65536
fashion_items description text 5000
fashion_items materials json 65536
fashion_items metadata json 65536
fashion_items name text 200
fashion_items price_range json 65536
fashion_items sizes json 65536
graphql_schema_definitions description text 5000
graphql_schema_definitions name text 200
graphql_schema_definitions schema_definition text 100000
graphql_schema_definitions version text 32
marketing_campaigns channels json 65536
marketing_campaigns description text 5000
marketing_campaigns goals json 65536
marketing_campaigns name text 200
marketing_campaigns target_audience json 65536
marketing_segments description text 5000
marketing_segments filter_criteria json 65536
marketing_segments name text 200
media_items alt_text text 1000
media_items caption text 5000
media_items file_name text 255
media_items file_type text 100
media_items folder_path text 1024
media_items meta_data json 65536
media_items mime_type text 255
media_items tags list 100 50
media_items thumbnail_url text 2048
media_items url text 2048
models agency text 200
models bio text 5000
models height text 32
models measurements json 65536
models metadata json 65536
models name text 200
models portfolio_url text 2048
models profile_image_url text 2048
models slug text 255
models social_media json 65536
order_items metadata json 65536
order_payments method text 100
order_payments provider text 100
order_payments reference text 200
order_refunds method text 100
order_refunds reason text 1000
order_refunds reference text 200
orders billing_address json 65536
orders billing_email text 254
orders billing_name text 200
orders billing_phone text 32
orders encrypted_payment_details text 4096
orders idempotency_key ascii 200
orders ip_address text 45
orders metadata json 65536
orders notes text 5000
orders order_number text 32
orders payment_intent_id text 255
orders payment_method text 100
orders user_agent text 1000
page_versions change_summary text 5000
page_versions content_snapshot json 1048576
page_versions layout text 100
page_versions meta_description text 1000
page_versions meta_keywords list 100 50
page_versions title text 200
pages layout text 100
pages meta_description text 1000
pages meta_keywords list 100 50
pages seo_image_url text 2048
pages slug text 255
pages structured_data json 65536
pages title text 200
permissions action text 100
permissions description text 5000
permissions name text 100
permissions resource text 100
promotional_codes code text 64
promotional_codes description text 500
rest_api_endpoints description text 5000
rest_api_endpoints function_name text 200
rest_api_endpoints path text 2048
rest_api_endpoints required_permissions list 100 50
rest_api_endpoints version text 32
roles description text 5000
roles name text 100
runway_appearances notes text 5000
runway_segments description text 5000
runway_segments lighting_notes text 5000
runway_segments metadata json 65536
runway_segments music text 200
runway_segments name text 200
runway_segments theme text 200
runway_shows livestream_url text 2048
runway_shows metadata json 65536
runway_shows notes text 5000
runway_shows video_url text 2048
social_media_analytics metrics json 65536
social_media_posts content text 5000
social_media_posts media_urls list 2048 20
social_media_posts post_id text 200
social_media_posts post_url text 2048
sponsor_analytics engagement_metrics json 65536
sponsor_analytics roi_metrics json 65536
sponsor_benefits category text 100
sponsor_benefits description text 5000
sponsor_benefits icon_url text 2048
sponsor_benefits name text 200
sponsors company_size text 100
sponsors contact_email text 254
sponsors contact_name text 200
sponsors contact_phone text 32
sponsors description text 5000
sponsors headquarters text 200
sponsors industry text 100
sponsors logo_url text 2048
sponsors name text 200
sponsors slug text 255
sponsors social_media json 65536
sponsors website_url text 2048
sponsorship_assets dimensions text 100
sponsorship_assets file_type text 255
sponsorship_assets file_url text 2048
sponsorship_assets name text 200
sponsorship_assets notes text 5000
sponsorship_assets review_note text 5000
sponsorship_tiers benefits json 65536
sponsorship_tiers description text 5000
sponsorship_tiers name text 200
sponsorship_tiers price_range text 100
sponsorships benefits json 65536
sponsorships contract_url text 2048
sponsorships custom_tier_name text 200
sponsorships notes text 5000
system_configurations category text 100
system_configurations description text 5000
system_configurations key text 100
system_configurations value json 65536
ticket_inventory_locks session_id ascii 200
ticket_types description text 5000
ticket_types features json 65536
ticket_types metadata json 65536
ticket_types name text 200
tier_benefits details text 5000
user_engagement engagement_data json 65536
user_engagement engagement_source text 100
user_engagement engagement_type text 100
user_engagement ip_address text 45
user_engagement session_id ascii 200
user_engagement user_agent text 1000
user_profiles address json 65536
user_profiles bio text 5000
user_profiles company text 200
user_profiles encrypted_payment_info text 4096
user_profiles first_name text 200
user_profiles interests list 100 50
user_profiles last_name text 200
user_profiles location text 200
user_profiles notification_settings json 65536
user_profiles position text 200
user_profiles preferences json 65536
user_profiles social_links json 65536
user_profiles website text 2048
users email text 254
users full_name text 200
users password_hash text 255
users phone_number text 32
users profile_image_url text 2048
users reset_token text 255
venue_seats accessibility_features list 100 50
venue_seats coordinates json 65536
venue_seats notes text 200
venue_seats row_name text 16
venue_seats seat_number text 16
venue_sections coordinates json 65536
venue_sections description text 5000
venue_sections name text 200
venues accessibility_features list 100 50
venues address text 500
venues city text 100
venues contact_email text 254
venues contact_name text 200
venues contact_phone text 32
venues country text 100
venues description text 5000
venues facilities json 65536
venues floor_plan_url text 2048
venues images json 65536
venues meta_data json 65536
venues name text 200
venues postal_code text 20
venues slug text 255
venues state text 100
venues website text 2048
webhook_delivery_logs error_message text 5000
webhook_delivery_logs event_type text 100
webhook_delivery_logs payload json 1048576
webhook_delivery_logs response_body text 100000
webhooks description text 5000
webhooks events list 100 50
webhooks headers json 65536
webhooks name text 200
webhooks secret_key text 255
webhooks url text 2048
"""

FUNCTIONS = r"""
CREATE FUNCTION text_array_longest(a text[]) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(max(char_length(x)), 0) FROM unnest(a) AS x
$$;

-- The lines a request buys, in one canonical form: [[ticket type, quantity, [seats]], ...]
-- sorted by ticket type, seats sorted; NULL when there is nothing.
CREATE FUNCTION checkout_lines_of_holds(p_holds uuid[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_agg(jsonb_build_array(w.t, w.q, w.seats) ORDER BY w.t)
    FROM (SELECT l.ticket_type_id AS t, sum(l.quantity) AS q,
                 coalesce((SELECT jsonb_agg(s ORDER BY s)
                             FROM ticket_inventory_locks l2, unnest(l2.seat_ids) AS s
                            WHERE l2.id = ANY(p_holds) AND l2.ticket_type_id = l.ticket_type_id),
                          '[]'::jsonb) AS seats
            FROM ticket_inventory_locks l WHERE l.id = ANY(p_holds)
           GROUP BY l.ticket_type_id) w
$$;

CREATE FUNCTION checkout_lines_of_order(p_order uuid) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_agg(jsonb_build_array(w.t, w.q, w.seats) ORDER BY w.t)
    FROM (SELECT oi.ticket_type_id AS t, sum(oi.quantity) AS q,
                 coalesce((SELECT jsonb_agg(s ORDER BY s)
                             FROM order_items oi2, unnest(oi2.seat_ids) AS s
                            WHERE oi2.order_id = p_order
                              AND oi2.ticket_type_id = oi.ticket_type_id), '[]'::jsonb) AS seats
            FROM order_items oi WHERE oi.order_id = p_order
           GROUP BY oi.ticket_type_id) w
$$;

-- What makes two requests under one idempotency key the same request (docs/CHECKOUT.md).
CREATE FUNCTION checkout_fingerprint(
  p_event uuid, p_session text, p_user uuid, p_email text, p_name text, p_phone text,
  p_notes text, p_method text, p_code text, p_expected numeric, p_lines jsonb
) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(convert_to(jsonb_build_array(
           1, p_event, p_session, p_user, p_email, p_name, p_phone, p_notes, p_method,
           upper(btrim(p_code)), round(p_expected, 2), p_lines)::text, 'UTF8'))
$$;

-- The one replay rule of both checkout paths; the caller holds the key's advisory lock.
CREATE FUNCTION checkout_replay(
  p_key text, p_event uuid, p_session text, p_user uuid, p_email text, p_name text,
  p_phone text, p_notes text, p_method text, p_code text, p_expected numeric
) RETURNS TABLE (o_id uuid, o_number text, o_status text, o_subtotal numeric,
                 o_discount numeric, o_tax numeric, o_total numeric, o_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_order record;
  v_lines jsonb;
BEGIN
  SELECT o.id, o.order_number, o.status, o.subtotal, o.discount_amount, o.tax_amount,
         o.total_amount, o.idempotency_fingerprint
    INTO v_order FROM orders o WHERE o.idempotency_key = p_key;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  -- The lines this request would buy: what its session holds now, or else (its hold
  -- became this order) the order's own.
  v_lines := coalesce(
    checkout_lines_of_holds(ARRAY(
      SELECT l.id FROM ticket_inventory_locks l
       WHERE l.event_id = p_event AND l.session_id = p_session AND l.order_id IS NULL
         AND l.expires_at > now())),
    checkout_lines_of_order(v_order.id));
  IF v_order.idempotency_fingerprint IS DISTINCT FROM checkout_fingerprint(
       p_event, p_session, p_user, p_email, p_name, p_phone, p_notes, p_method, p_code,
       p_expected, v_lines) THEN
    PERFORM checkout_refuse('idempotency_conflict',
      'This idempotency key was already used for a different order (another buyer, session,'
      || ' tickets, payment or total); use a new key for this one.', 'idempotency_key');
  END IF;
  o_id := v_order.id;
  o_number := v_order.order_number;
  o_status := v_order.status;
  o_subtotal := v_order.subtotal;
  o_discount := v_order.discount_amount;
  o_tax := v_order.tax_amount;
  o_total := v_order.total_amount;
  o_replayed := true;
  RETURN NEXT;
END $$;

-- Defect 3: a seated ticket type sells at most the seats of its section. The rule, once:
-- the refusal (or NULL) for a ticket type of `p_capacity` on the section, and for the
-- section having `p_seats` seats; the triggers and the services both ask these.
CREATE FUNCTION ticket_type_seats_refusal(p_section uuid, p_capacity integer) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT format('Section %s has %s seats; capacity %s is more than that.',
                s.name, n.seats, p_capacity)
    FROM venue_sections s,
         LATERAL (SELECT count(*) AS seats FROM venue_seats vs WHERE vs.section_id = s.id) n
   WHERE s.id = p_section AND n.seats > 0 AND p_capacity > n.seats
$$;

CREATE FUNCTION section_seats_refusal(p_section uuid, p_seats bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
  SELECT format('Section %s would have %s seats, fewer than the %s a ticket type'
                || ' selling it has as capacity; lower that capacity first.',
                s.name, p_seats, c.capacity)
    FROM venue_sections s,
         LATERAL (SELECT max(tt.total_capacity) AS capacity FROM ticket_types tt
                   WHERE tt.seating_section_id = s.id) c
   WHERE s.id = p_section AND p_seats > 0 AND c.capacity > p_seats
$$;

CREATE FUNCTION ticket_type_within_section_seats() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  v_refusal text;
BEGIN
  IF NEW.seating_section_id IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(4, checkout_lock_key(uuid_send(NEW.seating_section_id)));
  v_refusal := ticket_type_seats_refusal(NEW.seating_section_id, NEW.total_capacity);
  IF v_refusal IS NOT NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'check_violation', TABLE = 'ticket_types',
      COLUMN = 'total_capacity', CONSTRAINT = 'ticket_types_within_section_seats',
      MESSAGE = v_refusal;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION venue_seats_within_ticket_types() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
  v_sections uuid[];
  v_section uuid;
  v_refusal text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    v_sections := ARRAY(SELECT DISTINCT section_id FROM new_seats ORDER BY 1);
  ELSIF TG_OP = 'DELETE' THEN
    v_sections := ARRAY(SELECT DISTINCT section_id FROM old_seats ORDER BY 1);
  ELSE
    v_sections := ARRAY(
      SELECT DISTINCT v.s FROM old_seats o JOIN new_seats n ON n.id = o.id,
             LATERAL (VALUES (o.section_id), (n.section_id)) AS v(s)
       WHERE o.section_id IS DISTINCT FROM n.section_id ORDER BY 1);
  END IF;
  FOREACH v_section IN ARRAY v_sections LOOP
    PERFORM pg_advisory_xact_lock(4, checkout_lock_key(uuid_send(v_section)));
    v_refusal := section_seats_refusal(
      v_section, (SELECT count(*) FROM venue_seats vs WHERE vs.section_id = v_section));
    IF v_refusal IS NOT NULL THEN
      RAISE EXCEPTION USING ERRCODE = 'check_violation', TABLE = 'venue_seats',
        COLUMN = 'section_id', CONSTRAINT = 'venue_seats_within_ticket_types',
        MESSAGE = v_refusal;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER ticket_types_within_section_seats
  AFTER INSERT OR UPDATE OF total_capacity, seating_section_id ON ticket_types
  FOR EACH ROW EXECUTE FUNCTION ticket_type_within_section_seats();
CREATE TRIGGER venue_seats_within_ticket_types_insert
  AFTER INSERT ON venue_seats REFERENCING NEW TABLE AS new_seats
  FOR EACH STATEMENT EXECUTE FUNCTION venue_seats_within_ticket_types();
CREATE TRIGGER venue_seats_within_ticket_types_update
  AFTER UPDATE ON venue_seats REFERENCING OLD TABLE AS old_seats NEW TABLE AS new_seats
  FOR EACH STATEMENT EXECUTE FUNCTION venue_seats_within_ticket_types();
CREATE TRIGGER venue_seats_within_ticket_types_delete
  AFTER DELETE ON venue_seats REFERENCING OLD TABLE AS old_seats
  FOR EACH STATEMENT EXECUTE FUNCTION venue_seats_within_ticket_types();
"""

# 0004's checkout_place with its two changes (marked "0010:"); nothing else differs.
CHECKOUT_PLACE = r"""
CREATE OR REPLACE FUNCTION checkout_place(
  p_key text, p_event uuid, p_session text, p_expected numeric,
  p_user uuid, p_email text, p_name text, p_phone text, p_notes text, p_ip text, p_ua text,
  p_pay_provider text, p_pay_method text, p_pay_reference text,
  p_pay_methods text[], p_free_methods text[], p_safe boolean DEFAULT true
) RETURNS TABLE (o_id uuid, o_number text, o_status text, o_subtotal numeric,
                 o_discount numeric, o_tax numeric, o_total numeric, o_replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_status text;
  v_capacity integer;
  v_type_total bigint;
  v_holds uuid[];
  v_live boolean;
  v_seats uuid[];
  v_types uuid[];
  v_qtys integer[];
  v_prices numeric[];
  v_rates numeric[];
  v_remaining integer[];
  v_n integer;
  v_mine boolean;
  v_subtotal numeric;
  v_tax numeric;
  v_total numeric;
  v_order uuid;
  v_number text;
  v_paid boolean := p_pay_reference IS NOT NULL;
  v_key integer;
  i integer;
BEGIN
  -- Always, unsafe mode included: idempotency is not what the negative controls test.
  PERFORM pg_advisory_xact_lock(1, checkout_lock_key(convert_to(p_key, 'UTF8')));
  -- 0010: the same request replays its order, a different one is refused.
  RETURN QUERY SELECT * FROM checkout_replay(p_key, p_event, p_session, p_user, p_email,
                                             p_name, p_phone, p_notes, p_pay_method, NULL,
                                             p_expected);
  IF FOUND THEN
    RETURN;
  END IF;

  SELECT e.status, e.capacity,
         (SELECT coalesce(sum(tt.total_capacity), 0) FROM ticket_types tt
           WHERE tt.event_id = e.id)
    INTO v_status, v_capacity, v_type_total
    FROM events e WHERE e.id = p_event;
  IF v_status IS DISTINCT FROM 'published' THEN
    PERFORM checkout_refuse('sale_closed', 'Tickets for this event are not on sale.');
  END IF;
  IF p_safe AND v_capacity IS NOT NULL AND v_capacity < v_type_total THEN
    PERFORM pg_advisory_xact_lock(2, checkout_lock_key(uuid_send(p_event)));
  END IF;

  SELECT array_agg(h.id ORDER BY h.id), bool_and(h.live) INTO v_holds, v_live
    FROM (SELECT id, expires_at > now() AS live FROM ticket_inventory_locks
           WHERE event_id = p_event AND session_id = p_session AND order_id IS NULL
           ORDER BY id FOR UPDATE) h;
  IF v_holds IS NULL OR NOT v_live THEN
    PERFORM checkout_refuse('hold_expired',
      'Your reservation has expired; choose the tickets again.');
  END IF;
  SELECT array_agg(s ORDER BY s) INTO v_seats
    FROM ticket_inventory_locks l, unnest(l.seat_ids) s WHERE l.id = ANY(v_holds);
  SELECT array_agg(tt.id ORDER BY tt.id), array_agg(w.q ORDER BY tt.id),
         array_agg(tt.base_price ORDER BY tt.id),
         array_agg(coalesce(tt.tax_rate, e.tax_rate) ORDER BY tt.id)
    INTO v_types, v_qtys, v_prices, v_rates
    FROM (SELECT ticket_type_id AS t, sum(quantity)::integer AS q FROM ticket_inventory_locks
           WHERE id = ANY(v_holds) GROUP BY ticket_type_id) w
    JOIN ticket_types tt ON tt.id = w.t AND tt.event_id = p_event
    JOIN events e ON e.id = tt.event_id;
  IF p_safe THEN
    -- Ticket types in key order (locking.lock_all).
    FOR v_key IN SELECT DISTINCT checkout_lock_key(uuid_send(t)) FROM unnest(v_types) t
                  ORDER BY 1 LOOP
      PERFORM pg_advisory_xact_lock(3, v_key);
    END LOOP;
  END IF;
  -- Judged by the clock after the locks are granted (docs/CHECKOUT.md).
  SELECT count(*) INTO v_n FROM ticket_inventory_locks
   WHERE id = ANY(v_holds) AND expires_at > clock_timestamp();
  IF v_n <> cardinality(v_holds) THEN
    PERFORM checkout_refuse('hold_expired',
      'Your reservation has expired; choose the tickets again.');
  END IF;
  SELECT array_agg(tt.remaining_capacity ORDER BY w.ord) INTO v_remaining
    FROM unnest(v_types) WITH ORDINALITY AS w(t, ord) JOIN ticket_types tt ON tt.id = w.t;
  FOR i IN 1 .. cardinality(v_types) LOOP
    IF v_remaining[i] < v_qtys[i] THEN
      PERFORM checkout_refuse('sold_out', 'Those tickets sold out while you were paying.',
        'quantities');
    END IF;
  END LOOP;
  IF v_seats IS NOT NULL THEN
    IF p_safe THEN
      PERFORM 1 FROM event_seats WHERE event_id = p_event AND seat_id = ANY(v_seats)
        ORDER BY seat_id FOR UPDATE;
    END IF;
    SELECT count(*),
           bool_and(coalesce(status = 'held' AND hold_id = ANY(v_holds)
                             AND held_until > clock_timestamp(), false))
      INTO v_n, v_mine
      FROM event_seats WHERE event_id = p_event AND seat_id = ANY(v_seats);
    IF v_n <> cardinality(v_seats) OR NOT v_mine THEN
      PERFORM checkout_refuse('seat_taken',
        'A seat you chose is no longer held for you; choose again.', 'seat_ids');
    END IF;
  END IF;

  -- pricing.price without a code: per line, subtotal and tax rounded half up to cents.
  SELECT sum(round(round(u.p * u.q, 2) * u.r, 2)), sum(round(u.p * u.q, 2))
    INTO v_tax, v_subtotal
    FROM unnest(v_prices, v_qtys, v_rates) AS u(p, q, r);
  v_total := v_subtotal + v_tax;
  IF v_total <> p_expected THEN
    PERFORM checkout_refuse('amount_changed', v_total::text, 'expected_total');
  END IF;

  -- The box office's charge() checks only these: the caller raises its exact message.
  IF v_paid AND (NOT p_pay_method = ANY(p_pay_methods)
                 OR (p_pay_method = ANY(p_free_methods) AND v_total <> 0)) THEN
    PERFORM checkout_refuse('invalid', v_total::text, 'payment_method');
  END IF;

  IF NOT p_safe THEN
    PERFORM pg_sleep(0.05);
  END IF;
  -- Paid here (the box office): written completed at once, no second write of the row.
  -- 0010: with the request's fingerprint.
  INSERT INTO orders (order_number, user_id, event_id, status, subtotal, discount_amount,
                      tax_amount, total_amount, currency, idempotency_key, billing_email,
                      billing_name, billing_phone, notes, ip_address, user_agent,
                      completed_at, payment_method, payment_intent_id,
                      idempotency_fingerprint)
  VALUES ('FW-' || to_char(now(), 'YYYY') || '-'
            || lpad(nextval('order_number_seq')::text, 7, '0'),
          p_user, p_event, CASE WHEN v_paid THEN 'completed' ELSE 'pending' END,
          v_subtotal, 0, v_tax, v_total, 'USD', p_key, p_email, p_name, p_phone, p_notes,
          p_ip, p_ua, CASE WHEN v_paid THEN now() END,
          CASE WHEN v_paid THEN p_pay_method END, p_pay_reference,
          checkout_fingerprint(p_event, p_session, p_user, p_email, p_name, p_phone, p_notes,
                               p_pay_method, NULL, p_expected,
                               checkout_lines_of_holds(v_holds)))
  RETURNING id, order_number INTO v_order, v_number;
  INSERT INTO order_items (order_id, ticket_type_id, quantity, unit_price, subtotal,
                           discount_amount, final_price, tax_amount, seat_ids)
  SELECT v_order, u.t, u.q, u.p, round(u.p * u.q, 2), 0, round(u.p * u.q, 2),
         round(round(u.p * u.q, 2) * u.r, 2),
         (SELECT array_agg(s ORDER BY s) FROM ticket_inventory_locks l, unnest(l.seat_ids) s
           WHERE l.id = ANY(v_holds) AND l.ticket_type_id = u.t)
    FROM unnest(v_types, v_qtys, v_prices, v_rates) WITH ORDINALITY AS u(t, q, p, r, ord)
   ORDER BY u.ord;
  FOR i IN 1 .. cardinality(v_types) LOOP
    -- Read, check, write under the ticket type's lock (see locking.py).
    UPDATE ticket_types SET remaining_capacity = v_remaining[i] - v_qtys[i]
     WHERE id = v_types[i];
  END LOOP;
  IF v_seats IS NOT NULL THEN
    UPDATE event_seats es SET status = 'sold', order_id = v_order, hold_id = NULL,
           held_until = NULL, price = tt.base_price
      FROM ticket_types tt
     WHERE tt.id = es.ticket_type_id AND es.event_id = p_event AND es.seat_id = ANY(v_seats);
  END IF;
  DELETE FROM ticket_inventory_locks WHERE id = ANY(v_holds);

  o_status := 'pending';
  IF v_paid THEN
    INSERT INTO order_payments (order_id, provider, method, amount, currency, reference)
    VALUES (v_order, p_pay_provider, p_pay_method, v_total, 'USD', p_pay_reference);
    o_status := 'completed';
  END IF;
  o_id := v_order;
  o_number := v_number;
  o_subtotal := v_subtotal;
  o_discount := 0.00;
  o_tax := v_tax;
  o_total := v_total;
  o_replayed := false;
  RETURN NEXT;
END $$;
"""

# New columns: (table, column, type and default).
COLUMNS = (
    ("orders", "idempotency_fingerprint", "bytea"),
    ("order_items", "refunded_quantity", "integer NOT NULL DEFAULT 0"),
    ("order_items", "refunded_discount", "numeric(12, 2) NOT NULL DEFAULT 0"),
    ("order_items", "refunded_tax", "numeric(12, 2) NOT NULL DEFAULT 0"),
    ("order_items", "refunded_amount", "numeric(12, 2) NOT NULL DEFAULT 0"),
    ("order_items", "refunded_seat_ids", "uuid[]"),
    ("order_refunds", "quantity", "integer"),
    ("order_refunds", "seat_ids", "uuid[]"),
    ("order_refunds", "discount_amount", "numeric(12, 2) NOT NULL DEFAULT 0"),
    ("order_refunds", "tax_amount", "numeric(12, 2) NOT NULL DEFAULT 0"),
)

# Items refunded whole before this migration (refund_order gave back whole items only):
# all of their tickets and seats, and their money when their refund rows paid it back
# (a cancelled unpaid order refunded nothing).
BACKFILL = (
    """
    UPDATE order_items oi SET refunded_quantity = oi.quantity,
           refunded_seat_ids = oi.seat_ids,
           refunded_discount = CASE WHEN paid.amount > 0 THEN oi.discount_amount ELSE 0 END,
           refunded_tax = CASE WHEN paid.amount > 0 THEN oi.tax_amount ELSE 0 END,
           refunded_amount = CASE WHEN paid.amount > 0
                                  THEN oi.final_price + oi.tax_amount ELSE 0 END
      FROM (SELECT i.id, coalesce(sum(r.amount), 0) AS amount FROM order_items i
              LEFT JOIN order_refunds r ON r.order_item_id = i.id
             WHERE i.refunded_at IS NOT NULL GROUP BY i.id) paid
     WHERE paid.id = oi.id
    """,
    """
    UPDATE order_refunds r SET quantity = oi.quantity, seat_ids = oi.seat_ids,
           discount_amount = oi.discount_amount, tax_amount = oi.tax_amount
      FROM order_items oi WHERE oi.id = r.order_item_id AND r.quantity IS NULL
    """,
)

# (table, constraint name, expression): the rules of the new columns.
CHECKS = (
    ("orders", "ck_orders_idempotency_fingerprint_sha256",
     "octet_length(idempotency_fingerprint) = 32"),
    ("order_items", "ck_order_items_refunded_quantity_range",
     "refunded_quantity >= 0 AND refunded_quantity <= quantity"),
    ("order_items", "ck_order_items_refunded_discount_range",
     "refunded_discount >= 0 AND refunded_discount <= discount_amount"),
    ("order_items", "ck_order_items_refunded_tax_range",
     "refunded_tax >= 0 AND refunded_tax <= tax_amount"),
    ("order_items", "ck_order_items_refunded_amount_range",
     "refunded_amount >= 0 AND refunded_amount <= final_price + tax_amount"),
    ("order_items", "ck_order_items_refunded_seats_of_item",
     "refunded_seat_ids IS NULL OR refunded_seat_ids <@ seat_ids"),
    ("order_items", "ck_order_items_refunded_at_when_nothing_left",
     "(refunded_at IS NOT NULL) = (refunded_quantity = quantity)"),
    ("order_refunds", "ck_order_refunds_quantity_of_item",
     "(quantity IS NULL) = (order_item_id IS NULL) AND (quantity IS NULL OR quantity > 0)"),
    ("order_refunds", "ck_order_refunds_discount_amount_non_negative", "discount_amount >= 0"),
    ("order_refunds", "ck_order_refunds_tax_amount_non_negative", "tax_amount >= 0"),
)  # fmt: skip

# New functions, for grants and the downgrade (reverse order of dependence).
FUNCTION_SIGNATURES = (
    "section_seats_refusal(uuid, bigint)",
    "ticket_type_seats_refusal(uuid, integer)",
    "checkout_replay(text, uuid, text, uuid, text, text, text, text, text, text, numeric)",
    "checkout_fingerprint(uuid, text, uuid, text, text, text, text, text, text, numeric, jsonb)",
    "checkout_lines_of_order(uuid)",
    "checkout_lines_of_holds(uuid[])",
    "text_array_longest(text[])",
)
TRIGGER_FUNCTIONS = (
    "venue_seats_within_ticket_types()",
    "ticket_type_within_section_seats()",
)  # dropped before FUNCTION_SIGNATURES, which they call
TRIGGERS = (
    ("ticket_types_within_section_seats", "ticket_types"),
    ("venue_seats_within_ticket_types_insert", "venue_seats"),
    ("venue_seats_within_ticket_types_update", "venue_seats"),
    ("venue_seats_within_ticket_types_delete", "venue_seats"),
)


def _limits() -> list[tuple[str, str, str]]:
    """(table, constraint name, expression) of every length limit in LIMITS."""
    found = []
    for line in LIMITS.strip().splitlines():
        table, column, kind, max_length, *items = line.split()
        if kind == "text":
            expression = f"char_length({column}) <= {max_length}"
        elif kind == "ascii":
            expression = f"char_length({column}) <= {max_length} AND {column} ~ '^[!-~]*$'"
        elif kind == "json":
            expression = f"octet_length(({column})::text) <= {max_length}"
        elif kind == "list":
            expression = (
                f"cardinality({column}) <= {items[0]}"
                f" AND text_array_longest({column}) <= {max_length}"
            )
        else:
            raise ValueError(f"unknown limit kind {kind!r}")
        found.append((table, f"ck_{table}_{column}_length", expression))
    return found


def _by_table(checks: Sequence[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, name, expression in checks:
        tables.setdefault(table, []).append((name, expression))
    return tables


def _app_role() -> str:
    # As migration 0003 reads it (migrations must not change with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _shipped_checkout_place() -> str:
    """0004's checkout_place as shipped, as CREATE OR REPLACE (for the downgrade)."""
    path = Path(__file__).with_name("0004_checkout_functions.py")
    spec = importlib.util.spec_from_file_location("_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = re.search(
        r"CREATE FUNCTION checkout_place\(.*?\nEND \$\$;", module.FUNCTIONS, flags=re.DOTALL
    )
    assert found is not None
    return found.group(0).replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    for table, column, definition in COLUMNS:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    for statement in BACKFILL:
        op.execute(statement)
    # The new functions first: the replaced checkout_place calls them.
    op.execute(sa.text(FUNCTIONS.replace("{schema}", schema)))
    op.execute(sa.text(CHECKOUT_PLACE))
    # One ALTER TABLE per table: one lock, no scan (NOT VALID); validated after commit.
    for table, checks in _by_table([*_limits(), *CHECKS]).items():
        clauses = ", ".join(
            f"ADD CONSTRAINT {name} CHECK ({expression}) NOT VALID" for name, expression in checks
        )
        op.execute(f"ALTER TABLE {table} {clauses}")
    role = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        ident = _quote(conn, role)
        for signature in FUNCTION_SIGNATURES:
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {ident}")


def downgrade() -> None:
    for table, checks in _by_table([*_limits(), *CHECKS]).items():
        clauses = ", ".join(f"DROP CONSTRAINT IF EXISTS {name}" for name, _ in checks)
        op.execute(f"ALTER TABLE {table} {clauses}")
    for trigger, table in TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for signature in TRIGGER_FUNCTIONS:
        op.execute(f"DROP FUNCTION {signature}")
    op.execute(sa.text(_shipped_checkout_place()))
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")
    for table, column, _ in reversed(COLUMNS):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
