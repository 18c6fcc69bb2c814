"""Database functions and triggers: updated_at, slugs, the ticket-type version check."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from core.db import Actor, unit_of_work
from core.errors import ConcurrentUpdate
from tests.factories import make_event, make_ticket_type

ACTOR = Actor.system("pytest")


def test_updated_at_is_set_by_the_database_on_every_update(engine: Engine) -> None:
    with unit_of_work(ACTOR) as uow:
        event = make_event(uow.session)
        uow.session.execute(
            text("UPDATE events SET updated_at = '2000-01-01', title = 'x' WHERE id = :id"),
            {"id": event.id},
        )
        after, transaction_now = uow.session.execute(
            text("SELECT updated_at, now() FROM events WHERE id = :id"), {"id": event.id}
        ).one()
    # The trigger overrides whatever the writer sent with the transaction's time.
    assert after == transaction_now


def test_slugs_are_generated_unique_and_kept_when_given(engine: Engine) -> None:
    with unit_of_work(ACTOR) as uow:
        first = make_event(uow.session, title="Été à Paris: Couture Night!")
        second = make_event(uow.session, title="Ete a Paris couture night")
        given = make_event(uow.session, title="Anything", slug="chosen-slug")
        slugs = dict(
            uow.session.execute(
                text("SELECT id, slug FROM events WHERE id IN (:a, :b, :c)"),
                {"a": first.id, "b": second.id, "c": given.id},
            ).all()
        )
    assert slugs[first.id] == "ete-a-paris-couture-night"
    assert slugs[second.id] == "ete-a-paris-couture-night-2"
    assert slugs[given.id] == "chosen-slug"


def test_ticket_type_version_moves_and_a_stale_write_is_refused(engine: Engine) -> None:
    with unit_of_work(ACTOR) as uow:
        ticket_type = make_ticket_type(uow.session)
        assert ticket_type.version == 1
        ticket_type.name = "Renamed"
        uow.session.flush()
        assert ticket_type.version == 2

        # A writer that read version 1 and writes it back is refused by the trigger itself.
        with pytest.raises(Exception) as caught, uow.session.begin_nested():
            uow.session.execute(
                text("UPDATE ticket_types SET version = 1, name = 'stale' WHERE id = :id"),
                {"id": ticket_type.id},
            )
        assert getattr(caught.value.orig, "sqlstate", None) == "40001"


def test_stale_orm_write_becomes_a_concurrent_update_error(engine: Engine) -> None:
    with unit_of_work(ACTOR) as setup:
        ticket_type = make_ticket_type(setup.session)
        setup.commit()
    try:
        with pytest.raises(ConcurrentUpdate), unit_of_work(ACTOR) as uow:
            from core.models import TicketType

            mine = uow.session.get(TicketType, ticket_type.id)
            # Someone else saves first, in their own transaction.
            with unit_of_work(ACTOR) as other:
                theirs = other.session.get(TicketType, ticket_type.id)
                theirs.base_price = theirs.base_price + 1
                other.commit()
            mine.name = "Mine"
            uow.commit()
    finally:
        with unit_of_work(ACTOR) as cleanup:
            cleanup.session.execute(
                text("DELETE FROM events WHERE id = :id"), {"id": ticket_type.event_id}
            )
            cleanup.commit()
