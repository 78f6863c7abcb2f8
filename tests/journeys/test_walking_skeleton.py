"""The walking skeleton, end to end through the gateway over real Kafka and PostgreSQL: a
certificate approved in the registry reaches billing through the bus and opens its account,
which billing's API then shows."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from pfdo_contracts.topics import ALL_TOPICS

pytestmark = pytest.mark.integration


async def eventually(probe, *, timeout: float = 30.0, interval: float = 0.2):  # noqa: ANN001, ANN201
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await probe()
        if result is not None:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected state was not reached in time")
        await asyncio.sleep(interval)


async def test_certificate_from_registry_opens_a_billing_account_via_the_bus(platform_factory, auth, infra) -> None:  # noqa: ANN001
    platform = await platform_factory()
    region = auth.headers("regional_operator", "op-region")
    operator = auth.headers("municipal_operator", "op-01", municipality="01")
    parent = auth.headers("parent", "parent-walking-skeleton")

    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=20) as gw:
        for service in ("registry", "navigator", "billing", "ratings"):
            health = await gw.get(f"/api/{service}/health")
            assert health.status_code == 200, health.text
            assert health.headers.get("x-request-id")
            # each process samples its event loop's lag, for operators to see a service short of CPU
            metrics = await gw.get(f"{platform.service_url(service)}/api/{service}/metrics")
            samples = re.search(rf'^pfdo_event_loop_lag_seconds_count{{service="{service}"}} (\S+)$', metrics.text, re.M)
            assert samples and float(samples.group(1)) > 0, metrics.text[-2000:]
            # read from the service itself: the gateway does not hand metrics out
            assert (await gw.get(f"/api/{service}/metrics")).json()["code"] == "not_found"

        assert (await gw.put("/api/registry/municipalities/01", json={"name": "Липецк"}, headers=region)).status_code in (200, 201)
        birth = dt.date.today().replace(year=dt.date.today().year - 9, day=1)
        applied = await gw.post(
            "/api/registry/applications", headers=parent,
            json={"child": {"surname": "Петрова", "first_name": "Анна", "birth_date": birth.isoformat(),
                            "snils": "112-233-445 95", "municipality_code": "01"}},
        )
        assert applied.status_code == 201, applied.text
        approved = await gw.post(f"/api/registry/applications/{applied.json()['id']}/approve", headers=operator)
        assert approved.status_code in (200, 201), approved.text
        certificates = (await gw.get("/api/registry/certificates", headers=parent)).json()
        certificate = certificates["items"][0]
        assert certificate["number"].startswith("4801")

        async def account():  # noqa: ANN202
            response = await gw.get(f"/api/billing/certificates/{certificate['id']}/balance", headers=parent)
            return response if response.status_code == 200 else None

        balance = (await eventually(account)).json()
        assert str(balance["certificate_id"]) == certificate["id"]

        # someone else's parent sees nothing: a 404, as for a certificate that does not exist
        stranger = await gw.get(f"/api/billing/certificates/{certificate['id']}/balance",
                                headers=auth.headers("parent", "another-parent"))
        assert stranger.status_code == 404

    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        topics = set(await admin.list_topics())
    finally:
        await admin.close()
    assert {platform.namespace + t.name for t in ALL_TOPICS} <= topics
