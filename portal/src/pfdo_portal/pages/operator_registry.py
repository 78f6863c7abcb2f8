"""The operator's registry pages (municipal and regional operators): the queue of certificate
applications (approve, refuse with a reason), provider moderation (approve, refuse, suspend,
reinstate, exclude as the provider's state allows) and program certification (a normative cost
per module, certify, reject with a reason, the certification history).

Both operator roles may make every one of these calls; the API keeps a municipal operator to the
municipality (docs/domain-rules.md): a page offers an action only where the operator may take it
(a municipal operator reads the region's active providers but moderates only the municipality's),
and whatever the API still refuses comes back as the page with the API's words. Every form is
CSRF-protected, decisions carry an Idempotency-Key made when the form was drawn, and every
decision ends in a 303 back to its page with a notice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pfdo_plumbing.auth.principal import Role

from ..auth import PortalUser, csrf_protect, require_role
from ..gateway import ApiError, GatewayApi
from ..gateway import operator_registry as calls
from ..idempotency import new_key, submitted_key
from ..labels import LabelBook
from ..money_input import MoneyInputError, parse_roubles, roubles_for_input
from ..rendering import access_token, render
from .cabinet import REGION_TZ

router = APIRouter(include_in_schema=False, prefix="/operator")
operators_only = require_role(Role.MUNICIPAL_OPERATOR, Role.REGIONAL_OPERATOR)

REASON_MISSING = "Укажите причину: её увидит заявитель или организация."


# ---- what the pages decide (pure) --------------------------------------------------------------

def may_act(user: PortalUser, municipality_code: str | None) -> bool:
    """A regional operator acts everywhere, a municipal operator within its own municipality."""
    if user.role == Role.REGIONAL_OPERATOR:
        return True
    return (user.role == Role.MUNICIPAL_OPERATOR and municipality_code is not None
            and user.municipality == municipality_code)


@dataclass(frozen=True)
class Action:
    code: str
    name: str
    needs_reason: bool


PROVIDER_ACTIONS: dict[str, tuple[Action, ...]] = {
    "new": (Action("approve", "Одобрить", False), Action("refuse", "Отказать", True)),
    "active": (Action("suspend", "Приостановить", True), Action("exclude", "Исключить из реестра", True)),
    "suspended": (Action("reinstate", "Возобновить", False), Action("exclude", "Исключить из реестра", True)),
}
"""What moderation allows in each provider state (refused and excluded are final)."""

MODERATION = frozenset(a.code for actions in PROVIDER_ACTIONS.values() for a in actions)
NEEDS_REASON = frozenset(a.code for actions in PROVIDER_ACTIONS.values() for a in actions if a.needs_reason)


def provider_actions(user: PortalUser, provider: Mapping[str, Any]) -> tuple[Action, ...]:
    """The moderation buttons the page shows for this provider and this operator."""
    if not may_act(user, provider.get("municipality_code")):
        return ()
    return PROVIDER_ACTIONS.get(str(provider.get("status")), ())


def chosen(raw: str | None, allowed: Iterable[str], default: str) -> str:
    """A list's filter from the address: one of ``allowed`` ("" for all), else the default."""
    return raw if raw is not None and (raw == "" or raw in allowed) else default


def filter_query(raw: str | None, allowed: Iterable[str]) -> str:
    """The list's filter to keep in the address a decision returns to (``status=new&``), or nothing."""
    return f"status={raw}&" if raw is not None and (raw == "" or raw in allowed) else ""


def reason_of(form: FormData) -> str:
    return str(form.get("reason") or "").strip()


def refusal_message(exc: ApiError) -> str:
    """What the page says when the API refused a decision."""
    if exc.status == 403:
        return f"Недостаточно прав для этого действия. {exc.message}".strip()
    if exc.status == 404:
        return "Запись не найдена среди доступных вам: возможно, она относится к другому муниципалитету."
    if exc.status == 409:
        return f"{exc.message} Обновите страницу: состояние записи могло измениться."
    return exc.message


NOTICES = {
    "approved": "Заявление одобрено: сертификат выдан.",
    "refused": "Заявителю отказано; причина отправлена ему.",
    "provider_approve": "Организация одобрена и включена в реестр.",
    "provider_refuse": "Организации отказано; причина отправлена ей.",
    "provider_suspend": "Деятельность организации приостановлена.",
    "provider_reinstate": "Деятельность организации возобновлена.",
    "provider_exclude": "Организация исключена из реестра.",
    "costs_saved": "Нормативная стоимость сохранена.",
    "certified": "Программа сертифицирована и появится в навигаторе.",
    "rejected": "Программа отклонена; причина отправлена организации.",
}
"""The notice after each decision (the ``done`` of the 303's address)."""

DUPLICATES = {
    "certificate_exists": "У ребёнка с этим СНИЛС уже есть сертификат.",
    "pending_application": "На ребёнка с этим СНИЛС подано ещё одно заявление.",
}

HISTORY_ACTIONS = {
    "create": "Программа создана",
    "edit": "Программа изменена",
    "add_module": "Добавлен модуль",
    "update_module": "Модуль изменён",
    "remove_module": "Модуль удалён",
    "submit": "Отправлена на сертификацию",
    "set_normative_cost": "Установлена нормативная стоимость",
    "certify": "Сертифицирована",
    "reject": "Отклонена",
    "archive": "Перенесена в архив",
}

ROLES = {
    "provider": "Организация",
    "municipal_operator": "Муниципальный оператор",
    "regional_operator": "Региональный оператор",
    "service": "Система",
}


def cost_field(module_id: str) -> str:
    return f"cost.{module_id}"


def read_costs(modules: Iterable[Mapping[str, Any]], form: Mapping[str, Any], *,
               certifying: bool) -> tuple[dict[str, int], dict[str, str]]:
    """The normative costs to send (module id -> kopecks: each typed one that differs from the
    module's) and the Russian message of each field that cannot be read. A field left empty keeps
    the module's cost; certifying needs one for every module."""
    changed: dict[str, int] = {}
    errors: dict[str, str] = {}
    for module in modules:
        module_id = str(module["id"])
        typed = str(form.get(cost_field(module_id)) or "").strip()
        known = module.get("normative_cost_kopecks")
        if not typed:
            if certifying and known is None:
                errors[module_id] = "Укажите нормативную стоимость модуля: без неё программу не сертифицировать."
            continue
        try:
            kopecks = parse_roubles(typed)
        except MoneyInputError as exc:
            errors[module_id] = exc.message
            continue
        if kopecks != known:
            changed[module_id] = kopecks
    return changed, errors


def module_rows(modules: Iterable[Mapping[str, Any]], typed: Mapping[str, str],
                errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """The program page's modules: the value of each cost field (what was typed, else the known cost)."""
    rows = []
    for module in modules:
        module_id = str(module["id"])
        field = cost_field(module_id)
        rows.append({**module, "field": field,
                     "value": typed[field] if field in typed else roubles_for_input(module.get("normative_cost_kopecks")),
                     "error": errors.get(module_id)})
    return rows


def moment(at: str) -> str:
    """An instant of the API (ISO, UTC) as the region reads it: ``15.11.2027 12:30``."""
    when = dt.datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(REGION_TZ).strftime("%d.%m.%Y %H:%M")


def history_rows(steps: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The certification history, latest first, with the names of its actions and actors' roles."""
    return [{**step, "when": moment(step["at"]),
             "action_name": HISTORY_ACTIONS.get(str(step["action"]), str(step["action"])),
             "role_name": ROLES.get(str(step["actor_role"]), str(step["actor_role"]))}
            for step in sorted(steps, key=lambda s: s["id"], reverse=True)]


# ---- what every page needs -----------------------------------------------------------------------

def _api(request: Request) -> GatewayApi:
    return request.app.state.api


def _token(request: Request) -> str:
    token = access_token(request)
    if not token:  # the guard let a signed-in person through: the session has its token
        raise HTTPException(401)
    return token


async def _labels(request: Request) -> LabelBook:
    return await request.app.state.labels.book(_token(request))


def _passes(exc: ApiError) -> bool:
    """An API refusal the page shows (a lost session and the platform's own failures go to the
    portal's error pages)."""
    return exc.status != 401 and exc.status < 500


def _page(request: Request, template: str, labels: LabelBook, context: dict[str, Any], *,
          status_code: int = 200) -> HTMLResponse:
    done = request.query_params.get("done")
    return render(request, template, {
        "nav_current": "operator", "notice": NOTICES.get(done or ""), "new_key": new_key, **context,
    }, labels=labels, status_code=status_code)


# ---- certificate applications ---------------------------------------------------------------------

APPLICATION_STATUSES = ("pending", "approved", "refused")


async def _applications_page(request: Request, *, status_code: int = 200,
                             error: str | None = None, fields: tuple[str, ...] = (),
                             failed: str | None = None, reason: str = "",
                             reason_error: str | None = None) -> HTMLResponse:
    q = request.query_params
    status = chosen(q.get("status"), APPLICATION_STATUSES, "pending")
    labels = await _labels(request)
    found = await calls.applications(_api(request), _token(request), status=status or None,
                                     cursor=q.get("cursor") or None)
    return _page(request, "operator/applications.html", labels, {
        "title": "Заявления на сертификат", "section": "applications",
        "applications": found["items"], "next_cursor": found.get("next_cursor"), "status": status,
        "statuses": APPLICATION_STATUSES, "duplicates": DUPLICATES, "error": error, "fields": fields,
        "failed": failed, "reason": reason, "reason_error": reason_error,
    }, status_code=status_code)


@router.get("/applications", response_class=HTMLResponse)
async def applications(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    return await _applications_page(request)


@router.post("/applications/{application_id}/{decision}", dependencies=[Depends(csrf_protect)])
async def decide_application(request: Request, application_id: uuid.UUID, decision: str,
                             user: PortalUser = Depends(operators_only)) -> Response:
    if decision not in ("approve", "refuse"):
        raise HTTPException(404)
    form = await request.form()
    key, reason = submitted_key(form.get("idempotency_key")), reason_of(form)
    target = str(application_id)
    if decision == "refuse" and not reason:
        return await _applications_page(request, status_code=422, failed=target, reason_error=REASON_MISSING,
                                        error="Отказ не отправлен: не указана причина.")
    try:
        if decision == "approve":
            await calls.approve_application(_api(request), _token(request), target, key)
        else:
            await calls.refuse_application(_api(request), _token(request), target, reason, key)
    except ApiError as exc:
        if not _passes(exc):
            raise
        return await _applications_page(request, status_code=exc.status, error=refusal_message(exc),
                                        fields=exc.field_messages, failed=target, reason=reason)
    done = "approved" if decision == "approve" else "refused"
    back = filter_query(request.query_params.get("status"), APPLICATION_STATUSES)
    return RedirectResponse(f"/operator/applications?{back}done={done}", status_code=303)


# ---- providers ------------------------------------------------------------------------------------

PROVIDER_STATUSES = ("new", "active", "suspended", "refused", "excluded")


async def _providers_page(request: Request, user: PortalUser, *, status_code: int = 200,
                          error: str | None = None, fields: tuple[str, ...] = (), failed: str | None = None,
                          reason: str = "", reason_error: str | None = None) -> HTMLResponse:
    q = request.query_params
    status = chosen(q.get("status"), PROVIDER_STATUSES, "new")
    labels = await _labels(request)
    found = await calls.providers(_api(request), _token(request), status=status or None, municipality=None,
                                  cursor=q.get("cursor") or None)
    providers = [{**p, "actions": provider_actions(user, p), "elsewhere": not may_act(user, p["municipality_code"])}
                 for p in found["items"]]
    return _page(request, "operator/providers.html", labels, {
        "title": "Организации", "section": "providers", "providers": providers,
        "next_cursor": found.get("next_cursor"), "status": status, "statuses": PROVIDER_STATUSES,
        "error": error, "fields": fields, "failed": failed, "reason": reason, "reason_error": reason_error,
    }, status_code=status_code)


@router.get("/providers", response_class=HTMLResponse)
async def providers(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    return await _providers_page(request, user)


@router.post("/providers/{provider_id}", dependencies=[Depends(csrf_protect)])
async def moderate(request: Request, provider_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    action = str(form.get("action") or "")
    if action not in MODERATION:
        raise HTTPException(422, "Неизвестное действие.")
    key, reason, target = submitted_key(form.get("idempotency_key")), reason_of(form), str(provider_id)
    needs_reason = action in NEEDS_REASON
    if needs_reason and not reason:
        return await _providers_page(request, user, status_code=422, failed=target, reason_error=REASON_MISSING,
                                     error="Решение не отправлено: не указана причина.")
    try:
        await calls.moderate_provider(_api(request), _token(request), target, action,
                                      reason if needs_reason else None, key)
    except ApiError as exc:
        if not _passes(exc):
            raise
        return await _providers_page(request, user, status_code=exc.status, error=refusal_message(exc),
                                     fields=exc.field_messages, failed=target, reason=reason)
    back = filter_query(request.query_params.get("status"), PROVIDER_STATUSES)
    return RedirectResponse(f"/operator/providers?{back}done=provider_{action}", status_code=303)


# ---- programs ---------------------------------------------------------------------------------------

PROGRAM_STATUSES = ("submitted", "certified", "rejected", "draft", "archived")


async def _provider_names(api: GatewayApi, token: str, provider_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The providers of the programs shown (one that cannot be read is left out)."""
    ids = sorted(set(provider_ids))
    found = await asyncio.gather(*(calls.provider(api, token, pid) for pid in ids), return_exceptions=True)
    for item in found:
        if isinstance(item, ApiError) and not _passes(item):
            raise item
    return {pid: item for pid, item in zip(ids, found, strict=True) if isinstance(item, dict)}


@router.get("/programs", response_class=HTMLResponse)
async def programs(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    q = request.query_params
    status = chosen(q.get("status"), PROGRAM_STATUSES, "submitted")
    api, token = _api(request), _token(request)
    labels = await _labels(request)
    found = await calls.programs(api, token, status=status or None, cursor=q.get("cursor") or None)
    owners = await _provider_names(api, token, (str(p["provider_id"]) for p in found["items"]))
    return _page(request, "operator/programs.html", labels, {
        "title": "Сертификация программ", "section": "programs", "programs": found["items"], "owners": owners,
        "next_cursor": found.get("next_cursor"), "status": status, "statuses": PROGRAM_STATUSES,
    })


async def _program_page(request: Request, user: PortalUser, program_id: uuid.UUID, *, status_code: int = 200,
                        error: str | None = None, fields: tuple[str, ...] = (), typed: Mapping[str, str] | None = None,
                        cost_errors: Mapping[str, str] | None = None, reason: str = "",
                        reason_error: str | None = None) -> HTMLResponse:
    api, token = _api(request), _token(request)
    labels = await _labels(request)
    program = await calls.program(api, token, str(program_id))
    owners = await _provider_names(api, token, [str(program["provider_id"])])
    owner = owners.get(str(program["provider_id"]))
    try:
        steps: list[dict[str, Any]] | None = await calls.history(api, token, str(program_id))
    except ApiError as exc:
        if not _passes(exc) or exc.status != 404:
            raise
        steps = None  # the history is the owner's and its municipality's operators' only
    decides = program["status"] == "submitted" and (owner is None or may_act(user, owner.get("municipality_code")))
    return _page(request, "operator/program.html", labels, {
        "title": f"Сертификация: {program['name']}", "section": "programs", "program": program, "owner": owner,
        "modules": module_rows(program.get("modules") or (), typed or {}, cost_errors or {}),
        "history": history_rows(steps) if steps is not None else None, "decides": decides,
        "error": error, "fields": fields, "reason": reason, "reason_error": reason_error,
    }, status_code=status_code)


@router.get("/programs/{program_id}", response_class=HTMLResponse)
async def program_page(request: Request, program_id: uuid.UUID,
                       user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    return await _program_page(request, user, program_id)


@router.post("/programs/{program_id}/costs", dependencies=[Depends(csrf_protect)])
async def save_costs(request: Request, program_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    """The normative costs typed (``action=save``), and the certification after them (``action=certify``)."""
    form = await request.form()
    certifying = form.get("action") == "certify"
    typed = {name: str(value) for name, value in form.items() if name.startswith("cost.")}
    api, token, target = _api(request), _token(request), str(program_id)
    program = await calls.program(api, token, target)
    changed, errors = read_costs(program.get("modules") or (), typed, certifying=certifying)
    if errors:
        return await _program_page(request, user, program_id, status_code=422, typed=typed, cost_errors=errors,
                                   error="Проверьте нормативную стоимость: ничего не сохранено.")
    for module_id, kopecks in changed.items():
        try:
            await calls.set_normative_cost(api, token, target, module_id, kopecks)
        except ApiError as exc:
            if not _passes(exc):
                raise
            message = "; ".join(exc.field_messages) or exc.message
            return await _program_page(request, user, program_id, status_code=exc.status, typed=typed,
                                       cost_errors={module_id: message}, error=refusal_message(exc))
    if not certifying:
        return RedirectResponse(f"/operator/programs/{target}?done=costs_saved", status_code=303)
    try:
        await calls.certify_program(api, token, target, submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        if not _passes(exc):
            raise
        saved = "Нормативная стоимость сохранена, но программа не сертифицирована. " if changed else ""
        return await _program_page(request, user, program_id, status_code=exc.status, fields=exc.field_messages,
                                   error=saved + refusal_message(exc))
    return RedirectResponse(f"/operator/programs/{target}?done=certified", status_code=303)


@router.post("/programs/{program_id}/reject", dependencies=[Depends(csrf_protect)])
async def reject(request: Request, program_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    reason, target = reason_of(form), str(program_id)
    if not reason:
        return await _program_page(request, user, program_id, status_code=422, reason_error=REASON_MISSING,
                                   error="Программа не отклонена: не указана причина.")
    try:
        await calls.reject_program(_api(request), _token(request), target, reason,
                                   submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        if not _passes(exc):
            raise
        return await _program_page(request, user, program_id, status_code=exc.status, error=refusal_message(exc),
                                   fields=exc.field_messages, reason=reason)
    return RedirectResponse(f"/operator/programs/{target}?done=rejected", status_code=303)
