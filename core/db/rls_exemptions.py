"""The relations that carry no row-level security, each with its reason.

Row-level security is the default: every table of the schema has it enabled, with
policies, unless it is listed here (tests/test_rls_default.py fails for any other table,
and for an entry whose table gained policies or whose grants differ from `app_access`).
docs/SECURITY.md summarises this list.

`app_access` is exactly what the app role may do with the relation; anything it may not
write it cannot change, whatever the session says about who acts.
"""

from __future__ import annotations

from dataclasses import dataclass

READ = frozenset({"SELECT"})
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Exemption:
    relation: str
    kind: str  # "table", "materialized view" or "view"
    app_access: frozenset[str]
    reason: str


_ROLLUP = (
    "A rollup of the daily analytics (sums per key and month or day; no person in it). A"
    " materialized view cannot carry row-level security, so the app role may not read it:"
    " it reads the security-barrier view `{name}_guarded` instead."
)
_GUARDED = (
    "Reads `{name}` for holders of analytics.view and returns nothing to anyone else (its"
    " WHERE is the permission, evaluated first: security_barrier). A view runs as its"
    " owner, so this condition is its only guard."
)
_ROLLUPS = (
    "campaign_analytics_monthly",
    "campaign_analytics_daily_by_campaign",
    "campaign_analytics_daily_by_channel",
    "sponsor_analytics_monthly",
    "email_analytics_monthly",
    "social_media_analytics_monthly",
)

EXEMPTIONS: tuple[Exemption, ...] = (
    Exemption(
        "alembic_version",
        "table",
        READ,
        "The schema's migration number, nothing else; only migrations (the owner) write it.",
    ),
    Exemption(
        "audit_chain_head",
        "table",
        READ,
        "One row: the sealed audit chain's last position and hash, which verification"
        " needs; no personal data. Only audit_seal (SECURITY DEFINER) writes it.",
    ),
    Exemption(
        "roles",
        "table",
        READ,
        "The role catalogue (names and descriptions), the same for everyone and public in"
        " core/auth/permissions.py. Migrations seed it; the app role may not write it.",
    ),
    Exemption(
        "permissions",
        "table",
        READ,
        "The permission catalogue, as public as the roles; the app role may not write it.",
    ),
    Exemption(
        "role_permissions",
        "table",
        READ,
        "Which role grants which permission: the catalogue again. Who holds a role is"
        " user_roles, which has policies; the app role may not write this table, so no"
        " session can give a role more power.",
    ),
    Exemption(
        "rest_api_endpoints",
        "table",
        READ,
        "The API's endpoint catalogue (paths, methods, required permissions); no person"
        " and no money in it. No service writes it; the app role may not.",
    ),
    Exemption(
        "graphql_schema_definitions",
        "table",
        READ,
        "The API's schema text; no person and no money in it. No service writes it; the"
        " app role may not.",
    ),
    Exemption(
        "analytics_rollups_refreshed",
        "materialized view",
        READ,
        "One timestamp: when the analytics rollups were last refreshed (the dashboards"
        " show it). Only refresh_analytics_rollups (SECURITY DEFINER) refreshes it.",
    ),
    *(Exemption(name, "materialized view", NONE, _ROLLUP.format(name=name)) for name in _ROLLUPS),
    *(Exemption(f"{name}_guarded", "view", READ, _GUARDED.format(name=name)) for name in _ROLLUPS),
)

BY_RELATION = {e.relation: e for e in EXEMPTIONS}
