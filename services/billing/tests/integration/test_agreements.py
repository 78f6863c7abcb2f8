"""Agreements with payers against the real database and broker: who may conclude, change, end and
read them; no agreement, no reservation; the yearly limit takes reservations to the last kopeck
(also when two race for it) and released money frees it; every change is published."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from billing_testkit import (
    MUNI, Harness, certificate, conclude_agreement, enrolment, module, program, read_topic, setup_period,
    start_harness,
)

from pfdo_contracts.common import UsageKind
from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.topics import PAYMENT_ORDERS, RESERVATIONS

from pfdo_billing.service import reservations

pytestmark = pytest.mark.integration

PART = 890_110  # the certificate part of the default module from 1 October (see test_concurrency)


async def _world(h: Harness, certificates: int) -> tuple[list[uuid.UUID], n.EnrolmentRequested, str]:
    """Funding certificates of ``MUNI``, one certified module and the open period (no agreement yet)."""
    m = module(uuid.uuid4())
    p = program(uuid.uuid4(), uuid.uuid4(), [m])
    certs = [uuid.uuid4() for _ in range(certificates)]
    for cid in certs:
        await h.publish(certificate(cid, f"parent-{cid}"))
    await h.publish(p)
    await h.wait_for("SELECT count(*) FROM certificates", lambda v: v == certificates)
    await h.wait_for("SELECT count(*) FROM modules")
    period_id = await setup_period(h)
    return certs, enrolment(uuid.uuid4(), certs[0], p, m), period_id


def _for(template: n.EnrolmentRequested, cid: uuid.UUID) -> n.EnrolmentRequested:
    return template.model_copy(update={"enrolment_id": uuid.uuid4(), "certificate_id": cid,
                                       "parent_id": f"parent-{cid}"})


async def _status(h: Harness, e: n.EnrolmentRequested) -> tuple[str, str | None]:
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status <> 'queued'", e=e.enrolment_id)
    row = (await h.rows("SELECT status, reject_reason FROM contracts WHERE enrolment_id = :e", e=e.enrolment_id))[0]
    return row["status"], row["reject_reason"]


async def _used(h: Harness, agreement_id: str) -> int:
    return await h.scalar("SELECT used_kopecks FROM agreements WHERE agreement_id = :a", a=uuid.UUID(agreement_id))


async def test_no_agreement_then_the_limit_then_released_money_frees_it(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        certs, template, period_id = await _world(h, 4)
        first = _for(template, certs[0])
        await h.publish(first)
        assert await _status(h, first) == ("rejected", "no_agreement")

        agreement = await conclude_agreement(h, template.provider_id, period_id, limit=PART + 500_000)
        aid = agreement["agreement_id"]
        assert (agreement["used_kopecks"], agreement["available_kopecks"], agreement["status"]) == (
            0, PART + 500_000, "active")
        second, third = _for(template, certs[1]), _for(template, certs[2])
        await h.publish(second)
        assert await _status(h, second) == ("reserved", None)
        assert await _used(h, aid) == PART
        await h.publish(third)
        assert await _status(h, third) == ("rejected", "agreement_limit_reached")
        assert await h.scalar("SELECT reserved FROM certificate_balances WHERE certificate_id = :c", c=certs[2]) == 0

        # the first reservation is cancelled: its money frees the limit, and the next one fits
        await h.publish(n.EnrolmentCancelled(enrolment_id=second.enrolment_id, certificate_id=second.certificate_id,
                                             cancelled_by="parent", cancelled_on=template.start_date))
        await h.wait_for("SELECT used_kopecks FROM agreements WHERE agreement_id = :a", lambda v: v == 0,
                         a=uuid.UUID(aid))
        fourth = _for(template, certs[3])
        await h.publish(fourth)
        assert await _status(h, fourth) == ("reserved", None)
        assert await _used(h, aid) == PART

        # an ended agreement takes no new reservation
        r = await h.operator("POST", f"/agreements/{aid}/end", json={"ended_on": "2026-12-01"})
        assert r.status_code == 200 and r.json()["status"] == "ended", r.text
        fifth = _for(template, certs[0])
        await h.publish(fifth)
        assert await _status(h, fifth) == ("rejected", "no_agreement")

        rejected = [e for e in await read_topic(infra, h.names, RESERVATIONS, min_count=5)
                    if isinstance(e, bev.ReservationRejected)]
        assert sorted(e.reason.value for e in rejected) == [
            "agreement_limit_reached", "no_agreement", "no_agreement"]
        changes = [e for e in await read_topic(infra, h.names, PAYMENT_ORDERS, min_count=2)
                   if isinstance(e, bev.AgreementChanged)]
        assert [(e.change.value, e.status.value) for e in changes] == [("concluded", "active"), ("ended", "ended")]
        assert changes[-1].used_kopecks == PART and changes[-1].ended_on.isoformat() == "2026-12-01"
    finally:
        await h.stack.aclose()


async def test_two_reservations_racing_for_the_last_kopecks_of_a_limit(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        certs, template, period_id = await _world(h, 6)
        aid = (await conclude_agreement(h, template.provider_id, period_id, limit=2 * PART + PART // 2))["agreement_id"]
        b = h.app.state.billing

        async def call(event: n.EnrolmentRequested) -> str:
            env = wrap(event, source="pfdo/test", correlation_id=str(uuid.uuid4()))
            for _ in range(20):
                try:
                    async with b.runtime.db.transaction() as session:
                        return await reservations.enrolment_requested(b, session, event, env)
                except Exception as exc:  # noqa: BLE001  a deadlock is retried, as the consumer would
                    if "deadlock" not in str(exc):
                        raise
            raise AssertionError("gave up after repeated deadlocks")

        outcomes = await asyncio.gather(*(call(_for(template, cid)) for cid in certs))
        assert sorted(outcomes) == ["rejected"] * 4 + ["reserved"] * 2
        assert await _used(h, aid) == 2 * PART
        assert await h.scalar("SELECT sum(certificate_kopecks) FROM contracts WHERE status = 'reserved'") == 2 * PART
        assert await h.scalar("SELECT count(*) FROM contracts WHERE reject_reason = 'agreement_limit_reached'") == 4
        r = await h.client.get("/api/billing/reconciliation", headers=h.headers("finance", "f"))
        assert r.json()["ok"], r.json()
    finally:
        await h.stack.aclose()


async def test_who_may_conclude_change_end_and_read_agreements(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        period_id = await setup_period(h)
        provider, other = uuid.uuid4(), uuid.uuid4()
        mo = h.headers("municipal_operator", "mo-01", municipality=MUNI)
        mo_elsewhere = h.headers("municipal_operator", "mo-02", municipality="02")
        staff = h.headers("provider", "staff", provider_id=str(provider))
        body = {"number": "С-17", "provider_id": str(provider), "payer_code": MUNI, "period_id": period_id,
                "limit_kopecks": 5_000_000}

        async def call(method: str, path: str, headers: dict, json: dict | None = None):  # noqa: ANN202
            return await h.client.request(method, f"/api/billing{path}", headers=headers, json=json)

        assert (await call("POST", "/agreements", staff, body)).status_code == 403
        assert (await call("POST", "/agreements", h.headers("finance", "f"), body)).status_code == 403
        assert (await call("POST", "/agreements", h.headers("parent", "p"), body)).status_code == 403
        assert (await call("POST", "/agreements", mo_elsewhere, body)).status_code == 404  # not its municipality
        bad = await call("POST", "/agreements", mo, {**body, "limit_kopecks": -1})
        assert bad.status_code == 422
        made = await call("POST", "/agreements", mo, body)
        assert made.status_code == 201, made.text
        aid = made.json()["agreement_id"]
        again = await call("POST", "/agreements", mo, {**body, "number": "С-18"})
        assert again.status_code == 409 and again.json()["code"] == "agreement_exists"
        assert "действующее соглашение" in again.json()["detail"]  # the Russian text of the code
        await conclude_agreement(h, other, period_id, payer="02")  # the regional operator: any payer

        # reads: the provider its own, a municipal operator its municipality's, the region and finance all
        def numbers(r) -> list[str]:  # noqa: ANN001
            assert r.status_code == 200, r.text
            return sorted(a["provider_id"] for a in r.json()["items"])

        assert numbers(await call("GET", "/agreements", staff)) == [str(provider)]
        assert numbers(await call("GET", "/agreements", mo)) == [str(provider)]
        assert numbers(await call("GET", "/agreements", mo_elsewhere)) == [str(other)]
        assert len(numbers(await call("GET", "/agreements", h.headers("finance", "f")))) == 2
        assert len(numbers(await call("GET", "/agreements", h.headers("regional_operator", "ro")))) == 2
        assert (await call("GET", "/agreements", h.headers("parent", "p"))).status_code == 403
        assert (await call("GET", f"/agreements/{aid}", staff)).json()["number"] == "С-17"
        foreign = h.headers("provider", "staff-x", provider_id=str(other))
        assert (await call("GET", f"/agreements/{aid}", foreign)).status_code == 404
        assert (await call("GET", f"/agreements/{aid}", mo_elsewhere)).status_code == 404

        # changes: the payer's operator or the region; never below what is used; an ended one stays
        assert (await call("PUT", f"/agreements/{aid}/limit", staff, {"limit_kopecks": 1})).status_code == 403
        assert (await call("PUT", f"/agreements/{aid}/limit", mo_elsewhere, {"limit_kopecks": 1})).status_code == 404
        await h.scalar("UPDATE agreements SET used_kopecks = 1000 WHERE agreement_id = :a RETURNING 1",
                       a=uuid.UUID(aid))
        low = await call("PUT", f"/agreements/{aid}/limit", mo, {"limit_kopecks": 999})
        assert low.status_code == 409 and low.json()["code"] == "agreement_limit_below_used"
        raised = await call("PUT", f"/agreements/{aid}/limit", mo, {"limit_kopecks": 7_000_000})
        assert raised.status_code == 200 and raised.json()["available_kopecks"] == 7_000_000 - 1000
        early = await call("POST", f"/agreements/{aid}/end", mo, {"ended_on": "2020-01-01"})
        assert early.status_code == 422 and early.json()["code"] == "invalid_agreement"
        ended = await call("POST", f"/agreements/{aid}/end", mo, {})
        assert ended.status_code == 200 and ended.json()["status"] == "ended" and ended.json()["ended_on"]
        late = await call("PUT", f"/agreements/{aid}/limit", mo, {"limit_kopecks": 8_000_000})
        assert late.status_code == 409 and late.json()["code"] == "agreement_ended"
        # a new agreement may follow the ended one
        assert (await call("POST", "/agreements", mo, {**body, "number": "С-19"})).status_code == 201
        assert await h.scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'billing.agreement.%'") == 5
    finally:
        await h.stack.aclose()


async def test_a_limit_too_small_gives_the_funding_slot_back(infra, databases, auth) -> None:  # noqa: ANN001
    """An accounting certificate becomes a funding one to quote its part; when the part does not fit
    in what is left of the limit, the refusal gives the slot and the nominal back."""
    h = await start_harness(infra, databases, auth)
    try:
        m = module(uuid.uuid4())
        p = program(uuid.uuid4(), uuid.uuid4(), [m])
        cid = uuid.uuid4()
        await h.publish(certificate(cid, f"parent-{cid}", usage=UsageKind.ACCOUNTING))
        await h.publish(p)
        await h.wait_for("SELECT count(*) FROM certificates")
        await h.wait_for("SELECT count(*) FROM modules")
        period_id = await setup_period(h, caps={"funding_cap": 5, "free_places": None, "direction_cap": None})
        await conclude_agreement(h, p.provider_id, period_id, limit=100_000)
        e = enrolment(uuid.uuid4(), cid, p, m, parent=f"parent-{cid}")
        await h.publish(e)
        assert await _status(h, e) == ("rejected", "agreement_limit_reached")
        cert = (await h.rows("SELECT usage_kind FROM certificates WHERE certificate_id = :c", c=cid))[0]
        assert cert["usage_kind"] == "accounting"
        assert await h.scalar("SELECT funding_used FROM caps") == 0
        balance = (await h.rows("SELECT * FROM certificate_balances WHERE certificate_id = :c", c=cid))[0]
        assert (balance["available"], balance["reserved"], balance["spent"]) == (0, 0, 0)
        r = await h.client.get("/api/billing/reconciliation", headers=h.headers("finance", "f"))
        assert r.json()["ok"], r.json()
    finally:
        await h.stack.aclose()
