"""The whole local stack: Kafka, PostgreSQL, the token issuer, the four services, the gateway."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Iterable, Protocol

from .config import SERVICES, STARTED_BY_HAND, StackConfig
from .gateway import Gateway
from .kafka import KafkaBroker, libs_dir
from .kafka_cluster import KafkaCluster, recorded_brokers
from .postgres import PostgresCluster
from .proc import StackError, pid_alive, port_open, say
from .services import ALL_PARTS, AUTH, JWT_AUDIENCE, JWT_ISSUER, ServiceProcess


class Part(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def is_running(self) -> bool: ...
    @property
    def pid(self) -> int | None: ...


@dataclass
class PartStatus:
    name: str
    pid: int | None
    port: int
    running: bool
    answering: bool

    @property
    def state(self) -> str:
        if self.running and self.answering:
            return "up"
        if self.running:
            return "starting/unhealthy"
        return "down"


class Stack:
    def __init__(self, config: StackConfig) -> None:
        if config.kafka_brokers == 1:
            # a cluster started earlier in this folder (up --kafka-brokers 3) and still running is
            # the stack's Kafka, also for commands given without the option (status, down, ...)
            recorded = recorded_brokers(config)
            if recorded and KafkaCluster(config, recorded).is_running():
                config = config.replace(kafka_brokers=recorded)
        self.config = config
        self.kafka: KafkaBroker | KafkaCluster = (
            KafkaCluster(config) if config.kafka_brokers > 1 else KafkaBroker(config)
        )
        self.postgres = PostgresCluster(config)
        self.services = {name: ServiceProcess(name, config) for name in ALL_PARTS}
        self.gateway = Gateway(config)

    # ---- parts ---------------------------------------------------------------------------
    def parts(self) -> list[tuple[str, object, int]]:
        """(name, part, port) in start order."""
        if isinstance(self.kafka, KafkaCluster):
            out: list[tuple[str, object, int]] = [(n.name, n, n.port) for n in self.kafka.nodes]
        else:
            out = [("kafka", self.kafka, self.kafka.port)]
        out.append(("postgres", self.postgres, self.postgres.port))
        out += [(name, svc, int(svc.port)) for name, svc in self.services.items()]  # type: ignore[arg-type]
        out.append(("gateway", self.gateway, self.gateway.listen_port))
        return out

    def part(self, name: str) -> object:
        if name == "kafka":
            return self.kafka
        for n, p, _ in self.parts():
            if n == name or (name == "pg" and n == "postgres"):
                return p
        raise KeyError(f"unknown part {name!r}; parts: {', '.join(n for n, _, _ in self.parts())}")

    # ---- lifecycle -----------------------------------------------------------------------
    def check_prereqs(self, *, install: bool = True) -> None:
        from . import prereqs

        need_maven = not (libs_dir(self.config) / ".complete").exists()
        prereqs.ensure(install=install, need_maven=need_maven)

    def infra_up(self, *, install: bool = True) -> None:
        self.check_prereqs(install=install)
        self.config.stack_dir.mkdir(parents=True, exist_ok=True)
        # a test session finding this stack folder in use leaves it alone (pfdo_devstack.testing)
        (self.config.stack_dir / STARTED_BY_HAND).write_text("started with pfdo-stack; `pfdo-stack down` stops it\n")
        self.kafka.start()
        self.postgres.start()

    def load_demo(self, size: str) -> None:
        """Load the synthetic demo region into the registry (a no-op when it is already there);
        its events reach navigator and billing through Kafka like any other registry change."""
        import subprocess
        import sys

        registry = self.services["registry"]
        say(f"demo: loading the '{size}' demo region into the registry")
        proc = subprocess.run(
            [sys.executable, "-m", "pfdo_devstack.demo_region.load", "--size", size, "--stack-dir", str(self.config.stack_dir)],
            cwd=self.config.repo_root, env=registry.env(), capture_output=True, text=True, timeout=900,
        )
        with open(registry.log_file, "a") as log:
            log.write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise StackError(f"demo data load failed (exit {proc.returncode}); see {registry.log_file}\n{proc.stderr[-2000:]}")
        say(f"demo: accounts for tokens are listed in {self.config.stack_dir / 'demo-accounts.json'}")

    def wait_demo_read(self, running: list[str]) -> None:
        """Return once the running services that read the registry's topics have read the demo
        region: a search right after ``up`` finds its groups."""
        from pfdo_contracts.topics import ALL_TOPICS

        from .catch_up import wait_caught_up

        readers = sorted({c for t in ALL_TOPICS if t.producer == "registry" for c in t.consumers} & set(running))
        if not readers:
            return
        waited = wait_caught_up(
            bootstrap=self.config.kafka_bootstrap, namespace=os.environ.get("PFDO_KAFKA_NAMESPACE", ""),
            producer="registry", ready_url=self.services["registry"].url + "/api/registry/ready",
            consumers=readers, say=lambda text: say(f"demo: {text}"),
        )
        say(f"demo: {' and '.join(readers)} have read the demo region ({waited:.1f} s after loading it)")

    def up(
        self, *, install: bool = True, allow_missing: bool = False, only: Iterable[str] | None = None,
        demo_size: str | None = None,
    ) -> list[str]:
        """Start everything (idempotent). Returns the names of services skipped as missing."""
        started = time.monotonic()
        self.infra_up(install=install)
        wanted = set(only) if only else None
        skipped: list[str] = []
        for name, svc in self.services.items():
            if wanted is not None and name not in wanted and name != AUTH:
                continue
            if not svc.is_running() and not svc.app_available():
                if not allow_missing:
                    raise StackError(f"{name}: {svc.app} is not importable (uv sync?); `up --allow-missing` skips it")
                say(f"{name}: SKIPPED, {svc.app} is not importable yet")
                skipped.append(name)
                continue
            svc.start()
        self.gateway.start()
        if demo_size and demo_size != "none" and "registry" not in skipped and (wanted is None or "registry" in wanted):
            self.load_demo(demo_size)
            self.wait_demo_read([name for name in self.services if name not in skipped
                                 and (wanted is None or name in wanted)])
        say(f"stack '{self.config.name}' up in {time.monotonic() - started:.1f}s")
        return skipped

    def running_parts(self) -> list[str]:
        """The parts of this stack whose process is alive."""
        return [name for name, part, _ in self.parts() if part.is_running()]  # type: ignore[attr-defined]

    def down(self) -> list[str]:
        """Stop everything of this stack in reverse order; returns leftovers (should be empty)."""
        pids: dict[str, int] = {}
        for name, part, _ in self.parts():
            pid = part.pid  # type: ignore[attr-defined]
            if pid and part.is_running():  # type: ignore[attr-defined]
                pids[name] = pid
        errors: list[str] = []
        cluster = self.kafka if isinstance(self.kafka, KafkaCluster) else None
        for name, part, _ in reversed(self.parts()):
            if cluster is not None and part in cluster.nodes:
                continue  # the nodes stop together, below
            try:
                part.stop()  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                errors.append(f"{name}: {exc}")
        if cluster is not None:
            try:
                cluster.stop()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"kafka: {exc}")
        left = [f"{name} (pid {pid})" for name, pid in pids.items() if pid_alive(pid)]
        if errors:
            left += errors
        return left

    def infra_down(self) -> list[str]:
        kafka_parts = self.kafka.nodes if isinstance(self.kafka, KafkaCluster) else [self.kafka]
        pids = {n: p.pid for n, p in [("postgres", self.postgres), *((k.name, k) for k in kafka_parts)] if p.is_running()}
        self.postgres.stop()
        self.kafka.stop()
        return [f"{n} (pid {pid})" for n, pid in pids.items() if pid_alive(pid)]

    def status(self) -> list[PartStatus]:
        rows = []
        for name, part, port in self.parts():
            running = part.is_running()  # type: ignore[attr-defined]
            rows.append(PartStatus(name, part.pid if running else None, port, running,  # type: ignore[attr-defined]
                                   port_open(port, self.config.host)))
        return rows

    # ---- information ---------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        c = self.config
        env = {
            "PFDO_STACK_DIR": str(c.stack_dir),
            "PFDO_KAFKA_BOOTSTRAP": c.kafka_bootstrap,
            "PFDO_KAFKA_BROKERS": str(c.kafka_brokers),
            "PFDO_PG_ADMIN_DSN": f"postgresql://pfdo@{c.host}:{c.pg_port}/postgres",
            "PFDO_GATEWAY_URL": c.gateway_url,
            "PFDO_JWKS_URL": c.jwks_url,
            "PFDO_JWT_ISSUER": JWT_ISSUER,
            "PFDO_JWT_AUDIENCE": JWT_AUDIENCE,
            "PFDO_DEV_KEYS_DIR": str(c.auth_keys_dir),
            "PFDO_AUTH_URL": c.service_url(AUTH),
        }
        for svc in SERVICES:
            env[f"PFDO_{svc.upper()}_URL"] = c.service_url(svc)
            env[f"PFDO_{svc.upper()}_DATABASE_URL"] = c.pg_dsn(svc)
        return env

    def urls(self) -> list[tuple[str, str]]:
        gw = self.config.gateway_url
        # the issuer's token-minting endpoint is not behind the gateway: it answers on its own port
        out = [("portal", f"{gw}/"), ("sign in", f"{gw}/auth/login"), ("gateway", gw), ("documentation", f"{gw}/docs"),
               ("dev tokens", f"POST {self.config.service_url('auth')}/auth/token"),
               ("JWKS", f"{gw}/auth/.well-known/jwks.json")]
        for svc in SERVICES:
            out.append((f"{svc} OpenAPI", f"{gw}/api/{svc}/docs"))
            out.append((f"{svc} AsyncAPI", f"{gw}/api/{svc}/asyncapi.html"))
        out.append(("kafka", self.config.kafka_bootstrap))
        out.append(("postgres", f"postgresql://pfdo@{self.config.host}:{self.config.pg_port}/<db>"))
        return out

    def log_files(self, name: str | None = None) -> list:
        kafka_nodes = self.kafka.nodes if isinstance(self.kafka, KafkaCluster) else [self.kafka]
        files = {
            "kafka": [f for k in kafka_nodes for f in (k.log_file, k.stdout_file)],
            **({k.name: [k.log_file, k.stdout_file] for k in kafka_nodes} if len(kafka_nodes) > 1 else {}),
            "postgres": [self.postgres.log_file],
            "gateway": [self.gateway.error_log, self.gateway.access_log],
        }
        for svc_name, svc in self.services.items():
            files[svc_name] = [svc.log_file]
        if name is None:
            return [f for fs in files.values() for f in fs if f.exists()]
        if name == "pg":
            name = "postgres"
        if name not in files:
            raise StackError(f"unknown part {name!r}; parts: {', '.join(files)}")
        return [f for f in files[name] if f.exists()]
