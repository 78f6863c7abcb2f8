"""Makes the billing test kit importable from its integration tests, and gives the story modules
(tests that build on each other's state) one running billing per module: the fixture ``h``."""

import sys
from pathlib import Path

import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))

from billing_testkit import start_harness  # noqa: E402


@pytest_asyncio.fixture(scope="module")
async def h(infra, databases, auth):  # noqa: ANN001, ANN201
    harness = await start_harness(infra, databases, auth)
    try:
        yield harness
    finally:
        await harness.stack.aclose()
