"""Admin → Webhooks through the real app shell (AppTest), under row-level security:
create (the secret shown once), refusals naming the field, a test ping to a receiver
process, the deliveries with their filters and detail, replay with confirmation, the
disabled state explained, and no access for an organizer."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.webhooks.dispatcher import reset_process_dispatcher
from tests.apptest import make_person, messages, open_page
from tests.conftest import SecureDatabase
from tests.webhook_world import FAST, Receiver

PAGE = "webhooks.py"


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch):
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    reset_process_dispatcher()
    yield
    reset_process_dispatcher()


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_organizers_have_no_access(secure_database: SecureDatabase) -> None:
    organizer = make_person(secure_database.owner, ["organizer"])
    at = open_page(PAGE, organizer)
    assert [t.value for t in at.title] == ["No access"]


def test_create_ping_filter_and_replay(secure_database: SecureDatabase, tmp_path) -> None:
    owner = secure_database.owner
    admin = make_person(owner, ["admin"])
    receiver = Receiver(tmp_path).start()
    try:
        at = open_page(PAGE, admin)
        assert not at.exception and at.title[0].value == "Webhooks"
        # The demo's endpoints are off and the page says why.
        assert "made-up address" in messages(at)

        at.text_input(key="new_name").input("Partner CRM")
        at.text_input(key="new_url").input("ftp://nowhere")
        _button(at, "Create endpoint").click().run()
        assert "URL must start with https://" in messages(at)
        at.text_input(key="new_url").input(receiver.url)
        _button(at, "Create endpoint").click().run()
        assert "Choose at least one event type" in messages(at)
        at.multiselect(key="new_events").select("order.placed")
        _button(at, "Create endpoint").click().run()
        assert not at.exception
        (secret,) = [c.value for c in at.code if str(c.value).startswith("whsec_")]
        assert secret.startswith("whsec_") and "shown this once" in messages(at)
        receiver.trust(secret)
        at.run()
        assert not [c for c in at.code if str(c.value).startswith("whsec_")]

        with owner.connect() as conn:
            endpoint_id = conn.execute(
                text("SELECT id FROM webhooks WHERE name = 'Partner CRM'")
            ).scalar_one()
        at.selectbox(key="manage_id").select(endpoint_id).run()
        _button(at, "Send test ping").click().run()
        assert "The endpoint answered HTTP 204" in messages(at)
        (got,) = receiver.deliveries()
        assert got["valid"] and got["body"]["type"] == "webhook.ping"

        # Deliveries: the ping is listed, filters narrow, the detail shows the answer.
        at.selectbox(key="filter_endpoint").select(endpoint_id).run()
        assert not at.exception
        assert any(got["webhook_id"] in str(c.value) for c in at.code)
        at.selectbox(key="filter_status").select("failed").run()
        assert "No delivery matches these filters" in messages(at)
        at.selectbox(key="filter_status").select("success").run()
        _button(at, "Replay this delivery").click().run()
        assert "queued again (same webhook id)" in messages(at)
        with owner.connect() as conn:
            status = conn.execute(
                text("SELECT status FROM webhook_delivery_logs WHERE webhook_id = :w"),
                {"w": endpoint_id},
            ).scalar_one()
        assert status == "pending"

        # Replaying all failed since a time asks first.
        with owner.begin() as conn:
            conn.execute(
                text("UPDATE webhook_delivery_logs SET status = 'failed' WHERE webhook_id = :w"),
                {"w": endpoint_id},
            )
        at.selectbox(key="replay_endpoint").select(endpoint_id).run()
        _button(at, "Replay failed deliveries").click().run()
        assert "Send every failed delivery since" in messages(at)
        at.button(key="replay_all_yes").click().run()
        assert "1 failed deliveries are queued again" in messages(at)

        # Rotation asks, then shows the new secret once.
        _button(at, "Rotate secret").click().run()
        at.button(key=f"rotate_{endpoint_id}_yes").click().run()
        (rotated,) = [c.value for c in at.code if str(c.value).startswith("whsec_")]
        assert rotated != secret

        # A disabled endpoint says why.
        with owner.begin() as conn:
            conn.execute(
                text(
                    "UPDATE webhooks SET is_active = false, disabled_at = now(),"
                    " disabled_reason = 'Disabled by the dispatcher: every delivery failed"
                    " since 2026-12-01 10:00 UTC.' WHERE id = :w"
                ),
                {"w": endpoint_id},
            )
        at.run()
        assert "Partner CRM** is disabled" in "\n".join(str(e.value) for e in at.error)
        _button(at, "Enable").click().run()
        assert "enabled" in messages(at)
    finally:
        receiver.stop()
