"""The demo data set: every table filled as the scale promises, rows consistent with each
other and with the database's rules, and the same seed and anchor giving the same rows."""

from __future__ import annotations

import random
import uuid
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from core.demo import DemoDataExists, count_demo, load_demo
from core.demo.ids import id_from_bits
from core.demo.scales import DEFAULT_SEED, SCALES, expected_counts
from core.migrate import upgrade
from core.models import Base

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory

# The audit chain's head is bookkeeping, not demo data (migration 0005 makes its one row),
# and the audit action catalogue is migration 0011's.
# The demo signs nobody in (no passwords, so no sessions or throttles either), and tests
# sharing the session's database do: the sign-in tables are not the demo's.
SIGN_IN = {"user_credentials", "auth_sessions", "sign_in_throttles"}
# API rate windows count requests as they come (migration 0016); the demo sends none, and
# API tests sharing the session's database do.
REQUEST_COUNTS = {"api_rate_windows"}
TABLES = sorted(
    set(Base.metadata.tables) - {"audit_chain_head", "audit_actions"} - SIGN_IN - REQUEST_COUNTS
)
ANALYTICS = (
    "campaign_analytics",
    "sponsor_analytics",
    "email_analytics",
    "social_media_analytics",
    "designer_analytics",
    "user_engagement",
)


# The audit triggers (migration 0005) also log what later migrations seed, with no actor,
# IP or user agent; the demo's own audit rows always carry an IP.
_DEMO_AUDIT = (
    "SELECT count(*) FROM audit_logs"
    " WHERE NOT (user_id IS NULL AND ip_address IS NULL AND user_agent IS NULL)"
)


def _counts(conn: Connection) -> dict[str, int]:
    counts = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in TABLES}
    counts["audit_logs"] = conn.execute(text(_DEMO_AUDIT)).scalar_one()
    return counts


def _demo_setting(conn: Connection, key: str) -> object:
    return conn.execute(
        text("SELECT value FROM system_configurations WHERE category = 'demo' AND key = :k"),
        {"k": key},
    ).scalar_one()


def _zero(conn: Connection, sql: str) -> None:
    """Run a query counting offending rows; it must find none."""
    assert conn.execute(text(sql)).scalar_one() == 0, sql


@pytest.fixture(scope="module")
def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return _counts(conn)


@pytest.fixture(scope="module")
def anchor(engine: Engine) -> date:
    with engine.connect() as conn:
        return date.fromisoformat(_demo_setting(conn, "anchor_date"))


# -- counts -------------------------------------------------------------------------------


def test_every_table_has_rows(counts: dict[str, int]) -> None:
    assert [t for t, n in counts.items() if n == 0] == []


def test_counts_keep_the_small_scale_promise(counts: dict[str, int]) -> None:
    promise = expected_counts("small")
    assert set(promise) == set(TABLES)
    broken = {
        t: (promise[t], n) for t, n in counts.items() if not promise[t][0] <= n <= promise[t][1]
    }
    assert broken == {}


def test_counts_equal_a_dry_run_of_the_same_world(
    engine: Engine, counts: dict[str, int], anchor: date
) -> None:
    with engine.connect() as conn:
        assert _demo_setting(conn, "scale") == "small"
        seed = _demo_setting(conn, "seed")
    assert count_demo("small", seed=seed, anchor=anchor) == counts


def test_the_large_scale_promises_its_volumes() -> None:
    promise = expected_counts("large")
    assert promise["orders"][0] >= 1_000_000
    assert promise["users"][0] >= 100_000
    assert 200 <= promise["events"][0] <= 999
    assert promise["order_items"][1] >= 1_500_000


# -- consistency --------------------------------------------------------------------------


def test_remaining_capacity_is_capacity_minus_tickets_sold(engine: Engine) -> None:
    with engine.connect() as conn:
        _zero(
            conn,
            """
            SELECT count(*) FROM ticket_types tt
            LEFT JOIN (SELECT oi.ticket_type_id, sum(oi.quantity) AS sold
                         FROM order_items oi JOIN orders o ON o.id = oi.order_id
                        WHERE o.status IN ('completed', 'pending') GROUP BY 1) s
                   ON s.ticket_type_id = tt.id
            WHERE tt.remaining_capacity <> tt.total_capacity - coalesce(s.sold, 0)
            """,
        )
        _zero(
            conn,
            """
            SELECT count(*) FROM events e
            WHERE e.capacity < (SELECT coalesce(sum(total_capacity - remaining_capacity), 0)
                                  FROM ticket_types WHERE event_id = e.id)
               OR e.capacity <> (SELECT sum(total_capacity) FROM ticket_types WHERE event_id = e.id)
            """,
        )


def test_seats_are_sold_once_and_match_the_items(engine: Engine) -> None:
    with engine.connect() as conn:
        # A seat sold twice would need two rows per (event, seat), or an item with too few.
        _zero(
            conn,
            """
            SELECT count(*) FROM (
              SELECT event_id, seat_id FROM event_seats GROUP BY 1, 2 HAVING count(*) > 1) d
            """,
        )
        _zero(
            conn,
            """
            SELECT count(*) FROM order_items oi
            JOIN orders o ON o.id = oi.order_id
            JOIN ticket_types tt ON tt.id = oi.ticket_type_id
            WHERE tt.seating_section_id IS NOT NULL AND o.status = 'completed'
              AND oi.quantity <> (SELECT count(*) FROM event_seats es
                                   WHERE es.order_id = oi.order_id AND es.status = 'sold'
                                     AND es.ticket_type_id = oi.ticket_type_id)
            """,
        )
        # Sold seats lie in their ticket type's section and belong to that event's orders.
        _zero(
            conn,
            """
            SELECT count(*) FROM event_seats es
            JOIN venue_seats vs ON vs.id = es.seat_id
            JOIN ticket_types tt ON tt.id = es.ticket_type_id
            LEFT JOIN orders o ON o.id = es.order_id
            WHERE es.status IN ('sold', 'held')
              AND (tt.seating_section_id <> vs.section_id OR tt.event_id <> es.event_id
                   OR (es.status = 'sold'
                       AND (o.event_id <> es.event_id OR o.status <> 'completed')))
            """,
        )
        # Held seats point at a live lock of a pending order; blocked ones mirror the venue.
        _zero(
            conn,
            """
            SELECT count(*) FROM event_seats es
            LEFT JOIN ticket_inventory_locks l ON l.id = es.hold_id
            LEFT JOIN orders o ON o.id = l.order_id
            WHERE es.status = 'held'
              AND (l.id IS NULL OR o.status <> 'pending' OR es.held_until <> l.expires_at)
            """,
        )
        _zero(
            conn,
            """
            SELECT count(*) FROM event_seats es JOIN venue_seats vs ON vs.id = es.seat_id
            WHERE (es.status = 'blocked') <> (vs.status <> 'available')
               OR (es.status = 'blocked' AND es.blocked_reason IS DISTINCT FROM vs.notes)
            """,
        )


def test_discount_and_promo_code_usage_counts_live_orders(engine: Engine) -> None:
    # As in the checkout: a cancelled or refunded order gives its code use back.
    live = """(SELECT count(DISTINCT oi.order_id) FROM order_items oi JOIN orders o
                 ON o.id = oi.order_id AND o.status IN ('pending', 'completed')
              WHERE oi.{column} = {alias}.id)"""
    with engine.connect() as conn:
        _zero(
            conn,
            f"""
            SELECT count(*) FROM discount_codes d
            WHERE d.current_usage <> {live.format(column="discount_code_id", alias="d")}
               OR d.current_usage > coalesce(d.usage_limit, d.current_usage)
            """,
        )
        _zero(
            conn,
            f"""
            SELECT count(*) FROM promotional_codes p
            WHERE p.usage_count <> (SELECT count(*) FROM promotional_code_usage u
                                     WHERE u.code_id = p.id)
               OR p.usage_count <> {live.format(column="promotional_code_id", alias="p")}
            """,
        )
        used = conn.execute(
            text("SELECT count(*) FROM order_items WHERE discount_code_id IS NOT NULL")
        ).scalar_one()
        assert used > 0


def test_order_totals_are_the_sums_of_their_items(engine: Engine) -> None:
    with engine.connect() as conn:
        _zero(
            conn,
            """
            SELECT count(*) FROM orders o
            JOIN events e ON e.id = o.event_id
            JOIN (SELECT order_id, sum(subtotal) AS subtotal, sum(discount_amount) AS discount,
                         sum(tax_amount) AS tax,
                         sum(round((subtotal - discount_amount) * t.rate, 2)) AS expected_tax
                    FROM order_items
                    JOIN LATERAL (SELECT coalesce(tt.tax_rate, ev.tax_rate) AS rate
                                    FROM ticket_types tt JOIN events ev ON ev.id = tt.event_id
                                   WHERE tt.id = order_items.ticket_type_id) t ON true
                   GROUP BY 1) i ON i.order_id = o.id
            WHERE o.subtotal <> i.subtotal OR o.discount_amount <> i.discount
               -- tax is rounded per item, as the checkout does
               OR o.tax_amount <> i.tax OR i.tax <> i.expected_tax
               OR o.total_amount <> o.subtotal - o.discount_amount + o.tax_amount
            """,
        )
        _zero(
            conn,
            """
            SELECT count(*) FROM order_items oi JOIN ticket_types tt ON tt.id = oi.ticket_type_id
            WHERE oi.unit_price <> tt.base_price OR oi.quantity NOT BETWEEN 1 AND 4
            """,
        )
        _zero(
            conn,
            "SELECT count(*) FROM orders o "
            "WHERE NOT EXISTS (SELECT 1 FROM order_items WHERE order_id = o.id)",
        )


def test_orders_follow_their_status_and_event(engine: Engine, anchor: date) -> None:
    with engine.connect() as conn:
        _zero(
            conn,
            """
            SELECT count(*) FROM orders
            WHERE (status IN ('completed', 'refunded')) <> (completed_at IS NOT NULL)
               OR (status = 'refunded') <> (refunded_at IS NOT NULL)
               OR (status = 'cancelled') <> (cancelled_at IS NOT NULL)
               OR (status = 'pending') <> (expiration_time IS NOT NULL)
               OR refunded_at < completed_at OR completed_at < created_at
            """,
        )
        _zero(
            conn,
            f"""
            SELECT count(*) FROM orders o JOIN events e ON e.id = o.event_id
            WHERE o.created_at >= '{anchor}' OR e.status = 'draft'
               OR (e.status = 'cancelled' AND o.status NOT IN ('refunded', 'cancelled'))
               OR (o.user_id IS NOT NULL AND NOT EXISTS (
                     SELECT 1 FROM users u WHERE u.id = o.user_id AND u.user_type = 'attendee'))
            """,
        )
        _zero(conn, "SELECT count(*) FROM orders WHERE order_number !~ '^FW-[0-9]{4}-[0-9]{7}$'")
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM orders GROUP BY 1")).all())
        assert statuses["completed"] > sum(statuses.values()) / 2
        assert {"pending", "cancelled", "refunded"} <= set(statuses)


def test_events_sit_around_the_anchor(engine: Engine, anchor: date) -> None:
    with engine.connect() as conn:
        past, upcoming = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE start_date < :a), "
                "count(*) FILTER (WHERE start_date > :a) "
                "FROM events WHERE status IN ('published', 'completed')"
            ),
            {"a": anchor},
        ).one()
        assert past > 0 and upcoming > 0
        _zero(
            conn,
            f"SELECT count(*) FROM events WHERE status = 'completed' AND end_date >= '{anchor}'",
        )
        _zero(
            conn,
            "SELECT count(*) FROM events WHERE current_attendance > capacity "
            "OR (status <> 'completed' AND current_attendance <> 0)",
        )
        statuses = {r[0] for r in conn.execute(text("SELECT DISTINCT status FROM events"))}
        assert statuses == {"draft", "published", "completed", "cancelled", "postponed"}


def test_analytics_are_daily_past_and_ordered(engine: Engine, anchor: date) -> None:
    with engine.connect() as conn:
        for table in ANALYTICS[:-1]:
            _zero(conn, f"SELECT count(*) FROM {table} WHERE date >= '{anchor}'")
        _zero(conn, f"SELECT count(*) FROM user_engagement WHERE occurred_at >= '{anchor}'")
        _zero(
            conn,
            "SELECT count(*) FROM campaign_analytics "
            "WHERE clicks > impressions OR conversions > clicks",
        )
        _zero(
            conn,
            "SELECT count(*) FROM sponsor_analytics "
            "WHERE clicks > impressions OR leads_generated > clicks "
            "OR conversions > leads_generated",
        )
        _zero(conn, "SELECT count(*) FROM email_analytics WHERE opens > sends OR clicks > opens")
        _zero(
            conn,
            "SELECT count(*) FROM social_media_analytics WHERE reach > impressions "
            "OR engagement <> likes + comments + shares + saves",
        )
        zero_cost, zero_impressions = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE cost = 0), count(*) FILTER (WHERE impressions = 0) "
                "FROM campaign_analytics"
            )
        ).one()
        assert zero_cost > 0 and zero_impressions > 0
        # Rows land in the monthly partitions, not the catch-all default ones.
        for table in (*ANALYTICS, "audit_logs", "api_usage_logs", "webhook_delivery_logs"):
            _zero(conn, f"SELECT count(*) FROM {table}_default")


def test_people_roles_and_compliance(engine: Engine, anchor: date) -> None:
    with engine.connect() as conn:
        _zero(conn, "SELECT count(*) FROM user_credentials")
        _zero(
            conn,
            """
            SELECT count(*) FROM users u
            WHERE (SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                    WHERE ur.user_id = u.id AND r.name = u.user_type) <> 1
               OR (SELECT count(*) FROM user_roles WHERE user_id = u.id) <> 1
            """,
        )
        types = {r[0] for r in conn.execute(text("SELECT DISTINCT user_type FROM users"))}
        assert types == {
            "admin",
            "organizer",
            "marketing",
            "designer",
            "model",
            "sponsor",
            "staff",
            "attendee",
        }
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id = rp.role_id "
                    "JOIN permissions p ON p.id = rp.permission_id "
                    "WHERE r.name = 'organizer' AND p.name = 'orders.refund'"
                )
            ).scalar_one()
            == 1
        )
        requests = conn.execute(
            text("SELECT request_type, status, submitted_at, due_at FROM data_subject_requests")
        ).all()
        assert {r[0] for r in requests} == {
            "access",
            "portability",
            "erasure",
            "rectification",
            "restriction",
        }
        assert {r[1] for r in requests} == {"pending", "processing", "completed", "rejected"}
        _zero(
            conn,
            "SELECT count(*) FROM data_subject_requests "
            "WHERE due_at <> submitted_at + interval '1 month'",
        )
        overdue = conn.execute(
            text(
                "SELECT count(*) FROM data_subject_requests "
                "WHERE status IN ('pending', 'processing') AND due_at < :a"
            ),
            {"a": anchor},
        ).scalar_one()
        assert overdue >= 1
        hold = conn.execute(
            text(
                "SELECT value, value_type FROM system_configurations "
                "WHERE category = 'checkout' AND key = 'hold_minutes'"
            )
        ).one()
        assert tuple(hold) == (15, "number")


# -- loading ------------------------------------------------------------------------------


def test_a_database_with_users_is_refused(engine: Engine, counts: dict[str, int]) -> None:
    with pytest.raises(DemoDataExists, match="empty database"):
        load_demo(engine, scale="small")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == counts["users"]


def test_an_unknown_scale_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="small"):
        load_demo(engine, scale="gigantic")
    assert set(SCALES) == {"small", "large"}


def test_ids_are_the_rng_uuid4s() -> None:
    rng = random.Random(7)
    for _ in range(1_000):
        bits = rng.getrandbits(128)
        assert id_from_bits(bits) == str(uuid.UUID(int=bits, version=4))


def _snapshot(conn: Connection) -> dict[str, object]:
    return {
        "orders": conn.execute(
            text("SELECT order_number, total_amount, status FROM orders ORDER BY order_number")
        ).all(),
        "emails": conn.execute(text("SELECT email FROM users ORDER BY email")).scalars().all(),
        "seats": conn.execute(
            text("SELECT event_id, seat_id, status, order_id FROM event_seats ORDER BY 1, 2")
        ).all(),
        "campaigns": conn.execute(
            text(
                "SELECT campaign_id, date, channel, impressions, cost FROM campaign_analytics "
                "ORDER BY 1, 2, 3 LIMIT 500"
            )
        ).all(),
        "counts": _counts(conn),
    }


def test_the_same_seed_and_anchor_give_the_same_rows(
    scratch_database: Engine, databases: DatabaseFactory
) -> None:
    second = create_engine(
        databases.create("fashionistas_scratch"), connect_args={"options": "-c timezone=UTC"}
    )
    anchor = date(2026, 3, 14)
    try:
        snapshots, returned = [], []
        for eng in (scratch_database, second):
            upgrade(eng)
            returned.append(load_demo(eng, scale="small", seed=DEFAULT_SEED + 1, anchor=anchor))
            with eng.connect() as conn:
                snapshots.append(_snapshot(conn))
    finally:
        second.dispose()
    assert snapshots[0] == snapshots[1]
    assert returned[0] == returned[1] == snapshots[0]["counts"]
    assert len(snapshots[0]["orders"]) == SCALES["small"].orders


def test_another_seed_gives_another_world(counts: dict[str, int]) -> None:
    other = count_demo("small", seed=DEFAULT_SEED + 2, anchor=date(2026, 3, 14))
    assert other.keys() == counts.keys()
    assert other != counts
