"""The transactional outbox: domain events written in the transaction of their change.

An event exists exactly when its change committed: `emit` inserts into `domain_events`
inside the caller's unit of work, so a rollback takes the event with it. The events of
the catalogue below are written by the database itself (migration 0017's triggers call
the same `outbox_emit` function), because every writer must be covered: the PL/pgSQL
checkout and the Python one, the box office, jobs and the command line. `emit` is for a
service whose change no trigger sees.

The webhook dispatcher (core/webhooks/dispatcher.py) turns pending events into
deliveries. Payloads carry ids, numbers, amounts and statuses, never personal data: a
subscriber who needs the buyer reads the order over the API, where row-level security
and the audit trail apply.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import UnitOfWork, require_transaction
from core.errors import ValidationError
from core.models.limits import JSON_LARGE


@dataclass(frozen=True)
class EventType:
    """One kind of domain event: its name, what it means and an example payload."""

    name: str
    aggregate_type: str
    description: str
    example: dict[str, Any]


_ORDER = {
    "order_id": "6f1c2a44-8f0e-4d55-9a43-0c5f5b0e9a11",
    "order_number": "FA-20261206-000123",
    "event_id": "0b7d5a3e-3f5c-4c61-8e9d-2a6c1f4b7e22",
    "status": "completed",
    "currency": "USD",
    "subtotal": 240.0,
    "discount_amount": 0.0,
    "tax_amount": 19.2,
    "total_amount": 259.2,
    "payment_method": "card",
    "completed_at": "2026-12-06T21:04:05.123456+00:00",
    "cancelled_at": None,
    "refunded_at": None,
    "items": [
        {
            "order_item_id": "a9e3c1d2-5b6f-4a7e-8c9d-0e1f2a3b4c5d",
            "ticket_type_id": "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f",
            "quantity": 2,
            "unit_price": 120.0,
            "final_price": 240.0,
            "refunded_quantity": 0,
        }
    ],
}
_EVENT = {
    "event_id": "0b7d5a3e-3f5c-4c61-8e9d-2a6c1f4b7e22",
    "title": "Spring Runway 2027",
    "slug": "spring-runway-2027",
    "status": "published",
    "previous_status": "draft",
    "start_date": "2027-03-14T19:00:00+00:00",
    "end_date": "2027-03-14T23:00:00+00:00",
    "venue_id": "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
}

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(
            "order.placed",
            "order",
            "An order was committed as completed (paid), by any checkout path: box office,"
            " API, jobs. Once per order.",
            _ORDER,
        ),
        EventType(
            "order.cancelled",
            "order",
            "An order was cancelled (its tickets went back on sale). Once per order.",
            {**_ORDER, "status": "cancelled", "cancelled_at": "2026-12-07T09:00:00+00:00"},
        ),
        EventType(
            "order.refunded",
            "order",
            "Money went back for an order, in whole or for some items: once per refunding"
            " transaction, with what this refund gave back and the total so far.",
            {
                **_ORDER,
                "status": "completed",
                "refunded_amount": 129.6,
                "refunded_total": 129.6,
                "refund_ids": ["d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"],
            },
        ),
        EventType(
            "event.published",
            "event",
            "An event was published (or put back on after a postponement).",
            _EVENT,
        ),
        EventType(
            "event.postponed",
            "event",
            "A published event was postponed; its dates are the current ones.",
            {**_EVENT, "status": "postponed", "previous_status": "published"},
        ),
        EventType(
            "event.cancelled",
            "event",
            "An event was cancelled.",
            {**_EVENT, "status": "cancelled", "previous_status": "published"},
        ),
        EventType(
            "ticket_type.sold_out",
            "ticket_type",
            "A ticket type's remaining capacity reached zero.",
            {
                "ticket_type_id": "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f",
                "event_id": "0b7d5a3e-3f5c-4c61-8e9d-2a6c1f4b7e22",
                "name": "Front row",
                "total_capacity": 40,
                "remaining_capacity": 0,
            },
        ),
        EventType(
            "sponsorship_asset.approved",
            "sponsorship_asset",
            "A sponsor's asset (logo, banner, video) was approved.",
            {
                "asset_id": "e5f6a7b8-c9d0-4e1f-9a2b-3c4d5e6f7a8b",
                "sponsorship_id": "f6a7b8c9-d0e1-4f2a-8b3c-4d5e6f7a8b9c",
                "name": "Main stage banner",
                "file_type": "image/png",
                "status": "approved",
                "reviewed_at": "2026-12-06T10:00:00+00:00",
            },
        ),
        EventType(
            "data_request.completed",
            "data_request",
            "A data subject request (export, erasure, ...) was completed. Never the"
            " subject's e-mail or name: only the request's id and type.",
            {
                "data_request_id": "a7b8c9d0-e1f2-4a3b-9c4d-5e6f7a8b9c0d",
                "request_type": "erasure",
                "status": "completed",
                "completed_at": "2026-12-06T12:00:00+00:00",
            },
        ),
    )
}
# What the test ping sends: not a domain event, only ever to one endpoint.
PING = EventType(
    "webhook.ping",
    "webhook",
    "A test message sent from Admin → Webhooks; not stored in the outbox.",
    {"webhook_id": "b8c9d0e1-f2a3-4b4c-8d5e-6f7a8b9c0d1e", "message": "ping"},
)


def emit(
    session_or_uow: Session | UnitOfWork,
    *,
    aggregate_type: str,
    aggregate_id: str | uuid.UUID,
    event_type: str,
    data: dict[str, Any],
    idempotency_key: str | None = None,
) -> uuid.UUID | None:
    """Write a domain event in the caller's transaction; returns its id, or None when an
    event with `idempotency_key` already exists (emitting twice is harmless).

    Raises ValidationError (field `event_type`) for a type outside EVENT_TYPES and
    (field `data`) for a payload that is not a JSON object or is larger than the outbox
    holds; RuntimeError outside a transaction. The database refuses (PermissionDenied) a
    caller who is neither a signed-in person nor the owner.
    """
    session = session_or_uow.session if isinstance(session_or_uow, UnitOfWork) else session_or_uow
    require_transaction(session)
    if event_type not in EVENT_TYPES:
        raise ValidationError(
            f"event type must be one of: {', '.join(EVENT_TYPES)}", field="event_type"
        )
    if not isinstance(data, dict):
        raise ValidationError("event data must be a JSON object", field="data")
    body = json.dumps(data, default=str)
    if len(body.encode()) > JSON_LARGE:
        raise ValidationError(f"event data must be at most {JSON_LARGE} bytes", field="data")
    return session.execute(
        text("SELECT outbox_emit(:at, :aid, :et, CAST(:d AS jsonb), :k)"),
        {
            "at": aggregate_type,
            "aid": str(aggregate_id),
            "et": event_type,
            "d": body,
            "k": idempotency_key,
        },
    ).scalar_one()
