"""Attendees of an event, as JSON or CSV (the same table as the page's download)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from api.auth import Requires, actor_of
from api.models import Output, ShortText
from api.problems import responses
from core.services.attendees import attendee_table, list_attendees
from core.spreadsheets import table_csv

router = APIRouter(tags=["attendees"], responses=responses(401, 403, 404, 422, 429, 503))
READ = Requires("attendees:read")


class Attendee(Output):
    buyer_name: str
    buyer_email: str
    ticket_type: str
    tier: str
    section: str | None
    seat: str | None
    quantity: int
    order_number: str
    order_id: uuid.UUID
    status: str
    ordered_at: datetime


class AttendeeList(Output):
    event_id: uuid.UUID
    event_title: str
    total_rows: int
    total_tickets: int
    data: list[Attendee]


@router.get(
    "/events/{event_id}/attendees",
    response_model=AttendeeList,
    summary="Attendees of an event",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def attendees(
    event_id: uuid.UUID,
    request: Request,
    principal: Annotated[object, Depends(READ)],
    search: Annotated[ShortText, Query()] = "",
    include_cancelled: bool = False,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> AttendeeList | Response:
    """Every ticket holder (JSON), or the whole list as CSV with `Accept: text/csv` or
    `?format=csv`."""
    csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "").lower()
    )
    found = list_attendees(
        actor_of(principal),
        event_id,
        search=search,
        include_cancelled=include_cancelled,
        limit=None,
    )
    if csv:
        return Response(
            table_csv(attendee_table(found.rows)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="attendees-{event_id}.csv"'},
        )
    return AttendeeList(
        event_id=found.event_id,
        event_title=found.event_title,
        total_rows=found.total_rows,
        total_tickets=found.total_tickets,
        data=[Attendee.model_validate(a) for a in found.rows],
    )
