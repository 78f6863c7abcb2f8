"""Fast checks of the devstack configuration and rendered files (no processes)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pfdo_devstack.config import STARTED_BY_HAND, StackConfig, repo_root
from pfdo_devstack.gateway import DEFAULTS, Gateway, render_template, template_path
from pfdo_devstack.gateway_vars import HIGH_LIMITS
from pfdo_devstack.kafka import KAFKA_VERSION, KafkaBroker
from pfdo_devstack.proc import StackError
from pfdo_devstack.services import ServiceProcess, service_env
from pfdo_devstack.testing import claim_stack, started_by_hand


def test_repo_root_is_the_workspace() -> None:
    root = repo_root()
    assert (root / "deploy" / "local" / "pyproject.toml").exists()
    assert (root / "deploy" / "gateway" / "nginx.conf.template").exists()


def test_dev_defaults_and_env_overrides() -> None:
    cfg = StackConfig.from_env({})
    assert (cfg.kafka_port, cfg.controller_port, cfg.pg_port, cfg.gateway_port) == (9092, 9093, 5433, 8080)
    assert [cfg.service_port(s) for s in ("auth", "registry", "navigator", "billing", "ratings")] == [
        8100, 8101, 8102, 8103, 8104,
    ]
    assert cfg.stack_dir == repo_root() / ".work" / "stack"
    cfg = StackConfig.from_env({"PFDO_KAFKA_PORT": "29092", "PFDO_STACK_DIR": "/tmp/x", "PFDO_BILLING_PORT": "9"})
    assert cfg.kafka_port == 29092 and cfg.controller_port == 29093
    assert cfg.stack_dir == Path("/tmp/x") and cfg.billing_port == 9
    assert cfg.pg_dsn("billing") == "postgresql+asyncpg://pfdo@127.0.0.1:5433/billing"


def test_test_preset_does_not_collide_and_has_its_own_overrides() -> None:
    dev = StackConfig.from_env({})
    tst = StackConfig.for_tests({"PFDO_KAFKA_PORT": "1"})  # the dev variable does not leak in
    ports = lambda c: {c.kafka_port, c.controller_port, c.pg_port, c.gateway_port,  # noqa: E731
                       *(c.service_port(s) for s in ("auth", "registry", "navigator", "billing", "ratings"))}
    assert not ports(dev) & ports(tst)
    assert tst.stack_dir != dev.stack_dir and tst.cache_dir == dev.cache_dir
    assert tst.kafka_port == 19092
    assert StackConfig.for_tests({"PFDO_TEST_KAFKA_PORT": "3"}).kafka_port == 3
    assert tst.gateway_vars["RATE_PER_IP"] == HIGH_LIMITS["RATE_PER_IP"]
    low = StackConfig.for_tests({"PFDO_TEST_GATEWAY_VAR_RATE_PER_IP": "1r/s"})
    assert low.gateway_vars["RATE_PER_IP"] == "1r/s"


def test_server_properties_single_kraft_node() -> None:
    props = KafkaBroker(StackConfig.for_tests()).server_properties()
    kv = dict(line.split("=", 1) for line in props.splitlines() if line and not line.startswith("#"))
    assert kv["process.roles"] == "broker,controller"
    assert kv["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert kv["auto.create.topics.enable"] == "false"
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "transaction.state.log.min.isr", "share.coordinator.state.topic.replication.factor",
                "share.coordinator.state.topic.min.isr"):
        assert kv[key] == "1", key
    assert kv["group.initial.rebalance.delay.ms"] == "0"
    assert re.fullmatch(r"\d+\.\d+\.\d+", KAFKA_VERSION)


def test_pom_takes_the_version_from_python() -> None:
    pom = (repo_root() / "deploy" / "local" / "kafka" / "pom.xml").read_text()
    assert "${kafka.version}" in pom
    assert KAFKA_VERSION not in pom  # pinned once, in pfdo_devstack.kafka


def test_template_renders_with_every_variable_and_rejects_missing() -> None:
    gw = Gateway(StackConfig.for_tests())
    text = render_template(template_path(gw.config).read_text(), gw.template_variables())
    assert "${" not in text
    assert "server 127.0.0.1:18101" in text and "server 127.0.0.1:18100" in text
    assert "rate=100000r/s" in text
    with pytest.raises(StackError, match="RATE_PER_IP"):
        render_template("rate=${RATE_PER_IP}; $request_id", {})
    assert render_template("x ${A_B} $request_id ${lower}", {"A_B": "1"}) == "x 1 $request_id ${lower}"
    assert set(DEFAULTS) <= set(gw.template_variables())


def test_service_environment() -> None:
    cfg = StackConfig.for_tests()
    env = service_env(cfg, "navigator", base={})
    assert env["PFDO_DATABASE_URL"] == "postgresql+asyncpg://pfdo@127.0.0.1:15433/navigator"
    assert env["PFDO_KAFKA_BOOTSTRAP"] == "127.0.0.1:19092"
    assert env["PFDO_BILLING_URL"] == "http://127.0.0.1:18103"
    assert env["PFDO_JWKS_URL"] == "http://127.0.0.1:18100/auth/.well-known/jwks.json"
    assert "PFDO_DEV_ISSUER_ENABLED" not in env
    auth = service_env(cfg, "auth", base={})
    assert auth["PFDO_DEV_ISSUER_ENABLED"] == "1" and "PFDO_DATABASE_URL" not in auth
    svc = ServiceProcess("ratings", cfg)
    assert svc.app == "pfdo_ratings.main:app" and svc.ready_path == "/api/ratings/ready" and svc.run_migrations
    assert ServiceProcess("auth", cfg).ready_path == "/auth/health"


def test_the_portal_process_reads_the_platform_through_the_gateway_only() -> None:
    from pfdo_devstack.stack import Stack

    cfg = StackConfig.for_tests()
    assert cfg.service_port("portal") == 18105 and StackConfig.from_env({}).service_port("portal") == 8105
    env = service_env(cfg, "portal", base={"PFDO_KAFKA_BOOTSTRAP": "leaked:9092"})
    assert env["PFDO_PORTAL_API_URL"] == "http://127.0.0.1:18080/api/"
    assert env["PFDO_PORTAL_DATABASE_URL"] == "postgresql+asyncpg://pfdo@127.0.0.1:15433/portal"  # its sessions
    set_here = {k for k in env if k.startswith("PFDO_")} - {"PFDO_KAFKA_BOOTSTRAP"}
    assert all(k.startswith("PFDO_PORTAL_") for k in set_here - {"PFDO_SERVICE_NAME"}), set_here
    portal = ServiceProcess("portal", cfg)
    assert (portal.app, portal.ready_path, portal.port) == ("pfdo_portal.app:app", "/health", 18105)
    # the gateway sends every path outside /api/, /auth/ and /docs to it; `make up` prints its address first
    assert Gateway(cfg).template_variables()["PORTAL_UPSTREAM"] == "127.0.0.1:18105"
    assert Stack(StackConfig.from_env({})).urls()[0] == ("portal", "http://127.0.0.1:8080/")


def test_a_test_session_leaves_a_test_stack_started_by_hand_alone(tmp_path: Path) -> None:
    """``pfdo-stack infra-up`` on the test stack, then a test session: the session must not take
    the folder (it would stop and wipe the running stack); once that stack is down, it may."""
    cfg = StackConfig.for_tests().replace(stack_dir=tmp_path / "test-stack")
    assert started_by_hand(cfg) == []
    kafka = KafkaBroker(cfg)
    kafka.properties_file.parent.mkdir(parents=True, exist_ok=True)
    # a process that looks like this folder's broker to the stack (its pid file, its properties in argv)
    broker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(kafka.properties_file)])
    try:
        kafka.pid_file.parent.mkdir(parents=True, exist_ok=True)
        kafka.pid_file.write_text(str(broker.pid))
        deadline = time.monotonic() + 10
        while not kafka.is_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kafka.is_running()
        # a crashed earlier test session's leftovers (no mark): the session takes the folder
        fd = claim_stack(cfg)
        assert fd is not None
        os.close(fd)
        (cfg.stack_dir / STARTED_BY_HAND).write_text("by hand\n")
        assert started_by_hand(cfg) == ["kafka"]
        assert claim_stack(cfg) is None
    finally:
        broker.kill()
        broker.wait()
    assert started_by_hand(cfg) == []  # stopped: a test session may clean the folder up now
    fd = claim_stack(cfg)  # (this also fails if the refusal above had kept the folder's lock)
    assert fd is not None
    os.close(fd)
