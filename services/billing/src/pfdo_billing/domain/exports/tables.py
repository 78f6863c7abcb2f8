"""The payment-order register and the invoices as tables, written as CSV (UTF-8 with a BOM,
``;``, CRLF: what a Russian spreadsheet opens directly) or XLSX (money as numbers in roubles)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Union

from openpyxl import Workbook

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import Money, document_number

from pfdo_billing.domain.documents import invoice as invoice_kind
from pfdo_billing.domain.documents.appendix import appendix_total
from pfdo_billing.domain.documents.facts import InvoiceFacts
from pfdo_billing.domain.exports.orders import KIND_TEXT, STATUS_TEXT, ExportedOrder

Cell = Union[str, int, Money, dt.date, None]
ROUBLE_FORMAT = '#,##0.00 "₽"'
MONTH_FORMAT = "MM.YYYY"
DATE_FORMAT = "DD.MM.YYYY"


@dataclass(frozen=True)
class MonthCell:
    """A month in a table: ``11.2027`` in CSV, the month's first day formatted ``MM.YYYY`` in XLSX."""

    day: dt.date


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell | MonthCell, ...], ...]
    totals: tuple[Cell | MonthCell, ...]


ORDER_COLUMNS = ("Номер", "Дата", "Вид", "Месяц", "Статус", "Плательщик", "ИНН плательщика", "Получатель",
                 "ИНН получателя", "Р/с получателя", "БИК", "Договоров", "Сумма, ₽", "Назначение платежа")


def orders_sheet(orders: Sequence[ExportedOrder]) -> Sheet:
    rows = tuple(
        (o.number, o.issued_on, KIND_TEXT[o.kind], MonthCell(o.month), STATUS_TEXT.get(o.status, o.status),
         o.payer.name, o.payer.inn, o.payee.name, o.payee.inn, o.payee.account, o.payee.bik, o.contracts,
         Money(o.amount_kopecks), o.purpose())
        for o in orders
    )
    totals = (f"Итого поручений: {len(orders)}", None, None, None, None, None, None, None, None, None, None,
              sum(o.contracts for o in orders), Money(sum(o.amount_kopecks for o in orders)), None)
    return Sheet("Платёжные поручения", ORDER_COLUMNS, rows, totals)


INVOICE_COLUMNS = ("Счёт №", "Дата счёта", "Месяц", "Плательщик", "ИНН плательщика", "Поставщик", "ИНН поставщика",
                   "Договор №", "Сертификат №", "Доля оказанной услуги, %", "Сумма, ₽")


def invoice_number(facts: InvoiceFacts) -> str:
    return document_number(invoice_kind.PREFIX, invoice_kind.KIND, facts.parties.identity())


def invoices_sheet(invoices: Sequence[InvoiceFacts]) -> Sheet:
    """One row per contract of each invoice's appendix; the total is the sum of the invoices."""
    rows = []
    for facts in invoices:
        p = facts.parties
        number = invoice_number(facts)
        for line in sorted(facts.lines, key=lambda x: (x.contract_number, x.certificate_number)):
            rows.append((number, facts.issued_on, MonthCell(p.month), p.payer.name, p.payer.inn, p.provider.name,
                         p.provider.inn, line.contract_number, line.certificate_number,
                         ru.share(line.delivered).replace("\u00a0%", ""), Money(line.amount_kopecks)))
    totals = (f"Итого счетов: {len(invoices)}", None, None, None, None, None, None, f"договоров: {len(rows)}", None,
              None, Money(sum(appendix_total(f.lines) for f in invoices)))
    return Sheet("Счета", INVOICE_COLUMNS, tuple(rows), totals)


def _csv_text(value: Cell | MonthCell) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return ru.roubles_with_comma(value.kopecks)
    if isinstance(value, MonthCell):
        return value.day.strftime("%m.%Y")
    if isinstance(value, dt.date):
        return ru.date(value)
    return str(value)


def csv_bytes(sheet: Sheet) -> bytes:
    """The sheet as CSV: UTF-8 with a BOM, ``;`` between cells, amounts ``1234,56``, dates ``15.11.2027``."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(sheet.columns)
    for row in (*sheet.rows, sheet.totals):
        writer.writerow([_csv_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_value(value: Cell | MonthCell) -> object:
    if isinstance(value, Money):
        return Decimal(value.kopecks) / 100
    if isinstance(value, MonthCell):
        return value.day.replace(day=1)
    return value


def xlsx_bytes(sheet: Sheet) -> bytes:
    """The sheet as an XLSX workbook: amounts as numbers in roubles, dates as dates, the header frozen."""
    book = Workbook()
    ws = book.active
    ws.title = sheet.title[:31]
    ws.append(list(sheet.columns))
    for row in (*sheet.rows, sheet.totals):
        ws.append([_xlsx_value(v) for v in row])
        for cell, value in zip(ws[ws.max_row], row, strict=True):
            if isinstance(value, Money):
                cell.number_format = ROUBLE_FORMAT
            elif isinstance(value, MonthCell):
                cell.number_format = MONTH_FORMAT
            elif isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
    for index, title in enumerate(sheet.columns):
        letter = ws.cell(row=1, column=index + 1).column_letter
        ws.column_dimensions[letter].width = max(12, min(48, len(title) + 4))
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
