"""Webhook endpoints and their deliveries (scopes webhooks:read and webhooks:write):
the event catalogue, endpoints (the secret shown once), a test ping, deliveries with
filters, a delivery's request and responses, replay. core.webhooks decides."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StringConstraints

from api.auth import Requires, actor_of
from api.models import Input, Limit, Output
from api.problems import responses

router = APIRouter(
    prefix="/webhooks", tags=["webhooks"], responses=responses(401, 403, 404, 409, 422, 429, 503)
)
READ = Requires("webhooks:read")
WRITE = Requires("webhooks:write")
EventName = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}\.[a-z_]{1,40}$")]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=2000)]


class EventTypeOut(Output):
    name: str
    aggregate_type: str
    description: str
    example: dict[str, Any]


class EventTypeList(Output):
    data: list[EventTypeOut]


class Endpoint(Output):
    endpoint_id: uuid.UUID
    name: str
    url: str
    description: str | None
    events: list[str]
    is_active: bool
    owner_id: uuid.UUID | None
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="after a rotation, the old secret still signs until then"
    )
    created_at: datetime
    updated_at: datetime


class EndpointList(Output):
    data: list[Endpoint]


class EndpointIn(Input):
    name: Name
    url: Url
    events: list[EventName] = Field(min_length=1, max_length=50)
    description: Description | None = None


class EndpointChange(Input):
    name: Name | None = None
    url: Url | None = None
    events: list[EventName] | None = Field(None, min_length=1, max_length=50)
    description: Description | None = None
    is_active: bool | None = None


class CreatedEndpoint(Output):
    endpoint: Endpoint
    secret: str = Field(description="the signing secret (whsec_…), shown once: store it now")


class Secret(Output):
    secret: str = Field(description="the new signing secret, shown once")
    previous_secret_expires_at: datetime | None


class Delivery(Output):
    delivery_id: uuid.UUID
    created_at: datetime
    endpoint_id: uuid.UUID
    endpoint_name: str
    message_id: str = Field(description="the webhook-id header: the same on every retry")
    event_type: str
    status: str
    attempt_count: int
    response_code: int | None
    error_message: str | None
    next_retry_at: datetime | None
    completed_at: datetime | None
    duration_ms: int | None


class DeliveryList(Output):
    data: list[Delivery]
    next_before: datetime | None = Field(
        description="pass as `before` for the next page; null on the last"
    )


class DeliveryDetail(Delivery):
    url: str
    request_body: str
    request_headers: dict[str, str]
    attempts: list[dict[str, Any]]
    response_body: str | None


class ReplayIn(Input):
    delivery_id: uuid.UUID | None = None
    endpoint_id: uuid.UUID | None = None
    failed_since: datetime | None = None


class Replayed(Output):
    queued: int


@router.get("/event-types", response_model=EventTypeList, summary="The event catalogue")
def event_types(principal: Annotated[object, Depends(READ)]) -> EventTypeList:
    from core.outbox import EVENT_TYPES

    return EventTypeList(data=[EventTypeOut.model_validate(t) for t in EVENT_TYPES.values()])


@router.get("/endpoints", response_model=EndpointList, summary="List webhook endpoints")
def list_endpoints(principal: Annotated[object, Depends(READ)]) -> EndpointList:
    from core.webhooks import list_endpoints as listed

    return EndpointList(data=[Endpoint.model_validate(e) for e in listed(actor_of(principal))])


@router.post(
    "/endpoints", response_model=CreatedEndpoint, status_code=201, summary="Create an endpoint"
)
def create_endpoint(
    body: EndpointIn, principal: Annotated[object, Depends(WRITE)]
) -> CreatedEndpoint:
    from core.webhooks import create_endpoint as create

    endpoint, secret = create(
        actor_of(principal),
        name=body.name,
        url=body.url,
        events=list(body.events),
        description=body.description,
    )
    return CreatedEndpoint(endpoint=Endpoint.model_validate(endpoint), secret=secret)


@router.get("/endpoints/{endpoint_id}", response_model=Endpoint, summary="Get an endpoint")
def get_endpoint(endpoint_id: uuid.UUID, principal: Annotated[object, Depends(READ)]) -> Endpoint:
    from core.webhooks import get_endpoint as get

    return Endpoint.model_validate(get(actor_of(principal), endpoint_id))


@router.patch("/endpoints/{endpoint_id}", response_model=Endpoint, summary="Change an endpoint")
def change_endpoint(
    endpoint_id: uuid.UUID, body: EndpointChange, principal: Annotated[object, Depends(WRITE)]
) -> Endpoint:
    """Only the fields given change; `is_active` enables or disables the endpoint."""
    from core.webhooks import get_endpoint, set_active, update_endpoint

    actor = actor_of(principal)
    changes = body.model_dump(exclude_unset=True, exclude={"is_active"})
    # A name, URL or event list cannot be emptied: null leaves them as they are; a null
    # description clears it.
    changes = {k: v for k, v in changes.items() if v is not None or k == "description"}
    if "events" in changes:
        changes["events"] = list(changes["events"])
    endpoint = update_endpoint(actor, endpoint_id, **changes) if changes else None
    if body.is_active is not None:
        endpoint = set_active(actor, endpoint_id, body.is_active)
    return Endpoint.model_validate(endpoint or get_endpoint(actor, endpoint_id))


@router.post(
    "/endpoints/{endpoint_id}/rotate-secret",
    response_model=Secret,
    summary="Rotate an endpoint's signing secret",
)
def rotate_secret(endpoint_id: uuid.UUID, principal: Annotated[object, Depends(WRITE)]) -> Secret:
    """A new secret, shown once; deliveries carry signatures by both secrets while the old
    one overlaps."""
    from core.webhooks import get_endpoint, rotate_secret

    actor = actor_of(principal)
    secret = rotate_secret(actor, endpoint_id)
    endpoint = get_endpoint(actor, endpoint_id)
    return Secret(secret=secret, previous_secret_expires_at=endpoint.previous_secret_expires_at)


@router.post(
    "/endpoints/{endpoint_id}/ping",
    response_model=DeliveryDetail,
    summary="Send a test ping to an endpoint now",
)
def ping(endpoint_id: uuid.UUID, principal: Annotated[object, Depends(WRITE)]) -> DeliveryDetail:
    from core.webhooks import send_test_ping

    return DeliveryDetail.model_validate(send_test_ping(actor_of(principal), endpoint_id))


@router.get("/deliveries", response_model=DeliveryList, summary="List deliveries, newest first")
def list_deliveries(
    principal: Annotated[object, Depends(READ)],
    endpoint_id: uuid.UUID | None = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    event_type: Annotated[str | None, Query(max_length=81)] = None,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: Limit = 50,
) -> DeliveryList:
    from core.webhooks import list_deliveries as listed

    rows = listed(
        actor_of(principal),
        endpoint_id=endpoint_id,
        status=status,
        event_type=event_type,
        since=since,
        before=before,
        limit=limit,
    )
    return DeliveryList(
        data=[Delivery.model_validate(d) for d in rows],
        next_before=rows[-1].created_at if len(rows) == limit else None,
    )


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryDetail,
    summary="A delivery: its request and every attempt's response",
)
def get_delivery(
    delivery_id: uuid.UUID, principal: Annotated[object, Depends(READ)]
) -> DeliveryDetail:
    from core.webhooks import get_delivery as get

    return DeliveryDetail.model_validate(get(actor_of(principal), delivery_id))


@router.post("/replay", response_model=Replayed, summary="Replay deliveries")
def replay(body: ReplayIn, principal: Annotated[object, Depends(WRITE)]) -> Replayed:
    """One delivery by id, or every failed delivery since `failed_since` (optionally of one
    endpoint); the same webhook-id, the next attempt."""
    from core.webhooks import replay as replayed

    return Replayed(
        queued=replayed(
            actor_of(principal),
            delivery_id=body.delivery_id,
            endpoint_id=body.endpoint_id,
            failed_since=body.failed_since,
        )
    )
