"""The delivery guarantees of the plumbing, over the real Kafka broker and PostgreSQL:
outbox rows survive a relay crash and are delivered, duplicates have one effect, and a
malformed message is dead-lettered while the consumer goes on."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY
from sqlalchemy import text

from pfdo_contracts.events.registry import CertificateIssued
from pfdo_contracts.topics import ALL_TOPICS, CERTIFICATES
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_testkit import new_namespace, service_settings

pytestmark = pytest.mark.integration


def issued(certificate_id: uuid.UUID | None = None) -> CertificateIssued:
    return CertificateIssued(
        certificate_id=certificate_id or uuid.uuid4(), number="4801000123", region_code="48", municipality_code="01",
        birth_date=dt.date(2015, 3, 1), issued_on=dt.date(2026, 9, 1), valid_until=dt.date(2033, 2, 28),
        usage_kind="funding", parent_id="parent-1",
    )


async def runtime(service: str, infra, databases, auth, namespace: str, **overrides: object) -> ServiceRuntime:  # noqa: ANN001
    """A service runtime on a fresh database of its own, in ``namespace``."""
    return ServiceRuntime(
        service_settings(service, infra=infra, database_url=await databases.fresh(service), namespace=namespace,
                         auth=auth, **overrides),
        configure_logs=False,
    )


async def make_pair(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    await ensure_topics(infra.kafka_bootstrap, TopicNames(namespace), {t.producer for t in ALL_TOPICS} | {"billing"}, 1)
    producer_rt = await runtime("registry", infra, databases, auth, namespace)
    consumer_rt = await runtime("billing", infra, databases, auth, namespace)
    async with consumer_rt.db.transaction() as s:
        await s.execute(text("CREATE TABLE seen (certificate_id uuid PRIMARY KEY, n int NOT NULL)"))

    @consumer_rt.consumer.on(CertificateIssued)
    async def count(session, event, envelope) -> None:  # noqa: ANN001
        await session.execute(
            text("INSERT INTO seen VALUES (:id, 1) ON CONFLICT (certificate_id) DO UPDATE SET n = seen.n + 1"),
            {"id": event.certificate_id},
        )

    return namespace, producer_rt, consumer_rt


async def seen(rt: ServiceRuntime, cid: uuid.UUID, *, timeout: float = 30.0) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with rt.db.transaction() as s:
            n = await s.scalar(text("SELECT n FROM seen WHERE certificate_id = :id"), {"id": cid})
        if n is not None or asyncio.get_running_loop().time() > deadline:
            return int(n or 0)
        await asyncio.sleep(0.1)


async def test_event_committed_before_a_relay_crash_is_delivered_once(infra, databases, auth) -> None:
    namespace, producer_rt, consumer_rt = await make_pair(infra, databases, auth)
    cid = uuid.uuid4()
    # the state change commits with its outbox row, then the process dies before relaying
    await producer_rt.start(consume=False, relay=False)
    async with producer_rt.db.transaction() as s:
        await producer_rt.outbox.put(s, issued(cid))
    await producer_rt.stop()

    # a new process: its relay publishes, but crashes after Kafka accepted and before the rows were deleted
    crashes = {"left": 1}

    async def crash_once(_ids: list[uuid.UUID]) -> None:
        if crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("relay killed between publish and commit")

    restarted = ServiceRuntime(producer_rt.settings, configure_logs=False)
    async with consumer_rt.running(relay=False), restarted.running(consume=False, relay=False):
        from pfdo_plumbing.outbox import OutboxRelay

        relay = OutboxRelay(restarted.db, restarted.producer, service="registry", idle_interval_s=0.02, after_publish=crash_once)
        relay.start()
        try:
            assert await seen(consumer_rt, cid) == 1
            # the crashed batch was sent again (at-least-once) and the inbox kept the effect single
            await asyncio.sleep(1.5)
            assert relay.published == 1
            assert await relay.pending() == 0
            assert await seen(consumer_rt, cid) == 1
            async with consumer_rt.db.transaction() as s:
                assert await s.scalar(text("SELECT count(*) FROM inbox")) == 1
        finally:
            await relay.stop()


async def test_duplicate_delivery_has_one_effect_and_malformed_goes_to_dlq(infra, databases, auth) -> None:
    namespace, producer_rt, consumer_rt = await make_pair(infra, databases, auth)
    names = TopicNames(namespace)
    topic = names.name(CERTIFICATES)
    first, second = uuid.uuid4(), uuid.uuid4()
    envelope = producer_rt.outbox.envelope(issued(first))
    body = orjson.dumps(envelope.model_dump(mode="json"))
    later = orjson.dumps(producer_rt.outbox.envelope(issued(second)).model_dump(mode="json"))
    key = str(first).encode()

    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for value in (body, body, b"{not json", orjson.dumps({"specversion": "1.0", "type": "x"}), later, body):
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()

    async with consumer_rt.running(relay=False):
        assert await seen(consumer_rt, second) == 1
        assert await seen(consumer_rt, first) == 1

    dlq = AIOKafkaConsumer(
        names.dead_letter("billing"), bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest",
        group_id=f"{namespace}dlq-reader",
    )
    await dlq.start()
    try:
        batch = await dlq.getmany(timeout_ms=5000)
        records = [r for rs in batch.values() for r in rs]
    finally:
        await dlq.stop()
    assert [r.value for r in records] == [b"{not json", orjson.dumps({"specversion": "1.0", "type": "x"})]
    headers = dict(records[0].headers)
    assert headers["x-dlq-original-topic"].decode() == topic
    assert headers["x-dlq-consumer"] == b"billing"
    assert b"envelope" in headers["x-dlq-error"]


async def test_copies_of_an_event_within_one_batch_unit_have_one_effect(infra, databases, auth) -> None:
    """A batch handler gets consecutive events of its type in one unit: copies of one event in
    that unit (a producer retry written twice), and copies of events claimed by an earlier unit,
    reach it once."""
    namespace = new_namespace()
    await ensure_topics(infra.kafka_bootstrap, TopicNames(namespace), {t.producer for t in ALL_TOPICS} | {"billing"}, 1)
    rt = await runtime("billing", infra, databases, auth, namespace)
    handed: list[uuid.UUID] = []

    @rt.consumer.on_batch(CertificateIssued)
    async def take(session, batch) -> None:  # noqa: ANN001
        handed.extend(event.certificate_id for event, _env in batch)

    certificates = [uuid.uuid4() for _ in range(4)]
    bodies = [orjson.dumps(rt.outbox.envelope(issued(c)).model_dump(mode="json")) for c in certificates]
    first, second, third, fourth = bodies
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=50)
    await producer.start()
    try:
        sent = [await producer.send(TopicNames(namespace).name(CERTIFICATES), value=v, key=b"one")
                for v in (first, second, first, second, third)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    async with rt.running(relay=False):
        deadline = asyncio.get_running_loop().time() + 30
        while len(set(handed)) < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        # copies of events claimed by an earlier unit, then a new one behind them on the partition:
        # once the new one is handed over, the copies were seen and dropped
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
        await producer.start()
        try:
            for v in (third, first, fourth):
                await producer.send_and_wait(TopicNames(namespace).name(CERTIFICATES), value=v, key=b"one")
        finally:
            await producer.stop()
        while certificates[3] not in handed and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
    assert sorted(handed) == sorted(certificates)
    async with rt.db.transaction() as s:
        assert await s.scalar(text("SELECT count(*) FROM inbox")) == 4


async def test_a_run_of_together_events_shares_a_transaction_and_a_bad_one_spoils_none(infra, databases, auth) -> None:
    """``on(..., together=True)``: consecutive events of the type are handled in one transaction,
    each under its own correlation id; when one of them fails, the run is applied again one event
    at a time, so the others take effect once and only the bad one is dead-lettered."""
    from pfdo_plumbing import context

    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS} | {"billing"}, 1)
    rt = await runtime("billing", infra, databases, auth, namespace, consumer_retries=1)
    async with rt.db.transaction() as s:
        await s.execute(text("CREATE TABLE handled (certificate_id uuid, tx bigint, correlation text)"))
    bad = uuid.uuid4()

    @rt.consumer.on(CertificateIssued, together=True)
    async def handle(session, event, envelope) -> None:  # noqa: ANN001
        if event.certificate_id == bad:
            raise ValueError("this one cannot be handled")
        await session.execute(text("INSERT INTO handled VALUES (:c, txid_current(), :k)"),
                              {"c": event.certificate_id, "k": context.correlation_id()})

    async def send(certificates: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        envelopes = {c: rt.outbox.envelope(issued(c)) for c in certificates}
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=50)
        await producer.start()
        try:
            await asyncio.gather(*[await producer.send(
                names.name(CERTIFICATES), value=orjson.dumps(e.model_dump(mode="json")), key=b"one")
                for e in envelopes.values()])
        finally:
            await producer.stop()
        return {c: e.correlationid for c, e in envelopes.items()}

    async def rows() -> list:
        async with rt.db.transaction() as s:
            return list(await s.execute(text("SELECT certificate_id, tx, correlation FROM handled")))

    async def until(count: int) -> list:
        deadline = asyncio.get_running_loop().time() + 30
        while len(found := await rows()) < count and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return found

    run = [uuid.uuid4() for _ in range(6)]
    correlations = await send(run)
    async with rt.running(relay=False):
        first = await until(6)
        assert sorted(r.certificate_id for r in first) == sorted(run)
        assert len({r.tx for r in first}) < len(run), "a run of together events shares its transaction"
        assert {r.certificate_id: r.correlation for r in first} == correlations

        spoiled = [uuid.uuid4(), uuid.uuid4(), bad, uuid.uuid4()]
        await send(spoiled)
        found = await until(9)
        await asyncio.sleep(1.0)
        found = await rows()
    assert sorted(r.certificate_id for r in found) == sorted(run + [c for c in spoiled if c != bad])

    dlq = AIOKafkaConsumer(names.dead_letter("billing"), bootstrap_servers=infra.kafka_bootstrap,
                           auto_offset_reset="earliest", group_id=f"{namespace}dlq-reader")
    await dlq.start()
    try:
        records = [r for rs in (await dlq.getmany(timeout_ms=5000)).values() for r in rs]
    finally:
        await dlq.stop()
    assert [orjson.loads(r.value)["data"]["certificate_id"] for r in records] == [str(bad)]


async def test_a_processed_fetch_is_not_kept_alive_after_its_commit(infra, databases, auth) -> None:
    """Once a fetch is handled and its offsets committed, none of its records stays in memory.

    A commit arms a timer for the broker's request timeout; a timer keeps the context it was
    armed in, the handled message included, for that long even when cancelled. Committed from
    the handler's context, every fetch of a flood stayed alive for 40 s (billing outgrew its
    memory bound), and the first fetch a new database connection served, for the 300 s of the
    driver's statement cache; the consumer works and commits in an empty context instead."""
    import gc

    from aiokafka.structs import ConsumerRecord

    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS} | {"billing"}, 1)
    rt = await runtime("billing", infra, databases, auth, namespace)
    handled: list[uuid.UUID] = []

    @rt.consumer.on_batch(CertificateIssued)
    async def take(session, batch) -> None:  # noqa: ANN001
        handled.extend(event.certificate_id for event, _env in batch)

    topic = names.name(CERTIFICATES)

    def records_alive() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is ConsumerRecord and o.topic == topic)

    async with rt.running(relay=False):
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, linger_ms=20)
        await producer.start()
        try:
            for _ in range(3):  # a few fetches, each committed
                await asyncio.gather(*[await producer.send(
                    topic, value=orjson.dumps(rt.outbox.envelope(issued()).model_dump(mode="json")),
                    key=str(i).encode()) for i in range(50)])
                await asyncio.sleep(0.5)
        finally:
            await producer.stop()
        deadline = asyncio.get_running_loop().time() + 30
        while len(handled) < 150 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        assert len(handled) == 150
        # the consumer has gone back to polling an empty topic (its last fetch is let go then)
        await asyncio.sleep(1.5)
        alive = records_alive()
    assert alive == 0, f"{alive} records of handled fetches are still in memory"


async def test_a_commit_wakes_the_idle_relay_at_once(infra, databases, auth) -> None:  # noqa: ANN001
    """An idle relay polls seldom (here every 30 s); an event committed through the outbox
    writer of the same process still reaches Kafka at once, because the commit wakes it."""
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    rt = await runtime("registry", infra, databases, auth, namespace, relay_idle_interval_s=30.0)
    reader = AIOKafkaConsumer(names.name(CERTIFICATES), bootstrap_servers=infra.kafka_bootstrap,
                              auto_offset_reset="earliest", group_id=f"{namespace}reader")
    await reader.start()
    try:
        async with rt.running(consume=False):
            await asyncio.sleep(1.0)  # the relay found nothing and waits for its next poll
            cid = uuid.uuid4()
            async with rt.db.transaction() as s:
                await rt.outbox.put(s, issued(cid))
            committed = asyncio.get_running_loop().time()
            received = None
            while received is None and asyncio.get_running_loop().time() - committed < 10:
                for records in (await reader.getmany(timeout_ms=500)).values():
                    received = next((r for r in records if orjson.loads(r.value)["data"]["certificate_id"] == str(cid)),
                                    received)
            took = asyncio.get_running_loop().time() - committed
    finally:
        await reader.stop()
    assert received is not None, "the event was not relayed within 10 s (the relay waited for its poll)"
    assert took < 5, f"the event took {took:.1f} s to reach Kafka"


async def test_the_consumer_lag_gauge_counts_down_to_zero(infra, databases, auth) -> None:  # noqa: ANN001
    """``pfdo_consumer_lag``: after each fetch the consumer has applied, the messages still behind
    on that partition (by the log end its fetch saw); zero once it has caught up."""
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS} | {"billing"}, 1)
    producer_rt = await runtime("registry", infra, databases, auth, namespace)
    consumer_rt = await runtime("billing", infra, databases, auth, namespace, consumer_max_records=5)
    topic = names.name(CERTIFICATES)
    total = 40

    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for _ in range(total):  # one key: one partition, in order
            sent = await producer.send_and_wait(
                topic, value=orjson.dumps(producer_rt.outbox.envelope(issued()).model_dump(mode="json")), key=b"k")
    finally:
        await producer.stop()

    def lag() -> float | None:
        return REGISTRY.get_sample_value(
            "pfdo_consumer_lag", {"service": "billing", "topic": topic, "partition": str(sent.partition)})

    observed: list[float | None] = []

    @consumer_rt.consumer.on(CertificateIssued)
    async def watch(session, event, envelope) -> None:  # noqa: ANN001
        observed.append(lag())

    async with consumer_rt.running(relay=False):
        deadline = asyncio.get_running_loop().time() + 30
        while (len(observed) < total or lag() != 0) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)

    assert len(observed) == total
    assert observed[0] is None  # the first fetch is still being applied: nothing reported yet
    reported = [v for v in observed if v is not None]
    assert reported == sorted(reported, reverse=True)  # it only counts down
    assert reported[0] >= total - 2 * 5  # the first report: at most two fetches of 5 applied
    assert lag() == 0
