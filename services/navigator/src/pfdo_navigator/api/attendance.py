"""The attendance journal: providers post marks; a month's journal is frozen before billing closes it."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.params import MonthPath, YearMonth
from pfdo_plumbing.http.problems import ProblemError

from pfdo_contracts.events.navigator import FrozenBy

from ..domain.errors import DomainError
from ..service import attendance as att
from . import schemas as s
from .context import SIGNED_IN, NavigatorContext, service_problems as _problems

router = APIRouter(tags=["attendance"])


@router.post("/attendance", response_model=s.AttendanceReport, summary="Post attendance marks (own groups)",
             description="One lesson or a month's journal. Accepted marks are stored and published; each refused "
             "mark comes back with its reason.",
             operation_id="postAttendance",
             responses=_problems(*SIGNED_IN, "too_many_marks", "journal_frozen"))
async def post_attendance(
    nav: NavigatorContext, body: s.AttendancePosting, who: Principal = Depends(require("navigator.attendance.post")),
) -> s.AttendanceReport:
    if len(body.marks) > nav.settings.attendance_max_marks:
        raise ProblemError(413, "too_many_marks", f"At most {nav.settings.attendance_max_marks} marks per posting.",
                           details={"limit": nav.settings.attendance_max_marks})
    marks = [att.MarkInput(m.enrolment_id, m.module_id, m.lesson_date, m.status) for m in body.marks]
    async with nav.runtime.db.transaction() as session:
        report = await att.post_marks(session, nav.runtime.outbox, who, marks, today=nav.settings.today())
    return s.AttendanceReport.model_validate(report)


@router.get("/attendance", response_model=Page[s.MarkOut], summary="Marks of an enrolment",
            operation_id="listAttendanceMarks",
            description=("Every mark of an enrolment (or of one month of it) with the last day a parent may "
                         "dispute it. Parents: own children; providers: own groups."),
            responses=_problems(*SIGNED_IN, "not_found", "invalid_cursor"))
async def get_attendance(
    nav: NavigatorContext,
    enrolment_id: uuid.UUID = Query(description="Enrolment id."),
    month: YearMonth | None = Query(default=None, description="Only this month, 'YYYY-MM' (2000-01..2100-12)."),
    paging: PageRequest = Depends(paging_params(default=500, maximum=1000)),
    who: Principal = Depends(require("navigator.attendance.read")),
) -> dict:
    async with nav.runtime.db.transaction() as session:
        marks = [s.MarkOut.model_validate(m) for m in await att.read_marks(session, who, enrolment_id, month)]
    return paging.page_of_all(marks, f"attendance|{enrolment_id}|{month}",
                              lambda m: [m.lesson_date.isoformat(), str(m.mark_id)])


@router.post("/attendance/months/{month}/freeze", response_model=s.JournalMonthOut,
             summary="Freeze a month's journal before billing closes the month (idempotent)",
             description="From then on marks and corrections of the month are refused (409 journal_frozen); "
             "the navigator publishes AttendanceMonthFrozen with the count of the month's attendance events, "
             "which billing waits for before it closes the month. The scheduled job does the same on the "
             "configured freeze day. Disputes of the month's marks stay possible.",
             operation_id="freezeJournalMonth",
             responses=_problems(*SIGNED_IN, "month_not_over"))
async def freeze_month(
    nav: NavigatorContext,
    month: MonthPath,
    who: Principal = Depends(require("navigator.attendance.freeze")),
) -> s.JournalMonthOut:
    try:
        async with nav.runtime.db.transaction() as session:
            row = await att.freeze_month(
                session, nav.runtime.outbox, who, month, today=nav.settings.today(), by=FrozenBy.OPERATOR,
                require_month_end=nav.settings.journal_freeze_requires_month_end,
            )
    except DomainError as exc:
        if exc.code == "month_not_over":
            raise ProblemError(409, exc.code, exc.message, details=exc.details) from exc
        raise
    return s.JournalMonthOut.model_validate(row)


@router.get("/attendance/months/{month}", response_model=s.JournalMonthOut,
            summary="Whether a month's journal is open or frozen",
            operation_id="getJournalMonth",
            description=("open: marks and corrections of the month are accepted; frozen: they are refused and"
                         " billing may close the month."),
            responses=_problems(*SIGNED_IN))
async def journal_month(
    nav: NavigatorContext,
    month: MonthPath,
    who: Principal = Depends(require("navigator.attendance.read")),
) -> s.JournalMonthOut:
    async with nav.runtime.db.transaction() as session:
        return s.JournalMonthOut.model_validate(await att.read_journal_month(session, month))

