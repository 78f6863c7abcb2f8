"""A certificate's validity and the end of its contracts on expiry: registry, billing and the
navigator agree on the edge dates (a birthday on the 1st, 29 February, 31 December), through each
service's own entry point, all from the one rule (``pfdo_contracts.rules.validity``)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from pfdo_billing.domain.termination import terminate
from pfdo_billing.domain.validity import certificate_valid_until as billing_valid_until
from pfdo_billing.domain.validity import last_valid_day
from pfdo_contracts.rules.validity import contracts_end_on_expiry, eighteenth_birthday
from pfdo_navigator.domain import enrolment as saga
from pfdo_registry.domain.age import certificate_valid_until as registry_valid_until
from pfdo_registry.domain.age import expiry_date, is_expiry_due

# birth date -> (18th birthday, last valid day, the day contracts end on expiry)
EDGES = {
    date(2009, 3, 1): (date(2027, 3, 1), date(2027, 2, 28), date(2027, 2, 28)),  # the 1st: the month before
    date(2009, 3, 15): (date(2027, 3, 15), date(2027, 3, 14), date(2027, 3, 31)),
    date(2008, 2, 29): (date(2026, 2, 28), date(2026, 2, 27), date(2026, 2, 28)),  # 29 Feb -> 28 Feb
    date(2012, 2, 29): (date(2030, 2, 28), date(2030, 2, 27), date(2030, 2, 28)),
    date(2008, 12, 31): (date(2026, 12, 31), date(2026, 12, 30), date(2026, 12, 31)),
    date(2009, 1, 1): (date(2027, 1, 1), date(2026, 12, 31), date(2026, 12, 31)),  # across the year
}


@pytest.mark.parametrize(("birth", "expected"), EDGES.items(), ids=str)
def test_registry_and_billing_agree_on_validity(birth: date, expected: tuple[date, date, date]) -> None:
    birthday, valid_until, _ = expected
    assert eighteenth_birthday(birth) == expiry_date(birth) == birthday
    assert registry_valid_until(birth) == billing_valid_until(birth) == valid_until
    assert last_valid_day(birthday) == valid_until
    # the registry's daily job expires it on the birthday itself, not a day before
    assert not is_expiry_due(birth, valid_until) and is_expiry_due(birth, birthday)


@pytest.mark.parametrize(("birth", "expected"), EDGES.items(), ids=str)
def test_billing_and_the_navigator_end_contracts_on_the_same_day(birth: date,
                                                                  expected: tuple[date, date, date]) -> None:
    birthday, _, contracts_end = expected
    assert contracts_end_on_expiry(birthday) == contracts_end
    starts_on, module_end = date(birthday.year - 1, 9, 1), date(birthday.year, 8, 31)
    if birthday.month >= 9:
        starts_on, module_end = date(birthday.year, 9, 1), date(birthday.year + 1, 8, 31)
    # the navigator's saga: a confirmed contract running on the birthday is terminated
    navigator_end = _navigator_end(starts_on, module_end, birthday)
    # billing: the expiry handler ends the contract with the month of the last valid day
    billing_end = terminate((), starts_on, module_end, last_valid_day(birthday)).ends_on
    assert navigator_end == billing_end == contracts_end


def _navigator_end(starts_on: date, module_end: date, birthday: date) -> date:
    requested = saga.request(enrolment_id="e1", certificate_id="c1", module_id="m1", starts_on=starts_on,
                             module_ends_on=module_end,
                             requested_at=datetime(starts_on.year, 8, 20, 9, tzinfo=timezone.utc)).enrolment
    offer_day = date(starts_on.year, 8, 21)
    offered = saga.confirm(saga.on_reservation_created(requested, "r1").enrolment, offer_day, 10).enrolment
    confirmed = saga.accept(offered, "parent-1", datetime(starts_on.year, 8, 22, 9, tzinfo=timezone.utc),
                            offer_day).enrolment
    expired = saga.on_certificate_expired(confirmed, birthday)
    assert expired.enrolment.state is saga.EnrolmentState.TERMINATED
    assert expired.enrolment.ends_on is not None
    return expired.enrolment.ends_on
