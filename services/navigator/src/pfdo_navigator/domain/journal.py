"""Freezing a month's attendance journal before billing closes the month.

docs/domain-rules.md, "Attendance journal and disputes": corrections stop when the month's journal
is frozen. Billing closes a month from the marks it has consumed, so the journal must stop changing
*before* billing closes, not after:

1. The navigator **freezes** a month's journal: on an operator's command, or by its own job on
   the configured freeze day of the next month (``freeze_day``: the 5th by default, i.e. the
   month M is frozen on M+1-05, regional business date). A month can be frozen only after it has
   ended. Freezing is idempotent and final (there is no thaw).
2. From then on, marks and corrections of that month are refused (HTTP 409 ``journal_frozen``).
   Postings hold a shared lock on the month's journal row, the freeze an exclusive one, so a
   posting either commits before the freeze (and is counted) or sees the month frozen.
3. With the freeze, the navigator publishes ``AttendanceMonthFrozen`` carrying the number of
   ``AttendanceRecorded`` events it ever published for the month: the watermark billing waits for
   (billing counts the events it applied, deduplicated by its inbox, so redeliveries and the
   spread over partitions do not matter: "applied == published" means drained).

Disputes are not journal corrections by the provider: parents may still open them within their
7-day window after the freeze, and operators resolve them, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .dates import YearMonth
from .errors import DomainError

DEFAULT_FREEZE_DAY = 5


def previous_month(month: YearMonth) -> YearMonth:
    return YearMonth(month.year - 1, 12) if month.month == 1 else YearMonth(month.year, month.month - 1)


def parse_month(value: str) -> YearMonth:
    """'YYYY-MM' → YearMonth; raises ``invalid_month`` for anything else."""
    try:
        year, month = value.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(value)
        result = YearMonth(int(year), int(month))
    except ValueError as exc:
        raise DomainError("invalid_month", "a month is written YYYY-MM", month=value) from exc
    if not 1 <= result.month <= 12 or not 2000 <= result.year <= 2999:
        raise DomainError("invalid_month", "a month is written YYYY-MM", month=value)
    return result


def latest_month_due(today: date, freeze_day: int) -> YearMonth:
    """The latest month whose journal is due to be frozen on ``today``: the previous month once
    ``today`` reached ``freeze_day``, else the month before it."""
    if not 1 <= freeze_day <= 28:
        raise ValueError("freeze_day is a day 1..28 of the next month")
    due = previous_month(YearMonth.of(today))
    return due if today.day >= freeze_day else previous_month(due)


def months_to_freeze(open_months: Iterable[YearMonth], today: date, freeze_day: int) -> list[YearMonth]:
    """Months the scheduled job freezes on ``today``: every still-open journal month up to the
    latest due month, and that month itself even if no mark was ever posted for it (billing
    needs its freeze to close it). Oldest first."""
    due = latest_month_due(today, freeze_day)
    months = {m for m in open_months if m <= due}
    months.add(due)
    return sorted(months)


def check_freeze_allowed(month: YearMonth, today: date, *, require_month_end: bool = True) -> None:
    """A month's journal may be frozen once the month is over (``month_not_over`` before)."""
    if require_month_end and today <= month.last_day:
        raise DomainError(
            "month_not_over", f"the journal of {month} can be frozen only after the month has ended", month=str(month)
        )


def frozen_in(months: Iterable[YearMonth], frozen: Iterable[YearMonth]) -> list[YearMonth]:
    """Which of ``months`` (those a posting touches) are frozen, oldest first."""
    frozen_set = frozenset(frozen)
    return sorted({m for m in months if m in frozen_set})


__all__ = [
    "DEFAULT_FREEZE_DAY",
    "check_freeze_allowed",
    "frozen_in",
    "latest_month_due",
    "months_to_freeze",
    "parse_month",
    "previous_month",
]
