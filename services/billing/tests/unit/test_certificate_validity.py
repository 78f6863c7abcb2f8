"""The certificate's validity caps the money of an enrolment (docs/domain-rules.md, "Age and
validity").

Validity ends the day before the 18th birthday; contracts end, and quotes, reservations and
schedules stop, at the end of the month in which the validity ends.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfdo_contracts.rules.age import age_on

from pfdo_billing.domain.errors import CertificateExpiresBeforeStart
from pfdo_billing.domain.money import prorate
from pfdo_billing.domain.quote import effective_end, free_place, quote
from pfdo_billing.domain.termination import expiry_contract_end, terminate_on_expiry
from pfdo_billing.domain.validity import certificate_valid_until, paid_until, validity_of

from .worked_example import ENROL_START, MODULE_END, MODULE_START, NOMINAL, NORMATIVE, PRICE


def _months(first: date, last: date) -> list[date]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@pytest.mark.parametrize(
    ("birth", "valid_until", "paid_to"),
    [
        (date(2009, 3, 15), date(2027, 3, 14), date(2027, 3, 31)),  # an ordinary birthday
        (date(2009, 3, 1), date(2027, 2, 28), date(2027, 2, 28)),  # on the 1st: the month before
        (date(2008, 2, 29), date(2026, 2, 27), date(2026, 2, 28)),  # 29 Feb: birthday 28 Feb in 2026
        (date(2009, 1, 1), date(2026, 12, 31), date(2026, 12, 31)),  # on 1 January: the year before
    ],
)
def test_validity_and_last_paid_day(birth: date, valid_until: date, paid_to: date) -> None:
    assert certificate_valid_until(birth) == valid_until
    assert paid_until(valid_until) == paid_to
    assert expiry_contract_end(birth) == paid_to
    assert validity_of(birth) == valid_until
    assert validity_of(birth, date(2020, 1, 1)) == date(2020, 1, 1)  # what registry issued wins


def test_birthday_on_the_15th_inside_the_module_stops_the_money_at_the_end_of_march() -> None:
    valid_until = certificate_valid_until(date(2009, 3, 15))  # 14.03.2027
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "monthly", valid_until=valid_until)
    assert q.ends_on == q.ends_early_on == date(2027, 3, 31)
    assert q.valid_until == date(2027, 3, 14)
    assert q.module_days == 273
    assert q.enrolled_days == 31 + 30 + 31 + 31 + 28 + 31  # 1 Oct 2026 .. 31 Mar 2027 = 182
    assert q.cost == prorate(PRICE, 182, 273) == 800_000
    assert q.normative_cost == prorate(NORMATIVE, 182, 273) == 666_667
    assert q.certificate_part == 666_667 and q.family_part == 133_333
    assert q.months == _months(date(2026, 10, 1), date(2027, 3, 1))
    assert sum(q.certificate_instalments) == q.certificate_part
    assert sum(q.family_instalments) == q.family_part


def test_birthday_on_the_1st_stops_the_money_a_month_earlier() -> None:
    valid_until = certificate_valid_until(date(2009, 3, 1))  # 28.02.2027
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "attendance", valid_until=valid_until)
    assert q.ends_early_on == date(2027, 2, 28)
    assert q.enrolled_days == 31 + 30 + 31 + 31 + 28  # 151
    assert q.months[-1] == date(2027, 2, 1) and len(q.months) == 5
    assert q.cost == prorate(PRICE, 151, 273)


def test_born_on_29_february() -> None:
    start, end = date(2025, 9, 1), date(2026, 5, 31)
    valid_until = certificate_valid_until(date(2008, 2, 29))  # 27.02.2026
    q = quote(PRICE, NORMATIVE, start, end, date(2025, 10, 1), NOMINAL, "monthly", valid_until=valid_until)
    assert q.ends_early_on == date(2026, 2, 28)
    assert q.months[-1] == date(2026, 2, 1)
    assert q.enrolled_days == 31 + 30 + 31 + 31 + 28


@pytest.mark.parametrize("birth", [date(2009, 6, 10), date(2009, 6, 1), date(2030, 1, 1)])
def test_birthday_after_the_module_end_changes_nothing(birth: date) -> None:
    plain = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "monthly")
    capped = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "monthly",
                   valid_until=certificate_valid_until(birth))
    assert capped.ends_early_on is None and capped.ends_on == MODULE_END
    assert (capped.cost, capped.certificate_part, capped.family_part, capped.schedule) == (
        plain.cost, plain.certificate_part, plain.family_part, plain.schedule)


def test_a_start_after_the_last_valid_day_is_refused() -> None:
    valid_until = certificate_valid_until(date(2009, 3, 15))  # 14.03.2027
    for start in (date(2027, 3, 15), date(2027, 3, 31), date(2027, 4, 1)):
        with pytest.raises(CertificateExpiresBeforeStart) as caught:
            quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, start, NOMINAL, "monthly", valid_until=valid_until)
        assert caught.value.code == "certificate_expires_before_start"
        assert caught.value.details["valid_until"] == "14.03.2027"
        with pytest.raises(CertificateExpiresBeforeStart):
            free_place(MODULE_START, MODULE_END, start, valid_until=valid_until)
    # the last valid day itself is still paid, up to the end of its month
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, valid_until, NOMINAL, "monthly", valid_until=valid_until)
    assert q.enrolled_days == 18 and q.months == [date(2027, 3, 1)]


def test_a_free_place_schedule_stops_too() -> None:
    q = free_place(MODULE_START, MODULE_END, ENROL_START, valid_until=date(2026, 12, 5))
    assert q.months[-1] == date(2026, 12, 1) and q.ends_early_on == date(2026, 12, 31)
    assert q.cost == 0 and q.enrolled_days == 31 + 30 + 31


def test_expiry_termination_for_a_birthday_on_the_1st_keeps_only_months_up_to_the_month_before() -> None:
    q = quote(PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "monthly")
    t = terminate_on_expiry(q.schedule, ENROL_START, MODULE_END, date(2009, 3, 1))
    assert t.ends_on == date(2027, 2, 28)
    assert [line.month for line in t.kept][-1] == date(2027, 2, 1)
    assert [line.month for line in t.released] == [date(2027, 3, 1), date(2027, 4, 1), date(2027, 5, 1)]


def test_effective_end_without_a_validity_is_the_module_end() -> None:
    assert effective_end(MODULE_END, ENROL_START, None) == MODULE_END


# --- property ---------------------------------------------------------------------------------


def _day_before_eighteenth(birth: date) -> date:
    """Written independently of the code under test: 29 February turns 18 on 28 February."""
    if (birth.month, birth.day) == (2, 29):
        return date(birth.year + 18, 2, 27)
    return date(birth.year + 18, birth.month, birth.day) - timedelta(days=1)


@st.composite
def cases(draw: st.DrawFn) -> tuple[date, date, date, date]:
    module_start = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2032, 12, 31)))
    module_end = module_start + timedelta(days=draw(st.integers(1, 400)))
    enrol_start = module_start + timedelta(days=draw(st.integers(0, (module_end - module_start).days)))
    # births whose 18th birthday falls from two years before to two years after the module
    birth = draw(st.dates(min_value=date(module_start.year - 20, 1, 1), max_value=date(module_end.year - 16, 12, 31)))
    return birth, module_start, module_end, enrol_start


amounts = st.integers(min_value=0, max_value=10**9)


@settings(max_examples=300, deadline=None)
@given(cases(), amounts, amounts, amounts, st.sampled_from(["monthly", "attendance"]))
def test_the_schedule_never_runs_past_the_validity_month(
    case: tuple[date, date, date, date], price: int, normative: int, available: int, mode: str
) -> None:
    birth, module_start, module_end, enrol_start = case
    last_valid = _day_before_eighteenth(birth)
    if enrol_start > last_valid:
        with pytest.raises(CertificateExpiresBeforeStart):
            quote(price, normative, module_start, module_end, enrol_start, available, mode,
                  valid_until=certificate_valid_until(birth))
        return
    q = quote(price, normative, module_start, module_end, enrol_start, available, mode,
              valid_until=certificate_valid_until(birth))
    validity_month = date(last_valid.year, last_valid.month, 1)
    last_of_validity_month = _months(validity_month, validity_month + timedelta(days=31))[-1] - timedelta(days=1)
    assert q.ends_on == min(module_end, last_of_validity_month)
    assert q.months[-1] <= validity_month
    assert q.months[0] == date(enrol_start.year, enrol_start.month, 1)
    assert q.months == _months(enrol_start, min(module_end, q.ends_on))
    assert q.ends_on <= module_end
    assert (q.ends_early_on is not None) == (module_end > q.ends_on)
    assert q.enrolled_days == (q.ends_on - enrol_start).days + 1
    assert sum(q.certificate_instalments) == q.certificate_part
    assert sum(q.family_instalments) == q.family_part
    assert q.certificate_part + q.family_part == q.cost <= price
    assert all(x >= 0 for x in (*q.certificate_instalments, *q.family_instalments, q.cost, q.certificate_part,
                                q.family_part, q.normative_cost))


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2020, 12, 31)), st.integers(0, 40 * 366))
def test_a_child_the_navigator_admits_is_never_refused_for_validity(birth: date, offset: int) -> None:
    """The navigator admits ages up to 17 on the start date (registry caps a module's ages at 17),
    with the same age rule: such a start is always within the certificate's validity."""
    start = birth + timedelta(days=offset)
    if age_on(birth, start) <= 17:
        assert start <= certificate_valid_until(birth)
    else:
        assert start > certificate_valid_until(birth)
