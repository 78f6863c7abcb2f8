"""The status feed's storage side (migration 0008): the sequencer that gives committed rows their
positions, the reads of a follower's rows, and the hub that hands new rows to the open streams.

* **Sequencer.** Triggers write ``status_feed_pending`` rows in the state change's transaction.
  :meth:`StatusFeed.sequence_once` moves the committed ones to ``status_feed`` with the next
  positions, in the order they were written; ``status_feed_state``'s row lock lets one sequencer
  run at a time (another instance skips), so positions become visible in order: a reader never
  sees a position with a lower one still to come. It runs after every commit of this process that
  wrote the outbox or the audit log (every state change writes one of them), and every
  ``sequence_interval_s`` for what other instances or plain SQL committed.
* **Hub.** One reader per process fetches the rows after the last position it handed out, after
  each sequencer run of its own and every ``poll_s`` (other instances' runs), and hands each row
  to the streams whose follower it concerns (parent: ``parent_id``; provider: ``provider_id``).
  A stream resuming from a position reads its own rows first (:meth:`StatusFeed.rows_after`), so
  no stream holds a database connection while it waits.
* **Retention.** Rows older than ``retention_days`` are deleted; ``pruned_through`` tells a stream
  resuming from before it that it may have missed rows (the follower reloads its state).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from pfdo_plumbing.db import Database
from pfdo_plumbing.logging import get_logger
from pfdo_plumbing.tables import AUDIT, OUTBOX

log = get_logger(__name__)


@dataclass(frozen=True)
class FeedRow:
    position: int
    parent_id: str
    provider_id: str
    kind: str
    data: dict[str, Any]
    occurred_at: dt.datetime


@dataclass(frozen=True)
class Follower:
    """Whose rows a stream shows: a parent's (own children) or a provider's (own organisation)."""

    parent_id: str | None = None
    provider_id: str | None = None

    def follows(self, row: FeedRow) -> bool:
        if self.parent_id is not None:
            return row.parent_id == self.parent_id
        return self.provider_id is not None and row.provider_id == self.provider_id


LAGGED = object()
"""Put in a subscription's queue when it overflowed: the stream reads its rows from the table."""
CLOSED = object()
"""Put in every subscription's queue when the service stops."""


@dataclass(eq=False)
class Subscription:
    follower: Follower
    queue: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))

    def offer(self, item: Any) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(LAGGED)


_MOVE = text("""
    WITH moved AS (
        DELETE FROM status_feed_pending
        WHERE entry_id IN (SELECT entry_id FROM status_feed_pending ORDER BY entry_id LIMIT :batch)
        RETURNING entry_id, parent_id, provider_id, kind, data, occurred_at
    )
    INSERT INTO status_feed (position, parent_id, provider_id, kind, data, occurred_at)
    SELECT :last + row_number() OVER (ORDER BY entry_id), parent_id, provider_id, kind, data, occurred_at
    FROM moved
""")
_COLUMNS = "position, parent_id, provider_id, kind, data, occurred_at"


def _row(r: Any) -> FeedRow:
    return FeedRow(r.position, r.parent_id, str(r.provider_id), r.kind, r.data, r.occurred_at)


class StatusFeed:
    def __init__(self, db: Database, *, sequence_interval_s: float = 1.0, poll_s: float = 1.0,
                 retention_days: int = 7, batch: int = 1000) -> None:
        self.db = db
        self.sequence_interval_s = sequence_interval_s
        self.poll_s = poll_s
        self.retention_days = retention_days
        self.batch = batch
        self.sequenced = 0
        self._subscriptions: set[Subscription] = set()
        self._handed_out = 0
        self._wake_sequencer = asyncio.Event()
        self._wake_hub = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ sequencer
    async def sequence_once(self) -> int:
        """Give the committed pending rows their positions (0: none, or another sequencer runs)."""
        async with self.db.transaction() as session:
            if not await session.scalar(text("SELECT EXISTS (SELECT 1 FROM status_feed_pending)")):
                return 0
            last = await session.scalar(
                text("SELECT last_position FROM status_feed_state WHERE id = 1 FOR UPDATE SKIP LOCKED"))
            if last is None:
                return 0  # another sequencer holds the row: it moves these rows
            moved = (await session.execute(_MOVE, {"batch": self.batch, "last": last})).rowcount or 0
            if moved:
                await session.execute(text("UPDATE status_feed_state SET last_position = :p WHERE id = 1"),
                                      {"p": last + moved})
        self.sequenced += moved
        return moved

    def wake(self) -> None:
        """A transaction of this process that may have written feed rows committed."""
        self._wake_sequencer.set()

    async def _sequence_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake_sequencer.clear()
            try:
                moved = await self.sequence_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the database is away: try again later
                log.warning("status_feed_sequence_retry", error=str(exc), error_type=type(exc).__name__)
                moved = 0
            if moved:
                self._wake_hub.set()
                if moved >= self.batch:
                    continue
            await _wait(self._wake_sequencer, self.sequence_interval_s)

    # ------------------------------------------------------------------ reads
    async def state(self) -> tuple[int, int]:
        """(last position, pruned through)."""
        async with self.db.transaction() as session:
            row = (await session.execute(
                text("SELECT last_position, pruned_through FROM status_feed_state WHERE id = 1"))).one()
            return int(row.last_position), int(row.pruned_through)

    async def rows_after(self, follower: Follower, position: int, limit: int = 500) -> list[FeedRow]:
        column = "parent_id" if follower.parent_id is not None else "provider_id"
        value = follower.parent_id if follower.parent_id is not None else follower.provider_id
        async with self.db.transaction() as session:
            rows = await session.execute(
                text(f"SELECT {_COLUMNS} FROM status_feed WHERE {column} = :v AND position > :p "  # noqa: S608
                     f"ORDER BY position LIMIT :n"),
                {"v": value if column == "parent_id" else uuid.UUID(value or ""), "p": position, "n": limit},
            )
            return [_row(r) for r in rows]

    # ------------------------------------------------------------------ hub
    def subscribe(self, follower: Follower) -> Subscription:
        sub = Subscription(follower)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    @property
    def streams(self) -> int:
        return len(self._subscriptions)

    async def _hub_loop(self) -> None:
        self._handed_out = (await self.state())[0]
        while not self._stopping.is_set():
            self._wake_hub.clear()
            try:
                await self._hand_out()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("status_feed_hub_retry", error=str(exc), error_type=type(exc).__name__)
            await _wait(self._wake_hub, self.poll_s)

    async def _hand_out(self) -> None:
        while True:
            if not self._subscriptions:  # nobody listens: only move the mark
                self._handed_out = (await self.state())[0]
                return
            async with self.db.transaction() as session:
                rows = [_row(r) for r in await session.execute(
                    text(f"SELECT {_COLUMNS} FROM status_feed WHERE position > :p ORDER BY position LIMIT :n"),  # noqa: S608
                    {"p": self._handed_out, "n": self.batch},
                )]
            for row in rows:
                for sub in list(self._subscriptions):
                    if sub.follower.follows(row):
                        sub.offer(row)
            if rows:
                self._handed_out = rows[-1].position
            if len(rows) < self.batch:
                return

    # ------------------------------------------------------------------ retention
    async def prune(self) -> int:
        """Delete rows older than the retention; returns how many."""
        async with self.db.transaction() as session:
            cutoff = await session.scalar(
                text("SELECT max(position) FROM status_feed WHERE occurred_at < now() - make_interval(days => :d)"),
                {"d": self.retention_days},
            )
            if cutoff is None:
                return 0
            deleted = (await session.execute(text("DELETE FROM status_feed WHERE position <= :c"), {"c": cutoff})).rowcount
            await session.execute(
                text("UPDATE status_feed_state SET pruned_through = greatest(pruned_through, :c) WHERE id = 1"),
                {"c": cutoff})
            return int(deleted or 0)

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> None:
        self._stopping.clear()
        self.db.add_commit_listener(OUTBOX, self.wake)
        self.db.add_commit_listener(AUDIT, self.wake)
        self._tasks = [asyncio.create_task(self._sequence_loop(), name="status-feed-sequencer"),
                       asyncio.create_task(self._hub_loop(), name="status-feed-hub")]

    def close_streams(self) -> None:
        """End every open stream (the service is stopping): each gets CLOSED and finishes."""
        self._stopping.set()
        for sub in list(self._subscriptions):
            sub.offer(CLOSED)

    @property
    def closing(self) -> bool:
        return self._stopping.is_set()

    async def stop(self) -> None:
        self.db.remove_commit_listener(OUTBOX, self.wake)
        self.db.remove_commit_listener(AUDIT, self.wake)
        self.close_streams()
        self._wake_sequencer.set()
        self._wake_hub.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []


def end_streams_on_exit_signals(feed: StatusFeed) -> Callable[[], None]:
    """End the open streams as soon as the process is asked to stop (SIGTERM, SIGINT).

    The server waits for open responses to finish before it runs the application's shutdown, and
    a stream does not finish by itself: so the streams end when the signal arrives (each client
    sees a complete response and reconnects, to another instance, with its last id), and the
    server's own handler runs as before. Returns the function that puts the handlers back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def handler(signum: int, frame: Any) -> None:
        loop.call_soon_threadsafe(feed.close_streams)
        chained = previous[signal.Signals(signum)]
        if callable(chained):  # the server's handler (always installed under uvicorn)
            chained(signum, frame)

    for sig in previous:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, old in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, old)

    return restore


async def _wait(event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout)
    except TimeoutError:
        pass
