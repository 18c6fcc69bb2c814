"""The catalogue of roles and permissions (seeded by migration 0003; the demo reuses it).

Ids are derived from the names (uuid5), so the migration, the demo loader and any later
seed agree on them without looking them up.
"""

from __future__ import annotations

import uuid

OVERVIEW_VIEW = "overview.view"
EVENTS_MANAGE = "events.manage"
BOX_OFFICE_SELL = "box_office.sell"
ORDERS_REFUND = "orders.refund"
ANALYTICS_VIEW = "analytics.view"
SPONSORS_MANAGE = "sponsors.manage"
CAMPAIGNS_MANAGE = "campaigns.manage"
SHOWCASE_VIEW = "showcase.view"
SHOWCASE_MANAGE = "showcase.manage"
SPONSOR_PORTAL_VIEW = "sponsor_portal.view"
COMPLIANCE_MANAGE = "compliance.manage"
USERS_MANAGE = "users.manage"
API_KEYS_MANAGE = "api_keys.manage"
ACCOUNT_MANAGE = "account.manage"

ADMIN = "admin"
ROLES: dict[str, str] = {
    "admin": "Runs the platform: users, settings, compliance and audit.",
    "organizer": "Plans events, venues, ticketing and the box office.",
    "marketing": "Runs campaigns, sponsors and reads analytics.",
    "designer": "Manages a designer profile, collections and runway shows.",
    "sponsor": "Follows sponsorships, assets and sponsor analytics.",
    "staff": "Works the door and the box office on event days.",
}
ALL_ROLES = tuple(ROLES)

PERMISSIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    OVERVIEW_VIEW: ("See the overview page.", ALL_ROLES),
    EVENTS_MANAGE: ("Create and change events, venues and ticket types.", ("admin", "organizer")),
    BOX_OFFICE_SELL: ("Sell tickets at the box office.", ("admin", "organizer", "staff")),
    ORDERS_REFUND: ("Refund and cancel orders.", ("admin", "organizer")),
    ANALYTICS_VIEW: ("Read campaign and sales analytics.", ("admin", "marketing")),
    SPONSORS_MANAGE: ("Manage sponsors and sponsorships.", ("admin", "marketing")),
    # Seeded by migration 0008.
    CAMPAIGNS_MANAGE: (
        "Manage campaigns, e-mails, social posts, promo codes and segments.",
        ("admin", "marketing"),
    ),
    SHOWCASE_VIEW: ("See designers, collections and runway shows.", ALL_ROLES),
    SHOWCASE_MANAGE: ("Manage designers' collections and shows.", ("admin", "designer")),
    SPONSOR_PORTAL_VIEW: ("See the sponsor portal.", ("admin", "sponsor")),
    COMPLIANCE_MANAGE: ("Work the audit log and data subject requests.", ("admin",)),
    # Migration 0012 rewords it: there is no lock any more.
    USERS_MANAGE: (
        "Invite users, set roles, deactivate, and lift sign-in throttles.",
        ("admin",),
    ),
    ACCOUNT_MANAGE: ("Change one's own password.", ALL_ROLES),
    # Seeded by migration 0016.
    API_KEYS_MANAGE: ("Create, revoke and rotate API keys for anyone.", ("admin",)),
}

_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")


def role_id(name: str) -> uuid.UUID:
    """The fixed id of the role called `name`."""
    return uuid.uuid5(_NAMESPACE, f"role:{name}")


def permission_id(name: str) -> uuid.UUID:
    """The fixed id of the permission called `name`."""
    return uuid.uuid5(_NAMESPACE, f"permission:{name}")


def role_permission_id(role: str, permission: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"grant:{role}:{permission}")


def grants() -> list[tuple[str, str]]:
    """(role, permission) for every grant in the catalogue."""
    return [(role, name) for name, (_, roles) in PERMISSIONS.items() for role in roles]


def permissions_of(roles: frozenset[str] | set[str]) -> frozenset[str]:
    """What the given roles may do, from the catalogue (the database holds the same)."""
    return frozenset(name for name, (_, holders) in PERMISSIONS.items() if roles & set(holders))
