"""The provider's payment orders (``/provider/orders``): per month the advance and the final
settlement billing issued to the organisation, with their sums, and each order's lines — the
contracts it pays for (docs/domain-rules.md: months, advances and final settlement)."""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..auth import PortalUser
from ..gateway import organisation as api
from ..rendering import access_token, render
from . import provider_forms as forms
from .provider import provider_only

router = APIRouter(include_in_schema=False)


async def group_names(request: Request, user: PortalUser) -> dict[str, str]:
    """module id -> «program: group» of the organisation's modules."""
    programs = await api.programs(request.app.state.api, access_token(request), str(user.provider_id))
    return {str(m["id"]): f"{p['name']}: {m['name']}" for p in programs for m in p.get("modules") or ()}


@router.get("/provider/orders", response_class=HTMLResponse)
async def orders(request: Request, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    found = await api.payment_orders(request.app.state.api, access_token(request), str(user.provider_id))
    context = {"title": "Платёжные поручения", "section": "orders", "nav_current": "provider",
               "months": forms.orders_by_month(found)}
    return render(request, "provider/orders.html", context, labels=await request.app.state.labels.book(access_token(request)))


@router.get("/provider/orders/{order_id}", response_class=HTMLResponse)
async def order(request: Request, order_id: uuid.UUID, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    token, gateway = access_token(request), request.app.state.api
    found, enrolments, groups = await asyncio.gather(
        api.payment_order(gateway, token, str(order_id)), api.enrolments(gateway, token), group_names(request, user))
    if str(found["provider_id"]) != str(user.provider_id):
        raise HTTPException(404, "Такого платёжного поручения нет среди поручений вашей организации.")
    contracts = {str(e["enrolment_id"]): e for e in enrolments}
    context = {"title": "Платёжное поручение", "section": "orders", "nav_current": "provider", "order": found,
               "contracts": contracts, "groups": groups}
    return render(request, "provider/order.html", context, labels=await request.app.state.labels.book(access_token(request)))
