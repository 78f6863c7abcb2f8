"""The provider's cabinet: the organisation's groups with their attendance journals (a month per
page, saved in one request), and the incoming applications to confirm or decline.

Only through the gateway's public API: the groups are the modules of the provider's programs
(registry), the children are the group's contracts and the marks come from the navigator,
which decides on every mark (the reason of each refused one is shown in its cell).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pfdo_plumbing import clock

from ..auth import PortalUser, csrf_protect, require_role
from ..gateway import ApiError, organisation
from ..idempotency import new_key, submitted_key
from ..rendering import access_token, render
from . import provider_journal as journal

router = APIRouter(include_in_schema=False)
provider_only = require_role("provider")

PENDING = ("requested", "reserved", "offered")
"""Applications the provider has to answer (a reserved one may be confirmed), and the confirmed ones
whose offer the parent has not accepted yet."""


async def _all(request: Request, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item of a paged list of the API."""
    return await request.app.state.api.all_items(path, token=access_token(request), params=params)


async def _groups(request: Request, user: PortalUser) -> list[dict[str, Any]]:
    """The provider's groups: each module of its programs, with the program's name and status."""
    programs = await organisation.programs(request.app.state.api, access_token(request),
                                           str(user.provider_id))
    return [{**module, "program_name": program["name"], "program_status": program["status"]}
            for program in programs for module in program.get("modules") or ()]


def _today() -> Any:
    return clock.today()


@router.get("/provider", response_class=HTMLResponse)
async def cabinet(request: Request, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    labels = await request.app.state.labels.book()
    groups, enrolments = await asyncio.gather(
        _groups(request, user), _all(request, "navigator/enrolments", {"limit": 1000}))
    names = {str(g["id"]): g for g in groups}
    pending = [e for e in enrolments if e["state"] in PENDING]
    context = {"title": "Кабинет организации", "groups": groups, "applications": pending, "group_of": names,
               "today": _today(), "nav_current": "provider", "section": "groups",
               "done": request.query_params.get("done")}
    return render(request, "provider/index.html", context, labels=labels)


@router.post("/provider/applications/{enrolment_id}/{decision}", dependencies=[Depends(csrf_protect)])
async def decide(request: Request, enrolment_id: uuid.UUID, decision: str,
                 user: PortalUser = Depends(provider_only)) -> Response:
    if decision not in ("confirm", "decline"):
        raise HTTPException(404)
    await request.app.state.api.request("POST", f"navigator/enrolments/{enrolment_id}/{decision}",
                                        token=access_token(request))
    return RedirectResponse(f"/provider?done={decision}", status_code=303)


async def _journal_data(request: Request, user: PortalUser, module_id: str, asked: str | None) -> dict[str, Any]:
    """The group, the month to show, its contracts, their marks of the month, the month's state."""
    api, token = request.app.state.api, access_token(request)
    group = next((g for g in await _groups(request, user) if str(g["id"]) == module_id), None)
    if group is None:
        raise HTTPException(404, "Такой группы нет среди групп вашей организации.")
    month = journal.journal_month(group, journal.parse_month(asked), _today())
    code = journal.month_code(month)
    enrolments, state = await asyncio.gather(
        _all(request, "navigator/enrolments", {"module_id": module_id, "limit": 1000}),
        api.get(f"navigator/attendance/months/{code}", token=token))
    rows = journal.children(enrolments, month)
    marks_per_child = await asyncio.gather(*(
        _all(request, "navigator/attendance", {"enrolment_id": child.enrolment_id, "month": code, "limit": 1000})
        for child in rows))
    return {"group": group, "month": month, "enrolments": enrolments, "frozen": state.get("state") == "frozen",
            "marks": [m for marks in marks_per_child for m in marks]}


def _page(request: Request, data: dict[str, Any], grid: journal.Grid, labels: Any, *, notice: str | None = None,
          error: str | None = None, errors: tuple[str, ...] | list[str] = (), status_code: int = 200) -> HTMLResponse:
    months = journal.group_months(data["group"])
    month = grid.month
    context = {
        "title": f"Журнал: {data['group']['name']}", "group": data["group"], "grid": grid, "nav_current": "provider",
        "section": "groups",
        "previous": journal.shift_month(month, -1) if months and month > months[0] else None,
        "next": journal.shift_month(month, 1) if months and month < months[-1] else None,
        "month_code": journal.month_code(month), "statuses": journal.STATUSES, "short": journal.SHORT,
        "idempotency_key": new_key(), "notice": notice, "error": error, "errors": errors,
    }
    return render(request, "provider/journal.html", context, labels=labels, status_code=status_code)


def _grid(data: dict[str, Any], **kwargs: Any) -> journal.Grid:
    return journal.build_grid(data["group"], data["month"], data["enrolments"], data["marks"],
                              today=_today(), frozen=data["frozen"], **kwargs)


SAVED = {"1": "Отметки месяца сохранены."}


@router.get("/provider/groups/{module_id}", response_class=HTMLResponse)
async def journal_page(request: Request, module_id: uuid.UUID, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    labels = await request.app.state.labels.book()
    data = await _journal_data(request, user, str(module_id), request.query_params.get("month"))
    return _page(request, data, _grid(data), labels, notice=SAVED.get(request.query_params.get("saved", "")))


@router.post("/provider/groups/{module_id}", dependencies=[Depends(csrf_protect)])
async def journal_post(request: Request, module_id: uuid.UUID, user: PortalUser = Depends(provider_only)) -> Response:
    """Quick fill without JavaScript (``fill``: the page again with a row or column set, nothing
    saved) or the month saved in one request (``action=save``)."""
    labels = await request.app.state.labels.book()
    form = await request.form()
    data = await _journal_data(request, user, str(module_id), request.query_params.get("month"))
    grid = _grid(data)
    values = journal.form_values(form.multi_items())
    target = form.get("fill")
    if isinstance(target, str) and target:
        status = str(form.get("fill_status") or "present")
        values = journal.fill(grid, values, target, status)
        return _page(request, data, _grid(data, values=values), labels,
                     notice="Заполнено. Проверьте отметки и нажмите «Сохранить месяц».")
    if grid.frozen:
        return _page(request, data, grid, labels, error="Журнал этого месяца закрыт: отметки больше не принимаются.",
                     status_code=409)
    posted = journal.posting(grid, values, str(module_id))
    if not posted:
        return _page(request, data, grid, labels, error="Нет отметок для сохранения: выберите отметки в ячейках.",
                     status_code=422)
    key = submitted_key(form.get("idempotency_key"))
    try:
        report = await request.app.state.api.request(
            "POST", "navigator/attendance", token=access_token(request), json={"marks": posted},
            headers={"Idempotency-Key": key})
    except ApiError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        refusals, general = journal.refusals_of_problem(posted, exc.field_pointers)
        data = await _journal_data(request, user, str(module_id), journal.month_code(grid.month))
        return _page(request, data, _grid(data, values=values, refusals=refusals), labels, error=exc.message,
                     errors=general, status_code=exc.status)
    refusals = journal.refusals_of_report(posted, report.get("rejected") or ())
    if not refusals:
        return RedirectResponse(
            f"/provider/groups/{module_id}?month={journal.month_code(grid.month)}&saved=1", status_code=303)
    data = await _journal_data(request, user, str(module_id), journal.month_code(grid.month))
    accepted = report.get("accepted", 0)
    error = (f"Сохранено отметок: {accepted}. Не принято: {len(refusals)} — причина указана в ячейке. "
             "Исправьте эти отметки или оставьте их пустыми.")
    return _page(request, data, _grid(data, values=values, refusals=refusals), labels, error=error,
                 status_code=200)
