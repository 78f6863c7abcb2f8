"""The browser tests of the portal: most modules start a platform of their own (their own data,
most of them their own business clock; it stops when their tests are done), those that only sign
people in and open pages share one. Their browsers are contexts of one Chromium
(``one_chromium_for_all``), each test's as fresh as a new browser's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pfdo_devstack.platform import PlatformUnderTest
from pfdo_testkit.browser import one_chromium_for_all
from pfdo_testkit.platforms import Platforms


@pytest.fixture(scope="session", autouse=True)
async def one_chromium() -> AsyncIterator[None]:
    async with one_chromium_for_all():
        yield


@pytest.fixture(scope="session")
async def portal_with_navigator(platform_factory: Platforms) -> PlatformUnderTest:
    """The portal, its issuer and the navigator (no data, no business clock), shared by the modules
    that only sign people in and open pages, none reading what another writes."""
    return await platform_factory(db_prefix="pages", portal=True, services=("navigator",),
                                  extra_env={"PFDO_LOG_LEVEL": "WARNING"})
