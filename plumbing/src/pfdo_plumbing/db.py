"""Database wiring: one async engine per service and a transaction-scoped session."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager
from functools import cache
from itertools import groupby
from typing import Any

import orjson
from sqlalchemy import JSON, Executable, Result, Table, event, text
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 0, ping_idle_after_s: float = 1.0,
                 server_settings: dict[str, str] | None = None, autocommit: bool = False) -> None:
        """``server_settings``: PostgreSQL settings of every connection of the pool.
        ``autocommit``: a pool for :meth:`reading` only, whose statements each run alone."""
        options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
        if server_settings:
            options["connect_args"] = {"server_settings": server_settings}
        self.engine: AsyncEngine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, **options)
        self.autocommit = autocommit
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.ping_idle_after_s = ping_idle_after_s
        self._on_commit: dict[Table, list[Callable[[], None]]] = {}
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
        """A unit of work: commits when the block ends, rolls back on an exception. Rows deferred
        with :func:`insert_at_commit` are written just before the commit; once it has committed,
        the listeners of the tables they went to are called (:meth:`add_commit_listener`)."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
                await write_deferred(session)
            for table in session.info.pop(_WRITTEN, ()):
                for listener in self._on_commit.get(table, ()):
                    listener()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """Reads on an autocommit pool: each statement is its own transaction, so no BEGIN and
        COMMIT round trips. Two statements may see the data at two moments: only for reads
        where that does no harm (a catalogue page and its facet counts)."""
        if not self.autocommit:
            raise RuntimeError("reading() needs a Database made with autocommit=True")
        async with self.sessions() as session:
            session.info[_AUTOCOMMIT] = True
            yield session

    def add_commit_listener(self, table: Table, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every committed transaction of this database that wrote rows
        of ``table`` with :func:`insert_at_commit` (the outbox relay's wake-up). It runs in the
        committing caller's task, after the commit: it must be quick and must not raise."""
        self._on_commit.setdefault(table, []).append(listener)

    def remove_commit_listener(self, table: Table, listener: Callable[[], None]) -> None:
        listeners = self._on_commit.get(table, [])
        if listener in listeners:
            listeners.remove(listener)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


_IDLE_SINCE = "pfdo_idle_since"
_AUTOCOMMIT = "pfdo_autocommit_reading"
_DEFERRED = "pfdo_deferred_rows"
_WRITTEN = "pfdo_tables_written_at_commit"


def insert_at_commit(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Queue ``rows`` of an append-only ``table`` (the outbox, the audit log) to be written when
    the transaction commits, in the order they were queued, by one batched driver statement per
    table, or by one statement for all when they are few (see :func:`write_deferred`).

    A transaction that handles a run of events writes its outbox and audit rows in two
    statements instead of two per event (measured: a statement through the ORM session costs
    about 0.25 ms of CPU here). Rows written this way are not visible to the transaction's own
    queries, and a savepoint rolled back after queueing them does not take them back: queue
    only rows that nothing in the transaction reads, outside savepoints.
    """
    if rows:
        session.info.setdefault(_DEFERRED, {}).setdefault(table, []).extend(rows)


#: at most this many queued rows, spread over several tables, go in one statement
ONE_STATEMENT_ROWS = 8


async def write_deferred(session: AsyncSession) -> None:
    """Write the rows queued by :func:`insert_at_commit` (the transaction does it at commit).

    A few rows for several tables (an HTTP request's event and audit row) go in one statement,
    a round trip fewer before the commit; otherwise one batched statement per table and set of
    columns."""
    deferred: dict[Table, list[dict[str, Any]]] = session.info.pop(_DEFERRED, {})
    session.info.setdefault(_WRITTEN, set()).update(deferred)
    runs = [(table, columns, list(run)) for table, rows in deferred.items()
            for columns, run in groupby(rows, key=lambda row: tuple(row))]
    tables = [table for table, _, _ in runs]
    if 1 < len(runs) <= ONE_STATEMENT_ROWS and len(set(tables)) == len(tables) \
            and sum(len(rows) for _, _, rows in runs) <= ONE_STATEMENT_ROWS:
        # one run per table, so every table's rows keep their order inside one VALUES list
        statement = _inserts_of(tuple((table, columns, len(rows)) for table, columns, rows in runs))
        await statement.execute(session, **{
            f"r{r}_{i}_{name}": _driver_value(table, name, value)
            for r, (table, _, rows) in enumerate(runs) for i, row in enumerate(rows) for name, value in row.items()
        })
        return
    for table, columns, rows in runs:
        await _insert_of(table, columns).executemany(session, [
            {name: _driver_value(table, name, value) for name, value in row.items()} for row in rows
        ])


def insert_sql(table: Table, columns: Iterable[str], *, rows: Iterable[str] = ("",)) -> str:
    """``INSERT INTO table (a, b) VALUES (:a, :b)`` for a :class:`Statement`; one row of
    parameters per prefix in ``rows`` (``rows=("r0_", "r1_")``: ``(:r0_a, :r0_b), (:r1_a, :r1_b)``)."""
    columns = list(columns)
    values = ", ".join("(" + ", ".join(f":{row}{name}" for name in columns) + ")" for row in rows)
    return f"INSERT INTO {table.fullname} ({', '.join(columns)}) VALUES {values}"


@cache
def _insert_of(table: Table, columns: tuple[str, ...]) -> Statement:
    """The driver's INSERT of ``columns`` into ``table``."""
    return Statement(insert_sql(table, columns))


@cache
def _inserts_of(shape: tuple[tuple[Table, tuple[str, ...], int], ...]) -> Statement:
    """One statement inserting ``count`` rows of ``columns`` into each ``table`` of ``shape``."""
    return Statement("WITH " + ", ".join(
        f"w{r} AS ({insert_sql(table, columns, rows=[f'r{r}_{i}_' for i in range(count)])})"
        for r, (table, columns, count) in enumerate(shape)
    ) + " SELECT 1")


def _driver_value(table: Table, name: str, value: Any) -> Any:
    return _json_text(value) if value is not None and name in _json_columns(table) else value


@cache
def _json_columns(table: Table) -> frozenset[str]:
    return frozenset(column.name for column in table.columns if isinstance(column.type, JSON))


def _json_text(value: Any) -> str:
    # the driver's JSON codecs (set up by SQLAlchemy on each connection) take JSON as text
    return orjson.dumps(value).decode()


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


UNIQUE_VIOLATION = "23505"


def error_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what caused it (``__cause__``, else ``__context__``), once each."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def sqlstate_of(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE of an error from SQLAlchemy or from the driver (``23505``...),
    searched along its causes; None for errors that did not come from the server."""
    return _reported_by_server(exc, "sqlstate")


def constraint_of(exc: BaseException) -> str | None:
    """The constraint (or unique index) an error from SQLAlchemy or from the driver violated,
    searched along its causes; None when the server named none."""
    return _reported_by_server(exc, "constraint_name")


def _reported_by_server(exc: BaseException, field: str) -> str | None:
    for current in error_chain(exc):
        for candidate in (current, getattr(current, "orig", None)):
            value = getattr(candidate, field, None)
            if isinstance(value, str):
                return value
    return None


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
        if sqlstate_of(exc) != UNIQUE_VIOLATION:
            raise
    return await session.execute(on_conflict, params if on_conflict_params is None else on_conflict_params())


_DRIVER = "pfdo_driver_connection"
_DRIVER_DIALECT = postgresql_asyncpg.dialect()
_QUOTED_OR_NAMED = re.compile(r"'(?:[^']|'')*'|(?<![:\w]):([A-Za-z_]\w*)")


class Statement:
    """SQL with ``:named`` parameters, run on the driver connection (asyncpg) of the session's
    transaction, past SQLAlchemy's execution layer.

    For the statements of hot paths only: the same SELECT by primary key took about 0.23 ms of
    CPU through the session and 0.06 ms through the driver here, and a reservation runs a dozen
    such statements. Results are the driver's records (``row["column"]``); parameters go as
    the driver takes them (UUIDs, dates, lists for arrays).
    """

    def __init__(self, sql: str) -> None:
        self.names: list[str] = []
        self.sql = _QUOTED_OR_NAMED.sub(self._number, sql)

    @classmethod
    def compiled(cls, statement: Executable) -> Statement:
        """A statement built with SQLAlchemy, compiled once for the driver: its ``bindparam``
        names are the parameters. For statements built per shape and run many times, so that
        building, cache-key hashing and result processing are not paid on every run. Values go
        to the driver as they are: no SQLAlchemy type processing on the way in or out."""
        compiled = statement.compile(dialect=_DRIVER_DIALECT)
        if any(compiled.binds[name].value is not None for name in compiled.positiontup or ()):
            raise ValueError("a statement compiled for the driver takes every value as a named parameter")
        out = cls.__new__(cls)
        out.sql = compiled.string
        out.names = list(compiled.positiontup or ())
        return out

    def _number(self, match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # a string literal: left as written
            return match.group(0)
        if name not in self.names:
            self.names.append(name)
        return f"${self.names.index(name) + 1}"

    def _args(self, params: dict[str, Any]) -> list[Any]:
        if params.keys() != set(self.names):
            raise TypeError(f"parameters {sorted(params)} do not match the statement's {sorted(self.names)}")
        return [params[name] for name in self.names]

    async def fetch(self, session: AsyncSession, **params: Any) -> list[Any]:
        return await (await driver_connection(session)).fetch(self.sql, *self._args(params))

    def args_from(self, params: Mapping[str, Any]) -> list[Any]:
        """Its parameters' values in order, picked from ``params``, which may also hold other
        statements' (one dict of values for a page and its counts)."""
        return [params[name] for name in self.names]

    async def fetch_from(self, session: AsyncSession, params: Mapping[str, Any]) -> list[Any]:
        return await (await driver_connection(session)).fetch(self.sql, *self.args_from(params))

    async def fetchrow(self, session: AsyncSession, **params: Any) -> Any:
        return await (await driver_connection(session)).fetchrow(self.sql, *self._args(params))

    async def fetchval(self, session: AsyncSession, **params: Any) -> Any:
        return await (await driver_connection(session)).fetchval(self.sql, *self._args(params))

    async def execute(self, session: AsyncSession, **params: Any) -> None:
        await (await driver_connection(session)).execute(self.sql, *self._args(params))

    async def executemany(self, session: AsyncSession, rows: list[dict[str, Any]]) -> None:
        if rows:
            await (await driver_connection(session)).executemany(self.sql, [self._args(row) for row in rows])


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the session's transaction (or, for a
    session of :meth:`Database.reading`, the autocommit connection)."""
    driver = session.info.get(_DRIVER)
    if driver is None:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        if not session.info.get(_AUTOCOMMIT):
            if not driver.is_in_transaction():
                # SQLAlchemy's driver adapter opens the transaction with its first statement
                await connection.execute(text("SELECT 1"))
            if not driver.is_in_transaction():
                raise RuntimeError("the session's connection is not in a transaction")
        session.info[_DRIVER] = driver
    return driver
