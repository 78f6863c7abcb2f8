"""Program periods (nominals, caps, open, close) and the month's advance and close (operators)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Query
from sqlalchemy import text

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.params import MonthPath, first_day
from pfdo_plumbing.http.problems import ProblemError

from pfdo_billing.domain.month_gate import JournalCountMismatch, JournalNotDrained, JournalNotFrozen
from pfdo_billing.service import month_close, payment_orders, periods

from . import schemas as s
from .context import SIGNED_IN, BillingContext, service_problems as _problems

router = APIRouter(tags=["billing"])


# --- periods (operators) --------------------------------------------------------------
@router.post("/periods", response_model=s.PeriodOut, status_code=201, summary="Create a program period (draft)",
             operation_id="createPeriod",
             description=("A draft program period (normally 1 September to 31 August); nominals and caps are set "
                          "before it opens."),
             responses=_problems(*SIGNED_IN, "invalid_date_range", "period_overlaps"))
async def create_period(
    b: BillingContext, body: s.PeriodCreate, who: Principal = Depends(require("billing.period.manage")),
) -> dict:
    return await periods.create_period(b, body.starts_on, body.ends_on, who)


@router.get("/periods", response_model=Page[s.PeriodOut], summary="Program periods",
            operation_id="listPeriods",
            description="Every program period, oldest first; paged with `limit` and `cursor`.",
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_periods(b: BillingContext, paging: PageRequest = Depends(paging_params(default=50, maximum=200)),
                       who: Principal = Depends(require("billing.period.read"))) -> dict:
    after, after_id = paging.after_keyset("periods", dt.date.fromisoformat, uuid.UUID) or (None, None)
    async with b.runtime.db.transaction() as session:
        rows = (await session.execute(text(
            "SELECT * FROM periods WHERE CAST(:after AS date) IS NULL OR (starts_on, period_id) > "
            "(CAST(:after AS date), CAST(:after_id AS uuid)) ORDER BY starts_on, period_id LIMIT :l"),
            {"after": after, "after_id": after_id, "l": paging.limit + 1})).mappings().all()
    return paging.page([dict(r) for r in rows], "periods",
                       lambda r: [r["starts_on"].isoformat(), str(r["period_id"])])


@router.put("/periods/{period_id}/nominals", status_code=204, summary="Set nominals per municipality and age group",
            operation_id="setPeriodNominals",
            description=("The nominal in kopecks per municipality and age group of a period (replaces the rows "
                         "given)."),
            responses=_problems(*SIGNED_IN, "not_found", "invalid_age_group", "age_groups_overlap",
                                "period_not_draft"))
async def put_nominals(b: BillingContext, period_id: uuid.UUID, body: s.NominalsIn,
                       who: Principal = Depends(require("billing.period.manage"))) -> None:
    for n in body.nominals:
        if n.age_max < n.age_min:
            raise ProblemError(422, "invalid_age_group", "age_max is below age_min.")
    await periods.set_nominals(b, period_id, [periods.NominalRow(**n.model_dump()) for n in body.nominals], who)


@router.get("/periods/{period_id}/nominals", response_model=s.NominalsOut,
            summary="The nominals set per municipality and age group",
            operation_id="getPeriodNominals",
            description="The period's nominals; a municipal operator reads its own municipality's.",
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_nominals(b: BillingContext, period_id: uuid.UUID,
                       who: Principal = Depends(require("billing.period.read"))) -> dict:
    return {"nominals": await periods.nominals(b, period_id, who)}


@router.get("/periods/{period_id}/caps", response_model=s.CapsListOut,
            summary="The caps set per municipality, with what is used of them",
            operation_id="getPeriodCaps",
            description=("The period's funding-certificate cap, free places and per-direction cap with the funding "
                         "certificates and free places used so far; a municipal operator reads its own "
                         "municipality's."),
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_caps(b: BillingContext, period_id: uuid.UUID,
                   who: Principal = Depends(require("billing.period.read"))) -> dict:
    return {"caps": await periods.caps(b, period_id, who)}


@router.put("/periods/{period_id}/caps", response_model=s.CapsOut,
            summary="Set the funding-certificate cap, free places and the per-direction cap",
            operation_id="setPeriodCaps",
            description=("Per municipality: the yearly cap of funding certificates, the free places and the "
                         "per-direction cap. Raising a cap admits queued requests first come first served."),
            responses=_problems(*SIGNED_IN, "not_found", "period_closed", "cap_below_usage"))
async def put_caps(b: BillingContext, period_id: uuid.UUID, body: s.CapsIn,
                   who: Principal = Depends(require("billing.period.manage"))) -> dict:
    admitted = await periods.set_caps(b, period_id, [periods.CapRow(**c.model_dump()) for c in body.caps], who)
    return {"admitted_from_queue": admitted}


@router.post("/periods/{period_id}/open", response_model=s.PeriodAction,
             summary="Open: credit every active funding certificate its nominal",
             operation_id="openPeriod",
             description=("Credits every active funding certificate its nominal (idempotent: a repeated call "
                          "credits nothing twice)."),
             responses=_problems(*SIGNED_IN, "not_found", "period_not_draft"))
async def open_period(
    b: BillingContext, period_id: uuid.UUID, who: Principal = Depends(require("billing.period.open_close")),
) -> dict:
    return await periods.open_period(b, period_id, who)


@router.post("/periods/{period_id}/close", response_model=s.PeriodAction,
             summary="Close: unused money returns to the budget",
             operation_id="closePeriod",
             description="Unused money of every certificate returns to the budget (idempotent).",
             responses=_problems(*SIGNED_IN, "not_found", "period_not_open"))
async def close_period(
    b: BillingContext, period_id: uuid.UUID, who: Principal = Depends(require("billing.period.open_close")),
) -> dict:
    return await periods.close_period(b, period_id, who)


# --- months ---------------------------------------------------------------------------
@router.post("/months/{month}/advance", response_model=s.AdvanceOut,
             summary="Issue the month's advance payment orders (idempotent)",
             operation_id="issueMonthAdvances",
             description=("Per provider and payer, an advance of the configured share (80 %) of the month's "
                          "certificate instalments. Repeating it issues nothing new."),
             responses=_problems(*SIGNED_IN))
async def advance(
    b: BillingContext, month: MonthPath, who: Principal = Depends(require("billing.month_close.run")),
) -> dict:
    async with b.runtime.db.transaction() as session:
        issued = await payment_orders.issue_advances(b, session, first_day(month), who)
    return {"month": month, "orders_issued": issued}


def _close_scope(who: Principal, municipality: str | None) -> str | None:
    """The municipality a close (or its progress) is for: a municipal operator's own only (None:
    the whole region, for the regional operator and services)."""
    if who.role != Role.MUNICIPAL_OPERATOR:
        return municipality
    if not who.municipality or municipality not in (None, who.municipality):
        raise ProblemError(403, "forbidden", "A municipal operator closes the month of its own municipality only.")
    return who.municipality


_MUNICIPALITY = Query(default=None, pattern=r"^[0-9]{2}$",
                      description=("Only this municipality's certificates' contracts (their payer); omitted: the whole "
                                   "region (regional operator). A municipal operator's own municipality always."))


@router.post("/months/{month}/close", response_model=s.MonthCloseOut,
             summary="Close a month: post, release, invoice, final payment orders (idempotent, resumable)",
             operation_id="closeMonth",
             description=("Moves the due amounts from reserved to spent, returns the unearned part to the "
                          "balance, invoices the families' part and issues the final payment orders per provider "
                          "and payer. Region-wide, or for one municipality (`municipality`: the contracts of its "
                          "certificates; a municipal operator closes its own only). Answers 409 with Retry-After "
                          "until the navigator's journal of the month is frozen and fully applied."),
             responses=_problems(*SIGNED_IN, "month_not_over", "journal_not_frozen", "journal_not_drained",
                                 "journal_count_mismatch"))
async def close(
    b: BillingContext, month: MonthPath, municipality: str | None = _MUNICIPALITY,
    who: Principal = Depends(require("billing.month_close.run")),
) -> dict:
    scope = _close_scope(who, municipality)
    first = first_day(month)
    if b.settings.month_close_requires_month_end and first >= b.today().replace(day=1):
        raise ProblemError(409, "month_not_over", "A month can be closed only after it has ended.")
    try:
        return (await month_close.close_month(b, first, who, scope)).as_dict()
    except (JournalNotFrozen, JournalNotDrained) as exc:
        raise ProblemError(409, exc.code, exc.message, headers={"Retry-After": "5"}) from exc
    except JournalCountMismatch as exc:
        raise ProblemError(409, exc.code, exc.message) from exc


@router.get("/months/{month}/close", response_model=s.MonthCloseProgressOut,
            summary="How far the month's close is (poll it while the close runs)",
            operation_id="getMonthCloseProgress",
            description=("The close's progress, committed chunk by chunk: contract-months closed of those the close "
                         "takes, chunks done of the chunks it takes, and the amounts posted, released and invoiced "
                         "so far; `not_started` before the first close call."),
            responses=_problems(*SIGNED_IN))
async def close_progress(b: BillingContext, month: MonthPath, municipality: str | None = _MUNICIPALITY,
                         who: Principal = Depends(require("billing.period.read"))) -> dict:
    scope = _close_scope(who, municipality)  # a municipal operator sees its own municipality's close only
    return (await month_close.progress(b, first_day(month), scope)).as_dict()


@router.get("/months/{month}/journal", response_model=s.JournalStateOut,
            summary="Whether the month's attendance journal is frozen and fully applied (may the month close?)",
            operation_id="getMonthJournalState",
            description=("Whether the navigator froze the month's attendance journal and billing applied every "
                         "attendance event of it, that is whether the month may be closed."),
            responses=_problems(*SIGNED_IN))
async def journal_state(b: BillingContext, month: MonthPath,
                        who: Principal = Depends(require("billing.period.read"))) -> dict:
    first = first_day(month)
    async with b.runtime.db.transaction() as session:
        mark = await month_close.journal_watermark(session, first)
        status = await month_close.close_status(session, first)
    return {"month": month, "frozen": mark.frozen, "published_events": mark.published,
            "applied_events": mark.applied, "closable": mark.drained, "close_status": status}

