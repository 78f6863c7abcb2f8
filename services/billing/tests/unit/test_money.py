from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.errors import InvalidAmount, InvalidPercent
from pfdo_billing.domain.money import (
    percent_of,
    prorate,
    scale_half_up,
    split_instalments,
)

kopecks = st.integers(min_value=0, max_value=10**12)


def test_prorate_worked_example() -> None:
    assert prorate(1_200_000, 243, 273) == 1_068_132
    assert prorate(1_000_000, 243, 273) == 890_110


def test_prorate_rounds_half_up() -> None:
    assert prorate(1, 1, 2) == 1  # 0.5 -> 1
    assert prorate(3, 1, 2) == 2  # 1.5 -> 2
    assert prorate(10, 1, 3) == 3  # 3.33 -> 3
    assert prorate(20, 1, 3) == 7  # 6.67 -> 7


def test_prorate_rejects_bad_input() -> None:
    with pytest.raises(InvalidAmount):
        prorate(-1, 1, 2)
    with pytest.raises(InvalidAmount):
        prorate(1.5, 1, 2)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        prorate(100, 3, 2)
    with pytest.raises(InvalidAmount):
        prorate(100, 0, 0)
    with pytest.raises(InvalidAmount):
        scale_half_up(100, 1, 0)


@given(kopecks, st.integers(1, 400).flatmap(lambda t: st.tuples(st.integers(0, t), st.just(t))))
def test_prorate_is_within_half_a_kopeck(amount: int, days: tuple[int, int]) -> None:
    part, total = days
    result = prorate(amount, part, total)
    exact = Fraction(amount * part, total)
    assert -Fraction(1, 2) < result - exact <= Fraction(1, 2)
    assert prorate(amount, total, total) == amount


def test_split_worked_example() -> None:
    assert split_instalments(890_110, 8) == [111_269] + [111_263] * 7
    assert split_instalments(178_022, 8) == [22_258] + [22_252] * 7


def test_split_small_totals() -> None:
    assert split_instalments(5, 8) == [5, 0, 0, 0, 0, 0, 0, 0]
    assert split_instalments(0, 3) == [0, 0, 0]
    assert split_instalments(7, 1) == [7]
    with pytest.raises(InvalidAmount):
        split_instalments(7, 0)


@given(kopecks, st.integers(1, 24))
def test_split_adds_up_to_the_kopeck(total: int, months: int) -> None:
    parts = split_instalments(total, months)
    assert len(parts) == months
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    assert all(part == total // months for part in parts[1:])
    assert parts[0] - parts[-1] == total % months
    assert max(parts) - min(parts) <= total % months


def test_percent_of_rounds_down() -> None:
    assert percent_of(111_263, 80) == 89_010  # 89 010.4
    assert percent_of(111_269, 80) == 89_015  # 89 015.2
    assert percent_of(9, 80) == 7  # 7.2
    assert percent_of(1_000, Fraction(825, 10)) == 825
    assert percent_of(1_000, 0) == 0
    assert percent_of(1_000, 100) == 1_000
    with pytest.raises(InvalidPercent):
        percent_of(1_000, 101)
    with pytest.raises(InvalidPercent):
        percent_of(1_000, 0.8)  # type: ignore[arg-type]


@given(kopecks, st.integers(0, 100))
def test_percent_of_never_exceeds_the_exact_share(amount: int, percent: int) -> None:
    result = percent_of(amount, percent)
    exact = Fraction(amount * percent, 100)
    assert result <= exact < result + 1
