"""The Russian formats of the pages: money ``1 234,56 ₽``, dates ``15.11.2027``, plurals."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from pfdo_portal.formatting import ages, count, date, money, month, plural, score, time, weekday

NNBSP, NBSP = "\u202f", "\u00a0"


def test_money_groups_thousands_with_a_narrow_no_break_space_and_keeps_kopecks() -> None:
    assert money(123456) == f"1{NNBSP}234,56{NBSP}₽"
    assert money(1_200_000) == f"12{NNBSP}000,00{NBSP}₽"
    assert money(100_000_000_00) == f"100{NNBSP}000{NNBSP}000,00{NBSP}₽"
    assert money(5) == f"0,05{NBSP}₽"
    assert money(0) == f"0,00{NBSP}₽"
    assert money(99_999) == f"999,99{NBSP}₽"
    assert money(-150_050) == f"-1{NNBSP}500,50{NBSP}₽"
    assert money(None) == "—"


@given(st.integers(min_value=-10**15, max_value=10**15))
def test_money_reads_back_to_the_same_kopecks(kopecks: int) -> None:
    text = money(kopecks)
    assert text.endswith(f"{NBSP}₽") and " " not in text  # never an ordinary (breaking) space
    roubles, kop = text.removesuffix(f"{NBSP}₽").split(",")
    assert len(kop) == 2
    assert int(roubles.lstrip("-").replace(NNBSP, "")) * 100 + int(kop) == abs(kopecks)
    assert roubles.startswith("-") == (kopecks < 0)
    groups = roubles.lstrip("-").split(NNBSP)
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3


def test_dates_months_and_times() -> None:
    assert date("2027-11-15") == "15.11.2027"
    assert date(dt.date(2027, 1, 5)) == "05.01.2027"
    assert date("2027-11-15T10:00:00+03:00") == "15.11.2027"
    assert date(None) == "—"
    assert month("2027-11") == "ноябрь 2027" and month(dt.date(2028, 5, 31)) == "май 2028"
    assert time("16:00:00") == "16:00" and time(dt.time(9, 5)) == "09:05"
    assert weekday(1) == "понедельник" and weekday(7, short=True) == "вс"


def test_russian_plurals() -> None:
    forms = ("год", "года", "лет")
    assert [plural(n, *forms) for n in (1, 2, 4, 5, 11, 12, 14, 21, 22, 25, 101, 111)] == [
        "год", "года", "года", "лет", "лет", "лет", "лет", "год", "года", "лет", "год", "лет"]
    assert ages(9, 12) == "9–12 лет" and ages(7, 7) == "7 лет" and ages(5, 11) == "5–11 лет" and ages(3, 4) == "3–4 года"
    assert count(1234, "группа", "группы", "групп") == f"1{NNBSP}234 группы"
    assert score(86.5) == "86,5" and score(None) == "нет оценок"
