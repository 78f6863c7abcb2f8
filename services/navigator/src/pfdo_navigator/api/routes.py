"""The navigator's HTTP API (mounted under /api/navigator)."""

from __future__ import annotations

from pfdo_plumbing import clock
import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import and_, select, tuple_

from pfdo_plumbing.auth.policy import optional, require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.db import UNIQUE_VIOLATION, Database, constraint_of, sqlstate_of
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.params import MonthPath, YearMonth
from pfdo_plumbing.http.problems import ProblemError, not_found
from pfdo_plumbing.runtime import ServiceRuntime

from pfdo_contracts.events.navigator import FrozenBy

from ..adapters.tables import CERTIFICATES, ENROLMENTS
from ..domain.disputes import DisputeState
from ..domain.enrolment import EnrolmentState
from ..domain.errors import DomainError
from ..domain.search_query import SearchQuery
from ..domain.waitlist import WaitingListSetting
from ..service import attendance as att
from ..service import enrolments as enr
from ..service.rebuild import rebuild_catalogue
from ..service.search import ChildContext, FacetCache, QuoteClient, SearchPage, run_search
from ..settings import NavigatorSettings
from . import schemas as s


SIGNED_IN = ("unauthenticated", "forbidden", "validation_error")
"""Codes any signed-in call may answer with (rate limits and outages are documented for every operation)."""


def _problems(*codes: str) -> dict[int | str, dict]:
    """The ``responses=`` of an operation: the problem answers it can give, with this service's texts."""
    return problems(*codes, service="navigator")


def _history_url(certificate_id: uuid.UUID) -> str:
    return f"/api/billing/certificates/{certificate_id}/history"


def _enrolment_out(row: Any, positions: dict[uuid.UUID, int] | None = None) -> s.EnrolmentOut:
    data = dict(row._mapping)
    data["billing_history_url"] = _history_url(row.certificate_id)
    data["waiting_position"] = (positions or {}).get(row.enrolment_id)
    return s.EnrolmentOut.model_validate(data)


def _newest_first(query: Any, paging: PageRequest, scope: str) -> Any:
    """Enrolments newest first (requested_at, then id, both descending), after the cursor's keyset."""
    query = query.order_by(ENROLMENTS.c.requested_at.desc(), ENROLMENTS.c.enrolment_id.desc()).limit(paging.limit + 1)
    keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, uuid.UUID)
    if keyset:
        query = query.where(tuple_(ENROLMENTS.c.requested_at, ENROLMENTS.c.enrolment_id) < tuple_(*keyset))
    return query


def _enrolments_page(paging: PageRequest, scope: str, items: list[s.EnrolmentOut]) -> dict:
    return paging.page(items, scope, lambda e: [e.requested_at.isoformat(), str(e.enrolment_id)])


async def _enrolments_out(session: Any, rows: Any) -> list[s.EnrolmentOut]:
    rows = list(rows)
    positions = await enr.waiting_positions(session, rows)
    return [_enrolment_out(r, positions) for r in rows]


_WAITLISTED_RESPONSE = {
    202: {
        "model": s.EnrolmentOut,
        "description": "The group is full and keeps a waiting list: the application waits (state `waitlisted`, "
        "`waiting_position` its place). When a seat frees it gets it automatically, first come first served "
        "(state `requested`, then the usual saga).",
    },
}


def build_routers(runtime: ServiceRuntime, settings: NavigatorSettings, quotes: QuoteClient,
                  search_db: Database) -> list[APIRouter]:
    db, outbox = runtime.db, runtime.outbox
    key = settings.cursor_key.encode()
    facet_cache = FacetCache(settings.facet_cache_s, reader=search_db)
    runtime.on_stop(facet_cache.aclose)

    def now() -> dt.datetime:
        return clock.now()

    # ---------------------------------------------------------------- catalogue
    catalogue = APIRouter(tags=["catalogue"])

    @catalogue.get(
        "/programs", response_model=s.SearchResult, summary="Search the catalogue",
        description=(
            "Full-text search in Russian with filters, sorting (relevance, rating, price, newest), keyset "
            "pagination and facet counts. A parent may pass `child=<certificate id>` (own child only) to see the "
            "cost to the family of every result (billing's quote; a module billing cannot quote has `quote` null and "
            "`quote_error` with billing's code and a reason, the others keep their prices) and filter with "
            "`no_copayment=true`. Open without "
            "a token (public fields only, limited per client address at the gateway); `child=` needs a parent's "
            "token (401 without one)."
        ),
        operation_id="searchPrograms",
        responses=_problems("unauthenticated", "validation_error", "invalid_query", "invalid_cursor",
                            "child_required", "not_found", "age_on_without_age", "relevance_requires_text",
                            "invalid_price_range"))
    async def search(
        request: Request,
        params: Annotated[s.SearchParams, Query()],
        who: Principal | None = Depends(optional("navigator.catalogue.search")),
    ) -> s.SearchResult:
        cursor, child, start_date, no_copayment = params.cursor, params.child, params.start_date, params.no_copayment
        query = params.to_query()
        today = settings.today()
        if no_copayment and child is None:
            raise ProblemError(422, "child_required", "no_copayment needs child=<certificate id>.")
        child_ctx: ChildContext | None = None
        async with search_db.reading() as session:
            if child is not None:
                if who is None:  # the cost to a family is a signed-in parent's view
                    raise ProblemError(401, "unauthenticated", "A bearer token is required to see the cost for a child.",
                                       headers={"WWW-Authenticate": 'Bearer realm="pfdo"'})
                cert = (await session.execute(select(CERTIFICATES).where(CERTIFICATES.c.certificate_id == child))).first()
                if cert is None or who.role != Role.PARENT or cert.parent_id != who.sub:
                    raise not_found("Certificate")
                child_ctx = ChildContext(child, cert.birth_date)
            page = await run_search(session, query, today=today, key=key, cursor=cursor, child=child_ctx,
                                    facet_cache=facet_cache)
            if child_ctx is None:
                return s.SearchResult(items=page.rows, next_cursor=page.next_cursor, total=page.total, facets=page.facets)
            token = request.headers.get("authorization", "").split(" ", 1)[-1]
            when = start_date or today
            if not no_copayment:
                prices = await quotes.quotes(token, child, when, [r["module_id"] for r in page.rows])
                for r in page.rows:
                    answer = prices.get(str(r["module_id"])) if prices else None
                    r["quote"] = answer.figures if answer else None
                    r["quote_error"] = answer.error if answer else None
                return s.SearchResult(items=page.rows, next_cursor=page.next_cursor, total=page.total,
                                      facets=page.facets, prices_available=prices is not None)
            return await _no_copayment(session, query, page, token, child_ctx, when, today)

    async def _no_copayment(
        session: Any, query: SearchQuery, page: SearchPage, token: str, child_ctx: ChildContext, when: dt.date,
        today: dt.date,
    ) -> s.SearchResult:
        """Scan pages, keeping results the family pays nothing for (at most 10 pages per call)."""
        kept: list[dict[str, Any]] = []
        current = page
        for _ in range(10):
            prices = await quotes.quotes(token, child_ctx.certificate_id, when, [r["module_id"] for r in current.rows])
            if prices is None:
                return s.SearchResult(items=[], next_cursor=None, total=page.total, facets=page.facets,
                                      prices_available=False)
            for r in current.rows:  # a module billing could not quote is not known to be free: left out
                answer = prices.get(str(r["module_id"]))
                if answer is not None and answer.figures is not None and answer.figures["family_kopecks"] == 0:
                    r["quote"] = answer.figures
                    kept.append(r)
            if len(kept) >= query.page_size or current.next_cursor is None:
                break
            current = await run_search(session, query, today=today, key=key, cursor=current.next_cursor,
                                       child=child_ctx, with_facets=False)
        # the cursor continues after the last scanned row, so no result is skipped or repeated
        return s.SearchResult(items=kept, next_cursor=current.next_cursor, total=page.total, facets=page.facets,
                              prices_available=True)

    # ---------------------------------------------------------------- enrolments
    enrolments = APIRouter(tags=["enrolments"])

    @enrolments.post(
        "/enrolments", response_model=s.EnrolmentOut, status_code=201, summary="Apply for a module group",
        description="Checks the certificate and the age, holds a seat atomically and asks billing to reserve "
        "(201, state `requested`). When the group is full: 202 with state `waitlisted` and `waiting_position` if "
        "its provider keeps a waiting list with room, else 409 `no_free_seats` (or `waiting_list_full`); 422 "
        "`not_eligible` with every reason.",
        responses={**_problems(*SIGNED_IN, "not_found", "already_enrolled", "certificate_not_active",
                               "direction_cap_reached", "age_out_of_range", "not_eligible", "start_in_past",
                               "start_outside_module", "no_free_seats", "waiting_list_full", "program_unavailable"),
                   **_WAITLISTED_RESPONSE},
        operation_id="applyForEnrolment")
    async def apply(
        body: s.ApplyRequest, response: Response, who: Principal = Depends(require("navigator.enrolment.apply"))
    ) -> s.EnrolmentOut:
        # a full group without a waiting list is answered with one statement, outside any transaction
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            if await enr.group_is_full_without_list(raw.driver_connection.fetchrow, body.module_id):
                raise ProblemError(409, "no_free_seats", "The group is full.")
        cmd = enr.ApplyCommand(body.certificate_id, body.module_id, body.start_date, body.payment_mode)
        try:
            row, positions = await enr.submit_application(db, outbox, who, cmd, today=settings.today(), now=now(),
                                                          direction_cap=settings.direction_cap)
        except Exception as exc:  # a concurrent twin request of the same child and group
            if sqlstate_of(exc) == UNIQUE_VIOLATION and constraint_of(exc) == "ux_enrolments_live":
                raise ProblemError(409, "already_enrolled", "The child already has a live enrolment in this group.") from exc
            raise
        if row.state == "waitlisted":
            response.status_code = 202
        return _enrolment_out(row, positions)

    @enrolments.get("/enrolments", response_model=Page[s.EnrolmentOut], summary="List enrolments in scope",
                    operation_id="listEnrolments",
                    description=("Parents see their own children's enrolments, providers those of their groups, "
                                 "municipal operators those of their municipality; newest first, paged with `limit` "
                                 "and `cursor`."),
                    responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_enrolments(
        module_id: uuid.UUID | None = Query(default=None, description="Only this group."),
        state: EnrolmentState | None = Query(default=None, description="Only this state."),
        paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
        who: Principal = Depends(require("navigator.enrolment.read")),
    ) -> dict:
        scope = f"enrolments|{module_id}|{state}"
        query = _newest_first(select(ENROLMENTS), paging, scope)
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
        async with db.transaction() as session:
            return _enrolments_page(paging, scope, await _enrolments_out(session, await session.execute(query)))

    @enrolments.get("/enrolments/{enrolment_id}", response_model=s.EnrolmentOut, summary="One enrolment",
                    operation_id="getEnrolment",
                    description=("An enrolment with its state, money split and waiting-list place, when it is in the "
                                 "caller's scope (404 otherwise)."),
                    responses=_problems(*SIGNED_IN, "not_found"))
    async def get_enrolment(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.read"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return (await _enrolments_out(session, [await enr.read(session, who, enrolment_id)]))[0]

    @enrolments.post("/enrolments/{enrolment_id}/confirm", response_model=s.EnrolmentOut,
                     summary="Provider confirms: the contract is concluded",
                     operation_id="confirmEnrolment",
                     description=("The provider accepts a reserved application to an own group; the contract is "
                                  "concluded and billing keeps the reservation."),
                     responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def confirm(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.decide"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.confirm(session, outbox, who, enrolment_id, settings.today()))

    @enrolments.post("/enrolments/{enrolment_id}/decline", response_model=s.EnrolmentOut,
                     summary="Provider declines (before the contract starts)",
                     operation_id="declineEnrolment",
                     description=("The provider refuses an application before the contract starts; the seat and the "
                                  "reservation are released."),
                     responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def decline(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.decide"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.decline(session, outbox, who, enrolment_id, settings.today(),
                                                    direction_cap=settings.direction_cap))

    @enrolments.post("/enrolments/{enrolment_id}/cancel", response_model=s.EnrolmentOut,
                     summary="Parent cancels before the contract starts",
                     description="Everything is released and the seat goes to the group's waiting list. Cancelling "
                     "a waiting application takes it off the list (as leave-waiting-list).",
                     operation_id="cancelEnrolment",
                     responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def cancel(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.cancel"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.cancel(session, outbox, who, enrolment_id, settings.today(),
                                                   direction_cap=settings.direction_cap))

    @enrolments.post("/enrolments/{enrolment_id}/leave-waiting-list", response_model=s.EnrolmentOut,
                     tags=["waiting list"], summary="Parent takes a waiting application off the list",
                     description="waitlisted -> withdrawn (idempotent); 409 `illegal_transition` when the "
                     "application is not waiting. Own children only (404 otherwise).",
                     operation_id="leaveWaitingList",
                     responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def leave_waiting_list(
        enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.waitlist.leave"))
    ) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.leave_waiting_list(session, outbox, who, enrolment_id, settings.today()))

    def _waiting_list_out(view: enr.WaitingListView) -> s.WaitingListOut:
        return s.WaitingListOut.model_validate(view.__dict__)

    @enrolments.get("/modules/{module_id}/waiting-list", response_model=s.WaitingListOut, tags=["waiting list"],
                    summary="A group's waiting-list setting and its waiting applications in order",
                    description="Providers see their own groups, municipal operators the groups of their "
                    "municipality (404 otherwise). Parents see their own place in the enrolment itself.",
                    operation_id="getWaitingList",
                    responses=_problems(*SIGNED_IN, "not_found"))
    async def get_waiting_list(
        module_id: uuid.UUID, who: Principal = Depends(require("navigator.waitlist.read"))
    ) -> s.WaitingListOut:
        async with db.transaction() as session:
            return _waiting_list_out(await enr.read_waiting_list(session, who, module_id))

    @enrolments.put("/modules/{module_id}/waiting-list", response_model=s.WaitingListOut, tags=["waiting list"],
                    summary="Provider keeps (or stops) a waiting list for an own group",
                    description="`enabled` with an optional `max_length`. Turning it off stops new entries; "
                    "applications already waiting keep their place and still get freed seats.",
                    operation_id="setWaitingList",
                    responses=_problems(*SIGNED_IN, "not_found", "invalid_waiting_list_length"))
    async def put_waiting_list(
        module_id: uuid.UUID, body: s.WaitingListIn, who: Principal = Depends(require("navigator.waitlist.manage"))
    ) -> s.WaitingListOut:
        setting = WaitingListSetting(body.enabled, body.max_length)
        async with db.transaction() as session:
            return _waiting_list_out(await enr.set_waiting_list(
                session, outbox, who, module_id, setting, today=settings.today(), direction_cap=settings.direction_cap))

    @enrolments.post("/enrolments/{enrolment_id}/terminate", response_model=s.EnrolmentOut,
                     summary="Parent or provider terminates a running contract (ends at the end of this month)",
                     operation_id="terminateEnrolment",
                     description=("The contract ends at the end of the current month, which is still billed by its "
                                  "payment mode; the reserved money of later months returns to the balance at once."),
                     responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def terminate(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.terminate"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.terminate(session, outbox, who, enrolment_id, settings.today(),
                                                      direction_cap=settings.direction_cap))

    # ---------------------------------------------------------------- attendance
    attendance = APIRouter(tags=["attendance"])

    @attendance.post("/attendance", response_model=s.AttendanceReport, summary="Post attendance marks (own groups)",
                     description="One lesson or a month's journal. Accepted marks are stored and published; each refused "
                     "mark comes back with its reason.",
                     operation_id="postAttendance",
                     responses=_problems(*SIGNED_IN, "too_many_marks", "journal_frozen"))
    async def post_attendance(body: s.AttendancePosting, who: Principal = Depends(require("navigator.attendance.post"))) -> s.AttendanceReport:
        if len(body.marks) > settings.attendance_max_marks:
            raise ProblemError(413, "too_many_marks", f"At most {settings.attendance_max_marks} marks per posting.",
                               details={"limit": settings.attendance_max_marks})
        marks = [att.MarkInput(m.enrolment_id, m.module_id, m.lesson_date, m.status) for m in body.marks]
        async with db.transaction() as session:
            report = await att.post_marks(session, outbox, who, marks, today=settings.today())
        return s.AttendanceReport.model_validate(report)

    @attendance.get("/attendance", response_model=Page[s.MarkOut], summary="Marks of an enrolment",
                    operation_id="listAttendanceMarks",
                    description=("Every mark of an enrolment (or of one month of it) with the last day a parent may "
                                 "dispute it. Parents: own children; providers: own groups."),
                    responses=_problems(*SIGNED_IN, "not_found", "invalid_cursor"))
    async def get_attendance(
        enrolment_id: uuid.UUID = Query(description="Enrolment id."),
        month: YearMonth | None = Query(default=None, description="Only this month, 'YYYY-MM' (2000-01..2100-12)."),
        paging: PageRequest = Depends(paging_params(default=500, maximum=1000)),
        who: Principal = Depends(require("navigator.attendance.read")),
    ) -> dict:
        async with db.transaction() as session:
            marks = [s.MarkOut.model_validate(m) for m in await att.read_marks(session, who, enrolment_id, month)]
        return paging.page_of_all(marks, f"attendance|{enrolment_id}|{month}",
                                  lambda m: [m.lesson_date.isoformat(), str(m.mark_id)])

    @attendance.post("/attendance/months/{month}/freeze", response_model=s.JournalMonthOut,
                     summary="Freeze a month's journal before billing closes the month (idempotent)",
                     description="From then on marks and corrections of the month are refused (409 journal_frozen); "
                     "the navigator publishes AttendanceMonthFrozen with the count of the month's attendance events, "
                     "which billing waits for before it closes the month. The scheduled job does the same on the "
                     "configured freeze day. Disputes of the month's marks stay possible.",
                     operation_id="freezeJournalMonth",
                     responses=_problems(*SIGNED_IN, "month_not_over"))
    async def freeze_month(
        month: MonthPath,
        who: Principal = Depends(require("navigator.attendance.freeze")),
    ) -> s.JournalMonthOut:
        try:
            async with db.transaction() as session:
                row = await att.freeze_month(
                    session, outbox, who, month, today=settings.today(), by=FrozenBy.OPERATOR,
                    require_month_end=settings.journal_freeze_requires_month_end,
                )
        except DomainError as exc:
            if exc.code == "month_not_over":
                raise ProblemError(409, exc.code, exc.message, details=exc.details) from exc
            raise
        return s.JournalMonthOut.model_validate(row)

    @attendance.get("/attendance/months/{month}", response_model=s.JournalMonthOut,
                    summary="Whether a month's journal is open or frozen",
                    operation_id="getJournalMonth",
                    description=("open: marks and corrections of the month are accepted; frozen: they are refused and"
                                 " billing may close the month."),
                    responses=_problems(*SIGNED_IN))
    async def journal_month(
        month: MonthPath,
        who: Principal = Depends(require("navigator.attendance.read")),
    ) -> s.JournalMonthOut:
        async with db.transaction() as session:
            return s.JournalMonthOut.model_validate(await att.read_journal_month(session, month))

    # ---------------------------------------------------------------- disputes
    disputes = APIRouter(tags=["disputes"])

    def _dispute_out(row: Any) -> s.DisputeOut:
        return s.DisputeOut.model_validate(dict(row._mapping))

    @disputes.post("/disputes", response_model=s.DisputeOut, status_code=201, summary="Parent disputes a mark (7 days)",
                   operation_id="openDispute",
                   description=("The parent disputes a mark within 7 days of its recording; a disputed mark is not "
                                "billed until the municipal operator decides."),
                   responses=_problems(*SIGNED_IN, "not_found", "dispute_already_open", "dispute_window_closed",
                                       "claim_matches_mark", "month_closed"))
    async def open_dispute(body: s.DisputeIn, who: Principal = Depends(require("navigator.dispute.open"))) -> s.DisputeOut:
        try:
            async with db.transaction() as session:
                row = await att.open_dispute(session, outbox, who, body.mark_id, body.claimed_status, body.comment,
                                             today=settings.today(), now=now())
        except Exception as exc:
            if type(exc).__name__ == "IntegrityError" and "ux_disputes_open" in str(exc):
                raise ProblemError(409, "dispute_already_open", "This mark already has an open dispute.") from exc
            raise
        return _dispute_out(row)

    @disputes.post("/disputes/{dispute_id}/resolve", response_model=s.DisputeOut, summary="Operator decides a dispute",
                   operation_id="resolveDispute",
                   description=("The municipal operator upholds the dispute (the claimed status replaces the mark) or"
                                " rejects it (the mark stands)."),
                   responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def resolve(dispute_id: uuid.UUID, body: s.ResolveIn, who: Principal = Depends(require("navigator.dispute.resolve"))) -> s.DisputeOut:
        async with db.transaction() as session:
            return _dispute_out(await att.resolve_dispute(session, outbox, who, dispute_id, body.upheld, body.note,
                                                          today=settings.today(), now=now()))

    @disputes.get("/disputes", response_model=Page[s.DisputeOut], summary="Disputes in scope",
                  operation_id="listDisputes",
                  description=("Parents see their own disputes, providers those of their groups, municipal operators "
                               "those of their municipality; oldest first, paged with `limit` and `cursor`."),
                  responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_disputes(
        state: DisputeState | None = Query(default=None, description="Only this state."),
        paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
        who: Principal = Depends(require("navigator.dispute.read")),
    ) -> dict:
        scope = f"disputes|{state}"
        keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, uuid.UUID)
        async with db.transaction() as session:
            try:
                rows = await att.list_disputes(session, who, state, paging.limit + 1, after=keyset)
            except ValueError:
                return {"items": [], "next_cursor": None}
        return paging.page([_dispute_out(r) for r in rows], scope,
                           lambda d: [d.opened_at.isoformat(), str(d.dispute_id)])

    @disputes.get("/disputes/{dispute_id}", response_model=s.DisputeOut, summary="One dispute",
                  operation_id="getDispute",
                  description="One dispute in the caller's scope (404 otherwise).",
                  responses=_problems(*SIGNED_IN, "not_found"))
    async def get_dispute(dispute_id: uuid.UUID, who: Principal = Depends(require("navigator.dispute.read"))) -> s.DisputeOut:
        async with db.transaction() as session:
            row, _ = await att.read_dispute(session, who, dispute_id)
            return _dispute_out(row)

    # ---------------------------------------------------------------- parent cabinet
    cabinet = APIRouter(tags=["cabinet"])

    @cabinet.get("/me/children", response_model=Page[s.ChildOut], summary="My children's certificates",
                 operation_id="listMyChildren",
                 description=("The signed-in parent's children's certificates, each with the link to its billing "
                              "history; paged with `limit` and `cursor`."),
                 responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def my_children(paging: PageRequest = Depends(paging_params(default=50, maximum=200)),
                          who: Principal = Depends(require("navigator.cabinet.read"))) -> dict:
        async with db.transaction() as session:
            rows = await session.execute(
                select(CERTIFICATES).where(CERTIFICATES.c.parent_id == who.sub).order_by(CERTIFICATES.c.number)
            )
            children = [s.ChildOut(**dict(r._mapping), billing_history_url=_history_url(r.certificate_id)) for r in rows]
        return paging.page_of_all(children, "me/children", lambda c: [c.number])

    @cabinet.get("/me/enrolments", response_model=Page[s.EnrolmentOut], summary="My children's enrolments with the money split",
                 operation_id="listMyEnrolments",
                 description=("The signed-in parent's enrolments with the cost split and the monthly instalments; "
                              "newest first, paged with `limit` and `cursor`."),
                 responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def my_enrolments(
        certificate_id: uuid.UUID | None = Query(default=None, description="Only this child."),
        paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
        who: Principal = Depends(require("navigator.cabinet.read")),
    ) -> dict:
        scope = f"me/enrolments|{certificate_id}"
        query = _newest_first(select(ENROLMENTS), paging, scope).where(ENROLMENTS.c.parent_id == who.sub)
        if certificate_id:
            query = query.where(and_(ENROLMENTS.c.certificate_id == certificate_id))
        async with db.transaction() as session:
            return _enrolments_page(paging, scope, await _enrolments_out(session, await session.execute(query)))

    # ---------------------------------------------------------------- operations
    admin = APIRouter(tags=["admin"])

    @admin.post("/admin/catalogue/rebuild", response_model=s.RebuildOut,
                summary="Rebuild the catalogue from the topics (offset zero)",
                operation_id="rebuildCatalogue",
                description=("Replays the registry and ratings topics from offset zero into a fresh copy of the "
                             "catalogue and swaps it in; the live catalogue keeps answering meanwhile."),
                responses=_problems(*SIGNED_IN))
    async def rebuild(who: Principal = Depends(require("navigator.admin.rebuild"))) -> s.RebuildOut:
        report = await rebuild_catalogue(db, settings.kafka_bootstrap, runtime.names)
        async with db.transaction() as session:
            from pfdo_plumbing import audit

            await audit.record(session, who, "catalogue.rebuilt", "catalogue", "catalogue",
                               details={"entries": report.entries, "events": report.events_applied})
        return s.RebuildOut(**report.__dict__)

    return [catalogue, enrolments, attendance, disputes, cabinet, admin]
