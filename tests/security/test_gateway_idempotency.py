"""The Idempotency-Key header through the real nginx gateway to a real registry (its own
PostgreSQL database and Kafka namespace): the portal's preflight may send it, the service receives
it, and the replayed answer comes back through the gateway marked ``Idempotent-Replayed``, a header
the portal's scripts may read."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from pfdo_devstack.gateway_vars import DEFAULTS, HIGH_LIMITS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, service_settings
from pfdo_registry.domain.age import anniversary
from pfdo_registry.domain.identifiers import generate_snils
from pfdo_registry.main import build_app

from ._gateway_harness import free_port, gateway

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PORTAL = DEFAULTS["PORTAL_ORIGIN"]
API = "/api/registry"


async def test_the_key_crosses_the_gateway_and_the_replay_comes_back(infra, databases, auth, tmp_path: Path) -> None:  # noqa: ANN001
    namespace = new_namespace()
    await ensure_topics(infra.kafka_bootstrap, TopicNames(namespace), {"registry"}, 1)
    app = build_app(service_settings("registry", infra=infra, database_url=await databases.fresh("registry"),
                                     namespace=namespace, auth=auth, kafka_replication_factor=1))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(300):
            if server.started or serving.done():
                break
            await asyncio.sleep(0.1)
        assert server.started, "the registry did not start"
        with gateway(tmp_path, {"registry": f"127.0.0.1:{port}"}, **HIGH_LIMITS) as gw:
            async with httpx.AsyncClient(base_url=gw.url, timeout=30) as client:
                preflight = await client.options(f"{API}/applications", headers={
                    "Origin": PORTAL, "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type, idempotency-key"})
                assert preflight.status_code == 204
                assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()

                ro = auth.headers("regional_operator", "ro-gw")
                assert (await client.put(f"{API}/municipalities/01", json={"name": "Липецк"}, headers=ro)).status_code == 200
                born = anniversary(dt.date.today(), -10) - dt.timedelta(days=20)
                body = {"child": {"surname": "Сидорова", "first_name": "Ольга", "birth_date": born.isoformat(),
                                  "snils": generate_snils(random.Random(77)), "municipality_code": "01"}}
                key = str(uuid.uuid4())
                headers = {**auth.headers("parent", "parent-gw"), "Idempotency-Key": key, "Origin": PORTAL}
                first = await client.post(f"{API}/applications", json=body, headers=headers)
                again = await client.post(f"{API}/applications", json=body, headers=headers)
                other = await client.post(f"{API}/applications", json={**body, "applicant_role": "guardian"},
                                          headers=headers)
        assert first.status_code == 201, first.text
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
        assert "idempotent-replayed" in again.headers["access-control-expose-headers"].lower()
        assert again.headers["x-request-id"] != first.headers["x-request-id"]
        assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
        async with app.state.runtime.db.transaction() as s:
            stored = (await s.execute(text("SELECT subject, key, status FROM idempotency_keys"))).all()
            applications = (await s.execute(text("SELECT count(*) FROM applications"))).scalar_one()
        assert [tuple(row) for row in stored] == [("parent-gw", key, 201)]  # the key reached the service
        assert applications == 1
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)
