"""Runtime settings from system_configurations, read inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import SystemConfiguration


def get_setting(session: Session, category: str, key: str, default: Any) -> Any:
    """The value of (category, key), or `default` when it is not configured."""
    value = session.scalar(
        select(SystemConfiguration.value).where(
            SystemConfiguration.category == category, SystemConfiguration.key == key
        )
    )
    return default if value is None else value
