"""The state the demo modules share while they plan and write one world."""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random
from typing import TYPE_CHECKING, Any

from core.demo.clock import Clock
from core.demo.ids import UniqueNames
from core.demo.pools import Pools
from core.demo.scales import Scale

if TYPE_CHECKING:
    from core.demo.events import EventRec
    from core.demo.marketing import CampaignRec
    from core.demo.people import UserRec
    from core.demo.sales import SalesPlan
    from core.demo.showcase import DesignerRec
    from core.demo.sponsors import SponsorRec
    from core.demo.tickets import CodeRec
    from core.demo.venues import VenueRec


@dataclass
class World:
    """Everything planned so far. Small tables live here as records; big ones are generated
    from these records while they are written, never held in memory."""

    scale: Scale
    seed: int
    rng: Random
    pools: Pools
    clock: Clock
    slugs: dict[str, UniqueNames] = field(default_factory=dict)
    users: list[UserRec] = field(default_factory=list)
    users_by_type: dict[str, list[UserRec]] = field(default_factory=dict)
    role_ids: dict[str, str] = field(default_factory=dict)
    encryption_key_ids: list[str] = field(default_factory=list)
    venues: list[VenueRec] = field(default_factory=list)
    events: list[EventRec] = field(default_factory=list)
    category_ids: dict[str, str] = field(default_factory=dict)
    designers: list[DesignerRec] = field(default_factory=list)
    model_ids: list[str] = field(default_factory=list)
    sponsors: list[SponsorRec] = field(default_factory=list)
    campaigns: list[CampaignRec] = field(default_factory=list)
    discount_codes: list[CodeRec] = field(default_factory=list)
    promo_codes: list[CodeRec] = field(default_factory=list)
    sales: SalesPlan | None = None
    # A thin sample of orders (id, number, status, total cents, created) for logs and outbox.
    order_sample: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def slug(self, table: str, text: str) -> str:
        """A slug unique within `table`, so the slug trigger has nothing to do."""
        return self.slugs.setdefault(table, UniqueNames()).slug(text)
