"""The whole platform for cross-service tests: the four services as real uvicorn processes on
free ports, each with a fresh database, all on one Kafka namespace, behind an nginx gateway; on
request also the regional portal, served by the gateway at ``/``.

The infrastructure (Kafka, PostgreSQL) is given; this module only adds the services and the
gateway, so a test session starts its infrastructure once and platforms as often as it needs.
Processes can be killed (SIGKILL) and restarted, for fault-injection tests.
"""

from __future__ import annotations

import os
import signal
import socket
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .config import SERVICES, StackConfig
from .gateway import Gateway
from .proc import say
from .services import AUTH, PORTAL, ServiceProcess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PlatformUnderTest:
    """Services + gateway for one test (or one module of tests)."""

    kafka_bootstrap: str
    database_url: Callable[[str], str]
    """service name -> SQLAlchemy URL of a fresh (empty or migrated) database for it."""
    jwks_url: str
    issuer: str
    audience: str
    namespace: str = field(default_factory=lambda: f"p{uuid.uuid4().hex[:8]}.")
    services: tuple[str, ...] = SERVICES
    extra_env: Mapping[str, str] = field(default_factory=dict)
    service_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    gateway_variables: Mapping[str, str] = field(default_factory=dict)
    work_dir: Path | None = None
    instances: Mapping[str, int] = field(default_factory=dict)
    """service name -> processes serving it (default 1), each with its own pools and consumer."""
    portal: bool = False
    """Start the regional portal too, with a fresh database ``database_url("portal")`` (the gateway
    answers 502 at ``/`` without it)."""
    dev_keys_dir: str | None = None
    """The signing keys behind ``jwks_url``: with the portal, the development issuer runs too, on
    these keys, as the portal's OpenID Connect provider (people sign in on its page)."""

    def __post_init__(self) -> None:
        base = StackConfig.for_tests()
        ports = {name: free_port() for name in SERVICES}
        self.config = base.replace(
            stack_dir=(self.work_dir or base.stack_dir) / f"platform-{self.namespace.strip('.')}",
            kafka_port=int(self.kafka_bootstrap.rsplit(":", 1)[1]),
            registry_port=ports["registry"], navigator_port=ports["navigator"],
            billing_port=ports["billing"], ratings_port=ports["ratings"], auth_port=free_port(),
            gateway_port=free_port(), portal_port=free_port(),
        )
        self.databases = {name: self.database_url(name) for name in self.services}
        self.processes: dict[str, ServiceProcess] = {name: self._process(name) for name in self.services}
        if self.portal:  # its own database (sessions), and the platform's gateway in front of the API
            self.databases[PORTAL] = self.database_url(PORTAL)
            self.processes[PORTAL] = ServiceProcess(PORTAL, self.config, extra_env={
                "PFDO_PORTAL_DATABASE_URL": self.databases[PORTAL], **self.extra_env,
                **self.service_env.get(PORTAL, {})})
            if self.dev_keys_dir:  # the services accept its tokens: the same keys, issuer and audience
                self.processes[AUTH] = ServiceProcess(AUTH, self.config, extra_env={
                    "PFDO_DEV_KEYS_DIR": self.dev_keys_dir, "PFDO_JWT_ISSUER": self.issuer,
                    "PFDO_JWT_AUDIENCE": self.audience, **self.service_env.get(AUTH, {})})
        self.gateway: Gateway | None = None

    def _process(self, name: str) -> ServiceProcess:
        env = {
            "PFDO_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "PFDO_KAFKA_NAMESPACE": self.namespace,
            "PFDO_DATABASE_URL": self.databases[name],
            "PFDO_JWKS_URL": self.jwks_url,
            "PFDO_JWT_ISSUER": self.issuer,
            "PFDO_JWT_AUDIENCE": self.audience,
            **self.extra_env,
            **self.service_env.get(name, {}),
        }
        return ServiceProcess(name, self.config, extra_env=env, workers=self.instances.get(name, 1))

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self, *, timeout: float = 90.0) -> PlatformUnderTest:
        self.config.stack_dir.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
            for future in [pool.submit(p.start, timeout=timeout) for p in self.processes.values()]:
                future.result()
        self.gateway = Gateway(
            self.config.replace(stack_dir=self.config.stack_dir / "gw"),
            upstreams={name: f"127.0.0.1:{p.port}" for name, p in self.processes.items()},
            variables=dict(self.gateway_variables),
            port=self.config.gateway_port,
        )
        self.gateway.start()
        say(f"platform ready behind {self.gateway_url} (namespace {self.namespace})")
        return self

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        for process in self.processes.values():
            process.stop(timeout=15)

    def kill(self, name: str) -> None:
        """SIGKILL a service's whole process group: no shutdown hooks run."""
        pid = self.processes[name].pid
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def restart(self, name: str, *, timeout: float = 90.0) -> None:
        self.processes[name].stop(timeout=15)
        self.processes[name].start(timeout=timeout)

    # ---- addresses -------------------------------------------------------------------------
    @property
    def gateway_url(self) -> str:
        assert self.gateway is not None, "start() first"
        return self.gateway.url

    def service_url(self, name: str) -> str:
        return self.processes[name].url

    def log(self, name: str, lines: int = 60) -> str:
        return self.processes[name].last_log_lines(lines)

    def logs(self, lines: int = 60) -> str:
        """The last lines of every service's log, each under a heading (printed when a test fails)."""
        return "\n".join(f"--- {name} log ---\n{self.log(name, lines)}" for name in self.processes)

    def __enter__(self) -> PlatformUnderTest:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
