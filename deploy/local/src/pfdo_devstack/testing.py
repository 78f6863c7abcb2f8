"""Test infrastructure for pytest sessions: a real Kafka broker and PostgreSQL cluster.

    from pfdo_devstack.testing import start_test_infra, stop_test_infra

    @pytest.fixture(scope="session")
    def infra():
        infra = start_test_infra()
        yield infra
        stop_test_infra(infra)

The session takes ``StackConfig.for_tests()`` (``<repo>/.work/test-stack``, Kafka 19092, PG
15433), wiped first so every run is clean; the jar cache is kept. Several pytest sessions may run
at once on one machine: the first holds a lock on the test stack; the others get a private stack
(own folder, free ports), removed when they stop. A test stack started by hand
(``PFDO_STACK_CONFIG=tests pfdo-stack infra-up``) and still running counts as busy too: the session
takes a private stack instead of stopping and wiping it.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .config import STARTED_BY_HAND, StackConfig
from .gateway import Gateway
from .kafka import KafkaBroker
from .postgres import PostgresCluster
from .proc import say


@dataclass
class TestInfra:
    __test__ = False  # not a pytest test class

    config: StackConfig
    kafka: KafkaBroker
    postgres: PostgresCluster
    private: bool
    _lock_fd: int | None = None
    gateways: list[Gateway] = field(default_factory=list)

    @property
    def kafka_bootstrap(self) -> str:
        return self.config.kafka_bootstrap

    def pg_admin_dsn(self, db: str = "postgres", *, driver: str = "postgresql") -> str:
        """DSN for role ``pfdo`` (superuser) on database ``db``; driver ``postgresql`` suits asyncpg
        directly, ``postgresql+asyncpg`` suits SQLAlchemy."""
        return self.config.pg_dsn(db, driver=driver)

    def dsn(self, db: str) -> str:
        """SQLAlchemy URL (``postgresql+asyncpg://...``) as the services take in PFDO_DATABASE_URL."""
        return self.config.pg_dsn(db)

    def create_database(self, name: str | None = None, *, prefix: str = "t") -> str:
        """Create a database (a unique name when none is given) and return its name."""
        name = name or f"{prefix}_{uuid.uuid4().hex[:12]}"
        self.postgres.create_database(name)
        return name

    def drop_database(self, name: str) -> None:
        self.postgres.drop_database(name)

    def start_gateway(
        self, upstreams: Mapping[str, str] | None = None, variables: Mapping[str, str] | None = None
    ) -> Gateway:
        """An nginx gateway on a free port in front of ``upstreams`` (service -> host:port); the
        test stack's high rate limits unless ``variables`` say otherwise."""
        port = _free_port()
        gw = Gateway(
            self.config.replace(stack_dir=self.config.stack_dir / f"gw-{port}"),
            upstreams=upstreams,
            variables=variables or {},
            port=port,
        )
        gw.start()
        self.gateways.append(gw)
        return gw


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_port_pair() -> int:
    """A port p with p+1 also free (Kafka's controller listens on kafka port + 1)."""
    for _ in range(50):
        p = _free_port()
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    raise RuntimeError("no free pair of ports")


def _try_lock(path: Path) -> int | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _stop_leftovers(config: StackConfig) -> None:
    """Stop processes a crashed earlier session left in this stack folder (we hold its lock)."""
    if not config.stack_dir.exists():
        return
    from .stack import Stack

    left = Stack(config).down()
    if left:
        raise RuntimeError(f"could not stop leftovers of an earlier test run: {left}")


_ACTIVE: TestInfra | None = None
_REFS = 0


def start_test_infra(config: StackConfig | None = None) -> TestInfra:
    """Start Kafka + PostgreSQL for a test session in a freshly wiped stack folder.

    Within one process the infrastructure is shared: a second call (e.g. a module fixture next to
    the session fixture) returns the running one, and only the last ``stop_test_infra`` stops it.
    """
    global _ACTIVE, _REFS
    if _ACTIVE is not None and config is None:
        _REFS += 1
        return _ACTIVE
    infra = _start(config or StackConfig.for_tests())
    if config is None:
        _ACTIVE, _REFS = infra, 1
    return infra


def started_by_hand(config: StackConfig) -> list[str]:
    """The parts of the stack in ``config``'s folder that ``pfdo-stack`` started and that still run."""
    if not (config.stack_dir / STARTED_BY_HAND).exists():
        return []
    from .stack import Stack

    return Stack(config).running_parts()


def claim_stack(config: StackConfig) -> int | None:
    """The lock of the stack folder in ``config`` (an open descriptor), or None when another
    session holds it or ``pfdo-stack`` started a stack there that still runs."""
    lock_fd = _try_lock(config.stack_dir.with_name(config.stack_dir.name + ".lock"))
    if lock_fd is not None and (by_hand := started_by_hand(config)):
        say(f"the test stack in {config.stack_dir} was started by hand and runs ({', '.join(by_hand)}); "
            "leaving it alone")
        os.close(lock_fd)
        return None
    return lock_fd


def _start(config: StackConfig) -> TestInfra:
    lock_fd = claim_stack(config)
    private = lock_fd is None
    if private:
        kafka_port = _free_port_pair()
        pg_port = _free_port()
        config = config.replace(
            stack_dir=config.stack_dir.with_name(f"{config.stack_dir.name}-{os.getpid()}"),
            kafka_port=kafka_port,
            pg_port=pg_port,
            gateway_port=_free_port(),
        )
        say(f"test stack busy (another session); using a private one in {config.stack_dir}")
        lock_fd = _try_lock(config.stack_dir.with_name(config.stack_dir.name + ".lock"))
    _stop_leftovers(config)
    shutil.rmtree(config.stack_dir, ignore_errors=True)
    config.stack_dir.mkdir(parents=True)
    infra = TestInfra(config, KafkaBroker(config), PostgresCluster(config), private, lock_fd)
    atexit.register(_stop_quietly, infra)  # a session that dies without teardown still cleans up
    try:
        infra.kafka.start()
        infra.postgres.start()
    except BaseException:
        _stop(infra)
        raise
    return infra


def stop_test_infra(infra: TestInfra) -> None:
    """Stop the gateways, PostgreSQL and Kafka; no process is left. Logs stay for inspection
    (a private stack folder is removed)."""
    global _ACTIVE, _REFS
    if infra is _ACTIVE:
        _REFS -= 1
        if _REFS > 0:
            return
        _ACTIVE = None
    _stop(infra)


def _stop_quietly(infra: TestInfra) -> None:
    try:
        _stop(infra)
    except Exception:  # noqa: BLE001
        pass


def _stop(infra: TestInfra) -> None:
    errors = []
    for gw in infra.gateways:
        try:
            gw.stop()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    for part in (infra.postgres, infra.kafka):
        try:
            part.stop()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
    if infra.private and not errors:
        shutil.rmtree(infra.config.stack_dir, ignore_errors=True)
    if infra._lock_fd is not None:
        lock_path = infra.config.stack_dir.with_name(infra.config.stack_dir.name + ".lock")
        os.close(infra._lock_fd)
        infra._lock_fd = None
        if infra.private:
            lock_path.unlink(missing_ok=True)
    if errors:
        raise RuntimeError(f"stopping the test infrastructure failed: {errors}")


@dataclass
class UrlInfra:
    """Kafka and PostgreSQL by address, wherever they come from: what tests and benchmarks use."""

    __test__ = False
    kafka_bootstrap: str
    pg_base_url: str
    """``postgresql+asyncpg://user@host:port`` without a database name."""
    local: TestInfra | None = None
    """The local test stack when it was started for this run (stopped by :func:`release`)."""

    def pg_url(self, database: str) -> str:
        return f"{self.pg_base_url.rstrip('/')}/{database}"


def infra_from_env(env: Mapping[str, str] | None = None) -> UrlInfra | None:
    """``PFDO_TEST_KAFKA_BOOTSTRAP`` and ``PFDO_TEST_PG_URL`` when both are set."""
    env = os.environ if env is None else env
    kafka, pg = env.get("PFDO_TEST_KAFKA_BOOTSTRAP"), env.get("PFDO_TEST_PG_URL")
    return UrlInfra(kafka, pg) if kafka and pg else None


def start_local_url_infra() -> UrlInfra:
    local = start_test_infra()
    return UrlInfra(local.kafka_bootstrap, local.dsn("postgres").rsplit("/", 1)[0], local)


def env_or_local_infra() -> UrlInfra:
    """The infrastructure named by the environment, else the local test stack."""
    return infra_from_env() or start_local_url_infra()


def release(infra: UrlInfra) -> None:
    """Stop the local test stack if this run started it; infrastructure given by address stays."""
    if infra.local is not None:
        stop_test_infra(infra.local)
