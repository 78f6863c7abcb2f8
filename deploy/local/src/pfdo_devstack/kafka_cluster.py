"""Cluster mode: several KRaft nodes of the same broker version on loopback ports.

Each node is a combined broker+controller (``process.roles=broker,controller``) with a static
voter list of all nodes (``controller.quorum.voters``), so the cluster keeps its metadata quorum
and every replicated partition with one node down. Internal topics (consumer offsets,
transaction state, share-group state) get replication factor 3 and min ISR 2; the services create
their own topics from the contracts with RF 3 / ``min.insync.replicas`` 2
(``PFDO_KAFKA_REPLICATION_FACTOR=3``).

Ports: node ``i`` (1-based) listens on ``kafka_port + 2*(i-1)`` and its controller on the next
port, so the dev stack's 3-node cluster uses 9092..9097 and its bootstrap list is
``127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096``. Folders: ``<stack>/kafka-cluster/node-<i>``.

    cluster = KafkaCluster(config.replace(kafka_brokers=3))
    cluster.start()
    cluster.stop_node(2, kill=True)   # SIGKILL one broker (a crash); kill=False: controlled shutdown
    cluster.start_node(2)             # back, caught up, ready
    cluster.stop()
"""

from __future__ import annotations

import base64
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .config import StackConfig
from .kafka import KafkaBroker, ensure_jars
from .proc import StackError, say

CLUSTER_DIR = "kafka-cluster"
_BROKERS_FILE = "brokers"
_CLUSTER_ID_FILE = "cluster.id"


def cluster_home(config: StackConfig) -> Path:
    return config.stack_dir / CLUSTER_DIR


def replication_factor(brokers: int) -> int:
    """Replication factor for topics on a cluster of ``brokers`` nodes (3 from three nodes on)."""
    return max(1, min(3, brokers))


def min_insync_replicas(brokers: int) -> int:
    """min.insync.replicas that still lets one node fail: 2 with RF 3, else 1."""
    return max(1, replication_factor(brokers) - 1)


def recorded_brokers(config: StackConfig) -> int | None:
    """The size of the cluster last started in this stack folder and not yet stopped, if any."""
    try:
        n = int((cluster_home(config) / _BROKERS_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return n if n > 1 else None


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (as Kafka's Uuid)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):  # Kafka rejects ids that look like command-line options
            return cid


class KafkaCluster:
    """``size`` KRaft nodes (default ``config.kafka_brokers``, at least 2) started and stopped together."""

    def __init__(self, config: StackConfig, size: int | None = None) -> None:
        size = size or config.kafka_brokers
        if size < 2:
            raise ValueError("a Kafka cluster needs at least 2 nodes (use KafkaBroker for one)")
        self.config = config
        self.size = size
        host = config.host
        ports = [(config.kafka_port + 2 * i, config.kafka_port + 2 * i + 1) for i in range(size)]
        voters = ",".join(f"{i + 1}@{host}:{ctrl}" for i, (_, ctrl) in enumerate(ports))
        rf, min_isr = replication_factor(size), min_insync_replicas(size)
        props = {
            "default.replication.factor": str(rf),
            "min.insync.replicas": str(min_isr),
            "offsets.topic.replication.factor": str(rf),
            "transaction.state.log.replication.factor": str(rf),
            "transaction.state.log.min.isr": str(min_isr),
            "share.coordinator.state.topic.replication.factor": str(rf),
            "share.coordinator.state.topic.min.isr": str(min_isr),
            "unclean.leader.election.enable": "false",
            # a crashed node is fenced (and leaves the ISRs) after this long without heartbeats
            "broker.session.timeout.ms": "6000",
            "broker.heartbeat.interval.ms": "1000",
        }
        self.nodes: list[KafkaBroker] = [
            KafkaBroker(
                config,
                node_id=i + 1,
                home_dir=self.home / f"node-{i + 1}",
                broker_port=broker,
                broker_controller_port=ctrl,
                quorum_voters=voters,
                extra_properties=dict(props),
            )
            for i, (broker, ctrl) in enumerate(ports)
        ]

    # ---- information ---------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return cluster_home(self.config)

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes)

    @property
    def replication_factor(self) -> int:
        return replication_factor(self.size)

    @property
    def min_insync_replicas(self) -> int:
        return min_insync_replicas(self.size)

    @property
    def port(self) -> int:
        return self.nodes[0].port

    @property
    def pid(self) -> int | None:
        """The pid of the first running node (for status lines); see ``nodes`` for each."""
        return next((n.pid for n in self.nodes if n.is_running()), None)

    @property
    def log_file(self) -> Path:
        return self.nodes[0].log_file

    @property
    def stdout_file(self) -> Path:
        return self.nodes[0].stdout_file

    def node(self, node_id: int) -> KafkaBroker:
        if not 1 <= node_id <= self.size:
            raise StackError(f"no Kafka node {node_id}: the cluster has nodes 1..{self.size}")
        return self.nodes[node_id - 1]

    def is_running(self) -> bool:
        return any(n.is_running() for n in self.nodes)

    def is_ready(self) -> bool:
        return all(n.is_ready() for n in self.nodes)

    def running_nodes(self) -> list[int]:
        return [n.node_id for n in self.nodes if n.is_running()]

    # ---- lifecycle ---------------------------------------------------------------------------
    def _cluster_id(self) -> str:
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / _CLUSTER_ID_FILE
        if path.exists():
            return path.read_text().strip()
        cid = new_cluster_id()
        path.write_text(cid + "\n")
        return cid

    def start(self, *, timeout: float = 120.0) -> None:
        """Start every node that is not running (in parallel) and wait until all are ready."""
        started = time.monotonic()
        libs = ensure_jars(self.config)
        cid = self._cluster_id()
        (self.home / _BROKERS_FILE).write_text(f"{self.size}\n")
        todo = [n for n in self.nodes if not n.is_running()]
        for node in self.nodes:
            node.cluster_id = cid
        for node in todo:
            node.prepare(libs)
        say(f"kafka cluster: {self.size} KRaft nodes, cluster id {cid}, bootstrap {self.bootstrap}")
        # formatting is one short JVM per node: run them side by side
        with ThreadPoolExecutor(max_workers=len(todo) or 1) as pool:
            list(pool.map(lambda n: None if n._formatted() else n._format(libs), todo))
        try:
            for node in todo:
                node.launch(libs=libs, prepared=True)
            deadline = time.monotonic() + timeout
            for node in self.nodes:
                node.wait_ready(timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop(kill=True)
            raise
        say(f"kafka cluster: {self.size} nodes ready ({time.monotonic() - started:.1f}s)")

    def stop(self, *, timeout: float = 30.0, kill: bool = False) -> None:
        """Stop all nodes at once (one after another would leave the last without a quorum for
        its controlled shutdown)."""
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            errors = [f for f in [pool.submit(n.stop, timeout=timeout, kill=kill) for n in self.nodes]]
        failures = [str(f.exception()) for f in errors if f.exception() is not None]
        if failures:
            raise StackError("kafka cluster: " + "; ".join(failures))
        (self.home / _BROKERS_FILE).unlink(missing_ok=True)

    def stop_node(self, node_id: int, *, kill: bool = False, timeout: float = 30.0) -> None:
        """Stop one node: SIGTERM and a controlled shutdown, or with ``kill=True`` SIGKILL (a crash)."""
        self.node(node_id).stop(kill=kill, timeout=timeout)

    def start_node(self, node_id: int, *, timeout: float = 90.0) -> None:
        """(Re)start one node of a formatted cluster and wait until it is ready."""
        node = self.node(node_id)
        node.cluster_id = self._cluster_id()
        node.start(timeout=timeout)
