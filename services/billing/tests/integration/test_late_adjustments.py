"""Disputes decided, or opened, after their month closed: the month is billed again, the ledger
moves, finance hears of it, and the provider's next final payment order settles it. Over the
real broker and database, on the worked example's contract (November 2026 instalments: 111 263
kopecks certificate, 22 252 family, 8 planned lessons; December: 9 planned, 31 December being a
day off; January: 6, the New Year holidays taken away; February 2027: 7, 23 February taken away).

The tests run in order on one billing instance, each building on the state the previous left.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from billing_testkit import (
    D, Harness, certificate, certificate_balance, enrolment, module, program, read_topic, setup_period,
)

from pfdo_contracts.common import AttendanceStatus
from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.topics import LEDGER

from pfdo_billing.service import attendance
from pfdo_billing.service.context import Billing

pytestmark = pytest.mark.integration

CERT, PARENT = uuid.uuid4(), "parent-late"
PROVIDER, PROGRAM, MODULE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ENROLMENT = uuid.uuid4()
M = module(MODULE)
P = program(PROGRAM, PROVIDER, [M])
NOV = [D(2026, 11, d) for d in (3, 5, 10, 12, 17, 19, 24, 26)]
DEC = [D(2026, 12, d) for d in (1, 3, 8, 10, 15, 17, 22, 24, 29)]  # 31 December 2026 is a day off
MARKS = {day: uuid.uuid4() for day in NOV + DEC}
DISPUTE_3, DISPUTE_5, DISPUTE_5_AGAIN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
CI, FI = 111_263, 22_252  # the month's certificate and family instalments


def share(instalment: int, attended: int, planned: int) -> int:
    return instalment * attended // planned


async def balance(h: Harness) -> dict:
    return await certificate_balance(h, CERT, PARENT)


async def reconciled(h: Harness) -> dict:
    r = await h.client.get("/api/billing/reconciliation", headers=h.headers("finance", "fin-1"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["ok"], report
    return {c["name"]: c["value"] for c in report["checks"]}


async def outstanding(h: Harness) -> dict:
    r = await h.client.get("/api/billing/reconciliation", headers=h.headers("finance", "fin-1"))
    assert r.status_code == 200, r.text
    return r.json()["outstanding"]


async def close(h: Harness, month: str, days: list[dt.date], absent: set[dt.date] = frozenset()) -> dict:
    """Advance, one journal posting of the month (present unless ``absent``), freeze, close."""
    r = await h.operator("POST", f"/months/{month}/advance")
    assert r.status_code == 200, r.text
    if days:
        marks = [n.AttendanceMark(mark_id=MARKS[d], lesson_date=d, revision=1,
                                  status=AttendanceStatus.ABSENT if d in absent else AttendanceStatus.PRESENT)
                 for d in days]
        await h.publish(n.AttendanceRecorded(batch_id=uuid.uuid4(), enrolment_id=ENROLMENT, certificate_id=CERT,
                                             provider_id=PROVIDER, module_id=MODULE, month=month, marks=marks))
    await h.publish(n.AttendanceMonthFrozen(month=month, attendance_events=1 if days else 0,
                                            frozen_on=D(2027, 1, 5), frozen_by=n.FrozenBy.SCHEDULE))
    await h.wait_for("SELECT count(*) FROM attendance_months WHERE to_char(month, 'YYYY-MM') = :m "
                     "AND published_events = applied_events", m=month)
    r = await h.operator("POST", f"/months/{month}/close")
    assert r.status_code == 200, r.text
    return r.json()


def opened(dispute: uuid.UUID, day: dt.date) -> n.DisputeOpened:
    return n.DisputeOpened(dispute_id=dispute, enrolment_id=ENROLMENT, certificate_id=CERT, provider_id=PROVIDER,
                           mark_id=MARKS[day], lesson_date=day, month=f"{day:%Y-%m}",
                           claimed_status=AttendanceStatus.ABSENT, opened_on=day + dt.timedelta(days=3))


def resolved(dispute: uuid.UUID, day: dt.date, outcome: n.DisputeOutcome) -> n.DisputeResolved:
    final = AttendanceStatus.ABSENT if outcome is n.DisputeOutcome.UPHELD else AttendanceStatus.PRESENT
    return n.DisputeResolved(dispute_id=dispute, enrolment_id=ENROLMENT, certificate_id=CERT, provider_id=PROVIDER,
                             mark_id=MARKS[day], lesson_date=day, month=f"{day:%Y-%m}", outcome=outcome,
                             final_status=final, resolved_on=D(2026, 12, 20))


async def adjustments(h: Harness) -> list[dict]:
    return await h.rows("SELECT reason, charged_kopecks, refunded_kopecks, uncovered_change_kopecks, "
                        "family_invoiced_kopecks, family_credited_kopecks, attended_lessons, settled_order_id "
                        "FROM month_adjustments ORDER BY created_at")


async def test_november_closes_with_the_disputed_lesson_unbilled(h: Harness) -> None:
    await h.publish(certificate(CERT, PARENT))
    await h.wait_for("SELECT count(*) FROM certificates WHERE certificate_id = :c", c=CERT)
    await setup_period(h, nominal=3_000_000, agreements=(PROVIDER,))
    await h.publish(P)
    await h.wait_for("SELECT count(*) FROM modules WHERE module_id = :m", m=MODULE)
    await h.publish(enrolment(ENROLMENT, CERT, P, M, parent=PARENT))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=ENROLMENT)
    await h.publish(n.EnrolmentConfirmed(enrolment_id=ENROLMENT, certificate_id=CERT, module_id=MODULE,
                                         provider_id=PROVIDER, start_date=D(2026, 10, 1), end_date=D(2027, 5, 31),
                                         confirmed_on=D(2026, 9, 25)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'active'", e=ENROLMENT)

    await h.publish(opened(DISPUTE_3, NOV[0]))  # before the close: the lesson of 3 November is not billed
    await h.wait_for("SELECT count(*) FROM disputes WHERE dispute_id = :d", d=DISPUTE_3)
    out = await close(h, "2026-11", NOV, absent={NOV[-1]})  # 7 present, one of them disputed: 6 billable
    assert (out["posted_kopecks"], out["family_invoiced_kopecks"]) == (share(CI, 6, 8), share(FI, 6, 8))
    assert await adjustments(h) == []


async def test_a_rejected_dispute_is_charged_late(h: Harness) -> None:
    before = await balance(h)
    await h.publish(resolved(DISPUTE_3, NOV[0], n.DisputeOutcome.REJECTED))
    await h.wait_for("SELECT count(*) FROM month_adjustments")
    late = share(CI, 7, 8) - share(CI, 6, 8)  # 97 355 − 83 447 = 13 908
    family = share(FI, 7, 8) - share(FI, 6, 8)  # 19 470 − 16 689 = 2 781
    assert [(a["reason"], a["charged_kopecks"], a["refunded_kopecks"], a["family_invoiced_kopecks"],
             a["attended_lessons"]) for a in await adjustments(h)] == [("dispute_resolved", late, 0, family, 7)]
    after = await balance(h)
    assert (after["available"], after["spent"]) == (before["available"] - late, before["spent"] + late)
    assert after["nominal"] == before["nominal"]

    kinds = await h.rows("SELECT kind, debit_kind, credit_kind, amount FROM transfers WHERE kind LIKE 'late%' ORDER BY kind")
    assert kinds == [
        {"kind": "late_charge", "debit_kind": "certificate_available", "credit_kind": "certificate_spent", "amount": late},
        {"kind": "late_invoice", "debit_kind": "family_receivable", "credit_kind": "provider_copayment", "amount": family},
        {"kind": "late_mirror", "debit_kind": "budget_outlay", "credit_kind": "provider_payable", "amount": late},
    ]
    history = (await h.client.get(f"/api/billing/certificates/{CERT}/history", params={"limit": 100},
                                  headers=h.headers("parent", PARENT))).json()
    items = history["items"]
    assert any(i["kind"] == "late_charge" and i["amount"] == late and i["month"] == "2026-11" for i in items)
    # finance sees what the provider is owed and no final order has paid yet
    assert await outstanding(h) == {"unsettled_adjustments": 1, "unsettled_charged_kopecks": late,
                                    "unsettled_refunded_kopecks": 0, "oldest_unsettled_month": "2026-11",
                                    "uncovered_kopecks": 0}

    await h.idle()
    events = [e for e in await read_topic(h.infra, h.names, LEDGER, min_count=3) if isinstance(e, bev.ChargeAdjusted)]
    assert [(e.month, e.reason, e.charged_kopecks, e.certificate_total_kopecks, e.family_total_kopecks,
             e.uncovered_kopecks, e.dispute_id) for e in events] == [
        ("2026-11", bev.AdjustmentReason.DISPUTE_RESOLVED, late, share(CI, 7, 8), share(FI, 7, 8), 0, DISPUTE_3)]
    assert (await reconciled(h))["spent_equals_provider_payable"]["spent"] == after["spent"]


async def test_the_next_final_order_pays_the_late_charge(h: Harness) -> None:
    out = await close(h, "2026-12", DEC)  # all 9 present: the whole instalment
    assert out["posted_kopecks"] == CI
    orders = (await h.client.get("/api/billing/payment-orders", params={"month": "2026-12"},
                                 headers=h.headers("finance", "fin-1"))).json()["items"]
    final = next(o for o in orders if o["kind"] == "final")
    late = share(CI, 7, 8) - share(CI, 6, 8)
    advance = CI * 80 // 100
    carried_from_november = advance - share(CI, 6, 8)  # November's final: 83 447 − 89 010 < 0, carried
    assert (final["base_kopecks"], final["advance_paid_kopecks"], final["offset_applied_kopecks"]) == (
        CI + late, advance, carried_from_november)
    assert final["amount_kopecks"] == CI + late - advance - carried_from_november
    detail = (await h.client.get(f"/api/billing/payment-orders/{final['order_id']}",
                                 headers=h.headers("finance", "fin-1"))).json()
    assert [(a["month"], a["charged_kopecks"], a["refunded_kopecks"]) for a in detail["adjustments"]] == [
        ("2026-11", late, 0)]
    assert [a["settled_order_id"] for a in await adjustments(h)] == [uuid.UUID(final["order_id"])]
    checks = await reconciled(h)
    assert checks["payment_orders_equal_postings"]["late_adjusted_kopecks"] == late
    assert (await outstanding(h))["unsettled_adjustments"] == 0


async def test_a_dispute_opened_after_the_close_refunds_the_lesson_until_decided(h: Harness) -> None:
    before = await balance(h)
    env = await h.publish(opened(DISPUTE_5, NOV[1]))
    await h.wait_for("SELECT count(*) FROM month_adjustments", lambda v: v == 2)
    refund = share(CI, 7, 8) - share(CI, 6, 8)
    credit = share(FI, 7, 8) - share(FI, 6, 8)
    last = (await adjustments(h))[-1]
    assert (last["reason"], last["charged_kopecks"], last["refunded_kopecks"], last["family_credited_kopecks"],
            last["attended_lessons"]) == ("dispute_opened", 0, refund, credit, 6)
    after = await balance(h)
    assert (after["available"], after["spent"]) == (before["available"] + refund, before["spent"] - refund)
    waiting = await outstanding(h)
    assert (waiting["unsettled_adjustments"], waiting["unsettled_refunded_kopecks"],
            waiting["oldest_unsettled_month"]) == (1, refund, "2026-11")

    # the same opening again, under its own id and under a new one: nothing moves twice
    await h.publish(opened(DISPUTE_5, NOV[1]), envelope=env)
    await h.publish(opened(DISPUTE_5, NOV[1]))
    # (the inbox keeps one row per envelope id: the two openings before, and the new id)
    await h.wait_for("SELECT count(*) FROM inbox WHERE event_type LIKE '%dispute.opened%'", lambda v: v == 3)
    await h.idle()
    assert len(await adjustments(h)) == 2
    assert await balance(h) == after

    # upheld: the lesson stays unbilled, nothing more to move; the opening arriving once more
    # after the decision does not take the mark out of billing again
    await h.publish(resolved(DISPUTE_5, NOV[1], n.DisputeOutcome.UPHELD))
    await h.wait_for("SELECT count(*) FROM disputes WHERE dispute_id = :d AND state = 'resolved'", d=DISPUTE_5)
    await h.publish(opened(DISPUTE_5, NOV[1]))
    await h.wait_for("SELECT count(*) FROM inbox WHERE event_type LIKE '%dispute.opened%'", lambda v: v == 4)
    await h.idle()
    assert len(await adjustments(h)) == 2
    assert await h.scalar("SELECT disputed FROM attendance_marks WHERE mark_id = :m", m=MARKS[NOV[1]]) is False
    await reconciled(h)


async def test_a_decision_arriving_again_does_not_clear_a_later_dispute_on_the_mark(h: Harness) -> None:
    """The parent disputes the lesson of 5 November a second time; the first dispute's decision
    arrives once more, under a new id (a producer's retry): the mark stays under dispute."""
    before, mark = await balance(h), MARKS[NOV[1]]
    await h.publish(opened(DISPUTE_5_AGAIN, NOV[1]))
    await h.wait_for("SELECT count(*) FROM disputes WHERE dispute_id = :d", d=DISPUTE_5_AGAIN)
    assert await h.scalar("SELECT disputed FROM attendance_marks WHERE mark_id = :m", m=mark) is True

    first_decision = resolved(DISPUTE_5, NOV[1], n.DisputeOutcome.UPHELD)
    await h.publish(first_decision)
    await h.wait_for("SELECT count(*) FROM inbox WHERE event_type LIKE '%dispute.resolved%'", lambda v: v == 3)
    await h.idle()
    assert await h.scalar("SELECT disputed FROM attendance_marks WHERE mark_id = :m", m=mark) is True
    assert await h.scalar("SELECT state FROM disputes WHERE dispute_id = :d", d=DISPUTE_5_AGAIN) == "open"

    # the second dispute decided (upheld: the lesson stays unbilled): the mark is billable again
    await h.publish(resolved(DISPUTE_5_AGAIN, NOV[1], n.DisputeOutcome.UPHELD))
    await h.wait_for("SELECT count(*) FROM attendance_marks WHERE mark_id = :m AND NOT disputed", m=mark)
    assert await h.scalar("SELECT status FROM attendance_marks WHERE mark_id = :m", m=mark) == "absent"
    assert len(await adjustments(h)) == 2  # the lesson was refunded once, when first disputed
    assert await balance(h) == before
    await reconciled(h)


async def test_a_refund_larger_than_the_order_is_carried_on(h: Harness) -> None:
    out = await close(h, "2027-01", [])  # no lessons marked: nothing posted
    assert out["posted_kopecks"] == 0
    orders = (await h.client.get("/api/billing/payment-orders", params={"month": "2027-01"},
                                 headers=h.headers("finance", "fin-1"))).json()["items"]
    final = next(o for o in orders if o["kind"] == "final")
    refund = share(CI, 7, 8) - share(CI, 6, 8)
    advance = CI * 80 // 100  # January: 6 planned lessons, the same instalment
    assert (final["base_kopecks"], final["amount_kopecks"], final["offset_applied_kopecks"]) == (0, 0, refund)
    assert final["offset_carried_kopecks"] == advance + refund
    assert all(a["settled_order_id"] is not None for a in await adjustments(h))
    assert (await outstanding(h))["unsettled_adjustments"] == 0
    await reconciled(h)


FEB = [D(2027, 2, d) for d in (2, 4, 9, 11, 16, 18, 25)]  # Tuesday 23 February is a holiday
MARKS.update({day: uuid.uuid4() for day in FEB})


async def test_a_dispute_committing_while_its_month_closes_is_never_billed(h: Harness) -> None:
    """The dispute's handler saw February still open when the close began: the close waits for it
    (an advisory lock per month) and does not bill the disputed lesson, which the handler could
    no longer adjust."""
    r = await h.operator("POST", "/months/2027-02/advance")
    assert r.status_code == 200, r.text
    marks = [n.AttendanceMark(mark_id=MARKS[d], lesson_date=d, revision=1, status=AttendanceStatus.PRESENT) for d in FEB]
    await h.publish(n.AttendanceRecorded(batch_id=uuid.uuid4(), enrolment_id=ENROLMENT, certificate_id=CERT,
                                         provider_id=PROVIDER, module_id=MODULE, month="2027-02", marks=marks))
    await h.publish(n.AttendanceMonthFrozen(month="2027-02", attendance_events=1, frozen_on=D(2027, 3, 5),
                                            frozen_by=n.FrozenBy.SCHEDULE))
    # frozen (the freeze event applied) and its one posting applied: the journal may be closed
    await h.wait_for("SELECT count(*) FROM attendance_months WHERE month = '2027-02-01' "
                     "AND published_events = 1 AND applied_events = 1")

    dispute = opened(uuid.uuid4(), FEB[0])
    billing = Billing(h.app.state.runtime, h.settings)
    async with h.db.transaction() as session:  # the consumer's transaction, held open
        await attendance.dispute_opened(billing, session, dispute, wrap(dispute, source="pfdo/test", correlation_id="t"))
        closing = asyncio.create_task(h.operator("POST", "/months/2027-02/close"))
        await asyncio.sleep(1.0)
        assert not closing.done(), f"the close did not wait for the dispute in flight: {closing.result().text}"
    r = await closing
    assert r.status_code == 200, r.text
    assert r.json()["posted_kopecks"] == share(CI, 6, 7)  # the disputed lesson is not billed
    assert await h.scalar("SELECT count(*) FROM month_adjustments WHERE month = '2027-02-01'") == 0
    await reconciled(h)
