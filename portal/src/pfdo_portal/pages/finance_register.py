"""The finance user's register of payment orders: the filters read from the page's address, the
rows with the providers' names, the totals, and the same rows as CSV (UTF-8 with a BOM, ``;``
between fields, amounts in roubles with a decimal comma: what a Russian Excel opens as numbers)
and as XLSX (amounts as numbers in a rouble format, dates as dates).

Pure functions: the API's ``PaymentOrder`` items in, rows and bytes out. The amounts' meaning
(docs/domain-rules.md, months and payment orders): an advance pays a share of the month ahead; the
final settlement is what was posted for the month minus the advance paid and the offset carried
in from an earlier month; an overpayment is carried on as an offset.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

KINDS = {"advance": "Аванс", "final": "Окончательный расчёт"}
_MONTH = re.compile(r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Filters:
    month: str | None = None
    kind: str | None = None
    provider_id: str | None = None

    @property
    def query(self) -> str:
        """The filters as an address' query (for the export links), empty ones left out."""
        parts = [f"{name}={value}" for name, value in
                 (("month", self.month), ("kind", self.kind), ("provider", self.provider_id)) if value]
        return "&".join(parts)


def read_filters(params: Mapping[str, str]) -> tuple[Filters, list[str]]:
    """The filters of the address, and the messages for those that cannot be (left out)."""
    errors = []
    month = (params.get("month") or "").strip() or None
    if month and not _MONTH.match(month):
        errors.append("Месяц — в виде ГГГГ-ММ, например 2027-10.")
        month = None
    kind = (params.get("kind") or "").strip() or None
    if kind and kind not in KINDS:
        errors.append("Вид поручения — аванс или окончательный расчёт.")
        kind = None
    provider = (params.get("provider") or "").strip() or None
    if provider:
        try:
            provider = str(uuid.UUID(provider))
        except ValueError:
            errors.append("Такой организации нет.")
            provider = None
    return Filters(month, kind, provider), errors


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    month: str
    """``YYYY-MM``."""
    provider_id: str
    provider: str
    kind: str
    issued_on: dt.date
    contracts: int
    base_kopecks: int
    advance_paid_kopecks: int
    offset_applied_kopecks: int
    amount_kopecks: int
    offset_carried_kopecks: int
    number: str = ""
    payer_code: str = ""
    status: str = "issued"
    """The treasury's status: issued, accepted, paid or returned."""
    return_reason: str | None = None
    reissued: bool = False
    """A returned order issued again under a new number (its money is in the new one)."""

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def may_be_marked(self) -> bool:
        """The treasury may still report on it (paid and returned orders are final)."""
        return self.status in ("issued", "accepted")


def order_rows(orders: Iterable[Mapping[str, Any]], provider_names: Mapping[str, str]) -> list[OrderRow]:
    """The register's rows: the newest month first, then by provider name, the advance before the final."""
    rows = [OrderRow(
        order_id=str(o["order_id"]), month=str(o["month"]), provider_id=str(o["provider_id"]),
        provider=provider_names.get(str(o["provider_id"]), str(o["provider_id"])), kind=str(o["kind"]),
        issued_on=dt.date.fromisoformat(str(o["issued_on"])), contracts=int(o["contract_count"]),
        base_kopecks=int(o["base_kopecks"]), advance_paid_kopecks=int(o["advance_paid_kopecks"]),
        offset_applied_kopecks=int(o["offset_applied_kopecks"]), amount_kopecks=int(o["amount_kopecks"]),
        offset_carried_kopecks=int(o["offset_carried_kopecks"]), number=str(o.get("number") or ""),
        payer_code=str(o.get("payer_code") or ""), status=str(o.get("status") or "issued"),
        return_reason=o.get("return_reason"), reissued=bool(o.get("reissued_as")),
    ) for o in orders]
    kind_order = {"advance": 0, "final": 1}
    rows.sort(key=lambda r: (r.provider.casefold(), r.payer_code, kind_order.get(r.kind, 9), r.number, r.order_id))
    rows.sort(key=lambda r: r.month, reverse=True)
    return rows


@dataclass(frozen=True)
class Totals:
    orders: int
    advances: int
    finals: int
    amount_kopecks: int
    advance_kopecks: int
    final_kopecks: int


def totals(rows: Sequence[OrderRow]) -> Totals:
    rows = [r for r in rows if not r.reissued]  # a reissued order's money is in its reissue
    advances = [r for r in rows if r.kind == "advance"]
    finals = [r for r in rows if r.kind == "final"]
    return Totals(len(rows), len(advances), len(finals), sum(r.amount_kopecks for r in rows),
                  sum(r.amount_kopecks for r in advances), sum(r.amount_kopecks for r in finals))


# ---- the export ------------------------------------------------------------------------------

COLUMNS = ("Месяц", "Организация", "Вид поручения", "Дата формирования", "Договоров", "Начислено, ₽",
           "Аванс учтён, ₽", "Зачёт из прошлых месяцев, ₽", "К оплате, ₽", "Перенесено в зачёт, ₽",
           "Номер поручения")
MONEY_FIELDS = ("base_kopecks", "advance_paid_kopecks", "offset_applied_kopecks", "amount_kopecks",
                "offset_carried_kopecks")
ROUBLE_FORMAT = '#,##0.00 "₽"'


def roubles(kopecks: int) -> Decimal:
    return Decimal(kopecks) / 100


def roubles_text(kopecks: int) -> str:
    """``123456`` -> ``1234,56`` (no thousands separator: Excel reads it as a number)."""
    sign = "-" if kopecks < 0 else ""
    whole, rest = divmod(abs(kopecks), 100)
    return f"{sign}{whole},{rest:02d}"


def month_text(month: str) -> str:
    """``2027-10`` -> ``10.2027``."""
    return f"{month[5:7]}.{month[:4]}"


def csv_bytes(rows: Sequence[OrderRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([month_text(r.month), r.provider, r.kind_name, r.issued_on.strftime("%d.%m.%Y"), r.contracts,
                         *(roubles_text(getattr(r, f)) for f in MONEY_FIELDS), r.order_id])
    t = totals(rows)
    writer.writerow(["Итого", "", "", "", sum(r.contracts for r in rows),
                     *(roubles_text(sum(getattr(r, f) for r in rows)) for f in MONEY_FIELDS), f"поручений: {t.orders}"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: Sequence[OrderRow], *, title: str = "Платёжные поручения") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(list(COLUMNS))
    for r in rows:
        sheet.append([dt.date(int(r.month[:4]), int(r.month[5:7]), 1), r.provider, r.kind_name, r.issued_on,
                      r.contracts, *(roubles(getattr(r, f)) for f in MONEY_FIELDS), r.order_id])
    sheet.append(["Итого", None, None, None, sum(r.contracts for r in rows),
                  *(roubles(sum(getattr(r, f) for r in rows)) for f in MONEY_FIELDS), None])
    for row in sheet.iter_rows(min_row=2):
        row[0].number_format = "MM.YYYY"
        row[3].number_format = "DD.MM.YYYY"
        for cell in row[5:10]:
            cell.number_format = ROUBLE_FORMAT
    for letter, width in zip("ABCDEFGHIJK", (10, 36, 22, 14, 10, 16, 16, 18, 16, 18, 38), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export_name(filters: Filters, extension: str) -> str:
    """``payment-orders-2027-10-final.csv``: the file's name says its filters."""
    parts = ["payment-orders", filters.month, filters.kind]
    return "-".join(p for p in parts if p) + f".{extension}"


# ---- the treasury's status of an order --------------------------------------------------------

TREASURY_STATUSES = {"accepted": "Принято казначейством", "paid": "Оплачено", "returned": "Возвращено"}


def treasury_status_body(form: Mapping[str, Any], today: dt.date) -> tuple[dict[str, Any] | None, list[str]]:
    """The API's body for the finance user's status of an order, or the messages of what is wrong."""
    errors = []
    status = str(form.get("status") or "").strip()
    if status not in TREASURY_STATUSES:
        errors.append("Выберите статус: принято, оплачено или возвращено.")
    raw_date = str(form.get("status_on") or "").strip()
    try:
        status_on = dt.date.fromisoformat(raw_date) if raw_date else today
    except ValueError:
        errors.append("Дата — в виде ДД.ММ.ГГГГ.")
        status_on = today
    reason = str(form.get("reason") or "").strip() or None
    if status == "returned" and not reason:
        errors.append("Укажите причину возврата.")
    reference = str(form.get("treasury_reference") or "").strip()[:64] or None
    if errors:
        return None, errors
    return {"status": status, "status_on": status_on.isoformat(), "treasury_reference": reference,
            "reason": reason[:500] if reason else None}, []
