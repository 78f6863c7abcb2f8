"""Disputes on the provider's attendance marks (``/provider/disputes``): which lesson, what the
parent says, whether the operator has decided and how (docs/domain-rules.md: disputes)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..auth import PortalUser
from ..gateway import organisation as api
from ..rendering import access_token, render
from . import provider_forms as forms
from .provider import provider_only
from .provider_orders import group_names

router = APIRouter(include_in_schema=False)


@router.get("/provider/disputes", response_class=HTMLResponse)
async def disputes(request: Request, user: PortalUser = Depends(provider_only)) -> HTMLResponse:
    token, gateway = access_token(request), request.app.state.api
    found, enrolments, groups = await asyncio.gather(
        api.disputes(gateway, token), api.enrolments(gateway, token), group_names(request, user))
    labels = await request.app.state.labels.book()
    rows = forms.dispute_rows(found, enrolments, groups, labels.group("mark_statuses"))
    context = {"title": "Споры по отметкам", "section": "disputes", "nav_current": "provider", "disputes": rows,
               "open_count": sum(1 for r in rows if r.state == "open")}
    return render(request, "provider/disputes.html", context, labels=labels)
