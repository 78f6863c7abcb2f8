"""Calendar helpers for billing (docs/domain-rules.md, "Dates and money", "Periods and nominal").

Dates are calendar dates in the region's time zone; every range here is inclusive of both ends.
A month is represented by the date of its first day (``date(2026, 10, 1)`` is October 2026).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pfdo_billing.domain.errors import InvalidDateRange

DEFAULT_PERIOD_START_MONTH = 9
DEFAULT_PERIOD_START_DAY = 1


def _require_ordered(start: date, end: date) -> None:
    if end < start:
        raise InvalidDateRange(
            "the range ends before it starts", start=start.isoformat(), end=end.isoformat()
        )


def days_inclusive(start: date, end: date) -> int:
    """Number of days from ``start`` to ``end``, both included (days(S..E) of the cost rule)."""
    _require_ordered(start, end)
    return (end - start).days + 1


def month_start(day: date) -> date:
    """The first day of ``day``'s month (the month's key)."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s month."""
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return next_month(day) - timedelta(days=1)


def months_spanned(start: date, end: date) -> list[date]:
    """The months touched by ``start..end``, each as its first day, in order."""
    _require_ordered(start, end)
    months: list[date] = []
    current, last = month_start(start), month_start(end)
    while current <= last:
        months.append(current)
        current = next_month(current)
    return months


@dataclass(frozen=True)
class Period:
    """A program period: normally the school year, 1 September – 31 August (inclusive)."""

    starts_on: date
    ends_on: date

    def __post_init__(self) -> None:
        _require_ordered(self.starts_on, self.ends_on)

    @property
    def months(self) -> list[date]:
        """The months of the period, each as its first day."""
        return months_spanned(self.starts_on, self.ends_on)

    @property
    def month_count(self) -> int:
        """How many months the period touches (12 for a school year)."""
        return len(self.months)

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls within the period."""
        return self.starts_on <= day <= self.ends_on


def program_period(
    start_year: int,
    start_month: int = DEFAULT_PERIOD_START_MONTH,
    start_day: int = DEFAULT_PERIOD_START_DAY,
) -> Period:
    """The yearly period starting on ``start_day.start_month.start_year`` (default 1 Sep)
    and ending the day before the same date a year later (default 31 Aug)."""
    starts_on = date(start_year, start_month, start_day)
    return Period(starts_on, date(start_year + 1, start_month, start_day) - timedelta(days=1))


def period_containing(
    day: date,
    start_month: int = DEFAULT_PERIOD_START_MONTH,
    start_day: int = DEFAULT_PERIOD_START_DAY,
) -> Period:
    """The yearly period (default 1 Sep – 31 Aug) that contains ``day``."""
    start_year = day.year if (day.month, day.day) >= (start_month, start_day) else day.year - 1
    return program_period(start_year, start_month, start_day)


def remaining_months(period: Period, on_date: date) -> int:
    """Months of ``period`` left from ``on_date`` on, for pro-rata crediting of the nominal.

    The month containing ``on_date`` (the month of activation) counts as a WHOLE remaining month:
    a certificate funded on 20 October of a Sep–Aug period has 11 remaining months (Oct..Aug).
    Before the period starts all its months remain; after it ends none do.
    """
    if on_date < period.starts_on:
        return period.month_count
    if on_date > period.ends_on:
        return 0
    return len(months_spanned(on_date, period.ends_on))
