"""Who may apply to a module: certificates and modules (the per-direction cap is billing's)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pfdo_contracts.rules.age import age_on
from pfdo_navigator.domain.eligibility import (
    ActiveEnrolment,
    Ineligibility,
    ModuleTerms,
    check_eligibility,
    earliest_start,
)

MODULE = ModuleTerms(
    module_id="m1", direction="technical", age_min=7, age_max=12, starts_on=date(2025, 9, 1), ends_on=date(2026, 5, 31)
)
TODAY = date(2025, 8, 25)


def check(**overrides):  # type: ignore[no-untyped-def]
    args = dict(
        certificate_status="active",
        birth_date=date(2015, 3, 10),
        module=MODULE,
        start_date=date(2025, 9, 1),
        today=TODAY,
        active_enrolments=[],
    )
    args.update(overrides)
    return check_eligibility(**args)


def test_eligible_child_has_no_reasons() -> None:
    assert check() == []


def test_each_reason() -> None:
    assert check(certificate_status="suspended") == [Ineligibility.CERTIFICATE_NOT_ACTIVE]
    assert check(birth_date=date(2019, 1, 1)) == [Ineligibility.AGE_OUT_OF_RANGE]
    assert check(start_date=date(2026, 6, 1)) == [Ineligibility.START_OUTSIDE_MODULE]
    assert check(today=date(2025, 9, 10)) == [Ineligibility.START_IN_PAST]
    assert check(active_enrolments=[ActiveEnrolment("m1", "artistic")]) == [Ineligibility.ALREADY_ENROLLED]


def test_all_reasons_are_reported_together_in_fixed_order() -> None:
    reasons = check(
        certificate_status="expired",
        birth_date=date(2000, 1, 1),
        start_date=date(2025, 8, 1),
        active_enrolments=[ActiveEnrolment("m1", "technical"), ActiveEnrolment("m2", "technical")],
    )
    assert reasons == [
        "certificate_not_active",
        "age_out_of_range",
        "start_outside_module",
        "start_in_past",
        "already_enrolled",
    ]


def test_the_navigator_keeps_no_direction_cap_of_its_own() -> None:
    # billing's per-period cap is the only one: however many seats a direction holds, the
    # navigator lets the application through and billing decides
    many = [ActiveEnrolment(f"m{i}", "technical") for i in range(10, 20)]
    assert check(active_enrolments=many) == []
    assert "direction_cap_reached" not in {r.value for r in Ineligibility}


def test_age_is_taken_on_the_start_date_inclusive_bounds() -> None:
    # turns 7 on the start date: eligible; turns 13 on the start date: too old
    assert check(birth_date=date(2018, 9, 1)) == []
    assert check(birth_date=date(2018, 9, 2)) == [Ineligibility.AGE_OUT_OF_RANGE]
    assert check(birth_date=date(2012, 9, 2)) == []
    assert check(birth_date=date(2012, 9, 1)) == [Ineligibility.AGE_OUT_OF_RANGE]


def test_start_on_module_bounds_and_today_is_allowed() -> None:
    assert check(start_date=MODULE.ends_on, birth_date=date(2015, 1, 1)) == []
    assert check(today=MODULE.starts_on) == []


def test_leap_day_birthday() -> None:  # the platform's one rule: 28 February in a common year
    assert age_on(date(2016, 2, 27), date(2023, 2, 28)) == 7
    assert age_on(date(2016, 2, 29), date(2023, 2, 27)) == 6
    assert age_on(date(2016, 2, 29), date(2023, 2, 28)) == 7
    assert age_on(date(2016, 2, 29), date(2023, 3, 1)) == 7
    assert age_on(date(2016, 2, 29), date(2024, 2, 29)) == 8


def test_earliest_start() -> None:
    assert earliest_start(MODULE, TODAY) == MODULE.starts_on
    assert earliest_start(MODULE, date(2025, 10, 3)) == date(2025, 10, 3)
    assert earliest_start(MODULE, date(2026, 6, 1)) is None


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 20000))
def test_age_grows_by_one_per_birthday(birth: date, days: int) -> None:
    on = birth + timedelta(days=days)
    age = age_on(birth, on)
    assert age >= 0
    assert age_on(birth, on + timedelta(days=1)) - age in (0, 1)


def test_a_start_before_the_birth_is_out_of_the_age_range_not_an_error() -> None:
    # the shared age rule has no age before the birth; an absurd start date is a refusal reason
    reasons = check(birth_date=date(2015, 3, 10), start_date=date(2015, 3, 9))
    assert Ineligibility.AGE_OUT_OF_RANGE in reasons
