"""Money per payer and the treasury's loop, on the real database and broker: one provider paid by
two municipalities gets advance and final orders per payer, numbered; each municipality's
close touches only its certificates' contracts (a municipal operator closes its own only); the
treasury's statuses arrive by the gateway call and by its topic, twice and out of order, and a
returned order is reissued under a new number."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from billing_testkit import D, Harness, certificate, conclude_agreement, enrolment, module, program, read_topic

from pfdo_contracts.common import PaymentMode
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import treasury as tev
from pfdo_contracts.topics import PAYMENT_ORDERS

pytestmark = pytest.mark.integration

A, B = "01", "02"
M = module(uuid.uuid4())
P = program(uuid.uuid4(), uuid.uuid4(), [M])
PROVIDER = P.provider_id
CERTS = {A: [uuid.uuid4(), uuid.uuid4()], B: [uuid.uuid4()]}
OCT, NOV = "2026-10", "2026-11"
NUMBER = r"^2026-\d{6}$"


def _of(h: Harness, role: str, **claims: str) -> dict[str, str]:
    return h.headers(role, f"{role}-{uuid.uuid4().hex[:6]}", **claims)


async def _orders(h: Harness, headers: dict | None = None, **params: str) -> list[dict]:
    r = await h.client.get("/api/billing/payment-orders", params=params,
                           headers=headers or h.headers("regional_operator", "op-1"))
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def _setup(h: Harness) -> None:
    for muni, cids in CERTS.items():
        for cid in cids:
            await h.publish(certificate(cid, f"parent-{cid}").model_copy(
                update={"municipality_code": muni, "number": f"48{muni}000123"}))
    await h.publish(P)
    await h.wait_for("SELECT count(*) FROM certificates", lambda v: v == 3)
    await h.wait_for("SELECT count(*) FROM modules", lambda v: v == 1)
    r = await h.operator("POST", "/periods", json={"starts_on": "2026-09-01", "ends_on": "2027-08-31"})
    assert r.status_code == 201, r.text
    pid = r.json()["period_id"]
    r = await h.operator("PUT", f"/periods/{pid}/nominals", json={"nominals": [
        {"municipality_code": m, "age_min": 5, "age_max": 17, "amount_kopecks": 3_000_000} for m in CERTS]})
    assert r.status_code == 204, r.text
    assert (await h.operator("POST", f"/periods/{pid}/open")).status_code == 200
    for muni in CERTS:  # the provider works with each payer under an agreement
        await conclude_agreement(h, PROVIDER, pid, payer=muni)
    for cids in CERTS.values():
        for cid in cids:
            eid = uuid.uuid4()
            await h.publish(enrolment(eid, cid, P, M, parent=f"parent-{cid}", mode=PaymentMode.MONTHLY))
            await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=eid)
            await h.publish(n.EnrolmentConfirmed(enrolment_id=eid, certificate_id=cid, module_id=M.module_id,
                                                 provider_id=PROVIDER, start_date=D(2026, 10, 1),
                                                 end_date=M.end_date, confirmed_on=D(2026, 9, 25)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE status = 'active'", lambda v: v == 3)
    await h.publish(n.AttendanceMonthFrozen(month=OCT, attendance_events=0, frozen_on=D(2026, 11, 5),
                                            frozen_by=n.FrozenBy.OPERATOR))
    await h.wait_for("SELECT count(*) FROM attendance_months WHERE month = '2026-10-01' AND published_events = 0")


async def test_orders_per_payer_and_month_close_per_municipality(h: Harness) -> None:
    await _setup(h)
    instalment = int(await h.scalar("SELECT max(certificate_kopecks) FROM contract_months WHERE month = '2026-10-01'"))

    r = await h.operator("POST", f"/months/{OCT}/advance")
    assert r.json()["orders_issued"] == 2
    advances = {o["payer_code"]: o for o in await _orders(h, month=OCT, kind="advance")}
    assert set(advances) == {A, B}
    assert advances[A]["base_kopecks"] == 2 * instalment and advances[B]["base_kopecks"] == instalment
    assert advances[A]["amount_kopecks"] == 2 * instalment * 80 // 100
    assert all(o["status"] == "issued" and o["number"] for o in advances.values())
    assert len({o["number"] for o in advances.values()}) == 2
    assert (await h.operator("POST", f"/months/{OCT}/advance")).json()["orders_issued"] == 0  # idempotent

    # a municipal operator closes its own municipality only
    r = await h.client.post(f"/api/billing/months/{OCT}/close", params={"municipality": B},
                            headers=_of(h, "municipal_operator", municipality=A))
    assert r.status_code == 403, r.text
    r = await h.client.post(f"/api/billing/months/{OCT}/close", headers=_of(h, "municipal_operator", municipality=A))
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["municipality_code"], closed["contracts_closed"], closed["final_orders_issued"]) == (A, 2, 1)
    assert closed["posted_kopecks"] == 2 * instalment
    states = await h.rows("SELECT c.payer_code, cm.state FROM contract_months cm JOIN contracts c USING (enrolment_id) "
                          "WHERE cm.month = '2026-10-01'")
    assert sorted((s["payer_code"], s["state"]) for s in states) == [(A, "closed"), (A, "closed"), (B, "reserved")]
    progress_b = (await h.client.get(f"/api/billing/months/{OCT}/close", params={"municipality": B},
                                     headers=h.headers("finance", "fin-1"))).json()
    assert (progress_b["status"], progress_b["contracts_total"], progress_b["municipality_code"]) == (
        "not_started", 1, B)

    # the region-wide close takes the rest: B's contract and B's final order
    r = await h.operator("POST", f"/months/{OCT}/close")
    assert r.status_code == 200, r.text
    assert (r.json()["closed_now"], r.json()["final_orders_issued"], r.json()["municipality_code"]) == (1, 1, None)
    finals = {o["payer_code"]: o for o in await _orders(h, month=OCT, kind="final")}
    assert set(finals) == {A, B}
    for payer, final in finals.items():
        assert final["advance_paid_kopecks"] == advances[payer]["amount_kopecks"]
        assert final["amount_kopecks"] == final["base_kopecks"] - advances[payer]["amount_kopecks"]
    # per payer: advance + final == posted
    posted = {p: int(await h.scalar(
        "SELECT sum(cm.posted_kopecks) FROM contract_months cm JOIN contracts c USING (enrolment_id) "
        "WHERE cm.month = '2026-10-01' AND c.payer_code = :p", p=p)) for p in CERTS}
    assert {p: advances[p]["amount_kopecks"] + finals[p]["amount_kopecks"] for p in CERTS} == posted
    report = (await h.operator("GET", "/reconciliation")).json()
    assert {c["name"]: c["ok"] for c in report["checks"]}["payment_orders_equal_postings"] is True

    # who sees which orders: the provider its own, a municipal operator its municipality's
    mine = await _orders(h, _of(h, "provider", provider_id=str(PROVIDER)))
    assert len(mine) == 4
    assert await _orders(h, _of(h, "provider", provider_id=str(uuid.uuid4()))) == []
    theirs = await _orders(h, _of(h, "municipal_operator", municipality=B))
    assert {o["payer_code"] for o in theirs} == {B} and len(theirs) == 2
    numbers = [o["number"] for o in await _orders(h)]
    assert len(set(numbers)) == 4

    events = [e for e in await read_topic(h.infra, h.names, PAYMENT_ORDERS, min_count=4)
              if isinstance(e, bev.PaymentOrderIssued)]
    assert {(e.payer_code, e.kind.value) for e in events} == {(A, "advance"), (B, "advance"), (A, "final"),
                                                              (B, "final")}
    assert {e.number for e in events} == set(numbers)


async def _status(h: Harness, order_id: str, headers: dict | None = None, **body: str) -> tuple[int, dict]:
    r = await h.client.post(f"/api/billing/payment-orders/{order_id}/treasury-status", json=body,
                            headers=headers or h.headers("finance", "treasury-gw"))
    return r.status_code, r.json()


async def test_the_treasury_loop_by_call_and_by_event(h: Harness) -> None:
    advances = {o["payer_code"]: o for o in await _orders(h, month=OCT, kind="advance")}
    paid, returned = advances[A], advances[B]

    # only the finance system reports statuses
    for role, claims in (("provider", {"provider_id": str(PROVIDER)}), ("regional_operator", {})):
        code, _ = await _status(h, paid["order_id"], _of(h, role, **claims), status="paid", status_on="2026-10-05")
        assert code == 403
    assert (await _status(h, str(uuid.uuid4()), status="paid", status_on="2026-10-05"))[0] == 404
    code, body = await _status(h, returned["order_id"], status="returned", status_on="2026-10-05")
    assert (code, body["code"]) == (422, "invalid_treasury_status")  # a return carries its reason

    # by the call: accepted, paid; the repeat and a late "accepted" change nothing
    assert (await _status(h, paid["order_id"], status="accepted", status_on="2026-10-02"))[1]["outcome"] == "applied"
    code, body = await _status(h, paid["order_id"], status="paid", status_on="2026-10-05", treasury_reference="ПП-77")
    assert (code, body["status"], body["outcome"]) == (200, "paid", "applied")
    assert (await _status(h, paid["order_id"], status="paid", status_on="2026-10-05"))[1]["outcome"] == "duplicate"
    assert (await _status(h, paid["order_id"], status="accepted", status_on="2026-10-02"))[1]["outcome"] == "stale"
    code, body = await _status(h, paid["order_id"], status="returned", status_on="2026-10-06", reason="ошибка")
    assert (code, body["code"]) == (409, "treasury_status_conflict")

    # by the treasury's topic: returned (twice), then a late accepted
    report = tev.PaymentStatusReported(order_id=uuid.UUID(returned["order_id"]), status=tev.ReportedStatus.RETURNED,
                                       status_on=D(2026, 10, 6), reason="Неверный счёт получателя")
    await h.publish(report)
    await h.publish(report)
    await h.publish(tev.PaymentStatusReported(order_id=uuid.UUID(returned["order_id"]),
                                              status=tev.ReportedStatus.ACCEPTED, status_on=D(2026, 10, 3)))
    await h.wait_for("SELECT count(*) FROM payment_order_statuses WHERE order_id = :o", lambda v: v == 2,
                     o=uuid.UUID(returned["order_id"]))
    await h.idle()
    seen = {o["order_id"]: o for o in await _orders(h, _of(h, "provider", provider_id=str(PROVIDER)), month=OCT)}
    assert seen[paid["order_id"]]["status"] == "paid" and seen[paid["order_id"]]["treasury_reference"] == "ПП-77"
    assert seen[returned["order_id"]]["status"] == "returned"
    assert seen[returned["order_id"]]["return_reason"] == "Неверный счёт получателя"

    # the returned order is reissued: a new number, the same money; the returned one stays
    r = await h.client.post(f"/api/billing/payment-orders/{paid['order_id']}/reissue",
                            headers=h.headers("regional_operator", "op-1"))
    assert (r.status_code, r.json()["code"]) == (409, "order_not_returned")
    r = await h.client.post(f"/api/billing/payment-orders/{returned['order_id']}/reissue",
                            headers=_of(h, "municipal_operator", municipality=A))
    assert r.status_code == 404  # not its municipality's order
    r = await h.client.post(f"/api/billing/payment-orders/{returned['order_id']}/reissue",
                            headers=_of(h, "municipal_operator", municipality=B))
    assert r.status_code == 200, r.text
    again = await h.client.post(f"/api/billing/payment-orders/{returned['order_id']}/reissue",
                                headers=h.headers("regional_operator", "op-1"))
    new = r.json()
    assert again.json()["order_id"] == new["order_id"]
    assert (new["reissue_of"], new["status"], new["amount_kopecks"], new["payer_code"]) == (
        returned["order_id"], "issued", returned["amount_kopecks"], B)
    assert new["number"] != returned["number"]
    history = await _orders(h, _of(h, "municipal_operator", municipality=B), month=OCT, kind="advance")
    assert {o["order_id"]: o["reissued_as"] for o in history} == {returned["order_id"]: new["order_id"],
                                                                  new["order_id"]: None}
    lines = await h.scalar("SELECT count(*) FROM payment_order_lines WHERE order_id = :o", o=uuid.UUID(new["order_id"]))
    assert lines == 1
    # the reissue does not count twice: November's final still sees one advance per payer
    report = (await h.operator("GET", "/reconciliation")).json()
    assert {c["name"]: c["ok"] for c in report["checks"]}["payment_orders_equal_postings"] is True

    events = await read_topic(h.infra, h.names, PAYMENT_ORDERS, min_count=8)
    changes = [(e.number, e.previous_status.value, e.status.value) for e in events
               if isinstance(e, bev.PaymentOrderStatusChanged)]
    assert changes == [(paid["number"], "issued", "accepted"), (paid["number"], "accepted", "paid"),
                       (returned["number"], "issued", "returned")]
    reissued = [e for e in events if isinstance(e, bev.PaymentOrderIssued) and e.reissue_of is not None]
    assert [(str(e.reissue_of), e.number) for e in reissued] == [(returned["order_id"], new["number"])]


async def test_a_report_billing_cannot_apply_goes_to_its_dead_letter_topic(h: Harness) -> None:
    """Paid after returned, and a status of an order billing never issued: an operator must look."""
    returned = next(o for o in await _orders(h, month=OCT, kind="advance") if o["status"] == "returned")
    unknown = uuid.uuid4()
    for event in (tev.PaymentStatusReported(order_id=uuid.UUID(returned["order_id"]), status=tev.ReportedStatus.PAID,
                                            status_on=D(2026, 10, 9)),
                  tev.PaymentStatusReported(order_id=unknown, status=tev.ReportedStatus.ACCEPTED,
                                            status_on=D(2026, 10, 9))):
        await h.publish(event)
    consumer = AIOKafkaConsumer(h.names.dead_letter("billing"), bootstrap_servers=h.infra.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                group_id=f"{h.namespace}dlq-{uuid.uuid4().hex[:6]}")
    await consumer.start()
    errors: dict[str, str] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(errors) < 2 and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    body = orjson.loads(r.value)
                    errors[body["data"]["order_id"]] = dict(r.headers)["x-dlq-error-type"].decode()
    finally:
        await consumer.stop()
    assert errors == {returned["order_id"]: "TreasuryStatusConflict", str(unknown): "OrderNotFound"}
    after = {o["order_id"]: o["status"] for o in await _orders(h, month=OCT, kind="advance")}
    assert after[returned["order_id"]] == "returned"
