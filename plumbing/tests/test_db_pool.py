"""Pooled connections against real PostgreSQL: a connection that sat idle is pinged before use,
so one the server dropped meanwhile (a restart, an operator's kill) is replaced without failing
the caller; one reused at once is not pinged."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

from pfdo_plumbing.db import Database

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(databases):  # noqa: ANN001, ANN201
    database = Database(await databases.fresh("billing"), pool_size=2, max_overflow=0, ping_idle_after_s=0.3)
    yield database
    await database.dispose()


def count_pings(db: Database) -> list[int]:
    pings = [0]
    original = db.engine.dialect.do_ping

    def counted(dbapi_connection):  # noqa: ANN001, ANN202
        pings[0] += 1
        return original(dbapi_connection)

    db.engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


async def backend_pids(db: Database) -> set[int]:
    async def one() -> int:
        async with db.transaction() as s:
            pid = await s.scalar(text("SELECT pg_backend_pid()"))
            await asyncio.sleep(0.05)  # hold it, so the other call takes the second connection
            return int(pid)

    return set(await asyncio.gather(one(), one()))


async def test_idle_connections_dropped_by_the_server_are_replaced(db: Database, databases) -> None:  # noqa: ANN001
    pings = count_pings(db)
    old = await backend_pids(db)
    assert len(old) == 2 and pings[0] == 0, "fresh connections are not pinged"
    admin = Database(await databases.fresh("billing"))
    try:
        async with admin.transaction() as s:
            killed = await s.scalar(text("SELECT count(*) FROM (SELECT pg_terminate_backend(p) FROM unnest("
                                         "CAST(:pids AS int[])) p) k"), {"pids": sorted(old)})
        assert killed == 2
    finally:
        await admin.dispose()
    await asyncio.sleep(0.5)  # longer than ping_idle_after_s
    async with db.transaction() as s:
        assert await s.scalar(text("SELECT 1")) == 1
    assert pings[0] >= 1
    assert (await backend_pids(db)).isdisjoint(old)


async def test_a_connection_reused_at_once_is_not_pinged(db: Database) -> None:
    pings = count_pings(db)
    for _ in range(20):
        async with db.transaction() as s:
            await s.scalar(text("SELECT 1"))
    assert pings[0] == 0
    await asyncio.sleep(0.5)
    async with db.transaction() as s:
        await s.scalar(text("SELECT 1"))
    assert pings[0] == 1


async def test_bursts_beyond_the_pool_wait_for_its_connections_instead_of_opening_more(databases) -> None:  # noqa: ANN001
    """By default a pool is fixed: work beyond it waits in line. An overflow connection would be
    closed as soon as it was returned to a full pool, so every burst would open and close
    PostgreSQL connections again (a new backend each, its statements prepared anew)."""
    db = Database(await databases.fresh("billing"), pool_size=3)
    opened = [0]
    event.listen(db.engine.sync_engine.pool, "connect", lambda *_: opened.__setitem__(0, opened[0] + 1))

    async def one() -> int:
        async with db.transaction() as s:
            pid = int(await s.scalar(text("SELECT pg_backend_pid()")))
            await asyncio.sleep(0.02)
            return pid

    try:
        pids: set[int] = set()
        for _ in range(3):  # three bursts of twelve
            pids |= set(await asyncio.gather(*(one() for _ in range(12))))
        assert opened[0] == 3 and len(pids) == 3
    finally:
        await db.dispose()
