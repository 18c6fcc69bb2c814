"""Attendees: the list of one event (seat by seat, searchable, cancelled ones on request),
its export, and the page with its CSV and Excel downloads in AppTest, on a database of
this module's own as the app role (row-level security applies as in the browser).

Orders are placed and refunded through the checkout core by the test's organizer.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from core.auth import Identity, PermissionDenied
from core.checkout.holds import HoldRequest, hold_tickets
from core.checkout.orders import (
    Buyer,
    OrderRequest,
    cancel_order,
    place_order,
    quote_order,
    refund_order,
)
from core.errors import NotFound
from core.models import EventSeat, User
from core.services.attendees import COLUMNS, attendee_table, list_attendees
from core.services.orders import list_order_events
from tests.apptest import make_person, messages, open_page
from tests.factories import assign_staff, make_event, make_seated_section, make_ticket_type

D = Decimal
PAGE = "attendees.py"


@dataclass(frozen=True)
class Show:
    event_id: uuid.UUID
    title: str
    general: uuid.UUID
    seat_ids: tuple[uuid.UUID, ...]


def make_show(owner: Engine, organizer: Identity, *, seats: int = 4) -> Show:
    """A published event: General (unseated, 50.00) and Stalls (seats A1..A`seats`)."""
    with Session(owner) as s, s.begin():
        venue, section, seat_rows = make_seated_section(s, seats)
        event = make_event(
            s,
            s.get(User, organizer.user_id),
            title=f"Attendee Gala {uuid.uuid4().hex[:8]}",
            status="published",
            published_at=datetime.now(UTC),
            venue_id=venue.id,
        )
        general = make_ticket_type(s, event, name="General", base_price=D("50.00"))
        make_ticket_type(
            s, event, name="Stalls", base_price=D("90.00"), total_capacity=seats,
            remaining_capacity=seats, seating_section_id=section.id, tier="premium",
        )  # fmt: skip
        s.add_all(EventSeat(event_id=event.id, seat_id=seat.id) for seat in seat_rows)
        return Show(event.id, event.title, general.id, tuple(x.id for x in seat_rows))


def buy(
    organizer: Identity,
    show: Show,
    name: str,
    *,
    general: int = 0,
    seats: tuple[uuid.UUID, ...] = (),
) -> uuid.UUID:
    actor = organizer.actor()
    session_id = uuid.uuid4().hex
    buyer = Buyer(name=name, email=f"{name.split()[0].lower()}.{session_id[:6]}@example.com")
    hold_tickets(
        actor,
        HoldRequest(show.event_id, session_id, {show.general: general} if general else {}, seats),
    )
    quote = quote_order(actor, show.event_id, session_id, None, buyer)
    request = OrderRequest(show.event_id, session_id, buyer, "cash", quote.total, session_id)
    return place_order(actor, request).order_id


@pytest.fixture(scope="module")
def gala(owner: Engine, organizer: Identity) -> Show:
    """Ana: 2 seats; Bruno: 3 General; Carla: 1 General, refunded; Dario: cancelled."""
    show = make_show(owner, organizer)
    buy(organizer, show, "Ana Aurora", seats=show.seat_ids[:2])
    buy(organizer, show, "Bruno Bianchi", general=3)
    carla = buy(organizer, show, "Carla Conti", general=1)
    refund_order(organizer.actor(), carla, "cannot come")
    dario = buy(organizer, show, "Dario Duca", seats=show.seat_ids[2:3])
    cancel_order(organizer.actor(), dario, "double booking")
    return show


# -- the list -------------------------------------------------------------------------------


def test_the_list_has_a_row_per_seat_or_item(organizer: Identity, gala: Show) -> None:
    found = list_attendees(organizer.actor(), gala.event_id)
    assert found.event_title == gala.title
    assert [(a.buyer_name, a.ticket_type, a.section, a.seat, a.quantity, a.status)
            for a in found.rows] == [
        ("Ana Aurora", "Stalls", "Front row", "A1", 1, "completed"),
        ("Ana Aurora", "Stalls", "Front row", "A2", 1, "completed"),
        ("Bruno Bianchi", "General", None, None, 3, "completed"),
    ]  # fmt: skip
    assert (found.total_rows, found.total_tickets, found.truncated) == (3, 5, False)
    assert all(a.order_number.startswith("FW-") for a in found.rows)

    everyone = list_attendees(organizer.actor(), gala.event_id, include_cancelled=True)
    statuses = {a.buyer_name: a.status for a in everyone.rows}
    assert statuses["Carla Conti"] == "refunded" and statuses["Dario Duca"] == "cancelled"


def test_search_and_limit(organizer: Identity, gala: Show) -> None:
    actor = organizer.actor()
    bruno = list_attendees(actor, gala.event_id, search="bianchi")
    assert [a.buyer_name for a in bruno.rows] == ["Bruno Bianchi"]
    by_email = list_attendees(actor, gala.event_id, search="ana.")
    assert {a.buyer_name for a in by_email.rows} == {"Ana Aurora"}
    number = bruno.rows[0].order_number
    assert [a.order_number for a in list_attendees(actor, gala.event_id, search=number).rows] == [
        number
    ]
    first = list_attendees(actor, gala.event_id, limit=1)
    assert (len(first.rows), first.total_rows, first.total_tickets, first.truncated) == (
        1,
        3,
        5,
        True,
    )


def test_the_export_holds_the_rows_in_csv_and_excel(organizer: Identity, gala: Show) -> None:
    found = list_attendees(organizer.actor(), gala.event_id, limit=None)
    table = attendee_table(found.rows)
    assert tuple(table.columns) == COLUMNS
    csv = table.to_csv(index=False).encode()
    lines = csv.decode().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert (
        lines[1].startswith("Ana Aurora,ana.") and ",Stalls,premium,Front row,A1,1,FW-" in lines[1]
    )
    assert ",General,general,,,3,FW-" in lines[3]

    buffer = io.BytesIO()
    table.assign(**{"Ordered at": table["Ordered at"].dt.tz_localize(None)}).to_excel(
        buffer, index=False
    )
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == list(COLUMNS)
    assert [row[0] for row in values[1:]] == ["Ana Aurora", "Ana Aurora", "Bruno Bianchi"]
    assert attendee_table(()).empty


def test_attendees_need_box_office_and_a_real_event(owner: Engine, gala: Show) -> None:
    marketing = make_person(owner, ["marketing"])
    with pytest.raises(PermissionDenied):
        list_attendees(marketing.actor(), gala.event_id)
    staff = make_person(owner, ["staff"])
    with pytest.raises(NotFound):
        list_attendees(staff.actor(), uuid.uuid4())
    at = open_page(PAGE, marketing)
    assert not at.exception and [t.value for t in at.title] == ["No access"]


def test_staff_see_the_attendees_of_the_events_they_work_only(owner: Engine, gala: Show) -> None:
    """Buyers' names and e-mails are for the event's organizer, its staff and admins: the
    service says so before row-level security would show an empty list."""
    outsider = make_person(owner, ["staff"])
    with pytest.raises(PermissionDenied, match="events you organise or work"):
        list_attendees(outsider.actor(), gala.event_id)
    assert gala.event_id not in {e.event_id for e in list_order_events(outsider.actor())}
    at = open_page(PAGE, outsider)
    assert not at.exception
    assert "events you organise or work" in messages(at)
    worker = make_person(owner, ["staff"])
    with Session(owner) as s, s.begin():
        assign_staff(s, gala.event_id, worker.user_id)
    assert list_attendees(worker.actor(), gala.event_id).total_tickets == 5


# -- the page -------------------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """File name -> bytes of every download button the app draws (AppTest keeps the media
    of a run in a storage that is gone when the run ends)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        files[filename] = data
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


def _slug(title: str) -> str:
    return "attendees-" + title.lower().replace(" ", "-")


def test_the_page_lists_and_downloads_csv_and_excel(
    owner: Engine, gala: Show, downloads: dict[str, bytes]
) -> None:
    staff = make_person(owner, ["staff"])
    with Session(owner) as s, s.begin():
        assign_staff(s, gala.event_id, staff.user_id)
    at = open_page(PAGE, staff)
    assert not at.exception and at.title[0].value == "Attendees"
    at.selectbox(key="att_event").set_value(str(gala.event_id)).run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert list(shown["Buyer"]) == ["Ana Aurora", "Ana Aurora", "Bruno Bianchi"]
    assert [m.value for m in at.metric] == ["5", "3"]

    keys = {b.proto.id for b in at.get("download_button")}
    assert len(keys) == 2, "a CSV and an Excel button"
    csv = pd.read_csv(io.BytesIO(downloads[f"{_slug(gala.title)}.csv"]))
    assert list(csv["Buyer"]) == ["Ana Aurora", "Ana Aurora", "Bruno Bianchi"]
    assert list(csv["Seat"].fillna("")) == ["A1", "A2", ""]
    assert list(csv["Tickets"]) == [1, 1, 3]
    sheet = load_workbook(io.BytesIO(downloads[f"{_slug(gala.title)}.xlsx"])).active
    assert [row[0].value for row in sheet.iter_rows()][1:] == list(csv["Buyer"])

    at.checkbox(key="att_all").check().run()
    assert set(at.dataframe[0].value["Status"]) == {"completed", "refunded", "cancelled"}
    at.text_input(key="att_search").input("nobody-at-all").run()
    assert "No attendee matches" in messages(at)


def test_a_big_list_shows_a_part_and_downloads_the_whole(
    owner: Engine, organizer: Identity, downloads: dict[str, bytes]
) -> None:
    show = make_show(owner, organizer, seats=105)
    buy(organizer, show, "Greta Group", seats=show.seat_ids)
    at = open_page(PAGE, organizer)
    at.selectbox(key="att_event").set_value(str(show.event_id)).run()
    at.selectbox(key="att_limit").set_value(100).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 100
    assert "first 100 of 105 rows" in " ".join(c.value for c in at.caption)
    assert not at.get("download_button"), "the whole list is fetched only when asked for"

    at.button(key="att_prepare").click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 2
    csv = pd.read_csv(io.BytesIO(downloads[f"{_slug(show.title)}.csv"]))
    assert len(csv) == 105 and set(csv["Buyer"]) == {"Greta Group"}
