"""Where the local stack lives and which ports it uses, from ``PFDO_*`` environment variables.

Two presets: the developer stack (``StackConfig.from_env()``) and the test stack
(``StackConfig.for_tests()``) whose ports and folder do not collide with the developer stack, so
``make test`` works while ``pfdo-stack up`` runs. Every value can still be overridden by env.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .gateway_vars import HIGH_LIMITS

SERVICES: tuple[str, ...] = ("registry", "navigator", "billing", "ratings")
"""The four domain services; each owns one PostgreSQL database of the same name."""

STARTED_BY_HAND = "started-by-hand"
"""A file in a stack folder whose Kafka and PostgreSQL ``pfdo-stack`` started (not a test session)."""


def repo_root() -> Path:
    """The workspace root: the nearest parent of this file holding a ``uv.lock`` or ``.git``.

    ``PFDO_REPO_ROOT`` overrides it (for installs outside the source tree).
    """
    env = os.environ.get("PFDO_REPO_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "uv.lock").exists() or (parent / ".git").exists():
            if (parent / "deploy").is_dir():
                return parent
    # src/pfdo_devstack/config.py -> deploy/local/src/pfdo_devstack -> repo is 4 levels up
    return here.parents[4]


@dataclass(frozen=True)
class StackConfig:
    name: str
    stack_dir: Path
    cache_dir: Path
    kafka_port: int = 9092
    pg_port: int = 5433
    gateway_port: int = 8080
    auth_port: int = 8100
    registry_port: int = 8101
    navigator_port: int = 8102
    billing_port: int = 8103
    ratings_port: int = 8104
    portal_port: int = 8105
    """The regional portal's process; people open it through the gateway, at ``/``."""
    host: str = "127.0.0.1"
    gateway_vars: Mapping[str, str] = field(default_factory=dict)
    """Overrides for the gateway template variables (e.g. rate limits), see gateway_vars.DEFAULTS."""
    kafka_brokers: int = 1
    """1: one combined KRaft node (default); 3: cluster mode, nodes on kafka_port, +2, +4
    (see kafka_cluster.py). From ``PFDO_KAFKA_BROKERS`` or ``pfdo-stack up --kafka-brokers 3``."""

    # ---- derived -------------------------------------------------------------------------
    @property
    def controller_port(self) -> int:
        return self.kafka_port + 1

    @property
    def repo_root(self) -> Path:
        return repo_root()

    @property
    def kafka_bootstrap(self) -> str:
        """``host:port`` of the broker, or of every node in cluster mode (comma-separated)."""
        return ",".join(f"{self.host}:{self.kafka_port + 2 * i}" for i in range(max(1, self.kafka_brokers)))

    @property
    def logs_dir(self) -> Path:
        return self.stack_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.stack_dir / "run"

    @property
    def auth_keys_dir(self) -> Path:
        return self.stack_dir / "auth-keys"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def jwks_url(self) -> str:
        return f"http://{self.host}:{self.auth_port}/auth/.well-known/jwks.json"

    def service_port(self, name: str) -> int:
        if name == "auth":
            return self.auth_port
        if name == "portal":
            return self.portal_port
        if name not in SERVICES:
            raise KeyError(f"unknown service {name!r}")
        return int(getattr(self, f"{name}_port"))

    def service_url(self, name: str) -> str:
        return f"http://{self.host}:{self.service_port(name)}"

    def pg_dsn(self, db: str, *, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://pfdo@{self.host}:{self.pg_port}/{db}"

    def replace(self, **changes: object) -> "StackConfig":
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    # ---- presets ---------------------------------------------------------------------------
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "StackConfig":
        """The developer stack: ``<repo>/.work/stack`` and the well-known ports (8080, 9092, ...)."""
        return cls._build("dev", env, "PFDO_", stack="stack", kafka=9092, pg=5433, gateway=8080, svc=8100)

    @classmethod
    def for_tests(cls, env: Mapping[str, str] | None = None) -> "StackConfig":
        """The test stack: ``<repo>/.work/test-stack``, Kafka 19092, PostgreSQL 15433, gateway 18080,
        services 18100..18104, the portal 18105; high gateway rate limits so load tests are not throttled.

        Overridable with the same variables prefixed ``PFDO_TEST_`` (``PFDO_TEST_STACK_DIR``,
        ``PFDO_TEST_KAFKA_PORT``, ...), so a shell set up for the developer stack does not leak
        into the tests. ``PFDO_CACHE_DIR`` (jars, Maven repo) is shared by all stacks."""
        cfg = cls._build(
            "tests", env, "PFDO_TEST_", stack="test-stack", kafka=19092, pg=15433, gateway=18080, svc=18100
        )
        return cfg.replace(gateway_vars={**HIGH_LIMITS, **cfg.gateway_vars})

    @classmethod
    def named(cls, name: str, env: Mapping[str, str] | None = None) -> "StackConfig":
        if name in ("dev", "default", ""):
            return cls.from_env(env)
        if name in ("tests", "test"):
            return cls.for_tests(env)
        raise ValueError(f"unknown stack config {name!r} (use 'dev' or 'tests')")

    @classmethod
    def _build(
        cls,
        name: str,
        env: Mapping[str, str] | None,
        prefix: str,
        *,
        stack: str,
        kafka: int,
        pg: int,
        gateway: int,
        svc: int,
    ) -> "StackConfig":
        env = os.environ if env is None else env
        root = repo_root()

        def port(var: str, default: int) -> int:
            raw = env.get(prefix + var)
            return int(raw) if raw else default

        def path(var: str, default: Path, *, shared: bool = False) -> Path:
            raw = env.get(("PFDO_" if shared else prefix) + var)
            return Path(raw).expanduser().resolve() if raw else default

        gw_prefix = prefix + "GATEWAY_VAR_"  # e.g. PFDO_GATEWAY_VAR_RATE_PER_IP=5r/s
        gw_vars = {k[len(gw_prefix):]: v for k, v in env.items() if k.startswith(gw_prefix)}
        return cls(
            name=name,
            stack_dir=path("STACK_DIR", root / ".work" / stack),
            cache_dir=path("CACHE_DIR", root / ".work" / "cache", shared=True),
            kafka_port=port("KAFKA_PORT", kafka),
            pg_port=port("PG_PORT", pg),
            gateway_port=port("GATEWAY_PORT", gateway),
            auth_port=port("AUTH_PORT", svc),
            registry_port=port("REGISTRY_PORT", svc + 1),
            navigator_port=port("NAVIGATOR_PORT", svc + 2),
            billing_port=port("BILLING_PORT", svc + 3),
            ratings_port=port("RATINGS_PORT", svc + 4),
            portal_port=port("PORTAL_PORT", svc + 5),
            gateway_vars=gw_vars,
            kafka_brokers=port("KAFKA_BROKERS", 1),
        )
