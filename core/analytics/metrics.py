"""Metric definitions shared by the dashboards (docs/ANALYTICS.md says the same in words).

Sums come from SQL; the ratios between them are defined once here. A ratio whose
denominator is zero is None ("—" on the pages), never a division error or an infinity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

Number = int | Decimal


def ratio(numerator: Number, denominator: Number) -> Decimal | None:
    """numerator / denominator, or None when the denominator is zero."""
    if not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True)
class CampaignFigures:
    """Sums over campaign analytics rows. `paid_revenue` is the revenue of the rows that
    cost money (the ad spend's own return)."""

    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    revenue: Decimal = Decimal("0")
    cost: Decimal = Decimal("0")
    paid_revenue: Decimal = Decimal("0")

    @property
    def ctr(self) -> Decimal | None:
        """Click-through rate: clicks / impressions."""
        return ratio(self.clicks, self.impressions)

    @property
    def conversion_rate(self) -> Decimal | None:
        """conversions / clicks."""
        return ratio(self.conversions, self.clicks)

    @property
    def roi(self) -> Decimal | None:
        """Return on investment as the issue defines it: revenue / cost."""
        return ratio(self.revenue, self.cost)

    @property
    def roas(self) -> Decimal | None:
        """Return on ad spend: revenue of the rows with a cost / that cost."""
        return ratio(self.paid_revenue, self.cost)


@dataclass(frozen=True)
class SponsorFigures:
    """Sums over sponsor analytics rows."""

    impressions: int = 0
    clicks: int = 0
    leads: int = 0
    conversions: int = 0
    cost: Decimal = Decimal("0")
    revenue: Decimal = Decimal("0")

    @property
    def ctr(self) -> Decimal | None:
        """clicks / impressions."""
        return ratio(self.clicks, self.impressions)

    @property
    def cost_per_lead(self) -> Decimal | None:
        """cost / leads."""
        return ratio(self.cost, self.leads)

    @property
    def roi(self) -> Decimal | None:
        """revenue / cost."""
        return ratio(self.revenue, self.cost)


@dataclass(frozen=True)
class EmailFigures:
    sends: int = 0
    opens: int = 0
    clicks: int = 0
    bounces: int = 0
    unsubscribes: int = 0
    complaints: int = 0

    @property
    def open_rate(self) -> Decimal | None:
        """opens / sends."""
        return ratio(self.opens, self.sends)

    @property
    def click_rate(self) -> Decimal | None:
        """clicks / sends."""
        return ratio(self.clicks, self.sends)

    @property
    def click_to_open_rate(self) -> Decimal | None:
        """clicks / opens."""
        return ratio(self.clicks, self.opens)

    @property
    def bounce_rate(self) -> Decimal | None:
        """bounces / sends."""
        return ratio(self.bounces, self.sends)

    @property
    def unsubscribe_rate(self) -> Decimal | None:
        """unsubscribes / sends."""
        return ratio(self.unsubscribes, self.sends)


@dataclass(frozen=True)
class SocialFigures:
    posts: int = 0
    impressions: int = 0
    reach: int = 0
    engagement: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    saves: int = 0
    clicks: int = 0

    @property
    def engagement_rate(self) -> Decimal | None:
        """engagement / impressions."""
        return ratio(self.engagement, self.impressions)


@dataclass(frozen=True)
class PromoFigures:
    """What a promotional code did through live orders placed in the range."""

    uses: int = 0
    unique_buyers: int = 0
    tickets: int = 0
    discount_given: Decimal = Decimal("0")
    order_value: Decimal = Decimal("0")

    @property
    def average_order_value(self) -> Decimal | None:
        """order value / uses."""
        return ratio(self.order_value, self.uses)
