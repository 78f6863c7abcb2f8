from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.payment_orders import (
    MonthActivity,
    advance,
    final_settlement,
    settle_months,
)

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def test_advance_is_eighty_percent_of_the_months_instalments_rounded_down() -> None:
    adv = advance("prov", OCT, [111_269, 111_263])
    assert adv.instalments_total == 222_532
    assert adv.amount == 178_025  # 178 025.6 down
    assert advance("prov", OCT, [111_263], percent=Fraction(905, 10)).amount == 100_693


def test_final_settlement_with_negative_offset_carried() -> None:
    # October: advance 80 % of 111 263 = 89 010; attendance 6/8 posts 83 447
    october = final_settlement("prov", OCT, posted=83_447, advance_paid=89_010)
    assert (october.amount, october.offset_out) == (0, 5_563)
    # November: full month posted 111 263; 111 263 − 89 010 − 5 563 = 16 690
    november = final_settlement("prov", NOV, 111_263, 89_010, october.offset_out)
    assert (november.amount, november.offset_out) == (16_690, 0)
    assert 89_010 + 0 + 89_010 + 16_690 == 83_447 + 111_263


def test_settle_months_chains_the_offsets() -> None:
    orders = settle_months(
        "prov",
        [MonthActivity(OCT, 111_263, 83_447), MonthActivity(NOV, 111_263, 111_263)],
    )
    assert [o.advance.amount for o in orders] == [89_010, 89_010]
    assert [o.final.amount for o in orders] == [0, 16_690]
    assert [o.final.offset_in for o in orders] == [0, 5_563]
    assert sum(o.paid for o in orders) == 194_710


months = st.lists(
    st.integers(0, 10**7).flatmap(lambda total: st.tuples(st.just(total), st.integers(0, total))),
    max_size=24,
)


@given(months, st.integers(0, 100))
def test_payments_equal_postings_once_offsets_are_settled(
    raw: list[tuple[int, int]], percent: int
) -> None:
    activity = [MonthActivity(date(2026, 1, 1), total, posted) for total, posted in raw]
    orders = settle_months("prov", activity, percent)
    outstanding = orders[-1].final.offset_out if orders else 0
    paid = sum(o.paid for o in orders)
    assert paid == sum(a.posted for a in activity) + outstanding
    assert all(o.final.amount >= 0 and o.final.offset_out >= 0 for o in orders)
    assert all(o.final.amount == 0 or o.final.offset_out == 0 for o in orders)
    # a later fully posted month settles the offset (whenever the advance is below 100 %)
    if percent == 100:
        return
    closing = 100 * outstanding + 1  # closing − floor(percent % of it) >= closing / 100
    activity.append(MonthActivity(date(2026, 2, 1), closing, closing))
    orders = settle_months("prov", activity, percent)
    assert orders[-1].final.offset_out == 0
    assert sum(o.paid for o in orders) == sum(a.posted for a in activity)
