"""A parent's cabinet: each child's certificate and its balance per period (a chart and its
table), the certificate applications, the enrolments with their state followed live, applying for
a certificate, and enrolling in a module after reading its quote (the certificate's and the
family's parts month by month).

Every page is the parent's only (``require_role("parent")``: 403 for any other role) and works
without JavaScript; htmx refreshes the states of enrolments in place while they may still change.
Every form post is CSRF-protected and sends the API an ``Idempotency-Key`` made when the form was
drawn, so sending it twice creates one thing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pfdo_plumbing import clock

from ..auth import PortalUser, csrf_protect, require_role
from ..gateway import ApiError, GatewayApi
from ..gateway import family as api_calls
from ..labels import LabelBook
from ..idempotency import new_key, submitted_key
from ..rendering import access_token, render
from .balance_chart import PARTS, balance_chart
from .enrolment_record import (
    COMMENT_LIMIT, MARK_STATUSES, RATING_SCALES, RATING_STEPS, end_action, month_records, rating_body, rating_view,
    record_totals,
)
from .enrolment_status import status_view
from .offer import offer_view

router = APIRouter(include_in_schema=False, prefix="/cabinet")
parent_only = require_role("parent")

REGION_TZ = ZoneInfo("Europe/Moscow")
PAYMENT_MODES = ("monthly", "attendance")
CONSENT_MISSING = "Без согласия на обработку персональных данных заявление не может быть подано."


def today() -> dt.date:
    """The region's business date (the platform's clock: the services' dates and the portal's agree)."""
    return clock.today(REGION_TZ)


def _token(request: Request) -> str:
    token = access_token(request)
    if not token:  # the guard let a signed-in person through: the session has its token
        raise HTTPException(401)
    return token


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _labels(request: Request) -> LabelBook:
    return await request.app.state.labels.book()


def _api(request: Request) -> GatewayApi:
    return request.app.state.api


# ---- the cabinet ----------------------------------------------------------------------------

async def _certificate_with_balance(api: GatewayApi, token: str, certificate: dict[str, Any]) -> dict[str, Any]:
    try:
        found = await api_calls.balance(api, token, certificate["id"])
    except ApiError as exc:
        if exc.status != 404:  # billing does not know the certificate yet (it learns of it by an event)
            raise
        return {**certificate, "chart": None, "balance_known": False}
    # billing's word on the kind: an accounting certificate becomes funding with its first paid enrolment
    kind = found.get("usage_kind") or certificate["usage_kind"]
    chart = balance_chart(found["balances"]) if kind == "funding" else None
    return {**certificate, "usage_kind": kind, "chart": chart, "balance_known": True}


async def _program_titles(api: GatewayApi, token: str, program_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Program pages by id for the enrolments' titles; one that cannot be read is left out."""
    ids = sorted(set(program_ids))
    pages = await asyncio.gather(*(api_calls.program(api, token, pid) for pid in ids), return_exceptions=True)
    for page in pages:
        if isinstance(page, ApiError) and page.status == 401:
            raise page
    return {pid: page for pid, page in zip(ids, pages, strict=True) if isinstance(page, dict)}


def module_title(program: Mapping[str, Any] | None, module_id: str) -> str | None:
    if not program:
        return None
    return next((m["title"] for m in program.get("modules", ()) if str(m["module_id"]) == str(module_id)), None)


def enrolment_rows(enrolments: Iterable[Mapping[str, Any]], programs: Mapping[str, Mapping[str, Any]],
                   certificates: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The enrolments as the page lists them: the program's and group's names, the child, the state."""
    children = {str(c["id"]): f"{c['first_name']} {c['surname']}" for c in certificates}
    rows = []
    for e in enrolments:
        program = programs.get(str(e["program_id"]))
        rows.append({**e, "program_title": program["title"] if program else "Программа",
                     "module_title": module_title(program, e["module_id"]),
                     "child": children.get(str(e["certificate_id"]), ""), "view": status_view(e)})
    return rows


async def _enrolment_rows(api: GatewayApi, token: str, certificates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    enrolments = await api_calls.enrolments(api, token)
    programs = await _program_titles(api, token, (str(e["program_id"]) for e in enrolments))
    return enrolment_rows(enrolments, programs, certificates)


@router.get("", response_class=HTMLResponse)
async def cabinet(request: Request, user: PortalUser = Depends(parent_only)) -> HTMLResponse:
    api, token = _api(request), _token(request)
    labels = await _labels(request)
    certificates, applications = await asyncio.gather(api_calls.certificates(api, token),
                                                      api_calls.applications(api, token))
    enrolments = await _enrolment_rows(api, token, certificates)
    if any(e["state"] == "ended" for e in enrolments):  # a finished program: its rating, or a call to give one
        ratings, now = await _my_ratings(api, token), clock.now()
        enrolments = [{**e, "rating": rating_view(ratings.get(str(e["enrolment_id"])), now)} for e in enrolments]
    if _is_htmx(request):  # the enrolments' states, refreshed in place
        return render(request, "cabinet/_enrolments.html", {"enrolments": enrolments}, labels=labels)
    children = await asyncio.gather(*(_certificate_with_balance(api, token, c) for c in certificates))
    waiting = [a for a in applications if a["status"] != "approved"]
    return render(request, "cabinet/index.html", {
        "title": "Личный кабинет", "nav_current": "cabinet", "children": children, "applications": waiting,
        "enrolments": enrolments, "parts": PARTS, "applied": request.query_params.get("applied"),
    }, labels=labels)


# ---- an enrolment: its state, marks and debits, disputes, ending it, rating it ----------------

DONE_NOTICES = {
    "disputed": "Оспаривание отправлено. Пока муниципалитет не примет решение, занятие не оплачивается.",
    "cancelled": "Запись отменена. Зарезервированные средства вернулись на баланс сертификата.",
    "accepted": "Оферта принята: договор об обучении заключён.",
    "terminated": "Договор расторгнут. Обучение закончится в последний день этого месяца.",
    "rated": "Спасибо! Оценка сохранена.",
    "rating_edited": "Оценка изменена.",
}
"""What the page says after a form's post (``?done=``)."""

SCALE_HINTS = {
    "results": "Чему ребёнок научился, чего достиг",
    "teachers_and_group": "Педагоги, их внимание к ребёнку, число детей в группе",
    "materials_and_equipment": "Помещение, оборудование, материалы",
    "overall_satisfaction": "Насколько вы довольны программой в целом",
}


async def _optional(call: Any, *, empty: Any, none_yet: Any = None) -> Any:
    """The answer of a call the page can do without (``empty`` when the service says no or is
    down; ``none_yet``, if given, when it does not know the thing yet: 404); a sign-in that ran
    out still fails the page."""
    try:
        return await call
    except ApiError as exc:
        if exc.status == 401:
            raise
        return none_yet if exc.status == 404 and none_yet is not None else empty


async def _my_ratings(api: GatewayApi, token: str) -> dict[str, dict[str, Any]]:
    items = await _optional(api_calls.my_ratings(api, token), empty=[])
    return {str(i["enrolment_id"]): i for i in items}


async def _enrolment_page(request: Request, enrolment_id: uuid.UUID, *, error: ApiError | None = None,
                          error_at: str | None = None, values: Mapping[str, Any] | None = None,
                          status_code: int = 200) -> HTMLResponse:
    api, token = _api(request), _token(request)
    labels = await _labels(request)
    found = await api_calls.enrolment(api, token, str(enrolment_id))
    if _is_htmx(request) and error is None:  # the state only, refreshed in place while it may change
        row = enrolment_rows([found], {}, [])[0]
        return render(request, "cabinet/_status.html", {"e": row, "view": row["view"]}, labels=labels)
    offered = found["state"] == "offered"
    programs, certificates, marks, history, disputes, ratings, provider = await asyncio.gather(
        _program_titles(api, token, [str(found["program_id"])]), api_calls.certificates(api, token),
        _optional(api_calls.marks(api, token, str(enrolment_id)), empty=None),
        _optional(api_calls.certificate_history(api, token, str(found["certificate_id"])), empty=None, none_yet=[]),
        _optional(api_calls.disputes(api, token), empty=[]),
        _my_ratings(api, token) if found["state"] == "ended" else asyncio.sleep(0, {}),
        _optional(api_calls.provider(api, token, str(found["provider_id"])), empty=None) if offered
        else asyncio.sleep(0, None))
    row = enrolment_rows([found], programs, certificates)[0]
    now = today()
    certificate = next((c for c in certificates if str(c["id"]) == str(found["certificate_id"])), None)
    offer = offer_view(found, program=programs.get(str(found["program_id"])), certificate=certificate,
                       provider=provider, today=now)
    records = month_records(found, marks or [], history or [], disputes, now)
    unavailable = [what for what, answer in (("отметки о занятиях", marks), ("списания", history)) if answer is None]
    return render(request, "cabinet/enrolment.html", {
        "title": f"Запись: {row['program_title']}", "nav_current": "cabinet", "e": row, "view": row["view"],
        "records": records, "totals": record_totals(records), "today": now, "unavailable": unavailable,
        "end": end_action(found, now), "offer": offer, "rating": rating_view(ratings.get(str(enrolment_id)), clock.now()),
        "scales": RATING_SCALES, "steps": RATING_STEPS, "hints": SCALE_HINTS, "comment_limit": COMMENT_LIMIT,
        "mark_statuses": MARK_STATUSES, "notice": DONE_NOTICES.get(request.query_params.get("done", "")),
        "disputing": (error_at or "")[5:] if (error_at or "").startswith("mark-") else request.query_params.get("dispute"),
        "error": error, "error_at": error_at, "values": values or {}, "idempotency_key": new_key(),
    }, labels=labels, status_code=status_code)


def _refusal(exc: ApiError) -> ApiError:
    """An answer the page shows next to its form; a sign-in that ran out or a service down fails
    the page as any other."""
    if exc.status == 401 or exc.status >= 500:
        raise exc
    return exc


@router.get("/enrolments/{enrolment_id}", response_class=HTMLResponse)
async def enrolment_page(request: Request, enrolment_id: uuid.UUID,
                         user: PortalUser = Depends(parent_only)) -> HTMLResponse:
    return await _enrolment_page(request, enrolment_id)


@router.post("/enrolments/{enrolment_id}/accept", dependencies=[Depends(csrf_protect)])
async def accept_offer(request: Request, enrolment_id: uuid.UUID,
                       user: PortalUser = Depends(parent_only)) -> Response:
    """«Принять оферту»: the contract is made (an expired offer is refused next to the offer)."""
    form = await request.form()
    try:
        await api_calls.accept_offer(_api(request), _token(request), str(enrolment_id),
                                     submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        return await _enrolment_page(request, enrolment_id, error=_refusal(exc), error_at="offer",
                                     status_code=exc.status)
    return RedirectResponse(f"/cabinet/enrolments/{enrolment_id}?done=accepted#status", status_code=303)


@router.post("/enrolments/{enrolment_id}/disputes", dependencies=[Depends(csrf_protect)])
async def dispute(request: Request, enrolment_id: uuid.UUID, user: PortalUser = Depends(parent_only)) -> Response:
    form = await request.form()
    mark_id, claimed = str(form.get("mark_id") or ""), str(form.get("claimed_status") or "")
    comment = str(form.get("comment") or "").strip()
    try:
        body = {"mark_id": str(uuid.UUID(mark_id)), "claimed_status": claimed, "comment": comment or None}
    except ValueError as exc:
        raise HTTPException(422, "Проверьте введённые данные.") from exc
    try:
        await api_calls.open_dispute(_api(request), _token(request), body, submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        return await _enrolment_page(request, enrolment_id, error=_refusal(exc), error_at=f"mark-{mark_id}",
                                     values={"comment": comment, "claimed_status": claimed},
                                     status_code=exc.status)
    return RedirectResponse(f"/cabinet/enrolments/{enrolment_id}?done=disputed#mark-{mark_id}", status_code=303)


@router.get("/enrolments/{enrolment_id}/end", response_class=HTMLResponse)
async def end_confirm(request: Request, enrolment_id: uuid.UUID,
                      user: PortalUser = Depends(parent_only)) -> HTMLResponse:
    """The confirmation step before cancelling or terminating (a page of its own: no script needed)."""
    api, token = _api(request), _token(request)
    labels = await _labels(request)
    found = await api_calls.enrolment(api, token, str(enrolment_id))
    programs = await _program_titles(api, token, [str(found["program_id"])])
    row = enrolment_rows([found], programs, [])[0]
    action = end_action(found, today())
    if action is None:  # nothing to end any more: back to the enrolment's page
        return RedirectResponse(f"/cabinet/enrolments/{enrolment_id}", status_code=303)
    return render(request, "cabinet/end.html", {
        "title": f"{action.title}: {row['program_title']}", "nav_current": "cabinet", "e": row, "end": action,
        "idempotency_key": new_key()}, labels=labels)


@router.post("/enrolments/{enrolment_id}/end", dependencies=[Depends(csrf_protect)])
async def end(request: Request, enrolment_id: uuid.UUID, user: PortalUser = Depends(parent_only)) -> Response:
    form = await request.form()
    action = str(form.get("action") or "")
    if action not in ("cancel", "terminate"):
        raise HTTPException(422, "Проверьте введённые данные.")
    try:
        ended = await api_calls.end_enrolment(_api(request), _token(request), str(enrolment_id), action,
                                              submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        return await _enrolment_page(request, enrolment_id, error=_refusal(exc), error_at="end",
                                     status_code=exc.status)
    done = "terminated" if ended.get("state") == "terminated" else "cancelled"
    return RedirectResponse(f"/cabinet/enrolments/{enrolment_id}?done={done}#status", status_code=303)


@router.post("/enrolments/{enrolment_id}/rating", dependencies=[Depends(csrf_protect)])
async def rate(request: Request, enrolment_id: uuid.UUID, user: PortalUser = Depends(parent_only)) -> Response:
    form = await request.form()
    body, missing = rating_body(form)
    values = {**body["scores"], "comment": body["comment"] or ""}
    if missing:
        labels = await _labels(request)
        names = ", ".join(f"«{labels('rating_scales', scale)}»" for scale in missing)
        refusal = ApiError(422, "scale_missing", f"Поставьте оценку по каждой шкале: не выбрано {names}.")
        return await _enrolment_page(request, enrolment_id, error=refusal, error_at="rating", values=values,
                                     status_code=422)
    api, token = _api(request), _token(request)
    try:
        if form.get("edit") == "1":
            await api_calls.edit_rating(api, token, str(enrolment_id), body)
        else:
            await api_calls.rate(api, token, {"enrolment_id": str(enrolment_id), **body},
                                 submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        return await _enrolment_page(request, enrolment_id, error=_refusal(exc), error_at="rating", values=values,
                                     status_code=exc.status)
    done = "rating_edited" if form.get("edit") == "1" else "rated"
    return RedirectResponse(f"/cabinet/enrolments/{enrolment_id}?done={done}#rating", status_code=303)


# ---- enrolling in a module ------------------------------------------------------------------

def start_date(raw: str | None, module: Mapping[str, Any], now: dt.date) -> dt.date:
    """The first day the child studies: the date asked for, else the later of today and the
    module's first day."""
    if raw:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    return max(now, dt.date.fromisoformat(str(module["start_date"])))


def quote_totals(quote: Mapping[str, Any]) -> dict[str, int]:
    """The schedule's sums (they equal the quote's parts: the schedule is kopeck-exact)."""
    schedule = quote.get("schedule") or ()
    return {"certificate": sum(int(m["certificate_kopecks"]) for m in schedule),
            "family": sum(int(m["family_kopecks"]) for m in schedule),
            "lessons": sum(int(m["planned_lessons"]) for m in schedule)}


async def _enrol_page(request: Request, module_id: uuid.UUID, program_id: str | None, *,
                      certificate_id: str | None, start_raw: str | None, mode: str | None,
                      error: ApiError | None = None, key: str | None = None) -> HTMLResponse:
    api, token = _api(request), _token(request)
    labels = await _labels(request)
    if not program_id:
        raise HTTPException(404)
    try:
        uuid.UUID(program_id)
    except ValueError as exc:
        raise HTTPException(404) from exc
    program, certificates = await asyncio.gather(api_calls.program(api, token, program_id),
                                                 api_calls.certificates(api, token))
    module = next((m for m in program["modules"] if str(m["module_id"]) == str(module_id)), None)
    if module is None:
        raise HTTPException(404)
    active = [c for c in certificates if c["status"] == "active"]
    chosen = next((c for c in active if str(c["id"]) == certificate_id), active[0] if active else None)
    start = start_date(start_raw, module, today())
    quote, quote_error = None, None
    if chosen is not None:
        try:
            quote = await api_calls.quote_module(api, token, chosen["id"], str(module_id), start)
        except ApiError as exc:
            if exc.status == 401 or exc.status >= 500:
                raise
            quote_error = exc.message
        if quote and quote.get("error"):
            quote_error, quote = quote["error"]["detail"], None
    context = {
        "title": f"Запись: {program['title']}", "nav_current": "cabinet", "program": program, "module": module,
        "certificates": active, "chosen": chosen, "start": start, "quote": quote, "quote_error": quote_error,
        "totals": quote_totals(quote) if quote else None, "modes": PAYMENT_MODES,
        "mode": mode if mode in PAYMENT_MODES else "monthly", "error": error,
        "idempotency_key": key or new_key(),
    }
    return render(request, "cabinet/enrol.html", context, labels=labels,
                  status_code=error.status if error is not None and error.status < 500 else 200)


@router.get("/enrol/{module_id}", response_class=HTMLResponse)
async def enrol_form(request: Request, module_id: uuid.UUID, user: PortalUser = Depends(parent_only)) -> HTMLResponse:
    q = request.query_params
    return await _enrol_page(request, module_id, q.get("program"), certificate_id=q.get("certificate"),
                             start_raw=q.get("start"), mode=q.get("mode"))


@router.post("/enrol/{module_id}", dependencies=[Depends(csrf_protect)])
async def enrol(request: Request, module_id: uuid.UUID, user: PortalUser = Depends(parent_only)) -> Response:
    form = await request.form()
    program_id, certificate_id = str(form.get("program") or ""), str(form.get("certificate") or "")
    mode, key = str(form.get("payment_mode") or ""), submitted_key(form.get("idempotency_key"))
    start_raw = str(form.get("start") or "")
    try:
        body = {"certificate_id": str(uuid.UUID(certificate_id)), "module_id": str(module_id),
                "start_date": dt.date.fromisoformat(start_raw).isoformat(),
                "payment_mode": mode if mode in PAYMENT_MODES else "monthly"}
    except ValueError as exc:
        raise HTTPException(422, "Проверьте введённые данные.") from exc
    try:
        created = await api_calls.enrol(_api(request), _token(request), body, key)
    except ApiError as exc:
        if exc.status == 401 or exc.status >= 500:
            raise
        # the form again, with the API's words about what it refused (and a fresh key: nothing was created)
        return await _enrol_page(request, module_id, program_id, certificate_id=certificate_id,
                                 start_raw=start_raw, mode=mode, error=exc)
    return RedirectResponse(f"/cabinet/enrolments/{created['enrolment_id']}", status_code=303)


# ---- applying for a certificate ---------------------------------------------------------------

APPLICATION_FIELDS = ("surname", "first_name", "patronymic", "birth_date", "snils", "municipality_code",
                      "applicant_role")


async def _apply_page(request: Request, values: Mapping[str, str], *, error: str | None = None,
                      fields: tuple[str, ...] = (), status_code: int = 200, key: str | None = None) -> HTMLResponse:
    labels = await _labels(request)
    municipalities = await api_calls.municipalities(_api(request), _token(request))
    return render(request, "cabinet/apply.html", {
        "title": "Заявление на сертификат", "nav_current": "cabinet", "values": values,
        "municipalities": municipalities, "error": error, "fields": fields,
        "idempotency_key": key or new_key(),
    }, labels=labels, status_code=status_code)


@router.get("/apply", response_class=HTMLResponse)
async def apply_form(request: Request, user: PortalUser = Depends(parent_only)) -> HTMLResponse:
    return await _apply_page(request, {"applicant_role": "parent"})


def application_body(values: Mapping[str, str]) -> dict[str, Any]:
    """The API's ``ApplicationIn`` from the form's fields (the API checks every value)."""
    child = {name: values.get(name, "").strip() for name in APPLICATION_FIELDS[:-1]}
    child["patronymic"] = child["patronymic"] or None
    role = values.get("applicant_role", "parent")
    return {"child": child, "applicant_role": role if role in ("parent", "guardian") else "parent"}


@router.post("/apply", dependencies=[Depends(csrf_protect)])
async def apply(request: Request, user: PortalUser = Depends(parent_only)) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in APPLICATION_FIELDS}
    key = submitted_key(form.get("idempotency_key"))
    if form.get("consent") != "yes":
        return await _apply_page(request, values, error=CONSENT_MISSING, status_code=422, key=key)
    try:
        created = await api_calls.apply_for_certificate(_api(request), _token(request), application_body(values), key)
    except ApiError as exc:
        if exc.status == 401 or exc.status >= 500:
            raise
        return await _apply_page(request, values, error=exc.message, fields=exc.field_messages,
                                 status_code=exc.status)
    return RedirectResponse(f"/cabinet?applied={created['id']}#applications", status_code=303)
