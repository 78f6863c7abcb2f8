"""Payment orders (advance and final, per provider, payer and month) and the ledger's reconciliation."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from fastapi import APIRouter, Depends, Query
from sqlalchemy import text

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.params import YearMonth, first_day
from pfdo_plumbing.http.problems import ProblemError

from pfdo_billing.domain.treasury import OrderNotReturned, OrderStatus, TreasuryStatusConflict
from pfdo_billing.service import payment_orders, queries, treasury
from pfdo_billing.service.payment_orders import OrderNotFound

from . import schemas as s
from .context import SIGNED_IN, BillingContext, provider_filter, service_problems as _problems

router = APIRouter(tags=["billing"])


class OrderKind(StrEnum):
    ADVANCE = "advance"
    FINAL = "final"


# a municipal operator sees the orders its municipality pays (an order is per provider and payer)
_ORDER_IN_MUNICIPALITY = "(CAST(:muni AS text) IS NULL OR o.payer_code = :muni)"
_ORDER_COLUMNS = ("o.*, (SELECT r.order_id FROM payment_orders r WHERE r.reissue_of = o.order_id) AS reissued_as")


def _municipality_scope(who: Principal) -> str | None:
    return (who.municipality or "--") if who.role == Role.MUNICIPAL_OPERATOR else None


def _order_out(row: dict) -> dict:
    return {**row, "month": f"{row['month']:%Y-%m}"}


@router.get("/payment-orders", response_model=Page[s.PaymentOrder], summary="Payment orders (providers: their own)",
            operation_id="listPaymentOrders",
            description=("Advance and final payment orders per provider, payer and month, by month, with their "
                         "number and treasury status; paged with `limit` and `cursor`. Providers see their own "
                         "orders, municipal operators the orders their municipality pays."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_orders(
    b: BillingContext,
    provider_id: uuid.UUID | None = Query(default=None, description="Only this provider's orders."),
    month: YearMonth | None = Query(default=None, description="Only this month, 'YYYY-MM' (2000-01..2100-12)."),
    kind: OrderKind | None = Query(default=None, description="advance or final."),
    payer_code: str | None = Query(default=None, pattern=r"^[0-9]{2}$", description="Only this payer's orders."),
    status: OrderStatus | None = Query(default=None, description="Only orders in this treasury status."),
    paging: PageRequest = Depends(paging_params(default=200, maximum=1000)),
    who: Principal = Depends(require("billing.order.read")),
) -> dict:
    provider_id = provider_filter(who, provider_id)
    scope = f"payment-orders|{provider_id}|{month}|{kind}|{payer_code}|{status}"
    after_month, after_provider, after_kind, after_id = (
        paging.after_keyset(scope, dt.date.fromisoformat, uuid.UUID, str, uuid.UUID) or (None,) * 4)
    async with b.runtime.db.transaction() as session:
        rows = (await session.execute(text(
            f"SELECT {_ORDER_COLUMNS} FROM payment_orders o WHERE (CAST(:p AS uuid) IS NULL OR provider_id = :p) "
            "AND (CAST(:m AS date) IS NULL OR month = :m) AND (CAST(:k AS text) IS NULL OR kind = :k) "
            "AND (CAST(:payer AS text) IS NULL OR payer_code = :payer) "
            "AND (CAST(:status AS text) IS NULL OR status = :status) "
            "AND (CAST(:after_month AS date) IS NULL OR (month, provider_id, kind, order_id) > "
            "(CAST(:after_month AS date), CAST(:after_provider AS uuid), CAST(:after_kind AS text), "
            "CAST(:after_id AS uuid))) "
            f"AND {_ORDER_IN_MUNICIPALITY} ORDER BY month, provider_id, kind, order_id LIMIT :l"),
            {"p": provider_id, "m": first_day(month) if month else None, "k": kind, "l": paging.limit + 1,
             "after_month": after_month, "after_provider": after_provider, "after_kind": after_kind,
             "after_id": after_id, "payer": payer_code, "status": status,
             "muni": _municipality_scope(who)})).mappings().all()
    return paging.page([_order_out(dict(r)) for r in rows], scope,
                       lambda r: [f"{r['month']}-01", str(r["provider_id"]), r["kind"], str(r["order_id"])])


@router.get("/payment-orders/{order_id}", response_model=s.PaymentOrderDetail, summary="A payment order with its lines",
            operation_id="getPaymentOrder",
            description=("The order with its lines (contract, certificate, sum) and the late adjustments it "
                         "settles; a municipal operator sees the lines of its municipality only."),
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_order(
    b: BillingContext, order_id: uuid.UUID, who: Principal = Depends(require("billing.order.read")),
) -> dict:
    async with b.runtime.db.transaction() as session:
        muni = _municipality_scope(who)
        row = (await session.execute(text(f"SELECT {_ORDER_COLUMNS} FROM payment_orders o WHERE order_id = :o "
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


# --- the treasury's loop ---------------------------------------------------------------
def _may_act_on(who: Principal, order: dict) -> bool:
    return who.role != Role.MUNICIPAL_OPERATOR or who.municipality == order["payer_code"]


@router.post("/payment-orders/{order_id}/treasury-status", response_model=s.TreasuryStatusOut,
             summary="The treasury's status of a payment order (finance system; idempotent)",
             operation_id="reportTreasuryStatus",
             description=("The finance system reports an order accepted, paid or returned (with the reason); the "
                          "same as its event on the treasury topic. A repeated or late status (accepted after "
                          "paid) changes nothing; paid after returned (or the reverse) answers 409."),
             responses=_problems(*SIGNED_IN, "not_found", "invalid_treasury_status", "treasury_status_conflict"))
async def treasury_status(
    b: BillingContext, order_id: uuid.UUID, body: s.TreasuryStatusIn,
    who: Principal = Depends(require("billing.order.treasury_status")),
) -> dict:
    report = treasury.StatusReport(order_id=order_id, status=OrderStatus(body.status), status_on=body.status_on,
                                   treasury_reference=body.treasury_reference, reason=body.reason)
    try:
        async with b.runtime.db.transaction() as session:
            decision, order = await treasury.report_status(b, session, report, via="api", actor=who)
    except OrderNotFound as exc:
        raise ProblemError(404, "not_found", "payment order not found") from exc
    except TreasuryStatusConflict as exc:
        raise ProblemError(409, exc.code, exc.message) from exc
    return {"order_id": order_id, "number": order["number"], "status": decision.status.value,
            "outcome": decision.outcome.value}


@router.post("/payment-orders/{order_id}/reissue", response_model=s.PaymentOrder,
             summary="Reissue a returned payment order (idempotent)",
             operation_id="reissuePaymentOrder",
             description=("A new order with a new number and the same money and lines, linking to the returned "
                          "one (which stays as history). Repeating it answers the same new order. A municipal "
                          "operator reissues its municipality's orders only."),
             responses=_problems(*SIGNED_IN, "not_found", "order_not_returned"))
async def reissue(
    b: BillingContext, order_id: uuid.UUID, who: Principal = Depends(require("billing.order.reissue")),
) -> dict:
    try:
        async with b.runtime.db.transaction() as session:
            returned = await payment_orders.lock_order(session, order_id)
            if not _may_act_on(who, returned):
                raise OrderNotFound(str(order_id))
            order = await payment_orders.reissue(b, session, order_id, who)
    except OrderNotFound as exc:
        raise ProblemError(404, "not_found", "payment order not found") from exc
    except OrderNotReturned as exc:
        raise ProblemError(409, exc.code, exc.message) from exc
    return _order_out({**order, "reissued_as": None})


# --- reconciliation -------------------------------------------------------------------
@router.get("/reconciliation", response_model=s.ReconciliationReport, summary="Prove the ledger's invariants",
            operation_id="getReconciliation",
            description=("Checks that all accounts sum to zero and that nominal = available + reserved + spent "
                         "with available >= 0 for every certificate and period; lists what is still outstanding."),
            responses=_problems(*SIGNED_IN))
async def reconciliation(
    b: BillingContext,
    period_id: uuid.UUID | None = Query(default=None, description="A period, or all when omitted."),
    who: Principal = Depends(require("billing.reconciliation.read")),
) -> dict:
    async with b.runtime.db.transaction() as session:
        checks = await queries.reconciliation(session, period_id)
        outstanding = await queries.outstanding(session, period_id)
    return {"period_id": period_id, "ok": all(c["ok"] for c in checks), "checks": checks,
            "outstanding": outstanding}

