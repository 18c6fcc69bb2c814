"""The integration end to end: the API as its own process, a webhook receiver process that
verifies every signature with the standardwebhooks library, and the dispatcher between.

Orders placed over HTTP, each request sent twice under one Idempotency-Key, give exactly
one order per key and exactly one `order.placed` per order at the receiver; the webhook
routes manage the endpoint (the secret shown once), list and show deliveries, replay one
(the same webhook-id again), ping, rotate and disable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from core.api_keys import SCOPES, create_key
from tests.api_server import api_process
from tests.apptest import make_person
from tests.factories import make_event, make_ticket_type
from tests.webhook_world import (
    FAST,
    Receiver,
    dispatch_until,
    dispatcher,
    fast_retries_fixture,  # noqa: F401  (the dispatcher here: private URLs, quick retries)
)

ORDERS = 6
pytestmark = pytest.mark.usefixtures("fast_retries")


@dataclass
class World:
    url: str
    admin_key: str
    event_id: uuid.UUID
    ticket_type_id: uuid.UUID
    receiver: Receiver


@pytest.fixture(scope="module")
def world(owner: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("api_webhooks")
    admin = make_person(owner, ["admin"])
    with Session(owner) as s, s.begin():
        event = make_event(
            s, organizer_id=admin.user_id, status="published", published_at=datetime.now(UTC)
        )
        ticket_type = make_ticket_type(
            s, event, base_price=Decimal("25.00"), total_capacity=100, remaining_capacity=100
        )
        ids = (event.id, ticket_type.id)
    # Nothing of the demo's to fan out: only this module's orders reach the receiver.
    with owner.begin() as conn:
        conn.execute(text("UPDATE webhooks SET is_active = false"))
        conn.execute(
            text(
                "UPDATE domain_events SET processing_status = 'processed'"
                " WHERE processing_status = 'pending'"
            )
        )
    key = create_key(
        admin.actor(), owner_email=admin.email, name="integration", scopes=tuple(SCOPES)
    ).secret
    receiver = Receiver(folder).start()
    try:
        with api_process(owner, folder / "api.log", **FAST) as url:
            yield World(url, key, ids[0], ids[1], receiver)
    finally:
        receiver.stop()


def call(world: World, method: str, path: str, **kw: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world.admin_key}", **dict(kw.pop("headers", {}))}  # type: ignore[call-overload]
    return httpx.request(method, world.url + path, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]


def _place(world: World, idempotency_key: str) -> list[httpx.Response]:
    hold = call(
        world,
        "POST",
        "/v1/holds",
        json={"event_id": str(world.event_id), "quantities": {str(world.ticket_type_id): 1}},
    )
    assert hold.status_code == 201, hold.text
    body = {
        "hold_id": hold.json()["hold_id"],
        "buyer": {"name": "Grace Buyer", "email": "grace.buyer@example.com"},
        "payment_method": "card_terminal",
        "expected_total": "25.00",
    }
    headers = {"Idempotency-Key": idempotency_key}
    return [call(world, "POST", "/v1/orders", json=body, headers=headers) for _ in range(2)]


def test_orders_over_the_api_reach_the_receiver_once_each(world: World, owner: Engine) -> None:
    created = call(
        world,
        "POST",
        "/v1/webhooks/endpoints",
        json={"name": "CRM", "url": world.receiver.url, "events": ["order.placed"]},
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    endpoint_id = created.json()["endpoint"]["endpoint_id"]
    assert secret.startswith("whsec_")
    world.receiver.trust(secret)
    # The secret is shown once: the endpoint's own view never carries it.
    shown = call(world, "GET", f"/v1/webhooks/endpoints/{endpoint_id}")
    assert shown.status_code == 200 and secret not in shown.text
    assert secret not in call(world, "GET", "/v1/webhooks/endpoints").text

    order_ids = set()
    for i in range(ORDERS):
        first, repeat = _place(world, f"api-hook-{i}-{uuid.uuid4().hex[:8]}")
        assert (first.status_code, repeat.status_code) == (201, 200), (first.text, repeat.text)
        assert first.json()["order_id"] == repeat.json()["order_id"]
        order_ids.add(first.json()["order_id"])
    assert len(order_ids) == ORDERS

    d = dispatcher(owner)
    placed = lambda: [  # noqa: E731
        r for r in world.receiver.deliveries() if r["body"]["type"] == "order.placed"
    ]
    assert dispatch_until(d, lambda: len(placed()) >= ORDERS)
    got = placed()
    assert all(r["valid"] for r in got), got
    assert sorted(r["body"]["data"]["order_id"] for r in got) == sorted(order_ids)
    # Nothing more arrives on further rounds: one delivery per order.
    for _ in range(3):
        d.run_round()
    assert len(placed()) == ORDERS

    listed = call(
        world,
        "GET",
        "/v1/webhooks/deliveries",
        params={"endpoint_id": endpoint_id, "event_type": "order.placed"},
    )
    assert listed.status_code == 200, listed.text
    deliveries = listed.json()["data"]
    assert len(deliveries) == ORDERS and {x["status"] for x in deliveries} == {"success"}
    one = call(world, "GET", f"/v1/webhooks/deliveries/{deliveries[0]['delivery_id']}")
    assert one.status_code == 200 and one.json()["attempts"], one.text
    assert secret not in one.text

    # Replay one: the receiver sees the same webhook-id a second time.
    replayed = call(
        world, "POST", "/v1/webhooks/replay", json={"delivery_id": deliveries[0]["delivery_id"]}
    )
    assert replayed.status_code == 200 and replayed.json()["queued"] == 1, replayed.text
    message_id = deliveries[0]["message_id"]
    assert dispatch_until(
        d, lambda: sum(r["webhook_id"] == message_id for r in world.receiver.deliveries()) == 2
    )
    # Replaying with nothing chosen names the field.
    refused = call(world, "POST", "/v1/webhooks/replay", json={})
    assert refused.status_code == 422 and refused.json()["field"] == "failed_since"


def test_ping_rotate_and_disable(world: World) -> None:
    created = call(
        world,
        "POST",
        "/v1/webhooks/endpoints",
        json={"name": "Ping me", "url": world.receiver.url, "events": ["order.refunded"]},
    ).json()
    endpoint_id, old = created["endpoint"]["endpoint_id"], created["secret"]
    rotated = call(world, "POST", f"/v1/webhooks/endpoints/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and rotated.json()["previous_secret_expires_at"]
    # Only the new secret is trusted: the ping verifies because both secrets sign.
    world.receiver.trust(new)
    ping = call(world, "POST", f"/v1/webhooks/endpoints/{endpoint_id}/ping")
    assert ping.status_code == 200, ping.text
    assert ping.json()["status"] == "success", ping.json()
    pings = [r for r in world.receiver.deliveries() if r["webhook_id"] == ping.json()["message_id"]]
    assert pings and pings[-1]["valid"]

    disabled = call(
        world, "PATCH", f"/v1/webhooks/endpoints/{endpoint_id}", json={"is_active": False}
    )
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    renamed = call(world, "PATCH", f"/v1/webhooks/endpoints/{endpoint_id}", json={"name": "Pong"})
    assert renamed.json()["name"] == "Pong" and renamed.json()["is_active"] is False


def test_bad_endpoints_are_problems_naming_the_field(world: World) -> None:
    for body, field in (
        ({"name": "x", "url": "ftp://example.com/hook", "events": ["order.placed"]}, "url"),
        ({"name": "x", "url": world.receiver.url, "events": ["order.exploded"]}, "events"),
        ({"name": "x", "url": world.receiver.url, "events": ["order.placed"], "y": 1}, "y"),
    ):
        answer = call(world, "POST", "/v1/webhooks/endpoints", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert field in str(answer.json().get("field")), answer.json()
    catalogue = call(world, "GET", "/v1/webhooks/event-types")
    assert catalogue.status_code == 200
    assert "order.placed" in {t["name"] for t in catalogue.json()["data"]}
