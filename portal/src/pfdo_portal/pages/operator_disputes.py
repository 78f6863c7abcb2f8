"""Disputes of attendance marks for the operator to decide (``/operator/disputes``): the lesson,
the mark, what the parent claims and their comment, and when the mark was recorded — a parent
may dispute it within 7 days (docs/domain-rules.md, "Attendance journal and disputes"). The
operator upholds the dispute (the claimed status replaces the mark) or rejects it (the mark
stands), with a note; decided disputes are listed with their outcome.

A municipal operator sees its municipality's disputes (the API gives no other). The decision is a
CSRF-protected form post carrying the ``Idempotency-Key`` drawn with the form, then a redirect
with a notice; a refusal of the API is shown next to the form.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..auth import PortalUser, csrf_protect, require_role
from ..gateway import ApiError
from ..gateway import oversight as api
from ..idempotency import new_key, submitted_key
from ..rendering import access_token, render
from .cabinet import REGION_TZ

router = APIRouter(include_in_schema=False)
operators_only = require_role("municipal_operator", "regional_operator")

WINDOW_DAYS = 7
"""A parent may dispute a mark within 7 calendar days of its recording, both ends included."""
DECIDED_SHOWN = 50
"""Decided disputes listed (the latest)."""
NOTE_MAX = 2000
DECISIONS = {"upheld": True, "rejected": False}


@dataclass(frozen=True)
class DisputeView:
    dispute_id: str
    enrolment_id: str
    lesson_date: dt.date
    mark_status: str | None
    claimed_status: str
    comment: str | None
    state: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    note: str | None
    marked_on: dt.date | None
    program: str | None = None

    @property
    def window_ends(self) -> dt.date | None:
        """The last day the mark could be disputed."""
        return self.marked_on + dt.timedelta(days=WINDOW_DAYS) if self.marked_on else None

    @property
    def opened_on(self) -> dt.date:
        """The region's date the dispute was opened."""
        return self.opened_at.astimezone(REGION_TZ).date()

    @property
    def resolved_on(self) -> dt.date | None:
        return self.resolved_at.astimezone(REGION_TZ).date() if self.resolved_at else None

    @property
    def opened_in_window(self) -> bool | None:
        ends = self.window_ends
        return None if ends is None else self.opened_on <= ends

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def _moment(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _day(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def dispute_view(d: Mapping[str, Any]) -> DisputeView:
    return DisputeView(
        dispute_id=str(d["dispute_id"]), enrolment_id=str(d["enrolment_id"]), lesson_date=_day(d["lesson_date"]),
        mark_status=d.get("mark_status"), claimed_status=str(d["claimed_status"]), comment=d.get("comment") or None,
        state=str(d["state"]), opened_at=_moment(d["opened_at"]),
        resolved_at=_moment(d["resolved_at"]) if d.get("resolved_at") else None,
        note=d.get("resolution_note") or None, marked_on=_day(d.get("marked_on")))


def split(disputes: Iterable[DisputeView]) -> tuple[list[DisputeView], list[DisputeView]]:
    """Open disputes, oldest first (they wait longest), and the latest decided ones, newest first."""
    found = list(disputes)
    waiting = sorted((d for d in found if d.is_open), key=lambda d: d.opened_at)
    decided = sorted((d for d in found if not d.is_open), key=lambda d: d.resolved_at or d.opened_at, reverse=True)
    return waiting, decided[:DECIDED_SHOWN]


def decision_of(form: Mapping[str, Any]) -> tuple[bool | None, str | None, list[str]]:
    """(upheld, note, errors) of the decision form."""
    errors = []
    upheld = DECISIONS.get(str(form.get("decision") or ""))
    if upheld is None:
        errors.append("Выберите решение: удовлетворить спор или отклонить.")
    note = str(form.get("note") or "").strip() or None
    if note and len(note) > NOTE_MAX:
        errors.append(f"Комментарий к решению — не длиннее {NOTE_MAX} знаков.")
    return upheld, note, errors


async def _program_titles(request: Request, enrolment_ids: Iterable[str]) -> dict[str, str]:
    """enrolment id -> «program: group» for the disputes shown (an enrolment that cannot be read
    is left out)."""
    gateway, token = request.app.state.api, access_token(request)
    ids = sorted(set(enrolment_ids))
    enrolments = await asyncio.gather(*(api.enrolment(gateway, token, e) for e in ids), return_exceptions=True)
    found = {e: x for e, x in zip(ids, enrolments, strict=True) if isinstance(x, dict)}
    program_ids = sorted({str(x["program_id"]) for x in found.values()})
    pages = await asyncio.gather(*(gateway.program_page(p, token=token) for p in program_ids), return_exceptions=True)
    programs = {p: x for p, x in zip(program_ids, pages, strict=True) if isinstance(x, dict)}
    titles = {}
    for enrolment_id, e in found.items():
        program = programs.get(str(e["program_id"]))
        if program is None:
            continue
        group = next((m.get("title") for m in program.get("modules", ())
                      if str(m.get("module_id")) == str(e["module_id"])), None)
        titles[enrolment_id] = f"{program['title']}: {group}" if group else str(program["title"])
    return titles


async def _page(request: Request, *, status_code: int = 200, failed: str | None = None,
                errors: list[str] | None = None, note: str | None = None) -> HTMLResponse:
    found = [dispute_view(d) for d in await api.disputes(request.app.state.api, access_token(request))]
    waiting, decided = split(found)
    titles = await _program_titles(request, (d.enrolment_id for d in [*waiting, *decided]))
    waiting = [replace(d, program=titles.get(d.enrolment_id)) for d in waiting]
    decided = [replace(d, program=titles.get(d.enrolment_id)) for d in decided]
    labels = await request.app.state.labels.book()
    return render(request, "operator/disputes.html", {
        "title": "Споры по отметкам", "section": "disputes", "nav_current": "operator", "waiting": waiting,
        "decided": decided, "keys": {d.dispute_id: new_key() for d in waiting}, "failed": failed,
        "failed_elsewhere": failed is not None and all(d.dispute_id != failed for d in waiting),
        "errors": errors or [], "note": note, "done": request.query_params.get("done"),
    }, labels=labels, status_code=status_code)


@router.get("/operator/disputes", response_class=HTMLResponse)
async def disputes(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    return await _page(request)


@router.post("/operator/disputes/{dispute_id}/resolve", dependencies=[Depends(csrf_protect)])
async def resolve(request: Request, dispute_id: uuid.UUID, user: PortalUser = Depends(operators_only)) -> Response:
    form = await request.form()
    upheld, note, errors = decision_of(form)
    target = str(dispute_id)
    if errors:
        return await _page(request, status_code=422, failed=target, errors=errors, note=note)
    try:
        await api.resolve_dispute(request.app.state.api, access_token(request), target, upheld=bool(upheld),
                                  note=note, key=submitted_key(form.get("idempotency_key")))
    except ApiError as exc:
        if exc.status in (401, 403) or exc.status >= 500:
            raise
        return await _page(request, status_code=exc.status, failed=target, note=note,
                           errors=list(exc.field_messages) or [exc.message])
    return RedirectResponse(f"/operator/disputes?done={'upheld' if upheld else 'rejected'}", status_code=303)
