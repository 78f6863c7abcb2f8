"""Exports of the payment-order register (CSV, XLSX and the 1CClientBankExchange bank file) and of
the invoices with their appendices (CSV, XLSX).

Parties only: a provider gets its own orders, a municipal operator the orders its municipality
pays, the regional operator and finance all (the same scope as the order list)."""

from __future__ import annotations

import uuid
from enum import StrEnum

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from pfdo_plumbing import clock
from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.params import YearMonth, first_day
from pfdo_plumbing.http.problems import ProblemError

from pfdo_billing.domain.exports import bank_exchange_bytes, csv_bytes, invoices_sheet, orders_sheet, xlsx_bytes
from pfdo_billing.domain.treasury import OrderStatus
from pfdo_billing.service.documents import DocumentFactsMissing, invoices_for_export
from pfdo_billing.service.exports import OrderFilter, orders_for_export

from .context import SIGNED_IN, BillingContext, service_problems as _problems
from .payment_orders import OrderKind

router = APIRouter(tags=["billing"])


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    BANK_1C = "1c"


MEDIA = {
    ExportFormat.CSV: ("text/csv; charset=utf-8", "csv"),
    ExportFormat.XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    ExportFormat.BANK_1C: ("text/plain; charset=windows-1251", "txt"),
}


def _file_name(month: str | None, provider_id: uuid.UUID | None, payer_code: str | None, extension: str,
               what: str = "payment-orders") -> str:
    parts = [what, month or "all"]
    if payer_code:
        parts.append(f"payer-{payer_code}")
    if provider_id:
        parts.append(str(provider_id)[:8])
    return "-".join(parts) + f".{extension}"


@router.get("/exports/payment-orders", response_class=Response, operation_id="exportPaymentOrders",
            summary="The payment-order register as CSV, XLSX or a 1C bank file (parties only)",
            description=("The orders of the filters as a file: `csv` (UTF-8 with BOM, `;`), `xlsx`, or `1c` — the "
                         "1CClientBankExchange text file (Windows-1251) that accounting software imports, one "
                         "section per order with both sides' bank details; `1c` answers 409 when billing has not "
                         "received a payee's or payer's details. Providers get their own orders, municipal "
                         "operators the orders their municipality pays."),
            responses={200: {"content": {m: {} for m, _ in MEDIA.values()},
                             "description": "The file (Content-Disposition: attachment)."},
                       **_problems(*SIGNED_IN, "party_details_missing")})
async def export_orders(
    b: BillingContext,
    format: ExportFormat = Query(description="csv, xlsx or 1c."),
    month: YearMonth | None = Query(default=None, description="Only this month, 'YYYY-MM'."),
    provider_id: uuid.UUID | None = Query(default=None, description="Only this provider's orders."),
    payer_code: str | None = Query(default=None, pattern=r"^[0-9]{2}$", description="Only this payer's orders."),
    kind: OrderKind | None = Query(default=None, description="advance or final."),
    status: OrderStatus | None = Query(default=None, description="Only orders in this treasury status."),
    who: Principal = Depends(require("billing.order.read")),
) -> Response:
    if who.role == Role.PROVIDER:
        if provider_id is not None and not who.is_provider(provider_id):
            provider_id = uuid.UUID(int=0)  # another provider's orders: none
        else:
            provider_id = uuid.UUID(who.provider_id) if who.provider_id else uuid.UUID(int=0)
    municipality = (who.municipality or "--") if who.role == Role.MUNICIPAL_OPERATOR else None
    filters = OrderFilter(provider_id=provider_id, month=first_day(month) if month else None,
                          kind=kind.value if kind else None, payer_code=payer_code,
                          status=status.value if status else None, municipality=municipality)
    async with b.runtime.db.transaction() as session:
        found = await orders_for_export(session, filters)
    media, extension = MEDIA[format]
    if format == ExportFormat.BANK_1C:
        if found.without_details:
            raise ProblemError(409, "party_details_missing", "bank details of a payee or payer not received",
                               details={"orders": ", ".join(found.without_details[:10])})
        body = bank_exchange_bytes(found.orders, clock.now(b.tz).replace(tzinfo=None))
    elif format == ExportFormat.XLSX:
        body = xlsx_bytes(orders_sheet(found.orders))
    else:
        body = csv_bytes(orders_sheet(found.orders))
    name = _file_name(month, provider_id if who.role != Role.PROVIDER else None, payer_code, extension)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class InvoiceExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@router.get("/exports/invoices", response_class=Response, operation_id="exportInvoices",
            summary="The providers' monthly invoices with their appendices as CSV or XLSX (parties only)",
            description=("One row per contract of each invoice's appendix (invoice №, date, month, payer, provider, "
                         "contract №, certificate №, share delivered, sum) for the months closed for their payers, "
                         "with the total of the invoices: `csv` (UTF-8 with BOM, `;`) or `xlsx`. Providers get "
                         "their own invoices, municipal operators those their municipality pays. 409 when billing "
                         "lacks a fact of an invoice (bank details, the agreement, a certificate's number)."),
            responses={200: {"content": {MEDIA[ExportFormat.CSV][0]: {}, MEDIA[ExportFormat.XLSX][0]: {}},
                             "description": "The file (Content-Disposition: attachment)."},
                       **_problems(*SIGNED_IN, "document_facts_missing")})
async def export_invoices(
    b: BillingContext,
    format: InvoiceExportFormat = Query(description="csv or xlsx."),
    month: YearMonth | None = Query(default=None, description="Only this month, 'YYYY-MM'."),
    provider_id: uuid.UUID | None = Query(default=None, description="Only this provider's invoices."),
    payer_code: str | None = Query(default=None, pattern=r"^[0-9]{2}$", description="Only this payer's invoices."),
    who: Principal = Depends(require("billing.order.read")),
) -> Response:
    if who.role == Role.PROVIDER:
        if provider_id is not None and not who.is_provider(provider_id):
            provider_id = uuid.UUID(int=0)  # another provider's invoices: none
        else:
            provider_id = uuid.UUID(who.provider_id) if who.provider_id else uuid.UUID(int=0)
    if who.role == Role.MUNICIPAL_OPERATOR:  # its municipality's invoices only (another payer's: none)
        payer_code = (who.municipality or "--") if payer_code in (None, who.municipality) else "--"
    async with b.runtime.db.transaction() as session:
        try:
            invoices = await invoices_for_export(session, provider_id=provider_id, payer_code=payer_code,
                                                 month=first_day(month) if month else None)
        except DocumentFactsMissing as exc:
            raise ProblemError(409, "document_facts_missing", str(exc), details={"what": exc.what_text}) from exc
    sheet = invoices_sheet(invoices)
    body = xlsx_bytes(sheet) if format == InvoiceExportFormat.XLSX else csv_bytes(sheet)
    media, extension = MEDIA[ExportFormat(format.value)]
    name = _file_name(month, provider_id if who.role != Role.PROVIDER else None, payer_code, extension, "invoices")
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
