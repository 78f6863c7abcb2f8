"""The navigator's HTTP API (mounted under /api/navigator)."""

from __future__ import annotations

from pfdo_plumbing import clock
import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import and_, select

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.db import UNIQUE_VIOLATION, Database, constraint_of, sqlstate_of
from pfdo_plumbing.http.problems import ProblemError, not_found
from pfdo_plumbing.runtime import ServiceRuntime

from pfdo_contracts.events.navigator import FrozenBy

from ..adapters.tables import CERTIFICATES, ENROLMENTS
from ..domain.errors import DomainError
from ..domain.search_query import SearchQuery
from ..domain.waitlist import WaitingListSetting
from ..service import attendance as att
from ..service import enrolments as enr
from ..service.rebuild import rebuild_catalogue
from ..service.search import ChildContext, FacetCache, QuoteClient, SearchPage, run_search
from ..settings import NavigatorSettings
from . import schemas as s

_SEARCH_PARAMS = (
    "text", "municipality", "direction", "child_age", "age_on", "funding_kind", "free_seats_only", "weekday",
    "weekdays", "provider_id", "price_min", "price_max", "sort", "page_size",
)
_EXTRA_PARAMS = ("cursor", "child", "start_date", "no_copayment")


def _history_url(certificate_id: uuid.UUID) -> str:
    return f"/api/billing/certificates/{certificate_id}/history"


def _enrolment_out(row: Any, positions: dict[uuid.UUID, int] | None = None) -> s.EnrolmentOut:
    data = dict(row._mapping)
    data["billing_history_url"] = _history_url(row.certificate_id)
    data["waiting_position"] = (positions or {}).get(row.enrolment_id)
    return s.EnrolmentOut.model_validate(data)


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
    409: {"description": "`no_free_seats` (full, no waiting list), `waiting_list_full`, `already_enrolled`, "
          "`program_unavailable`."},
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
            "cost to the family of every result (billing's quote) and filter with `no_copayment=true`."
        ),
    )
    async def search(
        request: Request,
        params: Annotated[s.SearchParams, Query()],
        who: Principal = Depends(require("navigator.catalogue.search")),
    ) -> s.SearchResult:
        cursor, child, start_date, no_copayment = params.cursor, params.child, params.start_date, params.no_copayment
        raw: dict[str, Any] = {}
        for name, value in request.query_params.multi_items():
            if name in _EXTRA_PARAMS:
                continue
            if name in ("weekday", "weekdays"):
                raw.setdefault("weekdays", []).extend(value.split(","))
            else:
                raw[name] = value
        query = SearchQuery.from_params(raw)
        today = settings.today()
        if no_copayment and child is None:
            raise ProblemError(422, "child_required", "no_copayment needs child=<certificate id>.")
        child_ctx: ChildContext | None = None
        async with search_db.reading() as session:
            if child is not None:
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
                    r["quote"] = prices.get(str(r["module_id"])) if prices else None
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
            for r in current.rows:
                quote = prices.get(str(r["module_id"]))
                if quote is not None and quote["family_kopecks"] == 0:
                    r["quote"] = quote
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
        responses=_WAITLISTED_RESPONSE,
    )
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

    @enrolments.get("/enrolments", response_model=list[s.EnrolmentOut], summary="List enrolments in scope")
    async def list_enrolments(
        module_id: uuid.UUID | None = Query(default=None, description="Only this group."),
        state: str | None = Query(default=None, max_length=20, description="Only this state."),
        limit: int = Query(default=100, ge=1, le=1000, description="Most rows."),
        who: Principal = Depends(require("navigator.enrolment.read")),
    ) -> list[s.EnrolmentOut]:
        query = select(ENROLMENTS).order_by(ENROLMENTS.c.requested_at.desc()).limit(limit)
        if who.role == Role.PARENT:
            query = query.where(ENROLMENTS.c.parent_id == who.sub)
        elif who.role == Role.PROVIDER:
            try:
                query = query.where(ENROLMENTS.c.provider_id == uuid.UUID(who.provider_id or ""))
            except ValueError:
                return []
        elif who.role == Role.MUNICIPAL_OPERATOR:
            query = query.where(ENROLMENTS.c.municipality_code == who.municipality)
        if module_id:
            query = query.where(ENROLMENTS.c.module_id == module_id)
        if state:
            query = query.where(ENROLMENTS.c.state == state)
        async with db.transaction() as session:
            return await _enrolments_out(session, await session.execute(query))

    @enrolments.get("/enrolments/{enrolment_id}", response_model=s.EnrolmentOut, summary="One enrolment")
    async def get_enrolment(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.read"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return (await _enrolments_out(session, [await enr.read(session, who, enrolment_id)]))[0]

    @enrolments.post("/enrolments/{enrolment_id}/confirm", response_model=s.EnrolmentOut,
                     summary="Provider confirms: the contract is concluded")
    async def confirm(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.decide"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.confirm(session, outbox, who, enrolment_id, settings.today()))

    @enrolments.post("/enrolments/{enrolment_id}/decline", response_model=s.EnrolmentOut,
                     summary="Provider declines (before the contract starts)")
    async def decline(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.decide"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.decline(session, outbox, who, enrolment_id, settings.today(),
                                                    direction_cap=settings.direction_cap))

    @enrolments.post("/enrolments/{enrolment_id}/cancel", response_model=s.EnrolmentOut,
                     summary="Parent cancels before the contract starts",
                     description="Everything is released and the seat goes to the group's waiting list. Cancelling "
                     "a waiting application takes it off the list (as leave-waiting-list).")
    async def cancel(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.cancel"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.cancel(session, outbox, who, enrolment_id, settings.today(),
                                                   direction_cap=settings.direction_cap))

    @enrolments.post("/enrolments/{enrolment_id}/leave-waiting-list", response_model=s.EnrolmentOut,
                     tags=["waiting list"], summary="Parent takes a waiting application off the list",
                     description="waitlisted -> withdrawn (idempotent); 409 `illegal_transition` when the "
                     "application is not waiting. Own children only (404 otherwise).")
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
                    "municipality (404 otherwise). Parents see their own place in the enrolment itself.")
    async def get_waiting_list(
        module_id: uuid.UUID, who: Principal = Depends(require("navigator.waitlist.read"))
    ) -> s.WaitingListOut:
        async with db.transaction() as session:
            return _waiting_list_out(await enr.read_waiting_list(session, who, module_id))

    @enrolments.put("/modules/{module_id}/waiting-list", response_model=s.WaitingListOut, tags=["waiting list"],
                    summary="Provider keeps (or stops) a waiting list for an own group",
                    description="`enabled` with an optional `max_length`. Turning it off stops new entries; "
                    "applications already waiting keep their place and still get freed seats.")
    async def put_waiting_list(
        module_id: uuid.UUID, body: s.WaitingListIn, who: Principal = Depends(require("navigator.waitlist.manage"))
    ) -> s.WaitingListOut:
        setting = WaitingListSetting(body.enabled, body.max_length)
        async with db.transaction() as session:
            return _waiting_list_out(await enr.set_waiting_list(
                session, outbox, who, module_id, setting, today=settings.today(), direction_cap=settings.direction_cap))

    @enrolments.post("/enrolments/{enrolment_id}/terminate", response_model=s.EnrolmentOut,
                     summary="Parent or provider terminates a running contract (ends at the end of this month)")
    async def terminate(enrolment_id: uuid.UUID, who: Principal = Depends(require("navigator.enrolment.terminate"))) -> s.EnrolmentOut:
        async with db.transaction() as session:
            return _enrolment_out(await enr.terminate(session, outbox, who, enrolment_id, settings.today(),
                                                      direction_cap=settings.direction_cap))

    # ---------------------------------------------------------------- attendance
    attendance = APIRouter(tags=["attendance"])

    @attendance.post("/attendance", response_model=s.AttendanceReport, summary="Post attendance marks (own groups)",
                     description="One lesson or a month's journal. Accepted marks are stored and published; each refused "
                     "mark comes back with its reason.")
    async def post_attendance(body: s.AttendancePosting, who: Principal = Depends(require("navigator.attendance.post"))) -> s.AttendanceReport:
        if len(body.marks) > settings.attendance_max_marks:
            raise ProblemError(413, "too_many_marks", f"At most {settings.attendance_max_marks} marks per posting.")
        marks = [att.MarkInput(m.enrolment_id, m.module_id, m.lesson_date, m.status) for m in body.marks]
        async with db.transaction() as session:
            report = await att.post_marks(session, outbox, who, marks, today=settings.today())
        return s.AttendanceReport.model_validate(report)

    @attendance.get("/attendance", response_model=list[s.MarkOut], summary="Marks of an enrolment")
    async def get_attendance(
        enrolment_id: uuid.UUID = Query(description="Enrolment id."),
        month: str | None = Query(default=None, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="'YYYY-MM'."),
        who: Principal = Depends(require("navigator.attendance.read")),
    ) -> list[s.MarkOut]:
        async with db.transaction() as session:
            return [s.MarkOut.model_validate(m) for m in await att.read_marks(session, who, enrolment_id, month)]

    month_pattern = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"

    @attendance.post("/attendance/months/{month}/freeze", response_model=s.JournalMonthOut,
                     summary="Freeze a month's journal before billing closes the month (idempotent)",
                     description="From then on marks and corrections of the month are refused (409 journal_frozen); "
                     "the navigator publishes AttendanceMonthFrozen with the count of the month's attendance events, "
                     "which billing waits for before it closes the month. The scheduled job does the same on the "
                     "configured freeze day. Disputes of the month's marks stay possible.")
    async def freeze_month(
        month: str = Path(pattern=month_pattern, description="'YYYY-MM'."),
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
                raise ProblemError(409, exc.code, exc.message) from exc
            raise
        return s.JournalMonthOut.model_validate(row)

    @attendance.get("/attendance/months/{month}", response_model=s.JournalMonthOut,
                    summary="Whether a month's journal is open or frozen")
    async def journal_month(
        month: str = Path(pattern=month_pattern, description="'YYYY-MM'."),
        who: Principal = Depends(require("navigator.attendance.read")),
    ) -> s.JournalMonthOut:
        async with db.transaction() as session:
            return s.JournalMonthOut.model_validate(await att.read_journal_month(session, month))

    # ---------------------------------------------------------------- disputes
    disputes = APIRouter(tags=["disputes"])

    def _dispute_out(row: Any) -> s.DisputeOut:
        return s.DisputeOut.model_validate(dict(row._mapping))

    @disputes.post("/disputes", response_model=s.DisputeOut, status_code=201, summary="Parent disputes a mark (7 days)")
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

    @disputes.post("/disputes/{dispute_id}/resolve", response_model=s.DisputeOut, summary="Operator decides a dispute")
    async def resolve(dispute_id: uuid.UUID, body: s.ResolveIn, who: Principal = Depends(require("navigator.dispute.resolve"))) -> s.DisputeOut:
        async with db.transaction() as session:
            return _dispute_out(await att.resolve_dispute(session, outbox, who, dispute_id, body.upheld, body.note,
                                                          today=settings.today(), now=now()))

    @disputes.get("/disputes", response_model=list[s.DisputeOut], summary="Disputes in scope")
    async def list_disputes(
        state: str | None = Query(default=None, pattern="^(open|upheld|rejected)$", description="Only this state."),
        limit: int = Query(default=100, ge=1, le=1000, description="Most rows."),
        who: Principal = Depends(require("navigator.dispute.read")),
    ) -> list[s.DisputeOut]:
        async with db.transaction() as session:
            try:
                return [_dispute_out(r) for r in await att.list_disputes(session, who, state, limit)]
            except ValueError:
                return []

    @disputes.get("/disputes/{dispute_id}", response_model=s.DisputeOut, summary="One dispute")
    async def get_dispute(dispute_id: uuid.UUID, who: Principal = Depends(require("navigator.dispute.read"))) -> s.DisputeOut:
        async with db.transaction() as session:
            row, _ = await att.read_dispute(session, who, dispute_id)
            return _dispute_out(row)

    # ---------------------------------------------------------------- parent cabinet
    cabinet = APIRouter(tags=["cabinet"])

    @cabinet.get("/me/children", response_model=list[s.ChildOut], summary="My children's certificates")
    async def my_children(who: Principal = Depends(require("navigator.cabinet.read"))) -> list[s.ChildOut]:
        async with db.transaction() as session:
            rows = await session.execute(
                select(CERTIFICATES).where(CERTIFICATES.c.parent_id == who.sub).order_by(CERTIFICATES.c.number)
            )
            return [s.ChildOut(**dict(r._mapping), billing_history_url=_history_url(r.certificate_id)) for r in rows]

    @cabinet.get("/me/enrolments", response_model=list[s.EnrolmentOut], summary="My children's enrolments with the money split")
    async def my_enrolments(
        certificate_id: uuid.UUID | None = Query(default=None, description="Only this child."),
        who: Principal = Depends(require("navigator.cabinet.read")),
    ) -> list[s.EnrolmentOut]:
        query = select(ENROLMENTS).where(ENROLMENTS.c.parent_id == who.sub).order_by(ENROLMENTS.c.requested_at.desc())
        if certificate_id:
            query = query.where(and_(ENROLMENTS.c.certificate_id == certificate_id))
        async with db.transaction() as session:
            return await _enrolments_out(session, await session.execute(query))

    # ---------------------------------------------------------------- operations
    admin = APIRouter(tags=["admin"])

    @admin.post("/admin/catalogue/rebuild", response_model=s.RebuildOut,
                summary="Rebuild the catalogue from the topics (offset zero)")
    async def rebuild(who: Principal = Depends(require("navigator.admin.rebuild"))) -> s.RebuildOut:
        report = await rebuild_catalogue(db, settings.kafka_bootstrap, runtime.names)
        async with db.transaction() as session:
            from pfdo_plumbing import audit

            await audit.record(session, who, "catalogue.rebuilt", "catalogue", "catalogue",
                               details={"entries": report.entries, "events": report.events_applied})
        return s.RebuildOut(**report.__dict__)

    return [catalogue, enrolments, attendance, disputes, cabinet, admin]
