from datetime import date

from pfdo_billing.domain.contract import ContractStatus
from pfdo_billing.domain.quote import Instalment, quote
from pfdo_billing.domain.termination import (
    end_early,
    eighteenth_birthday,
    expiry_contract_end,
    terminate,
    terminate_on_expiry,
)

from .worked_example import (
    CERTIFICATE_PART,
    ENROL_START,
    FAMILY_PART,
    MODULE_END,
    MODULE_START,
    MONTHS,
    NOMINAL,
    NORMATIVE,
    PRICE,
)

SCHEDULE = quote(
    PRICE, NORMATIVE, MODULE_START, MODULE_END, ENROL_START, NOMINAL, "attendance"
).schedule


def test_termination_ends_at_month_end_and_releases_later_months() -> None:
    t = terminate(SCHEDULE, ENROL_START, MODULE_END, date(2027, 1, 15))
    assert t.ends_on == date(2027, 1, 31)
    assert not t.cancelled_before_start
    assert [line.month for line in t.kept] == MONTHS[:4]  # Oct..Jan, January billed by mode
    assert [line.month for line in t.released] == MONTHS[4:]  # Feb..May
    assert t.certificate_released == 4 * 111_263 == 445_052
    assert t.family_cancelled == 4 * 22_252 == 89_008


def test_termination_on_the_start_day_keeps_the_first_month() -> None:
    t = terminate(SCHEDULE, ENROL_START, MODULE_END, ENROL_START)
    assert t.ends_on == date(2026, 10, 31)
    assert [line.month for line in t.kept] == [date(2026, 10, 1)]
    assert t.certificate_released == CERTIFICATE_PART - 111_269


def test_cancellation_before_start_releases_everything() -> None:
    t = terminate(SCHEDULE, ENROL_START, MODULE_END, date(2026, 9, 20))
    assert t.cancelled_before_start and t.ends_on is None
    assert t.kept == ()
    assert t.certificate_released == CERTIFICATE_PART
    assert t.family_cancelled == FAMILY_PART


def test_termination_in_the_last_month_releases_nothing() -> None:
    t = terminate(SCHEDULE, ENROL_START, date(2027, 5, 20), date(2027, 5, 10))
    assert t.ends_on == date(2027, 5, 20)  # never later than the contract end
    assert t.released == ()


def test_expiry_at_eighteen() -> None:
    assert eighteenth_birthday(date(2009, 1, 15)) == date(2027, 1, 15)
    assert expiry_contract_end(date(2009, 1, 15)) == date(2027, 1, 31)
    assert expiry_contract_end(date(2008, 2, 29)) == date(2026, 2, 28)
    t = terminate_on_expiry(SCHEDULE, ENROL_START, MODULE_END, date(2009, 1, 15))
    assert t.ends_on == date(2027, 1, 31)
    assert t.certificate_released == 445_052


def test_expiry_before_the_start_cancels() -> None:
    t = terminate_on_expiry(SCHEDULE, ENROL_START, MODULE_END, date(2008, 9, 1))
    assert t.cancelled_before_start
    assert t.certificate_released == CERTIFICATE_PART


def test_ending_early_a_contract_in_force_keeps_its_month_and_releases_the_rest() -> None:
    schedule = [Instalment(date(2026, m, 1), 100, 10) for m in (10, 11, 12)]
    end = end_early(ContractStatus.ACTIVE, schedule, date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 5))
    assert end is not None
    assert (end.status, end.ends_on) == (ContractStatus.TERMINATED, date(2026, 11, 30))
    assert [line.month for line in end.released] == [date(2026, 12, 1)]
    # the provider never confirmed it: nothing is owed, every month is released, dates unchanged
    end = end_early(ContractStatus.RESERVED, schedule, date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 5))
    assert end is not None
    assert (end.status, end.ends_on, end.released) == (ContractStatus.CANCELLED, date(2026, 12, 31), tuple(schedule))
    # before the start: cancelled whatever the status
    end = end_early(ContractStatus.ACTIVE, schedule, date(2026, 10, 1), date(2026, 12, 31), date(2026, 9, 20))
    assert end is not None and end.status is ContractStatus.CANCELLED and end.released == tuple(schedule)
    # a finished contract is not ended again
    assert end_early(ContractStatus.ENDED, schedule, date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 5)) is None
