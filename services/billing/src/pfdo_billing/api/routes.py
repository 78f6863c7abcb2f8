"""The billing HTTP API (mounted under /api/billing)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import text

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.params import MonthPath, YearMonth, first_day
from pfdo_plumbing.http.problems import ProblemError, localised_detail

from pfdo_billing.domain.month_gate import JournalCountMismatch, JournalNotDrained, JournalNotFrozen
from pfdo_billing.service import month_close, payment_orders, periods, queries
from pfdo_billing.service.context import Billing

from . import schemas as s


SIGNED_IN = ("unauthenticated", "forbidden", "validation_error")
"""Codes any signed-in call may answer with (rate limits and outages are documented for every operation)."""


def _problems(*codes: str) -> dict[int | str, dict]:
    """The ``responses=`` of an operation: the problem answers it can give, with this service's texts."""
    return problems(*codes, service="billing")


_month = first_day


class OrderKind(StrEnum):
    ADVANCE = "advance"
    FINAL = "final"


def build_router(b: Billing) -> APIRouter:
    router = APIRouter(tags=["billing"])
    db = b.runtime.db

    # --- quotes ---------------------------------------------------------------------------
    @router.get("/quote", response_model=s.ModuleQuote, summary="Quote one module for a certificate",
                operation_id="getQuote",
                description=("The cost of enrolling a certificate's child in one module from a start date: the "
                             "pro-rated cost and normative cost, the part the certificate pays (the least of the "
                             "cost, the normative cost and the available balance), the family's co-payment and the "
                             "kopeck-exact monthly instalments. Parents quote their own children; operators their "
                             "municipality's. The certificate's part reveals its balance, so nobody else may quote "
                             "it: providers get 403, anyone else the same 404 as for an unknown certificate. "
                             "A certificate pays only up to the end of the month in which its validity ends (the day "
                             "before the 18th birthday): when that comes before the module's end, `ends_early_on` "
                             "and `note` say so and every figure stops there."),
                responses=_problems(*SIGNED_IN, "not_found", "module_not_available", "period_not_open",
                                    "no_age_group", "ambiguous_age_group", "start_after_module_end",
                                    "start_outside_module", "certificate_expires_before_start"))
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
            raise ProblemError(status, answer["error"]["code"], answer["error"]["detail"],
                               details=answer["error"].get("details"))
        return answer

    @router.post("/quotes:batch", response_model=s.BatchQuoteResponse,
                 summary="Quote up to 100 modules for one certificate in one call (navigator search pages)",
                 operation_id="quoteModules",
                 description=("One answer per module, in request order; a module that cannot be quoted carries "
                              "`error` instead of figures. The navigator prices a search page with one call, with the "
                              "parent's own token. Who may quote: as for GET /quote."),
                 responses=_problems(*SIGNED_IN, "not_found"))
    async def batch_quote(request: Request, body: s.BatchQuoteRequest,
                          who: Principal = Depends(require("billing.quote.read"))) -> dict:
        async with db.transaction() as session:
            cert = await queries.certificate_for(session, body.certificate_id, who)
            answers = await queries.quote_modules(b, session, cert, list(body.module_ids), body.start_date)
        for answer in answers:
            if answer["error"]:
                answer["error"]["detail"] = localised_detail(request, answer["error"]["code"], answer["error"]["detail"],
                                                             "billing")
        return {"certificate_id": body.certificate_id, "start_date": body.start_date, "quotes": answers}

    # --- certificates ---------------------------------------------------------------------
    @router.get("/certificates/{certificate_id}/balance", response_model=s.BalanceResponse,
                summary="Balance of a certificate per period",
                operation_id="getCertificateBalance",
                description=("Per program period: nominal, available, reserved and spent, in kopecks (nominal = "
                             "available + reserved + spent). The child's parent, the municipality's operator and "
                             "finance only."),
                responses=_problems(*SIGNED_IN, "not_found"))
    async def balance(certificate_id: uuid.UUID, who: Principal = Depends(require("billing.account.read"))) -> dict:
        async with db.transaction() as session:
            cert = await queries.certificate_for(session, certificate_id, who)
            rows = await queries.balances(session, certificate_id)
        return {"certificate_id": certificate_id, "status": cert["status"], "usage_kind": cert["usage_kind"],
                "balances": rows}

    @router.get("/certificates/{certificate_id}/history", response_model=Page[s.HistoryItem],
                summary="Every credit, reservation, posting and release of a certificate, with its cause",
                operation_id="listCertificateHistory",
                description=("Every transfer of the certificate's ledger, oldest first, with the event that caused "
                             "it; paged with `limit` and `cursor`."),
                responses=_problems(*SIGNED_IN, "not_found", "invalid_cursor"))
    async def history(
        certificate_id: uuid.UUID,
        paging: PageRequest = Depends(paging_params(default=200, maximum=1000)),
        who: Principal = Depends(require("billing.account.read")),
    ) -> dict:
        scope = f"history|{certificate_id}"
        keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, str)
        async with db.transaction() as session:
            await queries.certificate_for(session, certificate_id, who)
            rows = await queries.history(session, certificate_id, paging.limit + 1, keyset)
        return paging.page(rows, scope, lambda r: [r["created_at"].isoformat(), r["transfer_id"]])

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

    @router.get("/payment-orders", response_model=Page[s.PaymentOrder], summary="Payment orders (providers: their own)",
                operation_id="listPaymentOrders",
                description=("Advance and final payment orders per provider, payer and month, by month; paged with "
                             "`limit` and `cursor`. Providers see their own orders, municipal operators the orders "
                             "paying for their municipality's certificates."),
                responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_orders(
        provider_id: uuid.UUID | None = Query(default=None, description="Only this provider's orders."),
        month: YearMonth | None = Query(default=None, description="Only this month, 'YYYY-MM' (2000-01..2100-12)."),
        kind: OrderKind | None = Query(default=None, description="advance or final."),
        paging: PageRequest = Depends(paging_params(default=200, maximum=1000)),
        who: Principal = Depends(require("billing.order.read")),
    ) -> dict:
        if who.role == Role.PROVIDER:
            if provider_id is not None and not who.is_provider(provider_id):
                return {"items": [], "next_cursor": None}
            provider_id = uuid.UUID(who.provider_id) if who.provider_id else uuid.UUID(int=0)
        scope = f"payment-orders|{provider_id}|{month}|{kind}"
        after_month, after_provider, after_kind, after_id = (
            paging.after_keyset(scope, dt.date.fromisoformat, uuid.UUID, str, uuid.UUID) or (None,) * 4)
        async with db.transaction() as session:
            rows = (await session.execute(text(
                "SELECT * FROM payment_orders o WHERE (CAST(:p AS uuid) IS NULL OR provider_id = :p) "
                "AND (CAST(:m AS date) IS NULL OR month = :m) AND (CAST(:k AS text) IS NULL OR kind = :k) "
                "AND (CAST(:after_month AS date) IS NULL OR (month, provider_id, kind, order_id) > "
                "(CAST(:after_month AS date), CAST(:after_provider AS uuid), CAST(:after_kind AS text), "
                "CAST(:after_id AS uuid))) "
                f"AND {_ORDER_IN_MUNICIPALITY} ORDER BY month, provider_id, kind, order_id LIMIT :l"),
                {"p": provider_id, "m": _month(month) if month else None, "k": kind, "l": paging.limit + 1,
                 "after_month": after_month, "after_provider": after_provider, "after_kind": after_kind,
                 "after_id": after_id,
                 "muni": _municipality_scope(who)})).mappings().all()
        return paging.page([_order_out(dict(r)) for r in rows], scope,
                           lambda r: [f"{r['month']}-01", str(r["provider_id"]), r["kind"], str(r["order_id"])])

    @router.get("/payment-orders/{order_id}", response_model=s.PaymentOrderDetail, summary="A payment order with its lines",
                operation_id="getPaymentOrder",
                description=("The order with its lines (contract, certificate, sum) and the late adjustments it "
                             "settles; a municipal operator sees the lines of its municipality only."),
                responses=_problems(*SIGNED_IN, "not_found"))
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
    @router.get("/reconciliation", response_model=s.ReconciliationReport, summary="Prove the ledger's invariants",
                operation_id="getReconciliation",
                description=("Checks that all accounts sum to zero and that nominal = available + reserved + spent "
                             "with available >= 0 for every certificate and period; lists what is still outstanding."),
                responses=_problems(*SIGNED_IN))
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
    @router.post("/periods", response_model=s.PeriodOut, status_code=201, summary="Create a program period (draft)",
                 operation_id="createPeriod",
                 description=("A draft program period (normally 1 September to 31 August); nominals and caps are set "
                              "before it opens."),
                 responses=_problems(*SIGNED_IN, "invalid_date_range", "period_overlaps"))
    async def create_period(body: s.PeriodCreate, who: Principal = Depends(require("billing.period.manage"))) -> dict:
        return await periods.create_period(b, body.starts_on, body.ends_on, who)

    @router.get("/periods", response_model=Page[s.PeriodOut], summary="Program periods",
                operation_id="listPeriods",
                description="Every program period, oldest first; paged with `limit` and `cursor`.",
                responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_periods(paging: PageRequest = Depends(paging_params(default=50, maximum=200)),
                           who: Principal = Depends(require("billing.period.read"))) -> dict:
        after, after_id = paging.after_keyset("periods", dt.date.fromisoformat, uuid.UUID) or (None, None)
        async with db.transaction() as session:
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
    async def put_nominals(period_id: uuid.UUID, body: s.NominalsIn,
                           who: Principal = Depends(require("billing.period.manage"))) -> None:
        for n in body.nominals:
            if n.age_max < n.age_min:
                raise ProblemError(422, "invalid_age_group", "age_max is below age_min.")
        await periods.set_nominals(b, period_id, [periods.NominalRow(**n.model_dump()) for n in body.nominals], who)

    @router.put("/periods/{period_id}/caps", response_model=s.CapsOut,
                summary="Set the funding-certificate cap, free places and the per-direction cap",
                operation_id="setPeriodCaps",
                description=("Per municipality: the yearly cap of funding certificates, the free places and the "
                             "per-direction cap. Raising a cap admits queued requests first come first served."),
                responses=_problems(*SIGNED_IN, "not_found", "period_closed", "cap_below_usage"))
    async def put_caps(period_id: uuid.UUID, body: s.CapsIn,
                       who: Principal = Depends(require("billing.period.manage"))) -> dict:
        admitted = await periods.set_caps(b, period_id, [periods.CapRow(**c.model_dump()) for c in body.caps], who)
        return {"admitted_from_queue": admitted}

    @router.post("/periods/{period_id}/open", response_model=s.PeriodAction,
                 summary="Open: credit every active funding certificate its nominal",
                 operation_id="openPeriod",
                 description=("Credits every active funding certificate its nominal (idempotent: a repeated call "
                              "credits nothing twice)."),
                 responses=_problems(*SIGNED_IN, "not_found", "period_not_draft"))
    async def open_period(period_id: uuid.UUID, who: Principal = Depends(require("billing.period.open_close"))) -> dict:
        return await periods.open_period(b, period_id, who)

    @router.post("/periods/{period_id}/close", response_model=s.PeriodAction,
                 summary="Close: unused money returns to the budget",
                 operation_id="closePeriod",
                 description="Unused money of every certificate returns to the budget (idempotent).",
                 responses=_problems(*SIGNED_IN, "not_found", "period_not_open"))
    async def close_period(period_id: uuid.UUID, who: Principal = Depends(require("billing.period.open_close"))) -> dict:
        return await periods.close_period(b, period_id, who)

    # --- months ---------------------------------------------------------------------------
    @router.post("/months/{month}/advance", response_model=s.AdvanceOut,
                 summary="Issue the month's advance payment orders (idempotent)",
                 operation_id="issueMonthAdvances",
                 description=("Per provider and payer, an advance of the configured share (80 %) of the month's "
                              "certificate instalments. Repeating it issues nothing new."),
                 responses=_problems(*SIGNED_IN))
    async def advance(month: MonthPath, who: Principal = Depends(require("billing.month_close.run"))) -> dict:
        async with db.transaction() as session:
            issued = await payment_orders.issue_advances(b, session, _month(month), who)
        return {"month": month, "orders_issued": issued}

    @router.post("/months/{month}/close", response_model=s.MonthCloseOut,
                 summary="Close a month: post, release, invoice, final payment orders (idempotent, resumable)",
                 operation_id="closeMonth",
                 description=("Moves the due amounts from reserved to spent, returns the unearned part to the "
                              "balance, invoices the families' part and issues the final payment orders. Answers 409 "
                              "with Retry-After until the navigator's journal of the month is frozen and fully "
                              "applied."),
                 responses=_problems(*SIGNED_IN, "month_not_over", "journal_not_frozen", "journal_not_drained",
                                     "journal_count_mismatch"))
    async def close(month: MonthPath, who: Principal = Depends(require("billing.month_close.run"))) -> dict:
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
                summary="Whether the month's attendance journal is frozen and fully applied (may the month close?)",
                operation_id="getMonthJournalState",
                description=("Whether the navigator froze the month's attendance journal and billing applied every "
                             "attendance event of it, that is whether the month may be closed."),
                responses=_problems(*SIGNED_IN))
    async def journal_state(month: MonthPath,
                            who: Principal = Depends(require("billing.period.read"))) -> dict:
        first = _month(month)
        async with db.transaction() as session:
            mark = await month_close.journal_watermark(session, first)
            status = (await session.execute(text("SELECT status FROM month_closes WHERE month = :m"),
                                            {"m": first})).scalar()
        return {"month": month, "frozen": mark.frozen, "published_events": mark.published,
                "applied_events": mark.applied, "closable": mark.drained, "close_status": status}

    return router
