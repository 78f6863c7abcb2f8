"""A service that starts before the producer of a topic it consumes still gets that topic's
events at once, and the topic is the contract's, over the real Kafka broker.

Before: FastStream created the missing topic at subscription with 1 partition and 1 replica
(the producer's creation then found it existing), and without that a subscriber would get no
partition of a topic created after it subscribed until its metadata refresh (five minutes)."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from pfdo_contracts.events.registry import CertificateIssued
from pfdo_contracts.topics import CERTIFICATES
from pfdo_plumbing.kafka.topics import TopicNames
from pfdo_testkit import new_namespace

from .test_outbox_inbox_dlq import issued, runtime

pytestmark = pytest.mark.integration


async def test_a_consumer_started_before_the_producer_gets_its_events_at_once(infra, databases, auth) -> None:  # noqa: ANN001
    namespace = new_namespace()  # nothing exists here: registry, the producer, never started
    names = TopicNames(namespace)
    rt = await runtime("billing", infra, databases, auth, namespace)
    handled: list[uuid.UUID] = []

    @rt.consumer.on(CertificateIssued)
    async def take(session, event, envelope) -> None:  # noqa: ANN001
        handled.append(event.certificate_id)

    async with rt.running(relay=False):
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            described = await admin.describe_topics([names.name(CERTIFICATES)])
        finally:
            await admin.close()
        assert len(described[0]["partitions"]) == CERTIFICATES.partitions  # the contract's topic
        cid = uuid.uuid4()
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(names.name(CERTIFICATES), key=str(cid).encode(),
                                         value=orjson.dumps(rt.outbox.envelope(issued(cid)).model_dump(mode="json")))
        finally:
            await producer.stop()
        deadline = asyncio.get_running_loop().time() + 20
        while cid not in handled and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)
    assert handled == [cid], "the consumer had no partition of the topic created after it subscribed"
