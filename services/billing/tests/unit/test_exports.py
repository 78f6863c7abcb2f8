"""Exports of payment orders and invoices: CSV and XLSX read back and compared; the
1CClientBankExchange file parsed back section by section, its sums and counts checked."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from pfdo_billing.domain.documents.appendix import appendix_total
from pfdo_billing.domain.exports import (
    bank_exchange_bytes, csv_bytes, invoices_sheet, orders_sheet, xlsx_bytes,
)
from pfdo_billing.domain.exports.tables import invoice_number

from pfdo_testkit.bank_files import parse_bank_exchange

from .document_facts import ENSK, INVOICE, NOVEMBER, PROVIDER, ZARECHNY_NOVEMBER, contract_lines, orders

CREATED = dt.datetime(2027, 12, 3, 10, 15, 30)


def test_the_bank_file_has_one_section_per_order_with_its_sum() -> None:
    exported = orders()
    raw = bank_exchange_bytes(exported, CREATED)
    header, sections = parse_bank_exchange(raw)
    assert header["ВерсияФормата"] == ["1.03"]
    assert header["Кодировка"] == ["Windows"]
    assert header["Документ"] == ["Платежное поручение"]
    assert header["ДатаСоздания"] == ["03.12.2027"] and header["ВремяСоздания"] == ["10:15:30"]
    assert header["ДатаНачала"] == ["01.11.2027"] and header["ДатаКонца"] == ["03.12.2027"]
    assert sorted(header["РасчСчет"]) == sorted({o.payer.account for o in exported})
    assert len(sections) == len(exported)
    assert sum(Decimal(s["Сумма"]) for s in sections) == Decimal(sum(o.amount_kopecks for o in exported)) / 100
    for section, order in zip(sections, exported, strict=True):
        assert section["СекцияДокумент"] == "Платежное поручение"
        assert section["Номер"] == order.number
        assert section["Дата"] == order.issued_on.strftime("%d.%m.%Y")
        assert section["Сумма"] == f"{order.amount_kopecks // 100}.{order.amount_kopecks % 100:02d}"
        assert (section["ПлательщикСчет"], section["ПлательщикИНН"], section["ПлательщикКПП"]) == (
            order.payer.account, order.payer.inn, order.payer.kpp)
        assert (section["ПлательщикБИК"], section["ПлательщикКорсчет"], section["Плательщик1"]) == (
            order.payer.bik, order.payer.corr_account, order.payer.name)
        assert (section["ПолучательСчет"], section["ПолучательИНН"], section["ПолучательКПП"]) == (
            order.payee.account, order.payee.inn, order.payee.kpp or "")
        assert (section["ПолучательБИК"], section["ПолучательКорсчет"], section["Получатель1"]) == (
            order.payee.bik, order.payee.corr_account, order.payee.name)
        assert (section["ВидОплаты"], section["Очередность"]) == ("01", "5")
        assert "ноябрь 2027" in section["НазначениеПлатежа"]
    assert sections[3]["Сумма"] == "0.99" and sections[3]["ПолучательКПП"] == ""  # a sole trader has no КПП


def test_the_bank_file_refuses_what_windows_1251_cannot_say() -> None:
    order = dataclasses.replace(orders()[0], payee=dataclasses.replace(PROVIDER, name="ООО «Ромашка» 🌼"))
    with pytest.raises(UnicodeEncodeError):
        bank_exchange_bytes([order], CREATED)
    header, sections = parse_bank_exchange(bank_exchange_bytes([], CREATED))
    assert sections == [] and header["ДатаНачала"] == header["ДатаКонца"] == ["03.12.2027"]
    assert "РасчСчет" not in header


@given(st.lists(st.integers(0, 10**13), min_size=1, max_size=30))
def test_the_bank_file_sums_are_exact(amounts: list[int]) -> None:
    base = orders()[0]
    exported = [dataclasses.replace(base, number=str(n + 1), amount_kopecks=a) for n, a in enumerate(amounts)]
    _, sections = parse_bank_exchange(bank_exchange_bytes(exported, CREATED))
    assert [int(Decimal(s["Сумма"]) * 100) for s in sections] == amounts


# ---- CSV and XLSX ------------------------------------------------------------------------------

def _read_csv(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_the_order_register_as_csv() -> None:
    exported = orders()
    rows = _read_csv(csv_bytes(orders_sheet(exported)))
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header[0] == "Номер" and header[12] == "Сумма, ₽"
    assert [r[0] for r in body] == [o.number for o in exported]
    assert [r[12] for r in body] == ["12445,54", "1777,79", "4308,07", "0,99"]
    assert body[0][1] == "01.11.2027" and body[0][3] == "11.2027" and body[0][2] == "аванс"
    assert body[3][4] == "возвращено" and body[1][4] == "принято казначейством"
    assert totals[0] == "Итого поручений: 4" and totals[12] == "18532,39"
    assert Decimal(totals[12].replace(",", ".")) == sum(Decimal(r[12].replace(",", ".")) for r in body)


def test_the_order_register_as_xlsx() -> None:
    exported = orders()
    sheet = load_workbook(io.BytesIO(xlsx_bytes(orders_sheet(exported)))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Номер"
    body, totals = rows[1:-1], rows[-1]
    assert [r[0] for r in body] == [o.number for o in exported]
    assert [Decimal(str(r[12])) * 100 for r in body] == [o.amount_kopecks for o in exported]
    assert body[0][1] == dt.datetime(2027, 11, 1) and body[0][3] == dt.datetime(2027, 11, 1)
    assert sheet.cell(row=2, column=13).number_format == '#,##0.00 "₽"'
    assert sheet.cell(row=2, column=2).number_format == "DD.MM.YYYY"
    assert Decimal(str(totals[12])) == Decimal("18532.39") and totals[11] == 31


def test_the_invoices_as_csv_and_xlsx_one_row_per_contract() -> None:
    second = dataclasses.replace(INVOICE, parties=ZARECHNY_NOVEMBER, lines=contract_lines(3))
    sheet = invoices_sheet([INVOICE, second])
    rows = _read_csv(csv_bytes(sheet))
    body, totals = rows[1:-1], rows[-1]
    assert len(body) == 17
    assert {r[0] for r in body} == {invoice_number(INVOICE), invoice_number(second)}
    assert body[0][3] == ENSK.name and body[0][2] == "11.2027"
    assert body[2][7] == "ДО-0003-2027" and body[2][9] == "66,67"
    total = appendix_total(INVOICE.lines) + appendix_total(second.lines)
    assert totals[10] == f"{total // 100},{total % 100:02d}"
    book = load_workbook(io.BytesIO(xlsx_bytes(sheet))).active
    values = list(book.iter_rows(values_only=True))
    assert len(values) == 19
    assert Decimal(str(values[-1][10])) * 100 == total
    assert values[1][2] == dt.datetime.combine(NOVEMBER, dt.time())


cp1251_text = st.text(st.characters(codec="cp1251", exclude_categories=("Cs",)), min_size=1, max_size=60)


@given(cp1251_text, cp1251_text)
def test_any_name_the_bank_file_can_hold_reads_back_on_one_line(payer_name: str, payee_name: str) -> None:
    order = orders()[0]
    order = dataclasses.replace(order, payer=dataclasses.replace(order.payer, name=payer_name),
                                payee=dataclasses.replace(order.payee, name=payee_name))
    _, sections = parse_bank_exchange(bank_exchange_bytes([order], CREATED))
    assert sections[0]["Плательщик1"] == " ".join(payer_name.split())
    assert sections[0]["Получатель1"] == " ".join(payee_name.split())
