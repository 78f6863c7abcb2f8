"""Documents billing serves to the parties of a payment order: the advance request of an advance
order, as PDF or as its canonical JSON (the same facts, with the number, version and content hash).

Parties only, as for the order itself: the provider its own orders, a municipal operator the
orders its municipality pays, the regional operator and finance all."""

from __future__ import annotations

import uuid
from enum import StrEnum

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import text

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.documents import issue, render_pdf, to_json
from pfdo_plumbing.http.problems import ProblemError

from pfdo_billing.domain.documents import advance_request_document
from pfdo_billing.service.documents import DocumentFactsMissing, advance_request_facts

from .context import SIGNED_IN, BillingContext, service_problems as _problems

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


class DocumentFormat(StrEnum):
    PDF = "pdf"
    JSON = "json"


@router.get("/payment-orders/{order_id}/advance-request", response_class=Response,
            operation_id="getAdvanceRequest",
            summary="The advance request of an advance order, as PDF or JSON (parties only)",
            description=("The provider's request for the month's advance from the payer: the contracts with their "
                         "certificate instalments, the percentage and the sum, both sides' bank details and the "
                         "agreement. `pdf` for people, `json` — the same facts in canonical JSON with the "
                         "document's number, version and SHA-256 content hash — for another system. 404 for an "
                         "order that is not an advance; 409 while billing lacks a party's bank details or the agreement."),
            responses={200: {"content": {"application/pdf": {}, "application/json": {"example": JSON_EXAMPLE}},
                             "description": "The document."},
                       **_problems(*SIGNED_IN, "not_found", "document_facts_missing")})
async def advance_request(
    b: BillingContext, order_id: uuid.UUID,
    format: DocumentFormat = Query(default=DocumentFormat.PDF, description="pdf or json."),
    who: Principal = Depends(require("billing.order.read")),
) -> Response:
    muni = (who.municipality or "--") if who.role == Role.MUNICIPAL_OPERATOR else None
    async with b.runtime.db.transaction() as session:
        order = (await session.execute(text(
            "SELECT * FROM payment_orders WHERE order_id = :o AND kind = 'advance' "
            "AND (CAST(:muni AS text) IS NULL OR payer_code = :muni)"), {"o": order_id, "muni": muni})).mappings().first()
        if order is None or (who.role == Role.PROVIDER and not who.is_provider(order["provider_id"])):
            raise ProblemError(404, "not_found", "advance order not found")
        try:
            facts = await advance_request_facts(session, dict(order), b.settings.advance_percent)
        except DocumentFactsMissing as exc:
            raise ProblemError(409, "document_facts_missing", str(exc), details={"what": exc.what_text}) from exc
    issued = issue(advance_request_document(facts))
    name = f"advance-request-{order['number']}"
    if format == DocumentFormat.JSON:
        return Response(to_json(issued), media_type="application/json",
                        headers={"Content-Disposition": f'inline; filename="{name}.json"'})
    return Response(render_pdf(issued), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})
