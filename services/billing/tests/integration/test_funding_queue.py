"""The funding queue moves when a slot frees, not only when the operator raises the cap.

Cap 1: A's first paid enrolment makes it the one funding certificate; B, C and D wait. C gives
up (D moves up); A's request is declined before its start, so A never used its funding: the
slot goes back, A's nominal returns to the budget and B (first in line) gets in; B cancels in
turn and D gets in. Every waiting request is told its new position."""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import (
    D,
    certificate,
    enrolment,
    module,
    program,
    read_topic,
    setup_period,
    start_harness,
)

from pfdo_contracts.common import UsageKind
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.topics import LEDGER, RESERVATIONS

pytestmark = pytest.mark.integration


async def test_a_freed_slot_admits_the_queue_in_order(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        paid = module(uuid.uuid4())
        prog = program(uuid.uuid4(), uuid.uuid4(), [paid])
        a, b, c, d = (uuid.uuid4() for _ in range(4))
        for cid in (a, b, c, d):
            await h.publish(certificate(cid, f"parent-{cid}", usage=UsageKind.ACCOUNTING))
        await h.publish(prog)
        await h.wait_for("SELECT count(*) FROM certificates", lambda v: v == 4)
        await h.wait_for("SELECT count(*) FROM modules", lambda v: v == 1)
        period_id = await setup_period(h, caps={"funding_cap": 1, "free_places": None, "direction_cap": None},
                                       agreements=(prog.provider_id,))

        ea, eb, ec, ed = (uuid.uuid4() for _ in range(4))
        await h.publish(enrolment(ea, a, prog, paid, parent=f"parent-{a}"))
        await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=ea)
        for eid, cid in ((eb, b), (ec, c), (ed, d)):
            await h.publish(enrolment(eid, cid, prog, paid, parent=f"parent-{cid}"))
            await h.wait_for("SELECT count(*) FROM funding_queue WHERE enrolment_id = :e", e=eid)
        assert [r["position"] for r in await h.rows(
            "SELECT position FROM funding_queue WHERE status = 'waiting' ORDER BY seq")] == [1, 2, 3]

        # C gives up while waiting: D moves up to 2, B stays first
        await h.publish(n.EnrolmentCancelled(enrolment_id=ec, certificate_id=c, cancelled_by="parent",
                                             cancelled_on=D(2026, 9, 20)))
        await h.wait_for("SELECT position FROM funding_queue WHERE enrolment_id = :e", lambda v: v == 2, e=ed)
        assert await h.scalar("SELECT status FROM funding_queue WHERE enrolment_id = :e", e=ec) == "rejected"

        # A's request is declined before its start: A never used its funding, the slot is B's
        credited_a = await h.scalar("SELECT nominal FROM certificate_balances WHERE certificate_id = :c", c=a)
        assert credited_a > 0
        await h.publish(n.EnrolmentDeclined(enrolment_id=ea, certificate_id=a, reason="provider_refused",
                                            declined_on=D(2026, 9, 21)))
        await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=eb)
        assert await h.scalar("SELECT usage_kind FROM certificates WHERE certificate_id = :c", c=a) == "accounting"
        assert await h.scalar("SELECT usage_kind FROM certificates WHERE certificate_id = :c", c=b) == "funding"
        bal_a = (await h.rows("SELECT * FROM certificate_balances WHERE certificate_id = :c", c=a))[0]
        assert (bal_a["nominal"], bal_a["available"], bal_a["reserved"], bal_a["spent"]) == (0, 0, 0, 0)
        assert await h.scalar("SELECT funding_used FROM caps") == 1
        assert await h.scalar("SELECT position FROM funding_queue WHERE enrolment_id = :e", e=ed) == 1
        assert await h.scalar("SELECT status FROM contracts WHERE enrolment_id = :e", e=ed) == "queued"

        # B cancels before its start as well: D, the last one waiting, gets in
        await h.publish(n.EnrolmentCancelled(enrolment_id=eb, certificate_id=b, cancelled_by="parent",
                                             cancelled_on=D(2026, 9, 22)))
        await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=ed)
        assert await h.scalar("SELECT count(*) FROM funding_queue WHERE status = 'waiting'") == 0
        assert await h.scalar("SELECT funding_used FROM caps") == 1

        # A applies again: the cap is taken by D, so A waits first in line
        ea2 = uuid.uuid4()
        await h.publish(enrolment(ea2, a, prog, paid, parent=f"parent-{a}"))
        await h.wait_for("SELECT position FROM funding_queue WHERE enrolment_id = :e", lambda v: v == 1, e=ea2)

        await h.idle()
        events = await read_topic(h.infra, h.names, RESERVATIONS, min_count=12)
        positions: dict[uuid.UUID, list[int | None]] = {}  # in order per certificate (= per partition)
        for e in events:
            if isinstance(e, bev.ReservationRejected) and e.reason is bev.RejectionReason.FUNDING_CAP_QUEUED:
                positions.setdefault(e.enrolment_id, []).append(e.queue_position)
        assert positions == {eb: [1], ec: [2], ed: [3, 2, 1], ea2: [1]}
        created = {e.enrolment_id: e.funding_activated for e in events if isinstance(e, bev.ReservationCreated)}
        assert created == {ea: True, eb: True, ed: True}
        report = (await h.client.get("/api/billing/reconciliation", params={"period_id": period_id},
                                     headers=h.headers("finance", "f"))).json()
        assert report["ok"], report
        audit = await h.scalar("SELECT count(*) FROM audit_log WHERE action = 'billing.funding.slot_freed'")
        assert audit == 2
        # finance sees each slot given back as money returned to the budget, beside the credits
        ledger_events = await read_topic(h.infra, h.names, LEDGER, min_count=5)
        returned = {e.certificate_id: e.amount_kopecks for e in ledger_events
                    if isinstance(e, bev.CertificateFundingReturned)}
        assert set(returned) == {a, b} and returned[a] == credited_a and returned[b] > 0
        credited = [e.certificate_id for e in ledger_events if isinstance(e, bev.CertificateCredited)]
        assert sorted(map(str, credited)) == sorted(map(str, [a, b, d]))
    finally:
        await h.stack.aclose()
