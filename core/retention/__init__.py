"""The retention policy: per-category periods from system configuration, a dry run and
one audited run. See docs/RETENTION.md."""

from core.retention.categories import CATEGORIES, Category
from core.retention.service import (
    RetentionLine,
    RetentionPlan,
    plan_retention,
    run_retention,
    set_retention_period,
)

__all__ = [
    "CATEGORIES",
    "Category",
    "RetentionLine",
    "RetentionPlan",
    "plan_retention",
    "run_retention",
    "set_retention_period",
]
