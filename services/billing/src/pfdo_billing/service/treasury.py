"""The treasury's statuses of payment orders, from either path: the finance system's call
through the gateway (``POST /payment-orders/{id}/treasury-status``) or its event on the
treasury topic. Both land in :func:`report_status` (domain: ``treasury``).

Each status is recorded once per order (``payment_order_statuses``, the first report wins);
a duplicate or a stale report changes nothing and publishes nothing; an applied one updates
the order and publishes ``PaymentOrderStatusChanged``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import month_of
from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import treasury as tev
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.logging import get_logger

from pfdo_billing.domain.treasury import Decision, OrderStatus, apply_report

from .context import Billing
from .payment_orders import lock_order

log = get_logger(__name__)


@dataclass(frozen=True)
class StatusReport:
    """One report of the treasury about one order."""

    order_id: uuid.UUID
    status: OrderStatus
    status_on: date
    treasury_reference: str | None = None
    reason: str | None = None


async def report_status(b: Billing, session: AsyncSession, report: StatusReport, *, via: str,
                        actor: Principal | None) -> tuple[Decision, dict]:
    """Apply a treasury report to its order (idempotent); returns the decision and the order after it.

    Raises ``OrderNotFound`` for an unknown order and the domain's ``InvalidTreasuryStatus`` /
    ``TreasuryStatusConflict``."""
    order = await lock_order(session, report.order_id)
    previous = OrderStatus(order["status"])
    decision = apply_report(previous, report.status, report.reason)
    await session.execute(text(
        "INSERT INTO payment_order_statuses (order_id, status, status_on, treasury_reference, reason, reported_via, "
        "applied) VALUES (:o, :s, :on, :ref, :reason, :via, :applied) ON CONFLICT (order_id, status) DO NOTHING"),
        {"o": report.order_id, "s": report.status.value, "on": report.status_on, "ref": report.treasury_reference,
         "reason": report.reason, "via": via, "applied": decision.changed})
    if not decision.changed:
        log.info("treasury_status_ignored", order_id=str(report.order_id), status=report.status.value,
                 current=previous.value, outcome=decision.outcome.value, via=via)
        return decision, order
    order = dict((await session.execute(text(
        "UPDATE payment_orders SET status = :s, status_on = :on, "
        "treasury_reference = COALESCE(:ref, treasury_reference), return_reason = :reason, "
        "status_changed_at = now() WHERE order_id = :o RETURNING *"),
        {"o": report.order_id, "s": decision.status.value, "on": report.status_on, "ref": report.treasury_reference,
         "reason": report.reason if decision.status is OrderStatus.RETURNED else None})).mappings().one())
    await b.runtime.outbox.put(session, bev.PaymentOrderStatusChanged(
        order_id=order["order_id"], provider_id=order["provider_id"], payer_code=order["payer_code"],
        number=order["number"], month=month_of(order["month"]), kind=bev.OrderKind(order["kind"]),
        amount_kopecks=order["amount_kopecks"], previous_status=bev.PaymentOrderStatus(previous.value),
        status=bev.PaymentOrderStatus(decision.status.value), status_on=report.status_on,
        treasury_reference=order["treasury_reference"], reason=order["return_reason"]))
    await audit.record(session, actor, "billing.payment_order.treasury_status", "payment_order", report.order_id,
                       municipality=order["payer_code"],
                       details={"number": order["number"], "previous": previous.value, "status": decision.status.value,
                                "status_on": report.status_on.isoformat(), "via": via})
    return decision, order


async def status_reported(b: Billing, session: AsyncSession, e: tev.PaymentStatusReported, env: Envelope) -> None:
    """The treasury's event: the same use case as the gateway call."""
    await report_status(b, session, StatusReport(
        order_id=e.order_id, status=OrderStatus(e.status.value), status_on=e.status_on,
        treasury_reference=e.treasury_reference, reason=e.reason), via="event", actor=None)
