"""Agreements between providers and payers (соглашения с уполномоченным органом): the operator
concludes, changes the yearly limit of and ends them (``/operator/agreements``; a municipal
operator for its own municipality, the regional operator for any), the provider reads its own
(``/provider/agreements``). Without an agreement in force billing refuses every paid enrolment of
the payer's certificates with the provider (docs/domain-rules.md, "Agreements with payers").

The form is read here into the API's body (a Russian message next to each field typed wrong);
whatever the API still refuses comes back as the page with the API's words."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..auth import PortalUser, csrf_protect
from ..gateway import ApiError
from ..gateway import agreements as calls
from ..gateway import operator_money as money_calls
from ..gateway import oversight
from ..idempotency import new_key, submitted_key
from ..money_input import MoneyInputError, parse_roubles
from ..rendering import access_token, render
from . import operator_money_views as views
from .operator_money import _allowed_municipalities, operators_only
from .provider import provider_only

router = APIRouter(include_in_schema=False)

DONE = {
    "concluded": "Соглашение заключено.",
    "limit": "Лимит соглашения изменён.",
    "ended": "Соглашение расторгнуто: новые записи по нему невозможны, заключённые договоры продолжаются.",
}
FIELDS = ("number", "provider_id", "payer_code", "period_id", "limit", "concluded_on")


def agreement_form(form: Mapping[str, Any], *, providers: Mapping[str, str], payers: Mapping[str, str],
                   periods: Mapping[str, str]) -> views.Read:
    """The conclude form -> the API's body, or the messages by field."""
    values = {name: (form.get(name) or "").strip() if isinstance(form.get(name), str) else "" for name in FIELDS}
    errors: views.Errors = {}
    if not values["number"]:
        errors["number"] = "Укажите номер соглашения."
    elif len(values["number"]) > 40:
        errors["number"] = "Номер — не длиннее 40 знаков."
    for name, allowed, what in (("provider_id", providers, "организацию"), ("payer_code", payers, "муниципалитет"),
                                ("period_id", periods, "период")):
        if values[name] not in allowed:
            errors[name] = f"Выберите {what} из списка."
    limit = None
    try:
        limit = parse_roubles(values["limit"])
    except MoneyInputError as exc:
        errors["limit"] = exc.message
    concluded = None
    if values["concluded_on"]:
        try:
            concluded = dt.datetime.strptime(values["concluded_on"], "%d.%m.%Y").date()
        except ValueError:
            errors["concluded_on"] = "Дата в виде 25.08.2026."
    if errors:
        return views.Read(None, errors, values)
    body = {"number": values["number"], "provider_id": values["provider_id"], "payer_code": values["payer_code"],
            "period_id": values["period_id"], "limit_kopecks": limit,
            "concluded_on": concluded.isoformat() if concluded else None}
    return views.Read(body, {}, values)


async def _choices(request: Request, user: PortalUser) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(active providers, payers the operator may conclude for, periods not closed) as value -> name."""
    api, token = request.app.state.api, access_token(request) or ""
    providers, payers, periods = await asyncio.gather(
        oversight.providers(api, token), _allowed_municipalities(request, user), money_calls.periods(api, token))
    return ({str(p["id"]): p["name"] for p in providers if p.get("status") == "active"}, payers,
            {str(p["period_id"]): f"{dt.date.fromisoformat(str(p['starts_on'])):%d.%m.%Y} – "
                                  f"{dt.date.fromisoformat(str(p['ends_on'])):%d.%m.%Y}"
             for p in periods if p["status"] != "closed"})


async def _page(request: Request, user: PortalUser, *, error: str | None = None, fields: tuple[str, ...] = (),
                errors: Mapping[str, str] | None = None, values: Mapping[str, str] | None = None,
                status_code: int = 200) -> HTMLResponse:
    api, token = request.app.state.api, access_token(request) or ""
    (providers, payers, periods), found = await asyncio.gather(_choices(request, user), calls.agreements(api, token))
    context = {
        "title": "Соглашения", "nav_current": "operator", "section": "agreements", "agreements": found,
        "providers": providers, "payers": payers, "periods": periods,
        "notice": DONE.get(request.query_params.get("done", "")), "error": error, "fields": fields,
        "errors": errors or {}, "values": values or {}, "idempotency_key": new_key(),
    }
    return render(request, "operator/agreements.html", context, labels=await request.app.state.labels.book(),
                  status_code=status_code)


async def _refused(request: Request, user: PortalUser, exc: ApiError, values: Mapping[str, str]) -> HTMLResponse:
    if exc.status == 401 or exc.status >= 500:
        raise exc
    return await _page(request, user, error=views.FORBIDDEN if exc.status == 403 else exc.message,
                       fields=exc.field_messages, values=values, status_code=exc.status)


@router.get("/operator/agreements", response_class=HTMLResponse)
async def operator_agreements(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    return await _page(request, user)


@router.post("/operator/agreements", dependencies=[Depends(csrf_protect)])
async def conclude(request: Request, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    providers, payers, periods = await _choices(request, user)
    read = agreement_form(form, providers=providers, payers=payers, periods=periods)
    if read.body is None:
        return await _page(request, user, error="Проверьте соглашение.", errors=read.errors, values=read.values,
                           status_code=422)
    try:
        await calls.conclude(request.app.state.api, access_token(request) or "", read.body,
                             submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        return await _refused(request, user, exc, read.values)
    return RedirectResponse("/operator/agreements?done=concluded", status_code=303)


@router.post("/operator/agreements/{agreement_id}/limit", dependencies=[Depends(csrf_protect)])
async def change_limit(request: Request, agreement_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    typed = form.get("limit") if isinstance(form.get("limit"), str) else ""
    try:
        limit = parse_roubles(typed)
    except MoneyInputError as exc:
        return await _page(request, user, error=f"Новый лимит: {exc.message}", status_code=422)
    try:
        await calls.set_limit(request.app.state.api, access_token(request) or "", str(agreement_id), limit)
    except ApiError as exc:
        return await _refused(request, user, exc, {})
    return RedirectResponse("/operator/agreements?done=limit", status_code=303)


@router.post("/operator/agreements/{agreement_id}/end", dependencies=[Depends(csrf_protect)])
async def end(request: Request, agreement_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    try:
        await calls.end(request.app.state.api, access_token(request) or "", str(agreement_id))
    except ApiError as exc:
        return await _refused(request, user, exc, {})
    return RedirectResponse("/operator/agreements?done=ended", status_code=303)


@router.get("/provider/agreements", response_class=HTMLResponse)
async def provider_agreements(request: Request, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    api, token = request.app.state.api, access_token(request) or ""
    found, payers = await asyncio.gather(calls.agreements(api, token), api.municipality_names(token))
    context = {"title": "Соглашения", "section": "agreements", "nav_current": "provider", "payers": payers,
               "agreements": [a for a in found if str(a["provider_id"]) == str(user.provider_id)]}
    return render(request, "provider/agreements.html", context, labels=await request.app.state.labels.book())
