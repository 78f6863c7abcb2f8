"""Shared fixtures of the security suite: one platform (the four services as processes behind
the nginx gateway) with its OWN signing keys, so that the key-rotation test cannot disturb the
tokens of other test modules in the same session."""

from __future__ import annotations

import asyncio
import importlib.util
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from pfdo_devstack.config import SERVICES
from pfdo_plumbing.testing import TestAuth, create_database


def available_services() -> tuple[str, ...]:
    """Services whose composition root exists (a missing one fails test_every_service_is_covered)."""
    return tuple(s for s in SERVICES if importlib.util.find_spec(f"pfdo_{s}.main") is not None)


@pytest.fixture(scope="session")
def sec_auth() -> Iterator[TestAuth]:
    with tempfile.TemporaryDirectory(prefix="pfdo-sec-auth-") as folder:
        yield TestAuth(Path(folder))


async def _start_platform(infra, sec_auth: TestAuth, prefix: str):  # noqa: ANN001, ANN202
    from pfdo_devstack.platform import PlatformUnderTest

    services = available_services()
    urls = {name: await create_database(infra, f"{prefix}_{name}_{uuid.uuid4().hex[:8]}") for name in services}
    platform = PlatformUnderTest(
        kafka_bootstrap=infra.kafka_bootstrap, database_url=urls.__getitem__, services=services,
        jwks_url=str(sec_auth.jwks_path), issuer=sec_auth.issuer, audience=sec_auth.audience,
        extra_env={"PFDO_LOG_LEVEL": "INFO"},
    )
    try:
        await asyncio.to_thread(platform.start)
    except BaseException:
        for name in platform.processes:
            print(f"--- {name} log ---\n{platform.log(name)}")
        platform.stop()
        raise
    platform.database_urls = urls  # type: ignore[attr-defined]
    return platform


@pytest.fixture(scope="session")
async def sec_platform(infra, sec_auth: TestAuth) -> AsyncIterator[object]:  # noqa: ANN001
    """The platform the access, token, personal-data and audit tests share."""
    platform = await _start_platform(infra, sec_auth, "sec")
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="session")
async def fuzz_platform(infra, sec_auth: TestAuth) -> AsyncIterator[object]:  # noqa: ANN001
    """A platform of its own for the fuzzer: it changes operator settings at random, which must
    not leak into the other tests' world."""
    platform = await _start_platform(infra, sec_auth, "fuzz")
    try:
        yield platform
    finally:
        platform.stop()
