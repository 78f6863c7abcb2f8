"""Shared fixtures of the security suite: one platform (the four services as processes behind
the nginx gateway) with its OWN signing keys, so that the key-rotation test cannot disturb the
tokens of other test modules in the same session. Platforms start through the root
``platform_factory`` (stopped at the end of the session)."""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pfdo_devstack.config import SERVICES
from pfdo_devstack.story import StoryClock
from pfdo_testkit import TestAuth

from ._gateway_harness import StandIns


def available_services() -> tuple[str, ...]:
    """Services whose composition root exists (a missing one fails test_every_service_is_covered)."""
    return tuple(s for s in SERVICES if importlib.util.find_spec(f"pfdo_{s}.main") is not None)


@pytest.fixture(scope="session")
def sec_auth() -> Iterator[TestAuth]:
    with tempfile.TemporaryDirectory(prefix="pfdo-sec-auth-") as folder:
        yield TestAuth(Path(folder))


@pytest.fixture(scope="session")
def sec_clock(tmp_path_factory: pytest.TempPathFactory) -> StoryClock:
    """The business calendar of the security platform (real time until a test moves it)."""
    return StoryClock(tmp_path_factory.mktemp("sec-clock"))


@pytest.fixture(scope="session")
async def sec_platform(platform_factory, sec_auth: TestAuth, sec_clock: StoryClock) -> object:  # noqa: ANN001
    """The platform the access, token, personal-data and audit tests share. Its business clock
    can be moved (the access matrix lives through a month to have attendance, closed months and
    ended enrolments); the navigator's periodic jobs run often so enrolments end promptly."""
    return await platform_factory(
        auth=sec_auth, db_prefix="sec", services=available_services(),
        extra_env={"PFDO_LOG_LEVEL": "INFO", "PFDO_CLOCK_OFFSET_FILE": str(sec_clock.file)},
        service_env={"navigator": {"PFDO_JOBS_INTERVAL_S": "0.5"}},
    )


@pytest.fixture(scope="session")
async def fuzz_platform(platform_factory, sec_auth: TestAuth) -> object:  # noqa: ANN001
    """A platform of its own for the fuzzer: it changes operator settings at random, which must
    not leak into the other tests' world."""
    return await platform_factory(auth=sec_auth, db_prefix="fuzz", services=available_services(),
                                  extra_env={"PFDO_LOG_LEVEL": "INFO"})


@pytest.fixture(scope="module")
def work_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of the gateway tests' module (its rendered nginx and the stand-ins' files)."""
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def standins(work_dir: Path) -> Iterator[StandIns]:
    """The stand-in upstreams a module's gateways proxy to (see _gateway_harness)."""
    standins = StandIns(work_dir / "standins")
    try:
        standins.start()
        yield standins
    finally:
        standins.stop()
