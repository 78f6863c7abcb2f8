"""The billing HTTP API (mounted under /api/billing)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import text

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.problems import ProblemError

from pfdo_billing.domain.month_gate import JournalCountMismatch, JournalNotDrained, JournalNotFrozen
from pfdo_billing.service import month_close, payment_orders, periods, queries
from pfdo_billing.service.context import Billing

from . import schemas as s


def _month(value: str) -> dt.date:
    return dt.date(int(value[:4]), int(value[5:7]), 1)


def build_router(b: Billing) -> APIRouter:
    router = APIRouter(tags=["billing"])
    db = b.runtime.db

    # --- quotes ---------------------------------------------------------------------------
    @router.get("/quote", response_model=s.ModuleQuote, summary="Quote one module for a certificate")
    async def get_quote(
        certificate_id: uuid.UUID = Query(description="Certificate."),
        module_id: uuid.UUID = Query(description="Module."),
        start_date: dt.date = Query(description="Enrolment start."),
        who: Principal = Depends(require("billing.quote.read")),
    ) -> dict:
        async with db.transaction() as session:
            cert = await queries.certificate_for(session, certificate_id, who)
            answer = (await queries.quote_modules(b, session, cert, [module_id], start_date))[0]
        if answer["error"]:
            status = 404 if answer["error"]["code"] == "module_not_available" else 422
            raise ProblemError(status, answer["error"]["code"], answer["error"]["detail"])
        return answer

    @router.post("/quotes:batch", response_model=s.BatchQuoteResponse,
                 summary="Quote up to 100 modules for one certificate in one call (navigator search pages)")
    async def batch_quote(body: s.BatchQuoteRequest, who: Principal = Depends(require("billing.quote.read"))) -> dict:
        async with db.transaction() as session:
            cert = await queries.certificate_for(session, body.certificate_id, who)
            answers = await queries.quote_modules(b, session, cert, list(body.module_ids), body.start_date)
        return {"certificate_id": body.certificate_id, "start_date": body.start_date, "quotes": answers}

    # --- certificates ---------------------------------------------------------------------
    @router.get("/certificates/{certificate_id}/balance", response_model=s.BalanceResponse,
                summary="Balance of a certificate per period")
    async def balance(certificate_id: uuid.UUID, who: Principal = Depends(require("billing.account.read"))) -> dict:
        async with db.transaction() as session:
            cert = await queries.certificate_for(session, certificate_id, who)
            rows = await queries.balances(session, certificate_id)
        return {"certificate_id": certificate_id, "status": cert["status"], "usage_kind": cert["usage_kind"],
                "balances": rows}

    @router.get("/certificates/{certificate_id}/history", response_model=list[s.HistoryItem],
                summary="Every credit, reservation, posting and release of a certificate, with its cause")
    async def history(
        certificate_id: uuid.UUID,
        limit: int = Query(default=200, ge=1, le=1000),
        after: str | None = Query(default=None, max_length=160, description="Page after this transfer id."),
        who: Principal = Depends(require("billing.account.read")),
    ) -> list[dict]:
        async with db.transaction() as session:
            await queries.certificate_for(session, certificate_id, who)
            return await queries.history(session, certificate_id, limit, after)

    # --- payment orders -------------------------------------------------------------------
    # a municipal operator sees the orders that pay for its municipality's certificates (an order
    # is per provider and may carry lines of several municipalities), and only those lines
    _ORDER_IN_MUNICIPALITY = (
        "(CAST(:muni AS text) IS NULL OR EXISTS (SELECT 1 FROM payment_order_lines l JOIN certificates c "
        "ON c.certificate_id = l.certificate_id WHERE l.order_id = o.order_id AND c.municipality_code = :muni))")

    def _municipality_scope(who: Principal) -> str | None:
        return (who.municipality or "--") if who.role == Role.MUNICIPAL_OPERATOR else None

    def _order_out(row: dict) -> dict:
        return {**row, "month": f"{row['month']:%Y-%m}"}

    @router.get("/payment-orders", response_model=list[s.PaymentOrder], summary="Payment orders (providers: their own)")
    async def list_orders(
        provider_id: uuid.UUID | None = Query(default=None),
        month: str | None = Query(default=None, pattern=s.MONTH),
        kind: str | None = Query(default=None, pattern="^(advance|final)$"),
        limit: int = Query(default=200, ge=1, le=1000),
        who: Principal = Depends(require("billing.order.read")),
    ) -> list[dict]:
        if who.role == Role.PROVIDER:
            if provider_id is not None and not who.is_provider(provider_id):
                return []
            provider_id = uuid.UUID(who.provider_id) if who.provider_id else uuid.UUID(int=0)
        async with db.transaction() as session:
            rows = (await session.execute(text(
                "SELECT * FROM payment_orders o WHERE (CAST(:p AS uuid) IS NULL OR provider_id = :p) "
                "AND (CAST(:m AS date) IS NULL OR month = :m) AND (CAST(:k AS text) IS NULL OR kind = :k) "
                f"AND {_ORDER_IN_MUNICIPALITY} ORDER BY month, provider_id, kind LIMIT :l"),
                {"p": provider_id, "m": _month(month) if month else None, "k": kind, "l": limit,
                 "muni": _municipality_scope(who)})).mappings().all()
        return [_order_out(dict(r)) for r in rows]

    @router.get("/payment-orders/{order_id}", response_model=s.PaymentOrderDetail, summary="A payment order with its lines")
    async def get_order(order_id: uuid.UUID, who: Principal = Depends(require("billing.order.read"))) -> dict:
        async with db.transaction() as session:
            muni = _municipality_scope(who)
            row = (await session.execute(text(f"SELECT * FROM payment_orders o WHERE order_id = :o "
                                              f"AND {_ORDER_IN_MUNICIPALITY}"),
                                         {"o": order_id, "muni": muni})).mappings().first()
            if row is None or (who.role == Role.PROVIDER and not who.is_provider(row["provider_id"])):
                raise ProblemError(404, "not_found", "payment order not found")
            lines = (await session.execute(text(
                "SELECT l.enrolment_id, l.certificate_id, l.amount_kopecks FROM payment_order_lines l "
                "JOIN certificates c ON c.certificate_id = l.certificate_id WHERE l.order_id = :o "
                "AND (CAST(:muni AS text) IS NULL OR c.municipality_code = :muni) ORDER BY l.enrolment_id"),
                {"o": order_id, "muni": muni})).mappings().all()
            adjustments = (await session.execute(text(
                "SELECT a.adjustment_id, a.enrolment_id, a.certificate_id, to_char(a.month, 'YYYY-MM') AS month, "
                "a.reason, a.charged_kopecks, a.refunded_kopecks FROM month_adjustments a "
                "JOIN certificates c ON c.certificate_id = a.certificate_id WHERE a.settled_order_id = :o "
                "AND (CAST(:muni AS text) IS NULL OR c.municipality_code = :muni) ORDER BY a.created_at, a.adjustment_id"),
                {"o": order_id, "muni": muni})).mappings().all()
        return {**_order_out(dict(row)), "lines": [dict(line) for line in lines],
                "adjustments": [dict(a) for a in adjustments]}

    # --- reconciliation -------------------------------------------------------------------
    @router.get("/reconciliation", response_model=s.ReconciliationReport, summary="Prove the ledger's invariants")
    async def reconciliation(
        period_id: uuid.UUID | None = Query(default=None, description="A period, or all when omitted."),
        who: Principal = Depends(require("billing.reconciliation.read")),
    ) -> dict:
        async with db.transaction() as session:
            checks = await queries.reconciliation(session, period_id)
            outstanding = await queries.outstanding(session, period_id)
        return {"period_id": period_id, "ok": all(c["ok"] for c in checks), "checks": checks,
                "outstanding": outstanding}

    # --- periods (operators) --------------------------------------------------------------
    @router.post("/periods", response_model=s.PeriodOut, status_code=201, summary="Create a program period (draft)")
    async def create_period(body: s.PeriodCreate, who: Principal = Depends(require("billing.period.manage"))) -> dict:
        return await periods.create_period(b, body.starts_on, body.ends_on, who)

    @router.get("/periods", response_model=list[s.PeriodOut], summary="Program periods")
    async def list_periods(who: Principal = Depends(require("billing.period.read"))) -> list[dict]:
        async with db.transaction() as session:
            rows = (await session.execute(text("SELECT * FROM periods ORDER BY starts_on"))).mappings().all()
        return [dict(r) for r in rows]

    @router.put("/periods/{period_id}/nominals", status_code=204, summary="Set nominals per municipality and age group")
    async def put_nominals(period_id: uuid.UUID, body: s.NominalsIn,
                           who: Principal = Depends(require("billing.period.manage"))) -> None:
        for n in body.nominals:
            if n.age_max < n.age_min:
                raise ProblemError(422, "invalid_age_group", "age_max is below age_min.")
        await periods.set_nominals(b, period_id, [periods.NominalRow(**n.model_dump()) for n in body.nominals], who)

    @router.put("/periods/{period_id}/caps", response_model=s.CapsOut,
                summary="Set the funding-certificate cap, free places and the per-direction cap")
    async def put_caps(period_id: uuid.UUID, body: s.CapsIn,
                       who: Principal = Depends(require("billing.period.manage"))) -> dict:
        admitted = await periods.set_caps(b, period_id, [periods.CapRow(**c.model_dump()) for c in body.caps], who)
        return {"admitted_from_queue": admitted}

    @router.post("/periods/{period_id}/open", response_model=s.PeriodAction,
                 summary="Open: credit every active funding certificate its nominal")
    async def open_period(period_id: uuid.UUID, who: Principal = Depends(require("billing.period.open_close"))) -> dict:
        return await periods.open_period(b, period_id, who)

    @router.post("/periods/{period_id}/close", response_model=s.PeriodAction,
                 summary="Close: unused money returns to the budget")
    async def close_period(period_id: uuid.UUID, who: Principal = Depends(require("billing.period.open_close"))) -> dict:
        return await periods.close_period(b, period_id, who)

    # --- months ---------------------------------------------------------------------------
    @router.post("/months/{month}/advance", response_model=s.AdvanceOut,
                 summary="Issue the month's advance payment orders (idempotent)")
    async def advance(month: str = Path(pattern=s.MONTH), who: Principal = Depends(require("billing.month_close.run"))) -> dict:
        async with db.transaction() as session:
            issued = await payment_orders.issue_advances(b, session, _month(month), who)
        return {"month": month, "orders_issued": issued}

    @router.post("/months/{month}/close", response_model=s.MonthCloseOut,
                 summary="Close a month: post, release, invoice, final payment orders (idempotent, resumable)")
    async def close(month: str = Path(pattern=s.MONTH), who: Principal = Depends(require("billing.month_close.run"))) -> dict:
        first = _month(month)
        if b.settings.month_close_requires_month_end and first >= b.today().replace(day=1):
            raise ProblemError(409, "month_not_over", "A month can be closed only after it has ended.")
        try:
            return (await month_close.close_month(b, first, who)).as_dict()
        except (JournalNotFrozen, JournalNotDrained) as exc:
            raise ProblemError(409, exc.code, exc.message, headers={"Retry-After": "5"}) from exc
        except JournalCountMismatch as exc:
            raise ProblemError(409, exc.code, exc.message) from exc

    @router.get("/months/{month}/journal", response_model=s.JournalStateOut,
                summary="Whether the month's attendance journal is frozen and fully applied (may the month close?)")
    async def journal_state(month: str = Path(pattern=s.MONTH),
                            who: Principal = Depends(require("billing.period.read"))) -> dict:
        first = _month(month)
        async with db.transaction() as session:
            mark = await month_close.journal_watermark(session, first)
            status = (await session.execute(text("SELECT status FROM month_closes WHERE month = :m"),
                                            {"m": first})).scalar()
        return {"month": month, "frozen": mark.frozen, "published_events": mark.published,
                "applied_events": mark.applied, "closable": mark.drained, "close_status": status}

    return router
