"""Retention: per-category periods from system configuration; the dry run counts exactly
what the run then treats; rows just inside a period stay; whole expired months of the log
tables are dropped; the run is one audited transaction; audit entries are never touched.

A database of this module's own (the runs commit). Every category gets a row an hour past
its cutoff and one an hour inside it, at a moment pinned for the dry run and the run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text
from streamlit.testing.v1 import AppTest

from core.auth import Identity
from core.db import Actor
from core.errors import NotFound, PermissionDenied, ValidationError
from core.retention import CATEGORIES, plan_retention, run_retention, set_retention_period
from core.retention.cli import run as cli_run
from core.retention.service import CLI_AGENT
from tests.apptest import make_person, messages, open_page

HOUR = timedelta(hours=1)
WAITING = (
    "SELECT count(*) FROM background_jobs"
    " WHERE job_type = 'retention_test' AND status IN ('failed', 'cancelled')"
)


@pytest.fixture(scope="module")
def admin(owner: Engine) -> Identity:
    return make_person(owner, ["admin"])


@dataclass
class Arranged:
    as_of: datetime
    cutoffs: dict[str, datetime]
    # category -> (ids of rows past the cutoff, ids of rows just inside it)
    rows: dict[str, tuple[list[str], list[str]]]
    old_partition: str


def _one(conn: Connection, sql: str, **params: object) -> object:
    return conn.execute(text(sql), params).scalar_one()


def _arrange(conn: Connection) -> Arranged:
    as_of = _one(conn, "SELECT now() - interval '1 minute'")
    cutoffs = {
        c.key: _one(conn, "SELECT CAST(:a AS timestamptz) - retention_period(:k)", a=as_of, k=c.key)
        for c in CATEGORIES
    }
    rows: dict[str, tuple[list[str], list[str]]] = {}

    def pair(key: str, insert: str, **params: object) -> None:
        past = str(_one(conn, insert, at=cutoffs[key] - HOUR, **params))
        inside = str(_one(conn, insert, at=cutoffs[key] + HOUR, **params))
        rows[key] = ([past], [inside])

    ticket_type, event = conn.execute(text("SELECT id, event_id FROM ticket_types LIMIT 1")).one()
    pair(
        "inventory_locks",
        "INSERT INTO ticket_inventory_locks (ticket_type_id, event_id, quantity, session_id,"
        " expires_at) VALUES (:t, :e, 1, 'retention-test', :at) RETURNING id",
        t=ticket_type,
        e=event,
    )
    pair(
        "background_jobs",
        "INSERT INTO background_jobs (job_type, status, completed_at) VALUES"
        " ('retention_test', 'completed', :at) RETURNING id",
    )
    # A pending job past the period stays: only finished jobs expire.
    rows["background_jobs"][1].append(
        str(
            _one(
                conn,
                "INSERT INTO background_jobs (job_type, status, created_at, updated_at) VALUES"
                " ('retention_test', 'pending', :at, :at) RETURNING id",
                at=cutoffs["background_jobs"] - 30 * HOUR,
            )
        )
    )
    pair(
        "domain_events",
        "INSERT INTO domain_events (aggregate_id, aggregate_type, event_type, event_data,"
        " idempotency_key, source_system, processing_status, processed_at)"
        " VALUES ('x', 'test', 'Tested', '{}', gen_random_uuid()::text, 'test', 'processed',"
        " :at) RETURNING id",
    )
    webhook = _one(conn, "SELECT id FROM webhooks LIMIT 1")
    pair(
        "webhook_deliveries",
        "INSERT INTO webhook_delivery_logs (webhook_id, event_type, payload, status, created_at)"
        " VALUES (:w, 'order.completed', '{}', 'success', :at) RETURNING id",
        w=webhook,
    )
    api_insert = (
        "INSERT INTO api_usage_logs (endpoint, method, status_code, response_time_ms,"
        " created_at) VALUES ('/api/v1/events', 'GET', 200, 12, :at) RETURNING id"
    )
    pair("api_usage_logs", api_insert)
    # A whole month well past the cutoff, in a partition of its own: dropped, not deleted.
    month = _one(
        conn,
        "SELECT date_trunc('month', CAST(:c AS timestamptz) - interval '2 months')::date",
        c=cutoffs["api_usage_logs"],
    )
    conn.execute(text("SELECT ensure_month_partition('api_usage_logs', :m)"), {"m": month})
    for day in range(3):
        rows["api_usage_logs"][0].append(
            str(_one(conn, api_insert, at=datetime.combine(month, datetime.min.time()).replace(
                tzinfo=as_of.tzinfo) + timedelta(days=day + 1)))
        )  # fmt: skip
    user = _one(conn, "SELECT id FROM users WHERE user_type = 'attendee' LIMIT 1")
    pair(
        "user_engagement",
        "INSERT INTO user_engagement (user_id, engagement_type, engagement_source, occurred_at)"
        " VALUES (:u, 'page_view', 'web', :at) RETURNING id",
        u=user,
    )
    pair(
        "inactive_users",
        "WITH u AS (INSERT INTO users (email, full_name, phone_number, user_type, status,"
        " last_login) VALUES ('gone-' || gen_random_uuid() || '@example.com', 'Gone Person',"
        " '+33 6 12 34 56 78', 'attendee', 'inactive', :at) RETURNING id)"
        " INSERT INTO user_profiles (user_id, first_name, last_name, bio)"
        " SELECT id, 'Gone', 'Person', 'likes runway shows' FROM u RETURNING user_id",
    )
    orders = conn.execute(text("SELECT id FROM orders ORDER BY id LIMIT 2")).scalars().all()
    for order, at in zip(orders, (cutoffs["orders"] - HOUR, cutoffs["orders"] + HOUR), strict=True):
        conn.execute(
            text("UPDATE orders SET created_at = :at WHERE id = :o"), {"at": at, "o": order}
        )
    rows["orders"] = ([str(orders[0])], [str(orders[1])])
    return Arranged(as_of, cutoffs, rows, f"api_usage_logs_p{month:%Y%m}")


@pytest.fixture(scope="module")
def arranged(owner: Engine) -> Arranged:
    with owner.begin() as conn:
        return _arrange(conn)


def _exists(conn: Connection, key: str, row_id: str) -> bool:
    if key == "inactive_users":
        return not _one(conn, "SELECT is_anonymized FROM users WHERE id = :i", i=row_id)
    if key == "orders":
        return not _one(conn, "SELECT is_anonymized FROM orders WHERE id = :i", i=row_id)
    table = next(c.table for c in CATEGORIES if c.key == key)
    return bool(_one(conn, f"SELECT count(*) FROM {table} WHERE id = :i", i=row_id))


def test_every_category_reads_its_period_from_system_configuration(
    owner: Engine, admin: Identity, arranged: Arranged
) -> None:
    with owner.connect() as conn:
        configured = dict(
            conn.execute(
                text(
                    "SELECT key, value #>> '{}' FROM system_configurations"
                    " WHERE category = 'retention'"
                )
            ).all()
        )
    assert configured == {c.key: c.default_period for c in CATEGORIES}
    plan = plan_retention(admin.actor(), as_of=arranged.as_of)
    assert {line.key: line.period for line in plan.lines} == configured
    assert {line.key: line.cutoff for line in plan.lines} == arranged.cutoffs
    assert "audit_logs" not in {line.table for line in plan.lines}


def test_others_may_neither_plan_nor_run(organizer: Identity) -> None:
    with pytest.raises(PermissionDenied):
        plan_retention(organizer.actor())
    with pytest.raises(PermissionDenied):
        run_retention(organizer.actor())


def test_a_period_must_be_a_positive_duration(admin: Identity) -> None:
    for bad in ("", "soon", "P", "0", "P0D", "P-3D", "-5"):
        with pytest.raises(ValidationError) as refused:
            set_retention_period(admin.actor(), "background_jobs", bad)
        assert refused.value.field == "period", bad
    with pytest.raises(NotFound):
        set_retention_period(admin.actor(), "audit_logs", "P1D")


def test_the_dry_run_counts_what_the_run_treats_and_rows_inside_their_period_stay(
    owner: Engine, admin: Identity, arranged: Arranged
) -> None:
    with owner.connect() as conn:
        audit_rows = _one(conn, "SELECT count(*) FROM audit_logs")
    plan = plan_retention(admin.actor(), as_of=arranged.as_of)
    for key, (past, _) in arranged.rows.items():
        assert plan.counts()[key] >= len(past), key
    api = next(line for line in plan.lines if line.key == "api_usage_logs")
    assert arranged.old_partition in api.partitions

    steps: list[tuple[int, int, str]] = []
    result = run_retention(
        admin.actor(), as_of=arranged.as_of, progress=lambda *step: steps.append(step)
    )

    assert result.counts() == plan.counts()
    assert steps[-1] == (len(CATEGORIES), len(CATEGORIES), "done")
    with owner.connect() as conn:
        for key, (past, inside) in arranged.rows.items():
            assert [r for r in past if _exists(conn, key, r)] == [], key
            assert all(_exists(conn, key, r) for r in inside), key
        assert _one(conn, "SELECT to_regclass(:p) IS NULL", p=arranged.old_partition)
        gone = conn.execute(
            text("SELECT u.email, u.phone_number, p.first_name, p.bio FROM users u"
                 " JOIN user_profiles p ON p.user_id = u.id WHERE u.id = :i"),
            {"i": arranged.rows["inactive_users"][0][0]},
        ).one()  # fmt: skip
        # The registry's anonymisation of an account, the same an erasure writes.
        assert gone.email.endswith("@erased.invalid") and gone.phone_number is None
        assert gone.first_name is None and gone.bio is None
        order = conn.execute(
            text("SELECT user_id, total_amount, order_number, billing_name, billing_email,"
                 " billing_phone, ip_address FROM orders WHERE id = :i"),
            {"i": arranged.rows["orders"][0][0]},
        ).one()  # fmt: skip
        assert order.user_id is None and order.total_amount is not None and order.order_number
        assert order.billing_name == "Erased person" and order.billing_phone is None
        assert order.billing_email == f"erased-{arranged.rows['orders'][0][0]}@erased.invalid"
        assert order.ip_address is None
        # Nothing of the audit log went, and the run added its own entry.
        assert _one(conn, "SELECT count(*) FROM audit_logs") > audit_rows
        entry = conn.execute(
            text("SELECT user_id, new_data FROM audit_logs WHERE action = 'retention.run'"
                 " AND record_id = :r"),
            {"r": str(result.run_id)},
        ).one()  # fmt: skip
    assert entry.user_id == admin.user_id
    assert entry.new_data["counts"] == result.counts()
    assert arranged.old_partition in entry.new_data["dropped_partitions"]
    # A second look at the same moment finds nothing left to do.
    assert plan_retention(admin.actor(), as_of=arranged.as_of).total == 0


def test_a_longer_period_keeps_what_a_shorter_one_removes(owner: Engine, admin: Identity) -> None:
    # Start from nothing past 30 days: the demo's finished jobs are dated from the day it
    # was loaded, so some fall between 30 and 45 days on some days and not on others.
    set_retention_period(admin.actor(), "background_jobs", "P30D")
    run_retention(admin.actor())
    with owner.begin() as conn:
        job = _one(
            conn,
            "INSERT INTO background_jobs (job_type, status, completed_at) VALUES"
            " ('retention_test', 'completed', now() - interval '40 days') RETURNING id",
        )
    assert set_retention_period(admin.actor(), "background_jobs", "45") == "P45D"
    run_retention(admin.actor())
    with owner.connect() as conn:
        assert _one(conn, "SELECT count(*) FROM background_jobs WHERE id = :i", i=job) == 1
    set_retention_period(admin.actor(), "background_jobs", "p30d")
    plan = plan_retention(admin.actor())
    assert plan.counts()["background_jobs"] == 1
    assert run_retention(admin.actor()).counts()["background_jobs"] == 1


def test_the_command_line_runs_as_the_system_and_leaves_an_audit_row(
    owner: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO domain_events (aggregate_id, aggregate_type, event_type, event_data,"
                " idempotency_key, source_system, processing_status, processed_at)"
                " VALUES ('x', 'test', 'Tested', '{}', :k, 'test', 'processed',"
                " now() - interval '1 year')"
            ),
            {"k": f"cli-{uuid.uuid4()}"},
        )
    assert cli_run(dry_run=True) == 0
    dry = capsys.readouterr().out
    assert "(dry run)" in dry and "1 rows would be treated" in dry
    assert cli_run(dry_run=False) == 0
    assert "1 rows treated; audit record" in capsys.readouterr().out
    with owner.connect() as conn:
        entry = conn.execute(
            text(
                "SELECT user_id, user_agent, new_data FROM audit_logs"
                " WHERE action = 'retention.run' ORDER BY created_at DESC LIMIT 1"
            )
        ).one()
    assert entry.user_id is None and entry.user_agent == CLI_AGENT
    assert entry.new_data["counts"]["domain_events"] == 1
    assert plan_retention(Actor.system(CLI_AGENT)).total == 0


def test_the_page_shows_the_dry_run_and_runs_after_confirming(
    owner: Engine, admin: Identity
) -> None:
    at = open_page("retention.py", admin)
    assert not at.exception
    assert "Nothing is past its retention period" in messages(at)
    with owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO background_jobs (job_type, status, completed_at) VALUES"
                " ('retention_test', 'failed', now() - interval '400 days'),"
                " ('retention_test', 'cancelled', now() - interval '400 days')"
            )
        )
    at.run()
    plan = next(df.value for df in at.dataframe if "Rows affected" in df.value.columns)
    assert set(plan["Setting"]) == {c.key for c in CATEGORIES}
    assert int(plan.loc[plan["Setting"] == "background_jobs", "Rows affected"].iloc[0]) == 2
    at.button(key="retention_run_ask").click().run()
    assert "Delete or anonymise 2 rows in 1 categories?" in messages(at)
    with owner.connect() as conn:
        assert _one(conn, WAITING) == 2  # nothing happens before the confirmation
    at.button(key="retention_run_yes").click().run()
    assert not at.exception
    assert "treated 2 rows" in messages(at)
    with owner.connect() as conn:
        assert _one(conn, WAITING) == 0
    result = next(df.value for df in at.dataframe if "Rows treated" in df.value.columns)
    assert int(result["Rows treated"].sum()) == 2


def test_the_page_edits_a_period_and_names_the_field_it_refuses(admin: Identity) -> None:
    at = open_page("retention.py", admin)
    at.selectbox(key="retention_category").set_value("domain_events")
    at.text_input(key="retention_period").input("sometimes")
    _save(at)
    assert not at.exception
    assert "period must be an ISO 8601 duration" in messages(at)
    at.text_input(key="retention_period").input("P120D")
    _save(at)
    assert "are now kept for P120D" in messages(at)
    plan = next(df.value for df in at.dataframe if "Rows affected" in df.value.columns)
    assert plan.loc[plan["Setting"] == "domain_events", "Period"].iloc[0] == "P120D"


def _save(at: AppTest) -> None:
    next(b for b in at.button if b.label == "Save period").click().run()
