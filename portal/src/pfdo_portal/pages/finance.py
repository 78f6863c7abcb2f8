"""The finance user's register of payment orders (``/finance``): the advance and final orders
billing issued, filtered by month, kind and provider, with their totals; and the same register
downloaded as ``/finance/orders.csv`` and ``/finance/orders.xlsx`` with the same filters
(:mod:`.finance_register` builds the rows and the files).

The finance user's only pages (``require_role("finance")``). Each order shows its number, its
payer and the treasury's status; the finance user marks an order accepted, paid or returned
(with the reason) — the same call the finance system makes through the gateway
(``POST /finance/orders/{id}/status``).
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pfdo_plumbing import clock

from ..auth import PortalUser, csrf_protect, require_role
from ..gateway import ApiError
from ..gateway import oversight as api
from ..rendering import SECURITY_HEADERS, access_token, render
from . import finance_register as register

router = APIRouter(include_in_schema=False, prefix="/finance")
finance_only = require_role("finance")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _register(request: Request) -> tuple[register.Filters, list[str], list[register.OrderRow], bool,
                                                   list[tuple[str, str]]]:
    filters, errors = register.read_filters(request.query_params)
    gateway, token = request.app.state.api, access_token(request)
    (orders, cut), providers = await asyncio.gather(
        api.payment_orders(gateway, token, month=filters.month, kind=filters.kind, provider_id=filters.provider_id),
        api.providers(gateway, token))
    names = {str(p["id"]): str(p["name"]) for p in providers}
    choices = sorted(names.items(), key=lambda item: item[1].casefold())
    return filters, errors, register.order_rows(orders, names), cut, choices


@router.get("", response_class=HTMLResponse)
async def orders_page(request: Request, user: PortalUser = Depends(finance_only)) -> HTMLResponse:
    return await _orders_page(request)


async def _orders_page(request: Request, refused: list[str] | None = None) -> HTMLResponse:
    filters, errors, rows, cut, providers = await _register(request)
    errors = [*errors, *(refused or [])]
    return render(request, "finance/orders.html", {
        "title": "Платёжные поручения", "nav_current": "finance", "filters": filters, "errors": errors,
        "rows": rows, "totals": register.totals(rows), "cut": cut, "providers": providers,
        "kinds": register.KINDS, "query": filters.query, "treasury_statuses": register.TREASURY_STATUSES,
        "done": request.query_params.get("done") == "status", "today": clock.today(),
    }, labels=await request.app.state.labels.book(access_token(request)), status_code=422 if errors else 200)


@router.post("/orders/{order_id}/status", dependencies=[Depends(csrf_protect)])
async def mark_order(request: Request, order_id: uuid.UUID, user: PortalUser = Depends(finance_only)) -> Response:
    """The treasury's status of an order, marked by the finance user; back to the register."""
    form = await request.form()
    body, problems = register.treasury_status_body(form, clock.today())
    if body is not None:
        try:
            await api.report_treasury_status(request.app.state.api, access_token(request) or "", str(order_id), body)
        except ApiError as exc:
            problems = [exc.message]
    if problems:
        return await _orders_page(request, refused=problems)
    back = str(form.get("back") or "")
    return RedirectResponse(f"/finance?{back + '&' if back else ''}done=status", status_code=303)


def _download(body: bytes, media_type: str, filename: str) -> Response:
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"',
               "Cache-Control": "no-store"}
    return Response(body, media_type=media_type, headers=headers)


@router.get("/orders.csv")
async def orders_csv(request: Request, user: PortalUser = Depends(finance_only)) -> Response:
    filters, _, rows, _, _ = await _register(request)
    return _download(register.csv_bytes(rows), "text/csv; charset=utf-8", register.export_name(filters, "csv"))


@router.get("/orders.xlsx")
async def orders_xlsx(request: Request, user: PortalUser = Depends(finance_only)) -> Response:
    filters, _, rows, _, _ = await _register(request)
    return _download(register.xlsx_bytes(rows), XLSX, register.export_name(filters, "xlsx"))
