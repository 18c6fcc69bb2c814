"""Holds, quotes, orders (placed once per Idempotency-Key), cancellations and refunds."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Response, status
from pydantic import Field, StringConstraints

from api.auth import Requires, actor_of
from api.models import (
    Input,
    Limit,
    Output,
    Quantity,
    ShortText,
    cursor_time,
    cursor_uuid,
    decode_cursor,
    encode_cursor,
)
from api.problems import responses
from core.checkout.orders import Buyer as CoreBuyer
from core.checkout.orders import OrderRequest, quote_order
from core.checkout.refunds import RefundLine, cancel_order, refund_order
from core.errors import NotFound, ValidationError
from core.services import box_office
from core.services import orders as order_service
from core.services.orders import OrderCursor

router = APIRouter(responses=responses(401, 403, 404, 409, 422, 429, 503))
WRITE = Requires("orders:write")
READ = Requires("orders:read")

SessionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,100}$")]
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,150}$")]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("99999999.99"), decimal_places=2)]


def hold_id(event_id: uuid.UUID, session_id: str) -> str:
    """A hold is the checkout's session holding tickets of one event."""
    return f"{event_id}.{session_id}"


def parse_hold_id(value: str) -> tuple[uuid.UUID, str]:
    event, _, session = value.partition(".")
    try:
        event_id = uuid.UUID(event)
    except ValueError as exc:
        raise NotFound("No such hold.", field="hold_id") from exc
    if (
        not session
        or len(session) > 100
        or not all(c.isascii() and (c.isalnum() or c in "_-") for c in session)
    ):
        raise NotFound("No such hold.", field="hold_id")
    return event_id, session


HoldId = Annotated[str, StringConstraints(max_length=140)]


class HoldIn(Input):
    event_id: uuid.UUID
    session_id: SessionId | None = Field(
        None, description="your checkout session; a new one is made when left out"
    )
    quantities: dict[uuid.UUID, Quantity] = Field(default_factory=dict, max_length=100)
    seat_ids: list[uuid.UUID] = Field(default_factory=list, max_length=5000)


class HoldOut(Output):
    hold_id: str
    event_id: uuid.UUID
    session_id: str
    expires_at: datetime
    quantities: dict[uuid.UUID, int]
    seat_ids: list[uuid.UUID]


class Released(Output):
    hold_id: str
    released_tickets: int


@router.post(
    "/holds", response_model=HoldOut, status_code=201, tags=["holds"], summary="Hold tickets"
)
def create_hold(body: HoldIn, principal: Annotated[object, Depends(WRITE)]) -> HoldOut:
    """Reserve tickets and/or seats until the checkout's hold time runs out."""
    session_id = body.session_id or f"api-{uuid.uuid4().hex}"
    hold = box_office.hold_sale(
        actor_of(principal),
        body.event_id,
        session_id,
        quantities=body.quantities,
        seat_ids=body.seat_ids,
    )
    return HoldOut(
        hold_id=hold_id(hold.event_id, hold.session_id),
        event_id=hold.event_id,
        session_id=hold.session_id,
        expires_at=hold.expires_at,
        quantities=hold.quantities,
        seat_ids=list(hold.seat_ids),
    )


@router.delete(
    "/holds/{hold_id}", response_model=Released, tags=["holds"], summary="Release a hold"
)
def release_hold(hold_id: HoldId, principal: Annotated[object, Depends(WRITE)]) -> Released:
    event_id, session_id = parse_hold_id(hold_id)
    released = box_office.release_sale(actor_of(principal), event_id, session_id)
    return Released(hold_id=hold_id, released_tickets=released)


class BuyerIn(Input):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)]
    phone: Annotated[str, StringConstraints(max_length=50)] | None = None


def _buyer(buyer: BuyerIn) -> CoreBuyer:
    return CoreBuyer(name=buyer.name, email=buyer.email, phone=buyer.phone)


class QuoteIn(Input):
    hold_id: HoldId
    buyer: BuyerIn
    code: Annotated[str, StringConstraints(max_length=50)] | None = None


class QuoteLine(Output):
    ticket_type_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discount: Decimal
    tax: Decimal


class QuoteOut(Output):
    hold_id: str
    lines: list[QuoteLine]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    code: str | None


def quote_lines(quote: object) -> list[QuoteLine]:
    return [
        QuoteLine(
            ticket_type_id=p.line.ticket_type_id,
            quantity=p.line.quantity,
            unit_price=p.line.unit_price,
            subtotal=p.subtotal,
            discount=p.discount,
            tax=p.tax,
        )
        for p in quote.lines  # type: ignore[attr-defined]
    ]


@router.post("/orders/quote", response_model=QuoteOut, tags=["orders"], summary="Price a hold")
def quote(body: QuoteIn, principal: Annotated[object, Depends(WRITE)]) -> QuoteOut:
    """The breakdown the buyer will be charged for what the hold holds, with a code."""
    event_id, session_id = parse_hold_id(body.hold_id)
    q = quote_order(actor_of(principal), event_id, session_id, body.code, _buyer(body.buyer))
    return QuoteOut(
        hold_id=body.hold_id,
        lines=quote_lines(q),
        subtotal=q.subtotal,
        discount=q.discount,
        tax=q.tax,
        total=q.total,
        code=q.code.code if q.code else None,
    )


class OrderIn(Input):
    hold_id: HoldId
    buyer: BuyerIn
    payment_method: Literal[box_office.PAYMENT_METHODS]  # type: ignore[valid-type]
    expected_total: Money = Field(description="the quote's total: a changed price is refused")
    code: Annotated[str, StringConstraints(max_length=50)] | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PlacedOrder(Output):
    order_id: uuid.UUID
    order_number: str
    status: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    payment_method: str
    replayed: bool = Field(description="true when this Idempotency-Key had placed it already")


@router.post(
    "/orders",
    response_model=PlacedOrder,
    status_code=201,
    tags=["orders"],
    summary="Place an order",
    responses={200: {"model": PlacedOrder, "description": "Placed earlier under this key"}},
)
def place_order(
    body: OrderIn,
    response: Response,
    principal: Annotated[object, Depends(WRITE)],
    idempotency_key: Annotated[IdempotencyKey, Header(description="one per purchase attempt")],
) -> PlacedOrder:
    """Turn the hold into a paid order, once per `Idempotency-Key`: the same key with the
    same request returns the same order (200), a new one is 201; the same key with a
    different request is 409 idempotency_conflict."""
    actor = actor_of(principal)
    event_id, session_id = parse_hold_id(body.hold_id)
    sale = box_office.take_payment(
        actor,
        OrderRequest(
            event_id=event_id,
            session_id=session_id,
            buyer=_buyer(body.buyer),
            payment_method=body.payment_method,
            expected_total=body.expected_total,
            # Keys are the owner's own: two owners choosing the same key never collide.
            idempotency_key=f"api:{actor.user_id}:{idempotency_key}",
            code=body.code,
            notes=body.notes,
        ),
    )
    if sale.replayed:
        response.status_code = status.HTTP_200_OK
    return PlacedOrder.model_validate(sale)


OrderStatus = Literal["pending", "completed", "cancelled", "refunded", "failed"]


class OrderSummary(Output):
    order_id: uuid.UUID
    order_number: str
    created_at: datetime
    buyer_name: str
    buyer_email: str
    event_id: uuid.UUID
    event_title: str | None
    status: str
    tickets: int
    total: Decimal
    currency: str


class OrderList(Output):
    data: list[OrderSummary]
    next_cursor: str | None


@router.get("/orders", response_model=OrderList, tags=["orders"], summary="List orders")
def list_orders(
    principal: Annotated[object, Depends(READ)],
    q: Annotated[ShortText, Query(description="order number, buyer email or name")] = "",
    event_id: uuid.UUID | None = None,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[Limit, Query()] = 50,
) -> OrderList:
    """Orders newest first, a page at a time."""
    after = None
    if cursor:
        created, order_id = decode_cursor(cursor, 2)
        after = OrderCursor(cursor_time(created), cursor_uuid(order_id))
    page = order_service.search_orders(
        actor_of(principal), query=q, event_id=event_id, status=status_, after=after, limit=limit
    )
    nxt = page.next
    return OrderList(
        data=[OrderSummary.model_validate(r) for r in page.rows],
        next_cursor=encode_cursor(nxt.created_at, nxt.order_id) if nxt else None,
    )


class SeatLine(Output):
    seat_id: uuid.UUID
    label: str
    refunded: bool


class OrderItem(Output):
    item_id: uuid.UUID
    ticket_type: str
    tier: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    code: str | None
    seat_lines: list[SeatLine]
    refunded_quantity: int
    refunded_amount: Decimal


class Refund(Output):
    created_at: datetime
    amount: Decimal
    reason: str
    method: str
    item: str | None


class Order(Output):
    order_id: uuid.UUID
    order_number: str
    status: str
    event_id: uuid.UUID
    event_title: str | None
    buyer_name: str
    buyer_email: str
    currency: str
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    payment_method: str | None
    created_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None
    items: list[OrderItem]
    refunds: list[Refund]


@router.get("/orders/{order_id}", response_model=Order, tags=["orders"], summary="Get an order")
def get_order(order_id: uuid.UUID, principal: Annotated[object, Depends(READ)]) -> Order:
    return Order.model_validate(order_service.get_order(actor_of(principal), order_id))


Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class CancelIn(Input):
    reason: Reason


class RefundedLine(Output):
    item_id: uuid.UUID
    quantity: int
    seat_ids: list[uuid.UUID]
    amount: Decimal


class RefundOut(Output):
    order_id: uuid.UUID
    status: str
    refunded_amount: Decimal
    released_tickets: int
    lines: list[RefundedLine]


@router.post(
    "/orders/{order_id}/cancel",
    response_model=RefundOut,
    tags=["orders"],
    summary="Cancel an order",
)
def cancel(
    order_id: uuid.UUID, body: CancelIn, principal: Annotated[object, Depends(WRITE)]
) -> RefundOut:
    """Every ticket back on sale, seats freed, what is left of the payment refunded."""
    return RefundOut.model_validate(cancel_order(actor_of(principal), order_id, body.reason))


class RefundItem(Input):
    item_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=10_000, strict=True)] | None = None
    seat_ids: list[uuid.UUID] = Field(default_factory=list, max_length=5000)


class RefundIn(Input):
    reason: Reason
    items: list[RefundItem] | None = Field(
        None, max_length=500, description="left out: refund all that is left"
    )


@router.post(
    "/orders/{order_id}/refunds",
    response_model=RefundOut,
    status_code=201,
    tags=["orders"],
    summary="Refund items of an order",
)
def refund(
    order_id: uuid.UUID, body: RefundIn, principal: Annotated[object, Depends(WRITE)]
) -> RefundOut:
    lines = None
    if body.items is not None:
        if not body.items:
            raise ValidationError("Choose what to refund.", field="items")
        lines = [RefundLine(i.item_id, i.quantity, tuple(i.seat_ids)) for i in body.items]
    return RefundOut.model_validate(
        refund_order(actor_of(principal), order_id, body.reason, lines=lines)
    )
