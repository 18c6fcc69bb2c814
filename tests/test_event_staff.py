"""Who works which event: the assignment service and the Events page's Staff tab, on a
database of this module's own (the app role, so row-level security applies)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.auth import Identity, PermissionDenied
from core.db import unit_of_work
from core.errors import Conflict, NotFound, ValidationError
from core.models import User
from core.services.event_staff import (
    assign_staff,
    get_event_staff,
    remove_staff,
    sale_event_ids,
)
from core.services.orders import list_order_events
from tests.apptest import make_person, messages, open_page
from tests.factories import make_event


def _event(owner: Engine, organizer: Identity) -> tuple[uuid.UUID, str]:
    title = f"Staffed Show {uuid.uuid4().hex[:8]}"
    with Session(owner) as s, s.begin():
        event = make_event(
            s,
            s.get(User, organizer.user_id),
            title=title,
            status="published",
            published_at=datetime.now(UTC),
        )
        return event.id, title


def _assignments(owner: Engine, event_id: uuid.UUID) -> set[uuid.UUID]:
    with owner.connect() as conn:
        return set(
            conn.execute(
                text("SELECT user_id FROM event_staff WHERE event_id = :e"), {"e": event_id}
            ).scalars()
        )


@pytest.fixture(scope="module")
def staff(owner: Engine) -> Identity:
    return make_person(owner, ["staff"], user_type="staff", full_name="Sam Steward")


def test_the_organizer_assigns_and_removes_staff_and_the_trail_says_so(
    owner: Engine, organizer: Identity, staff: Identity
) -> None:
    event_id, title = _event(owner, organizer)
    before = get_event_staff(organizer.actor(), event_id)
    assert before.event_title == title and before.assigned == ()
    assert staff.user_id in {p.user_id for p in before.available}

    person = assign_staff(organizer.actor(), event_id, staff.user_id)
    assert (person.name, person.assigned_at is not None) == ("Sam Steward", True)
    after = get_event_staff(organizer.actor(), event_id)
    assert [p.user_id for p in after.assigned] == [staff.user_id]
    assert staff.user_id not in {p.user_id for p in after.available}
    with unit_of_work(staff.actor(), read_only=True) as uow:
        assert event_id in sale_event_ids(uow.session)
    assert event_id in {e.event_id for e in list_order_events(staff.actor())}

    with pytest.raises(Conflict, match=f"already works {title}"):
        assign_staff(organizer.actor(), event_id, staff.user_id)
    remove_staff(organizer.actor(), event_id, staff.user_id)
    assert _assignments(owner, event_id) == set()
    assert event_id not in {e.event_id for e in list_order_events(staff.actor())}
    with pytest.raises(NotFound):
        remove_staff(organizer.actor(), event_id, staff.user_id)

    with owner.connect() as conn:
        trail = conn.execute(
            text(
                "SELECT action, user_id FROM audit_logs WHERE table_name = 'event_staff'"
                " AND coalesce(new_data, old_data) ->> 'event_id' = :e"
                " ORDER BY created_at, seq"
            ),
            {"e": str(event_id)},
        ).all()
    assert [tuple(t) for t in trail] == [
        ("event_staff.insert", organizer.user_id),
        ("event_staff.delete", organizer.user_id),
    ]


def test_only_an_active_staff_person_is_assigned(owner: Engine, organizer: Identity) -> None:
    event_id, _ = _event(owner, organizer)
    marketer = make_person(owner, ["marketing"])
    inactive = make_person(owner, ["staff"])
    with owner.begin() as conn:
        conn.execute(
            text("UPDATE users SET status = 'inactive' WHERE id = :u"), {"u": inactive.user_id}
        )
    for user_id in (marketer.user_id, inactive.user_id, uuid.uuid4()):
        with pytest.raises(ValidationError) as refused:
            assign_staff(organizer.actor(), event_id, user_id)
        assert refused.value.field == "user_id"
    assert _assignments(owner, event_id) == set()


def test_only_the_events_organizer_or_an_admin_assigns(
    owner: Engine, organizer: Identity, staff: Identity
) -> None:
    event_id, title = _event(owner, organizer)
    other = make_person(owner, ["organizer"])
    admin = make_person(owner, ["admin"])
    with pytest.raises(PermissionDenied, match=f"organizer of {title}"):
        assign_staff(other.actor(), event_id, staff.user_id)
    with pytest.raises(PermissionDenied, match=f"organizer of {title}"):
        get_event_staff(other.actor(), event_id)
    with pytest.raises(PermissionDenied):
        assign_staff(staff.actor(), event_id, staff.user_id)  # nobody assigns themselves
    assign_staff(admin.actor(), event_id, staff.user_id)
    assert _assignments(owner, event_id) == {staff.user_id}
    with pytest.raises(PermissionDenied):
        remove_staff(other.actor(), event_id, staff.user_id)
    remove_staff(admin.actor(), event_id, staff.user_id)
    with pytest.raises(NotFound):
        get_event_staff(organizer.actor(), uuid.uuid4())


def test_the_database_refuses_an_assignment_past_the_service(
    owner: Engine, organizer: Identity, staff: Identity
) -> None:
    """Another organizer (or the staff person) writing event_staff as plain SQL: refused
    by its policy, whoever the row says assigned them."""
    event_id, _ = _event(owner, organizer)
    other = make_person(owner, ["organizer"])
    for who, assigned_by in ((other, other.user_id), (staff, organizer.user_id)):
        with pytest.raises(PermissionDenied), unit_of_work(who.actor()) as uow:
            uow.session.execute(
                text(
                    "INSERT INTO event_staff (event_id, user_id, assigned_by) VALUES (:e, :u, :by)"
                ),
                {"e": event_id, "u": staff.user_id, "by": assigned_by},
            )
            uow.commit()
    assert _assignments(owner, event_id) == set()


def test_a_role_taken_away_ends_the_access_an_assignment_gave(
    owner: Engine, organizer: Identity
) -> None:
    worker = make_person(owner, ["staff"])
    event_id, _ = _event(owner, organizer)
    assign_staff(organizer.actor(), event_id, worker.user_id)
    with unit_of_work(worker.actor(), read_only=True) as uow:
        assert event_id in sale_event_ids(uow.session)
    with owner.begin() as conn:
        conn.execute(text("DELETE FROM user_roles WHERE user_id = :u"), {"u": worker.user_id})
    with unit_of_work(worker.actor(), read_only=True) as uow:
        assert event_id not in sale_event_ids(uow.session)


# -- the page -------------------------------------------------------------------------------


def _open_staff_tab(organizer: Identity, event_id: uuid.UUID, title: str) -> AppTest:
    at = open_page("events.py", organizer)
    at.text_input(key="events_search").input(title).run()
    at.selectbox(key="events_pick").set_value(str(event_id)).run()
    assert not at.exception
    return at


def test_the_events_page_assigns_and_removes_staff_after_confirmation(
    owner: Engine, organizer: Identity, staff: Identity
) -> None:
    event_id, title = _event(owner, organizer)
    at = _open_staff_tab(organizer, event_id, title)
    assert "Nobody works this event yet" in messages(at)
    at.selectbox(key=f"staff_add_pick_{event_id}").set_value(str(staff.user_id))
    at = at.button(key=f"FormSubmitter:staff_add_{event_id}-Assign to this event").click().run()
    assert not at.exception
    assert f"Sam Steward now works {title}." in messages(at)
    assert _assignments(owner, event_id) == {staff.user_id}
    table = at.dataframe[-1].value
    assert list(table["Name"]) == ["Sam Steward"]

    at.selectbox(key=f"staff_pick_{event_id}").set_value(str(staff.user_id)).run()
    at = at.button(key=f"staff_remove_{event_id}_{staff.user_id}_ask").click().run()
    assert any("Take Sam Steward off the staff" in w.value for w in at.warning)
    assert _assignments(owner, event_id) == {staff.user_id}, "nothing before the confirmation"
    at = at.button(key=f"staff_remove_{event_id}_{staff.user_id}_yes").click().run()
    assert not at.exception
    assert f"Sam Steward no longer works {title}." in messages(at)
    assert _assignments(owner, event_id) == set()


def test_the_staff_tab_tells_another_organizer_who_assigns(
    owner: Engine, organizer: Identity
) -> None:
    event_id, title = _event(owner, organizer)
    other = make_person(owner, ["organizer"])
    at = _open_staff_tab(other, event_id, title)
    assert "Only this event's organizer or an admin assigns its staff." in messages(at)
    assert not [b for b in at.button if str(b.key).startswith("FormSubmitter:staff_add_")]


def test_the_demo_staff_work_events(owner: Engine) -> None:
    """Every demo event has its staff, and every demo staff person works some event, so
    the box office works for them out of the box."""
    with owner.connect() as conn:
        unstaffed = conn.execute(
            text(
                "SELECT count(*) FROM events e WHERE NOT EXISTS"
                " (SELECT 1 FROM event_staff s WHERE s.event_id = e.id)"
                " AND e.created_at < now() - interval '1 hour'"
            )
        ).scalar_one()
        idle = conn.execute(
            text(
                "SELECT count(*) FROM users u WHERE u.user_type = 'staff'"
                " AND u.created_at < now() - :d AND NOT EXISTS"
                " (SELECT 1 FROM event_staff s WHERE s.user_id = u.id)"
            ),
            {"d": timedelta(hours=1)},
        ).scalar_one()
    assert (unstaffed, idle) == (0, 0)
