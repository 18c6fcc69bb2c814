"""Time in the demo world: epoch seconds and day numbers relative to one anchor day (UTC).

Rows carry timestamps as text ('2026-11-21 18:30:00+00') because COPY parses text faster than
psycopg adapts datetime objects, and millions of rows make that difference count.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from functools import cache

MINUTE = 60
HOUR = 3_600
DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@cache
def day_text(day: int) -> str:
    """'YYYY-MM-DD' for an epoch day number."""
    return date.fromordinal(day + _EPOCH_ORDINAL).isoformat()


def ts_text(seconds: int) -> str:
    """A timestamptz literal in UTC for epoch seconds."""
    day, rest = divmod(seconds, DAY)
    return f"{day_text(day)} {rest // HOUR:02d}:{rest // MINUTE % 60:02d}:{rest % 60:02d}+00"


def ts_or_none(seconds: int | None) -> str | None:
    """ts_text, passing None (SQL NULL) through."""
    return None if seconds is None else ts_text(seconds)


def day_of(seconds: int) -> int:
    """The epoch day number of a moment."""
    return seconds // DAY


def to_date(day: int) -> date:
    """The date of an epoch day number."""
    return date.fromordinal(day + _EPOCH_ORDINAL)


def to_datetime(seconds: int) -> datetime:
    """The UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def add_month(seconds: int) -> int:
    """seconds + interval '1 month' as PostgreSQL computes it (day clamped to the month's end)."""
    moment = to_datetime(seconds)
    year, month = divmod(moment.month, 12)
    year, month = moment.year + year, month + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


class Clock:
    """The anchor (today in UTC unless given) and the history window analytics cover."""

    def __init__(self, anchor: date, history_days: int):
        self.anchor = anchor
        self.today = anchor.toordinal() - _EPOCH_ORDINAL
        self.t0 = self.today * DAY
        # Analytics and logs cover the days [first_day, today), never the future.
        self.first_day = self.today - history_days

    def months_back(self) -> int:
        """Months between the oldest analytics day and the anchor, for ensure_partitions."""
        first = to_date(self.first_day)
        return (self.anchor.year - first.year) * 12 + self.anchor.month - first.month
