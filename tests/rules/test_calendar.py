"""The production calendar (``pfdo_contracts.rules.calendar``) against the published calendars
of 2025 and 2026, and the rule's shape: holidays and transferred days off are days off whatever
the weekday, ordinary weekends are not, a region adds days of its own."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pfdo_contracts.rules.calendar import days_off, days_off_between, is_day_off, month_end, official_days_off


def _d(year: int, *month_days: tuple[int, int]) -> set[date]:
    return {date(year, m, d) for m, d in month_days}


# the government's decrees as published (non-working holidays and transferred days off)
PUBLISHED_2026 = _d(2026, *[(1, d) for d in range(1, 10)], (2, 23), (3, 8), (3, 9), (5, 1), (5, 9), (5, 11),
                    (6, 12), (11, 4), (12, 31))
PUBLISHED_2025 = _d(2025, *[(1, d) for d in range(1, 9)], (2, 23), (3, 8), (5, 1), (5, 2), (5, 8), (5, 9),
                    (6, 12), (6, 13), (11, 3), (11, 4), (12, 31))


def test_2026_is_the_published_calendar() -> None:
    assert official_days_off(2026) == PUBLISHED_2026


def test_2025_is_the_published_calendar() -> None:
    assert official_days_off(2025) == PUBLISHED_2025


def test_a_holiday_on_a_weekend_is_a_day_off_and_moves_the_next_working_day_off() -> None:
    assert date(2026, 3, 8).isoweekday() == 7 and is_day_off(date(2026, 3, 8)) and is_day_off(date(2026, 3, 9))
    assert date(2026, 5, 9).isoweekday() == 6 and is_day_off(date(2026, 5, 9)) and is_day_off(date(2026, 5, 11))
    assert not is_day_off(date(2026, 5, 10))  # an ordinary Sunday between them


def test_ordinary_weekends_are_not_days_off() -> None:
    assert not is_day_off(date(2026, 1, 10))  # the first Saturday after the New Year holidays
    assert not is_day_off(date(2026, 1, 11))
    assert not is_day_off(date(2025, 11, 1))  # a working Saturday by decree takes nothing away either


def test_a_region_adds_its_own_days_off_to_their_year_only() -> None:
    extra = [date(2026, 9, 1), date(2027, 9, 1)]
    assert days_off(2026, extra) == PUBLISHED_2026 | {date(2026, 9, 1)}
    assert date(2027, 9, 1) not in days_off(2026, extra)
    assert is_day_off(date(2026, 9, 1), extra) and not is_day_off(date(2026, 9, 1))
    assert days_off(2026) == PUBLISHED_2026  # the official calendar is not changed by a region's days


def test_days_off_between_cross_the_new_year() -> None:
    assert days_off_between(date(2025, 12, 30), date(2026, 1, 3)) == {
        date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)}
    assert days_off_between(date(2026, 1, 3), date(2026, 1, 2)) == frozenset()


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), st.integers(0, 400),
       st.lists(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), max_size=5))
def test_days_off_between_are_exactly_the_days_off_in_the_range(first: date, length: int, extra: list[date]) -> None:
    last = first + timedelta(days=length)
    expected = {first + timedelta(days=i) for i in range(length + 1) if is_day_off(first + timedelta(days=i), extra)}
    assert days_off_between(first, last, extra) == expected


def test_every_year_has_the_statutory_holidays() -> None:
    statutory = [(1, d) for d in range(1, 9)] + [(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)]
    for year in range(2024, 2031):
        assert _d(year, *statutory) <= official_days_off(year), year


def test_month_end() -> None:
    assert month_end(date(2028, 2, 10)) == date(2028, 2, 29)
    assert month_end(date(2027, 2, 1)) == date(2027, 2, 28)
    assert month_end(date(2026, 12, 31)) == date(2026, 12, 31)
    assert month_end(date(2026, 4, 15)) == date(2026, 4, 30)
