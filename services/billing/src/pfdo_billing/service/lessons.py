"""Planned lessons of a contract-month, from the module's weekly timetable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from pfdo_billing.domain.calendar import month_end, month_start


def planned_lessons(weekdays: Iterable[int], month: date, start: date, end: date) -> int:
    """Lessons of ``month`` between ``start`` and ``end`` (inclusive) by ISO weekday slots
    (a weekday listed twice has two lessons that day)."""
    per_day = Counter(weekdays)
    first, last = max(month_start(month), start), min(month_end(month), end)
    total, day = 0, first
    while day <= last:
        total += per_day.get(day.isoweekday(), 0)
        day += timedelta(days=1)
    return total
