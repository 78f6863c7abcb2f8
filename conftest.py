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
from pathlib import Path

import pytest
from hypothesis import settings

from pfdo_devstack.testing import UrlInfra, infra_from_env, release, start_local_url_infra
from pfdo_testkit import DatabaseFactory, TestAuth
from pfdo_testkit.platforms import Platforms

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
def platform_factory(databases: DatabaseFactory, infra: UrlInfra, auth: TestAuth) -> Iterator[Platforms]:
    """Start the four services as processes behind an nginx gateway (see PlatformUnderTest).

    Usage: ``platform = await platform_factory(service_env=..., gateway_variables=...)``. A
    platform started while a module's tests run is stopped when they are done, one that a
    session-scoped fixture starts at the end of the session (``platform_factory.stop(platform)``:
    earlier). ``auth`` gives the platform other signing keys than the session's (the security
    suite rotates its keys); ``db_prefix`` names its fresh databases, each cloned from the
    session's migrated template of the service (so the processes start without running their
    migrations); the other keyword arguments go to PlatformUnderTest. The platform's database URLs
    are in ``platform.databases``.
    """
    started = Platforms(databases, infra, auth)
    SESSION_PLATFORMS.append(started)
    yield started
    started.stop_all()
    SESSION_PLATFORMS.remove(started)


SESSION_PLATFORMS: list[Platforms] = []


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef, request: pytest.FixtureRequest):  # noqa: ANN201
    """A platform that a session-scoped fixture starts serves the whole session (see ``Platforms``)."""
    if fixturedef.scope != "session":
        return (yield)
    Platforms.for_the_session += 1
    try:
        return (yield)
    finally:
        Platforms.for_the_session -= 1


@pytest.fixture(scope="module", autouse=True)
def stop_the_modules_platforms() -> Iterator[None]:
    """The platforms a module started are stopped when its tests are done: an idle one's processes
    still poll Kafka and PostgreSQL, a few per cent of a core each, till the session ends."""
    yield
    for platforms in SESSION_PLATFORMS:
        platforms.stop_the_modules()
