"""Late adjustments of closed months (the rule: ``domain/late_adjustment.py``).

A dispute event first updates its mark (``attendance.py``); if the mark's contract-month is
already closed, this module bills that month again with the marks as they are now, in the same
transaction as the event's inbox row (so a redelivered event adjusts nothing twice):

- the certificate part: ``late_charge`` (available -> spent) or ``late_refund`` (spent ->
  available), each with its ``late_mirror`` on the provider's side (budget outlay <-> provider
  payable), so that spent still equals what providers are owed;
- the family part: ``late_invoice`` or ``late_credit``;
- a ``month_adjustments`` row, which the provider's next final payment order settles
  (``payment_orders.issue_finals``), and a ``ChargeAdjusted`` event for finance.

The contract-month's row is locked first, so adjustments of one month are computed one after
the other, each seeing the ones before it.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import month_of
from pfdo_contracts.events import billing as bev
from pfdo_contracts.rules.lessons import is_billable_sql
from pfdo_plumbing import audit
from pfdo_plumbing.logging import get_logger

from pfdo_billing.adapters import ledger
from pfdo_billing.adapters.ledger import Booking
from pfdo_billing.domain.calendar import month_end, month_start
from pfdo_billing.domain.due import MonthAttendance, close_month
from pfdo_billing.domain.late_adjustment import Billed, LateAdjustment, late_adjustment
from pfdo_billing.domain.ledger_model import CreditFamily, LateCharge, LateInvoice, LateRefund

from . import month_lock
from .context import Billing

log = get_logger(__name__)

_CLOSED_MONTH = text(
    f"""
    SELECT cm.enrolment_id, cm.month, cm.certificate_kopecks AS ci, cm.family_kopecks AS fi,
           cm.planned_lessons AS planned, cm.posted_kopecks AS posted, cm.family_invoiced_kopecks AS invoiced,
           c.certificate_id, c.provider_id, c.period_id, c.payer_code AS payer, c.payment_mode,
           (SELECT count(*) FROM attendance_marks m
             WHERE m.enrolment_id = cm.enrolment_id
               AND m.lesson_date BETWEEN GREATEST(cm.month, c.start_date) AND LEAST(CAST(:month_end AS date), c.end_date)
               AND {is_billable_sql('m.status', 'm.disputed')})::int AS attended,
           so_far.late_charged, so_far.uncovered, so_far.late_invoiced
      FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id,
           LATERAL (SELECT COALESCE(sum(a.charged_kopecks - a.refunded_kopecks), 0)::bigint AS late_charged,
                           COALESCE(sum(a.uncovered_change_kopecks), 0)::bigint AS uncovered,
                           COALESCE(sum(a.family_invoiced_kopecks - a.family_credited_kopecks), 0)::bigint
                               AS late_invoiced
                      FROM month_adjustments a
                     WHERE a.enrolment_id = cm.enrolment_id AND a.month = cm.month) so_far
     WHERE cm.enrolment_id = :e AND cm.month = :m AND cm.state = 'closed'
    """
)
"""The closed contract-month with its billable marks now and its adjustments so far (one pass
over them). It is read after ``_LOCK_MONTH``: under READ COMMITTED a statement that waited for
a lock still reads rows committed up to its own start, so the month is locked by a statement of
its own first."""

_LOCK_MONTH = text("SELECT 1 FROM contract_months WHERE enrolment_id = :e AND month = :m AND state = 'closed' FOR UPDATE")

_ADD = text(
    """
    INSERT INTO month_adjustments (adjustment_id, enrolment_id, month, certificate_id, provider_id, period_id, reason,
        dispute_id, mark_id, attended_lessons, charged_kopecks, refunded_kopecks, uncovered_change_kopecks,
        family_invoiced_kopecks, family_credited_kopecks, cause_event_id)
    VALUES (:adjustment_id, :enrolment_id, :month, :certificate_id, :provider_id, :period_id, :reason, :dispute_id,
        :mark_id, :attended, :charged, :refunded, :uncovered_change, :family_invoiced, :family_credited, :cause)
    """
)


async def readjust_closed_month(
    b: Billing, session: AsyncSession, *, enrolment_id: uuid.UUID, lesson_date: date,
    reason: bev.AdjustmentReason, dispute_id: uuid.UUID, mark_id: uuid.UUID, cause_event_id: uuid.UUID,
) -> LateAdjustment | None:
    """Bill the mark's contract-month again if it is closed; the adjustment made, or None (the
    month is not closed, so its close will count the mark; or nothing changed)."""
    month = month_start(lesson_date)
    key = {"e": enrolment_id, "m": month}
    await month_lock.hold_off_close(session, month)
    if (await session.execute(_LOCK_MONTH, key)).first() is None:
        return None
    row = (await session.execute(_CLOSED_MONTH, {**key, "month_end": month_end(month)})).one()
    owed = close_month(int(row.ci), int(row.fi), row.payment_mode, MonthAttendance(row.planned, row.attended))
    billed = Billed(int(row.posted + row.late_charged), int(row.uncovered), int(row.invoiced + row.late_invoiced))
    balance = await ledger.lock_balance(session, row.certificate_id, row.period_id)
    adj = late_adjustment(owed, billed, int(balance["available"]) if balance else 0)
    if adj.empty:
        return None
    adjustment_id = uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:late:{cause_event_id}:{enrolment_id}:{month:%Y-%m}")
    await ledger.apply(session, _bookings(adj, row, adjustment_id, cause_event_id))
    await session.execute(_ADD, {
        "adjustment_id": adjustment_id, "enrolment_id": enrolment_id, "month": month,
        "certificate_id": row.certificate_id, "provider_id": row.provider_id, "period_id": row.period_id,
        "reason": reason.value, "dispute_id": dispute_id, "mark_id": mark_id, "attended": row.attended,
        "charged": adj.charge, "refunded": adj.refund, "uncovered_change": adj.uncovered_change,
        "family_invoiced": adj.family_invoice, "family_credited": adj.family_credit, "cause": cause_event_id,
    })
    after = adj.applied_to(billed)
    await b.runtime.outbox.put(session, bev.ChargeAdjusted(
        adjustment_id=adjustment_id, enrolment_id=enrolment_id, certificate_id=row.certificate_id,
        provider_id=row.provider_id, period_id=row.period_id, municipality_code=row.payer, month=month_of(month),
        reason=reason, dispute_id=dispute_id, mark_id=mark_id, attended_lessons=row.attended,
        planned_lessons=row.planned, charged_kopecks=adj.charge, refunded_kopecks=adj.refund,
        certificate_total_kopecks=after.certificate_charged, uncovered_kopecks=after.certificate_uncovered,
        family_invoiced_kopecks=adj.family_invoice, family_credited_kopecks=adj.family_credit,
        family_total_kopecks=after.family_invoiced, adjusted_on=b.today(),
    ))
    details = {"enrolment_id": str(enrolment_id), "month": month_of(month), "reason": reason.value,
               "dispute_id": str(dispute_id), "charged_kopecks": adj.charge, "refunded_kopecks": adj.refund,
               "uncovered_kopecks": after.certificate_uncovered, "family_invoiced_kopecks": adj.family_invoice,
               "family_credited_kopecks": adj.family_credit}
    await audit.record(session, None, "billing.month.adjusted", "contract_month", f"{enrolment_id}:{month:%Y-%m}",
                       municipality=row.payer, details=details)
    if adj.uncovered_change > 0:
        log.warning("late_charge_uncovered", **details)
    else:
        log.info("late_adjustment", **details)
    return adj


def _bookings(adj: LateAdjustment, row, adjustment_id: uuid.UUID,  # noqa: ANN001
              cause_event_id: uuid.UUID) -> list[Booking]:
    """The ledger operations of an adjustment (those of zero amount write nothing); a late charge
    or refund writes its ``late_mirror`` on the provider's side too."""
    aid, period, provider = adjustment_id, str(row.period_id), str(row.provider_id)
    cert, contract = str(row.certificate_id), str(row.enrolment_id)
    operations = [
        LateCharge(f"late_charge:{aid}", cert, period, provider, row.payer, adj.charge),
        LateRefund(f"late_refund:{aid}", cert, period, provider, row.payer, adj.refund),
        LateInvoice(f"late_invoice:{aid}", contract, provider, period, adj.family_invoice),
        CreditFamily(f"late_credit:{aid}", contract, provider, period, adj.family_credit),
    ]
    return [Booking(op, enrolment_id=row.enrolment_id, month=row.month, cause_event_id=cause_event_id,
                    certificate_id=row.certificate_id) for op in operations if op.amount]
