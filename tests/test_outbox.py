"""The transactional outbox: an event exists exactly when its change committed, and every
event type of the catalogue is written by the change its service makes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine, text

from core.checkout.refunds import RefundLine, cancel_order, refund_order
from core.db import Actor, unit_of_work
from core.db.engine import app_url
from core.errors import ValidationError
from core.gdpr.requests import complete
from core.outbox import EVENT_TYPES, emit
from core.services.events import cancel_event, postpone_event, publish_event
from core.sponsors.assets import review_asset
from tests.checkout_world import (
    ACTOR,
    checkout_db_fixture,  # noqa: F401  (the module's scratch database)
    hold,
    make_code,
    make_person,
    make_sale_event,
    place,
    rows,
    scalar,
)

pytestmark = pytest.mark.usefixtures("checkout_db")


def events_of(aggregate_id: uuid.UUID | str, event_type: str | None = None) -> list:
    return rows(
        "SELECT event_type, event_data, idempotency_key FROM domain_events"
        " WHERE aggregate_id = :a AND (CAST(:t AS text) IS NULL OR event_type = :t)"
        " ORDER BY sequence",
        a=str(aggregate_id),
        t=event_type,
    )


def test_emit_writes_only_when_the_transaction_commits() -> None:
    aggregate = uuid.uuid4()
    with unit_of_work(ACTOR) as uow:
        emit(
            uow,
            aggregate_type="order",
            aggregate_id=aggregate,
            event_type="order.placed",
            data={"order_id": str(aggregate)},
        )
        # left without commit: rolled back
    assert events_of(aggregate) == []
    with unit_of_work(ACTOR) as uow:
        first = emit(
            uow,
            aggregate_type="order",
            aggregate_id=aggregate,
            event_type="order.placed",
            data={"n": 1},
            idempotency_key=f"t:{aggregate}",
        )
        again = emit(
            uow.session,
            aggregate_type="order",
            aggregate_id=aggregate,
            event_type="order.placed",
            data={"n": 2},
            idempotency_key=f"t:{aggregate}",
        )
        uow.commit()
    assert first is not None and again is None
    assert [e.event_data for e in events_of(aggregate)] == [{"n": 1}]


def test_emit_refuses_unknown_types_and_non_objects() -> None:
    with unit_of_work(ACTOR) as uow:
        with pytest.raises(ValidationError) as caught:
            emit(uow, aggregate_type="x", aggregate_id="1", event_type="nope", data={})
        assert caught.value.field == "event_type"
        with pytest.raises(ValidationError) as caught:
            emit(uow, aggregate_type="x", aggregate_id="1", event_type="order.placed", data=[1])  # type: ignore[arg-type]
        assert caught.value.field == "data"


def test_the_app_role_without_a_person_cannot_emit(checkout_db: Engine) -> None:
    # outbox_emit is SECURITY DEFINER: only a signed-in person or the owner may call it.
    app = create_engine(app_url(checkout_db.url.render_as_string(hide_password=False)))
    try:
        with (
            app.connect() as conn,
            pytest.raises(Exception, match="only a signed-in person or the owner"),
        ):
            conn.execute(text("SELECT outbox_emit('order', 'x', 'order.placed', '{}')"))
    finally:
        app.dispose()


def test_order_placed_once_from_the_plpgsql_checkout() -> None:
    sale = make_sale_event()
    placed = place(hold(sale, {sale.ticket_type_ids[0]: 2}))
    found = events_of(placed.order_id)
    assert [e.event_type for e in found] == ["order.placed"]
    data = found[0].event_data
    assert data["order_number"] == placed.order_number and data["status"] == "completed"
    assert data["items"][0]["quantity"] == 2
    # No personal data: the buyer's name and e-mail stay in the order.
    assert "billing_email" not in data and "@" not in str(data)


def test_order_placed_once_from_the_python_checkout() -> None:
    # An order with a code takes the statement-by-statement Python path.
    sale = make_sale_event()
    code = make_code("discount", value="10")
    placed = place(hold(sale, {sale.ticket_type_ids[0]: 1}), code=code.code)
    assert [e.event_type for e in events_of(placed.order_id)] == ["order.placed"]
    assert Decimal(str(events_of(placed.order_id)[0].event_data["discount_amount"])) > 0


def test_a_refused_checkout_leaves_no_event() -> None:
    sale = make_sale_event()
    held = hold(sale, {sale.ticket_type_ids[0]: 1})
    before = scalar("SELECT count(*) FROM domain_events WHERE event_type = 'order.placed'")
    with pytest.raises(Exception):  # noqa: B017  (the amount changed: refused)
        place(held, expected=Decimal("0.01"))
    after = scalar("SELECT count(*) FROM domain_events WHERE event_type = 'order.placed'")
    assert after == before


def test_cancel_and_refund_emit_their_events() -> None:
    sale = make_sale_event()
    seller = Actor(user_id=make_person())
    first = place(hold(sale, {sale.ticket_type_ids[0]: 3}))
    item_id = scalar("SELECT id FROM order_items WHERE order_id = :o", o=first.order_id)
    refund_order(seller, first.order_id, "changed plans", lines=[RefundLine(item_id, 1)])
    refunded = events_of(first.order_id, "order.refunded")
    assert len(refunded) == 1
    assert Decimal(str(refunded[0].event_data["refunded_amount"])) == Decimal("50.00")
    second = place(hold(sale, {sale.ticket_type_ids[0]: 1}))
    cancel_order(seller, second.order_id, "duplicate")
    kinds = [e.event_type for e in events_of(second.order_id)]
    assert kinds[0] == "order.placed" and "order.cancelled" in kinds
    assert kinds.count("order.cancelled") == 1


def test_ticket_type_sold_out_when_the_last_ticket_goes() -> None:
    sale = make_sale_event(({"capacity": 2},))
    place(hold(sale, {sale.ticket_type_ids[0]: 1}))
    assert events_of(sale.ticket_type_ids[0]) == []
    place(hold(sale, {sale.ticket_type_ids[0]: 1}))
    found = events_of(sale.ticket_type_ids[0])
    assert [e.event_type for e in found] == ["ticket_type.sold_out"]
    assert found[0].event_data["remaining_capacity"] == 0


def test_event_status_changes_emit_published_postponed_cancelled() -> None:
    sale = make_sale_event(status="draft")
    organizer = Actor(user_id=sale.organizer_id)
    with unit_of_work(ACTOR) as uow:
        uow.session.execute(
            text(
                "INSERT INTO user_roles (user_id, role_id)"
                " SELECT :u, id FROM roles WHERE name = 'organizer'"
            ),
            {"u": sale.organizer_id},
        )
        uow.commit()
    publish_event(organizer, sale.event_id)
    postpone_event(organizer, sale.event_id, reason="weather")
    cancel_event(organizer, sale.event_id, "venue flooded")
    kinds = [e.event_type for e in events_of(sale.event_id)]
    assert kinds == ["event.published", "event.postponed", "event.cancelled"]
    assert events_of(sale.event_id)[1].event_data["previous_status"] == "published"


def test_sponsorship_asset_approved() -> None:
    sale = make_sale_event()
    reviewer = Actor(user_id=make_person("admin"))
    with unit_of_work(ACTOR) as uow:
        s = uow.session
        sponsor = s.execute(
            text("INSERT INTO sponsors (name, status) VALUES ('Acme', 'active') RETURNING id")
        ).scalar_one()
        sponsorship = s.execute(
            text(
                "INSERT INTO sponsorships (sponsor_id, event_id, start_date, end_date)"
                " VALUES (:s, :e, current_date, current_date + 30) RETURNING id"
            ),
            {"s": sponsor, "e": sale.event_id},
        ).scalar_one()
        asset = s.execute(
            text(
                "INSERT INTO sponsorship_assets (sponsorship_id, name, file_url, file_type)"
                " VALUES (:s, 'Banner', 'https://cdn.example.com/b.png', 'image/png')"
                " RETURNING id"
            ),
            {"s": sponsorship},
        ).scalar_one()
        uow.commit()
    review_asset(reviewer, asset, "approved")
    found = events_of(asset)
    assert [e.event_type for e in found] == ["sponsorship_asset.approved"]
    assert found[0].event_data["sponsorship_id"] == str(sponsorship)


def test_data_request_completed_without_the_subjects_email() -> None:
    officer = Actor(user_id=make_person("admin"))
    email = f"subject-{uuid.uuid4().hex[:8]}@example.com"
    with unit_of_work(ACTOR) as uow:
        request_id = uow.session.execute(
            text(
                "INSERT INTO data_subject_requests (subject_email, request_type, status, due_at,"
                " identity_verified_at, identity_verification_method)"
                " VALUES (:m, 'rectification', 'processing', :d, now(), 'email') RETURNING id"
            ),
            {"m": email, "d": datetime.now(UTC) + timedelta(days=30)},
        ).scalar_one()
        uow.commit()
    complete(officer, request_id)
    found = events_of(request_id)
    assert [e.event_type for e in found] == ["data_request.completed"]
    assert email not in str(found[0].event_data) and "@" not in str(found[0].event_data)


def test_the_catalogue_covers_every_type_the_database_emits(checkout_db: Engine) -> None:
    with checkout_db.connect() as conn:
        source = "\n".join(
            conn.execute(
                text("SELECT prosrc FROM pg_proc WHERE proname LIKE 'outbox\\_%'")
            ).scalars()
        )
    for name in EVENT_TYPES:
        head = name.split(".")[0]
        assert head in source, name
    for name, kind in EVENT_TYPES.items():
        assert kind.description and kind.example, name
