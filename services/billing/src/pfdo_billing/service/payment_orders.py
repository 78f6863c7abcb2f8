"""Payment orders per provider, payer and month: the advance at the month start and the final
settlement after month close (domain: ``payment_orders``), each with its number (a sequence per
year, :func:`_Numbers`), and the reissue of a returned order (domain: ``treasury``).

The payer of a contract's money is its certificate's municipality (``contracts.payer_code``);
offsets carry per (provider, payer). A reissued order repeats the returned one's money under a
new number; sums over orders count the originals only (``reissue_of IS NULL``)."""

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
from pfdo_billing.domain.treasury import OrderStatus, check_reissuable

from .context import Billing


def order_id(provider_id: uuid.UUID, payer_code: str, month: date, kind: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:order:{provider_id}:{payer_code}:{month:%Y-%m}:{kind}")


def reissued_order_id(returned_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:order-reissue:{returned_id}")


def order_number(year: int, sequence: int) -> str:
    """The human number of an order: the year and its sequence, ``2026-000123``."""
    return f"{year:04d}-{sequence:06d}"


class _Numbers:
    """The numbers of one year drawn in one transaction: the year's counter row is locked first
    (before the orders are looked for), so concurrent issuers wait and then find the orders
    already issued, and a number is used only by an order written: no gaps, no duplicates."""

    def __init__(self, session: AsyncSession, year: int) -> None:
        self.session, self.year, self.last, self.locked = session, year, 0, False

    async def lock(self) -> None:
        if not self.locked:
            await self.session.execute(text(
                "INSERT INTO payment_order_numbers (year, last_number) VALUES (:y, 0) ON CONFLICT (year) DO NOTHING"),
                {"y": self.year})
            self.last = int((await self.session.execute(text(
                "SELECT last_number FROM payment_order_numbers WHERE year = :y FOR UPDATE"), {"y": self.year})).scalar())
            self.locked = True

    async def draw(self) -> str:
        await self.lock()
        self.last += 1
        await self.session.execute(text("UPDATE payment_order_numbers SET last_number = :n WHERE year = :y"),
                                   {"n": self.last, "y": self.year})
        return order_number(self.year, self.last)


_INSERT_ORDER = (
    "INSERT INTO payment_orders (order_id, provider_id, payer_code, period_id, month, kind, number, base_kopecks, "
    "advance_paid_kopecks, offset_applied_kopecks, amount_kopecks, offset_carried_kopecks, contract_count, issued_on, "
    "reissue_of) VALUES (:order_id, :provider_id, :payer_code, :period_id, :month, :kind, :number, :base, "
    ":advance_paid, :offset_applied, :amount, :offset_carried, :contracts, :issued_on, :reissue_of) ")


async def _insert_order(b: Billing, session: AsyncSession, numbers: _Numbers, values: dict) -> bool:
    """Write an original order unless it exists; its number is drawn only when it is written."""
    await numbers.lock()
    exists = (await session.execute(text(
        "SELECT 1 FROM payment_orders WHERE provider_id = :provider_id AND payer_code = :payer_code "
        "AND month = :month AND kind = :kind AND reissue_of IS NULL"), values)).first()
    if exists:
        return False
    values = {**values, "number": await numbers.draw(), "reissue_of": None}
    await session.execute(text(_INSERT_ORDER), values)
    await b.runtime.outbox.put(session, _issued_event(values))
    return True


def _issued_event(values: dict) -> bev.PaymentOrderIssued:
    return bev.PaymentOrderIssued(
        order_id=values["order_id"], provider_id=values["provider_id"], period_id=values["period_id"],
        month=month_of(values["month"]), kind=bev.OrderKind(values["kind"]), base_kopecks=values["base"],
        advance_paid_kopecks=values["advance_paid"], offset_applied_kopecks=values["offset_applied"],
        amount_kopecks=values["amount"], offset_carried_kopecks=values["offset_carried"],
        contract_count=values["contracts"], issued_on=values["issued_on"], payer_code=values["payer_code"],
        number=values["number"], reissue_of=values["reissue_of"])


async def issue_advances(b: Billing, session: AsyncSession, month: date, actor: Principal | None) -> int:
    """Advance orders for ``month``: percent of the month's certificate instalments per provider and payer."""
    rows = (await session.execute(text(
        "SELECT c.provider_id, c.payer_code, c.period_id, sum(cm.certificate_kopecks) AS base, count(*) AS n "
        "FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id "
        f"WHERE cm.month = :m AND c.status IN ({sql_list(IN_FORCE)}) AND cm.state IN ('reserved', 'closed') "
        "AND cm.certificate_kopecks > 0 GROUP BY c.provider_id, c.payer_code, c.period_id "
        "ORDER BY c.provider_id, c.payer_code"),
        {"m": month})).all()
    issued = 0
    new_orders: list[uuid.UUID] = []
    today = b.today()
    numbers = _Numbers(session, today.year)
    for r in rows:
        adv = advance(str(r.provider_id), month, [int(r.base)], b.settings.advance_percent)
        values = dict(order_id=order_id(r.provider_id, r.payer_code, month, "advance"), provider_id=r.provider_id,
                      payer_code=r.payer_code, period_id=r.period_id, month=month, kind="advance", base=int(r.base),
                      advance_paid=0, offset_applied=0, amount=adv.amount, offset_carried=0, contracts=int(r.n),
                      issued_on=today)
        if await _insert_order(b, session, numbers, values):
            issued += 1
            new_orders.append(values["order_id"])
            await audit.record(session, actor, "billing.payment_order.advance", "payment_order", values["order_id"],
                               municipality=r.payer_code,
                               details={"provider_id": str(r.provider_id), "payer_code": r.payer_code,
                                        "month": month_of(month), "amount_kopecks": adv.amount})
    if new_orders:  # the lines of every new order in one statement
        await session.execute(text(
            "INSERT INTO payment_order_lines (order_id, enrolment_id, certificate_id, amount_kopecks) "
            "SELECT o.order_id, c.enrolment_id, c.certificate_id, cm.certificate_kopecks "
            "FROM payment_orders o JOIN contracts c ON c.provider_id = o.provider_id AND c.period_id = o.period_id "
            "AND c.payer_code = o.payer_code "
            "JOIN contract_months cm ON cm.enrolment_id = c.enrolment_id AND cm.month = o.month "
            "WHERE o.order_id = ANY(:ids) AND cm.certificate_kopecks > 0 "
            f"AND c.status IN ({sql_list(IN_FORCE)}) AND cm.state IN ('reserved', 'closed')"),
            {"ids": new_orders})
    return issued


async def issue_finals(b: Billing, session: AsyncSession, month: date, actor: Principal | None,
                       municipality: str | None = None) -> int:
    """Final settlements for a closed ``month`` per provider and payer (only ``municipality``'s
    when given): posted − advance − carried offset (never negative).

    Late adjustments of closed months not yet settled (``late_adjustments``) are settled here:
    late charges are paid with the month's postings, refunds are deducted like an offset carried
    in (a refund larger than the order is carried on to the next month)."""
    rows = (await session.execute(text(
        """
        WITH posted AS (
            SELECT c.provider_id, c.payer_code, c.period_id, sum(cm.posted_kopecks) AS posted, count(*) AS n
            FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id
            WHERE cm.month = :m AND cm.state = 'closed' AND c.funding_kind = 'certificate' AND cm.certificate_kopecks > 0
              AND (CAST(:muni AS text) IS NULL OR c.payer_code = :muni)
            GROUP BY c.provider_id, c.payer_code, c.period_id
        ), advances AS (
            SELECT provider_id, payer_code, period_id, amount_kopecks FROM payment_orders
            WHERE month = :m AND kind = 'advance' AND reissue_of IS NULL
              AND (CAST(:muni AS text) IS NULL OR payer_code = :muni)
        ), late AS (
            SELECT a.provider_id, c.payer_code, a.period_id, sum(a.charged_kopecks) AS charged,
                   sum(a.refunded_kopecks) AS refunded, array_agg(a.adjustment_id) AS ids
            FROM month_adjustments a JOIN contracts c ON c.enrolment_id = a.enrolment_id
            WHERE a.settled_order_id IS NULL AND a.month <= :m
              AND (CAST(:muni AS text) IS NULL OR c.payer_code = :muni)
            GROUP BY a.provider_id, c.payer_code, a.period_id
        ), months AS (
            SELECT COALESCE(p.provider_id, a.provider_id) AS provider_id, COALESCE(p.payer_code, a.payer_code) AS payer_code,
                   COALESCE(p.period_id, a.period_id) AS period_id,
                   COALESCE(p.posted, 0) AS posted, COALESCE(p.n, 0) AS n, COALESCE(a.amount_kopecks, 0) AS advance_paid
            FROM posted p FULL JOIN advances a
              ON a.provider_id = p.provider_id AND a.payer_code = p.payer_code AND a.period_id = p.period_id
        )
        SELECT COALESCE(x.provider_id, l.provider_id) AS provider_id, COALESCE(x.payer_code, l.payer_code) AS payer_code,
               COALESCE(x.period_id, l.period_id) AS period_id,
               COALESCE(x.posted, 0) AS posted, COALESCE(x.n, 0) AS n, COALESCE(x.advance_paid, 0) AS advance_paid,
               COALESCE(l.charged, 0) AS late_charged, COALESCE(l.refunded, 0) AS late_refunded,
               COALESCE(l.ids, '{}') AS late_ids,
               COALESCE((SELECT o.offset_carried_kopecks FROM payment_orders o
                         WHERE o.provider_id = COALESCE(x.provider_id, l.provider_id)
                           AND o.payer_code = COALESCE(x.payer_code, l.payer_code)
                           AND o.kind = 'final' AND o.month < :m AND o.reissue_of IS NULL
                         ORDER BY o.month DESC LIMIT 1), 0) AS offset_in
        FROM months x FULL JOIN late l
          ON l.provider_id = x.provider_id AND l.payer_code = x.payer_code AND l.period_id = x.period_id
        ORDER BY 1, 2
        """), {"m": month, "muni": municipality})).all()
    issued = 0
    new_orders: list[uuid.UUID] = []
    today = b.today()
    numbers = _Numbers(session, today.year)
    for r in rows:
        fin = final_settlement(str(r.provider_id), month, int(r.posted + r.late_charged), int(r.advance_paid),
                               int(r.offset_in + r.late_refunded))
        values = dict(order_id=order_id(r.provider_id, r.payer_code, month, "final"), provider_id=r.provider_id,
                      payer_code=r.payer_code, period_id=r.period_id, month=month, kind="final", base=fin.posted,
                      advance_paid=fin.advance, offset_applied=fin.offset_in, amount=fin.amount,
                      offset_carried=fin.offset_out, contracts=int(r.n), issued_on=today)
        if await _insert_order(b, session, numbers, values):
            issued += 1
            new_orders.append(values["order_id"])
            if r.late_ids:
                await session.execute(text(
                    "UPDATE month_adjustments SET settled_order_id = :o WHERE adjustment_id = ANY(:ids) "
                    "AND settled_order_id IS NULL"), {"o": values["order_id"], "ids": list(r.late_ids)})
            await audit.record(session, actor, "billing.payment_order.final", "payment_order", values["order_id"],
                               municipality=r.payer_code,
                               details={"provider_id": str(r.provider_id), "payer_code": r.payer_code,
                                        "month": month_of(month),
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
            "AND c.payer_code = o.payer_code "
            "JOIN contract_months cm ON cm.enrolment_id = c.enrolment_id AND cm.month = o.month "
            "WHERE o.order_id = ANY(:ids) AND cm.state = 'closed' AND c.funding_kind = 'certificate' "
            "AND cm.certificate_kopecks > 0"),
            {"ids": new_orders})
    return issued


class OrderNotFound(LookupError):
    """No payment order with this id (or none the caller may see)."""


async def lock_order(session: AsyncSession, order: uuid.UUID) -> dict:
    row = (await session.execute(text("SELECT * FROM payment_orders WHERE order_id = :o FOR UPDATE"),
                                 {"o": order})).mappings().first()
    if row is None:
        raise OrderNotFound(str(order))
    return dict(row)


async def reissue(b: Billing, session: AsyncSession, returned_id: uuid.UUID, actor: Principal | None) -> dict:
    """Reissue a returned order: a new order with a new number and the same money and lines,
    linking to the returned one (which stays as history). Repeating it answers the same order."""
    returned = await lock_order(session, returned_id)
    check_reissuable(OrderStatus(returned["status"]))
    new_id = reissued_order_id(returned_id)
    existing = (await session.execute(text("SELECT * FROM payment_orders WHERE reissue_of = :o"),
                                      {"o": returned_id})).mappings().first()
    if existing is not None:
        return dict(existing)
    today = b.today()
    values = dict(order_id=new_id, provider_id=returned["provider_id"], payer_code=returned["payer_code"],
                  period_id=returned["period_id"], month=returned["month"], kind=returned["kind"],
                  base=returned["base_kopecks"], advance_paid=returned["advance_paid_kopecks"],
                  offset_applied=returned["offset_applied_kopecks"], amount=returned["amount_kopecks"],
                  offset_carried=returned["offset_carried_kopecks"], contracts=returned["contract_count"],
                  issued_on=today, reissue_of=returned_id)
    values["number"] = await _Numbers(session, today.year).draw()
    await session.execute(text(_INSERT_ORDER), values)
    await session.execute(text(
        "INSERT INTO payment_order_lines (order_id, enrolment_id, certificate_id, amount_kopecks) "
        "SELECT :n, enrolment_id, certificate_id, amount_kopecks FROM payment_order_lines WHERE order_id = :o"),
        {"n": new_id, "o": returned_id})
    await b.runtime.outbox.put(session, _issued_event(values))
    await audit.record(session, actor, "billing.payment_order.reissue", "payment_order", new_id,
                       municipality=returned["payer_code"],
                       details={"reissue_of": str(returned_id), "number": values["number"],
                                "returned_number": returned["number"], "amount_kopecks": returned["amount_kopecks"]})
    return dict((await session.execute(text("SELECT * FROM payment_orders WHERE order_id = :o"),
                                       {"o": new_id})).mappings().one())
