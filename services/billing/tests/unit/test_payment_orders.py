from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.payment_orders import (
    MonthActivity,
    PayerMonthActivity,
    advance,
    final_settlement,
    settle_months,
    settle_per_payer,
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


# --- per payer ----------------------------------------------------------------------------

payer_months = st.lists(
    st.tuples(st.sampled_from(["01", "02", "03"]), st.integers(0, 10**7))
    .flatmap(lambda p: st.tuples(st.just(p[0]), st.just(p[1]), st.integers(0, p[1]))),
    max_size=36,
)


@given(payer_months, st.integers(0, 80), st.dictionaries(st.sampled_from(["01", "02"]), st.integers(0, 10**6)))
def test_per_payer_advances_and_finals_equal_postings_plus_offset_carried(
    raw: list[tuple[str, int, int]], percent: int, opening: dict[str, int]
) -> None:
    activity = [PayerMonthActivity(payer, date(2026, 1 + i % 12, 1), total, posted)
                for i, (payer, total, posted) in enumerate(raw)]
    orders = settle_per_payer("prov", activity, percent, opening)
    assert set(orders) == {a.payer_code for a in activity}
    for payer, payer_orders in orders.items():
        mine = [a for a in activity if a.payer_code == payer]
        carried = payer_orders[-1].final.offset_out
        # the invariant per (provider, payer): paid == posted − the opening offset + the offset still carried
        assert sum(o.paid for o in payer_orders) == sum(a.posted for a in mine) - opening.get(payer, 0) + carried
        assert all(0 <= o.advance.amount <= o.advance.instalments_total for o in payer_orders)
        assert all(o.advance.amount * 100 <= o.advance.instalments_total * 80 for o in payer_orders)  # at most 80 %
        # one payer's offsets never reach another payer's orders: settling it alone gives the same orders
        alone = settle_per_payer("prov", mine, percent, {payer: opening.get(payer, 0)})
        assert alone == {payer: payer_orders}


def test_a_shortfall_of_one_payer_is_not_offset_against_another() -> None:
    orders = settle_per_payer("prov", [
        PayerMonthActivity("01", OCT, 111_263, 0),  # nothing attended: the advance is carried as an offset
        PayerMonthActivity("02", OCT, 111_263, 111_263),
        PayerMonthActivity("01", NOV, 111_263, 111_263),
        PayerMonthActivity("02", NOV, 111_263, 111_263),
    ])
    # 01 in November: 111 263 − 89 010 − 89 010 < 0, carried on; 02 is paid in full all along
    assert [o.final.offset_out for o in orders["01"]] == [89_010, 89_010 + 89_010 - 111_263]
    assert [o.final.amount for o in orders["01"]] == [0, 0]
    assert [o.final.amount for o in orders["02"]] == [22_253, 22_253]
