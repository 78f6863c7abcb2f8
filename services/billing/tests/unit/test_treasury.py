"""The treasury's loop of a payment order: issued → accepted → paid | returned; duplicates and
reordered reports are harmless, paid and returned exclude each other, only a returned order is
reissued."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.treasury import (
    FINAL,
    REPORTABLE,
    InvalidTreasuryStatus,
    OrderNotReturned,
    OrderStatus,
    Outcome,
    TreasuryStatusConflict,
    apply_report,
    check_reissuable,
)

I, A, P, R = OrderStatus.ISSUED, OrderStatus.ACCEPTED, OrderStatus.PAID, OrderStatus.RETURNED
WHY = "Неверный счёт получателя"


@pytest.mark.parametrize(("current", "reported", "outcome", "after"), [
    (I, A, Outcome.APPLIED, A),
    (I, P, Outcome.APPLIED, P),  # "accepted" may come late or never
    (I, R, Outcome.APPLIED, R),
    (A, P, Outcome.APPLIED, P),
    (A, R, Outcome.APPLIED, R),
    (A, A, Outcome.DUPLICATE, A),
    (P, P, Outcome.DUPLICATE, P),
    (R, R, Outcome.DUPLICATE, R),
    (P, A, Outcome.STALE, P),  # a late "accepted" after "paid" is ignored
    (R, A, Outcome.STALE, R),
])
def test_the_loop(current: OrderStatus, reported: OrderStatus, outcome: Outcome, after: OrderStatus) -> None:
    decision = apply_report(current, reported, WHY)
    assert (decision.outcome, decision.status) == (outcome, after)
    assert decision.changed == (outcome is Outcome.APPLIED)


@pytest.mark.parametrize(("current", "reported"), [(P, R), (R, P)])
def test_paid_and_returned_exclude_each_other(current: OrderStatus, reported: OrderStatus) -> None:
    with pytest.raises(TreasuryStatusConflict):
        apply_report(current, reported, WHY)


def test_the_treasury_reports_no_issued_and_no_return_without_a_reason() -> None:
    with pytest.raises(InvalidTreasuryStatus):
        apply_report(I, I)
    for reason in (None, "", "  "):
        with pytest.raises(InvalidTreasuryStatus):
            apply_report(A, R, reason)


def test_only_a_returned_order_is_reissued() -> None:
    check_reissuable(R)
    for status in (I, A, P):
        with pytest.raises(OrderNotReturned):
            check_reissuable(status)


@given(st.lists(st.sampled_from(REPORTABLE), min_size=1, max_size=12))
def test_duplicates_and_reordering_do_not_matter(reports: list[OrderStatus]) -> None:
    """Any order of any reports with at most one final status ends where the furthest report
    says, and every report applied moves the order forward."""
    finals = {r for r in reports if r in FINAL}
    if len(finals) > 1:
        return  # paid and returned both: a conflict (tested above)
    status, applied = I, []
    for reported in reports:
        decision = apply_report(status, reported, WHY)
        if decision.changed:
            applied.append(decision.status)
        status = decision.status
    assert status == (finals.pop() if finals else A)
    assert len(applied) == len(set(applied)) <= 2
    assert applied == sorted(applied, key=[A, P, R].index) or applied[-1] in FINAL
