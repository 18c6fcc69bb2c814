"""Money as integer cents, so totals add up exactly the way numeric(12,2) checks them."""

from __future__ import annotations


def money(cents: int) -> str:
    """numeric(12,2) text for non-negative cents."""
    return f"{cents // 100}.{cents % 100:02d}"


def rate_text(rate_e4: int) -> str:
    """numeric(5,4) text for a rate held in ten-thousandths (825 -> '0.0825')."""
    return f"{rate_e4 // 10_000}.{rate_e4 % 10_000:04d}"


def tax_cents(net_cents: int, rate_e4: int) -> int:
    """round(net * rate, 2) with PostgreSQL's half-away-from-zero rounding (net >= 0)."""
    return (net_cents * rate_e4 + 5_000) // 10_000


def percent_of(cents: int, percent: int) -> int:
    """round(cents * percent / 100) in cents, half up."""
    return (cents * percent + 50) // 100
