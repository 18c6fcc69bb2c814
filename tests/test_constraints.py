"""Bad input is refused by the database itself and reaches callers as a domain error that
names the field and the rule; nothing of the unit of work is kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from core.db import Actor, unit_of_work
from core.errors import Conflict, ValidationError
from core.models import Event, User
from tests.factories import make_discount_code, make_event, make_ticket_type, make_user

ACTOR = Actor.system("pytest")


def test_event_ending_before_it_starts(engine: Engine) -> None:
    with pytest.raises(ValidationError) as caught, unit_of_work(ACTOR) as uow:
        event = make_event(uow.session)
        event.end_date = event.start_date - timedelta(hours=1)
        uow.session.flush()
    assert caught.value.field == "end_date"
    assert caught.value.message == "end date must be after the start date"


def test_negative_ticket_price(engine: Engine) -> None:
    with pytest.raises(ValidationError) as caught, unit_of_work(ACTOR) as uow:
        make_ticket_type(uow.session, base_price=Decimal("-5.00"))
    assert caught.value.field == "base_price"
    assert "negative" in caught.value.message


def test_percentage_discount_over_100(engine: Engine) -> None:
    with pytest.raises(ValidationError) as caught, unit_of_work(ACTOR) as uow:
        make_discount_code(uow.session, discount_type="percentage", discount_value=Decimal("150"))
    assert caught.value.field == "discount_value"
    assert "100" in caught.value.message


def test_value_outside_an_enumeration(engine: Engine) -> None:
    with pytest.raises(ValidationError) as caught, unit_of_work(ACTOR) as uow:
        make_event(uow.session, status="maybe")
    assert caught.value.field == "status"
    assert "draft" in caught.value.message and "published" in caught.value.message


def test_missing_required_field(engine: Engine) -> None:
    with pytest.raises(ValidationError) as caught, unit_of_work(ACTOR) as uow:
        make_event(uow.session, title=None)
    assert caught.value.field == "title"
    assert caught.value.message == "title is required"


def test_duplicate_unique_value(engine: Engine) -> None:
    with pytest.raises(Conflict) as caught, unit_of_work(ACTOR) as uow:
        first = make_user(uow.session)
        make_user(uow.session, email=first.email)
    assert caught.value.field == "email"
    assert "already exists" in caught.value.message


def test_reference_to_nothing(engine: Engine) -> None:
    import uuid

    with pytest.raises(ValidationError) as caught, unit_of_work(ACTOR) as uow:
        make_event(uow.session, organizer_id=uuid.uuid4())
    assert caught.value.field == "organizer_id"
    assert caught.value.code == "unknown_reference"


def test_a_refused_unit_keeps_nothing(engine: Engine) -> None:
    marker = "refused-unit@example.com"
    with pytest.raises(ValidationError), unit_of_work(ACTOR) as uow:
        organizer = make_user(uow.session, email=marker)
        make_event(uow.session, organizer, status="maybe")
        uow.commit()
    with unit_of_work(ACTOR, read_only=True) as uow:
        left = uow.session.scalar(
            select(func.count()).select_from(User).where(User.email == marker)
        )
        events = uow.session.scalar(
            select(func.count()).select_from(Event).where(Event.status == "maybe")
        )
    assert (left, events) == (0, 0)
