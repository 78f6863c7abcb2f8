"""Ages, application window, validity and expiry (29 February included)."""

from __future__ import annotations

from datetime import date

import pytest

from pfdo_registry.domain.age import (
    age_on,
    anniversary,
    certificate_valid_until,
    check_application_age,
    expiry_date,
    is_expiry_due,
    may_apply_alone,
)
from pfdo_registry.domain.errors import AgeNotAllowed

ON = date(2025, 9, 1)


def born_years_ago(years: int, on: date = ON) -> date:
    return on.replace(year=on.year - years)


class TestAgeOn:
    def test_birthday_counts(self) -> None:
        assert age_on(date(2010, 9, 1), date(2025, 9, 1)) == 15
        assert age_on(date(2010, 9, 2), date(2025, 9, 1)) == 14
        assert age_on(date(2010, 8, 31), date(2025, 9, 1)) == 15

    def test_before_birth_there_is_no_age(self) -> None:
        with pytest.raises(ValueError):
            age_on(date(2025, 9, 2), date(2025, 9, 1))

    def test_leap_day_birthday_in_common_year_is_28_february(self) -> None:
        # Civil Code art. 192: the term ends on the last day of February
        born = date(2008, 2, 29)
        assert age_on(born, date(2025, 2, 27)) == 16
        assert age_on(born, date(2025, 2, 28)) == 17
        assert anniversary(born, 17) == date(2025, 2, 28)

    def test_leap_day_birthday_in_leap_year(self) -> None:
        born = date(2008, 2, 29)
        assert age_on(born, date(2024, 2, 28)) == 15
        assert age_on(born, date(2024, 2, 29)) == 16

    def test_someone_born_on_first_of_march(self) -> None:
        assert age_on(date(2008, 3, 1), date(2024, 2, 29)) == 15
        assert age_on(date(2008, 3, 1), date(2024, 3, 1)) == 16


class TestApplicationAge:
    def test_four_is_too_young(self) -> None:
        born = date(2020, 9, 2)  # turns 5 tomorrow
        assert age_on(born, ON) == 4
        with pytest.raises(AgeNotAllowed) as info:
            check_application_age(born, ON)
        assert info.value.code == "age_too_young"

    def test_five_on_the_birthday_is_allowed(self) -> None:
        assert check_application_age(born_years_ago(5), ON) == 5

    def test_seventeen_on_the_last_day_is_allowed(self) -> None:
        born = date(2007, 9, 2)  # turns 18 tomorrow
        assert check_application_age(born, ON) == 17

    def test_eighteen_is_too_old(self) -> None:
        with pytest.raises(AgeNotAllowed) as info:
            check_application_age(born_years_ago(18), ON)
        assert info.value.code == "age_too_old"

    def test_region_setting_changes_the_window(self) -> None:
        assert check_application_age(born_years_ago(3), ON, min_age=3, max_age=18) == 3
        assert check_application_age(born_years_ago(18), ON, min_age=3, max_age=18) == 18
        with pytest.raises(AgeNotAllowed):
            check_application_age(born_years_ago(6), ON, min_age=7)

    def test_birth_date_in_the_future(self) -> None:
        with pytest.raises(AgeNotAllowed) as info:
            check_application_age(date(2025, 9, 2), ON)
        assert info.value.code == "birth_date_in_future"

    def test_leap_day_child_turns_five_on_28_february(self) -> None:
        born = date(2020, 2, 29)
        with pytest.raises(AgeNotAllowed):
            check_application_age(born, date(2025, 2, 27))
        assert check_application_age(born, date(2025, 2, 28)) == 5


class TestApplyingAlone:
    def test_thirteen_may_not(self) -> None:
        assert not may_apply_alone(date(2011, 9, 2), ON)

    def test_fourteen_may(self) -> None:
        assert may_apply_alone(born_years_ago(14), ON)
        assert may_apply_alone(born_years_ago(17), ON)


class TestValidityAndExpiry:
    def test_valid_until_the_day_before_the_18th_birthday(self) -> None:
        born = date(2010, 5, 20)
        assert expiry_date(born) == date(2028, 5, 20)
        assert certificate_valid_until(born) == date(2028, 5, 19)

    def test_first_of_january(self) -> None:
        assert certificate_valid_until(date(2010, 1, 1)) == date(2027, 12, 31)

    def test_leap_day_birth(self) -> None:
        born = date(2008, 2, 29)
        assert expiry_date(born) == date(2026, 2, 28)
        assert certificate_valid_until(born) == date(2026, 2, 27)
        born_2012 = date(2012, 2, 29)  # 18th birthday in 2030 (common year)
        assert certificate_valid_until(born_2012) == date(2030, 2, 27)

    def test_28_february_birth(self) -> None:
        born = date(2010, 2, 28)
        assert certificate_valid_until(born) == date(2028, 2, 27)
        born = date(2006, 2, 28)  # 2024 is a leap year; the birthday exists
        assert certificate_valid_until(born) == date(2024, 2, 27)

    def test_expiry_due_from_the_birthday(self) -> None:
        born = date(2010, 5, 20)
        assert not is_expiry_due(born, date(2028, 5, 19))
        assert is_expiry_due(born, date(2028, 5, 20))
        assert is_expiry_due(born, date(2029, 1, 1))

    def test_expiry_due_leap_day(self) -> None:
        born = date(2008, 2, 29)
        assert not is_expiry_due(born, date(2026, 2, 27))
        assert is_expiry_due(born, date(2026, 2, 28))


def test_directions_and_types_are_the_contracts_codes() -> None:
    from pfdo_contracts import common

    from pfdo_registry.domain.program import Direction
    from pfdo_registry.domain.provider import ProviderType

    assert {d.value for d in Direction} == {d.value for d in common.Direction}
    assert {t.value for t in ProviderType} == {t.value for t in common.ProviderType}
