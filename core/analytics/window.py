"""The date range a dashboard asks about, and how it splits over the monthly rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.errors import ValidationError

# Longer ranges draw their time series by month, which the monthly rollups can serve.
DAILY_SERIES_MAX_DAYS = 92
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class DateWindow:
    """Days `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(
                f"The end date ({self.end:%Y-%m-%d}) is before the start date"
                f" ({self.start:%Y-%m-%d}): choose an end on or after the start.",
                field="end",
            )
        if self.days > MAX_DAYS:
            raise ValidationError(
                f"Choose at most {MAX_DAYS} days; the range has {self.days}.", field="start"
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def grain(self) -> str:
        """`day` or `month`: the step of the dashboards' time series."""
        return "day" if self.days <= DAILY_SERIES_MAX_DAYS else "month"

    @property
    def stop(self) -> date:
        """The first day after the range (half-open bounds for SQL)."""
        return self.end + timedelta(days=1)

    def whole_months(self) -> tuple[date, date] | None:
        """[first, stop) of the whole calendar months inside the range, or None."""
        first = self.start if self.start.day == 1 else _next_month(self.start)
        stop = self.stop.replace(day=1)
        return (first, stop) if first < stop else None


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)
