"""Planned lessons of a month and the billable lesson: the denominator and the numerator of
attendance billing, for every service (billing's quotes, reservations, month close and late
adjustments; the navigator shows billing's counts and keeps none of its own).

Planned lessons (docs/domain-rules.md, "Planned lessons"): the days of ``month`` within the
contract's ``[starts_on, ends_on]`` whose ISO weekday is in the module's weekly timetable, minus
the days off of the production calendar (:mod:`pfdo_contracts.rules.calendar`). Each timetable
slot is one lesson: a weekday listed twice (two lessons that day) counts twice.

``days_off`` is a required argument on purpose: a caller that forgets the calendar would count
public holidays as lessons. Pass :func:`pfdo_contracts.rules.calendar.days_off` of the month's
year (with the region's own days off); any collection that holds the month's days off will do.

Set-based SQL (billing's month close) counts the same (:func:`planned_lessons_sql`): per
timetable slot, the days of that weekday within the contract's days of the month, minus the days
off that fall on that weekday within those days, the days off passed in as a ``date[]``.

Billable lesson: a mark counts as attended for billing iff it is ``present`` and not under an
open dispute (a disputed mark is not billed until the operator decides; an excused absence is
not attended).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import date, timedelta

from .calendar import month_end

__all__ = [
    "PRESENT", "is_billable", "is_billable_sql", "planned_lesson_dates", "planned_lessons", "planned_lessons_sql",
]

PRESENT = "present"


def _slots(weekdays: Iterable[int]) -> Counter[int]:
    slots = Counter(weekdays)
    if not set(slots) <= set(range(1, 8)):
        raise ValueError(f"weekdays are ISO weekdays 1..7, got {sorted(slots)}")
    return slots


def _month_days(month: date, starts_on: date, ends_on: date) -> tuple[date, date]:
    """The contract's days of the month of ``month`` (any day of it)."""
    return max(month.replace(day=1), starts_on), min(month_end(month), ends_on)


def planned_lesson_dates(
    month: date, weekdays: Iterable[int], starts_on: date, ends_on: date, *, days_off: Collection[date]
) -> list[date]:
    """The dates of ``month`` (any day of it) with at least one planned lesson, in order."""
    slots = _slots(weekdays)
    first, last = _month_days(month, starts_on, ends_on)
    result: list[date] = []
    day = first
    while day <= last:
        if slots[day.isoweekday()] and day not in days_off:
            result.append(day)
        day += timedelta(days=1)
    return result


def planned_lessons(
    month: date, weekdays: Iterable[int], starts_on: date, ends_on: date, *, days_off: Collection[date]
) -> int:
    """How many lessons are planned in ``month``: one per timetable slot on each of
    :func:`planned_lesson_dates` (equal to their number when no weekday repeats)."""
    slots = _slots(weekdays)
    dates = planned_lesson_dates(month, slots.elements(), starts_on, ends_on, days_off=days_off)
    return sum(slots[day.isoweekday()] for day in dates)


def planned_lessons_sql(first: str, last: str, weekdays: str, days_off: str) -> str:
    """The same count in PostgreSQL, without a loop over days: an SQL integer expression of the
    lessons from ``first`` to ``last`` (SQL date expressions: the contract's days of the month,
    already bounded) by ``weekdays`` (an SQL ``int[]``/``smallint[]`` of ISO weekdays, one per
    slot) less ``days_off`` (an SQL ``date[]``; days outside ``first..last`` are ignored).

    Per slot: the first day on the slot's weekday is ``offset`` = (weekday − isodow(first)) mod 7
    days after ``first``, and then one every 7 days up to ``last``; a day off within the range takes
    away as many lessons as the timetable has slots on its weekday."""
    return (
        "(CAST((SELECT COALESCE(sum(CASE WHEN o.off > ({last}) - ({first}) THEN 0"
        " ELSE (({last}) - ({first}) - o.off) / 7 + 1 END), 0)"
        " FROM (SELECT (w.wd - extract(isodow FROM ({first}))::int + 7) % 7 AS off"
        " FROM unnest({weekdays}) AS w(wd)) o) AS int)"
        " - CAST((SELECT COALESCE(sum(cardinality(array_positions(CAST({weekdays} AS int[]),"
        " extract(isodow FROM h.day)::int))), 0) FROM unnest({days_off}) AS h(day)"
        " WHERE h.day BETWEEN ({first}) AND ({last})) AS int))"
    ).format(first=first, last=last, weekdays=weekdays, days_off=days_off)


def is_billable(status: str, disputed: bool) -> bool:
    """A lesson mark counts as attended for billing: ``present`` and not under an open dispute."""
    return status == PRESENT and not disputed


def is_billable_sql(status: str, disputed: str) -> str:
    """The same rule in SQL: a boolean expression of ``status`` (an SQL text expression) and
    ``disputed`` (an SQL boolean expression)."""
    return f"(({status}) = '{PRESENT}' AND NOT ({disputed}))"
