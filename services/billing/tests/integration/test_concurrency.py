"""50 reservations against one certificate at once never overspend: half arrive through Kafka
into two billing instances of one consumer group, half are direct use-case calls running in
parallel transactions at the same time."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from billing_testkit import certificate, enrolment, module, program, setup_period, start_harness

from pfdo_contracts.envelope import wrap
from pfdo_testkit import running_app

from pfdo_billing.main import build_app
from pfdo_billing.service import reservations

pytestmark = pytest.mark.integration


async def test_fifty_concurrent_reservations_never_overspend(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        second = build_app(h.settings)
        async with running_app(second):
            cert, parent = uuid.uuid4(), "parent-many"
            m = module(uuid.uuid4())
            p = program(uuid.uuid4(), uuid.uuid4(), [m])
            await h.publish(certificate(cert, parent))
            await h.publish(p)
            await h.wait_for("SELECT count(*) FROM certificates WHERE certificate_id = :c", c=cert)
            await h.wait_for("SELECT count(*) FROM modules")
            await setup_period(h, nominal=3_000_000, agreements=(p.provider_id,))

            via_kafka = [enrolment(uuid.uuid4(), cert, p, m, parent=parent) for _ in range(25)]
            direct = [enrolment(uuid.uuid4(), cert, p, m, parent=parent) for _ in range(25)]
            b = h.app.state.billing

            async def call(event) -> str:  # noqa: ANN001
                env = wrap(event, source="pfdo/test", correlation_id=str(uuid.uuid4()))
                for _ in range(20):  # a lock timeout or serialisation failure would be retried by the consumer too
                    try:
                        async with b.runtime.db.transaction() as session:
                            return await reservations.enrolment_requested(b, session, event, env)
                    except Exception as exc:  # noqa: BLE001
                        if "deadlock" not in str(exc):
                            raise
                raise AssertionError("gave up after repeated deadlocks")

            sends = asyncio.gather(*(h.publish(e) for e in via_kafka))
            outcomes = await asyncio.gather(*(call(e) for e in direct))
            await sends
            assert outcomes == ["reserved"] * 25
            await h.wait_for("SELECT count(*) FROM contracts WHERE status = 'reserved'", lambda v: v == 50, timeout=60)

            total = await h.scalar("SELECT sum(certificate_kopecks) FROM contracts")
            bal = (await h.rows("SELECT * FROM certificate_balances WHERE certificate_id = :c", c=cert))[0]
            # each asks 890 110 of the certificate: 3 get it whole, the 4th the rest, the others nothing
            assert total == 3_000_000
            assert (bal["nominal"], bal["available"], bal["reserved"], bal["spent"]) == (3_000_000, 0, 3_000_000, 0)
            parts = sorted((await h.rows("SELECT certificate_kopecks AS k FROM contracts")), key=lambda r: -r["k"])
            assert [r["k"] for r in parts[:4]] == [890_110, 890_110, 890_110, 3_000_000 - 3 * 890_110]
            assert all(r["k"] == 0 for r in parts[4:])
            assert await h.scalar(
                "SELECT count(*) FROM contracts c WHERE total_cost_kopecks <> certificate_kopecks + family_kopecks") == 0
            pending = await h.scalar("SELECT sum(amount) FROM transfers WHERE kind = 'reserve' AND pending_state = 'pending'")
            assert pending == 3_000_000
            r = await h.client.get("/api/billing/reconciliation", headers=h.headers("finance", "f"))
            assert r.json()["ok"], r.json()
    finally:
        await h.stack.aclose()
