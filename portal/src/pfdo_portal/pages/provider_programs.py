"""The provider's programs (``/provider/programs``): the list with statuses, a new draft, and a
program's page — its details edited, its modules (groups) added, replaced or removed, the
program submitted for certification, the certifier's decision (the normative cost of each module,
or the reason of a refusal) and the certification history.

Every change goes to the registry (docs/domain-rules.md: programs); a refusal comes back to the
form, each message next to the field it concerns.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..auth import PortalUser, csrf_protect
from ..gateway import ApiError
from ..gateway import organisation as api
from ..idempotency import new_key, submitted_key
from ..rendering import access_token, render
from . import provider_forms as forms
from .provider import provider_only
from .provider_profile import own_organisation

router = APIRouter(include_in_schema=False)

DONE = {
    "created": "Черновик программы создан. Добавьте модули и отправьте программу на сертификацию.",
    "edited": "Сведения о программе сохранены.",
    "module_added": "Модуль добавлен.",
    "module_replaced": "Модуль изменён.",
    "module_removed": "Модуль удалён.",
    "submitted": "Программа отправлена на сертификацию.",
}


def _refused_by_form(exc: ApiError) -> bool:
    """A refusal the person can fix in the form (else the error page: the session, the platform)."""
    return exc.status < 500 and exc.status not in (401, 403, 404)


async def _book(request: Request) -> Any:
    return await request.app.state.labels.book(access_token(request))


def _directions(labels: Any) -> list[tuple[str, str]]:
    return forms.options(labels, "directions", forms.DIRECTIONS)


# ---- the list and a new draft ----------------------------------------------------------------

@router.get("/provider/programs", response_class=HTMLResponse)
async def programs(request: Request, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    items, organisation = await asyncio.gather(
        api.programs(request.app.state.api, access_token(request), str(user.provider_id)),
        own_organisation(request, user))
    context = {"title": "Программы", "section": "programs", "nav_current": "provider", "programs": items,
               "organisation": organisation}
    return render(request, "provider/programs.html", context, labels=await _book(request))


async def _new_page(request: Request, values: dict[str, str], refusal: forms.Refusal, *,
                    status_code: int = 200) -> HTMLResponse:
    labels = await _book(request)
    context = {"title": "Новая программа", "section": "programs", "nav_current": "provider", "values": values,
               "errors": refusal.fields, "general": refusal.general, "directions": _directions(labels),
               "idempotency_key": new_key()}
    return render(request, "provider/program_new.html", context, labels=labels, status_code=status_code)


@router.get("/provider/programs/new", response_class=HTMLResponse)
async def new_program(request: Request, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    return await _new_page(request, {"direction": "technical"}, forms.Refusal())


@router.post("/provider/programs/new", dependencies=[Depends(csrf_protect)])
async def create_program(request: Request, user: PortalUser = Depends(provider_only)) -> Response:
    form = await request.form()
    try:
        created = await api.create_program(request.app.state.api, access_token(request), forms.program_body(form),
                                           submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        if not _refused_by_form(exc):
            raise
        return await _new_page(request, forms.form_values(form, forms.PROGRAM_FIELDS),
                               forms.refusal_of(exc, forms.PROGRAM_FIELDS), status_code=exc.status)
    return RedirectResponse(f"/provider/programs/{created['id']}?done=created", status_code=303)


# ---- a program's page ------------------------------------------------------------------------

async def _program_page(request: Request, program_id: uuid.UUID, *, values: dict[str, str] | None = None,
                        refusal: forms.Refusal | None = None, error: str | None = None,
                        status_code: int = 200) -> HTMLResponse:
    token, gateway = access_token(request), request.app.state.api
    program, history = await asyncio.gather(api.program(gateway, token, str(program_id)),
                                            api.history(gateway, token, str(program_id)))
    labels = await _book(request)
    refusal = refusal or forms.Refusal()
    context = {
        "title": program["name"], "section": "programs", "nav_current": "provider", "program": program,
        "values": values or forms.form_values(program, forms.PROGRAM_FIELDS), "errors": refusal.fields,
        "general": refusal.general, "error": error, "directions": _directions(labels),
        "allowed": forms.allowed(program["status"]), "decision": forms.decision(program, history),
        "history": forms.history_steps(history), "done": DONE.get(request.query_params.get("done", "")),
        "idempotency_key": new_key(),
    }
    return render(request, "provider/program.html", context, labels=labels, status_code=status_code)


@router.get("/provider/programs/{program_id}", response_class=HTMLResponse)
async def program_page(request: Request, program_id: uuid.UUID,
                       user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    return await _program_page(request, program_id)


@router.post("/provider/programs/{program_id}", dependencies=[Depends(csrf_protect)])
async def edit_program(request: Request, program_id: uuid.UUID, user: PortalUser = Depends(provider_only)) -> Response:
    form = await request.form()
    try:
        await api.edit_program(request.app.state.api, access_token(request), str(program_id), forms.program_body(form))
    except ApiError as exc:
        if not _refused_by_form(exc):
            raise
        return await _program_page(request, program_id, values=forms.form_values(form, forms.PROGRAM_FIELDS),
                                   refusal=forms.refusal_of(exc, forms.PROGRAM_FIELDS), status_code=exc.status)
    return RedirectResponse(f"/provider/programs/{program_id}?done=edited", status_code=303)


@router.post("/provider/programs/{program_id}/submit", dependencies=[Depends(csrf_protect)])
async def submit_program(request: Request, program_id: uuid.UUID,
                         user: PortalUser = Depends(provider_only)) -> Response:
    form = await request.form()
    try:
        await api.submit(request.app.state.api, access_token(request), str(program_id),
                         submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        if not _refused_by_form(exc):
            raise
        return await _program_page(request, program_id, error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/provider/programs/{program_id}?done=submitted", status_code=303)


# ---- modules ---------------------------------------------------------------------------------

def _module_of(program: dict[str, Any], module_id: uuid.UUID | None) -> dict[str, Any] | None:
    if module_id is None:
        return None
    module = next((m for m in program.get("modules") or () if str(m["id"]) == str(module_id)), None)
    if module is None:
        raise HTTPException(404, "В этой программе нет такого модуля.")
    return module


async def _module_page(request: Request, user: PortalUser, program_id: uuid.UUID, module_id: uuid.UUID | None, *,
                       form: FormData | None = None, refusal: forms.Refusal | None = None,
                       status_code: int = 200) -> HTMLResponse:
    token, gateway = access_token(request), request.app.state.api
    program, organisation, municipalities = await asyncio.gather(
        api.program(gateway, token, str(program_id)), own_organisation(request, user),
        api.municipalities(gateway, token))
    module = _module_of(program, module_id)
    if form is None:
        values = forms.module_values(module, municipality_code=(organisation or {}).get("municipality_code", ""))
        slots = forms.module_slots(module)
    else:
        values, slots = forms.form_values(form, forms.MODULE_FIELDS), forms.slots_of_form(form)
    labels = await _book(request)
    refusal = refusal or forms.Refusal()
    title = f"Модуль «{module['name']}»" if module else "Новый модуль"
    context = {
        "title": title, "section": "programs", "nav_current": "provider", "program": program, "module": module,
        "values": values, "slots": forms.slot_rows(slots), "errors": refusal.fields, "general": refusal.general,
        "municipality_options": [(m["code"], m["name"]) for m in municipalities],
        "funding_options": forms.options(labels, "funding_kinds", forms.FUNDING_KINDS),
        "allowed": forms.allowed(program["status"]), "idempotency_key": new_key(),
    }
    return render(request, "provider/module.html", context, labels=labels, status_code=status_code)


async def _save_module(request: Request, user: PortalUser, program_id: uuid.UUID,
                       module_id: uuid.UUID | None) -> Response:
    form = await request.form()
    body, refusal = forms.module_body(form)
    if refusal:
        return await _module_page(request, user, program_id, module_id, form=form, refusal=refusal, status_code=422)
    token, gateway = access_token(request), request.app.state.api
    try:
        if module_id is None:
            await api.add_module(gateway, token, str(program_id), body, submitted_key(form.get("idempotency_key")))
        else:
            await api.replace_module(gateway, token, str(program_id), str(module_id), body)
    except ApiError as exc:
        if not _refused_by_form(exc):
            raise
        return await _module_page(request, user, program_id, module_id, form=form,
                                  refusal=forms.refusal_of(exc, forms.MODULE_FIELDS), status_code=exc.status)
    done = "module_added" if module_id is None else "module_replaced"
    return RedirectResponse(f"/provider/programs/{program_id}?done={done}#modules", status_code=303)


@router.get("/provider/programs/{program_id}/modules/new", response_class=HTMLResponse)
async def new_module(request: Request, program_id: uuid.UUID,
                     user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    return await _module_page(request, user, program_id, None)


@router.post("/provider/programs/{program_id}/modules/new", dependencies=[Depends(csrf_protect)])
async def add_module(request: Request, program_id: uuid.UUID, user: PortalUser = Depends(provider_only)) -> Response:
    return await _save_module(request, user, program_id, None)


@router.get("/provider/programs/{program_id}/modules/{module_id}", response_class=HTMLResponse)
async def module_page(request: Request, program_id: uuid.UUID, module_id: uuid.UUID,
                      user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    return await _module_page(request, user, program_id, module_id)


@router.post("/provider/programs/{program_id}/modules/{module_id}", dependencies=[Depends(csrf_protect)])
async def replace_module(request: Request, program_id: uuid.UUID, module_id: uuid.UUID,
                         user: PortalUser = Depends(provider_only)) -> Response:
    return await _save_module(request, user, program_id, module_id)


@router.post("/provider/programs/{program_id}/modules/{module_id}/remove", dependencies=[Depends(csrf_protect)])
async def remove_module(request: Request, program_id: uuid.UUID, module_id: uuid.UUID,
                        user: PortalUser = Depends(provider_only)) -> Response:
    try:
        await api.remove_module(request.app.state.api, access_token(request), str(program_id), str(module_id))
    except ApiError as exc:
        if not _refused_by_form(exc):
            raise
        return await _program_page(request, program_id, error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/provider/programs/{program_id}?done=module_removed#modules", status_code=303)
