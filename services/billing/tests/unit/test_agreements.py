"""Agreements between a provider and a payer: the limit's arithmetic and the status rules."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain import agreements as a
from pfdo_billing.domain.errors import AgreementEnded, AgreementLimitBelowUsed, InvalidAgreement, InvalidAmount
from pfdo_contracts.events.billing import AgreementStatus

CONCLUDED = date(2026, 8, 25)
kopecks = st.integers(0, 10**12)


def new(limit: int = 1_000_000) -> a.Agreement:
    return a.conclude(uuid.uuid4(), " С-2026/1 ", uuid.uuid4(), "01", uuid.uuid4(), limit, CONCLUDED)


def test_a_concluded_agreement_is_in_force_from_its_date_with_nothing_used() -> None:
    x = new()
    assert x.number == "С-2026/1" and x.used == 0 and x.status is AgreementStatus.ACTIVE and x.headroom == 1_000_000
    assert not a.in_force(x, date(2026, 8, 24)) and a.in_force(x, CONCLUDED) and a.in_force(x, None)
    assert not a.in_force(None, CONCLUDED)


@pytest.mark.parametrize(("number", "payer", "limit", "error"), [
    ("  ", "01", 1, InvalidAgreement), ("С-1", "1", 1, InvalidAgreement), ("С-1", "ab", 1, InvalidAgreement),
    ("С-1", "01", -1, InvalidAmount), ("С-1", "01", 1.5, InvalidAmount), ("С-1", "01", True, InvalidAmount),
])
def test_a_wrong_agreement_is_refused(number: str, payer: str, limit: int, error: type) -> None:
    with pytest.raises(error):
        a.conclude(uuid.uuid4(), number, uuid.uuid4(), payer, uuid.uuid4(), limit, CONCLUDED)


def test_an_ended_agreement_is_not_in_force_and_changes_no_more() -> None:
    x = a.end(new(), date(2026, 12, 31))
    assert x.status is AgreementStatus.ENDED and x.ended_on == date(2026, 12, 31) and not a.in_force(x, None)
    with pytest.raises(AgreementEnded):
        a.change_limit(x, 5)
    with pytest.raises(AgreementEnded):
        a.end(x, date(2027, 1, 1))


def test_an_agreement_cannot_end_before_it_was_concluded() -> None:
    with pytest.raises(InvalidAgreement):
        a.end(new(), date(2026, 8, 24))


@given(limit=kopecks, amounts=st.lists(kopecks.map(lambda k: k % 400_000), max_size=30))
def test_taking_reservations_never_goes_over_the_limit(limit: int, amounts: list[int]) -> None:
    x = new(limit)
    for amount in amounts:
        if a.fits(x, amount):
            x = a.take(x, amount)
        else:
            with pytest.raises(AgreementLimitBelowUsed):
                a.take(x, amount)
        assert 0 <= x.used <= x.limit and x.headroom == x.limit - x.used


@given(limit=kopecks, taken=st.lists(kopecks.map(lambda k: k % 400_000), max_size=20), data=st.data())
def test_releasing_frees_exactly_what_was_taken(limit: int, taken: list[int], data: st.DataObject) -> None:
    x = new(limit)
    kept = [t for t in taken if a.fits(x, t) and (x := a.take(x, t))]
    before = x.used
    released = data.draw(st.lists(st.sampled_from(kept), unique_by=id, max_size=len(kept))) if kept else []
    for amount in released:
        x = a.free(x, amount)
    assert x.used == before - sum(released) >= 0
    assert a.free(x, x.used + 1).used == 0  # never below zero


@given(limit=kopecks, used=kopecks, new_limit=kopecks)
def test_a_limit_changes_but_never_below_what_is_used(limit: int, used: int, new_limit: int) -> None:
    x = a.Agreement(uuid.uuid4(), "С-1", uuid.uuid4(), "01", uuid.uuid4(), max(limit, used), used, CONCLUDED)
    if new_limit < used:
        with pytest.raises(AgreementLimitBelowUsed):
            a.change_limit(x, new_limit)
    else:
        assert a.change_limit(x, new_limit).headroom == new_limit - used


@given(limit=kopecks, used=kopecks, amount=kopecks)
def test_fits_is_the_headroom(limit: int, used: int, amount: int) -> None:
    x = a.Agreement(uuid.uuid4(), "С-1", uuid.uuid4(), "01", uuid.uuid4(), limit, used, CONCLUDED)
    assert a.fits(x, amount) == (used + amount <= limit or amount == 0)
