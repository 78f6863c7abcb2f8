"""The four domain services, the development token issuer and the regional portal as uvicorn processes."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from . import sign_in
from .gateway_vars import LOCAL_PORTAL_CLIENT_ADDRESS
from .config import SERVICES, StackConfig
from .proc import (
    StackError,
    pid_alive,
    port_in_use_error,
    port_open,
    read_pid,
    say,
    start_detached,
    stop_group,
    tail,
    wait_until,
)

AUTH = "auth"
AUTH_APP = "pfdo_plumbing.auth.devissuer:app"
JWT_ISSUER = "pfdo-dev-issuer"
JWT_AUDIENCE = "pfdo"
PORTAL = "portal"
PORTAL_APP = "pfdo_portal.app:app"
REGION_NAME = "Демонстрационный регион"
"""The region's name in the local portal's header (the demo region is invented)."""
ALL_PARTS: tuple[str, ...] = (AUTH, "registry", "billing", "ratings", "navigator", PORTAL)
"""Start order: the token issuer first (services fetch its JWKS), then the services, the portal
last (it reads everything through the gateway, at request time)."""


def service_env(config: StackConfig, name: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a service (or the token issuer, or the portal) gets in the local stack."""
    env = dict(os.environ if base is None else base)
    if name == PORTAL:
        return portal_process_env(config, env)
    env.update(
        {
            "PFDO_SERVICE_NAME": name,
            "PFDO_KAFKA_BOOTSTRAP": config.kafka_bootstrap,
            # 1 on the single node; 3 in cluster mode (topics get RF 3 / min ISR 2 from the contracts)
            "PFDO_KAFKA_REPLICATION_FACTOR": str(max(1, min(3, config.kafka_brokers))),
            "PFDO_JWKS_URL": config.jwks_url,
            "PFDO_JWT_ISSUER": JWT_ISSUER,
            "PFDO_JWT_AUDIENCE": JWT_AUDIENCE,
            "PFDO_DEV_KEYS_DIR": str(config.auth_keys_dir),
            "PFDO_REGISTRY_URL": config.service_url("registry"),
            "PFDO_NAVIGATOR_URL": config.service_url("navigator"),
            "PFDO_BILLING_URL": config.service_url("billing"),
            "PFDO_RATINGS_URL": config.service_url("ratings"),
            "PFDO_LOG_LEVEL": env.get("PFDO_LOG_LEVEL", "INFO"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if name == AUTH:
        env["PFDO_DEV_ISSUER_ENABLED"] = "1"
        env.update(sign_in.issuer_env(config))
    else:
        env["PFDO_DATABASE_URL"] = config.pg_dsn(name)
        env.pop("PFDO_DEV_ISSUER_ENABLED", None)
    return env


def portal_client_address(config: StackConfig) -> str:
    """The address the local portal calls the gateway from: the gateway's PORTAL_CLIENT_ADDRESS."""
    return dict(config.gateway_vars).get("PORTAL_CLIENT_ADDRESS", LOCAL_PORTAL_CLIENT_ADDRESS)


def portal_process_env(config: StackConfig, env: dict[str, str]) -> dict[str, str]:
    """The portal's environment: the gateway's API (its only way to the platform's data: no Kafka,
    no service's database), its own database and sign-in (``sign_in``), the region's name."""
    env.pop("PFDO_DEV_ISSUER_ENABLED", None)
    env.update(sign_in.portal_env(config))
    env.update({
        "PFDO_SERVICE_NAME": PORTAL,
        "PFDO_PORTAL_API_URL": f"{config.gateway_url}/api/",
        # the address the gateway believes visitors' X-Forwarded-For from (its PORTAL_CLIENT_ADDRESS)
        "PFDO_PORTAL_API_SOURCE_ADDRESS": env.get("PFDO_PORTAL_API_SOURCE_ADDRESS", portal_client_address(config)),
        "PFDO_PORTAL_REGION_NAME": env.get("PFDO_PORTAL_REGION_NAME", REGION_NAME),
        "PFDO_PORTAL_LOG_LEVEL": env.get("PFDO_PORTAL_LOG_LEVEL", env.get("PFDO_LOG_LEVEL", "INFO")),
        "PYTHONUNBUFFERED": "1",
    })
    return env


@dataclass
class ServiceProcess:
    name: str
    config: StackConfig
    app: str | None = None
    """``module:attr`` of the ASGI app; default ``pfdo_<name>.main:app`` (auth: the dev issuer)."""
    ready_path: str | None = None
    """Readiness URL path; default ``/api/<name>/ready`` (auth: ``/auth/health``)."""
    run_migrations: bool | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None
    app_dir: Path | None = None
    """Folder to import the app from (uvicorn --app-dir); default: the installed packages."""
    workers: int = 1
    """Processes serving the service on its port (uvicorn --workers), like as many pods."""

    def __post_init__(self) -> None:
        if self.name not in (AUTH, PORTAL) and self.name not in SERVICES and (self.app is None or self.port is None):
            raise ValueError(f"unknown service {self.name!r}: give app= and port=")
        if self.app is None:
            self.app = {AUTH: AUTH_APP, PORTAL: PORTAL_APP}.get(self.name, f"pfdo_{self.name}.main:app")
        if self.ready_path is None:
            self.ready_path = {AUTH: "/auth/health", PORTAL: "/health"}.get(self.name, f"/api/{self.name}/ready")
        if self.port is None:
            self.port = self.config.service_port(self.name)
        if self.run_migrations is None:
            self.run_migrations = self.name in SERVICES or self.name == PORTAL

    # ---- paths -----------------------------------------------------------------------------
    @property
    def log_file(self) -> Path:
        return self.config.logs_dir / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.config.run_dir / f"{self.name}.pid"

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.port}"

    @property
    def alembic_ini(self) -> Path:
        if self.name == PORTAL:
            return self.config.repo_root / "portal" / "alembic.ini"
        return self.config.repo_root / "services" / self.name / "alembic.ini"

    @property
    def _marker(self) -> str:
        return f"--port {self.port}"

    # ---- state -----------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def is_running(self) -> bool:
        return pid_alive(self.pid, marker=self._marker)

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + str(self.ready_path), timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def app_available(self) -> bool:
        module = str(self.app).split(":", 1)[0]
        if self.app_dir is not None:
            return (self.app_dir / (module.replace(".", "/") + ".py")).exists() or (
                self.app_dir / module.replace(".", "/") / "__init__.py"
            ).exists()
        try:
            return importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            return False

    def env(self) -> dict[str, str]:
        env = service_env(self.config, self.name)
        env.update(self.extra_env)
        return env

    # ---- lifecycle -------------------------------------------------------------------------
    def migrate(self) -> None:
        if not self.alembic_ini.exists():
            raise StackError(f"{self.name}: {self.alembic_ini} not found (cannot run migrations)")
        say(f"{self.name}: alembic upgrade head")
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(self.alembic_ini), "upgrade", "head"],
            cwd=self.config.repo_root,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        with open(self.log_file, "a") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} alembic upgrade head (exit {proc.returncode})\n")
            log.write(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise StackError(
                f"{self.name}: migrations failed (exit {proc.returncode}); see {self.log_file}\n"
                f"{(proc.stdout + proc.stderr)[-3000:]}"
            )

    def start(self, *, timeout: float = 60.0) -> None:
        if self.is_running():
            say(f"{self.name}: already running (pid {self.pid}) on {self.url}")
            self.wait_ready(timeout=timeout)
            return
        if port_open(int(self.port), self.config.host):  # type: ignore[arg-type]
            raise port_in_use_error(int(self.port), self.name)  # type: ignore[arg-type]
        if not self.app_available():
            raise StackError(f"{self.name}: the app {self.app} cannot be imported (is the package installed? uv sync)")
        if self.name == AUTH:
            self.config.auth_keys_dir.mkdir(parents=True, exist_ok=True)
        if self.run_migrations:
            self.migrate()
        started = time.monotonic()
        cmd = [
            sys.executable, "-m", "uvicorn", str(self.app),
            "--host", self.config.host, "--port", str(self.port),
            "--no-access-log", "--timeout-graceful-shutdown", "10",
            "--loop", "uvloop", "--http", "httptools",
        ]
        if self.app_dir is not None:
            cmd += ["--app-dir", str(self.app_dir)]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        start_detached(cmd, log_file=self.log_file, pid_file=self.pid_file, env=self.env(), cwd=self.config.repo_root)
        say(f"{self.name}: starting on {self.url} (pid {self.pid})")
        try:
            self.wait_ready(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        say(f"{self.name}: ready ({time.monotonic() - started:.1f}s)")

    def wait_ready(self, *, timeout: float = 60.0) -> None:
        wait_until(
            self.is_ready,
            timeout=timeout,
            what=f"{self.name} (GET {self.url}{self.ready_path})",
            log_file=self.log_file,
            alive=self.is_running,
            interval=0.25,
        )

    def stop(self, *, timeout: float = 15.0) -> None:
        pid = self.pid
        if pid and pid_alive(pid, marker=self._marker):
            say(f"{self.name}: stopping (pid {pid})")
            stop_group(pid, timeout=timeout, name=self.name)
        self.pid_file.unlink(missing_ok=True)

    def last_log_lines(self, n: int = 30) -> str:
        return tail(self.log_file, n)
