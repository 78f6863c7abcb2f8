"""The document engine: canonical JSON and its hash, numbers and versions, typed values, the
PDF (deterministic, Cyrillic text readable back), the fonts, and the Russian formatting."""

from __future__ import annotations

import datetime as dt
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import (
    Column, Document, Fields, FontsMissing, Line, Money, Month, Party, Share, Signature, Table, Text, content_hash,
    document_fonts, document_number, issue, next_stamp, render_pdf, to_json, value_from_json, value_json, verify,
)
from pfdo_plumbing.documents import fonts as fonts_module
from pfdo_testkit.documents import assert_pdf_matches_json, pdf_text, save_pages_png, squash


def sample(amount: int = 123_456_78, note: str = "") -> Document:
    return Document(
        kind="sample", number_prefix="ОБР", identity=("subject-1",), date=dt.date(2027, 11, 15),
        title="Образец документа", parties=(Party("Исполнитель", "ООО «Ёлка»", (Line("ИНН", "7707083893"),)),),
        sections=(
            Fields("Сведения", (Line("Сумма", Money(amount)), Line("Месяц", Month(dt.date(2027, 11, 20))),
                                Line("Дата", dt.date(2027, 11, 15)), Line("Пусто", None), Line("Примечание", note))),
            Table("Строки", (Column("Что", 3), Column("Доля", 2), Column("Сколько", 1, True), Column("Сумма", 2, True)),
                  (("первое", Share(Fraction(1, 3), "1 из 3 занятий"), 2, Money(100)),
                   ("второе", Share(Fraction(1)), 3, Money(250)))),
            Text("Условия", ("Съешь же ещё этих мягких французских булок, да выпей чаю.",)),
        ),
        signatures=(Signature("Заказчик", "Иванова М. С.", dt.datetime(2027, 11, 15, 13, 0, tzinfo=dt.UTC)),),
    )


def test_the_same_facts_give_the_same_hash_and_version() -> None:
    first = issue(sample())
    assert first.stamp.version == 1
    assert next_stamp(sample(), first.stamp) == first.stamp
    assert to_json(issue(sample())) == to_json(first)


def test_a_changed_fact_keeps_the_number_and_makes_the_next_version() -> None:
    first = issue(sample())
    second = issue(sample(amount=1), first.stamp)
    third = issue(sample(amount=2), second.stamp)
    assert first.stamp.number == second.stamp.number == third.stamp.number
    assert (second.stamp.version, third.stamp.version) == (2, 3)
    assert len({first.stamp.content_hash, second.stamp.content_hash, third.stamp.content_hash}) == 3
    with pytest.raises(ValueError):
        next_stamp(sample(), issue(Document(**{**sample().__dict__, "identity": ("other",)})).stamp)


def test_the_number_comes_from_the_kind_and_the_identity() -> None:
    number = document_number("ОБР", "sample", ("subject-1",))
    assert re.fullmatch(r"ОБР-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", number)
    assert number != document_number("ОБР", "other", ("subject-1",))
    assert number != document_number("ОБР", "sample", ("subject-2",))


def test_the_json_is_canonical_and_verifiable() -> None:
    raw = to_json(issue(sample()))
    data = json.loads(raw)
    assert raw == json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    assert verify(raw)
    assert data["content_hash"] == content_hash(sample())
    table = data["sections"][1]
    assert table["totals"] == ["Итого", None, 5, {"kopecks": 350}]
    assert table["rows"][0][1] == {"share": "1/3", "detail": "1 из 3 занятий"}
    assert data["signatures"][0]["signed_at"] == {"timestamp": "2027-11-15T13:00:00Z"}
    tampered = raw.replace(b'"kopecks":12345678', b'"kopecks":12345679')
    assert tampered != raw and not verify(tampered)


values = st.one_of(
    st.none(), st.text(max_size=20), st.integers(-10**15, 10**15), st.builds(Money, st.integers(-10**15, 10**15)),
    st.dates(), st.builds(Month, st.dates().map(lambda d: d.replace(day=1))),
    st.datetimes(timezones=st.just(dt.UTC)).map(lambda t: t.replace(microsecond=0)),
    st.builds(Share, st.fractions(min_value=0, max_value=1), st.text(max_size=10)),
)


@given(values)
def test_values_survive_the_json(value) -> None:
    assert value_from_json(json.loads(json.dumps(value_json(value)))) == value


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError):
        value_json(dt.datetime(2027, 1, 1))


def test_a_table_row_must_fit_its_columns() -> None:
    with pytest.raises(ValueError):
        Table("t", (Column("a"),), (("x", "y"),))


def test_the_pdf_is_deterministic_and_prints_every_fact() -> None:
    issued = issue(sample(note="очень длинное примечание " * 12))
    pdf = render_pdf(issued)
    assert pdf == render_pdf(issued)
    assert pdf.startswith(b"%PDF-")
    assert_pdf_matches_json(pdf, to_json(issued))
    text = squash(pdf_text(pdf))
    for fact in ("123 456,78 ₽", "ноябрь 2027", "15.11.2027 16:00", "33,33 % (1 из 3 занятий)", "3,50 ₽"):
        assert squash(fact) in text
    assert save_pages_png(pdf, "plumbing-sample")


def test_missing_fonts_name_the_debian_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fonts_module, "SYSTEM_FONT_ROOTS", (str(tmp_path),))
    monkeypatch.delenv(fonts_module.FONTS_ENV, raising=False)
    document_fonts.cache_clear()
    try:
        with pytest.raises(FontsMissing, match="fonts-dejavu-core"):
            document_fonts()
    finally:
        document_fonts.cache_clear()


def test_fonts_from_a_named_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    found = document_fonts()
    monkeypatch.setenv(fonts_module.FONTS_ENV, str(found.regular.parent))
    document_fonts.cache_clear()
    try:
        assert document_fonts() == found
    finally:
        document_fonts.cache_clear()


# ---- the Russian formatting --------------------------------------------------------------------

@given(st.integers(-10**15, 10**15))
def test_money_reads_back_to_the_same_kopecks(kopecks: int) -> None:
    text = ru.money(kopecks)
    assert text.endswith("\u00a0₽")
    number = text[:-2].replace("\u202f", "")
    assert re.fullmatch(r"-?\d+,\d\d", number)
    assert int(number.replace(",", "")) == kopecks
    groups = text[:-2].lstrip("-").split(",")[0].split("\u202f")
    assert all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
    assert ru.roubles_with_dot(kopecks).replace(".", "") .lstrip("-").lstrip("0") == str(abs(kopecks)).lstrip("0")


def test_money_examples() -> None:
    assert ru.money(123456) == "1\u202f234,56\u00a0₽"
    assert ru.money(5) == "0,05\u00a0₽"
    assert ru.roubles_with_dot(123456) == "1234.56" and ru.roubles_with_comma(99) == "0,99"
    assert ru.date(dt.date(2027, 11, 5)) == "05.11.2027"
    assert ru.month(dt.date(2027, 11, 30)) == "ноябрь 2027"
    assert ru.long_date(dt.date(2027, 3, 1)) == "1 марта 2027 г."
    assert ru.share(Fraction(5, 6)) == "83,33\u00a0%" and ru.share(Fraction(1)) == "100\u00a0%"
    assert ru.share(Fraction(1, 2)) == "50\u00a0%" and ru.share(Fraction(1, 8)) == "12,5\u00a0%"
