"""Discount codes: create, edit, deactivate, and what each has brought in.

A code carries every rule the checkout's pricing applies (core.checkout.pricing): a
percentage (with an optional maximum) or a fixed amount, a minimum order amount, a
validity window, a usage limit, once per customer, first purchase only, limits to events
and/or ticket types (the mapping tables) and the active flag. The checkout owns the use
counter (`current_usage`); nothing here writes it.

Codes are stored upper-case and must be unique among discount *and* promotional codes:
the checkout looks a typed code up case-insensitively in both, so a duplicate would
shadow the other code. Every service needs events.manage. The audit trigger records every
change to a code; creating and editing also write a row with its events and ticket types
(the mapping tables are not audited by trigger).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.auth.audit import record_by_person
from core.auth.permissions import EVENTS_MANAGE
from core.checkout.locking import DEFAULT_LOCK_TIMEOUT_MS
from core.db import Actor, unit_of_work
from core.db.patterns import escape_like
from core.errors import ConcurrentUpdate, Conflict, NotFound, ValidationError
from core.models import DiscountCode
from core.models.limits import max_length
from core.models.ticketing import DISCOUNT_TYPES

CODE_FORMAT = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
CODE_STATES = ("active", "scheduled", "expired", "used up", "inactive")
MAX_AMOUNT = Decimal("9999999999.99")  # numeric(12, 2)
# The column's declared limit (core/models/limits.py).
MAX_DESCRIPTION = max_length(DiscountCode, "description")
DEFAULT_PAGE_SIZE = 100
RECENT_ORDERS = 20


@dataclass(frozen=True)
class DiscountCodeDraft:
    """What a person fills in to create or change a code.

    No events means every event; ticket types narrow it further (to those types, of
    the chosen events when events are chosen).
    """

    code: str
    discount_type: str
    value: Decimal
    valid_from: datetime
    valid_until: datetime
    description: str | None = None
    maximum_discount: Decimal | None = None
    minimum_order_amount: Decimal = Decimal("0")
    usage_limit: int | None = None
    one_per_customer: bool = False
    first_purchase_only: bool = False
    is_active: bool = True
    event_ids: tuple[uuid.UUID, ...] = ()
    ticket_type_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class CodeUsage:
    """What a code has done, from the orders themselves.

    `orders` counts live orders (pending or completed) that carry the code, the same
    orders the usage counter counts; `discount_given` is the code's discount on their
    items not refunded, `revenue` what those orders brought in (paid, tax included, less
    refunds: core.analytics.revenue).
    """

    orders: int = 0
    discount_given: Decimal = Decimal("0.00")
    revenue: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class DiscountCodeView:
    code_id: uuid.UUID
    code: str
    description: str | None
    discount_type: str
    value: Decimal
    maximum_discount: Decimal | None
    minimum_order_amount: Decimal
    valid_from: datetime
    valid_until: datetime
    usage_limit: int | None
    times_used: int
    one_per_customer: bool
    first_purchase_only: bool
    is_active: bool
    state: str  # one of CODE_STATES
    event_ids: tuple[uuid.UUID, ...]
    event_titles: tuple[str, ...]
    ticket_type_ids: tuple[uuid.UUID, ...]
    ticket_type_names: tuple[str, ...]
    created_at: datetime
    # Moves with every sale too (the use counter is a column of the row); edits compare
    # the rules themselves instead (update_discount_code's `opened`).
    updated_at: datetime
    usage: CodeUsage = field(default_factory=CodeUsage)

    @property
    def applies_to(self) -> str:
        events = ", ".join(self.event_titles) if self.event_ids else "every event"
        if self.ticket_type_ids:
            return f"{events}; only {', '.join(self.ticket_type_names)}"
        return events

    @property
    def rule(self) -> str:
        """The discount in words, e.g. '15% (at most 40.00)' or '25.00 off'."""
        if self.discount_type == "percentage":
            text_ = f"{self.value.normalize():f}%"
        else:
            text_ = f"{self.value:,.2f} off"
        if self.maximum_discount is not None:
            text_ += f" (at most {self.maximum_discount:,.2f})"
        return text_

    def draft(self) -> DiscountCodeDraft:
        """The code's current rules, as an edit form starts."""
        return DiscountCodeDraft(
            code=self.code,
            discount_type=self.discount_type,
            value=self.value,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            description=self.description,
            maximum_discount=self.maximum_discount,
            minimum_order_amount=self.minimum_order_amount,
            usage_limit=self.usage_limit,
            one_per_customer=self.one_per_customer,
            first_purchase_only=self.first_purchase_only,
            is_active=self.is_active,
            event_ids=self.event_ids,
            ticket_type_ids=self.ticket_type_ids,
        )


@dataclass(frozen=True)
class DiscountCodePage:
    rows: tuple[DiscountCodeView, ...]
    total: int
    offset: int
    limit: int | None

    @property
    def has_more(self) -> bool:
        return self.limit is not None and self.offset + len(self.rows) < self.total


@dataclass(frozen=True)
class CodeOrder:
    order_id: uuid.UUID
    order_number: str
    created_at: datetime
    buyer_name: str
    status: str
    discount: Decimal
    total: Decimal


@dataclass(frozen=True)
class DiscountCodeDetail:
    code: DiscountCodeView
    recent_orders: tuple[CodeOrder, ...]


@dataclass(frozen=True)
class TargetEvent:
    event_id: uuid.UUID
    title: str
    start_date: datetime
    status: str


@dataclass(frozen=True)
class TargetTicketType:
    ticket_type_id: uuid.UUID
    event_id: uuid.UUID
    event_title: str
    name: str


@dataclass(frozen=True)
class CodeTargets:
    """What a code can be limited to: the events the actor can see and their types."""

    events: tuple[TargetEvent, ...]
    ticket_types: tuple[TargetTicketType, ...]


_STATE = """
    CASE WHEN NOT dc.is_active THEN 'inactive'
         WHEN now() < dc.start_date THEN 'scheduled'
         WHEN now() >= dc.end_date THEN 'expired'
         WHEN dc.usage_limit IS NOT NULL AND dc.current_usage >= dc.usage_limit THEN 'used up'
         ELSE 'active' END
"""

# Per code, across every order (a code serves every organizer's events, and row-level
# security shows each organizer only theirs): migration 0013's discount_code_usage, through
# idx_order_items_discount_code_id, gives the live orders carrying it, their discount on
# the items not refunded, and what they brought in (paid less refunded, as
# core.analytics.revenue defines it).
_LIST = f"""
    WITH codes AS (
        SELECT dc.*, {_STATE} AS state FROM discount_codes dc
    ), page AS (
        SELECT c.*, count(*) OVER () AS total FROM codes c
         WHERE {{where}}
         ORDER BY c.code, c.id
         LIMIT :limit OFFSET :offset
    )
    SELECT c.id, c.code, c.description, c.discount_type, c.discount_value,
           c.maximum_discount_amount, c.minimum_order_amount, c.start_date, c.end_date,
           c.usage_limit, c.current_usage, c.is_one_time_use, c.is_first_purchase_only,
           c.is_active, c.state,
           ARRAY(SELECT dce.event_id FROM discount_code_events dce
                  WHERE dce.discount_code_id = c.id ORDER BY dce.event_id),
           ARRAY(SELECT coalesce(e.title, 'an event you cannot see')
                   FROM discount_code_events dce LEFT JOIN events e ON e.id = dce.event_id
                  WHERE dce.discount_code_id = c.id ORDER BY dce.event_id),
           ARRAY(SELECT t.ticket_type_id FROM discount_code_ticket_types t
                  WHERE t.discount_code_id = c.id ORDER BY t.ticket_type_id),
           ARRAY(SELECT tt.name FROM discount_code_ticket_types t
                   JOIN ticket_types tt ON tt.id = t.ticket_type_id
                  WHERE t.discount_code_id = c.id ORDER BY t.ticket_type_id),
           c.created_at, c.updated_at, u.o_orders, u.o_discount, u.o_revenue, c.total
      FROM page c
      LEFT JOIN discount_code_usage(ARRAY(SELECT id FROM page)) u ON u.o_code_id = c.id
     ORDER BY c.code, c.id
"""


def _view(row: Sequence[Any]) -> DiscountCodeView:
    return DiscountCodeView(
        *row[:15],
        event_ids=tuple(row[15]),
        event_titles=tuple(row[16]),
        ticket_type_ids=tuple(row[17]),
        ticket_type_names=tuple(row[18]),
        created_at=row[19],
        updated_at=row[20],
        usage=CodeUsage(int(row[21]), Decimal(row[22]), Decimal(row[23])),
    )


def _without_jit(session: Session) -> None:
    # The per-code lateral aggregates make the planner's cost estimate huge, which turns
    # on JIT compilation: on the large data set it took 0.6 s of a 0.7 s list query whose
    # index lookups run in under 0.1 s. Transaction-local, like everything a unit sets.
    session.execute(text("SELECT set_config('jit', 'off', true)"))


def list_discount_codes(
    actor: Actor,
    *,
    search: str = "",
    state: str | None = None,
    event_id: uuid.UUID | None = None,
    discount_type: str | None = None,
    limit: int | None = DEFAULT_PAGE_SIZE,
    offset: int = 0,
) -> DiscountCodePage:
    """Discount codes by code, with their usage, `limit` from `offset` (None: all, for an
    export). `search` matches the code or description, `state` one of CODE_STATES,
    `event_id` the codes usable at that event (for every event, or limited to it).

    Raises ValidationError (unknown state or type, bad paging), PermissionDenied without
    events.manage.
    """
    if state is not None and state not in CODE_STATES:
        raise ValidationError(f"State must be one of: {', '.join(CODE_STATES)}.", field="state")
    if discount_type is not None and discount_type not in DISCOUNT_TYPES:
        raise ValidationError(
            f"Discount type must be one of: {', '.join(DISCOUNT_TYPES)}.", field="discount_type"
        )
    if offset < 0 or (limit is not None and limit < 1):
        raise ValidationError("Paging starts at 0 and shows at least one code.", field="offset")
    where = ["true"]
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    search = (search or "").strip()
    if search:
        where.append("(c.code ILIKE :pattern OR coalesce(c.description, '') ILIKE :pattern)")
        params["pattern"] = f"%{escape_like(search)}%"
    if state is not None:
        where.append("c.state = :state")
        params["state"] = state
    if event_id is not None:
        where.append(
            "(c.applies_to_all_events OR EXISTS (SELECT 1 FROM discount_code_events dce"
            " WHERE dce.discount_code_id = c.id AND dce.event_id = :event_id))"
        )
        params["event_id"] = event_id
    if discount_type is not None:
        where.append("c.discount_type = :discount_type")
        params["discount_type"] = discount_type
    sql = text(_LIST.format(where=" AND ".join(where)))
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        _without_jit(uow.session)
        rows = uow.session.execute(sql, params).all()
        total = int(rows[0][-1]) if rows else 0
        if not rows and offset:
            # Past the end: still say how many there are, so a page can step back.
            params.update(limit=1, offset=0)
            first = uow.session.execute(sql, params).first()
            total = int(first[-1]) if first else 0
    return DiscountCodePage(tuple(_view(row) for row in rows), total, offset, limit)


def get_discount_code(actor: Actor, code_id: uuid.UUID) -> DiscountCodeDetail:
    """One code with its rules, usage and the most recent orders that used it.

    Raises NotFound, PermissionDenied without events.manage.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        _without_jit(uow.session)
        row = uow.session.execute(
            text(_LIST.format(where="c.id = :id")), {"id": code_id, "limit": 1, "offset": 0}
        ).first()
        if row is None:
            raise NotFound("That discount code does not exist.", field="code_id")
        orders = uow.session.execute(
            text(
                """
                SELECT o.id, o.order_number, o.created_at, o.billing_name, o.status,
                       sum(oi.discount_amount) FILTER (WHERE oi.discount_code_id = :id),
                       o.total_amount
                  FROM orders o JOIN order_items oi ON oi.order_id = o.id
                 WHERE o.id IN (SELECT order_id FROM order_items WHERE discount_code_id = :id)
                 GROUP BY o.id
                 ORDER BY o.created_at DESC, o.id DESC
                 LIMIT :limit
                """
            ),
            {"id": code_id, "limit": RECENT_ORDERS},
        ).all()
    return DiscountCodeDetail(_view(row), tuple(CodeOrder(*o) for o in orders))


def list_code_targets(actor: Actor) -> CodeTargets:
    """The events (newest first) and ticket types a code may be limited to.

    Raises PermissionDenied without events.manage.
    """
    with unit_of_work(actor, read_only=True) as uow:
        uow.require(EVENTS_MANAGE)
        events = uow.session.execute(
            text("SELECT id, title, start_date, status FROM events ORDER BY start_date DESC, id")
        ).all()
        types = uow.session.execute(
            text(
                "SELECT tt.id, tt.event_id, e.title, tt.name FROM ticket_types tt"
                " JOIN events e ON e.id = tt.event_id"
                " ORDER BY e.start_date DESC, e.id, tt.base_price, tt.name"
            )
        ).all()
    return CodeTargets(
        tuple(TargetEvent(*row) for row in events),
        tuple(TargetTicketType(*row) for row in types),
    )


def _amount(value: Any, field_name: str, label: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label} must be a number.", field=field_name) from None
    if not amount.is_finite():
        raise ValidationError(f"{label} must be a number.", field=field_name)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(f"{label} has at most two decimals.", field=field_name)
    if amount > MAX_AMOUNT:
        raise ValidationError(f"{label} must be at most {MAX_AMOUNT:,}.", field=field_name)
    return amount.quantize(Decimal("0.01"))


def validate_draft(draft: DiscountCodeDraft) -> DiscountCodeDraft:
    """The draft cleaned up (code upper-case, amounts to cents, blanks to None), or
    ValidationError naming the first field that breaks a rule."""
    code = (draft.code or "").strip().upper()
    if not CODE_FORMAT.match(code):
        raise ValidationError(
            "Code must be 3 to 32 characters: letters, digits, '-' or '_', starting with a"
            " letter or digit (e.g. SPRING-25).",
            field="code",
        )
    if draft.discount_type not in DISCOUNT_TYPES:
        raise ValidationError(
            "Discount type must be percentage or fixed_amount.", field="discount_type"
        )
    value = _amount(draft.value, "value", "Value")
    if draft.discount_type == "percentage" and not Decimal(0) < value <= Decimal(100):
        raise ValidationError(
            "A percentage discount must be more than 0 and at most 100.", field="value"
        )
    if draft.discount_type == "fixed_amount" and value <= 0:
        raise ValidationError("A fixed amount off must be more than 0.", field="value")
    maximum = None
    if draft.maximum_discount is not None:
        maximum = _amount(draft.maximum_discount, "maximum_discount", "Maximum discount")
        if maximum <= 0:
            raise ValidationError(
                "Maximum discount must be more than 0 when set (leave it empty for none).",
                field="maximum_discount",
            )
    minimum = _amount(
        draft.minimum_order_amount or 0, "minimum_order_amount", "Minimum order amount"
    )
    if minimum < 0:
        raise ValidationError(
            "Minimum order amount cannot be negative (0 means none).",
            field="minimum_order_amount",
        )
    for name, moment in (("valid_from", draft.valid_from), ("valid_until", draft.valid_until)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise ValidationError(
                f"{name.replace('_', ' ').capitalize()} needs a date, time and time zone.",
                field=name,
            )
    if draft.valid_until <= draft.valid_from:
        raise ValidationError("Valid until must be after valid from.", field="valid_until")
    if draft.usage_limit is not None and (
        isinstance(draft.usage_limit, bool) or int(draft.usage_limit) < 1
    ):
        raise ValidationError(
            "Usage limit must be at least 1 (leave it empty for no limit).", field="usage_limit"
        )
    description = (draft.description or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            f"Description must be at most {MAX_DESCRIPTION} characters.", field="description"
        )
    if len(set(draft.event_ids)) != len(draft.event_ids):
        raise ValidationError("An event was chosen twice.", field="event_ids")
    if len(set(draft.ticket_type_ids)) != len(draft.ticket_type_ids):
        raise ValidationError("A ticket type was chosen twice.", field="ticket_type_ids")
    return DiscountCodeDraft(
        code=code,
        discount_type=draft.discount_type,
        value=value,
        valid_from=draft.valid_from,
        valid_until=draft.valid_until,
        description=description,
        maximum_discount=maximum,
        minimum_order_amount=minimum,
        usage_limit=None if draft.usage_limit is None else int(draft.usage_limit),
        one_per_customer=bool(draft.one_per_customer),
        first_purchase_only=bool(draft.first_purchase_only),
        is_active=bool(draft.is_active),
        event_ids=tuple(sorted(draft.event_ids)),
        ticket_type_ids=tuple(sorted(draft.ticket_type_ids)),
    )


def _check_unique(session: Session, code: str, code_id: uuid.UUID | None) -> None:
    clash = session.execute(
        text(
            "SELECT 'discount' FROM discount_codes WHERE upper(code) = :c"
            " AND id IS DISTINCT FROM CAST(:id AS uuid)"
            " UNION ALL SELECT 'promotional' FROM promotional_codes WHERE upper(code) = :c"
            " LIMIT 1"
        ),
        {"c": code, "id": code_id},
    ).scalar()
    if clash:
        raise Conflict(
            f"Code {code} is already taken by another {clash} code; choose another code.",
            field="code",
        )


def _check_targets(session: Session, draft: DiscountCodeDraft) -> None:
    if draft.event_ids:
        found = set(
            session.execute(
                text("SELECT id FROM events WHERE id = ANY(:ids)"), {"ids": list(draft.event_ids)}
            ).scalars()
        )
        if found != set(draft.event_ids):
            raise ValidationError("A chosen event does not exist.", field="event_ids")
    if draft.ticket_type_ids:
        rows = session.execute(
            text("SELECT id, event_id, name FROM ticket_types WHERE id = ANY(:ids)"),
            {"ids": list(draft.ticket_type_ids)},
        ).all()
        if len(rows) != len(draft.ticket_type_ids):
            raise ValidationError("A chosen ticket type does not exist.", field="ticket_type_ids")
        if draft.event_ids:
            outside = sorted(name for _, event, name in rows if event not in draft.event_ids)
            if outside:
                raise ValidationError(
                    f"Ticket type {', '.join(outside)} is not of a chosen event; choose its"
                    " event too or leave the type out.",
                    field="ticket_type_ids",
                )


def _write_targets(session: Session, code_id: uuid.UUID, draft: DiscountCodeDraft) -> None:
    session.execute(
        text("DELETE FROM discount_code_events WHERE discount_code_id = :c"), {"c": code_id}
    )
    session.execute(
        text("DELETE FROM discount_code_ticket_types WHERE discount_code_id = :c"), {"c": code_id}
    )
    if draft.event_ids:
        session.execute(
            text(
                "INSERT INTO discount_code_events (discount_code_id, event_id)"
                " SELECT :c, unnest(CAST(:ids AS uuid[]))"
            ),
            {"c": code_id, "ids": list(draft.event_ids)},
        )
    if draft.ticket_type_ids:
        session.execute(
            text(
                "INSERT INTO discount_code_ticket_types (discount_code_id, ticket_type_id)"
                " SELECT :c, unnest(CAST(:ids AS uuid[]))"
            ),
            {"c": code_id, "ids": list(draft.ticket_type_ids)},
        )


def _columns(draft: DiscountCodeDraft) -> dict[str, Any]:
    return {
        "code": draft.code,
        "description": draft.description,
        "discount_type": draft.discount_type,
        "discount_value": draft.value,
        "maximum_discount_amount": draft.maximum_discount,
        "minimum_order_amount": draft.minimum_order_amount,
        "start_date": draft.valid_from,
        "end_date": draft.valid_until,
        "usage_limit": draft.usage_limit,
        "is_one_time_use": draft.one_per_customer,
        "is_first_purchase_only": draft.first_purchase_only,
        "is_active": draft.is_active,
        # An empty event list means every event: pricing reads "not all events and no
        # event rows" as "no event at all".
        "applies_to_all_events": not draft.event_ids,
    }


def _audit_values(draft: DiscountCodeDraft) -> dict[str, Any]:
    values = {k: (str(v) if v is not None else None) for k, v in _columns(draft).items()}
    values["event_ids"] = [str(i) for i in draft.event_ids]
    values["ticket_type_ids"] = [str(i) for i in draft.ticket_type_ids]
    return values


def _audit(session: Session, actor: Actor, action: str, code_id: uuid.UUID, **kw: Any) -> None:
    record_by_person(session, actor, action, code_id, table="discount_codes", **kw)


def create_discount_code(actor: Actor, draft: DiscountCodeDraft) -> DiscountCodeView:
    """Create a code with `draft`'s rules.

    Raises ValidationError naming the field at fault (code format, percentage 0 < x <=
    100, valid_until after valid_from, …), Conflict when the code is taken by a discount
    or promotional code, PermissionDenied without events.manage.
    """
    clean = validate_draft(draft)
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        _check_unique(session, clean.code, None)
        _check_targets(session, clean)
        columns = _columns(clean)
        code_id = session.execute(
            text(
                f"INSERT INTO discount_codes ({', '.join(columns)}, created_by)"
                f" VALUES ({', '.join(':' + c for c in columns)}, :created_by) RETURNING id"
            ),
            {**columns, "created_by": actor.user_id},
        ).scalar_one()
        _write_targets(session, code_id, clean)
        _audit(session, actor, "discount_codes.created", code_id, new=_audit_values(clean))
        row = session.execute(
            text(_LIST.format(where="c.id = :id")), {"id": code_id, "limit": 1, "offset": 0}
        ).one()
        uow.commit()
    return _view(row)


def _locked(session: Session, code_id: uuid.UUID) -> int:
    """Lock the code row and return its use count.

    The checkout locks the row FOR UPDATE while it counts a use: an edit waits for that
    sale (at most the lock timeout) instead of interleaving with it.
    """
    used = session.execute(
        text("SELECT current_usage FROM discount_codes WHERE id = :c FOR UPDATE"),
        {"c": code_id},
    ).scalar()
    if used is None:
        raise NotFound("That discount code does not exist.", field="code_id")
    return int(used)


def update_discount_code(
    actor: Actor,
    code_id: uuid.UUID,
    draft: DiscountCodeDraft,
    *,
    opened: DiscountCodeDraft | None = None,
) -> DiscountCodeView:
    """Replace a code's rules with `draft`'s. With `opened` (the rules the edit form was
    opened with, `view.draft()`), a code whose rules changed since is refused; sales do
    not count as a change (they move only the use counter).

    Orders already placed keep the discount they got. Raises ValidationError (as
    create, plus a usage limit below the uses so far), Conflict (code taken),
    ConcurrentUpdate, NotFound, Busy, PermissionDenied without events.manage.
    """
    clean = validate_draft(draft)
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        used = _locked(session, code_id)
        before = _view(
            session.execute(
                text(_LIST.format(where="c.id = :id")), {"id": code_id, "limit": 1, "offset": 0}
            ).one()
        )
        if opened is not None and before.draft() != opened:
            raise ConcurrentUpdate(
                "Someone else changed this code since you opened it; reload it and try again."
            )
        if clean.usage_limit is not None and clean.usage_limit < used:
            raise ValidationError(
                f"Usage limit cannot be below the {used} times the code was used already.",
                field="usage_limit",
            )
        _check_unique(session, clean.code, code_id)
        _check_targets(session, clean)
        columns = _columns(clean)
        session.execute(
            text(
                f"UPDATE discount_codes SET {', '.join(f'{c} = :{c}' for c in columns)}"
                " WHERE id = :id"
            ),
            {**columns, "id": code_id},
        )
        _write_targets(session, code_id, clean)
        _audit(
            session,
            actor,
            "discount_codes.updated",
            code_id,
            old=_audit_values(before.draft()),
            new=_audit_values(clean),
        )
        row = session.execute(
            text(_LIST.format(where="c.id = :id")), {"id": code_id, "limit": 1, "offset": 0}
        ).one()
        uow.commit()
    return _view(row)


def set_discount_code_active(actor: Actor, code_id: uuid.UUID, active: bool) -> DiscountCodeView:
    """Deactivate a code (checkouts refuse it from now on) or activate it again.

    Raises NotFound, Busy, PermissionDenied without events.manage.
    """
    with unit_of_work(actor, lock_timeout_ms=DEFAULT_LOCK_TIMEOUT_MS) as uow:
        uow.require(EVENTS_MANAGE)
        session = uow.session
        _locked(session, code_id)
        was = session.execute(
            text("SELECT is_active FROM discount_codes WHERE id = :c"), {"c": code_id}
        ).scalar_one()
        if was != active:
            session.execute(
                text("UPDATE discount_codes SET is_active = :a WHERE id = :c"),
                {"a": active, "c": code_id},
            )
        row = session.execute(
            text(_LIST.format(where="c.id = :id")), {"id": code_id, "limit": 1, "offset": 0}
        ).one()
        uow.commit()
    return _view(row)
