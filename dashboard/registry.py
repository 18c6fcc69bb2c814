"""Every screen of the app: where its file is, how it is listed, and who may open it.

The router shows a person only the pages their permissions allow; a page that exists but is
not theirs stays routable (hidden) so its URL shows "no access" instead of Streamlit's
page-not-found. Register only pages whose file exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.permissions import ACCOUNT_MANAGE, OVERVIEW_VIEW, USERS_MANAGE
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
    PageSpec(
        "users.py",
        "Users & roles",
        ":material/manage_accounts:",
        "Admin",
        USERS_MANAGE,
        "users",
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
