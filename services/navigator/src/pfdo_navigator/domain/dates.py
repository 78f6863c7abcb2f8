"""Calendar helpers shared by the navigator's rules.

docs/domain-rules.md, "Dates and money": dates are calendar dates in the region's time zone; these
helpers never look at a clock: callers pass "today" (a regional date) explicitly.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import NamedTuple


class YearMonth(NamedTuple):
    """A calendar month, e.g. ``YearMonth(2025, 9)``; ordered chronologically."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> "YearMonth":
        return cls(day.year, day.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def last_day_of_month(day: date) -> date:
    """The last calendar day of ``day``'s month."""
    return YearMonth.of(day).last_day
