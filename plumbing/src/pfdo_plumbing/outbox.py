"""Transactional outbox: events are rows written in the state change's own transaction,
then relayed to Kafka in commit order by one idempotent producer per service.

If the relay dies after Kafka accepted a batch and before the rows were deleted, the batch is
sent again on restart: delivery is at-least-once, and consumers' inboxes make effects
exactly-once.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope, Event, wrap

from . import clock, context
from .db import Database, insert_at_commit
from .kafka.topics import TopicNames
from .logging import get_logger
from .tables import OUTBOX

log = get_logger(__name__)


class OutboxWriter:
    """Adds events to the outbox inside the caller's transaction (written at its commit)."""

    def __init__(self, source: str, topics: TopicNames) -> None:
        self.source = source
        self.topics = topics

    def envelope(self, event: Event, *, event_id: uuid.UUID | None = None) -> Envelope:
        return wrap(
            event,
            source=self.source,
            correlation_id=context.correlation_id(),
            causation_id=context.causation_id(),
            event_id=event_id,
            time=clock.now(),  # the business clock: consumers date the occurrence by it
        )

    async def put(self, session: AsyncSession, *events: Event) -> list[Envelope]:
        return await self.put_many(session, events)

    async def put_many(self, session: AsyncSession, events: Iterable[Event]) -> list[Envelope]:
        events = list(events)
        envelopes = [self.envelope(e) for e in events]
        insert_at_commit(session, OUTBOX, [
            {
                "event_id": env.id,
                "topic": self.topics.name(ev.topic),
                "key": ev.partition_key(),
                "event_type": env.type,
                "payload": env.model_dump(mode="json"),
            }
            for env, ev in zip(envelopes, events, strict=True)
        ])
        return envelopes


def encode_envelope(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload)


FaultHook = Callable[[list[uuid.UUID]], Awaitable[None]]


class OutboxRelay:
    """Moves committed outbox rows to Kafka, oldest first, one relay per database at a time.

    A transaction-scoped advisory lock elects the relay among a service's instances, so rows of
    one partition key never overtake each other.
    """

    def __init__(
        self,
        db: Database,
        producer: AIOKafkaProducer,
        *,
        service: str,
        batch_size: int = 1000,
        idle_interval_s: float = 1.0,
        min_gap_s: float = 0.05,
        after_publish: FaultHook | None = None,
    ) -> None:
        self.db = db
        self.producer = producer
        self.batch_size = batch_size
        self.idle_interval_s = idle_interval_s
        self.min_gap_s = min_gap_s
        self.lock_id = zlib.crc32(f"pfdo-outbox-relay:{service}".encode())
        self.after_publish = after_publish
        self.published = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many events went out (0: nothing to do or not leader)."""
        async with self.db.transaction() as session:
            leader = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": self.lock_id})
            if not leader:
                return 0
            rows = (
                await session.execute(
                    select(OUTBOX.c.seq, OUTBOX.c.event_id, OUTBOX.c.topic, OUTBOX.c.key, OUTBOX.c.event_type, OUTBOX.c.payload)
                    .order_by(OUTBOX.c.seq)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            futures = []
            for row in rows:
                headers = [("ce_type", row.event_type.encode()), ("ce_id", str(row.event_id).encode())]
                futures.append(
                    await self.producer.send(
                        row.topic, value=encode_envelope(row.payload), key=row.key.encode(), headers=headers
                    )
                )
            await asyncio.gather(*futures)
            if self.after_publish is not None:
                await self.after_publish([r.event_id for r in rows])
            await session.execute(delete(OUTBOX).where(OUTBOX.c.seq.in_([r.seq for r in rows])))
            self.published += len(rows)
            return len(rows)

    def wake(self) -> None:
        """Outbox rows were committed in this process: relay them without waiting for the poll."""
        self._wake.set()

    async def run(self) -> None:
        """Relay while there are rows. Then wait for a commit in this process to wake the relay,
        or at most ``idle_interval_s`` (rows committed by other instances or by plain SQL), but
        never start a run less than ``min_gap_s`` after the last one started: under load the
        relay then sends what came in meanwhile, in batches as it did when it polled every
        ``min_gap_s`` (woken on every commit instead, it ran smaller batches just when the
        consumers needed the CPU: the rush's saga p99 went from 1.66 to 2.4-2.8 s at 100/s).
        An idle service no longer polls 20 times a second."""
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            self._wake.clear()  # a commit from here on wakes the wait below
            started = loop.time()
            try:
                sent = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database unavailable: keep the rows, try again
                log.warning("outbox_relay_retry", error=str(exc), error_type=type(exc).__name__)
                sent = 0
                await self._wait(self._stopping, 1.0)
            if sent >= self.batch_size:
                continue
            await self._wait(self._stopping, started + self.min_gap_s - loop.time())
            await self._wait(self._wake, self.idle_interval_s)

    async def _wait(self, event: asyncio.Event, timeout: float) -> None:
        if timeout > 0 and not self._stopping.is_set():
            try:
                await asyncio.wait_for(event.wait(), timeout=timeout)
            except TimeoutError:
                pass

    def start(self) -> None:
        self._stopping.clear()
        self.db.add_commit_listener(OUTBOX, self.wake)
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        self.db.remove_commit_listener(OUTBOX, self.wake)
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except TimeoutError:
                self._task.cancel()
            self._task = None

    async def pending(self) -> int:
        async with self.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(OUTBOX)) or 0)
