"""Checkout functions: hold_tickets and place_order's write path, one call each.

- checkout_lock_key(bytea): the int4 of an advisory lock key (first 4 bytes of md5), the
  same as core.checkout.locking._key computes in Python.
- checkout_refuse(code, message, field): raises SQLSTATE FW001 with the domain error's
  code in DETAIL and its field in HINT; core/checkout/calls.py turns it into that error.
- checkout_hold(...): everything hold_tickets does inside its transaction.
- checkout_place(...): place_order for an order without a code: locks, checks, prices
  (no code: per-line subtotal and tax, half up to cents, as core/checkout/pricing.py),
  writes the order (pending), its items, the stock, the seats and deletes the holds.
  Given a payment reference (the box office, whose charge() only records), it checks the
  method as BoxOfficePayments.check does, writes the order completed at once and records
  the payment.
- checkout_record_payment(...): the payment of a provider charged after checkout_place.

All are SECURITY INVOKER (row-level security on events applies to the caller, as it did
to the statements they replace). `p_safe => false` is FASHIONISTAS_UNSAFE_CHECKOUT: no
inventory locks and a read-to-write window widened by 50 ms, for the tests' negative
controls (Python's pause was 5 ms, but its reads and writes were also several round
trips apart; here nothing else separates them, and buyers in 8 processes must overlap).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = r"""
CREATE FUNCTION checkout_lock_key(raw bytea) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ('x' || substr(md5(raw), 1, 8))::bit(32)::integer
$$;

CREATE FUNCTION checkout_refuse(code text, message text, field text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'FW001', MESSAGE = message, DETAIL = code,
    HINT = coalesce(field, '');
END $$;

CREATE FUNCTION checkout_hold(
  p_event uuid, p_session text, p_types uuid[], p_quantities integer[], p_seats uuid[],
  p_safe boolean DEFAULT true
) RETURNS TABLE (o_expires_at timestamptz, o_ticket_type_id uuid, o_quantity integer)
LANGUAGE plpgsql AS $$
DECLARE
  v_now timestamptz := now();
  v_status text;
  v_capacity integer;
  v_type_total bigint;
  v_seat_ids uuid[];
  v_seat_types uuid[];
  v_n integer;
  v_typed integer;
  v_types uuid[];
  v_qtys integer[];
  v_expired uuid[];
  v_already bigint;
  v_free bigint;
  v_committed bigint;
  v_taken text;
  v_minutes integer;
  v_expires timestamptz;
  v_hold uuid;
  v_key integer;
  r record;
BEGIN
  SELECT e.status, e.capacity,
         (SELECT coalesce(sum(tt.total_capacity), 0) FROM ticket_types tt
           WHERE tt.event_id = e.id)
    INTO v_status, v_capacity, v_type_total
    FROM events e WHERE e.id = p_event;
  IF v_status IS NULL THEN
    PERFORM checkout_refuse('not_found', 'That event does not exist.', 'event_id');
  END IF;
  IF v_status <> 'published' THEN
    PERFORM checkout_refuse('sale_closed',
      format('Tickets are not on sale: the event is %s.', v_status));
  END IF;

  -- Each seat's ticket type: the event's active type for the seat's section.
  IF coalesce(cardinality(p_seats), 0) > 0 THEN
    SELECT count(*), count(x.tt), array_agg(x.id ORDER BY x.id), array_agg(x.tt ORDER BY x.id)
      INTO v_n, v_typed, v_seat_ids, v_seat_types
      FROM (SELECT vs.id,
                   (SELECT tt.id FROM ticket_types tt
                     WHERE tt.event_id = p_event AND tt.seating_section_id = vs.section_id
                       AND tt.is_active ORDER BY tt.base_price, tt.id LIMIT 1) AS tt
              FROM venue_seats vs WHERE vs.id = ANY(p_seats)) x;
    IF v_n <> cardinality(p_seats) THEN
      PERFORM checkout_refuse('not_found', 'A chosen seat does not exist.', 'seat_ids');
    END IF;
    IF v_typed < v_n THEN
      PERFORM checkout_refuse('invalid',
        'No ticket type sells seats in that section for this event.', 'seat_ids');
    END IF;
  END IF;

  SELECT array_agg(w.t ORDER BY w.t), array_agg(w.q ORDER BY w.t) INTO v_types, v_qtys
    FROM (SELECT u.t, sum(u.q)::integer AS q
            FROM (SELECT a.t, a.q FROM unnest(p_types, p_quantities) AS a(t, q)
                  UNION ALL SELECT s.t, 1 FROM unnest(v_seat_types) AS s(t)) u
           GROUP BY u.t) w;

  -- A session that chooses again after its hold ran out starts clean.
  IF p_safe THEN
    SELECT array_agg(l.id ORDER BY l.id) INTO v_expired
      FROM (SELECT id FROM ticket_inventory_locks
             WHERE order_id IS NULL AND event_id = p_event AND session_id = p_session
               AND expires_at <= now() ORDER BY id FOR UPDATE) l;
  ELSE
    SELECT array_agg(id ORDER BY id) INTO v_expired FROM ticket_inventory_locks
     WHERE order_id IS NULL AND event_id = p_event AND session_id = p_session
       AND expires_at <= now();
  END IF;
  IF v_expired IS NOT NULL THEN
    UPDATE event_seats SET status = 'available', hold_id = NULL, held_until = NULL
     WHERE status = 'held' AND hold_id = ANY(v_expired);
    DELETE FROM ticket_inventory_locks WHERE id = ANY(v_expired);
  END IF;

  -- The event lock only when its own capacity binds (see lock_event_capacity).
  IF v_capacity IS NULL OR v_capacity >= v_type_total THEN
    v_capacity := NULL;
  ELSIF p_safe THEN
    PERFORM pg_advisory_xact_lock(2, checkout_lock_key(uuid_send(p_event)));
  END IF;
  IF p_safe THEN
    -- Ticket types in key order (locking.lock_all).
    FOR v_key IN SELECT DISTINCT checkout_lock_key(uuid_send(t)) FROM unnest(v_types) t
                  ORDER BY 1 LOOP
      PERFORM pg_advisory_xact_lock(3, v_key);
    END LOOP;
  END IF;

  SELECT count(*) INTO v_n FROM ticket_types WHERE event_id = p_event AND id = ANY(v_types);
  IF v_n <> cardinality(v_types) THEN
    PERFORM checkout_refuse('not_found', 'That ticket type does not belong to this event.',
      'ticket_type_id');
  END IF;
  FOR r IN SELECT tt.id, tt.name, tt.remaining_capacity, tt.is_active, tt.sale_start_date,
                  tt.sale_end_date, tt.max_quantity_per_order, w.q
             FROM unnest(v_types, v_qtys) AS w(t, q) JOIN ticket_types tt ON tt.id = w.t
            ORDER BY tt.id LOOP
    IF NOT r.is_active OR NOT (r.sale_start_date <= v_now AND v_now < r.sale_end_date) THEN
      PERFORM checkout_refuse('sale_closed', format('%s is not on sale now.', r.name),
        'ticket_type_id');
    END IF;
    IF r.max_quantity_per_order IS NOT NULL THEN
      -- Several holds of one session become one order, so they share the limit.
      SELECT coalesce(sum(quantity), 0) INTO v_already FROM ticket_inventory_locks
       WHERE ticket_type_id = r.id AND session_id = p_session AND expires_at > now()
         AND order_id IS NULL;
      IF r.q + v_already > r.max_quantity_per_order THEN
        PERFORM checkout_refuse('limit_exceeded',
          format('At most %s × %s per order%s.', r.max_quantity_per_order, r.name,
                 CASE WHEN v_already > 0 THEN format(' (you already hold %s)', v_already)
                      ELSE '' END),
          'quantities');
      END IF;
    END IF;
    SELECT r.remaining_capacity - coalesce(sum(quantity), 0) INTO v_free
      FROM ticket_inventory_locks
     WHERE ticket_type_id = r.id AND expires_at > now() AND order_id IS NULL;
    IF r.q > v_free THEN
      PERFORM checkout_refuse('sold_out',
        format('%s: %s.', r.name,
               CASE WHEN v_free > 0 THEN format('only %s left', v_free) ELSE 'sold out' END),
        'quantities');
    END IF;
  END LOOP;
  IF v_capacity IS NOT NULL THEN
    SELECT coalesce(sum(tt.total_capacity - tt.remaining_capacity), 0)
           + coalesce((SELECT sum(quantity) FROM ticket_inventory_locks
                        WHERE event_id = p_event AND expires_at > now()
                          AND order_id IS NULL), 0)
      INTO v_committed FROM ticket_types tt WHERE tt.event_id = p_event;
    IF v_committed + (SELECT sum(q) FROM unnest(v_qtys) q) > v_capacity THEN
      PERFORM checkout_refuse('sold_out', 'The event is sold out.', 'quantities');
    END IF;
  END IF;

  IF v_seat_ids IS NOT NULL THEN
    IF p_safe THEN
      PERFORM 1 FROM event_seats es WHERE es.event_id = p_event AND es.seat_id = ANY(v_seat_ids)
        ORDER BY es.seat_id FOR UPDATE;
    END IF;
    SELECT count(*),
           string_agg(coalesce(vs.row_name, '') || vs.seat_number, ', ' ORDER BY es.seat_id)
             FILTER (WHERE es.status IN ('sold', 'blocked')
                     OR (es.status = 'held' AND es.held_until > now()))
      INTO v_n, v_taken
      FROM event_seats es JOIN venue_seats vs ON vs.id = es.seat_id
     WHERE es.event_id = p_event AND es.seat_id = ANY(v_seat_ids);
    IF v_n <> cardinality(v_seat_ids) THEN
      PERFORM checkout_refuse('not_found', 'A chosen seat is not part of this event''s venue.',
        'seat_ids');
    END IF;
    IF v_taken IS NOT NULL THEN
      PERFORM checkout_refuse('seat_taken', format('Seat %s is no longer available.', v_taken),
        'seat_ids');
    END IF;
  END IF;

  IF NOT p_safe THEN
    PERFORM pg_sleep(0.05);
  END IF;
  SELECT trunc((value #>> '{}')::numeric)::integer INTO v_minutes
    FROM system_configurations WHERE category = 'checkout' AND key = 'hold_minutes';
  v_expires := v_now + make_interval(mins => coalesce(v_minutes, 15));
  FOR r IN SELECT w.t, w.q,
                  (SELECT array_agg(s.id ORDER BY s.id) FROM unnest(v_seat_ids, v_seat_types)
                     AS s(id, t) WHERE s.t = w.t) AS seats
             FROM unnest(v_types, v_qtys) AS w(t, q) ORDER BY w.t LOOP
    INSERT INTO ticket_inventory_locks
           (ticket_type_id, event_id, quantity, session_id, expires_at, seat_ids)
    VALUES (r.t, p_event, r.q, p_session, v_expires, r.seats) RETURNING id INTO v_hold;
    IF r.seats IS NOT NULL THEN
      UPDATE event_seats SET status = 'held', hold_id = v_hold, held_until = v_expires,
             ticket_type_id = r.t, order_id = NULL
       WHERE event_id = p_event AND seat_id = ANY(r.seats);
    END IF;
    o_expires_at := v_expires;
    o_ticket_type_id := r.t;
    o_quantity := r.q;
    RETURN NEXT;
  END LOOP;
END $$;

CREATE FUNCTION checkout_place(
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
  RETURN QUERY SELECT o.id, o.order_number, o.status, o.subtotal, o.discount_amount,
                      o.tax_amount, o.total_amount, true
                 FROM orders o WHERE o.idempotency_key = p_key;
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
  INSERT INTO orders (order_number, user_id, event_id, status, subtotal, discount_amount,
                      tax_amount, total_amount, currency, idempotency_key, billing_email,
                      billing_name, billing_phone, notes, ip_address, user_agent,
                      completed_at, payment_method, payment_intent_id)
  VALUES ('FW-' || to_char(now(), 'YYYY') || '-'
            || lpad(nextval('order_number_seq')::text, 7, '0'),
          p_user, p_event, CASE WHEN v_paid THEN 'completed' ELSE 'pending' END,
          v_subtotal, 0, v_tax, v_total, 'USD', p_key, p_email, p_name, p_phone, p_notes,
          p_ip, p_ua, CASE WHEN v_paid THEN now() END,
          CASE WHEN v_paid THEN p_pay_method END, p_pay_reference)
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

CREATE FUNCTION checkout_record_payment(
  p_order uuid, p_provider text, p_method text, p_amount numeric, p_reference text
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO order_payments (order_id, provider, method, amount, currency, reference)
  VALUES (p_order, p_provider, p_method, p_amount, 'USD', p_reference);
  UPDATE orders SET status = 'completed', completed_at = now(), payment_method = p_method,
         payment_intent_id = p_reference
   WHERE id = p_order;
END $$;
"""

# Dropped in reverse order of dependence.
FUNCTION_SIGNATURES = (
    "checkout_place(text, uuid, text, numeric, uuid, text, text, text, text, text, text,"
    " text, text, text, text[], text[], boolean)",
    "checkout_record_payment(uuid, text, text, numeric, text)",
    "checkout_hold(uuid, text, uuid[], integer[], uuid[], boolean)",
    "checkout_refuse(text, text, text)",
    "checkout_lock_key(bytea)",
)


def _app_role() -> str:
    # As 0003 (and core.config) read it.
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def upgrade() -> None:
    conn = op.get_bind()
    op.execute(sa.text(FUNCTIONS))
    role = _app_role()
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        ident = conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": role}).scalar_one()
        for signature in FUNCTION_SIGNATURES:
            op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {ident}")


def downgrade() -> None:
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")
