from datetime import date

import pytest

from pfdo_billing.domain.calendar import (
    Period,
    days_inclusive,
    month_end,
    month_start,
    months_spanned,
    period_containing,
    program_period,
    remaining_months,
)
from pfdo_billing.domain.errors import InvalidDateRange
from pfdo_contracts.rules.age import age_on, birthday_in_year

from .worked_example import ENROL_START, MODULE_END, MODULE_START, MONTHS


def test_days_inclusive() -> None:
    assert days_inclusive(MODULE_START, MODULE_END) == 273
    assert days_inclusive(ENROL_START, MODULE_END) == 243
    assert days_inclusive(date(2026, 9, 1), date(2026, 9, 1)) == 1
    with pytest.raises(InvalidDateRange):
        days_inclusive(date(2026, 9, 2), date(2026, 9, 1))


def test_months_spanned() -> None:
    assert months_spanned(ENROL_START, MODULE_END) == MONTHS
    assert months_spanned(date(2026, 12, 31), date(2027, 1, 1)) == [
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
    assert months_spanned(date(2026, 9, 15), date(2026, 9, 20)) == [date(2026, 9, 1)]


def test_month_helpers() -> None:
    assert month_start(date(2026, 10, 17)) == date(2026, 10, 1)
    assert month_end(date(2028, 2, 10)) == date(2028, 2, 29)
    assert month_end(date(2027, 2, 10)) == date(2027, 2, 28)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)


def test_program_period_is_the_school_year() -> None:
    period = program_period(2026)
    assert period == Period(date(2026, 9, 1), date(2027, 8, 31))
    assert period.month_count == 12
    assert period_containing(date(2027, 8, 31)) == period
    assert period_containing(date(2026, 9, 1)) == period
    assert period_containing(date(2027, 9, 1)) == program_period(2027)
    assert program_period(2026, start_month=1).ends_on == date(2026, 12, 31)


def test_remaining_months_counts_the_activation_month_whole() -> None:
    period = program_period(2026)
    assert remaining_months(period, date(2026, 10, 20)) == 11
    assert remaining_months(period, date(2026, 9, 1)) == 12
    assert remaining_months(period, date(2026, 8, 15)) == 12
    assert remaining_months(period, date(2027, 8, 31)) == 1
    assert remaining_months(period, date(2027, 9, 1)) == 0


def test_birthdays_and_age() -> None:
    assert birthday_in_year(date(2008, 2, 29), 2026) == date(2026, 2, 28)
    assert birthday_in_year(date(2008, 2, 29), 2028) == date(2028, 2, 29)
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 18
    assert age_on(date(2008, 2, 29), date(2026, 2, 27)) == 17
    assert age_on(date(2016, 9, 2), date(2026, 9, 1)) == 9
    assert age_on(date(2016, 9, 1), date(2026, 9, 1)) == 10
