"""Test helpers shared by every test suite (services, plumbing, the cross-service tests, the
benchmarks): databases migrated from the service's own Alembic scripts, settings pointing at the
test Kafka, in-process services with their lifespan, and development tokens. A dev-only workspace
member: no service image installs it. Infrastructure comes from the root conftest (env,
testcontainers or the local runner)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import asyncpg
import httpx
from fastapi import FastAPI

from pfdo_plumbing.auth.devkeys import DevKeys
from pfdo_plumbing.settings import ServiceSettings

REPO_ROOT = Path(__file__).resolve().parents[4]


class Infra(Protocol):
    kafka_bootstrap: str

    def pg_url(self, database: str) -> str:
        """SQLAlchemy asyncpg URL of a database on the test cluster."""


def plain_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://")


async def create_database(infra: Infra, name: str, *, template: str | None = None) -> str:
    conn = await asyncpg.connect(plain_dsn(infra.pg_url("postgres")))
    try:
        tmpl = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
    finally:
        await conn.close()
    return infra.pg_url(name)


def migrate(service: str, url: str) -> None:
    """Run the service's Alembic migrations against a database (a subprocess: Alembic's env
    runs its own event loop)."""
    env = {**os.environ, "PFDO_DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "services" / service / "alembic.ini"), "upgrade", "head"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrations of {service} failed:\n{result.stdout}\n{result.stderr}")


def migrate_portal(url: str) -> None:
    """Run the portal's Alembic migrations (its sessions table) against a database."""
    env = {**os.environ, "PFDO_PORTAL_DATABASE_URL": url}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "portal" / "alembic.ini"), "upgrade", "head"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrations of the portal failed:\n{result.stdout}\n{result.stderr}")


@dataclass
class DatabaseFactory:
    """Fresh migrated databases per test, cloned from one migrated template per service (or the
    portal): a clone takes a fraction of a second, the migrations a Python process of their own."""

    infra: Infra
    templates: dict[str, str] = field(default_factory=dict)
    _making: dict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock), init=False, repr=False)

    async def fresh(self, service: str, *, prefix: str | None = None) -> str:
        """A migrated database of ``service`` (``"portal"``: the portal's), named ``prefix_service_…``.
        The templates of several services are made at the same time when asked at the same time."""
        async with self._making[service]:
            if service not in self.templates:
                template = f"tmpl_{service}_{uuid.uuid4().hex[:8]}"
                url = await create_database(self.infra, template)
                if service == "portal":
                    await asyncio.to_thread(migrate_portal, url)
                else:
                    await asyncio.to_thread(migrate, service, url)
                self.templates[service] = template
        name = f"{prefix}_{service}_{uuid.uuid4().hex[:8]}" if prefix else f"{service}_{uuid.uuid4().hex[:10]}"
        return await create_database(self.infra, name, template=self.templates[service])


@dataclass
class TestAuth:
    """Development keys for a test run, with their JWKS written to a file the services read."""

    folder: Path
    issuer: str = "pfdo-test-issuer"
    audience: str = "pfdo"

    def __post_init__(self) -> None:
        self.keys = DevKeys(self.folder / "keys")
        self.keys.ensure()
        self.jwks_path = self.folder / "jwks.json"
        self.publish()

    def publish(self) -> None:
        self.keys.write_jwks(self.jwks_path)

    def token(self, role: str, sub: str | None = None, **claims: str | int | None) -> str:
        return self.keys.mint(sub=sub or f"{role}-{uuid.uuid4().hex[:8]}", role=role, issuer=self.issuer,
                              audience=self.audience, **claims)  # type: ignore[arg-type]

    def headers(self, role: str, sub: str | None = None, **claims: str | int | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub, **claims)}"}


def service_settings(service: str, *, infra: Infra, database_url: str, namespace: str, auth: TestAuth,
                     **overrides: object) -> ServiceSettings:
    values: dict[str, object] = {
        "service_name": service, "database_url": database_url, "kafka_bootstrap": infra.kafka_bootstrap,
        "kafka_namespace": namespace, "jwks_url": str(auth.jwks_path), "jwt_issuer": auth.issuer,
        "jwt_audience": auth.audience, "log_json": True,
        "relay_idle_interval_s": 0.02, "relay_min_gap_s": 0.01,
    }
    values.update(overrides)
    return ServiceSettings(**values)  # type: ignore[arg-type]


@asynccontextmanager
async def running_app(app: FastAPI, base_url: str = "http://service") -> AsyncIterator[httpx.AsyncClient]:
    """Start an app's lifespan (its broker, relay, jobs) and give an HTTP client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            yield client


def new_namespace() -> str:
    """A topic/group prefix that isolates one test's events on the shared broker."""
    return f"t{uuid.uuid4().hex[:10]}."
