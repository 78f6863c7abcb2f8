from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.calendar import program_period
from pfdo_billing.domain.errors import AmbiguousAgeGroup, NoAgeGroup
from pfdo_billing.domain.nominal import (
    AgeGroup,
    NominalRate,
    age_group_for,
    nominal_for,
    prorated_nominal,
)

PERIOD = program_period(2026)
GROUPS = [AgeGroup(5, 9), AgeGroup(10, 13), AgeGroup(14, 17)]


def test_full_nominal_on_period_opening() -> None:
    assert prorated_nominal(3_000_000, PERIOD, date(2026, 9, 1)) == 3_000_000
    assert prorated_nominal(3_000_000, PERIOD, date(2026, 9, 30)) == 3_000_000


def test_pro_rata_by_remaining_months() -> None:
    assert prorated_nominal(3_000_000, PERIOD, date(2026, 10, 20)) == 2_750_000  # 11/12
    assert prorated_nominal(1_000_000, PERIOD, date(2026, 12, 1)) == 750_000  # 9/12
    assert prorated_nominal(100, PERIOD, date(2026, 10, 1)) == 92  # 91.67 -> 92
    assert prorated_nominal(1, PERIOD, date(2027, 3, 1)) == 1  # 0.5 -> 1 (half up)
    assert prorated_nominal(3_000_000, PERIOD, date(2027, 8, 31)) == 250_000  # 1/12
    assert prorated_nominal(3_000_000, PERIOD, date(2027, 9, 1)) == 0


@given(st.integers(0, 10**9), st.dates(date(2026, 9, 1), date(2027, 8, 31)))
def test_pro_rata_never_exceeds_the_nominal(nominal: int, funded_on: date) -> None:
    credited = prorated_nominal(nominal, PERIOD, funded_on)
    assert 0 <= credited <= nominal


def test_age_group_by_age_on_period_start() -> None:
    assert age_group_for(date(2016, 9, 2), PERIOD, GROUPS) == AgeGroup(5, 9)  # 9 on 1 Sep
    assert age_group_for(date(2016, 9, 1), PERIOD, GROUPS) == AgeGroup(10, 13)  # 10 that day
    assert age_group_for(date(2009, 3, 1), PERIOD, GROUPS) == AgeGroup(14, 17)
    with pytest.raises(NoAgeGroup):
        age_group_for(date(2022, 1, 1), PERIOD, GROUPS)
    with pytest.raises(AmbiguousAgeGroup):
        age_group_for(date(2016, 9, 1), PERIOD, [*GROUPS, AgeGroup(10, 10)])


def test_nominal_for_age_group() -> None:
    rates = [
        NominalRate(AgeGroup(5, 9), 2_500_000),
        NominalRate(AgeGroup(10, 13), 3_000_000),
        NominalRate(AgeGroup(14, 17), 3_500_000),
    ]
    assert nominal_for(date(2015, 5, 5), PERIOD, rates) == 3_000_000
    assert nominal_for(date(2019, 5, 5), PERIOD, rates) == 2_500_000


def test_a_child_born_after_the_period_starts_has_no_age_group() -> None:
    with pytest.raises(NoAgeGroup):
        age_group_for(date(PERIOD.starts_on.year, 12, 1), PERIOD, GROUPS)
