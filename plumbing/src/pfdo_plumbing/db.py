"""Database wiring: one async engine per service and a transaction-scoped session."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable, Result, event, text
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 20, ping_idle_after_s: float = 1.0) -> None:
        self.engine: AsyncEngine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.ping_idle_after_s = ping_idle_after_s
        pool = self.engine.sync_engine.pool
        event.listen(pool, "checkin", _note_idle)
        event.listen(pool, "checkout", self._ping_if_idle)

    def _ping_if_idle(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        """Ping a pooled connection before use only when it sat idle for a while (the server may
        have restarted meanwhile). SQLAlchemy's ``pool_pre_ping`` pings on every checkout: under
        load that is a round trip per transaction for connections used a moment ago (measured: a
        tenth of the navigator's time in the application rush). A connection broken while busy
        still fails its statement, and the pool then discards every connection it held."""
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < self.ping_idle_after_s:
            return
        try:
            self.engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool drops this connection and checks out another
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends, rolls back on an exception."""
        async with self.sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


_IDLE_SINCE = "pfdo_idle_since"


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


UNIQUE_VIOLATION = "23505"


async def insert_expecting_new(
    session: AsyncSession,
    insert: Executable,
    on_conflict: Executable,
    params: dict[str, Any],
    on_conflict_params: Callable[[], dict[str, Any]] | None = None,
) -> Result[Any] | None:
    """Run a multi-row ``insert`` without a conflict clause, in a savepoint; if a key already
    exists, undo it and run ``on_conflict`` (the same rows with ``ON CONFLICT ...``) instead.

    For bulk writes whose keys are almost always new (an inbox, first postings of attendance
    marks): a plain INSERT skips the speculative-insertion pass of ``ON CONFLICT`` (measured here:
    an upsert of new rows costs about a quarter more than the plain insert), and the rare batch
    with a known key pays both statements. Returns None when the plain insert went through,
    else the ``on_conflict`` statement's result. ``on_conflict_params`` builds other parameters
    for the second statement (say, rows deduplicated by key, which the plain insert left to the
    unique index to notice).
    """
    try:
        async with session.begin_nested():
            await session.execute(insert, params)
        return None
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
    return await session.execute(on_conflict, params if on_conflict_params is None else on_conflict_params())
