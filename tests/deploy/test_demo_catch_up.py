"""``up`` waits until the navigator and billing have read the demo region: how far behind a
consumer group is, over the real Kafka broker, and the producer's outbox from its readiness
answer."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupAuthorizationFailedError, GroupCoordinatorNotAvailableError

from pfdo_contracts.topics import ALL_TOPICS, CERTIFICATES, PROGRAMS, Topic
from pfdo_devstack.catch_up import events_behind, outbox_pending, wait_caught_up
from pfdo_devstack.proc import StackError
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace

pytestmark = pytest.mark.integration


async def _published(bootstrap: str, producers: set[str], counts: list[tuple[Topic, int]]) -> TopicNames:
    """A fresh namespace with the topics of ``producers``, and ``counts`` records on some of them."""
    names = TopicNames(new_namespace())
    await ensure_topics(bootstrap, names, producers, 1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for topic, count in counts:
            for i in range(count):
                await producer.send_and_wait(names.name(topic), value=b"{}", key=f"{topic.name}-{i}".encode())
    finally:
        await producer.stop()
    return names


async def test_events_behind_counts_what_each_group_has_not_committed(infra) -> None:  # noqa: ANN001
    every_producer = {t.producer for t in ALL_TOPICS}
    names = await _published(infra.kafka_bootstrap, every_producer, [(CERTIFICATES, 30), (PROGRAMS, 12)])
    namespace = names.namespace

    # nobody has read anything: both read certificates and programs
    assert await events_behind(infra.kafka_bootstrap, namespace, "registry", ["navigator", "billing"]) == {
        "navigator": 42, "billing": 42}

    # the navigator's group reads and commits every certificate, and nothing of the programs
    reader = AIOKafkaConsumer(names.name(CERTIFICATES), bootstrap_servers=infra.kafka_bootstrap,
                              group_id=names.group("navigator"), auto_offset_reset="earliest",
                              enable_auto_commit=False)
    await reader.start()
    try:
        read = 0
        while read < 30:
            batch = await reader.getmany(timeout_ms=2000)
            read += sum(len(records) for records in batch.values())
        await reader.commit()
    finally:
        await reader.stop()
    assert await events_behind(infra.kafka_bootstrap, namespace, "registry", ["navigator", "billing"]) == {
        "navigator": 12, "billing": 42}

    # a producer with no topics read by the consumer named: nothing to wait for
    assert await events_behind(infra.kafka_bootstrap, namespace, "ratings", ["billing"]) == {"billing": 0}


async def test_events_behind_asks_again_while_the_group_coordinator_is_not_known(infra, monkeypatch) -> None:  # noqa: ANN001
    """Seen on a test broker started by hand: the offsets request was answered "coordinator not
    available" (retriable) on every run, and ``make up``'s wait would have ended with it."""
    namespace = (await _published(infra.kafka_bootstrap, {"registry"}, [(CERTIFICATES, 5)])).namespace

    real = AIOKafkaAdminClient.list_consumer_group_offsets
    answers = [GroupCoordinatorNotAvailableError, GroupCoordinatorNotAvailableError]

    async def flaky(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if answers:
            raise answers.pop(0)()
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(AIOKafkaAdminClient, "list_consumer_group_offsets", flaky)
    assert await events_behind(infra.kafka_bootstrap, namespace, "registry", ["navigator"]) == {"navigator": 5}
    assert answers == []

    # an error that asking again does not cure is not hidden
    answers.append(GroupAuthorizationFailedError)
    with pytest.raises(GroupAuthorizationFailedError):
        await events_behind(infra.kafka_bootstrap, namespace, "registry", ["navigator"])


class _Ready(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict]] = []

    def do_GET(self) -> None:  # noqa: N802
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ready_server() -> Iterator[tuple[str, type[_Ready]]]:
    handler = type("Ready", (_Ready,), {"answers": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/registry/ready", handler
    finally:
        server.shutdown()
        server.server_close()


def test_outbox_pending_is_read_from_the_readiness_answer_even_when_not_ready(ready_server) -> None:  # noqa: ANN001
    url, handler = ready_server
    handler.answers = [(200, {"status": "ready", "checks": {"outbox_pending": 3}})]
    assert outbox_pending(url) == 3
    handler.answers = [(503, {"status": "not_ready", "checks": {"kafka": "down", "outbox_pending": 7}})]
    assert outbox_pending(url) == 7
    handler.answers = [(200, {"status": "ready", "checks": {}})]
    assert outbox_pending(url) is None
    assert outbox_pending("http://127.0.0.1:9/nothing-listens-here") is None


def test_waiting_says_how_far_behind_and_gives_up_with_what_to_do(ready_server, infra) -> None:  # noqa: ANN001
    url, handler = ready_server
    handler.answers = [(200, {"status": "ready", "checks": {"outbox_pending": 5}})]
    said: list[str] = []
    with pytest.raises(StackError, match="5 still in its outbox.*make logs"):
        wait_caught_up(bootstrap=infra.kafka_bootstrap, namespace=new_namespace(), producer="registry",
                       ready_url=url, consumers=["navigator"], say=said.append, timeout_s=0.3, every_s=0.1)
    assert said and "5 still in its outbox" in said[0]

    # an empty outbox and topics nobody has written to: caught up at once
    handler.answers = [(200, {"status": "ready", "checks": {"outbox_pending": 0}})]
    assert wait_caught_up(bootstrap=infra.kafka_bootstrap, namespace=new_namespace(), producer="registry",
                          ready_url=url, consumers=["navigator", "billing"], say=said.append, timeout_s=30) < 30
