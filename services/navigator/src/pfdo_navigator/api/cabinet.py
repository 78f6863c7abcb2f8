"""The parent cabinet: my children's certificates and their enrolments."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query
from sqlalchemy import and_, select

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from ..adapters.tables import CERTIFICATES, ENROLMENTS
from . import schemas as s
from .context import SIGNED_IN, NavigatorContext, service_problems as _problems
from .enrolment_views import enrolments_out, enrolments_page, history_url, newest_first

router = APIRouter(tags=["cabinet"])


@router.get("/me/children", response_model=Page[s.ChildOut], summary="My children's certificates",
            operation_id="listMyChildren",
            description=("The signed-in parent's children's certificates, each with the link to its billing "
                         "history; paged with `limit` and `cursor`."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def my_children(nav: NavigatorContext, paging: PageRequest = Depends(paging_params(default=50, maximum=200)),
                      who: Principal = Depends(require("navigator.cabinet.read"))) -> dict:
    async with nav.runtime.db.transaction() as session:
        rows = await session.execute(
            select(CERTIFICATES).where(CERTIFICATES.c.parent_id == who.sub).order_by(CERTIFICATES.c.number)
        )
        children = [s.ChildOut(**dict(r._mapping), billing_history_url=history_url(r.certificate_id)) for r in rows]
    return paging.page_of_all(children, "me/children", lambda c: [c.number])


@router.get("/me/enrolments", response_model=Page[s.EnrolmentOut], summary="My children's enrolments with the money split",
            operation_id="listMyEnrolments",
            description=("The signed-in parent's enrolments with the cost split and the monthly instalments; "
                         "newest first, paged with `limit` and `cursor`."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def my_enrolments(
    nav: NavigatorContext,
    certificate_id: uuid.UUID | None = Query(default=None, description="Only this child."),
    paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
    who: Principal = Depends(require("navigator.cabinet.read")),
) -> dict:
    scope = f"me/enrolments|{certificate_id}"
    query = newest_first(select(ENROLMENTS), paging, scope).where(ENROLMENTS.c.parent_id == who.sub)
    if certificate_id:
        query = query.where(and_(ENROLMENTS.c.certificate_id == certificate_id))
    async with nav.runtime.db.transaction() as session:
        return enrolments_page(paging, scope, await enrolments_out(session, await session.execute(query)))

