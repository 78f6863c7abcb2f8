"""Documents billing serves to the parties: the provider's monthly invoice per payer with its
appendix, the act, and the advance request of an advance order, as PDF or as canonical JSON (the
same facts, with the number, version and content hash); and the list of the documents issued.

Every document is stored when issued (``service.document_store``): the same facts answer the
stored version, changed facts a new version under the same number; an earlier version stays
served with ``version``.

Parties only, as for the orders: the provider its own, a municipal operator what its
municipality pays, the regional operator and finance all; anyone else 404."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import text

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.documents import Document, document_number
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.params import YearMonth, first_day
from pfdo_plumbing.http.problems import ProblemError

from pfdo_billing.domain.documents import act as act_kind
from pfdo_billing.domain.documents import act_document, advance_request_document, invoice_document
from pfdo_billing.domain.documents import advance_request as advance_kind
from pfdo_billing.domain.documents import invoice as invoice_kind
from pfdo_billing.service import document_store
from pfdo_billing.service.document_store import DocumentFilter, StoredDocument, Subject
from pfdo_billing.service.documents import (
    DocumentFactsMissing, MonthlyFacts, MonthNotClosed, NoFinalOrder, advance_request_facts, monthly_facts,
)

from . import schemas as s
from .context import SIGNED_IN, BillingContext, provider_filter, service_problems as _problems

router = APIRouter(tags=["billing"])


JSON_EXAMPLE = {
    "format": "pfdo-document/1", "kind": "advance_request", "number": "ЗА-F5DB-A5EB-70E1", "version": 1,
    "content_hash": "82e8de4a866d7264b1f0c1d1e36a5a7b1f2a0c77e0b5c5b8d3e1a9f0c2d4e6f8",
    "identity": ["5a3c8f0e-1d2b-4c6a-9e7f-0b1c2d3e4f50", "01", "2026-12"], "date": "2026-12-01",
    "title": "Заявка на авансовый платёж за декабрь 2026", "timezone": "Europe/Moscow",
    "parties": [{"role": "Поставщик (получатель)", "name": "АНО ДО «Кванториум»",
                 "details": [{"label": "ИНН", "value": "4826012345"}]}],
    "sections": [{"type": "fields", "heading": "Расчёт аванса", "lines": [
        {"label": "Месяц", "value": {"month": "2026-12"}},
        {"label": "Сумма аванса", "value": {"kopecks": 337779}}]},
        {"type": "table", "heading": "Договоры", "columns": ["№ п/п", "Договор №", "Платёж по сертификату за месяц"],
         "rows": [[1, "ДО-4350-4233-2BE0", {"kopecks": 422224}]], "totals": ["Итого", None, {"kopecks": 422224}]}],
    "signatures": [{"role": "Руководитель поставщика", "name": "АНО ДО «Кванториум»", "signed_at": None, "note": ""}],
    "appendix": [],
}
"""What the JSON form looks like (shortened)."""

INVOICE_EXAMPLE = {
    "format": "pfdo-document/1", "kind": "invoice", "number": "СЧ-1A2B-3C4D-5E6F", "version": 1,
    "content_hash": "5d41402abc4b2a76b9719d911017c592ae1f2d3c4b5a69788796a5b4c3d2e1f0",
    "identity": ["3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48", "01", "2027-10"], "date": "2027-11-03",
    "title": "Счёт на оплату образовательных услуг за октябрь 2027", "timezone": "Europe/Moscow",
    "parties": [{"role": "Поставщик (получатель)", "name": "АНО ДО «Кванториум»",
                 "details": [{"label": "ИНН", "value": "4826012345"}]}],
    "sections": [{"type": "fields", "heading": "Основание", "lines": [
        {"label": "Соглашение", "value": "№ 15-ПФ/2027 от 25.08.2027"},
        {"label": "Платёжное поручение", "value": "№ 2027-000123"}]}],
    "signatures": [{"role": "Руководитель поставщика", "name": "АНО ДО «Кванториум»", "signed_at": None, "note": ""}],
    "appendix": [{"type": "table", "heading": "Реестр договоров",
                  "columns": ["№ п/п", "Договор №", "Сертификат №", "Доля оказанной услуги", "Сумма"],
                  "rows": [[1, "ДО-4350-4233-2BE0", "4801000123", {"share": "1/1"}, {"kopecks": 422224}]],
                  "totals": ["Итого", None, None, None, {"kopecks": 422224}]}],
}
"""The invoice's JSON (shortened); the act's has the same shape."""


class DocumentFormat(StrEnum):
    PDF = "pdf"
    JSON = "json"


FORMAT_QUERY = Query(default=DocumentFormat.PDF, description="pdf or json.")
VERSION_QUERY = Query(default=None, ge=1, le=1_000_000,
                      description="An earlier version (default: the document as of now).")


def _file(document: StoredDocument, format: DocumentFormat, name: str) -> Response:
    name = f"{name}-v{document.version}"
    headers = {"X-Document-Version": str(document.version)}
    if format == DocumentFormat.JSON:
        return Response(document.canonical_json, media_type="application/json",
                        headers={**headers, "Content-Disposition": f'inline; filename="{name}.json"'})
    return Response(document.pdf, media_type="application/pdf",
                    headers={**headers, "Content-Disposition": f'attachment; filename="{name}.pdf"'})


def _is_party(who: Principal, provider_id: uuid.UUID | str, payer_code: str) -> bool:
    """The provider itself, the payer's municipal operator, the regional operator, finance."""
    if who.role == Role.PROVIDER:
        return who.is_provider(provider_id)
    if who.role == Role.MUNICIPAL_OPERATOR:
        return who.municipality == payer_code
    return who.role in (Role.REGIONAL_OPERATOR, Role.FINANCE)


async def _stored_version(b: BillingContext, number: str, version: int) -> StoredDocument:
    async with b.runtime.db.transaction() as session:
        found = await document_store.stored(session, number, version)
    if found is None:
        raise ProblemError(404, "not_found", f"document {number} has no version {version}")
    return found


@router.get("/payment-orders/{order_id}/advance-request", response_class=Response,
            operation_id="getAdvanceRequest",
            summary="The advance request of an advance order, as PDF or JSON (parties only)",
            description=("The provider's request for the month's advance from the payer: the contracts with their "
                         "certificate instalments, the percentage and the sum, both sides' bank details and the "
                         "agreement. `pdf` for people, `json` — the same facts in canonical JSON with the "
                         "document's number, version and SHA-256 content hash — for another system. Stored when "
                         "issued: changed facts make a new version, `version` serves an earlier one. 404 for an "
                         "order that is not an advance; 409 while billing lacks a party's bank details or the agreement."),
            responses={200: {"content": {"application/pdf": {}, "application/json": {"example": JSON_EXAMPLE}},
                             "description": "The document."},
                       **_problems(*SIGNED_IN, "not_found", "document_facts_missing")})
async def advance_request(
    b: BillingContext, order_id: uuid.UUID,
    format: DocumentFormat = FORMAT_QUERY,
    version: int | None = VERSION_QUERY,
    who: Principal = Depends(require("billing.order.read")),
) -> Response:
    async with b.runtime.db.transaction() as session:
        order = (await session.execute(text(
            "SELECT * FROM payment_orders WHERE order_id = :o AND kind = 'advance'"), {"o": order_id})).mappings().first()
        if order is None or not _is_party(who, order["provider_id"], order["payer_code"]):
            raise ProblemError(404, "not_found", "advance order not found")
        name = f"advance-request-{order['number']}"
        if version is None:
            try:
                facts = await advance_request_facts(session, dict(order), b.settings.advance_percent)
            except DocumentFactsMissing as exc:
                raise ProblemError(409, "document_facts_missing", str(exc), details={"what": exc.what_text}) from exc
            document = await document_store.store(session, advance_request_document(facts),
                                                  Subject(order["provider_id"], order["payer_code"], order["month"]))
            return _file(document, format, name)
        number = document_number(advance_kind.PREFIX, advance_kind.KIND,
                                 (str(order["provider_id"]), order["payer_code"], f"{order['month']:%Y-%m}"))
    return _file(await _stored_version(b, number, version), format, name)


class MonthlyKind(StrEnum):
    INVOICE = "invoice"
    ACT = "act"


_MONTHLY = {
    MonthlyKind.INVOICE: (invoice_kind.PREFIX, invoice_kind.KIND, lambda f: invoice_document(f.invoice)),
    MonthlyKind.ACT: (act_kind.PREFIX, act_kind.KIND, lambda f: act_document(f.act)),
}


async def _monthly_document(b: BillingContext, who: Principal, kind: MonthlyKind, provider_id: uuid.UUID,
                            payer_code: str, month: str, format: DocumentFormat, version: int | None) -> Response:
    if not _is_party(who, provider_id, payer_code):
        raise ProblemError(404, "not_found", f"no {kind.value} of this provider and payer for you")
    prefix, kind_name, build = _MONTHLY[kind]
    day = first_day(month)
    name = f"{kind.value}-{month}-payer-{payer_code}-{str(provider_id)[:8]}"
    if version is not None:
        number = document_number(prefix, kind_name, (str(provider_id), payer_code, month))
        return _file(await _stored_version(b, number, version), format, name)
    async with b.runtime.db.transaction() as session:
        try:
            facts: MonthlyFacts = await monthly_facts(session, provider_id, payer_code, day)
        except MonthNotClosed as exc:
            raise ProblemError(409, "month_not_closed", str(exc), details={"month": month}) from exc
        except NoFinalOrder as exc:
            raise ProblemError(404, "not_found", str(exc)) from exc
        except DocumentFactsMissing as exc:
            raise ProblemError(409, "document_facts_missing", str(exc), details={"what": exc.what_text}) from exc
        built: Document = build(facts)
        document = await document_store.store(session, built, Subject(provider_id, payer_code, day))
    return _file(document, format, name)


_MONTHLY_PROBLEMS = _problems(*SIGNED_IN, "not_found", "month_not_closed", "document_facts_missing")
ProviderQuery = Annotated[uuid.UUID, Query(description="The provider (payee).")]
PayerQuery = Annotated[str, Query(pattern=r"^[0-9]{2}$", description="The payer: the municipality's 2-digit code.")]
MonthQuery = Annotated[YearMonth, Query(description="The month, 'YYYY-MM' (2000-01..2100-12).")]
"""(The month's pattern holds only in this form, not as ``= Query(...)``.)"""


@router.get("/documents/invoice", response_class=Response, operation_id="getMonthlyInvoice",
            summary="The provider's invoice to a payer for a month, with its appendix, as PDF or JSON (parties only)",
            description=("The invoice for the services delivered in the month under the payer's certificates, "
                         "from the month's final payment order and its lines: the appendix lists each contract "
                         "(contract №, certificate №, share of the month delivered, sum); the advance paid and "
                         "the offset carried are deducted. Made once the month is closed for the payer (409 "
                         "`month_not_closed` before); 404 when the provider has no final order from this payer "
                         "for the month. Stored when issued: changed facts (a reissued order, new bank details) "
                         "make a new version under the same number; `version` serves an earlier one. The "
                         "provider its own, a municipal operator its municipality's, the regional operator and "
                         "finance all."),
            responses={200: {"content": {"application/pdf": {}, "application/json": {"example": INVOICE_EXAMPLE}},
                             "description": "The document."}, **_MONTHLY_PROBLEMS})
async def monthly_invoice(
    b: BillingContext,
    provider_id: ProviderQuery, payer_code: PayerQuery, month: MonthQuery,
    format: DocumentFormat = FORMAT_QUERY, version: int | None = VERSION_QUERY,
    who: Principal = Depends(require("billing.order.read")),
) -> Response:
    return await _monthly_document(b, who, MonthlyKind.INVOICE, provider_id, payer_code, month, format, version)


@router.get("/documents/act", response_class=Response, operation_id="getMonthlyAct",
            summary="The act of services delivered to a payer in a month, as PDF or JSON (parties only)",
            description=("The act (акт об оказании услуг) of the month for the payer, with the register of "
                         "contracts (contract №, certificate №, share delivered, sum), from the month's final "
                         "payment order. Made once the month is closed for the payer (409 `month_not_closed` "
                         "before). Stored and versioned like the invoice; `version` serves an earlier one."),
            responses={200: {"content": {"application/pdf": {}, "application/json": {"example": INVOICE_EXAMPLE}},
                             "description": "The document."}, **_MONTHLY_PROBLEMS})
async def monthly_act(
    b: BillingContext,
    provider_id: ProviderQuery, payer_code: PayerQuery, month: MonthQuery,
    format: DocumentFormat = FORMAT_QUERY, version: int | None = VERSION_QUERY,
    who: Principal = Depends(require("billing.order.read")),
) -> Response:
    return await _monthly_document(b, who, MonthlyKind.ACT, provider_id, payer_code, month, format, version)


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    ACT = "act"
    ADVANCE_REQUEST = "advance_request"


@router.get("/documents", response_model=Page[s.StoredDocumentOut], operation_id="listDocuments",
            summary="The documents billing has issued, every version (parties only)",
            description=("The stored invoices, acts and advance requests with their number, version, kind, "
                         "provider, payer, month and content hash, by month, number and version; paged with "
                         "`limit` and `cursor`. Providers see their own, municipal operators their "
                         "municipality's."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_documents(
    b: BillingContext,
    provider_id: uuid.UUID | None = Query(default=None, description="Only this provider's documents."),
    month: YearMonth | None = Query(default=None, description="Only this month, 'YYYY-MM'."),
    payer_code: str | None = Query(default=None, pattern=r"^[0-9]{2}$", description="Only this payer's documents."),
    kind: DocumentKind | None = Query(default=None, description="invoice, act or advance_request."),
    paging: PageRequest = Depends(paging_params(default=200, maximum=1000)),
    who: Principal = Depends(require("billing.order.read")),
) -> dict:
    provider_id = provider_filter(who, provider_id)
    if who.role == Role.MUNICIPAL_OPERATOR:
        if payer_code is not None and payer_code != who.municipality:
            return {"items": [], "next_cursor": None}
        payer_code = who.municipality or "--"
    scope = f"documents|{provider_id}|{month}|{payer_code}|{kind}"
    after = paging.after_keyset(scope, dt.date.fromisoformat, str, int)
    filters = DocumentFilter(provider_id=provider_id, payer_code=payer_code, month=first_day(month) if month else None,
                             kind=kind.value if kind else None)
    async with b.runtime.db.transaction() as session:
        rows = await document_store.listed(session, filters, after, paging.limit + 1)  # type: ignore[arg-type]
    return paging.page([{**r, "month": f"{r['month']:%Y-%m}"} for r in rows], scope,
                       lambda r: [f"{r['month']}-01", r["number"], r["version"]])
