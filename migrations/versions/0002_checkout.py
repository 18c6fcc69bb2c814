"""Checkout: payments and refunds, per-item tax, seat lists on holds and items, order numbers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "order_items",
        sa.Column("tax_amount", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("order_items", sa.Column("refunded_at", sa.TIMESTAMP(timezone=True)))
    op.add_column("order_items", sa.Column("seat_ids", postgresql.ARRAY(sa.UUID())))
    op.create_check_constraint(
        "ck_order_items_tax_amount_non_negative", "order_items", "tax_amount >= 0"
    )
    op.add_column("ticket_inventory_locks", sa.Column("seat_ids", postgresql.ARRAY(sa.UUID())))
    # Existing orders kept their tax on the order only: put it on their first item so the
    # order still equals the sum of its items.
    op.execute(
        "UPDATE order_items oi SET tax_amount = o.tax_amount FROM orders o"
        " WHERE o.id = oi.order_id AND o.tax_amount > 0 AND oi.id = ("
        "   SELECT min(id::text)::uuid FROM order_items WHERE order_id = o.id)"
    )
    op.create_table(
        "order_payments",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.Text(), server_default=sa.text("'USD'"), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount >= 0", name="ck_order_payments_amount_non_negative"),
        sa.CheckConstraint("char_length(currency) = 3", name="ck_order_payments_currency_code"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name="fk_order_payments_order_id_orders",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_payments"),
        sa.UniqueConstraint("reference", name="uq_order_payments_reference"),
    )
    op.create_index("idx_order_payments_order_id", "order_payments", ["order_id"])
    op.create_table(
        "order_refunds",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=False),
        sa.Column("order_item_id", sa.UUID(), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("refunded_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount >= 0", name="ck_order_refunds_amount_non_negative"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name="fk_order_refunds_order_id_orders",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["order_item_id"],
            ["order_items.id"],
            name="fk_order_refunds_order_item_id_order_items",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["refunded_by"],
            ["users.id"],
            name="fk_order_refunds_refunded_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_refunds"),
    )
    op.create_index("idx_order_refunds_order_id", "order_refunds", ["order_id"])
    op.create_index("idx_order_refunds_order_item_id", "order_refunds", ["order_item_id"])
    op.create_index("idx_order_refunds_refunded_by", "order_refunds", ["refunded_by"])
    # Box-office order numbers: FW-<year>-<7 digits>, continuing after existing orders.
    op.execute("CREATE SEQUENCE order_number_seq")
    op.execute("SELECT setval('order_number_seq', greatest((SELECT count(*) FROM orders), 1))")


def downgrade() -> None:
    op.execute("DROP SEQUENCE order_number_seq")
    op.drop_table("order_refunds")
    op.drop_table("order_payments")
    op.drop_column("ticket_inventory_locks", "seat_ids")
    op.drop_constraint("ck_order_items_tax_amount_non_negative", "order_items", type_="check")
    op.drop_column("order_items", "seat_ids")
    op.drop_column("order_items", "refunded_at")
    op.drop_column("order_items", "tax_amount")
