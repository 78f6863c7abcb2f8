"""Amounts typed the Russian way become kopecks; what is not an amount is refused with a sentence."""

from __future__ import annotations

import pytest

from pfdo_portal.money_input import MoneyInputError, parse_roubles, roubles_for_input


@pytest.mark.parametrize(("typed", "kopecks"), [
    ("1 800,00", 180_000),
    ("1800", 180_000),
    ("1 800", 180_000),
    ("1\u00a0800,5", 180_050),
    ("1\u202f800,05 ₽", 180_005),
    ("1800.50", 180_050),
    ("  12 345 678,90 руб. ", 1_234_567_890),
    ("0,99", 99),
    ("0", 0),
    ("15 000 р.", 1_500_000),
])
def test_amounts_typed_the_russian_way(typed: str, kopecks: int) -> None:
    assert parse_roubles(typed) == kopecks


@pytest.mark.parametrize(("typed", "says"), [
    ("", "Укажите сумму"),
    (None, "Укажите сумму"),
    ("₽", "Укажите сумму"),
    ("-100", "отрицательной"),
    ("1 800,005", "не больше двух цифр"),
    ("1 800,", "не больше двух цифр"),
    ("1,800.00", "только одна запятая"),
    ("18 00", "рубли цифрами"),
    ("1800 000", "рубли цифрами"),
    ("сто", "рубли цифрами"),
    ("1e5", "рубли цифрами"),
    ("10 000 000 001", "Слишком большая"),
])
def test_what_is_not_an_amount_is_refused_with_a_sentence(typed: str | None, says: str) -> None:
    with pytest.raises(MoneyInputError) as refused:
        parse_roubles(typed)
    assert says in refused.value.message


@pytest.mark.parametrize("kopecks", [0, 5, 180_000, 180_050, 1_234_567_890])
def test_an_amount_shown_in_a_form_reads_back_the_same(kopecks: int) -> None:
    assert parse_roubles(roubles_for_input(kopecks)) == kopecks


def test_a_form_shows_kopecks_as_roubles_with_plain_spaces() -> None:
    assert roubles_for_input(180_000) == "1 800,00"
    assert roubles_for_input(None) == ""
