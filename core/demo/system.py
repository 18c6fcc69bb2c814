"""API keys and their usage, webhooks and deliveries, API registries, the domain-event
outbox, background jobs and runtime settings."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from psycopg.types.json import Jsonb

from core.demo.clock import DAY, HOUR, MINUTE, ts_or_none, ts_text
from core.demo.ids import hex_token, new_id
from core.demo.money import money
from core.demo.people import permission_names
from core.demo.vocab import USER_AGENTS
from core.demo.world import World
from core.demo.writer import TableLoad

# (path, method, function, required permission or None when public, deprecated)
ENDPOINTS = (
    ("/api/v1/events", "GET", "list_events", None, False),
    ("/api/v1/events", "POST", "create_event", "events:write", False),
    ("/api/v1/events/{id}", "GET", "get_event", None, False),
    ("/api/v1/events/{id}", "PATCH", "update_event", "events:write", False),
    ("/api/v1/events/{id}", "DELETE", "delete_event", "events:delete", False),
    ("/api/v1/events/{id}/ticket-types", "GET", "list_ticket_types", None, False),
    ("/api/v1/events/{id}/seats", "GET", "seat_map", None, False),
    ("/api/v1/orders", "GET", "list_orders", "orders:read", False),
    ("/api/v1/orders", "POST", "create_order", "orders:write", False),
    ("/api/v1/orders/{id}", "GET", "get_order", "orders:read", False),
    ("/api/v1/orders/{id}/refund", "POST", "refund_order", "orders:refund", False),
    ("/api/v1/discount-codes/validate", "POST", "validate_discount_code", None, False),
    ("/api/v1/designers", "GET", "list_designers", None, False),
    ("/api/v1/designers/{id}", "GET", "get_designer", None, False),
    ("/api/v1/collections", "GET", "list_collections", None, False),
    ("/api/v1/sponsors", "GET", "list_sponsors", None, False),
    ("/api/v1/analytics/campaigns", "GET", "campaign_report", "analytics:read", False),
    ("/api/v1/analytics/sponsors", "GET", "sponsor_report", "analytics:read", False),
    ("/api/v1/compliance/requests", "POST", "submit_data_subject_request", None, False),
    ("/api/v1/compliance/requests", "GET", "list_data_subject_requests", "compliance:read", False),
    ("/api/v1/users/me", "GET", "current_user", "events:read", False),
    ("/api/v0/events", "GET", "list_events_v0", None, True),
)
WEBHOOK_EVENTS = (
    "order.completed", "order.refunded", "event.published", "event.cancelled",
    "ticket.checked_in", "sponsor.asset_approved",
)  # fmt: skip
DEMO_DISABLED = "A demo endpoint with a made-up address: it is never sent anything."
STATUS_CODES = ((200, 80), (201, 6), (204, 3), (400, 3), (401, 2), (404, 3), (429, 2), (500, 1))
JOB_TYPES = (
    "send_email_campaign", "recalculate_segment", "export_user_data", "refresh_analytics",
    "ensure_partitions", "expire_holds", "generate_sponsor_report",
)  # fmt: skip
SCHEMAS = {
    "events": "type Event { id: ID! title: String! slug: String! startDate: DateTime! venue: Venue "
    "ticketTypes: [TicketType!]! }\ntype Query { events(first: Int, after: String): [Event!]! }",
    "orders": "type Order { id: ID! orderNumber: String! status: OrderStatus! totalAmount: Money! "
    "items: [OrderItem!]! }\ntype Query { order(id: ID!): Order }",
    "showcase": "type Designer { id: ID! name: String! collections: [Collection!]! }\n"
    "type Collection { id: ID! name: String! season: Season year: Int }",
}


# Runtime settings: (category, key, value, value type, description).
SETTINGS: tuple[tuple[str, str, object, str, str], ...] = (
    ("checkout", "hold_minutes", 15, "number", "Minutes a seat or ticket hold lasts."),
    ("checkout", "max_tickets_per_order", 10, "number", "Upper limit per order."),
    ("checkout", "currency", "USD", "string", "Currency of prices and orders."),
    ("checkout", "walk_in_sales", True, "boolean", "Box office may sell without an account."),
    ("checkout", "order_number_prefix", "FW", "string", "Prefix of order numbers."),
    ("compliance", "dsr_response_period", "P1M", "duration", "Time to answer a GDPR request."),
    ("compliance", "audit_retention", "P7Y", "duration", "How long audit entries are kept."),
    ("compliance", "order_retention", "P6Y", "duration", "Orders kept for tax purposes."),
    ("partitions", "months_ahead", 3, "number", "Monthly partitions made ahead of time."),
    ("email", "sender", {"name": "Fashionistas", "address": "news@fashionistas.example"}, "json",
     "From line of marketing e-mail."),
    ("email", "batch_size", 500, "number", "Messages per send batch."),
    ("security", "session_timeout", "PT8H", "duration", "Idle time before sign-out."),
    ("security", "sign_in_free_failures", 3, "number",
     "Wrong passwords from one address before sign-in slows down."),
    ("features", "seat_maps", True, "boolean", "Show seat maps in the box office."),
    ("features", "promo_codes", True, "boolean", "Accept marketing promo codes at checkout."),
    ("ui", "default_theme", "light", "string", "Dashboard colour theme."),
    ("analytics", "attribution_window_days", 30, "number", "Days a click counts for a sale."),
)  # fmt: skip
DEMO_SETTINGS = 3


def settings(world: World) -> list[tuple[str, str, object, str, str]]:
    """The runtime settings, plus which demo world this database holds (scale, seed, anchor)."""
    return [
        *SETTINGS,
        ("demo", "scale", world.scale.name, "string", "Demo data set loaded into this database."),
        ("demo", "seed", world.seed, "number", "Random seed of the demo data."),
        ("demo", "anchor_date", world.clock.anchor.isoformat(), "string",
         "Day the demo data's dates are relative to."),
    ]  # fmt: skip


def tables(world: World) -> Iterator[TableLoad]:
    """API keys and usage, webhooks and deliveries, registries, outbox, jobs, settings."""
    yield from _api(world)
    yield from _webhooks(world)
    yield from _registries(world)
    yield _domain_events(world)
    yield _jobs(world)
    yield _settings(world)
    yield _retention_settings(world)


def _api(world: World) -> Iterator[TableLoad]:
    rng, pools, clock = world.rng, world.pools, world.clock
    owners = (
        world.users_by_type["admin"]
        + world.users_by_type["organizer"]
        + world.users_by_type["sponsor"]
    )
    names = permission_names()
    keys = []
    for i in range(world.scale.api_keys):
        secret = hex_token(rng, 24)
        created = clock.t0 - rng.randint(30, 500) * DAY
        active = rng.random() < 0.85
        keys.append(
            (
                new_id(rng),
                f"Integration key {i + 1}",
                f"fsh_{secret[:6]}",
                hashlib.sha256(secret.encode()).hexdigest(),
                rng.choice(owners).id,
                Jsonb(sorted(rng.sample(names, 3))),
                rng.choice((100, 500, 1_000)),
                active,
                ts_text(clock.t0 + 365 * DAY) if active else ts_text(clock.t0 - 10 * DAY),
                ts_text(clock.t0 - rng.randint(1, 3_000) * MINUTE) if active else None,
                ts_text(created),
                ts_text(created),
            )
        )
    yield TableLoad(
        "api_keys",
        (
            "id", "name", "key_prefix", "key_hash", "user_id", "permissions", "rate_limit",
            "is_active", "expires_at", "last_used_at", "created_at", "updated_at",
        ),
        keys,
    )  # fmt: skip
    key_ids = [k[0] for k in keys]
    codes = [c for c, _ in STATUS_CODES]
    code_weights = [w for _, w in STATUS_CODES]
    start, span = clock.first_day * DAY, (clock.today - clock.first_day) * DAY

    def usage():
        for _ in range(world.scale.api_usage_logs):
            path, method, _, permission, _ = ENDPOINTS[rng.randrange(len(ENDPOINTS))]
            status = rng.choices(codes, code_weights)[0]
            yield (
                new_id(rng),
                rng.choice(key_ids) if permission or rng.random() < 0.3 else None,
                path.replace("{id}", hex_token(rng, 4)),
                method,
                status,
                int(15 + 400 * rng.random() ** 3),
                rng.randint(0, 2_000) if method in ("POST", "PATCH") else 0,
                rng.randint(200, 60_000) if status < 300 else rng.randint(80, 400),
                pools.ipv4[rng.randrange(len(pools.ipv4))],
                USER_AGENTS[rng.randrange(len(USER_AGENTS))],
                ts_text(start + rng.randrange(span)),
            )

    yield TableLoad(
        "api_usage_logs",
        (
            "id", "api_key_id", "endpoint", "method", "status_code", "response_time_ms",
            "request_size_bytes", "response_size_bytes", "ip_address", "user_agent", "created_at",
        ),
        usage(),
        world.scale.api_usage_logs,
    )  # fmt: skip


def _webhooks(world: World) -> Iterator[TableLoad]:
    rng, clock = world.rng, world.clock
    owners = world.users_by_type["admin"] + world.users_by_type["sponsor"]
    hooks = []
    for i in range(world.scale.webhooks):
        created = clock.t0 - rng.randint(30, 400) * DAY
        hook_id, owner = new_id(rng), rng.choice(owners).id
        events = sorted(rng.sample(WEBHOOK_EVENTS, rng.randint(1, 4)))
        # Never active and no secret (migration 0017): nothing may ever be sent to a
        # made-up URL. The active flag's and the secret's draws stay, so the rest of the
        # demo world is as it was.
        rng.random()
        hex_token(rng, 16)
        hooks.append(
            (
                hook_id,
                owner,
                f"Partner feed {i + 1}",
                "Pushes order and event changes to a partner system.",
                f"https://hooks.partner{i + 1}.example.com/fashionistas",
                events,
                False,
                None,
                Jsonb({"X-Partner-Id": f"partner-{i + 1}"}),
                ts_text(created),
                ts_text(created),
                ts_text(created),
                DEMO_DISABLED,
            )
        )
    yield TableLoad(
        "webhooks",
        ("id", "user_id", "name", "description", "url", "events", "is_active", "secret_key",
         "headers", "created_at", "updated_at", "disabled_at", "disabled_reason"),
        hooks,
    )  # fmt: skip
    start, span = clock.first_day * DAY, (clock.today - clock.first_day) * DAY
    sample = world.order_sample

    def deliveries():
        for _ in range(world.scale.webhook_deliveries):
            hook = rng.choice(hooks)
            event_type = rng.choice(hook[5])
            at = start + rng.randrange(span)
            order_id, number, _, total, _ = rng.choice(sample)
            recent = at > clock.t0 - DAY
            roll = rng.random()
            if recent and roll < 0.3:
                status = rng.choice(("pending", "retry"))
            else:
                status = "success" if roll < 0.94 else "failed"
            code = {"success": 200, "failed": 500, "retry": 503, "pending": None}[status]
            delivery_id = new_id(rng)
            yield (
                delivery_id,
                f"msg_{delivery_id.replace('-', '')}",
                hook[0],
                event_type,
                Jsonb(
                    {
                        "type": event_type,
                        "order_id": order_id,
                        "order_number": number,
                        "total": money(total),
                    }
                ),
                code,
                '{"ok": true}' if status == "success" else None,
                "upstream returned 5xx" if status in ("failed", "retry") else None,
                status,
                {"success": 1, "failed": 5, "retry": 2, "pending": 0}[status],
                ts_text(clock.t0 + 10 * MINUTE) if status == "retry" else None,
                ts_text(at),
                ts_text(at + 2) if status in ("success", "failed") else None,
            )

    yield TableLoad(
        "webhook_delivery_logs",
        (
            "id", "message_id", "webhook_id", "event_type", "payload", "response_code",
            "response_body",
            "error_message", "status", "attempt_count", "next_retry_at", "created_at",
            "completed_at",
        ),
        deliveries(),
        world.scale.webhook_deliveries,
    )  # fmt: skip


def _registries(world: World) -> Iterator[TableLoad]:
    rng = world.rng
    created = ts_text(world.clock.t0 - 300 * DAY)
    yield TableLoad(
        "graphql_schema_definitions",
        (
            "id",
            "name",
            "description",
            "schema_definition",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ),
        [
            (new_id(rng), name, f"GraphQL types for {name}.", sdl, True, "1.0.0", created, created)
            for name, sdl in SCHEMAS.items()
        ],
    )
    yield TableLoad(
        "rest_api_endpoints",
        (
            "id", "path", "method", "description", "function_name", "required_permissions",
            "rate_limit", "is_public", "is_deprecated", "version", "created_at", "updated_at",
        ),
        [
            (
                new_id(rng), path, method, f"{method} {path}", function,
                [permission] if permission else [], 1_000 if permission is None else 300,
                permission is None, deprecated, path.split("/")[2], created, created,
            )
            for path, method, function, permission, deprecated in ENDPOINTS
        ],
    )  # fmt: skip


def _domain_events(world: World) -> TableLoad:
    rng, clock = world.rng, world.clock
    start, span = clock.first_day * DAY, (clock.today - clock.first_day) * DAY
    kinds = {
        "completed": "OrderCompleted",
        "refunded": "OrderRefunded",
        "cancelled": "OrderCancelled",
        "pending": "OrderPlaced",
        "failed": "PaymentFailed",
    }

    def rows():
        sample = world.order_sample
        for n in range(world.scale.domain_events):
            roll = rng.random()
            if roll < 0.7 and sample:
                order_id, number, status, total, ts = sample[n % len(sample)]
                aggregate, kind, event_type = order_id, "order", kinds[status]
                data = {"order_number": number, "status": status, "total_amount": money(total)}
                at = max(ts, start)
            elif roll < 0.85:
                e = rng.choice(world.events)
                aggregate, kind = e.id, "event"
                event_type = {"cancelled": "EventCancelled", "draft": "EventDrafted"}.get(
                    e.status, "EventPublished"
                )
                data, at = {"title": e.title, "status": e.status}, start + rng.randrange(span)
            else:
                u = rng.choice(world.users)
                aggregate, kind, event_type = u.id, "user", "UserRegistered"
                data, at = {"user_type": u.user_type}, start + rng.randrange(span)
            recent = at > clock.t0 - HOUR * 2
            status = "pending" if recent else ("failed" if rng.random() < 0.02 else "processed")
            yield (
                new_id(rng),
                aggregate,
                kind,
                event_type,
                1,
                Jsonb(data),
                Jsonb({"actor": "system"}),
                ts_text(at),
                ts_text(at + rng.randint(1, 30)) if status == "processed" else None,
                status,
                3 if status == "failed" else 0,
                "handler timed out" if status == "failed" else None,
                f"{kind}:{aggregate}:{event_type}:{n}",
                rng.choice(("checkout", "box-office", "dashboard")),
                hex_token(rng, 8),
                None,
            )

    return TableLoad(
        "domain_events",
        (
            "id", "aggregate_id", "aggregate_type", "event_type", "event_version", "event_data",
            "metadata", "occurred_at", "processed_at", "processing_status", "retry_count",
            "error", "idempotency_key", "source_system", "correlation_id", "causation_id",
        ),
        rows(),
        world.scale.domain_events,
    )  # fmt: skip


def _jobs(world: World) -> TableLoad:
    rng, t0 = world.rng, world.clock.t0
    creators = world.users_by_type["admin"] + world.users_by_type["marketing"]
    rows = []
    for n in range(world.scale.background_jobs):
        job = JOB_TYPES[n % len(JOB_TYPES)]
        if n == 0:
            status = "running"
        else:
            status = rng.choices(("completed", "failed", "pending", "cancelled"), (82, 7, 8, 3))[0]
        created = t0 - rng.randint(HOUR, 60 * DAY)
        scheduled = t0 + rng.randint(1, 48) * HOUR if status == "pending" else created
        started = (
            scheduled + rng.randint(1, 60) if status in ("completed", "failed", "running") else None
        )
        done = (
            started + rng.randint(5, 900) if status in ("completed", "failed") and started else None
        )
        live = status in ("pending", "running")
        rows.append(
            (
                new_id(rng), job, Jsonb({"requested_by": "dashboard", "batch": n}), status,
                rng.choice((10, 50, 100)), 3, 3 if status == "failed" else 0,
                ts_text(scheduled), ts_or_none(started),
                ts_or_none(done if status == "completed" else None),
                ts_or_none(done if status == "failed" else None),
                "SMTP relay refused the connection" if status == "failed" else None,
                Jsonb({"rows": rng.randint(10, 10_000)}) if status == "completed" else None,
                "100.00" if status == "completed" else ("42.50" if status == "running" else "0.00"),
                "done" if status == "completed" else None,
                "worker-1" if status == "running" else None,
                ts_or_none(started if status == "running" else None),
                f"{job}:{n}" if live else None,
                rng.choice(creators).id,
                ts_text(min(created, scheduled)),
                ts_text(done or started or min(created, scheduled)),
            )
        )  # fmt: skip
    return TableLoad(
        "background_jobs",
        (
            "id", "job_type", "payload", "status", "priority", "max_retries", "retry_count",
            "scheduled_for", "started_at", "completed_at", "failed_at", "error", "result",
            "progress", "progress_message", "locked_by", "locked_at", "dedupe_key",
            "created_by", "created_at", "updated_at",
        ),
        rows,
    )  # fmt: skip


def _settings(world: World) -> TableLoad:
    rng, t0 = world.rng, world.clock.t0
    admins = world.users_by_type["admin"]
    updated = ts_text(t0 - 20 * DAY)
    return TableLoad(
        "system_configurations",
        (
            "id", "category", "key", "value", "value_type", "description", "is_hot_reloadable",
            "updated_by", "created_at", "updated_at",
        ),
        [
            (new_id(rng), category, key, Jsonb(value), value_type, description,
             category not in ("partitions", "demo"), rng.choice(admins).id, updated, updated)
            for category, key, value, value_type, description in settings(world)
        ],
    )  # fmt: skip


def _retention_settings(world: World) -> TableLoad:
    """The retention periods migration 0007 seeded (same ids): merged, so they stay."""
    from core.retention.categories import CATEGORIES, SETTINGS_CATEGORY, setting_id

    updated = ts_text(world.clock.t0 - 20 * DAY)
    return TableLoad(
        "system_configurations",
        (
            "id", "category", "key", "value", "value_type", "description", "is_hot_reloadable",
            "created_at", "updated_at",
        ),
        [
            (str(setting_id(c.key)), SETTINGS_CATEGORY, c.key, Jsonb(c.default_period),
             "duration", c.label, True, updated, updated)
            for c in CATEGORIES
        ],
        merge=True,
    )  # fmt: skip
