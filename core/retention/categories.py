"""The retention categories: which rows each one removes or anonymises, and why.

Each is built from the retention rules of the personal-data registry
(core/gdpr/categories.py): the rows past a cutoff are one WHERE clause there, and an
anonymisation is the data category's own (the same statement an erasure runs), so what
retention leaves of an order or an account is exactly what an erasure leaves. The WHERE
is used alike to count the rows (dry run) and to act on them (run), so the two cannot
disagree.

Periods live in `system_configurations` (category `retention`, one key per category;
migration 0007 seeds the defaults). `audit_logs` is no category: the application never
deletes audit entries (issue 6); GDPR erasure redacts their payloads instead. Password
reset tokens are no category either: the sign-in path clears them once expired
(`auth_purge`, migration 0012).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from core.gdpr.categories import REGISTRY
from core.gdpr.registry import Category as DataCategory
from core.gdpr.registry import Retention

SETTINGS_CATEGORY = "retention"
# core/auth/permissions.py's namespace: migration 0007 seeds the periods under these ids.
_NAMESPACE = uuid.UUID("5b0f4c1e-8a57-4a4e-9c59-0f1a2e3d4c5b")


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    table: str
    # "delete" removes rows, "anonymise" overwrites personal fields, "clear" empties one.
    action: str
    # Rows past :cutoff (and not yet treated), as a WHERE clause over `table`.
    where: str
    # Statements that treat the rows `where` selects, in order (the last one's row count
    # is the category's count). Their WHERE is `where`, spelled inside each.
    statements: tuple[str, ...]
    # Tables whose whole monthly partitions past the cutoff are dropped, not deleted from.
    drops_partitions: bool = False
    default_period: str = "P90D"
    why: str = ""


def _statements(data: DataCategory, rule: Retention) -> tuple[str, ...]:
    if rule.statements:
        return rule.statements
    if rule.action == "delete":
        return (f"DELETE FROM {data.table} WHERE {rule.where}",)
    return (data.erase_statement(rule.where),)


def _categories() -> tuple[Category, ...]:
    """One retention category per key; the rules sharing it in the registry's order."""
    grouped: dict[str, list[tuple[DataCategory, Retention]]] = {}
    for data, rule in REGISTRY.retention_rules():
        grouped.setdefault(rule.key, []).append((data, rule))
    built = []
    for key, rules in grouped.items():
        last_data, last = rules[-1]
        built.append(
            Category(
                key=key,
                label=next(r.label for _, r in rules if r.label),
                table=last_data.table,
                action=last.action,
                where=last.where,
                statements=tuple(s for data, rule in rules for s in _statements(data, rule)),
                drops_partitions=last.drops_partitions,
                default_period=last.period,
                why=last.why,
            )
        )
    return tuple(built)


CATEGORIES: tuple[Category, ...] = _categories()
BY_KEY = {c.key: c for c in CATEGORIES}


def setting_id(key: str) -> uuid.UUID:
    """The fixed id of a category's period setting (the same as migration 0007 seeds)."""
    return uuid.uuid5(_NAMESPACE, f"setting:retention:{key}")
