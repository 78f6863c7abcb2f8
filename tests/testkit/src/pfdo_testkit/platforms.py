"""The platforms of a test session (the root conftest's ``platform_factory``): the four services
(and on request the portal with its sign-in issuer) as processes behind an nginx gateway, each on
fresh databases cloned from the session's migrated templates, so no process runs its migrations."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pfdo_devstack.config import SERVICES
from pfdo_devstack.platform import PlatformUnderTest

from . import DatabaseFactory, Infra, TestAuth


class Platforms:
    """Starts platforms (``await platforms(db_prefix=..., **PlatformUnderTest's arguments)``) and
    stops them: each when asked, those a module started (``stop_the_modules``) when its tests are
    done, the rest at the end. A platform started while a session-scoped fixture is set up
    (``for_the_session``) is the session's."""

    for_the_session = 0
    """More than 0 while a session-scoped fixture is set up (the root conftest counts them)."""

    def __init__(self, databases: DatabaseFactory, infra: Infra, auth: TestAuth) -> None:
        self.databases, self.infra, self.auth = databases, infra, auth
        self.started: list[PlatformUnderTest] = []
        self.the_sessions: list[PlatformUnderTest] = []
        self.stopping: list[threading.Thread] = []
        self._lock = threading.Lock()

    async def __call__(self, *, auth: TestAuth | None = None, db_prefix: str = "p",
                       **kwargs: Any) -> PlatformUnderTest:  # noqa: ANN401
        auth = auth or self.auth
        names = (*kwargs.get("services", SERVICES), *(("portal",) if kwargs.get("portal") else ()))
        urls = dict(zip(names, await asyncio.gather(*(self.databases.fresh(n, prefix=db_prefix) for n in names))))
        platform = PlatformUnderTest(
            kafka_bootstrap=self.infra.kafka_bootstrap, database_url=urls.__getitem__,
            jwks_url=str(auth.jwks_path), issuer=auth.issuer, audience=auth.audience,
            dev_keys_dir=str(auth.keys.folder), **kwargs,
        )
        for process in platform.processes.values():
            process.run_migrations = False  # its database is a clone of a migrated one
        self.started.append(platform)
        if Platforms.for_the_session:
            self.the_sessions.append(platform)
        try:
            await asyncio.to_thread(platform.start)
        except BaseException:
            print(platform.logs())
            raise
        return platform

    def stop(self, platform: PlatformUnderTest) -> None:
        """Stop a platform before the session ends: an idle one still polls Kafka and PostgreSQL."""
        with self._lock:
            if platform not in self.started:
                return
            self.started.remove(platform)
        platform.stop()

    def stop_soon(self, platform: PlatformUnderTest) -> None:
        """Stop a platform in the background (its processes shut down gracefully, one by one, for
        a few seconds), the next tests going on meanwhile; ``stop_all`` waits for it. Its gateway
        stops at once (in a moment), so nothing reaches the platform any more."""
        if platform.gateway is not None:
            platform.gateway.stop()
        self.stopping.append(threading.Thread(target=self.stop, args=(platform,), name="stop-platform"))
        self.stopping[-1].start()

    def stop_the_modules(self) -> None:
        """Stop (in the background) every platform not the session's: a module's tests are done."""
        for platform in [p for p in self.started if p not in self.the_sessions]:
            self.stop_soon(platform)

    def stop_all(self) -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.stop, list(self.started)))
        for thread in self.stopping:
            thread.join()
