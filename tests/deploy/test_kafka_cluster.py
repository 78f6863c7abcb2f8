"""Cluster mode of the local runner: three KRaft nodes, RF 3 / min ISR 2, one broker lost and back.

Starts its own 3-node cluster (private folder, free ports) from the shared jar cache: the topics
are created the way the services create them (plumbing ``ensure_topics`` from the contracts with
replication factor 3), an idempotent acks=all producer writes, one node is SIGKILLed, writing and
reading go on, and the node comes back into every ISR.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import socket
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from pfdo_contracts.topics import ATTENDANCE, consumed_by, produced_by
from pfdo_devstack.cli import _parser
from pfdo_devstack.config import StackConfig
from pfdo_devstack.kafka_cluster import KafkaCluster, recorded_brokers
from pfdo_devstack.proc import pid_alive
from pfdo_devstack.services import service_env
from pfdo_devstack.stack import Stack
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _free_port_run(count: int) -> int:
    """A port p with p .. p+count-1 all free on 127.0.0.1."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count > 65535:
            continue
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no run of free ports")


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


# ---- configuration (no processes) ----------------------------------------------------------------
def test_cluster_configuration_and_settings() -> None:
    cfg = StackConfig.from_env({"PFDO_KAFKA_BROKERS": "3"})
    assert cfg.kafka_brokers == 3
    assert cfg.kafka_bootstrap == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    cluster = KafkaCluster(cfg)
    assert [(n.node_id, n.port, n.controller_port) for n in cluster.nodes] == [
        (1, 9092, 9093), (2, 9094, 9095), (3, 9096, 9097)
    ]
    assert len({n.home for n in cluster.nodes}) == 3
    for node in cluster.nodes:
        kv = _props(node.server_properties())
        assert kv["process.roles"] == "broker,controller"
        assert kv["node.id"] == str(node.node_id)
        assert kv["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
        assert kv["listeners"] == f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}"
        for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                    "share.coordinator.state.topic.replication.factor", "default.replication.factor"):
            assert kv[key] == "3", key
        for key in ("transaction.state.log.min.isr", "share.coordinator.state.topic.min.isr", "min.insync.replicas"):
            assert kv[key] == "2", key
    # services are told to create topics with RF 3 (the plumbing caps it at the broker count)
    env = service_env(cfg, "billing", base={})
    assert env["PFDO_KAFKA_REPLICATION_FACTOR"] == "3"
    assert env["PFDO_KAFKA_BOOTSTRAP"] == cfg.kafka_bootstrap
    # the single-node path is unchanged
    single = StackConfig.from_env({})
    assert single.kafka_brokers == 1 and single.kafka_bootstrap == "127.0.0.1:9092"
    assert service_env(single, "billing", base={})["PFDO_KAFKA_REPLICATION_FACTOR"] == "1"
    assert type(Stack(single.replace(stack_dir=single.stack_dir / "nonexistent")).kafka).__name__ == "KafkaBroker"
    # the CLI knows the option and the one-node commands
    args = _parser().parse_args(["--config", "tests", "up", "--kafka-brokers", "3"])
    assert args.kafka_brokers == 3
    assert _parser().parse_args(["infra-up", "--kafka-brokers", "3"]).kafka_brokers == 3
    args = _parser().parse_args(["kafka-stop", "2", "--kill"])
    assert (args.cmd, args.node, args.kill) == ("kafka-stop", 2, True)
    assert _parser().parse_args(["kafka-start", "2"]).node == 2
    with pytest.raises(ValueError):
        KafkaCluster(single)


# ---- a real cluster ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    base = StackConfig.for_tests()
    config = base.replace(
        stack_dir=base.stack_dir.with_name(f"kafka-cluster-test-{os.getpid()}"),
        kafka_port=_free_port_run(6),
        kafka_brokers=3,
    )
    shutil.rmtree(config.stack_dir, ignore_errors=True)
    cluster = KafkaCluster(config)
    atexit.register(cluster.stop, kill=True)  # a session that dies without teardown leaves no JVM
    started = time.monotonic()
    try:
        cluster.start(timeout=120)
        cluster.started_in = time.monotonic() - started  # type: ignore[attr-defined]
        yield cluster
    finally:
        pids = [n.pid for n in cluster.nodes]
        cluster.stop(kill=True)
        assert not any(pid_alive(p) for p in pids if p)
        assert recorded_brokers(config) is None
        shutil.rmtree(config.stack_dir, ignore_errors=True)
        atexit.unregister(cluster.stop)


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> list[dict]:
    [meta] = await admin.describe_topics([topic])
    return sorted(meta["partitions"], key=lambda p: p["partition"])


async def _wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = await predicate()
        except KafkaError as exc:  # a request that went to the node being down: ask again
            last = exc
        else:
            if last:
                return last
        await asyncio.sleep(0.5)
    raise AssertionError(f"{what}: not reached within {timeout:.0f}s (last: {last})")


async def test_three_nodes_replicate_and_survive_the_loss_of_one(cluster: KafkaCluster) -> None:
    bootstrap = cluster.bootstrap
    assert bootstrap.count(",") == 2
    # a Stack in the same folder finds the running cluster without being told (status/down/CLI)
    found = Stack(cluster.config.replace(kafka_brokers=1))
    assert isinstance(found.kafka, KafkaCluster) and found.config.kafka_bootstrap == bootstrap
    assert [name for name, _, _ in found.parts()][:3] == ["kafka-1", "kafka-2", "kafka-3"]

    # topics exactly as the navigator creates them at start: from the contracts, RF 3
    names = TopicNames(f"t{uuid.uuid4().hex[:8]}.")
    created = await ensure_topics(bootstrap, names, {"navigator"}, 3)
    topic = names.name(ATTENDANCE)
    uses = {t.name for t in produced_by("navigator") + consumed_by("navigator")}
    assert topic in created and len(created) == len(uses) + 1  # the topics it produces and consumes, + dead letters

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, request_timeout_ms=30000,
    )
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"{names.namespace}g", auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        assert len((await admin.describe_cluster())["brokers"]) == 3
        async def all_partitions_in_sync() -> list[dict] | None:
            # a fresh topic's metadata reaches every broker a moment after creation
            found = await _partitions(admin, topic)
            complete = len(found) == ATTENDANCE.partitions and all(len(p["isr"]) == 3 for p in found)
            return found if complete else None

        parts = await _wait_for(all_partitions_in_sync, timeout=30, what="topic metadata on all brokers")
        assert len(parts) == ATTENDANCE.partitions
        assert all(sorted(p["replicas"]) == [1, 2, 3] and sorted(p["isr"]) == [1, 2, 3] for p in parts)

        async def topic_min_isr() -> str | None:
            # any broker may answer, and one that has not yet applied the topic's records answers with
            # no entries (seen once in a run of the CI command: the key was missing although every
            # ISR was full), so ask again
            [resp] = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, {"min.insync.replicas": None})]
            )
            entries = {e[0]: e[1] for r in resp.resources if r[0] == 0 for e in r[4]}
            return entries.get("min.insync.replicas")

        assert await _wait_for(topic_min_isr, timeout=30, what="the topic's config on the answering broker") == "2"

        await producer.start()
        sent: set[bytes] = set()

        async def send(i: int) -> None:
            value = f"mark-{i}".encode()
            await producer.send_and_wait(topic, value, key=f"cert-{i % 50}".encode())
            sent.add(value)

        for i in range(200):
            await send(i)

        # crash the node leading partition 0 (it leads some partitions: their leaders must move)
        victim = parts[0]["leader"]
        killed_at = time.monotonic()
        cluster.stop_node(victim, kill=True)
        assert not cluster.node(victim).is_running()
        assert sorted(cluster.running_nodes()) == sorted({1, 2, 3} - {victim})

        # acks=all with min ISR 2 goes on with two of three replicas once the crashed node is fenced
        for i in range(200, 400):
            await asyncio.wait_for(send(i), timeout=45)
        failover_s = time.monotonic() - killed_at

        async def leaders_moved():
            ps = await _partitions(admin, topic)
            return all(p["leader"] != victim and victim not in p["isr"] for p in ps) and ps
        await _wait_for(leaders_moved, timeout=30, what="leaders off the crashed node")

        # a consumer group (offsets topic RF 3) reads everything, once
        await consumer.start()
        seen: list[bytes] = []
        deadline = time.monotonic() + 60
        while len(set(seen)) < len(sent) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000)
            seen += [m.value for msgs in batch.values() for m in msgs]
        await consumer.commit()
        assert set(seen) == sent and len(seen) == len(sent) == 400

        # the node comes back and catches up into every ISR
        cluster.start_node(victim, timeout=90)
        assert cluster.is_ready() and sorted(cluster.running_nodes()) == [1, 2, 3]

        async def isr_full():
            ps = await _partitions(admin, topic)
            return all(sorted(p["isr"]) == [1, 2, 3] for p in ps) and ps
        await _wait_for(isr_full, timeout=60, what=f"node {victim} back in every ISR")
        await send(400)
        print(f"\ncluster start {cluster.started_in:.1f}s, produce failover {failover_s:.1f}s")  # type: ignore[attr-defined]
    finally:
        await producer.stop()
        await consumer.stop()
        await admin.close()
