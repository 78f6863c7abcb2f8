"""Planned lessons of a contract-month from the weekly timetable."""

from datetime import date

from pfdo_billing.service.lessons import planned_lessons

NOV = date(2026, 11, 1)


def test_tuesdays_and_thursdays_of_november_2026() -> None:
    assert planned_lessons([2, 4], NOV, date(2026, 9, 1), date(2027, 5, 31)) == 8


def test_contract_days_bound_the_month() -> None:
    # starts on Wed 11 Nov: Thu 12, Tue 17, Thu 19, Tue 24, Thu 26
    assert planned_lessons([2, 4], NOV, date(2026, 11, 11), date(2027, 5, 31)) == 5
    # ends on Tue 10 Nov: Tue 3, Thu 5, Tue 10
    assert planned_lessons([2, 4], NOV, date(2026, 9, 1), date(2026, 11, 10)) == 3


def test_two_slots_on_one_weekday_count_twice() -> None:
    assert planned_lessons([2, 2], NOV, date(2026, 9, 1), date(2027, 5, 31)) == 8
