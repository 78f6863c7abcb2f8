"""The operator's money pages (municipal and regional operators): program periods with their
nominals and caps (/operator/periods), closing a month with its progress (/operator/months) and
the ledger's reconciliation (/operator/reconciliation).

A page offers only what the operator's role may do (docs/domain-rules.md: a municipal operator
sets its municipality's nominals and caps; the regional operator also opens and closes periods,
freezes a month's journal, issues the advances and closes the month); whatever the API still
refuses comes back as the page with the API's words next to the fields, a 403 as a plain sentence.

A month's close runs chunk by chunk in one API call that may take minutes: the portal starts it
in the background and sends the operator to the month's page, which reads billing's progress
every second (htmx) or on the «Обновить» link without JavaScript. The close is resumable: if the
call is cut short, «Закрыть месяц» again goes on where it stopped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pfdo_plumbing import clock
from pfdo_plumbing.auth.principal import Role
from pfdo_plumbing.logging import get_logger

from ..auth import PortalUser, csrf_protect, require_role
from ..gateway import ApiError, GatewayApi
from ..gateway import operator_money as calls
from ..idempotency import new_key, submitted_key
from ..rendering import access_token, render
from . import operator_money_views as views

log = get_logger(__name__)
router = APIRouter(include_in_schema=False, prefix="/operator")
operators_only = require_role(Role.MUNICIPAL_OPERATOR, Role.REGIONAL_OPERATOR)

FIRST_ANSWER_S = 1.5
"""How long the close's form waits for the API before showing the progress (a refused close, say
because the journal is still open, answers at once)."""

_closing: dict[str, asyncio.Task[Any]] = {}
"""The month closes this process has running, by month (one at a time per month)."""


def _role(user: PortalUser) -> str:
    return str(getattr(user.role, "value", user.role))


def _refusal(exc: ApiError) -> str:
    return views.FORBIDDEN if exc.status == 403 else exc.message


def _month_or_404(month: str) -> str:
    if views.parse_month(month) is None:
        raise HTTPException(404)
    return month


# ---- periods -------------------------------------------------------------------------------------

async def _allowed_municipalities(request: Request, user: PortalUser) -> dict[str, str]:
    """The municipalities the operator sets nominals and caps for: all for the region, its own otherwise."""
    names = await calls.municipalities(request.app.state.api, access_token(request) or "")
    if _role(user) == views.REGIONAL:
        return dict(sorted(names.items()))
    return {user.municipality: names.get(user.municipality, user.municipality)} if user.municipality else {}


async def _terms(api: GatewayApi, token: str, chosen: Mapping[str, Any] | None) -> tuple[list[Any], list[Any]]:
    """The chosen period's nominals and caps as set (none without a period)."""
    if chosen is None:
        return [], []
    period_id = str(chosen["period_id"])
    nominals, caps = await asyncio.gather(calls.nominals(api, token, period_id), calls.caps(api, token, period_id))
    return nominals, caps


async def _periods_page(request: Request, user: PortalUser, *, asked: str | None = None, error: str | None = None,
                        fields: tuple[str, ...] = (), form: str | None = None, errors: Mapping[str, str] | None = None,
                        values: Mapping[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    api, token = request.app.state.api, access_token(request) or ""
    labels = await request.app.state.labels.book(access_token(request))
    periods, municipalities = await asyncio.gather(calls.periods(api, token), _allowed_municipalities(request, user))
    chosen = views.chosen_period(periods, asked or request.query_params.get("period"))
    set_nominals, set_caps = await _terms(api, token, chosen)
    starts, ends = views.default_period(clock.today(), periods)
    context = {
        "title": "Периоды и номиналы", "nav_current": "operator", "section": "periods", "periods": periods,
        "chosen": chosen, "municipalities": municipalities, "set_nominals": set_nominals, "set_caps": set_caps,
        "may": views.permissions(_role(user)), "rows": range(views.NOMINAL_ROWS), "cap_fields": views.CAP_FIELDS,
        "notice": views.period_notice(request.query_params),
        "error": error, "fields": fields, "form": form, "errors": errors or {},
        "values": {"starts_on": starts, "ends_on": ends, **views.caps_values(set_caps, municipalities),
                   **(values or {})},
        "idempotency_key": new_key(),
    }
    return render(request, "operator/periods.html", context, labels=labels, status_code=status_code)


@router.get("/periods", response_class=HTMLResponse)
async def periods_page(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    return await _periods_page(request, user)


async def _refused(request: Request, user: PortalUser, exc: ApiError, *, form: str, period: str | None,
                   values: Mapping[str, str]) -> HTMLResponse:
    if exc.status == 401 or exc.status >= 500:
        raise exc
    errors = views.api_field_errors(exc.field_pointers)
    return await _periods_page(request, user, asked=period, error=_refusal(exc),
                               fields=() if errors else exc.field_messages, form=form, errors=errors,
                               values=values, status_code=exc.status)


@router.post("/periods", dependencies=[Depends(csrf_protect)])
async def create_period(request: Request, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    read = views.period_form(form)
    if read.body is None:
        return await _periods_page(request, user, error="Проверьте даты периода.", form="create", errors=read.errors,
                                   values=read.values, status_code=422)
    try:
        period = await calls.create_period(request.app.state.api, access_token(request) or "", read.body,
                                           submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        return await _refused(request, user, exc, form="create", period=None, values=read.values)
    return RedirectResponse(f"/operator/periods?period={period['period_id']}&done=created", status_code=303)


@router.post("/periods/{period_id}/nominals", dependencies=[Depends(csrf_protect)])
async def set_nominals(request: Request, period_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    read = views.nominals_form(form, await _allowed_municipalities(request, user))
    if read.body is None:
        return await _periods_page(request, user, asked=str(period_id), error="Проверьте номиналы.", form="nominals",
                                   errors=read.errors, values=read.values, status_code=422)
    try:
        await calls.set_nominals(request.app.state.api, access_token(request) or "", str(period_id),
                                 read.body["nominals"])
    except ApiError as exc:
        return await _refused(request, user, exc, form="nominals", period=str(period_id), values=read.values)
    return RedirectResponse(f"/operator/periods?period={period_id}&done=nominals", status_code=303)


@router.post("/periods/{period_id}/caps", dependencies=[Depends(csrf_protect)])
async def set_caps(request: Request, period_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    read = views.caps_form(form, await _allowed_municipalities(request, user))
    if read.body is None:
        return await _periods_page(request, user, asked=str(period_id), error="Проверьте лимиты.", form="caps",
                                   errors=read.errors, values=read.values, status_code=422)
    try:
        await calls.set_caps(request.app.state.api, access_token(request) or "", str(period_id), read.body["caps"])
    except ApiError as exc:
        return await _refused(request, user, exc, form="caps", period=str(period_id), values=read.values)
    return RedirectResponse(f"/operator/periods?period={period_id}&done=caps", status_code=303)


@router.post("/periods/{period_id}/{action}", dependencies=[Depends(csrf_protect)])
async def open_or_close_period(request: Request, period_id: uuid.UUID, action: str,
                               user: PortalUser = Depends(operators_only)) -> Response:
    if action not in ("open", "close"):
        raise HTTPException(404)
    form = await request.form()
    call = calls.open_period if action == "open" else calls.close_period
    try:
        answer = await call(request.app.state.api, access_token(request) or "", str(period_id),
                            submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        return await _refused(request, user, exc, form=action, period=str(period_id), values={})
    extra = (f"&credited={answer.get('credited') or 0}" if action == "open"
             else f"&returned={answer.get('returned_kopecks') or 0}")
    done = "opened" if action == "open" else "closed"
    return RedirectResponse(f"/operator/periods?period={period_id}&done={done}{extra}", status_code=303)


# ---- months --------------------------------------------------------------------------------------

def _close_scope(user: PortalUser) -> str | None:
    """The close a page shows and starts: a municipal operator's own municipality's, else the region's."""
    return user.municipality if _role(user) == views.MUNICIPAL else None


def _closing_key(month: str, municipality: str | None) -> str:
    return f"{month}:{municipality}" if municipality else month


async def _progress_context(request: Request, month: str, municipality: str | None = None) -> dict[str, Any]:
    api, token = request.app.state.api, access_token(request) or ""
    progress = views.progress(await calls.close_progress(api, token, month, municipality))
    orders = await calls.final_orders(api, token, month) if progress.done else []
    key = _closing_key(month, municipality)
    running_here = key in _closing and not _closing[key].done()
    waiting = views.polls_left(request.query_params.get("started")) if progress.status == "not_started" else 0
    return {"month": month, "progress": progress, "orders": orders, "waiting": waiting,
            "polling": progress.running or running_here or waiting > 0}


async def _months_page(request: Request, user: PortalUser, month: str, *, error: str | None = None,
                       status_code: int = 200) -> HTMLResponse:
    api, token = request.app.state.api, access_token(request) or ""
    labels = await request.app.state.labels.book(access_token(request))
    navigator, billing, progress = await asyncio.gather(
        calls.journal_month(api, token, month), calls.billing_journal(api, token, month),
        _progress_context(request, month, _close_scope(user)))
    context = {
        "title": "Закрытие месяца", "nav_current": "operator", "section": "months", "month": month,
        "previous": views.shift_month(month, -1), "next": views.shift_month(month, 1),
        "month_choices": views.month_choices(clock.today(), month),
        "state": views.month_state(navigator, billing), **progress, "may": views.permissions(_role(user)),
        "notice": views.month_notice(request.query_params), "error": error, "idempotency_key": new_key(),
    }
    return render(request, "operator/months.html", context, labels=labels, status_code=status_code)


@router.get("/months", response_class=HTMLResponse)
async def months_page(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    month = views.parse_month(request.query_params.get("month")) or views.default_month(clock.today())
    return await _months_page(request, user, month)


@router.get("/months/{month}/progress", response_class=HTMLResponse)
async def progress_fragment(request: Request, month: str, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    """The progress block alone (htmx polls it every second while the close runs)."""
    month = _month_or_404(month)
    labels = await request.app.state.labels.book(access_token(request))
    return render(request, "operator/_close_progress.html", await _progress_context(request, month, _close_scope(user)),
                  labels=labels)


def _forget(month: str) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        if _closing.get(month) is task:  # ``month``: the close's key (with the municipality, if one's)
            del _closing[month]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("month_close_call_failed", month=month, error=str(exc))
    return done


@router.post("/months/{month}/{action}", dependencies=[Depends(csrf_protect)])
async def month_action(request: Request, month: str, action: str, user: PortalUser = Depends(operators_only)) -> Response:
    month = _month_or_404(month)
    if action not in ("freeze", "advance", "close"):
        raise HTTPException(404)
    form = await request.form()
    api, token, key = request.app.state.api, access_token(request) or "", submitted_key(form.get("idempotency_key"))
    back = f"/operator/months?month={month}"
    try:
        if action == "freeze":
            await calls.freeze_journal(api, token, month, key)
            return RedirectResponse(f"{back}&done=frozen", status_code=303)
        if action == "advance":
            issued = await calls.issue_advances(api, token, month, key)
            return RedirectResponse(f"{back}&done=advance&issued={int(issued.get('orders_issued') or 0)}",
                                    status_code=303)
        closing = _closing_key(month, _close_scope(user))  # billing closes a municipal operator's own
        task = _closing.get(closing)
        if task is None or task.done():
            task = asyncio.create_task(calls.close_month(api, token, month, key))
            _closing[closing] = task
            task.add_done_callback(_forget(closing))
        finished, _ = await asyncio.wait({task}, timeout=FIRST_ANSWER_S)
        if task not in finished:
            return RedirectResponse(f"{back}&done=started&started={views.START_POLLS}", status_code=303)
        task.result()  # raises the API's refusal
        return RedirectResponse(f"{back}&done=closed", status_code=303)
    except ApiError as exc:
        if exc.status == 401 or exc.status >= 500:
            raise
        return await _months_page(request, user, month, error=_refusal(exc), status_code=exc.status)


# ---- reconciliation ------------------------------------------------------------------------------

@router.get("/reconciliation", response_class=HTMLResponse)
async def reconciliation_page(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    api, token = request.app.state.api, access_token(request) or ""
    labels = await request.app.state.labels.book(access_token(request))
    periods = await calls.periods(api, token)
    asked = request.query_params.get("period") or ""
    period = next((p for p in periods if str(p["period_id"]) == asked), None)
    report = await calls.reconciliation(api, token, str(period["period_id"]) if period else None)
    context = {
        "title": "Сверка", "nav_current": "operator", "section": "reconciliation", "periods": periods,
        "period": period, "report": report, "checks": views.check_rows(report),
        "outstanding": report.get("outstanding") or {},
    }
    return render(request, "operator/reconciliation.html", context, labels=labels)
