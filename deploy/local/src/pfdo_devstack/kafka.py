"""A real Apache Kafka broker (KRaft, combined broker+controller) from Maven Central artifacts.

The jars are resolved once with Maven into ``<cache>/kafka-libs-<version>`` (``deploy/local/kafka``
holds the resolver POM and the Log4j2 config); later starts work offline from that cache.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import StackConfig
from .proc import (
    StackError,
    pid_alive,
    port_in_use_error,
    port_open,
    read_pid,
    say,
    start_detached,
    stop_group,
    wait_until,
)

KAFKA_VERSION = "4.1.1"
"""The one place the broker version is pinned (passed to Maven as -Dkafka.version)."""

SCALA_ARTIFACT = "kafka_2.13"
READY_LINE = "Kafka Server started"
_COMPLETE_MARKER = ".complete"


def kafka_resources_dir(config: StackConfig) -> Path:
    return config.repo_root / "deploy" / "local" / "kafka"


def libs_dir(config: StackConfig) -> Path:
    return config.cache_dir / f"kafka-libs-{KAFKA_VERSION}"


def ensure_jars(config: StackConfig) -> Path:
    """Resolve the broker jars with Maven unless the cached folder is complete. Returns the folder."""
    libs = libs_dir(config)
    if (libs / _COMPLETE_MARKER).exists() and (libs / f"{SCALA_ARTIFACT}-{KAFKA_VERSION}.jar").exists():
        return libs
    mvn = shutil.which("mvn")
    if not mvn:
        raise StackError("Maven (mvn) is needed once to download Kafka; run deploy/local/bootstrap.sh")
    pom = kafka_resources_dir(config) / "pom.xml"
    tmp = libs.with_name(libs.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    m2 = config.cache_dir / "m2"
    m2.mkdir(parents=True, exist_ok=True)
    cmd = [
        mvn,
        "-B",
        "-q",
        "-f",
        str(pom),
        f"-Dmaven.repo.local={m2}",
        f"-Dkafka.version={KAFKA_VERSION}",
        "dependency:copy-dependencies",
        f"-DoutputDirectory={tmp}",
    ]
    say(f"resolving Kafka {KAFKA_VERSION} jars with Maven into {libs} (first run downloads ~100 MB) ...")
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        # one retry offline-friendly: maybe only the network flaked
        raise StackError(
            f"Maven could not resolve Kafka {KAFKA_VERSION} (exit {proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    if not (tmp / f"{SCALA_ARTIFACT}-{KAFKA_VERSION}.jar").exists():
        raise StackError(f"Maven finished but {SCALA_ARTIFACT}-{KAFKA_VERSION}.jar is missing in {tmp}")
    (tmp / _COMPLETE_MARKER).write_text(f"{KAFKA_VERSION}\n")
    shutil.rmtree(libs, ignore_errors=True)
    tmp.rename(libs)
    say(f"Kafka jars ready ({len(list(libs.glob('*.jar')))} jars, {time.monotonic() - started:.1f}s)")
    return libs


@dataclass
class KafkaBroker:
    """One KRaft node (``process.roles=broker,controller``). ``node_id`` and ports are parameters
    so a 3-node cluster can later be built from several instances with a shared voter list."""

    config: StackConfig
    node_id: int = 1
    # 1 GB: the test suite's platforms create thousands of partitions, and a metadata request for
    # every topic ran a 512 MB heap out of memory
    heap: str = field(default_factory=lambda: os.environ.get("PFDO_KAFKA_HEAP", "1g"))
    # ---- set by KafkaCluster for its nodes (a lone broker leaves them unset) ---------------
    home_dir: Path | None = None
    broker_port: int | None = None
    broker_controller_port: int | None = None
    quorum_voters: str | None = None
    """``controller.quorum.voters`` of the whole cluster; default: this node alone."""
    cluster_id: str | None = None
    """KRaft cluster id shared by all nodes; default: a fresh one from the StorageTool."""
    extra_properties: dict[str, str] = field(default_factory=dict)
    """server.properties entries that override the single-node defaults."""

    # ---- paths ---------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        if self.home_dir is not None:
            return self.home_dir
        suffix = "" if self.node_id == 1 else f"-{self.node_id}"
        return self.config.stack_dir / f"kafka{suffix}"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def properties_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        """Log4j2 output of the broker."""
        return self.home / "server.log"

    @property
    def stdout_file(self) -> Path:
        return self.home / "kafka.out"

    @property
    def port(self) -> int:
        return self.broker_port or self.config.kafka_port

    @property
    def controller_port(self) -> int:
        return self.broker_controller_port or self.config.controller_port

    @property
    def bootstrap(self) -> str:
        return f"{self.config.host}:{self.port}"

    # ---- config --------------------------------------------------------------------------
    def server_properties(self) -> str:
        host = self.config.host
        props = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": self.quorum_voters or f"{self.node_id}@{host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{host}:{self.port},CONTROLLER://{host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "6",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # services create their topics explicitly (names, partitions and keys live in contracts/)
            "auto.create.topics.enable": "false",
            "delete.topic.enable": "true",
            "log.retention.hours": "168",
            "log.segment.bytes": str(64 * 1024 * 1024),
            "num.network.threads": "3",
            "num.io.threads": "8",
        }
        props.update(self.extra_properties)
        lines = ["# written by pfdo_devstack.kafka; edits are overwritten on start"]
        lines += [f"{k}={v}" for k, v in props.items()]
        return "\n".join(lines) + "\n"

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").exists():
            return str(Path(java_home) / "bin" / "java")
        java = shutil.which("java")
        if not java:
            raise StackError("java (17+) not found; run deploy/local/bootstrap.sh")
        return java

    def _java_cmd(self, libs: Path, main: str, *args: str, heap: str | None = None) -> list[str]:
        log4j = kafka_resources_dir(self.config) / "log4j2.xml"
        return [
            self._java(),
            f"-Xmx{heap or self.heap}",
            f"-Xms{'128m' if heap is None else heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dkafka.log.dir={self.home}",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{libs}/*",
            main,
            *args,
        ]

    # ---- lifecycle -----------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def is_running(self) -> bool:
        return pid_alive(self.pid, marker=str(self.properties_file))

    def is_ready(self) -> bool:
        return self.is_running() and port_open(self.port, self.config.host)

    def _formatted(self) -> bool:
        return (self.data_dir / "meta.properties").exists()

    def _format(self, libs: Path) -> None:
        tool_out = self.home / "storage-tool.log"
        if self.cluster_id:
            self._format_with(libs, self.cluster_id, tool_out)
            return
        uuid = subprocess.run(
            self._java_cmd(libs, "kafka.tools.StorageTool", "random-uuid", heap="128m"),
            capture_output=True,
            text=True,
        )
        cluster_id = uuid.stdout.strip().splitlines()[-1] if uuid.stdout.strip() else ""
        if uuid.returncode != 0 or not cluster_id:
            tool_out.write_text(uuid.stdout + uuid.stderr)
            raise StackError(f"kafka StorageTool random-uuid failed; see {tool_out}")
        self._format_with(libs, cluster_id, tool_out)

    def _format_with(self, libs: Path, cluster_id: str, tool_out: Path) -> None:
        fmt = subprocess.run(
            self._java_cmd(
                libs, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.properties_file), heap="128m"
            ),
            capture_output=True,
            text=True,
        )
        tool_out.write_text(fmt.stdout + fmt.stderr)
        if fmt.returncode != 0:
            raise StackError(f"kafka storage format failed (exit {fmt.returncode}); see {tool_out}:\n{fmt.stdout}{fmt.stderr}")
        say(f"{self.name}: formatted storage, cluster id {cluster_id}")

    @property
    def name(self) -> str:
        return "kafka" if self.home_dir is None else f"kafka-{self.node_id}"

    def start(self, *, timeout: float = 90.0) -> None:
        if self.is_running():
            say(f"{self.name}: already running (pid {self.pid}) on {self.bootstrap}")
            self.wait_ready(timeout=timeout)
            return
        started = time.monotonic()
        self.launch()
        try:
            self.wait_ready(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        say(f"{self.name}: ready on {self.bootstrap} (pid {self.pid}, {time.monotonic() - started:.1f}s)")

    def prepare(self, libs: Path) -> None:
        """Check the ports, write server.properties (no process yet)."""
        for p in (self.port, self.controller_port):
            if port_open(p, self.config.host):
                raise port_in_use_error(p, "Kafka")
        self.home.mkdir(parents=True, exist_ok=True)
        self.properties_file.write_text(self.server_properties())

    def launch(self, *, libs: Path | None = None, prepared: bool = False) -> None:
        """Start the JVM without waiting for readiness (``wait_ready`` does)."""
        libs = libs or ensure_jars(self.config)
        if not prepared:
            self.prepare(libs)
        if not self._formatted():
            self._format(libs)
        # a fresh start: the readiness check reads the log from here on
        self._log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        say(f"{self.name}: starting {KAFKA_VERSION} on {self.bootstrap} (controller {self.controller_port})")
        env = dict(os.environ)
        env.pop("KAFKA_OPTS", None)
        start_detached(
            self._java_cmd(libs, "kafka.Kafka", str(self.properties_file)),
            log_file=self.stdout_file,
            pid_file=self.pid_file,
            env=env,
            cwd=self.home,
        )

    def _log_says_started(self) -> bool:
        offset = getattr(self, "_log_offset", 0)
        try:
            with open(self.log_file, "rb") as f:
                f.seek(offset)
                return READY_LINE.encode() in f.read()
        except OSError:
            return False

    def wait_ready(self, *, timeout: float = 90.0) -> None:
        wait_until(
            lambda: port_open(self.port, self.config.host) and self._log_says_started(),
            timeout=timeout,
            what=self.name,
            log_file=self.log_file if self.log_file.exists() else self.stdout_file,
            alive=self.is_running,
        )

    def stop(self, *, timeout: float = 30.0, kill: bool = False) -> None:
        """SIGTERM (a controlled shutdown) and wait; ``kill=True`` sends SIGKILL at once (a crash)."""
        pid = self.pid
        if pid and self.is_running():  # checks the command line too: a stale pid file is harmless
            say(f"{self.name}: {'killing' if kill else 'stopping'} (pid {pid})")
            stop_group(pid, timeout=timeout, name=self.name, sig=signal.SIGKILL if kill else signal.SIGTERM)
        self.pid_file.unlink(missing_ok=True)
