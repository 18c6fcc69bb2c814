"""Ticket types, orders and their items, discount codes and inventory holds
(seeds 001, "Phase 2A: Ticketing System Core")."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import (
    EMPTY_ARRAY,
    EMPTY_OBJECT,
    FALSE,
    TRUE,
    ZERO,
    Base,
    CreatedAt,
    Timestamps,
    UUIDPrimaryKey,
    check,
    non_negative,
    one_of,
)
from core.models.limits import (
    EMAIL,
    NAME,
    PHONE,
    TOKEN,
    Code,
    FreeText,
    IpAddress,
    Json,
    JsonList,
    Name,
    Short,
    UserAgent,
    limited,
)

TICKET_TIERS = ("general", "premium", "vip", "exclusive")
ORDER_STATUSES = ("pending", "processing", "completed", "cancelled", "refunded", "failed")
# Orders whose tickets count as sold (and may be cancelled).
LIVE_ORDER_STATUSES = ("pending", "completed")
DISCOUNT_TYPES = ("percentage", "fixed_amount")


class TicketType(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "ticket_types"
    __table_args__ = (
        non_negative("base_price"),
        non_negative("total_capacity"),
        check(
            "sale_end_date > sale_start_date",
            "check_ticket_dates",
            field="sale_end_date",
            message="sale end date must be after the sale start date",
        ),
        check(
            "remaining_capacity >= 0 AND remaining_capacity <= total_capacity",
            "check_ticket_capacity",
            field="remaining_capacity",
            message="remaining capacity must be between 0 and the total capacity",
        ),
        check(
            "max_quantity_per_order IS NULL OR max_quantity_per_order > 0",
            "max_quantity_per_order_positive",
            field="max_quantity_per_order",
            message="max quantity per order must be greater than 0 when set",
        ),
        check(
            "tax_rate IS NULL OR (tax_rate >= 0 AND tax_rate < 1)",
            "tax_rate_range",
            field="tax_rate",
            message="tax rate must be at least 0 and below 1 (a fraction, e.g. 0.0825)",
        ),
        one_of("tier", TICKET_TIERS),
        Index("idx_ticket_types_event_id", "event_id"),
        Index("idx_ticket_types_tier", "tier"),
        Index(
            "idx_ticket_types_active_featured",
            "is_active",
            "is_featured",
            postgresql_where=text("is_active AND is_featured"),
        ),
        Index("idx_ticket_types_sale_dates", "sale_start_date", "sale_end_date"),
        Index("idx_ticket_types_seating_section_id", "seating_section_id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[Name]
    description: Mapped[FreeText | None]
    base_price: Mapped[Decimal]
    features: Mapped[JsonList] = mapped_column(server_default=EMPTY_ARRAY)
    max_quantity_per_order: Mapped[int | None]
    total_capacity: Mapped[int]
    remaining_capacity: Mapped[int]
    sale_start_date: Mapped[datetime]
    sale_end_date: Mapped[datetime]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    is_featured: Mapped[bool] = mapped_column(server_default=FALSE)
    tier: Mapped[str]
    seating_section_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("venue_sections.id", ondelete="SET NULL")
    )
    # Overrides events.tax_rate when set.
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)
    # Optimistic lock: the ORM updates WHERE version = <read version> and the trigger
    # (ticket_types_bump_version) increments it, refusing raw SQL that sets a stale one.
    version: Mapped[int] = mapped_column(server_default=text("1"))

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


# Not partitioned: other tables hold FKs to orders and idempotency_key must be unique across
# all orders; a partitioned table would need created_at in every FK and UNIQUE.
class Order(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "orders"
    __table_args__ = (
        one_of("status", ORDER_STATUSES),
        non_negative("total_amount"),
        non_negative("subtotal"),
        non_negative("tax_amount"),
        non_negative("discount_amount"),
        check(
            "total_amount = subtotal - discount_amount + tax_amount",
            "check_order_total",
            field="total_amount",
            message="total amount must equal subtotal minus discount amount plus tax amount",
        ),
        check(
            "char_length(currency) = 3",
            "currency_code",
            field="currency",
            message="currency must be a three-letter ISO 4217 code",
        ),
        Index("idx_orders_user_id", "user_id"),
        Index("idx_orders_status", "status"),
        Index("idx_orders_created_at", "created_at"),
        Index(
            "idx_orders_payment_intent_id",
            "payment_intent_id",
            postgresql_where=text("payment_intent_id IS NOT NULL"),
        ),
        Index(
            "idx_orders_completed_at",
            "completed_at",
            postgresql_where=text("completed_at IS NOT NULL"),
        ),
        Index(
            "idx_orders_expiration_time",
            "expiration_time",
            postgresql_where=text("expiration_time IS NOT NULL"),
        ),
        Index("idx_orders_event_id_created_at", "event_id", "created_at"),
        Index("idx_orders_billing_email", "billing_email"),
        Index(
            "idx_orders_billing_name_trgm",
            "billing_name",
            postgresql_using="gin",
            postgresql_ops={"billing_name": "gin_trgm_ops"},
        ),
        Index("idx_orders_payment_details_key_id", "payment_details_key_id"),
        check(
            "octet_length(idempotency_fingerprint) = 32",
            "idempotency_fingerprint_sha256",
            field="idempotency_fingerprint",
            message="idempotency fingerprint must be a SHA-256 digest (32 bytes)",
        ),
    )

    # Used by the seeds' export function but never defined there.
    order_number: Mapped[str] = limited(32, unique=True)
    # Nullable: box-office buyers have no account, and retention detaches old orders.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # An order is for one event; attendee lists and row-level security filter on it.
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="RESTRICT"))
    status: Mapped[str]
    total_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    subtotal: Mapped[Decimal] = mapped_column(server_default=ZERO)
    tax_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    discount_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    currency: Mapped[str] = mapped_column(server_default=text("'USD'"))
    payment_intent_id: Mapped[str | None] = limited(255)
    payment_method: Mapped[Short | None]
    idempotency_key: Mapped[str | None] = limited(
        TOKEN, ascii=True, label="Idempotency key", unique=True
    )
    # SHA-256 of the request that placed the order under idempotency_key
    # (checkout_fingerprint, migration 0010): the same request replays the order, a
    # different one is refused. NULL for orders placed before it.
    idempotency_fingerprint: Mapped[bytes | None]
    # The seeds' retention functions call these contact_email / contact_phone.
    billing_email: Mapped[str] = limited(EMAIL, label="Buyer email")
    billing_name: Mapped[str] = limited(NAME, label="Buyer name")
    billing_phone: Mapped[str | None] = limited(PHONE, label="Buyer phone")
    billing_address: Mapped[Json | None]
    notes: Mapped[FreeText | None]
    ip_address: Mapped[IpAddress | None]
    user_agent: Mapped[UserAgent | None]
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)
    # Ciphertext produced in Python; the key lives outside the database (see encryption_keys).
    encrypted_payment_details: Mapped[str | None] = limited(4096)
    payment_details_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("encryption_keys.id", ondelete="SET NULL")
    )
    is_anonymized: Mapped[bool] = mapped_column(server_default=FALSE)
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    expiration_time: Mapped[datetime | None]

    items: Mapped[list[OrderItem]] = relationship(back_populates="order")


class OrderItem(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "order_items"
    __table_args__ = (
        check(
            "quantity > 0",
            "quantity_positive",
            field="quantity",
            message="quantity must be greater than 0",
        ),
        non_negative("unit_price"),
        non_negative("subtotal"),
        non_negative("discount_amount"),
        non_negative("final_price"),
        non_negative("tax_amount"),
        check(
            "subtotal = unit_price * quantity",
            "check_subtotal",
            field="subtotal",
            message="subtotal must equal unit price times quantity",
        ),
        check(
            "final_price = subtotal - discount_amount",
            "check_price_calculation",
            field="final_price",
            message="final price must equal subtotal minus discount amount",
        ),
        Index("idx_order_items_order_id", "order_id"),
        Index("idx_order_items_ticket_type_id", "ticket_type_id"),
        Index(
            "idx_order_items_discount_code_id",
            "discount_code_id",
            postgresql_where=text("discount_code_id IS NOT NULL"),
        ),
        Index(
            "idx_order_items_promotional_code_id",
            "promotional_code_id",
            postgresql_where=text("promotional_code_id IS NOT NULL"),
        ),
        check(
            "refunded_quantity >= 0 AND refunded_quantity <= quantity",
            "refunded_quantity_range",
            field="refunded_quantity",
            message="refunded quantity must be between 0 and the item's quantity",
        ),
        check(
            "refunded_discount >= 0 AND refunded_discount <= discount_amount",
            "refunded_discount_range",
            field="refunded_discount",
            message="refunded discount must be between 0 and the item's discount",
        ),
        check(
            "refunded_tax >= 0 AND refunded_tax <= tax_amount",
            "refunded_tax_range",
            field="refunded_tax",
            message="refunded tax must be between 0 and the item's tax",
        ),
        check(
            "refunded_amount >= 0 AND refunded_amount <= final_price + tax_amount",
            "refunded_amount_range",
            field="refunded_amount",
            message="refunded amount must be between 0 and what the item cost",
        ),
        check(
            "refunded_seat_ids IS NULL OR refunded_seat_ids <@ seat_ids",
            "refunded_seats_of_item",
            field="refunded_seat_ids",
            message="only seats of the item can be refunded",
        ),
        check(
            "(refunded_at IS NOT NULL) = (refunded_quantity = quantity)",
            "refunded_at_when_nothing_left",
            field="refunded_at",
            message="an item is refunded when all of its tickets are, and only then",
        ),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ticket_types.id", ondelete="RESTRICT")
    )
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    subtotal: Mapped[Decimal]
    discount_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    # The seeds' export function calls this total_price.
    final_price: Mapped[Decimal]
    discount_code_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("discount_codes.id", ondelete="SET NULL")
    )
    # Marketing's promo codes go through the same pricing engine as discount codes.
    promotional_code_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("promotional_codes.id", ondelete="SET NULL")
    )
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)
    # Tax is rounded per item so refunds of single items give back exactly what was paid.
    tax_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    # Set when every ticket of the item is refunded (refunded_quantity = quantity).
    refunded_at: Mapped[datetime | None]
    # The seats this item sold (per-event seat inventory is event_seats); refunded ones
    # stay listed here and are also in refunded_seat_ids.
    seat_ids: Mapped[list[uuid.UUID] | None]
    # Given back so far (migration 0010): tickets, and the money in cumulative per-unit
    # shares of the item's discount and tax (core.checkout.pricing.refund_share), so that
    # refunding every ticket, in any steps, gives back exactly final_price + tax_amount.
    refunded_quantity: Mapped[int] = mapped_column(server_default=ZERO)
    refunded_discount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    refunded_tax: Mapped[Decimal] = mapped_column(server_default=ZERO)
    refunded_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    refunded_seat_ids: Mapped[list[uuid.UUID] | None]

    order: Mapped[Order] = relationship(back_populates="items")
    ticket_type: Mapped[TicketType] = relationship()


class DiscountCode(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "discount_codes"
    __table_args__ = (
        one_of("discount_type", DISCOUNT_TYPES),
        non_negative("discount_value"),
        non_negative("minimum_order_amount"),
        non_negative("maximum_discount_amount"),
        non_negative("current_usage"),
        check(
            "usage_limit IS NULL OR usage_limit > 0",
            "usage_limit_positive",
            field="usage_limit",
            message="usage limit must be greater than 0 when set",
        ),
        check(
            "end_date > start_date",
            "check_discount_dates",
            field="end_date",
            message="end date must be after the start date",
        ),
        check(
            "usage_limit IS NULL OR current_usage <= usage_limit",
            "check_discount_usage",
            field="current_usage",
            message="current usage cannot exceed the usage limit",
        ),
        check(
            "discount_type <> 'percentage' OR discount_value <= 100",
            "check_percentage_discount",
            field="discount_value",
            message="a percentage discount cannot exceed 100",
        ),
        Index("idx_discount_codes_active", "is_active", postgresql_where=text("is_active")),
        Index("idx_discount_codes_dates", "start_date", "end_date"),
        Index(
            "idx_discount_codes_usage",
            "current_usage",
            "usage_limit",
            postgresql_where=text("usage_limit IS NOT NULL"),
        ),
        Index("idx_discount_codes_created_by", "created_by"),
    )

    code: Mapped[Code] = mapped_column(unique=True)
    description: Mapped[str | None] = limited(500)
    discount_type: Mapped[str]
    discount_value: Mapped[Decimal]
    minimum_order_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    maximum_discount_amount: Mapped[Decimal | None]
    start_date: Mapped[datetime]
    end_date: Mapped[datetime]
    usage_limit: Mapped[int | None]
    current_usage: Mapped[int] = mapped_column(server_default=ZERO)
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    is_one_time_use: Mapped[bool] = mapped_column(server_default=FALSE)
    applies_to_all_events: Mapped[bool] = mapped_column(server_default=FALSE)
    # promotional_codes has it; one pricing engine serves both kinds of code.
    is_first_purchase_only: Mapped[bool] = mapped_column(server_default=FALSE)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    metadata_: Mapped[Json] = mapped_column("metadata", server_default=EMPTY_OBJECT)


class DiscountCodeEvent(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "discount_code_events"
    __table_args__ = (
        UniqueConstraint("discount_code_id", "event_id"),
        Index("idx_discount_code_events_event_id", "event_id"),
    )

    discount_code_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("discount_codes.id", ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))


class DiscountCodeTicketType(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "discount_code_ticket_types"
    __table_args__ = (
        UniqueConstraint("discount_code_id", "ticket_type_id"),
        Index("idx_discount_code_ticket_types_ticket_type_id", "ticket_type_id"),
    )

    discount_code_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("discount_codes.id", ondelete="CASCADE")
    )
    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ticket_types.id", ondelete="CASCADE")
    )


class TicketInventoryLock(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "ticket_inventory_locks"
    __table_args__ = (
        check(
            "quantity > 0",
            "quantity_positive",
            field="quantity",
            message="quantity must be greater than 0",
        ),
        # The seeds' UNIQUE ... WHERE inside CREATE TABLE is not valid SQL: a partial unique index.
        Index(
            "uq_ticket_inventory_locks_ticket_type_id_order_id",
            "ticket_type_id",
            "order_id",
            unique=True,
            postgresql_where=text("order_id IS NOT NULL"),
        ),
        Index(
            "idx_ticket_inventory_locks_ticket_type_id_expires_at", "ticket_type_id", "expires_at"
        ),
        Index(
            "idx_ticket_inventory_locks_order_id",
            "order_id",
            postgresql_where=text("order_id IS NOT NULL"),
        ),
        Index("idx_ticket_inventory_locks_session_id", "session_id"),
        Index("idx_ticket_inventory_locks_expires_at", "expires_at"),
        Index("idx_ticket_inventory_locks_event_id", "event_id"),
    )

    ticket_type_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ticket_types.id", ondelete="CASCADE")
    )
    # Holds are per event; seat holds point here from event_seats.hold_id.
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    session_id: Mapped[str] = limited(TOKEN, ascii=True, label="Session id")
    expires_at: Mapped[datetime]
    # Seats held by this row; their event_seats rows point back through hold_id.
    seat_ids: Mapped[list[uuid.UUID] | None]


class OrderPayment(UUIDPrimaryKey, CreatedAt, Base):
    """A payment taken for an order through a payment provider."""

    __tablename__ = "order_payments"
    __table_args__ = (
        non_negative("amount"),
        check(
            "char_length(currency) = 3",
            "currency_code",
            field="currency",
            message="currency must be a three-letter ISO 4217 code",
        ),
        Index("idx_order_payments_order_id", "order_id"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    provider: Mapped[Short]
    method: Mapped[Short]
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(server_default=text("'USD'"))
    reference: Mapped[str] = limited(200, unique=True)


class OrderRefund(UUIDPrimaryKey, CreatedAt, Base):
    """Money given back for an order item (a cancelled order refunds every item)."""

    __tablename__ = "order_refunds"
    __table_args__ = (
        non_negative("amount"),
        non_negative("discount_amount"),
        non_negative("tax_amount"),
        check(
            "(quantity IS NULL) = (order_item_id IS NULL) AND (quantity IS NULL OR quantity > 0)",
            "quantity_of_item",
            field="quantity",
            message="a refund of an item gives back at least one of its tickets",
        ),
        Index("idx_order_refunds_order_id", "order_id"),
        Index("idx_order_refunds_order_item_id", "order_item_id"),
        Index("idx_order_refunds_refunded_by", "refunded_by"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    order_item_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("order_items.id", ondelete="RESTRICT")
    )
    # What went back (tax included), and of it the item's discount and tax shares.
    amount: Mapped[Decimal]
    reason: Mapped[str] = limited(1000, label="Reason")
    method: Mapped[Short]
    reference: Mapped[str] = limited(200)
    refunded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Tickets of the item this refund gave back, and which of its seats (migration 0010);
    # NULL for a refund of the order as a whole (order_item_id NULL).
    quantity: Mapped[int | None]
    seat_ids: Mapped[list[uuid.UUID] | None]
    discount_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
    tax_amount: Mapped[Decimal] = mapped_column(server_default=ZERO)
