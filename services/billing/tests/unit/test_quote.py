from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.calendar import months_spanned
from pfdo_billing.domain.errors import (
    InvalidAmount,
    InvalidDateRange,
    InvalidPaymentMode,
    StartAfterModuleEnd,
    StartOutsideModule,
)
from pfdo_billing.domain.payment_mode import PaymentMode
from pfdo_billing.domain.quote import free_place, quote

from .worked_example import (
    CERTIFICATE_INSTALMENTS,
    CERTIFICATE_PART,
    COST,
    ENROL_START,
    FAMILY_INSTALMENTS,
    FAMILY_PART,
    MODULE_END,
    MODULE_START,
    MONTHS,
    NOMINAL,
    NORMATIVE,
    PRICE,
)


def test_worked_example() -> None:
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "attendance")
    assert q.payment_mode is PaymentMode.ATTENDANCE
    assert (q.module_days, q.enrolled_days) == (273, 243)
    assert q.cost == COST == 1_068_132
    assert q.normative_cost == 890_110
    assert q.certificate_part == CERTIFICATE_PART == 890_110
    assert q.family_part == FAMILY_PART == 178_022
    assert q.months == MONTHS
    assert q.certificate_instalments == CERTIFICATE_INSTALMENTS
    assert q.family_instalments == FAMILY_INSTALMENTS
    assert sum(q.certificate_instalments) + sum(q.family_instalments) == q.cost


def test_enrolment_from_the_module_start_costs_the_price() -> None:
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, MODULE_START, NOMINAL, "monthly")
    assert q.cost == PRICE
    assert q.certificate_part == NORMATIVE
    assert q.family_part == PRICE - NORMATIVE
    assert len(q.schedule) == 9


def test_low_balance_means_the_family_pays_the_difference() -> None:
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, 500_000, "monthly")
    assert q.certificate_part == 500_000
    assert q.family_part == COST - 500_000


def test_price_below_normative_is_fully_covered() -> None:
    q = quote(800_000, NORMATIVE, MODULE_START, MODULE_END, MODULE_START, NOMINAL, "monthly")
    assert (q.certificate_part, q.family_part) == (800_000, 0)
    assert q.family_instalments == [0] * 9


def test_start_before_module_is_refused() -> None:
    with pytest.raises(StartOutsideModule) as caught:
        quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, date(2026, 8, 31), NOMINAL, "monthly")
    assert caught.value.code == "start_outside_module"


def test_start_after_module_end_is_refused() -> None:
    with pytest.raises(StartAfterModuleEnd) as caught:
        quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, date(2027, 6, 1), NOMINAL, "monthly")
    assert caught.value.code == "start_after_module_end"


def test_last_day_enrolment_is_one_day() -> None:
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, MODULE_END, NOMINAL, "monthly")
    assert q.enrolled_days == 1
    assert q.cost == 4_396  # 1 200 000 / 273 = 4 395.6 -> 4 396
    assert q.months == [date(2027, 5, 1)]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidDateRange):
        quote(PRICE, NORMATIVE, MODULE_END, MODULE_START, MODULE_END, NOMINAL, "monthly")
    with pytest.raises(InvalidAmount):
        quote(-1, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "monthly")
    with pytest.raises(InvalidAmount):
        quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, -5, "monthly")
    with pytest.raises(InvalidPaymentMode):
        quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "weekly")


def test_free_place_costs_nothing() -> None:
    q = free_place(MODULE_START, MODULE_END, ENROL_START)
    assert q.free_place
    assert (q.cost, q.certificate_part, q.family_part) == (0, 0, 0)
    assert q.months == MONTHS
    assert q.certificate_instalments == [0] * 8
    assert q.family_instalments == [0] * 8
    with pytest.raises(StartOutsideModule):
        free_place(MODULE_START, MODULE_END, date(2026, 1, 1))


amounts = st.integers(min_value=0, max_value=10**9)


@st.composite
def enrolments(draw: st.DrawFn) -> tuple[date, date, date]:
    module_start = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
    module_end = module_start + timedelta(days=draw(st.integers(0, 500)))
    enrol_start = module_start + timedelta(
        days=draw(st.integers(0, (module_end - module_start).days))
    )
    return module_start, module_end, enrol_start


@given(amounts, amounts, amounts, enrolments(), st.sampled_from(list(PaymentMode)))
def test_quote_properties(
    price: int,
    normative: int,
    available: int,
    dates: tuple[date, date, date],
    mode: PaymentMode,
) -> None:
    module_start, module_end, enrol_start = dates
    q = quote(price, normative, module_start, module_end, enrol_start, available, mode)
    assert q.certificate_part == min(q.cost, q.normative_cost, available)
    assert q.certificate_part <= available
    assert q.cost <= price and q.normative_cost <= normative
    assert q.certificate_part + q.family_part == q.cost
    assert q.family_part >= 0
    assert q.months == months_spanned(enrol_start, module_end)
    for instalments, total in (
        (q.certificate_instalments, q.certificate_part),
        (q.family_instalments, q.family_part),
    ):
        assert sum(instalments) == total
        assert all(amount >= 0 for amount in instalments)
        assert max(instalments) - min(instalments) <= total % len(instalments)
