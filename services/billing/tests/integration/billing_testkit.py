"""Helpers for billing integration tests: a running billing app on the shared broker and
database, a plain aiokafka producer for input events, readers for output topics and the
database, and the builders of the input events."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text

from pfdo_contracts.common import Direction, FundingKind, PaymentMode, ScheduleSlot, UsageKind
from pfdo_contracts.envelope import Envelope, Event, wrap
from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import registry as g
from pfdo_contracts.registry import decode
from pfdo_contracts.topics import ALL_TOPICS, Topic
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings

from pfdo_billing.main import build_app
from pfdo_billing.settings import BillingSettings

D = dt.date
MUNI = "01"
TUE_THU = [ScheduleSlot(weekday=2, starts_at=dt.time(16), ends_at=dt.time(17)),
           ScheduleSlot(weekday=4, starts_at=dt.time(16), ends_at=dt.time(17))]


def settings_for(infra, url: str, namespace: str, auth, **overrides: Any) -> BillingSettings:  # noqa: ANN001
    base = service_settings("billing", infra=infra, database_url=url, namespace=namespace, auth=auth,
                            kafka_replication_factor=1, **overrides)
    return BillingSettings(**{**base.model_dump(), "month_close_requires_month_end": False, "log_level": "WARNING"})


@dataclass
class Harness:
    infra: Any
    auth: Any
    namespace: str
    settings: BillingSettings
    client: httpx.AsyncClient
    app: Any
    producer: AIOKafkaProducer
    stack: AsyncExitStack
    sent: list[tuple[str, bytes, bytes]] = field(default_factory=list)

    @property
    def names(self) -> TopicNames:
        return TopicNames(self.namespace)

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    def headers(self, role: str, sub: str | None = None, **claims: Any) -> dict[str, str]:
        return self.auth.headers(role, sub, **claims)

    async def publish(self, event: Event, *, envelope: Envelope | None = None) -> Envelope:
        env = envelope or wrap(event, source="pfdo/test", correlation_id=str(uuid.uuid4()))
        value = orjson.dumps(env.model_dump(mode="json"))
        topic = self.names.name(event.topic)
        await self.producer.send_and_wait(topic, value=value, key=event.partition_key().encode())
        self.sent.append((topic, event.partition_key().encode(), value))
        return env

    async def replay_all(self, *, fresh_ids: bool) -> None:
        """Send every input again: the same envelopes, or the same events under new envelope ids."""
        for topic, key, value in list(self.sent):
            if fresh_ids:
                body = orjson.loads(value)
                body["id"] = str(uuid.uuid4())
                value = orjson.dumps(body)
            await self.producer.send_and_wait(topic, value=value, key=key)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.db.transaction() as s:
            return await s.scalar(text(sql), params)

    async def rows(self, sql: str, **params: Any) -> list[dict]:
        async with self.db.transaction() as s:
            return [dict(r) for r in (await s.execute(text(sql), params)).mappings().all()]

    async def wait_for(self, sql: str, expected: Callable[[Any], bool] = bool, timeout: float = 30.0,
                       **params: Any) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.scalar(sql, **params)
            if expected(value):
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {sql!r}: last value {value!r}")
            await asyncio.sleep(0.05)

    async def idle(self) -> None:
        """Wait until every sent input was processed (inbox) and the outbox is drained."""
        await self.wait_for("SELECT count(*) FROM outbox", lambda v: v == 0)

    async def operator(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.request(method, f"/api/billing{path}",
                                         headers=self.headers("regional_operator", "op-1"), **kwargs)


async def certificate_balance(h: Harness, certificate_id: uuid.UUID, parent: str) -> dict:
    """The certificate's balance of its period, as its parent reads it through the API."""
    r = await h.client.get(f"/api/billing/certificates/{certificate_id}/balance", headers=h.headers("parent", parent))
    assert r.status_code == 200, r.text
    return r.json()["balances"][0]


async def start_harness(infra, databases, auth, *, namespace: str | None = None, url: str | None = None,  # noqa: ANN001
                        **overrides: Any) -> Harness:
    namespace = namespace or new_namespace()
    await ensure_topics(infra.kafka_bootstrap, TopicNames(namespace), {t.producer for t in ALL_TOPICS}, 1)
    url = url or await databases.fresh("billing")
    settings = settings_for(infra, url, namespace, auth, **overrides)
    app = build_app(settings)
    stack = AsyncExitStack()
    client = await stack.enter_async_context(running_app(app))
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, linger_ms=2)
    await producer.start()
    stack.push_async_callback(producer.stop)
    return Harness(infra, auth, namespace, settings, client, app, producer, stack)


async def read_topic(infra, names: TopicNames, topic: Topic, *, min_count: int = 0, timeout: float = 15.0) -> list[Event]:  # noqa: ANN001
    """Every event on a namespaced output topic so far, decoded with the contracts' models."""
    consumer = AIOKafkaConsumer(names.name(topic), bootstrap_servers=infra.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                group_id=f"{names.namespace}reader-{uuid.uuid4().hex[:6]}")
    await consumer.start()
    events: list[Event] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    events.append(decode(Envelope.model_validate_json(r.value)))
            if len(events) >= min_count and (not batch or asyncio.get_running_loop().time() > deadline):
                if len(events) >= min_count:
                    break
            if asyncio.get_running_loop().time() > deadline:
                break
    finally:
        await consumer.stop()
    return events


# --- input events -----------------------------------------------------------------------------

def certificate(cid: uuid.UUID, parent: str, *, usage: UsageKind = UsageKind.FUNDING,
                birth: dt.date = D(2016, 3, 14), issued_on: dt.date = D(2026, 8, 20)) -> g.CertificateIssued:
    return g.CertificateIssued(
        certificate_id=cid, number="4801000123", region_code="48", municipality_code=MUNI, birth_date=birth,
        issued_on=issued_on, valid_until=D(birth.year + 18, birth.month, birth.day) - dt.timedelta(days=1),
        usage_kind=usage, parent_id=parent)


def module(mid: uuid.UUID, *, price: int = 1_200_000, normative: int = 1_000_000,
           start: dt.date = D(2026, 9, 1), end: dt.date = D(2027, 5, 31)) -> g.ModuleSnapshot:
    return g.ModuleSnapshot(module_id=mid, title="Robotics", start_date=start, end_date=end, schedule=TUE_THU,
                            hours=72, capacity=500, price_kopecks=price, normative_cost_kopecks=normative,
                            lessons_per_week=2)


def program(pid: uuid.UUID, provider: uuid.UUID, modules: list[g.ModuleSnapshot], *, revision: int = 1,
            funding: FundingKind = FundingKind.CERTIFICATE) -> g.ProgramCertified:
    return g.ProgramCertified(
        program_id=pid, provider_id=provider, revision=revision, title="Robotics", description="Robots.",
        direction=Direction.TECHNICAL, municipality_code=MUNI, venue_address="Lipetsk", age_min=5, age_max=17,
        funding_kind=funding, modules=modules, certified_on=D(2026, 8, 1))


def enrolment(eid: uuid.UUID, cid: uuid.UUID, prog: g.ProgramCertified, m: g.ModuleSnapshot, *,
              start: dt.date = D(2026, 10, 1), mode: PaymentMode = PaymentMode.ATTENDANCE,
              parent: str = "parent-1") -> n.EnrolmentRequested:
    return n.EnrolmentRequested(
        enrolment_id=eid, certificate_id=cid, parent_id=parent, program_id=prog.program_id,
        program_revision=prog.revision, module_id=m.module_id, provider_id=prog.provider_id,
        municipality_code=MUNI, direction=prog.direction, funding_kind=prog.funding_kind, start_date=start,
        end_date=m.end_date, module_start_date=m.start_date, module_end_date=m.end_date,
        price_kopecks=m.price_kopecks, normative_cost_kopecks=m.normative_cost_kopecks or 0, payment_mode=mode,
        schedule=m.schedule, lessons_per_week=m.lessons_per_week)


UNLIMITED = 10**15
"""An agreement's limit the tests do not mean to reach (kopecks)."""


async def conclude_agreement(h: Harness, provider_id: uuid.UUID | str, period_id: uuid.UUID | str, *,
                             limit: int = UNLIMITED, payer: str = MUNI, number: str | None = None) -> dict:
    """The regional operator concludes an agreement of ``provider_id`` with ``payer`` for the period
    (in force since before the period: every paid reservation of the payer's certificates needs one)."""
    r = await h.operator("POST", "/agreements", json={
        "number": number or f"С-{str(provider_id)[:8]}-{payer}", "provider_id": str(provider_id), "payer_code": payer,
        "period_id": str(period_id), "limit_kopecks": limit, "concluded_on": "2026-08-01"})
    assert r.status_code == 201, r.text
    return r.json()


async def setup_period(h: Harness, *, nominal: int = 3_000_000, caps: dict | None = None,
                       open_it: bool = True, agreements: tuple[uuid.UUID, ...] = ()) -> str:
    """A period 2026/27 with the nominal of ``MUNI``, opened (unless ``open_it`` is false), and an
    agreement of each provider of ``agreements`` with ``MUNI`` for it."""
    r = await h.operator("POST", "/periods", json={"starts_on": "2026-09-01", "ends_on": "2027-08-31"})
    assert r.status_code == 201, r.text
    pid = r.json()["period_id"]
    r = await h.operator("PUT", f"/periods/{pid}/nominals", json={"nominals": [
        {"municipality_code": MUNI, "age_min": 5, "age_max": 17, "amount_kopecks": nominal}]})
    assert r.status_code == 204, r.text
    if caps is not None:
        r = await h.operator("PUT", f"/periods/{pid}/caps", json={"caps": [{"municipality_code": MUNI, **caps}]})
        assert r.status_code == 200, r.text
    if open_it:
        r = await h.operator("POST", f"/periods/{pid}/open")
        assert r.status_code == 200, r.text
    for provider_id in agreements:
        await conclude_agreement(h, provider_id, pid)
    return pid
