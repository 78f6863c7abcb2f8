"""The worked example of the billing brief end-to-end over the real broker and PostgreSQL,
then replays, termination, cancellation, idempotent month close and reconciliation on the
same ledger.

Nominal 30 000 ₽; module 1 Sep 2026 – 31 May 2027 priced 12 000 ₽ with normative cost
10 000 ₽; enrolment from 1 Oct 2026 in attendance mode; November 2026 has 8 lessons (Tue and
Thu), 7 marked present of which one is disputed, 1 excused: 6 billable.
"""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import (
    D, Harness, certificate, certificate_balance, enrolment, module, program, read_topic, setup_period,
)

from pfdo_contracts.common import AttendanceStatus
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.topics import LEDGER, PAYMENT_ORDERS, RESERVATIONS

from pfdo_billing.service.reservations import reservation_id

pytestmark = pytest.mark.integration

CERT, PARENT = uuid.uuid4(), "parent-worked"
PROVIDER, PROGRAM, MODULE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ENROLMENT = uuid.uuid4()
M = module(MODULE)
P = program(PROGRAM, PROVIDER, [M])
NOV_LESSONS = [D(2026, 11, d) for d in (3, 5, 10, 12, 17, 19, 24, 26)]
MARKS = {day: uuid.uuid4() for day in NOV_LESSONS}


async def balance(h: Harness) -> dict:
    return await certificate_balance(h, CERT, PARENT)


async def test_reservation_of_the_worked_example(h: Harness) -> None:
    await h.publish(certificate(CERT, PARENT))
    await h.wait_for("SELECT count(*) FROM certificates WHERE certificate_id = :c", c=CERT)
    period_id = await setup_period(h, nominal=3_000_000, agreements=(PROVIDER,))
    await h.publish(P)
    await h.wait_for("SELECT count(*) FROM modules WHERE module_id = :m", m=MODULE)

    # the parent sees the quote before applying
    r = await h.client.get("/api/billing/quote", params={"certificate_id": str(CERT), "module_id": str(MODULE),
                                                          "start_date": "2026-10-01"},
                           headers=h.headers("parent", PARENT))
    assert r.status_code == 200, r.text
    q = r.json()
    assert (q["cost_kopecks"], q["certificate_kopecks"], q["family_kopecks"]) == (1_068_132, 890_110, 178_022)
    assert [line["certificate_kopecks"] for line in q["schedule"]] == [111_269] + [111_263] * 7
    assert [line["family_kopecks"] for line in q["schedule"]] == [22_258] + [22_252] * 7
    assert q["schedule"][1] == {"month": "2026-11", "certificate_kopecks": 111_263, "family_kopecks": 22_252,
                                "planned_lessons": 8}

    await h.publish(enrolment(ENROLMENT, CERT, P, M, parent=PARENT))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=ENROLMENT)
    await h.publish(n.EnrolmentConfirmed(enrolment_id=ENROLMENT, certificate_id=CERT, module_id=MODULE,
                                         provider_id=PROVIDER, start_date=D(2026, 10, 1), end_date=D(2027, 5, 31),
                                         confirmed_on=D(2026, 9, 25)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'active'", e=ENROLMENT)

    b = await balance(h)
    assert b["period_id"] == period_id
    assert (b["nominal"], b["available"], b["reserved"], b["spent"]) == (3_000_000, 2_109_890, 890_110, 0)

    await h.idle()
    created = [e for e in await read_topic(h.infra, h.names, RESERVATIONS, min_count=1)
               if isinstance(e, bev.ReservationCreated)]
    assert len(created) == 1
    ev = created[0]
    assert (ev.total_cost_kopecks, ev.reserved_kopecks, ev.family_kopecks) == (1_068_132, 890_110, 178_022)
    assert [i.certificate_kopecks for i in ev.schedule] == [111_269] + [111_263] * 7
    assert [i.month for i in ev.schedule][:2] == ["2026-10", "2026-11"]
    assert ev.schedule[1].planned_lessons == 8 and ev.schedule[0].planned_lessons == 9


async def test_month_close_of_six_billable_lessons_of_eight(h: Harness) -> None:
    r = await h.operator("POST", "/months/2026-11/advance")
    assert r.status_code == 200 and r.json()["orders_issued"] == 1, r.text

    statuses = {day: AttendanceStatus.PRESENT for day in NOV_LESSONS}
    statuses[NOV_LESSONS[-1]] = AttendanceStatus.EXCUSED
    first = [n.AttendanceMark(mark_id=MARKS[d], lesson_date=d, status=AttendanceStatus.ABSENT, revision=1)
             for d in NOV_LESSONS]
    corrected = [n.AttendanceMark(mark_id=MARKS[d], lesson_date=d, status=s, revision=2) for d, s in statuses.items()]

    def batch(marks: list[n.AttendanceMark]) -> n.AttendanceRecorded:
        return n.AttendanceRecorded(batch_id=uuid.uuid4(), enrolment_id=ENROLMENT, certificate_id=CERT,
                                    provider_id=PROVIDER, module_id=MODULE, month="2026-11", marks=marks)

    # month close waits for the navigator's freeze of the journal ...
    r = await h.operator("POST", "/months/2026-11/close")
    assert r.status_code == 409 and r.json()["code"] == "journal_not_frozen", r.text
    await h.publish(batch(first))
    await h.publish(batch(corrected))
    # ... and for every attendance event of the month: the freeze says 3 were published, and the
    # third is still on its way
    await h.publish(n.AttendanceMonthFrozen(month="2026-11", attendance_events=3, frozen_on=D(2026, 12, 5),
                                            frozen_by=n.FrozenBy.SCHEDULE))
    await h.wait_for("SELECT count(*) FROM attendance_months WHERE month = '2026-11-01' AND published_events = 3 "
                     "AND applied_events = 2")
    r = await h.operator("POST", "/months/2026-11/close")
    assert r.status_code == 409 and r.json()["code"] == "journal_not_drained", r.text
    assert r.headers["retry-after"]
    state = (await h.client.get("/api/billing/months/2026-11/journal", headers=h.headers("finance", "fin-1"))).json()
    assert state == {"month": "2026-11", "frozen": True, "published_events": 3, "applied_events": 2,
                     "closable": False, "close_status": None}
    assert await h.scalar("SELECT count(*) FROM month_closes") == 0  # a refused close wrote nothing
    await h.publish(batch(first))  # a stale revision arriving late changes nothing
    await h.wait_for("SELECT applied_events FROM attendance_months WHERE month = '2026-11-01'", lambda v: v == 3)
    disputed = NOV_LESSONS[0]
    await h.publish(n.DisputeOpened(dispute_id=uuid.uuid4(), enrolment_id=ENROLMENT, certificate_id=CERT,
                                    provider_id=PROVIDER, mark_id=MARKS[disputed], lesson_date=disputed,
                                    month="2026-11", claimed_status=AttendanceStatus.ABSENT,
                                    opened_on=D(2026, 11, 6)))
    await h.wait_for("SELECT count(*) FROM attendance_marks WHERE disputed")
    assert await h.scalar("SELECT count(*) FROM attendance_marks WHERE status = 'present' AND NOT disputed") == 6

    r = await h.operator("POST", "/months/2026-11/close")
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["closed_now"], out["posted_kopecks"], out["released_kopecks"],
            out["family_invoiced_kopecks"]) == ("done", 1, 83_447, 27_816, 16_689)

    b = await balance(h)
    assert (b["available"], b["reserved"], b["spent"]) == (2_109_890 + 27_816, 890_110 - 111_263, 83_447)

    orders = (await h.client.get("/api/billing/payment-orders", params={"month": "2026-11"},
                                 headers=h.headers("provider", "staff-1", provider_id=str(PROVIDER)))).json()["items"]
    by_kind = {o["kind"]: o for o in orders}
    # advance: 80 % of 111 263 rounded down; final: 83 447 − 89 010 < 0 → 0 paid, 5 563 carried
    assert by_kind["advance"]["amount_kopecks"] == 89_010
    assert (by_kind["final"]["amount_kopecks"], by_kind["final"]["offset_carried_kopecks"]) == (0, 5_563)
    detail = (await h.client.get(f"/api/billing/payment-orders/{by_kind['final']['order_id']}",
                                 headers=h.headers("finance", "fin-1"))).json()
    assert detail["lines"] == [{"enrolment_id": str(ENROLMENT), "certificate_id": str(CERT), "amount_kopecks": 83_447}]
    foreign = await h.client.get(f"/api/billing/payment-orders/{by_kind['final']['order_id']}",
                                 headers=h.headers("provider", "staff-2", provider_id=str(uuid.uuid4())))
    assert foreign.status_code == 404

    # one page at a time: every order exactly once, then next_cursor null; a cursor is signed and bound to its filters
    finance = h.headers("finance", "fin-1")
    whole = (await h.client.get("/api/billing/payment-orders", params={"limit": 1000}, headers=finance)).json()
    assert whole["next_cursor"] is None and len(whole["items"]) >= 2
    paged, cursor = [], None
    while True:
        page = (await h.client.get("/api/billing/payment-orders", headers=finance,
                                   params={"limit": 1, **({"cursor": cursor} if cursor else {})})).json()
        paged.extend(o["order_id"] for o in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [o["order_id"] for o in whole["items"]]
    first = (await h.client.get("/api/billing/payment-orders", params={"limit": 1}, headers=finance)).json()
    for params in ({"limit": 1, "cursor": first["next_cursor"][:-2] + "AA"},
                   {"limit": 1, "cursor": first["next_cursor"], "kind": "final"}):
        refused = await h.client.get("/api/billing/payment-orders", params=params, headers=finance)
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_cursor", refused.text
    for params in ({"month": "0000-01"}, {"month": "2026-13"}, {"limit": 1001}, {"kind": "weekly"}):
        assert (await h.client.get("/api/billing/payment-orders", params=params, headers=finance)).status_code == 422
    assert (await h.client.post("/api/billing/months/0000-01/close", headers=h.headers("regional_operator", "op-1"))
            ).status_code == 422

    await h.idle()
    ledger = await read_topic(h.infra, h.names, LEDGER, min_count=3)
    charges = [e for e in ledger if isinstance(e, bev.ChargePosted)]
    invoices = [e for e in ledger if isinstance(e, bev.CoPaymentInvoiced)]
    assert [(c.month, c.certificate_kopecks, c.returned_kopecks, c.attended_lessons, c.planned_lessons)
            for c in charges] == [("2026-11", 83_447, 27_816, 6, 8)]
    assert [(i.month, i.amount_kopecks) for i in invoices] == [("2026-11", 16_689)]
    # the unearned part of November went back to the balance: published as a release of the month
    released = [e for e in await read_topic(h.infra, h.names, RESERVATIONS, min_count=2)
                if isinstance(e, bev.ReservationReleased)]
    assert [(e.reason, e.month, e.released_kopecks, e.remaining_reserved_kopecks) for e in released] == [
        (bev.ReleaseReason.MONTH_UNEARNED, "2026-11", 27_816, 890_110 - 111_263)]
    assert released[0].reservation_id == reservation_id(ENROLMENT)  # the id ReservationCreated carried
    paid = [e for e in await read_topic(h.infra, h.names, PAYMENT_ORDERS, min_count=2)
            if isinstance(e, bev.PaymentOrderIssued)]
    assert sorted((p.kind.value, p.amount_kopecks) for p in paid) == [("advance", 89_010), ("final", 0)]


async def test_second_close_and_replays_change_nothing(h: Harness) -> None:
    before = await h.rows("SELECT * FROM certificate_balances ORDER BY certificate_id")
    transfers = await h.scalar("SELECT count(*) FROM transfers")
    r = await h.operator("POST", "/months/2026-11/close")
    assert r.json()["closed_now"] == 0 and r.json()["posted_kopecks"] == 83_447

    await h.replay_all(fresh_ids=False)  # redelivery: the inbox drops them
    await h.replay_all(fresh_ids=True)  # re-sent under new ids: the business keys drop them
    sent = len(h.sent)
    await h.wait_for("SELECT count(*) FROM inbox", lambda v: v >= 2 * sent)
    await h.idle()
    assert await h.rows("SELECT * FROM certificate_balances ORDER BY certificate_id") == before
    assert await h.scalar("SELECT count(*) FROM transfers") == transfers
    assert await h.scalar("SELECT count(*) FROM attendance_marks WHERE status = 'present' AND NOT disputed") == 6


async def test_termination_keeps_the_current_month_and_releases_later_ones(h: Harness) -> None:
    await h.publish(n.EnrolmentTerminated(
        enrolment_id=ENROLMENT, certificate_id=CERT, provider_id=PROVIDER, terminated_by="parent",
        reason="parent_request", requested_on=D(2026, 12, 10), effective_end_date=D(2026, 12, 31)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'terminated'", e=ENROLMENT)
    b = await balance(h)
    # October (never closed here) and December stay reserved; January..May (5 × 111 263) are back
    assert b["reserved"] == 111_269 + 111_263
    assert b["available"] == 2_137_706 + 5 * 111_263
    released = [e for e in await read_topic(h.infra, h.names, RESERVATIONS, min_count=2)
                if isinstance(e, bev.ReservationReleased)]
    assert [(e.reason.value, e.released_kopecks, e.remaining_reserved_kopecks) for e in released] == [
        ("month_unearned", 27_816, 778_847), ("terminated", 556_315, 222_532)]


async def test_cancellation_before_start_releases_everything(h: Harness) -> None:
    other = uuid.uuid4()
    await h.publish(enrolment(other, CERT, P, M, start=D(2027, 1, 11), mode="monthly", parent=PARENT))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=other)
    reserved = await h.scalar("SELECT certificate_kopecks FROM contracts WHERE enrolment_id = :e", e=other)
    assert reserved > 0
    before = await balance(h)
    await h.publish(n.EnrolmentCancelled(enrolment_id=other, certificate_id=CERT, cancelled_by="parent",
                                         cancelled_on=D(2026, 12, 20)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'cancelled'", e=other)
    after = await balance(h)
    assert after["reserved"] == before["reserved"] - reserved
    assert after["available"] == before["available"] + reserved
    history = (await h.client.get(f"/api/billing/certificates/{CERT}/history",
                                  headers=h.headers("parent", PARENT))).json()["items"]
    kinds = [(i["kind"], i["enrolment_id"]) for i in history if i["enrolment_id"] == str(other)]
    assert kinds.count(("reserve", str(other))) == 5 and kinds.count(("release", str(other))) == 5
    assert all(i["cause_event_id"] for i in history if i["enrolment_id"] == str(other))
    assert all(i["cause_event_id"] or i["cause"] for i in history)
    assert {i["cause"] for i in history if i["month"] == "2026-11" and i["kind"] == "post"} == {"month_close:2026-11"}


async def test_scopes_and_reconciliation(h: Harness) -> None:
    stranger = await h.client.get(f"/api/billing/certificates/{CERT}/balance", headers=h.headers("parent", "someone"))
    assert stranger.status_code == 404
    other_muni = await h.client.get(f"/api/billing/certificates/{CERT}/balance",
                                    headers=h.headers("municipal_operator", "mo-2", municipality="02"))
    assert other_muni.status_code == 404
    quote = await h.client.post("/api/billing/quotes:batch", headers=h.headers("parent", "someone"),
                                json={"certificate_id": str(CERT), "start_date": "2026-10-01", "module_ids": [str(MODULE)]})
    assert quote.status_code == 404
    r = await h.client.get("/api/billing/reconciliation", headers=h.headers("finance", "fin-1"))
    assert r.status_code == 200
    report = r.json()
    assert report["ok"], report
    assert {c["name"] for c in report["checks"]} >= {"accounts_sum_to_zero", "payment_orders_equal_postings"}
    audit = (await h.client.get("/api/billing/audit", params={"subject_type": "enrolment", "subject_id": str(ENROLMENT)},
                                headers=h.headers("regional_operator", "op-1"))).json()["items"]
    assert {"billing.reservation.create", "billing.reservation.release"} <= {a["action"] for a in audit}
