"""Funding cap with its first-come queue, free municipal-task places, the per-direction cap,
rejections, and closing the period (unused money back to the budget)."""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import (
    MUNI, certificate, enrolment, module, program, read_topic, setup_period, start_harness,
)

from pfdo_contracts.common import FundingKind, UsageKind
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import registry as g
from pfdo_contracts.topics import LEDGER, RESERVATIONS

from pfdo_billing.domain.calendar import Period
from pfdo_billing.domain.nominal import prorated_nominal

pytestmark = pytest.mark.integration
D = __import__("datetime").date


async def test_caps_queue_free_places_and_period_close(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        paid = module(uuid.uuid4())
        paid_program = program(uuid.uuid4(), uuid.uuid4(), [paid])
        free = module(uuid.uuid4(), price=0, normative=0)
        free_program = program(uuid.uuid4(), uuid.uuid4(), [free], funding=FundingKind.MUNICIPAL_TASK)
        a, bq, c, d, s = (uuid.uuid4() for _ in range(5))
        for cid in (a, bq, c, d):
            await h.publish(certificate(cid, f"parent-{cid}", usage=UsageKind.ACCOUNTING))
        await h.publish(certificate(s, "parent-s", usage=UsageKind.ACCOUNTING))
        await h.publish(paid_program)
        await h.publish(free_program)
        await h.wait_for("SELECT count(*) FROM certificates", lambda v: v == 5)
        await h.wait_for("SELECT count(*) FROM modules", lambda v: v == 2)
        period_id = await setup_period(h, caps={"funding_cap": 1, "free_places": 1, "direction_cap": 2},
                                       agreements=(paid_program.provider_id,))

        # a suspended certificate is refused
        await h.publish(g.CertificateSuspended(certificate_id=s, suspended_on=D(2026, 9, 2), reason="operator_decision"))
        await h.wait_for("SELECT count(*) FROM certificates WHERE status = 'suspended'")
        await h.publish(enrolment(uuid.uuid4(), s, paid_program, paid, parent="parent-s"))

        # A becomes a funding certificate (pro rata credit); B and C wait in the queue
        ea, eb, ec = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        await h.publish(enrolment(ea, a, paid_program, paid, parent=f"parent-{a}"))
        await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=ea)
        await h.publish(enrolment(eb, bq, paid_program, paid, parent=f"parent-{bq}"))
        await h.publish(enrolment(ec, c, paid_program, paid, parent=f"parent-{c}"))
        await h.wait_for("SELECT count(*) FROM funding_queue WHERE status = 'waiting'", lambda v: v == 2)

        # D takes the one free place twice over: the second request is refused; a third paid enrolment
        # in the same direction as two others is over the direction cap
        ed1, ed2 = uuid.uuid4(), uuid.uuid4()
        await h.publish(enrolment(ed1, d, free_program, free, parent=f"parent-{d}"))
        await h.publish(enrolment(ed2, d, free_program, free, parent=f"parent-{d}"))
        await h.wait_for("SELECT count(*) FROM contracts WHERE certificate_id = :c", lambda v: v == 2, c=d)
        ea2, ea3 = uuid.uuid4(), uuid.uuid4()
        await h.publish(enrolment(ea2, a, paid_program, paid, start=D(2027, 2, 1), parent=f"parent-{a}"))
        await h.publish(enrolment(ea3, a, paid_program, paid, start=D(2027, 3, 1), parent=f"parent-{a}"))
        await h.wait_for("SELECT count(*) FROM contracts WHERE certificate_id = :c", lambda v: v == 3, c=a)

        statuses = {r["enrolment_id"]: (r["status"], r["reject_reason"])
                    for r in await h.rows("SELECT enrolment_id, status, reject_reason FROM contracts")}
        assert statuses[ed1] == ("reserved", None) and statuses[ed2] == ("rejected", "no_free_places")
        assert statuses[ea2] == ("reserved", None) and statuses[ea3] == ("rejected", "direction_cap_reached")
        assert statuses[eb] == ("queued", None) and statuses[ec] == ("queued", None)

        today = h.app.state.billing.today()
        expected_credit = prorated_nominal(3_000_000, Period(D(2026, 9, 1), D(2027, 8, 31)), today)
        bal = (await h.rows("SELECT * FROM certificate_balances WHERE certificate_id = :c", c=a))[0]
        assert bal["nominal"] == expected_credit

        # cancelling D's free place returns it to the municipality's count
        await h.publish(n.EnrolmentCancelled(enrolment_id=ed1, certificate_id=d, cancelled_by="parent",
                                             cancelled_on=D(2026, 9, 20)))
        await h.wait_for("SELECT free_places_used FROM caps", lambda v: v == 0)

        # raising the cap admits the first in the queue only
        r = await h.operator("PUT", f"/periods/{period_id}/caps", json={"caps": [
            {"municipality_code": MUNI, "funding_cap": 2, "free_places": 1, "direction_cap": 2}]})
        assert r.status_code == 200 and r.json() == {"admitted_from_queue": 1}, r.text
        assert await h.scalar("SELECT status FROM contracts WHERE enrolment_id = :e", e=eb) == "reserved"
        assert await h.scalar("SELECT status FROM contracts WHERE enrolment_id = :e", e=ec) == "queued"

        await h.idle()
        events = await read_topic(h.infra, h.names, RESERVATIONS, min_count=8)
        rejected = {(e.enrolment_id, e.reason.value, e.queue_position) for e in events
                    if isinstance(e, bev.ReservationRejected)}
        assert (eb, "funding_cap_queued", 1) in rejected and (ec, "funding_cap_queued", 2) in rejected
        assert any(e.reason.value == "certificate_not_active" for e in events if isinstance(e, bev.ReservationRejected))
        created = {e.enrolment_id: e for e in events if isinstance(e, bev.ReservationCreated)}
        assert created[ea].funding_activated and created[eb].funding_activated
        assert created[ed1].reserved_kopecks == 0 and created[ed1].family_kopecks == 0

        # closing the period returns every unused kopeck to the budget
        available = await h.scalar("SELECT sum(available) FROM certificate_balances")
        r = await h.operator("POST", f"/periods/{period_id}/close")
        assert r.status_code == 200 and r.json()["returned_kopecks"] == available > 0, r.text
        assert await h.scalar("SELECT sum(available) FROM certificate_balances") == 0
        again = await h.operator("POST", f"/periods/{period_id}/close")
        assert again.json()["returned_kopecks"] == 0
        report = (await h.client.get("/api/billing/reconciliation", params={"period_id": period_id},
                                     headers=h.headers("finance", "f"))).json()
        assert report["ok"], report
        await h.idle()
        ledger = await read_topic(h.infra, h.names, LEDGER, min_count=4)
        closed = [e for e in ledger if isinstance(e, bev.PeriodClosed)]
        assert [(e.returned_kopecks, [m.amount_kopecks for m in e.returned_by_municipality]) for e in closed] == [
            (available, [available])]
        assert sum(1 for e in ledger if isinstance(e, bev.CertificateCredited)) == 2
    finally:
        await h.stack.aclose()


async def test_bad_operator_input_is_refused_and_changes_nothing(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        r = await h.operator("POST", "/periods", json={"starts_on": "2026-09-01", "ends_on": "2026-08-01"})
        assert r.status_code == 422 and r.json()["code"] == "invalid_date_range"
        pid = await setup_period(h, open_it=False)
        r = await h.operator("PUT", f"/periods/{pid}/nominals", json={"nominals": [
            {"municipality_code": MUNI, "age_min": 5, "age_max": 10, "amount_kopecks": 1},
            {"municipality_code": MUNI, "age_min": 10, "age_max": 17, "amount_kopecks": 2}]})
        assert r.status_code == 422 and r.json()["code"] == "age_groups_overlap"
        assert await h.scalar("SELECT amount_kopecks FROM nominals") == 3_000_000
        r = await h.operator("POST", "/periods", json={"starts_on": "2027-01-01", "ends_on": "2027-12-31"})
        assert r.status_code == 409 and r.json()["code"] == "period_overlaps"
        r = await h.client.post(f"/api/billing/periods/{pid}/open", headers=h.headers("parent", "p"))
        assert r.status_code == 403
        r = await h.operator("POST", "/months/2026-13/close")
        assert r.status_code == 422
        assert await h.scalar("SELECT count(*) FROM periods") == 1
    finally:
        await h.stack.aclose()
