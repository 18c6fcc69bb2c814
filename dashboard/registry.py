"""Every screen of the app: where its file is, how it is listed, and who may open it.

The router shows a person only the pages their permissions allow; a page that exists but is
not theirs stays routable (hidden) so its URL shows "no access" instead of Streamlit's
page-not-found. Register only pages whose file exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.permissions import (
    ACCOUNT_MANAGE,
    ANALYTICS_VIEW,
    API_KEYS_MANAGE,
    BOX_OFFICE_SELL,
    CAMPAIGNS_MANAGE,
    COMPLIANCE_MANAGE,
    EVENTS_MANAGE,
    OVERVIEW_VIEW,
    SHOWCASE_MANAGE,
    SHOWCASE_VIEW,
    SPONSORS_MANAGE,
    USERS_MANAGE,
)
from core.config import PROJECT_ROOT

PAGES_DIR = PROJECT_ROOT / "pages"

# Sections in the order the sidebar lists them; a section with no page for the person is
# left out.
SECTIONS = ("Home", "Events", "Marketing", "Showcase", "Compliance", "Admin", "Account")


@dataclass(frozen=True)
class PageSpec:
    """One screen: `file` under pages/, its URL path, and the permission it needs."""

    file: str
    title: str
    icon: str
    section: str
    permission: str
    url_path: str
    default: bool = False

    def __post_init__(self) -> None:
        # AppTest (and Streamlit before its first run) finds a page by its file name.
        if self.url_path != self.file.removesuffix(".py"):
            raise ValueError(f"page {self.file} must have the url path {self.file[:-3]!r}")
        if self.section not in SECTIONS:
            raise ValueError(f"unknown section {self.section!r} for page {self.file}")


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "overview.py",
        "Overview",
        ":material/dashboard:",
        "Home",
        OVERVIEW_VIEW,
        "overview",
        default=True,
    ),
    PageSpec("events.py", "Events", ":material/event:", "Events", EVENTS_MANAGE, "events"),
    PageSpec("venues.py", "Venues", ":material/stadium:", "Events", EVENTS_MANAGE, "venues"),
    PageSpec(
        "ticket_types.py",
        "Ticket types",
        ":material/confirmation_number:",
        "Events",
        EVENTS_MANAGE,
        "ticket_types",
    ),
    PageSpec(
        "seat_map.py", "Seat map", ":material/event_seat:", "Events", BOX_OFFICE_SELL, "seat_map"
    ),
    PageSpec(
        "box_office.py",
        "Box office",
        ":material/point_of_sale:",
        "Events",
        BOX_OFFICE_SELL,
        "box_office",
    ),
    PageSpec("orders.py", "Orders", ":material/receipt_long:", "Events", BOX_OFFICE_SELL, "orders"),
    PageSpec(
        "discount_codes.py",
        "Discount codes",
        ":material/sell:",
        "Events",
        EVENTS_MANAGE,
        "discount_codes",
    ),
    PageSpec(
        "attendees.py", "Attendees", ":material/groups:", "Events", BOX_OFFICE_SELL, "attendees"
    ),
    PageSpec(
        "sponsors.py",
        "Sponsors",
        ":material/handshake:",
        "Marketing",
        SPONSORS_MANAGE,
        "sponsors",
    ),
    PageSpec(
        "sponsor_roi.py",
        "Sponsor ROI",
        ":material/monitoring:",
        "Marketing",
        ANALYTICS_VIEW,
        "sponsor_roi",
    ),
    PageSpec(
        "audit_log.py",
        "Audit log",
        ":material/policy:",
        "Compliance",
        COMPLIANCE_MANAGE,
        "audit_log",
    ),
    PageSpec(
        "retention.py",
        "Retention & keys",
        ":material/auto_delete:",
        "Compliance",
        COMPLIANCE_MANAGE,
        "retention",
    ),
    PageSpec(
        "data_requests.py",
        "Data requests",
        ":material/folder_shared:",
        "Compliance",
        COMPLIANCE_MANAGE,
        "data_requests",
    ),
    PageSpec(
        "campaigns.py",
        "Campaigns",
        ":material/campaign:",
        "Marketing",
        CAMPAIGNS_MANAGE,
        "campaigns",
    ),
    PageSpec(
        "campaign_analytics.py",
        "Campaign analytics",
        ":material/insights:",
        "Marketing",
        ANALYTICS_VIEW,
        "campaign_analytics",
    ),
    PageSpec(
        "users.py",
        "Users & roles",
        ":material/manage_accounts:",
        "Admin",
        USERS_MANAGE,
        "users",
    ),
    PageSpec(
        "api_keys.py",
        "API keys",
        ":material/key:",
        "Admin",
        API_KEYS_MANAGE,
        "api_keys",
    ),
    PageSpec(
        "showcase.py", "Showcase", ":material/auto_awesome:", "Showcase", SHOWCASE_VIEW, "showcase"
    ),
    PageSpec(
        "designers.py",
        "Designers",
        ":material/design_services:",
        "Showcase",
        SHOWCASE_VIEW,
        "designers",
    ),
    PageSpec(
        "collections.py",
        "Collections",
        ":material/styler:",
        "Showcase",
        SHOWCASE_VIEW,
        "collections",
    ),
    PageSpec(
        "runway_shows.py",
        "Runway shows",
        ":material/theater_comedy:",
        "Showcase",
        SHOWCASE_VIEW,
        "runway_shows",
    ),
    PageSpec(
        "fashion_models.py",
        "Models",
        ":material/person_pin:",
        "Showcase",
        SHOWCASE_VIEW,
        "fashion_models",
    ),
    PageSpec(
        "designer_analytics.py",
        "Designer analytics",
        ":material/insights:",
        "Showcase",
        SHOWCASE_MANAGE,
        "designer_analytics",
    ),
    PageSpec(
        "account.py",
        "My account",
        ":material/account_circle:",
        "Account",
        ACCOUNT_MANAGE,
        "account",
    ),
)


def default_page() -> PageSpec:
    return next(spec for spec in PAGES if spec.default)


def allowed_pages(permissions: frozenset[str]) -> dict[str, list[PageSpec]]:
    """The pages a holder of `permissions` may open, grouped by section in sidebar order."""
    grouped: dict[str, list[PageSpec]] = {}
    for section in SECTIONS:
        specs = [s for s in PAGES if s.section == section and s.permission in permissions]
        if specs:
            grouped[section] = specs
    return grouped
