"""Applications for a module group, the provider's decisions, cancellation, termination and waiting lists."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from pfdo_plumbing import clock
from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.db import UNIQUE_VIOLATION, constraint_of, sqlstate_of
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.problems import ProblemError

from ..adapters.tables import ENROLMENTS
from ..domain.enrolment import EnrolmentState
from ..domain.waitlist import WaitingListSetting
from ..service import enrolments as enr
from . import schemas as s
from .context import SIGNED_IN, NavigatorContext, service_problems as _problems
from .enrolment_views import enrolment_out, enrolments_out, enrolments_page, newest_first

router = APIRouter(tags=["enrolments"])

_WAITLISTED_RESPONSE = {
    202: {
        "model": s.EnrolmentOut,
        "description": "The group is full and keeps a waiting list: the application waits (state `waitlisted`, "
        "`waiting_position` its place). When a seat frees it gets it automatically, first come first served "
        "(state `requested`, then the usual saga).",
    },
}


@router.post(
    "/enrolments", response_model=s.EnrolmentOut, status_code=201, summary="Apply for a module group",
    description="Checks the certificate and the age, holds a seat atomically and asks billing to reserve "
    "(201, state `requested`). When the group is full: 202 with state `waitlisted` and `waiting_position` if "
    "its provider keeps a waiting list with room, else 409 `no_free_seats` (or `waiting_list_full`); 422 "
    "`not_eligible` with every reason.",
    responses={**_problems(*SIGNED_IN, "not_found", "already_enrolled", "certificate_not_active",
                           "age_out_of_range", "not_eligible", "start_in_past",
                           "start_outside_module", "no_free_seats", "waiting_list_full", "program_unavailable"),
               **_WAITLISTED_RESPONSE},
    operation_id="applyForEnrolment")
async def apply(
    nav: NavigatorContext,
    body: s.ApplyRequest, response: Response, who: Principal = Depends(require("navigator.enrolment.apply"))
) -> s.EnrolmentOut:
    # a full group without a waiting list is answered with one statement, outside any transaction
    async with nav.runtime.db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        if await enr.group_is_full_without_list(raw.driver_connection.fetchrow, body.module_id):
            raise ProblemError(409, "no_free_seats", "The group is full.")
    cmd = enr.ApplyCommand(body.certificate_id, body.module_id, body.start_date, body.payment_mode)
    try:
        row, positions = await enr.submit_application(nav.runtime.db, nav.runtime.outbox, who, cmd,
                                                      today=nav.settings.today(), now=clock.now())
    except Exception as exc:  # a concurrent twin request of the same child and group
        if sqlstate_of(exc) == UNIQUE_VIOLATION and constraint_of(exc) == "ux_enrolments_live":
            raise ProblemError(409, "already_enrolled", "The child already has a live enrolment in this group.") from exc
        raise
    if row.state == "waitlisted":
        response.status_code = 202
    return enrolment_out(row, positions)


@router.get("/enrolments", response_model=Page[s.EnrolmentOut], summary="List enrolments in scope",
            operation_id="listEnrolments",
            description=("Parents see their own children's enrolments, providers those of their groups, "
                         "municipal operators those of their municipality; newest first, paged with `limit` "
                         "and `cursor`."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_enrolments(
    nav: NavigatorContext,
    module_id: uuid.UUID | None = Query(default=None, description="Only this group."),
    state: EnrolmentState | None = Query(default=None, description="Only this state."),
    paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
    who: Principal = Depends(require("navigator.enrolment.read")),
) -> dict:
    scope = f"enrolments|{module_id}|{state}"
    query = newest_first(select(ENROLMENTS), paging, scope)
    if who.role == Role.PARENT:
        query = query.where(ENROLMENTS.c.parent_id == who.sub)
    elif who.role == Role.PROVIDER:
        try:
            query = query.where(ENROLMENTS.c.provider_id == uuid.UUID(who.provider_id or ""))
        except ValueError:
            return {"items": [], "next_cursor": None}
    elif who.role == Role.MUNICIPAL_OPERATOR:
        query = query.where(ENROLMENTS.c.municipality_code == who.municipality)
    if module_id:
        query = query.where(ENROLMENTS.c.module_id == module_id)
    if state:
        query = query.where(ENROLMENTS.c.state == state)
    async with nav.runtime.db.transaction() as session:
        return enrolments_page(paging, scope, await enrolments_out(session, await session.execute(query)))


@router.get("/enrolments/{enrolment_id}", response_model=s.EnrolmentOut, summary="One enrolment",
            operation_id="getEnrolment",
            description=("An enrolment with its state, money split and waiting-list place, when it is in the "
                         "caller's scope (404 otherwise)."),
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_enrolment(
    nav: NavigatorContext, enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.read")),
) -> s.EnrolmentOut:
    async with nav.runtime.db.transaction() as session:
        return (await enrolments_out(session, [await enr.read(session, who, enrolment_id)]))[0]


@router.post("/enrolments/{enrolment_id}/confirm", response_model=s.EnrolmentOut,
             summary="Provider confirms: the platform issues the offer to the parent",
             operation_id="confirmEnrolment",
             description=("The provider accepts a reserved application to an own group; the platform issues "
                          "the contract as an offer (state `offered`, `offer_expires_on` its deadline). The "
                          "contract is made when the parent accepts it; billing keeps the reservation."),
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def confirm(
    nav: NavigatorContext, enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.decide")),
) -> s.EnrolmentOut:
    async with nav.runtime.db.transaction() as session:
        return enrolment_out(await enr.confirm(session, nav.runtime.outbox, who, enrolment_id, nav.settings.today(),
                                               acceptance_days=nav.settings.offer_acceptance_days))


@router.post("/enrolments/{enrolment_id}/accept", response_model=s.EnrolmentOut,
             summary="Parent accepts the offer: the contract is concluded",
             operation_id="acceptOffer",
             description=("The parent accepts the offer (договор-оферта) of an own child's enrolment: "
                          "`offered -> confirmed`, who and when recorded (`accepted_by`, `accepted_at`). "
                          "Idempotent; 409 `offer_expired` after its deadline, `illegal_transition` without an "
                          "open offer. Declining the offer is `cancel`."),
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "offer_expired"))
async def accept(
    nav: NavigatorContext, enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.accept")),
) -> s.EnrolmentOut:
    async with nav.runtime.db.transaction() as session:
        return enrolment_out(await enr.accept(session, nav.runtime.outbox, who, enrolment_id,
                                              today=nav.settings.today(), now=clock.now()))


@router.post("/enrolments/{enrolment_id}/decline", response_model=s.EnrolmentOut,
             summary="Provider declines (before the contract starts)",
             operation_id="declineEnrolment",
             description=("The provider refuses an application before the contract starts; the seat and the "
                          "reservation are released."),
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def decline(
    nav: NavigatorContext, enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.decide")),
) -> s.EnrolmentOut:
    async with nav.runtime.db.transaction() as session:
        return enrolment_out(await enr.decline(session, nav.runtime.outbox, who, enrolment_id, nav.settings.today()))


@router.post("/enrolments/{enrolment_id}/cancel", response_model=s.EnrolmentOut,
             summary="Parent cancels before the contract starts (or declines the offer)",
             description="Everything is released and the seat goes to the group's waiting list. Cancelling "
             "an offered enrolment declines the offer (reason `offer_declined`). Cancelling "
             "a waiting application takes it off the list (as leave-waiting-list).",
             operation_id="cancelEnrolment",
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def cancel(
    nav: NavigatorContext, enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.cancel")),
) -> s.EnrolmentOut:
    async with nav.runtime.db.transaction() as session:
        return enrolment_out(await enr.cancel(session, nav.runtime.outbox, who, enrolment_id, nav.settings.today()))


@router.post("/enrolments/{enrolment_id}/leave-waiting-list", response_model=s.EnrolmentOut,
             tags=["waiting list"], summary="Parent takes a waiting application off the list",
             description="waitlisted -> withdrawn (idempotent); 409 `illegal_transition` when the "
             "application is not waiting. Own children only (404 otherwise).",
             operation_id="leaveWaitingList",
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def leave_waiting_list(
    nav: NavigatorContext,
    enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.waitlist.leave"))
) -> s.EnrolmentOut:
    async with nav.runtime.db.transaction() as session:
        return enrolment_out(await enr.leave_waiting_list(session, nav.runtime.outbox, who, enrolment_id,
                                                          nav.settings.today()))


def _waiting_list_out(view: enr.WaitingListView) -> s.WaitingListOut:
    return s.WaitingListOut.model_validate(view.__dict__)


@router.get("/modules/{module_id}/waiting-list", response_model=s.WaitingListOut, tags=["waiting list"],
            summary="A group's waiting-list setting and its waiting applications in order",
            description="Providers see their own groups, municipal operators the groups of their "
            "municipality (404 otherwise). Parents see their own place in the enrolment itself.",
            operation_id="getWaitingList",
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_waiting_list(
    nav: NavigatorContext,
    module_id: uuid.UUID, who: Principal = Depends(require("navigator.waitlist.read"))
) -> s.WaitingListOut:
    async with nav.runtime.db.transaction() as session:
        return _waiting_list_out(await enr.read_waiting_list(session, who, module_id))


@router.put("/modules/{module_id}/waiting-list", response_model=s.WaitingListOut, tags=["waiting list"],
            summary="Provider keeps (or stops) a waiting list for an own group",
            description="`enabled` with an optional `max_length`. Turning it off stops new entries; "
            "applications already waiting keep their place and still get freed seats.",
            operation_id="setWaitingList",
            responses=_problems(*SIGNED_IN, "not_found", "invalid_waiting_list_length"))
async def put_waiting_list(
    nav: NavigatorContext,
    module_id: uuid.UUID, body: s.WaitingListIn, who: Principal = Depends(require("navigator.waitlist.manage"))
) -> s.WaitingListOut:
    setting = WaitingListSetting(body.enabled, body.max_length)
    async with nav.runtime.db.transaction() as session:
        return _waiting_list_out(await enr.set_waiting_list(
            session, nav.runtime.outbox, who, module_id, setting, today=nav.settings.today()))


@router.post("/enrolments/{enrolment_id}/terminate", response_model=s.EnrolmentOut,
             summary="Parent or provider terminates a running contract (ends at the end of this month)",
             operation_id="terminateEnrolment",
             description=("The contract ends at the end of the current month, which is still billed by its "
                          "payment mode; the reserved money of later months returns to the balance at once."),
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def terminate(
    nav: NavigatorContext, enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.terminate")),
) -> s.EnrolmentOut:
    async with nav.runtime.db.transaction() as session:
        return enrolment_out(await enr.terminate(session, nav.runtime.outbox, who, enrolment_id, nav.settings.today()))

