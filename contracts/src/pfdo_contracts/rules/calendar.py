"""The production calendar: the days off on which no lesson is planned, for every service.

The rule (the repository's docs/domain-rules.md, "Production calendar"):

- the days off are the official Russian production calendar's non-working days: the public
  holidays of the Labour Code (art. 112: 1–6 and 8 January, 7 January, 23 February, 8 March,
  1 May, 9 May, 12 June, 4 November), the days a holiday falling on a weekend moves to, and the
  days off the government transfers each year by decree (published in the autumn before; for
  2026: 1–8 January holidays and 9 January transferred, 23 February, 8 March on a Sunday so
  9 March off, 1 May, 9 May on a Saturday so 11 May off, 12 June, 4 November, 31 December);
- a region may add its own days off (configuration: a list of dates);
- ordinary Saturdays and Sundays are NOT days off here: a club that meets on weekends holds its
  lessons then. A public holiday is a day off whatever weekday it falls on (8 March 2026 is a
  Sunday: a Sunday club does not meet that day);
- a working Saturday by decree (1 November 2025) changes nothing for lessons: the timetable says
  which weekdays a module meets, the calendar only takes days away.

The calendar of a year is data, not a rule: it comes from the ``holidays`` library (the Open
World Holidays Framework), which publishes Russia's decrees as they come out. A year whose
decree the installed version does not know yet gets the statutory holidays and the statutory
move of a weekend holiday to the next working day; keep the library up to date each autumn.

Pure functions of plain values: the library's answer for a year never changes within one
installed version, so it is computed once per year and kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from calendar import monthrange
from datetime import date
from functools import lru_cache

import holidays

__all__ = ["days_off", "days_off_between", "is_day_off", "month_end", "official_days_off"]


@lru_cache(maxsize=128)
def official_days_off(year: int) -> frozenset[date]:
    """The official Russian non-working days of ``year``: public holidays, holidays moved off a
    weekend and days off transferred by decree (weekends as such are not included)."""
    return frozenset(holidays.country_holidays("RU", years=year))


def days_off(year: int, region_extra: Iterable[date] = ()) -> frozenset[date]:
    """The days off of ``year``: the official ones and the region's own (``region_extra``; dates
    of other years in it are ignored)."""
    return official_days_off(year) | frozenset(day for day in region_extra if day.year == year)


def days_off_between(first: date, last: date, region_extra: Iterable[date] = ()) -> frozenset[date]:
    """The days off from ``first`` to ``last`` (both inclusive; empty when ``last < first``)."""
    if last < first:
        return frozenset()
    extra = frozenset(region_extra)
    every = frozenset().union(*(days_off(year, extra) for year in range(first.year, last.year + 1)))
    return frozenset(day for day in every if first <= day <= last)


def is_day_off(day: date, region_extra: Iterable[date] = ()) -> bool:
    """Whether ``day`` is a day off (official or the region's own)."""
    return day in official_days_off(day.year) or day in frozenset(region_extra)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day.replace(day=monthrange(day.year, day.month)[1])
