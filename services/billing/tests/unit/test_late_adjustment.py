"""Late adjustments of a closed month: examples from the worked example (November 2026: 8
planned lessons, instalments 111 263 / 22 252 kopecks) and properties of the rule."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.due import MonthAttendance, close_month
from pfdo_billing.domain.errors import InvalidAmount
from pfdo_billing.domain.late_adjustment import Billed, LateAdjustment, late_adjustment
from pfdo_billing.domain.payment_mode import PaymentMode

CERT, FAMILY = 111_263, 22_252
AT_CLOSE = close_month(CERT, FAMILY, "attendance", MonthAttendance(planned=8, attended=6))
BILLED = Billed(AT_CLOSE.posted, 0, AT_CLOSE.family_invoiced)  # 83 447 and 16 689


def owed(attended: int) -> object:
    return close_month(CERT, FAMILY, "attendance", MonthAttendance(planned=8, attended=attended))


def test_dispute_rejected_after_the_close_charges_the_lesson_late() -> None:
    adj = late_adjustment(owed(7), BILLED, available=2_000_000)
    # floor(111 263 × 7 / 8) = 97 355; floor(22 252 × 7 / 8) = 19 470
    assert adj == LateAdjustment(charge=97_355 - 83_447, family_invoice=19_470 - 16_689)
    assert adj.applied_to(BILLED) == Billed(97_355, 0, 19_470)


def test_dispute_opened_after_the_close_refunds_the_billed_lesson() -> None:
    adj = late_adjustment(owed(5), BILLED, available=0)
    # floor(111 263 × 5 / 8) = 69 539; floor(22 252 × 5 / 8) = 13 907
    assert adj == LateAdjustment(refund=83_447 - 69_539, family_credit=16_689 - 13_907)


def test_what_the_balance_cannot_cover_is_uncovered_and_cancelled_first() -> None:
    short = late_adjustment(owed(8), BILLED, available=10_000)
    assert (short.charge, short.uncovered_change) == (10_000, 111_263 - 83_447 - 10_000)
    after = short.applied_to(BILLED)
    assert after.certificate_charged + after.certificate_uncovered == CERT
    # the lesson is then taken out again: the uncovered part goes first, no money moves back
    back = late_adjustment(owed(7), after, available=0)
    assert (back.refund, back.uncovered_change) == (0, -(111_263 - 97_355))


def test_monthly_mode_never_adjusts() -> None:
    monthly = close_month(CERT, FAMILY, PaymentMode.MONTHLY)
    billed = Billed(monthly.posted, 0, monthly.family_invoiced)
    assert late_adjustment(monthly, billed, available=5).empty


def test_amounts_are_kopecks() -> None:
    with pytest.raises(InvalidAmount):
        Billed(-1, 0, 0)
    with pytest.raises(InvalidAmount):
        late_adjustment(owed(6), BILLED, available=-1)


@given(
    st.integers(0, 10**7), st.integers(0, 10**6), st.integers(0, 30),
    st.lists(st.tuples(st.integers(0, 30), st.integers(0, 10**7)), min_size=1, max_size=8),
)
def test_adjustments_converge_and_never_overdraw(cert: int, family: int, planned: int,
                                                  steps: list[tuple[int, int]]) -> None:
    """Whatever sequence of attendance counts the disputes produce, and whatever the balance:
    each adjustment makes billed equal owed, charges no more than is available, refunds no more
    than was charged, and a second computation right after it moves nothing."""
    billed = Billed(0, 0, 0)
    for attended, available in steps:
        now = close_month(cert, family, "attendance", MonthAttendance(planned=planned, attended=attended))
        adj = late_adjustment(now, billed, available)
        assert adj.charge <= available
        assert adj.refund <= billed.certificate_charged
        assert min(adj.charge, adj.refund, adj.family_invoice, adj.family_credit) >= 0
        assert not (adj.charge and adj.refund) and not (adj.family_invoice and adj.family_credit)
        billed = adj.applied_to(billed)
        assert billed.certificate_charged + billed.certificate_uncovered == now.posted
        assert billed.family_invoiced == now.family_invoiced
        assert late_adjustment(now, billed, available - adj.charge).empty
