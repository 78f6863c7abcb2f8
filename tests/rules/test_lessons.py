"""Planned lessons, the billable lesson, the amount due and the per-direction cap: the one rule of
each (``pfdo_contracts.rules``), on worked months and as properties."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_contracts.rules.calendar import days_off
from pfdo_contracts.rules.direction_cap import direction_cap_reached
from pfdo_contracts.rules.due import ATTENDANCE, MONTHLY, amount_due
from pfdo_contracts.rules.lessons import is_billable, planned_lesson_dates, planned_lessons

ALWAYS = (date(2000, 1, 1), date(2100, 1, 1))
TUE_THU, MON_WED, MON_FRI = [2, 4], [1, 3], [1, 5]


def planned(month: date, weekdays: list[int], starts_on: date = ALWAYS[0], ends_on: date = ALWAYS[1]) -> int:
    return planned_lessons(month, weekdays, starts_on, ends_on, days_off=days_off(month.year))


# ------------------------------------------------------------------------------ planned lessons
def test_tuesdays_and_thursdays_of_november_2026() -> None:
    assert planned(date(2026, 11, 1), TUE_THU) == 8  # 4 November is a Wednesday: nothing taken


def test_contract_days_bound_the_month() -> None:
    nov = date(2026, 11, 1)
    # starts on Wed 11 Nov: Thu 12, Tue 17, Thu 19, Tue 24, Thu 26
    assert planned(nov, TUE_THU, date(2026, 11, 11)) == 5
    # ends on Tue 10 Nov: Tue 3, Thu 5, Tue 10
    assert planned(nov, TUE_THU, ends_on=date(2026, 11, 10)) == 3
    # ends before the month: nothing
    assert planned(nov, TUE_THU, ends_on=date(2026, 10, 31)) == 0


def test_two_slots_on_one_weekday_count_twice() -> None:
    nov = date(2026, 11, 1)
    assert planned(nov, [2, 2]) == 8
    assert planned_lesson_dates(nov, [2, 2], *ALWAYS, days_off=()) == [date(2026, 11, d) for d in (3, 10, 17, 24)]


def test_january_2026_loses_the_new_year_holidays() -> None:
    jan = date(2026, 1, 1)
    # Mondays 5, 12, 19, 26 and Wednesdays 7, 14, 21, 28: 5 and 7 are New Year holidays
    assert planned_lesson_dates(jan, MON_WED, *ALWAYS, days_off=days_off(2026)) == [
        date(2026, 1, d) for d in (12, 14, 19, 21, 26, 28)]
    # Fridays 2, 9 (a day off transferred from Saturday 3 January), 16, 23, 30
    assert planned(jan, [5]) == 3


def test_may_2026_loses_1_may_and_11_may() -> None:
    # Mondays 4, 11, 18, 25 and Fridays 1, 8, 15, 22, 29: 1 May, and 11 May for 9 May on a Saturday
    assert planned(date(2026, 5, 1), MON_FRI) == 7


def test_weekend_clubs_meet_on_ordinary_weekends_but_not_on_holidays() -> None:
    # Sundays of March 2026: 1, 8 (International Women's Day), 15, 22, 29
    assert planned(date(2026, 3, 1), [7]) == 4
    # Saturdays of January 2026: 3 (a holiday), 10, 17, 24, 31
    assert planned(date(2026, 1, 1), [6]) == 4


def test_31_december_2026_is_a_day_off() -> None:
    # Thursdays of December 2026: 3, 10, 17, 24, 31
    assert planned(date(2026, 12, 1), [4]) == 4
    assert planned(date(2026, 12, 1), [4], ends_on=date(2026, 12, 31)) == 4
    assert planned(date(2025, 12, 1), [3]) == 4  # Wednesdays 3, 10, 17, 24; 31 December 2025 off


def test_29_february_as_a_contract_day() -> None:
    feb28 = date(2028, 2, 1)  # 29 February 2028 is a Tuesday
    assert planned(feb28, [2], date(2028, 2, 29)) == 1
    assert planned(feb28, [2], ends_on=date(2028, 2, 29)) == 5  # 1, 8, 15, 22, 29
    assert planned(date(2027, 2, 1), [1], date(2027, 2, 28)) == 0  # no 29 February in 2027; 28th is a Sunday


def test_a_region_day_off_is_taken_away_too() -> None:
    sep = date(2026, 9, 1)  # Tuesday 1 September
    assert planned_lessons(sep, TUE_THU, *ALWAYS, days_off=days_off(2026)) == 9
    assert planned_lessons(sep, TUE_THU, *ALWAYS, days_off=days_off(2026, [date(2026, 9, 1)])) == 8


def test_weekdays_are_iso_weekdays() -> None:
    with pytest.raises(ValueError):
        planned_lessons(date(2026, 9, 1), [0], *ALWAYS, days_off=())
    with pytest.raises(ValueError):
        planned_lesson_dates(date(2026, 9, 1), [8], *ALWAYS, days_off=())


slots = st.lists(st.integers(1, 7), min_size=1, max_size=6)
months = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
edges = st.dates(min_value=date(2023, 12, 1), max_value=date(2029, 1, 31))


@given(slots, months, edges, edges, st.lists(months, max_size=4))
def test_planned_lessons_are_the_timetable_days_of_the_contract_less_the_days_off(
    weekdays: list[int], month: date, starts_on: date, ends_on: date, extra: list[date]
) -> None:
    off = days_off(month.year, extra)
    dates = planned_lesson_dates(month, weekdays, starts_on, ends_on, days_off=off)
    first = month.replace(day=1)
    every_day = [first + timedelta(days=i) for i in range(31) if (first + timedelta(days=i)).month == first.month]
    expected = [d for d in every_day if starts_on <= d <= ends_on and d.isoweekday() in weekdays and d not in off]
    assert dates == expected
    per_day = Counter(weekdays)
    assert planned_lessons(month, weekdays, starts_on, ends_on, days_off=off) == sum(per_day[d.isoweekday()]
                                                                                     for d in dates)
    # a day off never adds a lesson
    assert len(dates) <= len(planned_lesson_dates(month, weekdays, starts_on, ends_on, days_off=()))


# ------------------------------------------------------------------------------- billable lesson
@pytest.mark.parametrize(("status", "disputed", "billable"), [
    ("present", False, True), ("present", True, False), ("absent", False, False), ("excused", False, False),
    ("excused", True, False), ("absent", True, False),
])
def test_only_an_undisputed_present_mark_is_billable(status: str, disputed: bool, billable: bool) -> None:
    assert is_billable(status, disputed) is billable


# ------------------------------------------------------------------------------------ amount due
def test_the_worked_example() -> None:
    assert amount_due(111_263, ATTENDANCE, 6, 8) == 83_447  # 83 447.25 rounded down
    assert amount_due(22_252, ATTENDANCE, 6, 8) == 16_689
    assert amount_due(111_263, MONTHLY, 0, 8) == 111_263


def test_no_planned_lessons_means_nothing_due_and_attendance_is_capped_at_the_plan() -> None:
    assert amount_due(111_263, ATTENDANCE, 0, 0) == 0
    assert amount_due(111_263, ATTENDANCE, 3, 0) == 0
    assert amount_due(111_263, ATTENDANCE, 10, 8) == 111_263


@pytest.mark.parametrize(("args"), [(-1, ATTENDANCE, 1, 1), (100, ATTENDANCE, -1, 8), (100, ATTENDANCE, 1, -8),
                                    (100, "sometimes", 1, 1), (True, MONTHLY, 0, 0)])
def test_invalid_input_is_refused(args: tuple) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        amount_due(*args)


kopecks = st.integers(0, 10**12)


@given(kopecks, st.integers(0, 40), st.integers(0, 40))
def test_the_amount_due_is_the_exact_share_rounded_down(instalment: int, attended: int, planned_: int) -> None:
    due = amount_due(instalment, ATTENDANCE, attended, planned_)
    exact = Fraction(instalment * min(attended, planned_), planned_) if planned_ else Fraction(0)
    assert due == exact.numerator // exact.denominator
    assert 0 <= due <= instalment
    assert due <= amount_due(instalment, ATTENDANCE, attended + 1, planned_)  # one more lesson never costs less
    assert amount_due(instalment, MONTHLY, attended, planned_) == instalment


# ---------------------------------------------------------------------------- per-direction cap
def test_the_cap_counts_the_seats_already_held() -> None:
    assert not direction_cap_reached(1, 2) and direction_cap_reached(2, 2) and direction_cap_reached(3, 2)
    assert not direction_cap_reached(1_000, None)
    with pytest.raises(ValueError):
        direction_cap_reached(-1, 2)
