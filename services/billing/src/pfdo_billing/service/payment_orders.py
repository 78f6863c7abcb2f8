"""Payment orders per provider and month: the advance at the month start and the final
settlement after month close (domain: ``payment_orders``)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import month_of
from pfdo_contracts.events import billing as bev
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal

from pfdo_billing.adapters.sql_lists import sql_list
from pfdo_billing.domain.contract import IN_FORCE
from pfdo_billing.domain.payment_orders import advance, final_settlement

from .context import Billing


def order_id(provider_id: uuid.UUID, month: date, kind: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:order:{provider_id}:{month:%Y-%m}:{kind}")


async def _insert_order(b: Billing, session: AsyncSession, values: dict) -> bool:
    row = (await session.execute(text(
        "INSERT INTO payment_orders (order_id, provider_id, period_id, month, kind, base_kopecks, advance_paid_kopecks, "
        "offset_applied_kopecks, amount_kopecks, offset_carried_kopecks, contract_count, issued_on) VALUES "
        "(:order_id, :provider_id, :period_id, :month, :kind, :base, :advance_paid, :offset_applied, :amount, "
        ":offset_carried, :contracts, :issued_on) ON CONFLICT (provider_id, month, kind) DO NOTHING RETURNING order_id"),
        values)).first()
    if row is None:
        return False
    await b.runtime.outbox.put(session, bev.PaymentOrderIssued(
        order_id=values["order_id"], provider_id=values["provider_id"], period_id=values["period_id"],
        month=month_of(values["month"]), kind=bev.OrderKind(values["kind"]), base_kopecks=values["base"],
        advance_paid_kopecks=values["advance_paid"], offset_applied_kopecks=values["offset_applied"],
        amount_kopecks=values["amount"], offset_carried_kopecks=values["offset_carried"],
        contract_count=values["contracts"], issued_on=values["issued_on"]))
    return True


async def issue_advances(b: Billing, session: AsyncSession, month: date, actor: Principal | None) -> int:
    """Advance orders for ``month``: percent of the month's certificate instalments per provider."""
    rows = (await session.execute(text(
        "SELECT c.provider_id, c.period_id, sum(cm.certificate_kopecks) AS base, count(*) AS n "
        "FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id "
        f"WHERE cm.month = :m AND c.status IN ({sql_list(IN_FORCE)}) AND cm.state IN ('reserved', 'closed') "
        "AND cm.certificate_kopecks > 0 GROUP BY c.provider_id, c.period_id ORDER BY c.provider_id"),
        {"m": month})).all()
    issued = 0
    new_orders: list[uuid.UUID] = []
    today = b.today()
    for r in rows:
        adv = advance(str(r.provider_id), month, [int(r.base)], b.settings.advance_percent)
        values = dict(order_id=order_id(r.provider_id, month, "advance"), provider_id=r.provider_id,
                      period_id=r.period_id, month=month, kind="advance", base=int(r.base), advance_paid=0,
                      offset_applied=0, amount=adv.amount, offset_carried=0, contracts=int(r.n), issued_on=today)
        if await _insert_order(b, session, values):
            issued += 1
            new_orders.append(values["order_id"])
            await audit.record(session, actor, "billing.payment_order.advance", "payment_order", values["order_id"],
                               details={"provider_id": str(r.provider_id), "month": month_of(month),
                                        "amount_kopecks": adv.amount})
    if new_orders:  # the lines of every new order in one statement
        await session.execute(text(
            "INSERT INTO payment_order_lines (order_id, enrolment_id, certificate_id, amount_kopecks) "
            "SELECT o.order_id, c.enrolment_id, c.certificate_id, cm.certificate_kopecks "
            "FROM payment_orders o JOIN contracts c ON c.provider_id = o.provider_id AND c.period_id = o.period_id "
            "JOIN contract_months cm ON cm.enrolment_id = c.enrolment_id AND cm.month = o.month "
            "WHERE o.order_id = ANY(:ids) AND cm.certificate_kopecks > 0 "
            f"AND c.status IN ({sql_list(IN_FORCE)}) AND cm.state IN ('reserved', 'closed')"),
            {"ids": new_orders})
    return issued


async def issue_finals(b: Billing, session: AsyncSession, month: date, actor: Principal | None) -> int:
    """Final settlements for a closed ``month``: posted − advance − carried offset (never negative).

    Late adjustments of closed months not yet settled (``late_adjustments``) are settled here:
    late charges are paid with the month's postings, refunds are deducted like an offset carried
    in (a refund larger than the order is carried on to the next month)."""
    rows = (await session.execute(text(
        """
        WITH posted AS (
            SELECT c.provider_id, c.period_id, sum(cm.posted_kopecks) AS posted, count(*) AS n
            FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id
            WHERE cm.month = :m AND cm.state = 'closed' AND c.funding_kind = 'certificate' AND cm.certificate_kopecks > 0
            GROUP BY c.provider_id, c.period_id
        ), advances AS (
            SELECT provider_id, period_id, amount_kopecks FROM payment_orders WHERE month = :m AND kind = 'advance'
        ), late AS (
            SELECT provider_id, period_id, sum(charged_kopecks) AS charged, sum(refunded_kopecks) AS refunded,
                   array_agg(adjustment_id) AS ids
            FROM month_adjustments WHERE settled_order_id IS NULL AND month <= :m
            GROUP BY provider_id, period_id
        ), months AS (
            SELECT COALESCE(p.provider_id, a.provider_id) AS provider_id, COALESCE(p.period_id, a.period_id) AS period_id,
                   COALESCE(p.posted, 0) AS posted, COALESCE(p.n, 0) AS n, COALESCE(a.amount_kopecks, 0) AS advance_paid
            FROM posted p FULL JOIN advances a ON a.provider_id = p.provider_id AND a.period_id = p.period_id
        )
        SELECT COALESCE(x.provider_id, l.provider_id) AS provider_id, COALESCE(x.period_id, l.period_id) AS period_id,
               COALESCE(x.posted, 0) AS posted, COALESCE(x.n, 0) AS n, COALESCE(x.advance_paid, 0) AS advance_paid,
               COALESCE(l.charged, 0) AS late_charged, COALESCE(l.refunded, 0) AS late_refunded,
               COALESCE(l.ids, '{}') AS late_ids,
               COALESCE((SELECT o.offset_carried_kopecks FROM payment_orders o
                         WHERE o.provider_id = COALESCE(x.provider_id, l.provider_id) AND o.kind = 'final' AND o.month < :m
                         ORDER BY o.month DESC LIMIT 1), 0) AS offset_in
        FROM months x FULL JOIN late l ON l.provider_id = x.provider_id AND l.period_id = x.period_id
        ORDER BY 1
        """), {"m": month})).all()
    issued = 0
    new_orders: list[uuid.UUID] = []
    today = b.today()
    for r in rows:
        fin = final_settlement(str(r.provider_id), month, int(r.posted + r.late_charged), int(r.advance_paid),
                               int(r.offset_in + r.late_refunded))
        values = dict(order_id=order_id(r.provider_id, month, "final"), provider_id=r.provider_id,
                      period_id=r.period_id, month=month, kind="final", base=fin.posted, advance_paid=fin.advance,
                      offset_applied=fin.offset_in, amount=fin.amount, offset_carried=fin.offset_out,
                      contracts=int(r.n), issued_on=today)
        if await _insert_order(b, session, values):
            issued += 1
            new_orders.append(values["order_id"])
            if r.late_ids:
                await session.execute(text(
                    "UPDATE month_adjustments SET settled_order_id = :o WHERE adjustment_id = ANY(:ids) "
                    "AND settled_order_id IS NULL"), {"o": values["order_id"], "ids": list(r.late_ids)})
            await audit.record(session, actor, "billing.payment_order.final", "payment_order", values["order_id"],
                               details={"provider_id": str(r.provider_id), "month": month_of(month),
                                        "amount_kopecks": fin.amount, "offset_carried_kopecks": fin.offset_out,
                                        "late_charged_kopecks": int(r.late_charged),
                                        "late_refunded_kopecks": int(r.late_refunded)})
    if new_orders:
        # the month's rows were all rewritten by the close a moment ago: without fresh statistics the
        # planner nests a scan of every contract-month inside a loop over the orders
        await session.execute(text("ANALYZE contract_months, contracts"))
        await session.execute(text(
            "INSERT INTO payment_order_lines (order_id, enrolment_id, certificate_id, amount_kopecks) "
            "SELECT o.order_id, c.enrolment_id, c.certificate_id, cm.posted_kopecks "
            "FROM payment_orders o JOIN contracts c ON c.provider_id = o.provider_id AND c.period_id = o.period_id "
            "JOIN contract_months cm ON cm.enrolment_id = c.enrolment_id AND cm.month = o.month "
            "WHERE o.order_id = ANY(:ids) AND cm.state = 'closed' AND c.funding_kind = 'certificate' "
            "AND cm.certificate_kopecks > 0"),
            {"ids": new_orders})
    return issued
