"""The month close's progress (``GET /months/{month}/close``), read while a close is under way:
not started, stopped after its first chunk (a crash: the close is resumable), then done after a
second call; the figures are those the close committed."""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import MUNI, D, Harness, certificate, enrolment, module, program, setup_period

from pfdo_contracts.events import navigator as n

from pfdo_billing.service import month_close
from pfdo_billing.service.context import Billing

pytestmark = pytest.mark.integration

MONTH = "2026-10"
M = module(uuid.uuid4())
P = program(uuid.uuid4(), uuid.uuid4(), [M])
OCTOBER_INSTALMENT = 111_269
"""The certificate's October part of the worked example's module (enrolled from 1 October)."""


async def progress(h: Harness, role: str = "finance", **claims: str) -> dict:
    r = await h.client.get(f"/api/billing/months/{MONTH}/close", headers=h.headers(role, f"{role}-1", **claims))
    assert r.status_code == 200, r.text
    return r.json()


async def _three_contracts_of_october(h: Harness) -> None:
    certificates = [uuid.uuid4() for _ in range(3)]
    for cid in certificates:
        await h.publish(certificate(cid, f"parent-{cid}"))
    await h.publish(P)
    await h.wait_for("SELECT count(*) FROM certificates", lambda v: v == 3)
    await h.wait_for("SELECT count(*) FROM modules", lambda v: v == 1)
    await setup_period(h, agreements=(P.provider_id,))
    for cid in certificates:
        eid = uuid.uuid4()
        await h.publish(enrolment(eid, cid, P, M, parent=f"parent-{cid}"))
        await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=eid)
        await h.publish(n.EnrolmentConfirmed(enrolment_id=eid, certificate_id=cid, module_id=M.module_id,
                                             provider_id=P.provider_id, start_date=D(2026, 10, 1),
                                             end_date=M.end_date, confirmed_on=D(2026, 9, 25)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE status = 'active'", lambda v: v == 3)
    await h.publish(n.AttendanceMonthFrozen(month=MONTH, attendance_events=0, frozen_on=D(2026, 11, 5),
                                            frozen_by=n.FrozenBy.OPERATOR))
    await h.wait_for("SELECT count(*) FROM attendance_months WHERE month = '2026-10-01' AND published_events = 0")


async def test_progress_of_a_close_stopped_after_its_first_chunk_and_resumed(
    h: Harness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _three_contracts_of_october(h)
    assert await progress(h) == {
        "month": MONTH, "status": "not_started", "contracts_closed": 0, "contracts_total": 3, "chunks_done": 0,
        "chunks_total": 1, "posted_kopecks": 0, "released_kopecks": 0, "family_invoiced_kopecks": 0, "municipality_code": None}

    # a close of one contract a chunk that stops after its first chunk (the process died)
    one_a_chunk = Billing(h.app.state.runtime, h.settings.model_copy(update={"month_close_chunk": 1}))
    real_chunk, calls = month_close._close_chunk, []

    async def dies_after_the_first_chunk(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("the process died")
        return await real_chunk(*args, **kwargs)

    monkeypatch.setattr(month_close, "_close_chunk", dies_after_the_first_chunk)
    with pytest.raises(RuntimeError):
        await month_close.close_month(one_a_chunk, D(2026, 10, 1))
    monkeypatch.undo()

    # the API's chunk holds the two contract-months left: one more chunk to go
    assert await progress(h, "regional_operator") == {
        "month": MONTH, "status": "running", "contracts_closed": 1, "contracts_total": 3, "chunks_done": 1,
        "chunks_total": 2, "posted_kopecks": 0, "released_kopecks": OCTOBER_INSTALMENT,
        "family_invoiced_kopecks": 0, "municipality_code": None}

    r = await h.operator("POST", f"/months/{MONTH}/close")
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["status"], closed["closed_now"], closed["contracts_closed"]) == ("done", 2, 3)
    done = await progress(h, "regional_operator")
    assert done == {
        "month": MONTH, "status": "done", "contracts_closed": 3, "contracts_total": 3, "chunks_done": 2,
        "chunks_total": 2, "posted_kopecks": closed["posted_kopecks"], "released_kopecks": 3 * OCTOBER_INSTALMENT,
        "family_invoiced_kopecks": closed["family_invoiced_kopecks"], "municipality_code": None}
    assert closed["released_kopecks"] == 3 * OCTOBER_INSTALMENT
    # the payer's municipal operator sees its own municipality, closed by the region-wide close
    assert await progress(h, "municipal_operator", municipality=MUNI) == {
        **done, "municipality_code": MUNI, "chunks_done": 0, "chunks_total": 0}
    # a municipal operator without a municipality in its token reads nothing
    r = await h.client.get(f"/api/billing/months/{MONTH}/close", headers=h.headers("municipal_operator", "mo-x"))
    assert r.status_code == 403, r.text


async def test_only_operators_and_finance_read_the_progress(h: Harness) -> None:
    for role in ("parent", "provider"):
        r = await h.client.get(f"/api/billing/months/{MONTH}/close", headers=h.headers(role, f"{role}-1"))
        assert r.status_code == 403, (role, r.text)
    r = await h.client.get("/api/billing/months/2026-13/close", headers=h.headers("finance", "finance-1"))
    assert r.status_code == 422
