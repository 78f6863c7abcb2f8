"""The local stack for real: Kafka 4 (KRaft) from Maven Central, PostgreSQL, nginx, stand-in services.

One broker start for the whole module (the shared test infrastructure of the session).
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from pfdo_devstack.config import StackConfig
from pfdo_devstack.proc import pid_alive
from pfdo_devstack.services import ALL_PARTS, ServiceProcess
from pfdo_devstack.stack import Stack
from pfdo_devstack.testing import TestInfra, start_test_infra, stop_test_infra

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def infra():
    infra = start_test_infra()
    kafka_pid, pg_pid = infra.kafka.pid, infra.postgres.pid
    yield infra
    stop_test_infra(infra)
    if infra.kafka.pid is None:  # really stopped (not shared with a still-running session fixture)
        assert not pid_alive(kafka_pid) and not pid_alive(pg_pid)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, *, method: str = "GET", data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


async def test_kafka_idempotent_produce_and_consume(infra: TestInfra) -> None:
    topic = f"devstack-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, b'{"hello":"pfdo"}', key=b"cert-1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka_bootstrap, group_id=f"g-{topic}", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (msg.key, msg.value, msg.partition, msg.offset) == (b"cert-1", b'{"hello":"pfdo"}', meta.partition, 0)


async def test_topics_are_not_auto_created(infra: TestInfra) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, request_timeout_ms=1000)
    await producer.start()
    try:
        with pytest.raises(Exception):
            await asyncio.wait_for(producer.send_and_wait("devstack-never-created", b"x"), timeout=10)
    finally:
        await producer.stop()


async def test_postgres_databases_and_durability(infra: TestInfra) -> None:
    conn = await asyncpg.connect(infra.pg_admin_dsn("registry"))
    try:
        assert await conn.fetchval("SELECT current_user") == "pfdo"
        assert await conn.fetchval("SHOW synchronous_commit") == "on"
        assert await conn.fetchval("SHOW fsync") == "on"
        assert int(await conn.fetchval("SHOW max_connections")) == 300
        dbs = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        assert {"registry", "navigator", "billing", "ratings"} <= dbs
    finally:
        await conn.close()
    name = infra.create_database()
    assert infra.create_database(name) == name  # idempotent
    conn = await asyncpg.connect(infra.pg_admin_dsn(name))
    try:
        assert await conn.fetchval("SELECT 40 + 2") == 42
    finally:
        await conn.close()
    infra.drop_database(name)
    assert infra.dsn("billing").startswith("postgresql+asyncpg://pfdo@127.0.0.1:")


def test_gateway_proxies_with_request_ids_limits_and_problem_bodies(infra: TestInfra) -> None:
    cfg = infra.config.replace(stack_dir=infra.config.stack_dir / "standin", registry_port=_free_port())
    svc = ServiceProcess("registry", cfg, app="standin_app:app", app_dir=HERE, run_migrations=False)
    svc.start()
    try:
        dead = _free_port()
        gw = infra.start_gateway(
            upstreams={"registry": f"127.0.0.1:{svc.port}", "billing": f"127.0.0.1:{dead}"},
            variables={"RATE_ENROL": "1r/m", "BURST_ENROL": "1"},
        )
        status, headers, body = _get(f"{gw.url}/api/registry/children?x=1", headers={"X-Request-ID": "req-12345678"})
        assert status == 200
        echoed = json.loads(body)
        assert echoed["path"] == "/api/registry/children" and echoed["query"] == "x=1"
        assert echoed["headers"]["x-request-id"] == "req-12345678"
        assert headers["X-Request-ID"] == "req-12345678"
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert echoed["env"]["PFDO_DATABASE_URL"].endswith("/registry")

        status, headers, _ = _get(f"{gw.url}/api/registry/x", headers={"X-Request-ID": 'bad"id'})
        assert status == 200 and headers["X-Request-ID"] != 'bad"id' and len(headers["X-Request-ID"]) == 32

        status, headers, body = _get(f"{gw.url}/api/billing/quotes")
        assert status == 502 and headers["Content-Type"] == "application/problem+json"
        assert json.loads(body)["status"] == 502

        status, _, body = _get(f"{gw.url}/api/registry/upload", method="POST", data=b"x" * (2 * 1024 * 1024))
        assert status == 413 and json.loads(body)["title"] == "Слишком большой запрос"

        codes = []
        for _ in range(3):  # navigator is not running: a 502 means the limit let it through
            status, headers, body = _get(f"{gw.url}/api/navigator/enrolments", method="POST", data=b"{}",
                                         headers={"Authorization": f"Bearer {_jwt_shaped('parent-1')}"})
            codes.append(status)
        assert codes == [502, 502, 429]
        assert headers["Retry-After"] == "1" and json.loads(body)["status"] == 429
        status, _, _ = _get(f"{gw.url}/api/navigator/enrolments", method="POST", data=b"{}",
                            headers={"Authorization": f"Bearer {_jwt_shaped('parent-2')}"})
        assert status == 502  # limits are per token (a hash of it; the services limit per verified subject)

        status, headers, _ = _get(
            f"{gw.url}/api/navigator/enrolments", method="OPTIONS",
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
        )
        assert status == 204 and headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        gw.stop()
        assert not gw.is_running()
        log_line = json.loads(gw.access_log.read_text().splitlines()[0])
        assert log_line["request_id"] == "req-12345678" and log_line["status"] == 200
    finally:
        svc.stop()
    assert not svc.is_running()


def test_stack_down_leaves_no_process(infra: TestInfra, tmp_path: Path) -> None:
    """up/down of the stack parts around the already running infrastructure (no second broker)."""
    cfg = StackConfig.for_tests().replace(
        stack_dir=tmp_path / "stack",
        kafka_port=infra.config.kafka_port,
        pg_port=infra.config.pg_port,
        gateway_port=_free_port(),
        **{f"{n}_port": _free_port() for n in ALL_PARTS},
    )
    stack = Stack(cfg)
    stack.services = {
        n: ServiceProcess(n, cfg, app="standin_app:app", app_dir=HERE, run_migrations=False) for n in ALL_PARTS
    }
    for svc in stack.services.values():
        svc.start()
    stack.gateway.start()
    stack.gateway.start()  # idempotent
    rows = {r.name: r for r in stack.status()}
    assert all(rows[n].state == "up" for n in (*ALL_PARTS, "gateway"))
    assert rows["kafka"].state == "down"  # the infra's broker lives in another stack folder
    status, _, body = _get(f"{cfg.gateway_url}/api/ratings/ping")
    assert status == 200 and json.loads(body)["service"] == "ratings"
    pids = [p.pid for p in (*stack.services.values(), stack.gateway)]
    assert stack.down() == []
    assert not any(pid_alive(pid) for pid in pids)
    assert infra.kafka.is_running() and infra.postgres.is_running()  # not part of this stack


def _jwt_shaped(sub: str) -> str:
    """An unsigned token of the right shape: the gateway keys its limits by a hash of the token."""
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'sub': sub})}.c2ln"
