"""The transactional outbox and signed webhooks (issue 16).

- `domain_events.sequence`: an always-generated identity, the fan-out's order (events of
  one aggregate are written by transactions that lock the aggregate's row one after the
  other, so a later event of an aggregate has a larger number). A partial index finds the
  pending ones in that order.
- Domain events written by the database, in the transaction of the change, so an event
  exists exactly when its change committed, whoever wrote it (the PL/pgSQL checkout of
  migration 0004/0010, the Python checkout, the box office, jobs, the command line):
  `outbox_emit(...)` (SECURITY DEFINER: the outbox is admin-only under row-level
  security, and a seller or organizer must still emit; it refuses a caller who is neither
  a signed-in person nor the owner) and triggers calling it:
  * orders: a DEFERRABLE INITIALLY DEFERRED constraint trigger; at commit it reads the
    order as committed and emits `order.placed` once (idempotency key per order) when the
    order is completed, `order.cancelled` once when cancelled;
  * order_refunds: deferred, one `order.refunded` per order and transaction;
  * events: `event.published` / `event.postponed` / `event.cancelled` on a status change;
  * ticket_types: `ticket_type.sold_out` when remaining capacity reaches 0;
  * sponsorship_assets: `sponsorship_asset.approved`;
  * data_subject_requests: `data_request.completed` (ids and type only: never the
    subject's e-mail).
- webhooks: the signing secret sealed with Fernet in Python (core/webhooks/secrets.py)
  under the registered key `webhook_secret` (`secret_sealed`, `secret_key_id`), the
  previous secret kept for a rotation overlap (`previous_secret_sealed`,
  `previous_secret_key_id`, `previous_secret_expires_at`), failure tracking
  (`failing_since`, `disabled_at`, `disabled_reason`). The plain `secret_key` column must
  stay empty (a CHECK): existing rows with a plain secret (the demo's made-up ones) lose it
  and are disabled with a reason, so nothing is ever sent signed by a known secret. (The
  first sealing registers version 1 of `webhook_secret` as env:FASHIONISTAS_WEBHOOK_KEY_V1;
  core/webhooks/secrets.py.) Admins see and
  manage every endpoint (policy `webhooks_admin`), owners their own (0003's
  `webhooks_own`). The audit trigger masks the sealed secrets too.
- webhook_delivery_logs: one row per (domain event, endpoint) (unique with created_at,
  which the fan-out sets to the event's time: a partitioned table's unique keys must hold
  the partition column), the Standard Webhooks message id (`message_id`, `msg_…`, the same
  on every retry), the aggregate and event sequence (order per aggregate per endpoint),
  the lease (`locked_by`, `locked_until`), the last attempt's duration and every attempt's
  outcome (`attempts`, capped bodies). Demo rows get a message id.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The webhooks audit trigger's (key, masked) before and after.
AUDIT_BEFORE = ("id", "secret_key,headers")
AUDIT_AFTER = ("id", "secret_key,headers,secret_sealed,previous_secret_sealed")
# The subject guard's (0014) arguments on webhooks before and after (the registry lists the
# sealed secrets as the webhook's secrets).
GUARD_BEFORE = ("user_id", "", "name,description,url,secret_key,headers", "")
GUARD_AFTER = (
    "user_id",
    "",
    "name,description,url,secret_key,headers,secret_sealed,previous_secret_sealed",
    "",
)
# As 0016 names them: a guard this migration installs again (tests/test_gdpr_registry.py).
GUARDED_AGAIN: tuple[tuple[str, str, str, str, str], ...] = (("webhooks", *GUARD_AFTER),)
PLAINTEXT_DISABLED = (
    "Its signing secret was stored in plain text before migration 0017 and was removed;"
    " rotate the secret and enable the endpoint again."
)

FUNCTIONS = r"""
CREATE FUNCTION outbox_emit(p_aggregate_type text, p_aggregate_id text, p_event_type text,
                            p_data jsonb, p_idempotency_key text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  new_id uuid;
BEGIN
  -- Triggers run as the definer (session_user is still the connection's role).
  IF app_current_user_id() IS NULL AND session_user <> current_user
     AND pg_trigger_depth() = 0 THEN
    RAISE EXCEPTION 'only a signed-in person or the owner emits domain events'
      USING ERRCODE = '42501';
  END IF;
  INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, event_data, metadata,
                             idempotency_key, source_system, correlation_id)
  VALUES (p_aggregate_type, p_aggregate_id, p_event_type, p_data,
          jsonb_strip_nulls(jsonb_build_object(
            'actor_id', app_current_user_id(),
            'user_agent', nullif(current_setting('app.user_agent', true), ''))),
          coalesce(p_idempotency_key,
                   p_event_type || ':' || p_aggregate_id || ':' || gen_random_uuid()),
          'core', pg_current_xact_id()::text)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO new_id;
  RETURN new_id;
END $$;

CREATE FUNCTION outbox_order_payload(p_order uuid) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = @schema@, pg_temp AS $$
  SELECT jsonb_build_object(
    'order_id', o.id, 'order_number', o.order_number, 'event_id', o.event_id,
    'status', o.status, 'currency', o.currency, 'subtotal', o.subtotal,
    'discount_amount', o.discount_amount, 'tax_amount', o.tax_amount,
    'total_amount', o.total_amount, 'payment_method', o.payment_method,
    'completed_at', o.completed_at, 'cancelled_at', o.cancelled_at,
    'refunded_at', o.refunded_at,
    'items', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'order_item_id', i.id, 'ticket_type_id', i.ticket_type_id, 'quantity', i.quantity,
        'unit_price', i.unit_price, 'final_price', i.final_price,
        'refunded_quantity', i.refunded_quantity) ORDER BY i.created_at, i.id)
      FROM order_items i WHERE i.order_id = o.id), '[]'::jsonb))
  FROM orders o WHERE o.id = p_order
$$;

-- At commit: the order as committed. Both checkout paths insert the order and then write
-- its items (and may update its status), so only a deferred trigger sees the whole order.
CREATE FUNCTION outbox_order_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  st text;
BEGIN
  SELECT status INTO st FROM orders WHERE id = NEW.id;
  IF st = 'completed' THEN
    PERFORM outbox_emit('order', NEW.id::text, 'order.placed', outbox_order_payload(NEW.id),
                        'order.placed:' || NEW.id);
  ELSIF st = 'cancelled' THEN
    PERFORM outbox_emit('order', NEW.id::text, 'order.cancelled',
                        outbox_order_payload(NEW.id), 'order.cancelled:' || NEW.id);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION outbox_order_refunded() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
DECLARE
  payload jsonb;
BEGIN
  -- One event per order and transaction, however many items the refund touched.
  payload := outbox_order_payload(NEW.order_id) || jsonb_build_object(
    'refunded_amount', (SELECT sum(r.amount) FROM order_refunds r
                         WHERE r.order_id = NEW.order_id AND r.xmin::text = (pg_current_xact_id()::xid)::text),
    'refunded_total', (SELECT sum(r.amount) FROM order_refunds r WHERE r.order_id = NEW.order_id),
    'refund_ids', (SELECT jsonb_agg(r.id ORDER BY r.created_at, r.id) FROM order_refunds r
                    WHERE r.order_id = NEW.order_id AND r.xmin::text = (pg_current_xact_id()::xid)::text));
  PERFORM outbox_emit('order', NEW.order_id::text, 'order.refunded', payload,
                      'order.refunded:' || NEW.order_id || ':' || pg_current_xact_id());
  RETURN NULL;
END $$;

CREATE FUNCTION outbox_event_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  IF NEW.status IN ('published', 'postponed', 'cancelled') THEN
    PERFORM outbox_emit('event', NEW.id::text, 'event.' || NEW.status,
      jsonb_build_object('event_id', NEW.id, 'title', NEW.title, 'slug', NEW.slug,
                         'status', NEW.status, 'previous_status', OLD.status,
                         'start_date', NEW.start_date, 'end_date', NEW.end_date,
                         'venue_id', NEW.venue_id),
      'event.' || NEW.status || ':' || NEW.id || ':' || pg_current_xact_id());
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION outbox_ticket_type_sold_out() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM outbox_emit('ticket_type', NEW.id::text, 'ticket_type.sold_out',
    jsonb_build_object('ticket_type_id', NEW.id, 'event_id', NEW.event_id, 'name', NEW.name,
                       'total_capacity', NEW.total_capacity, 'remaining_capacity', 0),
    'ticket_type.sold_out:' || NEW.id || ':' || pg_current_xact_id());
  RETURN NULL;
END $$;

CREATE FUNCTION outbox_asset_approved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  PERFORM outbox_emit('sponsorship_asset', NEW.id::text, 'sponsorship_asset.approved',
    jsonb_build_object('asset_id', NEW.id, 'sponsorship_id', NEW.sponsorship_id,
                       'name', NEW.name, 'file_type', NEW.file_type, 'status', NEW.status,
                       'reviewed_at', NEW.reviewed_at),
    'sponsorship_asset.approved:' || NEW.id || ':' || pg_current_xact_id());
  RETURN NULL;
END $$;

CREATE FUNCTION outbox_data_request_completed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = @schema@, pg_temp AS $$
BEGIN
  -- Never the subject's e-mail or name: a subscriber learns that a request was done.
  PERFORM outbox_emit('data_request', NEW.id::text, 'data_request.completed',
    jsonb_build_object('data_request_id', NEW.id, 'request_type', NEW.request_type,
                       'status', NEW.status, 'completed_at', NEW.completed_at),
    'data_request.completed:' || NEW.id || ':' || pg_current_xact_id());
  RETURN NULL;
END $$;
"""

TRIGGERS = r"""
CREATE CONSTRAINT TRIGGER outbox_order AFTER INSERT OR UPDATE OF status ON orders
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outbox_order_changed();
CREATE CONSTRAINT TRIGGER outbox_order_refund AFTER INSERT ON order_refunds
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outbox_order_refunded();
CREATE TRIGGER outbox_event_status AFTER UPDATE OF status ON events
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION outbox_event_status();
CREATE TRIGGER outbox_ticket_type_sold_out AFTER UPDATE OF remaining_capacity ON ticket_types
  FOR EACH ROW WHEN (OLD.remaining_capacity > 0 AND NEW.remaining_capacity = 0)
  EXECUTE FUNCTION outbox_ticket_type_sold_out();
CREATE TRIGGER outbox_asset_approved AFTER UPDATE OF status ON sponsorship_assets
  FOR EACH ROW WHEN (NEW.status = 'approved' AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION outbox_asset_approved();
CREATE TRIGGER outbox_data_request_completed AFTER UPDATE OF status ON data_subject_requests
  FOR EACH ROW WHEN (NEW.status = 'completed' AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION outbox_data_request_completed();
"""

DROP_TRIGGERS = (
    ("outbox_order", "orders"),
    ("outbox_order_refund", "order_refunds"),
    ("outbox_event_status", "events"),
    ("outbox_ticket_type_sold_out", "ticket_types"),
    ("outbox_asset_approved", "sponsorship_assets"),
    ("outbox_data_request_completed", "data_subject_requests"),
)
FUNCTION_SIGNATURES = (
    "outbox_emit(text, text, text, jsonb, text)",
    "outbox_order_payload(uuid)",
    "outbox_order_changed()",
    "outbox_order_refunded()",
    "outbox_event_status()",
    "outbox_ticket_type_sold_out()",
    "outbox_asset_approved()",
    "outbox_data_request_completed()",
)

TS = sa.TIMESTAMP(timezone=True)
# A new delivery's Standard Webhooks id when its writer names none.
MESSAGE_ID = "('msg_'::text || replace((gen_random_uuid())::text, '-'::text, ''::text))"


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.execute(sa.text("SELECT quote_ident(:n)"), {"n": name}).scalar_one()


def _app_role() -> str:
    # As migration 0003 reads it (migrations must not change with the application code).
    return os.environ.get("FASHIONISTAS_APP_ROLE") or "fashionistas_app"


def _check(table: str, name: str, sql: str) -> None:
    op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, sql)


def _audit_trigger(args: tuple[str, str]) -> None:
    quoted = ", ".join(f"'{a}'" for a in args)
    op.execute("DROP TRIGGER audit_trail ON webhooks")
    op.execute(
        "CREATE TRIGGER audit_trail AFTER INSERT OR UPDATE OR DELETE ON webhooks"
        f" FOR EACH ROW EXECUTE FUNCTION audit_row_change({quoted})"
    )


def _guard(args: tuple[str, str, str, str]) -> None:
    quoted = ", ".join(f"'{a}'" for a in args)
    watched = [c for part in args for c in part.split(",") if c]
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
    op.execute("DROP TRIGGER gdpr_subject_guard ON webhooks")
    op.execute("DROP TRIGGER gdpr_subject_guard_update ON webhooks")
    op.execute(
        "CREATE TRIGGER gdpr_subject_guard BEFORE INSERT ON webhooks"
        f" FOR EACH ROW EXECUTE FUNCTION gdpr_subject_guard({quoted})"
    )
    op.execute(
        "CREATE TRIGGER gdpr_subject_guard_update BEFORE UPDATE ON webhooks"
        f" FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION gdpr_subject_guard({quoted})"
    )


def _domain_events() -> None:
    op.add_column(
        "domain_events",
        sa.Column("sequence", sa.BigInteger(), sa.Identity(always=True), nullable=False),
    )
    op.create_index(
        "idx_domain_events_pending_sequence",
        "domain_events",
        ["sequence"],
        postgresql_where=sa.text("processing_status = 'pending'"),
    )


def _webhooks() -> None:
    add = op.add_column
    add("webhooks", sa.Column("secret_sealed", sa.Text()))
    add("webhooks", sa.Column("secret_key_id", sa.UUID()))
    add("webhooks", sa.Column("previous_secret_sealed", sa.Text()))
    add("webhooks", sa.Column("previous_secret_key_id", sa.UUID()))
    add("webhooks", sa.Column("previous_secret_expires_at", TS))
    add("webhooks", sa.Column("failing_since", TS))
    add("webhooks", sa.Column("disabled_at", TS))
    add("webhooks", sa.Column("disabled_reason", sa.Text()))
    for column in ("secret_key_id", "previous_secret_key_id"):
        op.create_foreign_key(
            op.f(f"fk_webhooks_{column}_encryption_keys"),
            "webhooks",
            "encryption_keys",
            [column],
            ["id"],
            ondelete="RESTRICT",
        )
    for column in ("secret_sealed", "previous_secret_sealed"):
        _check(
            "webhooks",
            f"{column}_length",
            f"char_length({column}) <= 1024 AND {column} ~ '^[!-~]*$'",
        )
    _check("webhooks", "disabled_reason_length", "char_length(disabled_reason) <= 1000")
    op.execute(
        sa.text(
            "UPDATE webhooks SET secret_key = NULL, is_active = false,"
            " disabled_at = coalesce(disabled_at, now()), disabled_reason = :r"
            " WHERE secret_key IS NOT NULL"
        ).bindparams(r=PLAINTEXT_DISABLED)
    )
    _check("webhooks", "no_plaintext_secret", "secret_key IS NULL")
    _check(
        "webhooks",
        "previous_secret_expires",
        "(previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL)",
    )
    op.execute(
        "CREATE POLICY webhooks_admin ON webhooks FOR ALL"
        " USING ((SELECT app_has_role('admin'))) WITH CHECK ((SELECT app_has_role('admin')))"
    )
    _audit_trigger(AUDIT_AFTER)
    _guard(GUARD_AFTER)


def _deliveries() -> None:
    t = "webhook_delivery_logs"
    add = op.add_column
    add(t, sa.Column("domain_event_id", sa.UUID()))
    add(t, sa.Column("message_id", sa.Text()))
    add(t, sa.Column("aggregate_id", sa.Text()))
    add(t, sa.Column("event_sequence", sa.BigInteger()))
    add(t, sa.Column("locked_by", sa.Text()))
    add(t, sa.Column("locked_until", TS))
    add(t, sa.Column("duration_ms", sa.Integer()))
    add(
        t,
        sa.Column(
            "attempts",
            sa.dialects.postgresql.JSONB(),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.execute(f"UPDATE {t} SET message_id = 'msg_' || replace(id::text, '-', '')")
    op.alter_column(t, "message_id", nullable=False, server_default=sa.text(MESSAGE_ID))
    _check(t, "message_id_length", "char_length(message_id) <= 64 AND message_id ~ '^[!-~]*$'")
    _check(t, "aggregate_id_length", "char_length(aggregate_id) <= 200")
    _check(t, "locked_by_length", "char_length(locked_by) <= 200")
    _check(t, "attempts_length", "octet_length((attempts)::text) <= 1048576")
    _check(t, "duration_ms_non_negative", "duration_ms >= 0")
    op.create_index(
        "uq_webhook_delivery_logs_event_endpoint",
        t,
        ["domain_event_id", "webhook_id", "created_at"],
        unique=True,
    )
    op.create_index(
        "uq_webhook_delivery_logs_message_id", t, ["message_id", "created_at"], unique=True
    )
    # The dispatcher's claim: due deliveries, and the earlier open one of an aggregate.
    op.create_index(
        "idx_webhook_delivery_logs_due",
        t,
        ["next_retry_at"],
        postgresql_where=sa.text("status IN ('pending', 'retry')"),
    )
    op.create_index(
        "idx_webhook_delivery_logs_open_aggregate",
        t,
        ["webhook_id", "aggregate_id", "event_sequence"],
        postgresql_where=sa.text("status IN ('pending', 'retry')"),
    )


def upgrade() -> None:
    conn = op.get_bind()
    schema = _quote(conn, conn.execute(sa.text("SELECT current_schema()")).scalar_one())
    _domain_events()
    _webhooks()
    _deliveries()
    op.execute(sa.text(FUNCTIONS.replace("@schema@", schema)))
    op.execute(sa.text(TRIGGERS))
    role = _app_role()
    app = None
    if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
        app = _quote(conn, role)
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")
    if app is not None:
        op.execute(f"GRANT EXECUTE ON FUNCTION outbox_emit(text, text, text, jsonb, text) TO {app}")


def downgrade() -> None:
    for trigger, table in DROP_TRIGGERS:
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for signature in FUNCTION_SIGNATURES:
        op.execute(f"DROP FUNCTION {signature}")
    t = "webhook_delivery_logs"
    for index in (
        "idx_webhook_delivery_logs_open_aggregate",
        "idx_webhook_delivery_logs_due",
        "uq_webhook_delivery_logs_message_id",
        "uq_webhook_delivery_logs_event_endpoint",
    ):
        op.drop_index(index, table_name=t)
    for column in (
        "attempts",
        "duration_ms",
        "locked_until",
        "locked_by",
        "event_sequence",
        "aggregate_id",
        "message_id",
        "domain_event_id",
    ):
        op.drop_column(t, column)
    _audit_trigger(AUDIT_BEFORE)
    _guard(GUARD_BEFORE)
    op.execute("DROP POLICY webhooks_admin ON webhooks")
    op.drop_constraint(op.f("ck_webhooks_no_plaintext_secret"), "webhooks", type_="check")
    for column in (
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "previous_secret_expires_at",
        "previous_secret_key_id",
        "previous_secret_sealed",
        "secret_key_id",
        "secret_sealed",
    ):
        op.drop_column("webhooks", column)
    op.drop_index("idx_domain_events_pending_sequence", table_name="domain_events")
    op.drop_column("domain_events", "sequence")
