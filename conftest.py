"""Test infrastructure for every test in the repository.

Real Kafka and PostgreSQL, from the first of:
1. environment variables ``PFDO_TEST_KAFKA_BOOTSTRAP`` and ``PFDO_TEST_PG_URL`` (a
   ``postgresql+asyncpg://user@host:port`` URL without database name);
2. testcontainers, when a Docker engine answers;
3. the local runner (Kafka from Maven Central artifacts, a private PostgreSQL cluster).

Hypothesis profiles, chosen by the ``HYPOTHESIS_PROFILE`` environment variable: ``default``
(Hypothesis' own settings, 100 examples per property; ``make test``) and ``long`` (twenty times the
examples; ``make test-long``). A property that fixes its own ``max_examples`` keeps it; a property
over the database runs a share of the profile's examples (see its module).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from pfdo_devstack.testing import UrlInfra, infra_from_env, release, start_local_url_infra
from pfdo_testkit import DatabaseFactory, TestAuth

settings.register_profile("default", max_examples=100)
settings.register_profile("long", max_examples=2_000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _docker_answers() -> bool:
    if os.environ.get("PFDO_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="session")
def infra() -> Iterator[UrlInfra]:
    given = infra_from_env()
    if given is not None:
        yield given
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="asyncpg") as postgres, KafkaContainer().with_kraft() as kafka_c:
            url = postgres.get_connection_url().rsplit("/", 1)[0]
            yield UrlInfra(kafka_c.get_bootstrap_server(), url)
        return
    local = start_local_url_infra()
    try:
        yield local
    finally:
        release(local)


@pytest.fixture(scope="session")
def databases(infra: UrlInfra) -> DatabaseFactory:
    return DatabaseFactory(infra)


@pytest.fixture(scope="session")
def auth() -> Iterator[TestAuth]:
    with tempfile.TemporaryDirectory(prefix="pfdo-auth-") as folder:
        yield TestAuth(Path(folder))


@pytest.fixture
async def anyio_backend() -> AsyncIterator[str]:
    yield "asyncio"


@pytest.fixture(scope="session")
def platform_factory(infra: UrlInfra, auth: TestAuth):  # noqa: ANN201
    """Start the four services as processes behind an nginx gateway (see PlatformUnderTest).

    Usage: ``platform = await platform_factory(service_env=..., gateway_variables=...)``; every
    platform started this way is stopped at the end of the session. ``auth`` gives the platform
    other signing keys than the session's (the security suite rotates its keys); ``db_prefix``
    names its fresh databases; the other keyword arguments go to PlatformUnderTest. The platform's
    database URLs are in ``platform.databases``.
    """
    import asyncio
    import uuid as _uuid

    from pfdo_devstack.platform import PlatformUnderTest
    from pfdo_testkit import create_database

    started: list[PlatformUnderTest] = []

    async def start(*, auth: TestAuth = auth, db_prefix: str = "p", **kwargs):  # noqa: ANN003, ANN202
        from pfdo_devstack.config import SERVICES

        urls = {}
        for name in (*kwargs.get("services", SERVICES), *(("portal",) if kwargs.get("portal") else ())):
            urls[name] = await create_database(infra, f"{db_prefix}_{name}_{_uuid.uuid4().hex[:8]}")
        platform = PlatformUnderTest(
            kafka_bootstrap=infra.kafka_bootstrap, database_url=urls.__getitem__,
            jwks_url=str(auth.jwks_path), issuer=auth.issuer, audience=auth.audience,
            dev_keys_dir=str(auth.keys.folder), **kwargs,
        )
        started.append(platform)
        try:
            await asyncio.to_thread(platform.start)
        except BaseException:
            print(platform.logs())
            raise
        return platform

    yield start
    for platform in started:
        platform.stop()
