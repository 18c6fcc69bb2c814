"""Webhooks end to end: orders placed through the core checkout reach a real receiver
process, signed (verified there with the standardwebhooks library), once per order, in
order per aggregate, through receiver outages, a worker killed mid-delivery and two
workers side by side; URLs that point inside the network are refused; secrets rotate with
an overlap and never appear where they must not."""

from __future__ import annotations

import signal
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from core.db import Actor
from core.errors import Conflict, ValidationError
from core.webhooks import (
    create_endpoint,
    get_delivery,
    list_deliveries,
    list_endpoints,
    replay,
    rotate_secret,
    send_test_ping,
    set_active,
    update_endpoint,
)
from core.webhooks.dispatcher import body_of
from tests.checkout_world import (
    checkout_db_fixture,  # noqa: F401  (the module's scratch database)
    execute,
    hold,
    make_person,
    make_sale_event,
    place,
    rows,
    scalar,
)
from tests.webhook_world import (
    Receiver,
    dispatch_until,
    dispatcher,
    fast_retries_fixture,  # noqa: F401
    receiver_fixture,  # noqa: F401
    worker_process,
)

pytestmark = pytest.mark.usefixtures("checkout_db", "fast_retries")


@pytest.fixture(scope="module")
def admin(checkout_db: Engine) -> Actor:
    return Actor(user_id=make_person("admin"))


@pytest.fixture(autouse=True)
def _quiet_endpoints(checkout_db: Engine) -> None:
    # Each test starts with no active endpoint and nothing left to fan out or send.
    execute("UPDATE webhooks SET is_active = false")
    execute(
        "UPDATE domain_events SET processing_status = 'processed'"
        " WHERE processing_status = 'pending'"
    )
    execute(
        "UPDATE webhook_delivery_logs SET status = 'failed' WHERE status IN ('pending', 'retry')"
    )


def endpoint(admin: Actor, r: Receiver, events: tuple[str, ...] = ("order.placed",), **kw):
    view, secret = create_endpoint(
        admin, name=f"Test {uuid.uuid4().hex[:6]}", url=r.url, events=list(events), **kw
    )
    r.trust(secret)
    return view, secret


def orders(n: int) -> list:
    sale = make_sale_event(({"capacity": 100},))
    return [place(hold(sale, {sale.ticket_type_ids[0]: 1})) for _ in range(n)]


def placed_numbers(got: list[dict]) -> list[str]:
    return [d["body"]["data"]["order_number"] for d in got if d["body"]["type"] == "order.placed"]


def test_each_order_reaches_the_receiver_once_signed(
    checkout_db: Engine, admin: Actor, receiver: Receiver
) -> None:
    view, _ = endpoint(admin, receiver)
    made = orders(5)
    d = dispatcher(checkout_db)
    try:
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 5)
        time.sleep(0.3)
        d.run_round()
    finally:
        d.close()
    got = receiver.deliveries()
    assert len(got) == 5 and all(g["valid"] for g in got)
    assert sorted(placed_numbers(got)) == sorted(o.order_number for o in made)
    assert len({g["webhook_id"] for g in got}) == 5
    assert all(g["webhook_id"].startswith("msg_") for g in got)
    statuses = {r.status for r in list_deliveries(admin, endpoint_id=view.endpoint_id)}
    assert statuses == {"success"}


def test_worker_once_dispatches(checkout_db: Engine, admin: Actor, receiver: Receiver) -> None:
    endpoint(admin, receiver)
    made = orders(2)
    url = checkout_db.url.render_as_string(hide_password=False)
    process = worker_process(url, "--once")
    assert process.wait(60) == 0
    assert sorted(placed_numbers(receiver.deliveries())) == sorted(o.order_number for o in made)


def test_a_receiver_outage_is_retried_until_everything_arrives(
    checkout_db: Engine, admin: Actor, receiver: Receiver
) -> None:
    view, _ = endpoint(admin, receiver)
    receiver.stop()
    made = orders(4)
    d = dispatcher(checkout_db)
    try:
        # Attempts fail while the receiver is down, and are scheduled again.
        assert dispatch_until(
            d,
            lambda: (
                scalar(
                    "SELECT count(*) FROM webhook_delivery_logs WHERE webhook_id = :w"
                    " AND status = 'retry' AND attempt_count >= 2",
                    w=view.endpoint_id,
                )
                == 4
            ),
        )
        failing = scalar("SELECT failing_since FROM webhooks WHERE id = :w", w=view.endpoint_id)
        assert failing is not None
        receiver.start()
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 4, timeout=30)
    finally:
        d.close()
    got = receiver.deliveries()
    assert sorted(placed_numbers(got)) == sorted(o.order_number for o in made)
    assert all(g["valid"] for g in got)
    assert scalar("SELECT failing_since FROM webhooks WHERE id = :w", w=view.endpoint_id) is None
    detail = get_delivery(
        admin, list_deliveries(admin, endpoint_id=view.endpoint_id)[0].delivery_id
    )
    assert len(detail.attempts) >= 3 and detail.attempts[0]["error"]
    assert detail.status == "success"


def test_a_worker_killed_mid_delivery_loses_nothing(
    checkout_db: Engine, admin: Actor, tmp_path
) -> None:
    slow = Receiver(tmp_path, delay=2.0).start()
    try:
        view, _ = endpoint(admin, slow)
        (made,) = orders(1)
        url = checkout_db.url.render_as_string(hide_password=False)
        first = worker_process(url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if scalar(
                "SELECT count(*) FROM webhook_delivery_logs WHERE webhook_id = :w"
                " AND locked_by IS NOT NULL",
                w=view.endpoint_id,
            ):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the worker never claimed the delivery")
        time.sleep(0.3)  # the POST is on its way; the receiver holds its answer back
        first.send_signal(signal.SIGKILL)
        first.wait()
        row = rows(
            "SELECT status, attempt_count, message_id FROM webhook_delivery_logs"
            " WHERE webhook_id = :w",
            w=view.endpoint_id,
        )[0]
        assert row.status == "pending" and row.attempt_count == 1
        # Once the lease runs out another worker takes the delivery over.
        second = worker_process(url)
        try:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                if (
                    scalar(
                        "SELECT status FROM webhook_delivery_logs WHERE webhook_id = :w",
                        w=view.endpoint_id,
                    )
                    == "success"
                ):
                    break
                time.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(10)
        done = rows(
            "SELECT status, attempt_count, message_id, attempts FROM webhook_delivery_logs"
            " WHERE webhook_id = :w",
            w=view.endpoint_id,
        )[0]
        assert done.status == "success" and done.attempt_count == 2
        got = slow.wait_for(1)
        assert got and {g["webhook_id"] for g in got} == {row.message_id}
        assert placed_numbers(got)[0] == made.order_number
        assert all(g["valid"] for g in got)
    finally:
        slow.stop()


def test_two_workers_never_send_one_attempt_twice(
    checkout_db: Engine, admin: Actor, receiver: Receiver, tmp_path
) -> None:
    (tmp_path / "other").mkdir()
    other = Receiver(tmp_path / "other").start()
    try:
        ids = [str(endpoint(admin, r)[0].endpoint_id) for r in (receiver, other)]
        orders(30)
        workers = [dispatcher(checkout_db, f"w{i}") for i in range(2)]
        for w in workers:
            w.claim_batch = 4  # small batches, so the two interleave
        threads = [
            threading.Thread(target=w.run_for, args=(15,), kwargs={"idle_seconds": 1.5})
            for w in workers
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for w in workers:
            w.close()
        for r in (receiver, other):
            got = r.wait_for(30)
            sent = [g["webhook_id"] for g in got]
            assert len(sent) == 30 and len(set(sent)) == 30, "an attempt was sent twice"
        mine = rows(
            "SELECT attempt_count, attempts FROM webhook_delivery_logs"
            " WHERE webhook_id = ANY (CAST(:w AS uuid[]))",
            w=ids,
        )
        assert len(mine) == 60 and {m.attempt_count for m in mine} == {1}
        senders = {a["worker"] for m in mine for a in m.attempts}
        assert senders == {"w0", "w1"}, "both workers delivered"
    finally:
        other.stop()


def test_deliveries_of_one_order_arrive_in_order(
    checkout_db: Engine, admin: Actor, receiver: Receiver
) -> None:
    from core.checkout.refunds import cancel_order

    endpoint(admin, receiver, ("order.placed", "order.cancelled"))
    (made,) = orders(1)
    cancel_order(Actor(user_id=make_person()), made.order_id, "changed plans")
    d = dispatcher(checkout_db)
    try:
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 2)
    finally:
        d.close()
    assert [g["body"]["type"] for g in receiver.deliveries()] == ["order.placed", "order.cancelled"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://192.168.0.10/hook",
    ],
)
def test_private_loopback_and_link_local_urls_are_refused(
    admin: Actor, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.delenv("FASHIONISTAS_WEBHOOKS_ALLOW_PRIVATE")
    with pytest.raises(ValidationError) as caught:
        create_endpoint(admin, name="inside", url=url, events=["order.placed"])
    assert caught.value.field == "url"
    assert "private, loopback or link-local" in caught.value.message


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "https://user:pw@example.com/x", "not a url", ""]
)
def test_malformed_urls_are_refused_naming_url(admin: Actor, url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        create_endpoint(admin, name="bad", url=url, events=["order.placed"])
    assert caught.value.field == "url"


def test_bad_event_types_and_names_are_refused(admin: Actor, receiver: Receiver) -> None:
    with pytest.raises(ValidationError) as caught:
        create_endpoint(admin, name="x", url=receiver.url, events=["order.exploded"])
    assert caught.value.field == "events"
    with pytest.raises(ValidationError) as caught:
        create_endpoint(admin, name="  ", url=receiver.url, events=["order.placed"])
    assert caught.value.field == "name"


def test_rotation_signs_with_both_secrets_for_the_overlap(
    checkout_db: Engine, admin: Actor, receiver: Receiver
) -> None:
    view, old = endpoint(admin, receiver)
    new = rotate_secret(admin, view.endpoint_id)
    assert new != old and new.startswith("whsec_")
    receiver.trust(old, new)
    orders(1)
    d = dispatcher(checkout_db)
    try:
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 1)
        (got,) = receiver.deliveries()
        # Both signatures are on the message: a receiver on either secret accepts it.
        assert got["signatures"] == 2 and got["verified"] == [0, 1]
        # After the overlap only the new secret signs.
        execute(
            "UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second'"
            " WHERE id = :w",
            w=view.endpoint_id,
        )
        orders(1)
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 2)
    finally:
        d.close()
    latest = receiver.deliveries()[-1]
    assert latest["signatures"] == 1 and latest["verified"] == [1]


def test_secrets_never_in_audit_rows_deliveries_or_errors(
    checkout_db: Engine, admin: Actor, receiver: Receiver
) -> None:
    view, first = endpoint(admin, receiver)
    second = rotate_secret(admin, view.endpoint_id)
    update_endpoint(admin, view.endpoint_id, description="renamed")
    orders(1)
    d = dispatcher(checkout_db)
    try:
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 1)
    finally:
        d.close()
    ping = send_test_ping(admin, view.endpoint_id)
    assert ping.status == "success"
    bare = {s.removeprefix("whsec_") for s in (first, second)}
    for table in ("audit_logs", "webhook_delivery_logs", "domain_events", "webhooks"):
        dump = scalar(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t")
        for secret in bare:
            assert secret not in dump, table
    audit = scalar(
        "SELECT count(*) FROM audit_logs WHERE table_name = 'webhooks' AND record_id = :w",
        w=str(view.endpoint_id),
    )
    assert audit >= 3
    shown = repr(list_endpoints(admin)) + repr(get_delivery(admin, ping.delivery_id))
    assert not any(s in shown for s in bare)
    with pytest.raises(Conflict) as caught:
        execute(
            "UPDATE webhooks SET secret_sealed = NULL, secret_key_id = NULL,"
            " previous_secret_sealed = NULL, previous_secret_key_id = NULL,"
            " previous_secret_expires_at = NULL WHERE id = :w",
            w=view.endpoint_id,
        )
        send_test_ping(admin, view.endpoint_id)
    assert not any(s in caught.value.message for s in bare)


def test_the_plain_secret_column_stays_empty(checkout_db: Engine) -> None:
    from core.errors import DomainError

    with pytest.raises(DomainError):
        execute(
            "INSERT INTO webhooks (name, url, events, secret_key)"
            " VALUES ('x', 'https://example.com', '{order.placed}', 'whsec_plain')"
        )


def test_an_endpoint_failing_for_the_limit_is_disabled(
    checkout_db: Engine, admin: Actor, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FASHIONISTAS_WEBHOOKS_DISABLE_AFTER_SECONDS", "1")
    broken = Receiver(tmp_path, status=500).start()
    try:
        view, _ = endpoint(admin, broken)
        orders(1)
        d = dispatcher(checkout_db)
        try:
            assert dispatch_until(
                d,
                lambda: (
                    not scalar("SELECT is_active FROM webhooks WHERE id = :w", w=view.endpoint_id)
                ),
                timeout=20,
            )
        finally:
            d.close()
    finally:
        broken.stop()
    (shown,) = [e for e in list_endpoints(admin) if e.endpoint_id == view.endpoint_id]
    assert shown.status == "disabled" and "every delivery failed since" in shown.disabled_reason
    delivery = list_deliveries(admin, endpoint_id=view.endpoint_id)[0]
    assert delivery.response_code == 500 and delivery.status == "retry"
    # Enabling clears the disabled state.
    again = set_active(admin, view.endpoint_id, True)
    assert again.status == "active" and again.disabled_reason is None


def test_ping_replay_and_delivery_detail(
    checkout_db: Engine, admin: Actor, receiver: Receiver
) -> None:
    view, _ = endpoint(admin, receiver)
    ping = send_test_ping(admin, view.endpoint_id)
    assert ping.status == "success" and ping.response_code == 204
    assert receiver.deliveries()[0]["body"]["type"] == "webhook.ping"
    orders(1)
    d = dispatcher(checkout_db)
    try:
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 2)
        (placed,) = list_deliveries(admin, endpoint_id=view.endpoint_id, event_type="order.placed")
        assert replay(admin, delivery_id=placed.delivery_id) == 1
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 3)
        # Every failed delivery since a time: mark one failed, replay it.
        execute(
            "UPDATE webhook_delivery_logs SET status = 'failed' WHERE id = :i", i=placed.delivery_id
        )
        since = datetime.now(UTC) - timedelta(hours=1)
        assert replay(admin, failed_since=since, endpoint_id=view.endpoint_id) == 1
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 4)
    finally:
        d.close()
    got = receiver.deliveries()
    assert got[1]["webhook_id"] == got[2]["webhook_id"] == got[3]["webhook_id"]
    detail = get_delivery(admin, placed.delivery_id)
    assert detail.attempt_count == 3 and len(detail.attempts) == 3
    assert detail.request_headers["webhook-id"] == placed.message_id
    assert detail.request_body == body_of(got[1]["body"])
    with pytest.raises(ValidationError) as caught:
        replay(admin)
    assert caught.value.field == "failed_since"


def test_rotating_the_webhook_key_reencrypts_every_secret(
    checkout_db: Engine, admin: Actor, receiver: Receiver
) -> None:
    import os

    from cryptography.fernet import Fernet

    from core.crypto import rotate_key

    view, _ = endpoint(admin, receiver)
    old_key = scalar("SELECT secret_key_id FROM webhooks WHERE id = :w", w=view.endpoint_id)
    # Kept for the rest of the module: later tests seal under the new version.
    os.environ["FASHIONISTAS_WEBHOOK_KEY_V9"] = Fernet.generate_key().decode()
    report = rotate_key(admin, "webhook_secret", "env:FASHIONISTAS_WEBHOOK_KEY_V9")
    assert report.reencrypted["webhooks"] >= 1
    new_key = scalar("SELECT secret_key_id FROM webhooks WHERE id = :w", w=view.endpoint_id)
    assert new_key != old_key
    orders(1)
    d = dispatcher(checkout_db)
    try:
        assert dispatch_until(d, lambda: len(receiver.deliveries()) >= 1)
    finally:
        d.close()
    assert receiver.deliveries()[0]["verified"] == [0]
