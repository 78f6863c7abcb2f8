"""docker-compose.yml and the local runner (deploy/local) describe the same platform.

Same parts, the same settings names per service (the keys the local runner's ``service_env``
sets), the same gateway template with every variable set and upstreams pointing at compose
services, the same Kafka version, and Dockerfiles that build what compose runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from pfdo_devstack.config import SERVICES, StackConfig, repo_root
from pfdo_devstack.gateway import DEFAULTS, Gateway, template_path
from pfdo_devstack.kafka import KAFKA_VERSION
from pfdo_devstack.services import ALL_PARTS, AUTH, AUTH_APP, JWT_AUDIENCE, JWT_ISSUER, PORTAL, PORTAL_APP, service_env

ROOT = repo_root()
COMPOSE_FILE = ROOT / "docker-compose.yml"
CONTAINER_PORT = 8000
LOCAL_PARTS = {"kafka", "postgres", "gateway", *ALL_PARTS}
_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment must be a mapping (KEY: value), not a list"
    return {str(k): str(v) for k, v in env.items()}


def _long_running(compose: dict) -> dict[str, dict]:
    return {n: s for n, s in compose["services"].items() if s.get("restart", "no") != "no"}


def _one_shot(compose: dict) -> dict[str, dict]:
    return {n: s for n, s in compose["services"].items() if s.get("restart", "no") == "no"}


def _strip_default(value: str) -> str:
    """Compose interpolation ``${NAME:-default}`` -> ``default`` (what runs without a .env)."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_same_parts_as_the_local_runner(compose: dict) -> None:
    assert set(_long_running(compose)) == LOCAL_PARTS == {
        "registry", "navigator", "billing", "ratings", "auth", "portal", "gateway", "kafka", "postgres",
    }
    # the only other containers are the one-shot migrations, one per service and the portal's
    assert set(_one_shot(compose)) == {f"{s}-migrate" for s in (*SERVICES, PORTAL)}


def test_same_settings_names_per_service(compose: dict) -> None:
    services = compose["services"]
    cfg = StackConfig.for_tests()
    for name in ALL_PARTS:
        local = service_env(cfg, name, base={})
        env = _env(services[name])
        assert set(env) == set(local), (
            f"{name}: compose sets {sorted(set(env) - set(local))} that the local runner does not, "
            f"and lacks {sorted(set(local) - set(env))}"
        )
        assert env["PFDO_SERVICE_NAME"] == name
        if name == PORTAL:  # the gateway's API is its only way to the platform: no Kafka, no tokens to check
            assert not {k for k in env if k.startswith("PFDO_") and not k.startswith("PFDO_PORTAL_")} - {
                "PFDO_SERVICE_NAME"}
            continue
        assert env["PFDO_JWT_ISSUER"] == JWT_ISSUER and env["PFDO_JWT_AUDIENCE"] == JWT_AUDIENCE
        assert env["PFDO_KAFKA_REPLICATION_FACTOR"] == local["PFDO_KAFKA_REPLICATION_FACTOR"] == "1"


def test_service_addresses_point_at_compose_services(compose: dict) -> None:
    services = compose["services"]
    for name in ALL_PARTS:
        env = _env(services[name])
        if name == PORTAL:
            api = urlsplit(env["PFDO_PORTAL_API_URL"])
            assert (api.hostname, api.port, api.path) == ("gateway", 8080, "/api/")
            db = urlsplit(_strip_default(env["PFDO_PORTAL_DATABASE_URL"]))
            assert db.scheme == "postgresql+asyncpg" and db.hostname == "postgres" and db.path == "/portal"
            assert PORTAL_APP in (ROOT / services[name]["build"]["dockerfile"]).read_text()
            continue
        host, port = env["PFDO_KAFKA_BOOTSTRAP"].split(":")
        assert host == "kafka" and port == "9092"
        for svc in SERVICES:
            url = urlsplit(env[f"PFDO_{svc.upper()}_URL"])
            assert (url.hostname, url.port) == (svc, CONTAINER_PORT)
        jwks = urlsplit(env["PFDO_JWKS_URL"])
        assert (jwks.hostname, jwks.port) == (AUTH, CONTAINER_PORT)
        assert jwks.path == urlsplit(StackConfig.for_tests().jwks_url).path
        if name == AUTH:
            assert env["PFDO_DEV_ISSUER_ENABLED"] == "1"
            assert AUTH_APP in services[name]["command"]
            continue
        db = urlsplit(_strip_default(env["PFDO_DATABASE_URL"]))
        assert db.scheme == "postgresql+asyncpg" and db.hostname == "postgres" and db.path == f"/{name}"


def test_postgres_creates_one_database_per_service(compose: dict) -> None:
    pg = compose["services"]["postgres"]
    assert pg["image"].startswith("postgres:16")
    init = [v for v in pg["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert len(init) == 1
    sql = (ROOT / init[0].split(":")[0]).read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", sql))
    assert created == {*SERVICES, PORTAL}
    assert pg["environment"]["POSTGRES_USER"] == "pfdo"


def test_kafka_image_is_the_pinned_version_in_kraft_mode(compose: dict) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{KAFKA_VERSION}"
    env = _env(kafka)
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    # KRaft cluster ids are 16 bytes in URL-safe base64 without padding
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}[AQgw]", env["CLUSTER_ID"].split()[0])


def test_migrations_run_once_before_each_service(compose: dict) -> None:
    services = compose["services"]
    for svc in SERVICES:
        migrate = services[f"{svc}-migrate"]
        assert migrate["command"] == ["alembic", "-c", f"services/{svc}/alembic.ini", "upgrade", "head"]
        assert (ROOT / "services" / svc / "alembic.ini").exists()
        assert migrate["image"] == services[svc]["image"]
        assert _env(migrate)["PFDO_DATABASE_URL"] == _env(services[svc])["PFDO_DATABASE_URL"]
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        deps = services[svc]["depends_on"]
        assert deps[f"{svc}-migrate"]["condition"] == "service_completed_successfully"
        for infra in ("kafka", "postgres", "auth"):
            assert deps[infra]["condition"] == "service_healthy"


def test_every_long_running_part_has_a_healthcheck_and_ready_probe(compose: dict) -> None:
    services = compose["services"]
    for name, svc in _long_running(compose).items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for svc in SERVICES:
        probe = " ".join(services[svc]["healthcheck"]["test"])
        assert f"127.0.0.1:{CONTAINER_PORT}/api/{svc}/ready" in probe
    gw_deps = services["gateway"]["depends_on"]
    assert {n: d["condition"] for n, d in gw_deps.items()} == {p: "service_healthy" for p in ALL_PARTS}


def test_gateway_uses_the_same_template_with_every_variable_set(compose: dict) -> None:
    gw = compose["services"]["gateway"]
    assert gw["image"].startswith("nginx:")
    mounts = [v.split(":") for v in gw["volumes"]]
    templates = [(src, dst) for src, dst, *_ in mounts if dst.startswith("/etc/nginx/templates/")]
    assert len(templates) == 1
    src, dst = templates[0]
    assert (ROOT / src).resolve() == template_path(StackConfig.for_tests()).resolve()
    assert dst.endswith(".conf.template")
    env = _env(gw)
    # the template is the whole nginx.conf: the image writes it over /etc/nginx/nginx.conf
    assert dst == "/etc/nginx/templates/nginx.conf.template" and env.pop("NGINX_ENVSUBST_OUTPUT_DIR") == "/etc/nginx"
    njs = [(src, dst) for src, dst, *_ in mounts if src.endswith(".js")]
    assert [(ROOT / src).resolve() for src, _ in njs] == [template_path(StackConfig.for_tests()).parent.resolve()
                                                           / "token_subject.js"]
    assert njs[0][1] == f"{env['NJS_PATH']}/token_subject.js"
    wanted = set(_VAR.findall(template_path(StackConfig.for_tests()).read_text()))
    assert wanted == set(env), f"missing {sorted(wanted - set(env))}, unknown {sorted(set(env) - wanted)}"
    # the same variables the local runner fills in, and its defaults where it has them
    assert set(Gateway(StackConfig.from_env({})).template_variables()) == wanted
    for key, value in DEFAULTS.items():
        assert _strip_default(env[key]) == value, key
    # the portal calls the API from its fixed address, the only one whose X-Forwarded-For is believed
    portal = compose["services"]["portal"]
    address = portal["networks"]["default"]["ipv4_address"]
    assert env["PORTAL_CLIENT_ADDRESS"] == address == _env(portal)["PFDO_PORTAL_API_SOURCE_ADDRESS"]
    # every upstream is a compose service on its container port
    for part in ALL_PARTS:
        host, port = env[f"{part.upper()}_UPSTREAM"].split(":")
        assert host == part and int(port) == CONTAINER_PORT and host in compose["services"]
    assert int(env["GATEWAY_LISTEN"]) == 8080
    assert any(str(p).endswith(":8080") for p in gw["ports"])


def test_gateway_routes_every_service_api(compose: dict) -> None:
    text = template_path(StackConfig.for_tests()).read_text()
    for svc in SERVICES:
        assert re.search(rf"location /api/{svc}/ \{{\s*proxy_pass http://pfdo_{svc};", text), svc
        assert re.search(rf"upstream pfdo_{svc}\s+\{{ server \$\{{{svc.upper()}_UPSTREAM\}}", text), svc
    assert "location /auth/ {" in text


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile_builds_what_compose_runs(compose: dict, svc: str) -> None:
    dockerfile = ROOT / "services" / svc / "Dockerfile"
    text = dockerfile.read_text()
    build = compose["services"][svc]["build"]
    assert build["context"] == "." and Path(build["dockerfile"]) == Path(f"services/{svc}/Dockerfile")
    assert "python:3.11-slim" in text
    assert re.search(r"pip install [^\n]*\buv\b", text)
    assert f"uv sync --frozen --no-dev" in text and "--package pfdo-${SERVICE}" in text
    assert f"ARG SERVICE={svc}" in text
    # the app module the local runner starts, on the port compose and the gateway use
    cmd = re.search(r'^CMD \[(.*?)\]\s*$', text, re.S | re.M).group(1)
    assert f'"pfdo_{svc}.main:app"' in cmd and f'"{CONTAINER_PORT}"' in cmd
    # non-root: the last USER is a numeric non-zero uid
    users = re.findall(r"^USER (\d+)", text, re.M)
    assert users and int(users[-1]) != 0
    # every workspace member's pyproject is copied, or `uv sync --frozen` cannot read the workspace
    members = ["contracts", "plumbing", "deploy/local", *(f"services/{s}" for s in SERVICES), "portal", "tests/testkit"]
    for member in members:
        assert f"COPY {member}/pyproject.toml {member}/" in text, member
        assert (ROOT / member / "pyproject.toml").exists()
    # the migrations the migrate container runs are in the image
    assert "services/${SERVICE}/alembic.ini" in text and "services/${SERVICE}/migrations" in text


def test_portal_image_and_its_migrations(compose: dict) -> None:
    services = compose["services"]
    text = (ROOT / "portal" / "Dockerfile").read_text()
    assert services[PORTAL]["build"] == {"context": ".", "dockerfile": "portal/Dockerfile"}
    assert "uv sync --frozen --no-dev" in text and "--package pfdo-portal" in text
    cmd = re.search(r'^CMD \[(.*?)\]\s*$', text, re.S | re.M).group(1)
    assert f'"{PORTAL_APP}"' in cmd and f'"{CONTAINER_PORT}"' in cmd
    users = re.findall(r"^USER (\d+)", text, re.M)
    assert users and int(users[-1]) != 0
    for member in ("contracts", "plumbing", "deploy/local", *(f"services/{s}" for s in SERVICES), "portal",
                   "tests/testkit"):
        assert f"COPY {member}/pyproject.toml {member}/" in text, member
    # htmx from the lock, served by the portal; its own database migrated once before it starts
    assert "web/node_modules/htmx.org/dist/htmx.min.js" in text and "PFDO_PORTAL_ASSETS_DIR" in text
    migrate = services["portal-migrate"]
    assert migrate["command"] == ["alembic", "-c", "portal/alembic.ini", "upgrade", "head"]
    assert migrate["image"] == services[PORTAL]["image"] and (ROOT / "portal" / "alembic.ini").exists()
    assert _env(migrate)["PFDO_PORTAL_DATABASE_URL"] == _env(services[PORTAL])["PFDO_PORTAL_DATABASE_URL"]
    assert services[PORTAL]["depends_on"]["portal-migrate"]["condition"] == "service_completed_successfully"
