"""Admin → API keys through the real app shell (AppTest): create (the secret shown once),
the table with its filters, revoke with confirmation, rotate, the usage chart, and the
empty states."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text

from core.api_keys import authenticate, flush_usage, record_usage
from core.auth import Identity
from core.errors import Unauthenticated
from tests.apptest import make_person, messages, open_page
from tests.conftest import SecureDatabase

PAGE = "api_keys.py"
APP_POOL_SIZE = 2


def _auth(raw: str):
    return authenticate(raw, method="GET", path="/v1/x", ip_address="192.0.2.5", user_agent="t")


def _codes(at) -> list[str]:
    return [c.value for c in at.code]


def test_an_empty_database_says_so_and_organizers_have_no_access(
    secure_database: SecureDatabase,
) -> None:
    with secure_database.owner.begin() as conn:
        conn.execute(text("DELETE FROM api_keys"))
    admin = make_person(secure_database.owner, ["admin"])
    at = open_page(PAGE, admin)
    assert not at.exception
    assert at.title[0].value == "API keys"
    assert "No API keys yet" in messages(at)
    assert "No API requests in this period" in messages(at)
    organizer = make_person(secure_database.owner, ["organizer"])
    at = open_page(PAGE, organizer)
    assert [t.value for t in at.title] == ["No access"]


def test_create_shows_the_secret_once_then_revoke_and_rotate(
    secure_database: SecureDatabase,
) -> None:
    owner: Engine = secure_database.owner
    admin: Identity = make_person(owner, ["admin"])
    partner = make_person(owner, ["organizer"], full_name="Partner Person")
    with owner.connect() as conn:
        email = conn.execute(
            text("SELECT email FROM users WHERE id = :u"), {"u": partner.user_id}
        ).scalar_one()
    at = open_page(PAGE, admin)
    # Refused input names the rule and keeps the form.
    at.text_input(key="create_name").input("Box office")
    at.button(key="create_submit").click().run()
    assert not at.exception
    assert "at least one scope" in messages(at)
    at.multiselect(key="create_scopes").select("events:read").select("orders:write")
    at.button(key="create_submit").click().run()
    assert "Owner email is required" in messages(at)
    at.selectbox(key="create_owner").select(email)
    at.number_input(key="create_rate").set_value(0)
    at.button(key="create_submit").click().run()
    assert "Rate limit must be between" in messages(at)
    at.number_input(key="create_rate").set_value(30)
    at.button(key="create_submit").click().run()
    assert not at.exception
    (secret,) = _codes(at)
    assert secret.startswith("fk_live_")
    assert "will not be shown again" in messages(at)
    principal = _auth(secret)
    assert principal.owner_id == partner.user_id and principal.rate_limit == 30
    assert principal.scopes == ("events:read", "orders:write")

    # The next run shows it no more; the table lists the key with its last use.
    at.run()
    assert secret not in _codes(at)
    assert secret not in str(at)
    table = at.dataframe[0].value
    row = table[table["Owner"] == email].iloc[0]
    assert row["Status"] == "active" and row["Last used from"] == "192.0.2.5"
    at.selectbox(key="filter_status").select("revoked").run()
    assert "No key matches these filters" in messages(at)
    at.selectbox(key="filter_status").select("Any").run()

    # Usage shows up in the chart.
    for status in (200, 200, 503):
        record_usage(key_id=principal.key_id, method="GET", path="/v1/events", status=status,
                     duration_ms=12, request_bytes=0, response_bytes=10,
                     ip_address="192.0.2.5", user_agent="t")  # fmt: skip
    flush_usage()
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Requests"].replace(",", "")) >= 3
    assert int(metrics["Errors (4xx and 5xx)"].replace(",", "")) >= 1

    # Rotate: a new secret, shown once; both work during the grace period.
    at.selectbox(key="rotate_choice").select(principal.key_id)
    at.number_input(key="rotate_grace").set_value(5)
    at.button(key="rotate").click().run()
    assert not at.exception
    (rotated,) = _codes(at)
    assert rotated != secret and _auth(rotated).owner_id == partner.user_id
    assert _auth(secret).key_id == principal.key_id
    at.run()
    table = at.dataframe[0].value
    assert set(table[table["Owner"] == email]["Status"]) == {"active", "rotating"}

    # Revoke, after a confirmation.
    at.selectbox(key="revoke_choice").select(principal.key_id)
    at.button(key="revoke_ask").click().run()
    assert "cannot be undone" in messages(at)
    at.button(key="revoke_yes").click().run()
    assert not at.exception
    assert "Revoked" in messages(at)
    try:
        _auth(secret)
    except Unauthenticated:
        pass
    else:
        raise AssertionError("a revoked key still authenticates")
    assert datetime.now(UTC)  # the page and the core agree on UTC
