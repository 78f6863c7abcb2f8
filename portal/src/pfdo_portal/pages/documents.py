"""Billing's documents downloaded through the portal (``/documents/...``): the monthly invoice and
act of a provider and a payer, the advance request of an advance order — as PDF, or as the JSON
another system checks; and the invoices' export (``/documents/invoices.csv`` or ``.xlsx``).

The portal fetches the file from the API with the person's token and passes it on; the API
decides who is a party (the provider its own, a municipal operator its municipality's, the
regional operator and finance all), so another side's document is not found.

Linked from the provider's order page, the operator's closed month and the finance register;
:func:`invoice_link`, :func:`act_link`, :func:`advance_request_link` build the addresses.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from ..auth import PortalUser, require_role
from ..rendering import SECURITY_HEADERS, access_token

router = APIRouter(include_in_schema=False, prefix="/documents")
parties = require_role("provider", "municipal_operator", "regional_operator", "finance")

Format = Literal["pdf", "json"]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
PayerCode = Annotated[str, Query(pattern=r"^\d{2}$")]
Version = Annotated[int | None, Query(ge=1, le=1_000_000)]


def _monthly_link(kind: str, provider_id: str, payer_code: str, month: str, format: Format) -> str:
    query = urlencode({"provider_id": provider_id, "payer_code": payer_code, "month": month, "format": format})
    return f"/documents/{kind}?{query}"


def invoice_link(provider_id: str, payer_code: str, month: str, format: Format = "pdf") -> str:
    """The provider's invoice to the payer for the month ('YYYY-MM')."""
    return _monthly_link("invoice", provider_id, payer_code, month, format)


def act_link(provider_id: str, payer_code: str, month: str, format: Format = "pdf") -> str:
    return _monthly_link("act", provider_id, payer_code, month, format)


def advance_request_link(order_id: str, format: Format = "pdf") -> str:
    return f"/documents/advance-request/{order_id}?format={format}"


async def _pass_on(request: Request, path: str, params: dict[str, str | int]) -> Response:
    file = await request.app.state.api.download(path, token=access_token(request), params=params)
    disposition = "inline" if file.media_type.startswith("application/json") else "attachment"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'{disposition}; filename="{file.filename}"',
               "Cache-Control": "no-store"}
    return Response(file.body, media_type=file.media_type, headers=headers)


def _given(**values: object) -> dict[str, str | int]:
    """The query of an API call: the values given (None left out)."""
    return {name: value if isinstance(value, int) else str(value) for name, value in values.items()
            if value is not None}


@router.get("/invoice")
async def invoice(request: Request, provider_id: uuid.UUID, payer_code: PayerCode, month: Month,
                  format: Format = "pdf", version: Version = None, user: PortalUser = Depends(parties)) -> Response:
    return await _pass_on(request, "billing/documents/invoice", _given(
        provider_id=provider_id, payer_code=payer_code, month=month, format=format, version=version))


@router.get("/act")
async def act(request: Request, provider_id: uuid.UUID, payer_code: PayerCode, month: Month,
              format: Format = "pdf", version: Version = None, user: PortalUser = Depends(parties)) -> Response:
    return await _pass_on(request, "billing/documents/act", _given(
        provider_id=provider_id, payer_code=payer_code, month=month, format=format, version=version))


@router.get("/advance-request/{order_id}")
async def advance_request(request: Request, order_id: uuid.UUID, format: Format = "pdf",
                          user: PortalUser = Depends(parties)) -> Response:
    return await _pass_on(request, f"billing/payment-orders/{order_id}/advance-request", {"format": format})


@router.get("/invoices.{extension}")
async def invoices_export(request: Request, extension: Literal["csv", "xlsx"], month: Month | None = None,
                          provider_id: uuid.UUID | None = None, payer_code: PayerCode | None = None,
                          user: PortalUser = Depends(parties)) -> Response:
    """The invoices with their appendices (one row per contract) as CSV or XLSX; the API keeps each
    party to its own."""
    return await _pass_on(request, "billing/exports/invoices", _given(
        format=extension, month=month, provider_id=provider_id, payer_code=payer_code))
