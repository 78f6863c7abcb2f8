"""Consuming events: parse, deduplicate through the inbox, run the handler in one transaction,
retry a bounded number of times, then dead-letter with the error in headers.

Infrastructure failures (database or broker down) are never dead-lettered: the batch is
negatively acknowledged and redelivered from the same offset once things are back.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope, Event
from pfdo_contracts.registry import decode, model_for

from .. import context, inbox
from ..db import Database
from ..logging import get_logger
from ..metrics import CONSUMER_LAG, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_DUPLICATE
from .errors import is_transient
from .topics import TopicNames

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Event, Envelope], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[tuple[Event, Envelope]]], Awaitable[None]]


@dataclass(frozen=True)
class Received:
    record: ConsumerRecord
    envelope: Envelope
    event: Event


class PoisonMessage(Exception):
    """The message cannot be understood: it goes to the dead-letter topic at once."""


class EventConsumer:
    """The event handlers of one service, behind one consumer group."""

    def __init__(
        self,
        *,
        service: str,
        db: Database,
        names: TopicNames,
        retries: int = 3,
        max_records: int = 1000,
        retry_backoff_s: float = 0.05,
        unit_size: int = 2000,
        unit_bytes: int = 1024 * 1024,
        fetch_max_bytes: int = 16 * 1024 * 1024,
        together_size: int = 50,
    ) -> None:
        self.service = service
        self.db = db
        self.names = names
        self.retries = retries
        self.max_records = max_records
        self.retry_backoff_s = retry_backoff_s
        self.unit_size = unit_size  # most events of one type applied in one transaction
        self.unit_bytes = unit_bytes  # ... and about this much payload (a unit decodes while the last applies)
        self.fetch_max_bytes = fetch_max_bytes  # bounds the records buffered ahead of processing
        self.together_size = together_size  # events of a ``together`` type sharing a transaction at most
        self.together: set[str] = set()
        self.handlers: dict[str, Handler] = {}
        self.batch_handlers: dict[str, BatchHandler] = {}
        self.topics: set[str] = set()
        self.producer: AIOKafkaProducer | None = None
        self.processed = 0
        self._typed: dict[str, type[Envelope] | None] = {}

    # registration -------------------------------------------------------------------------
    def on(self, *models: type[Event], together: bool = False) -> Callable[[Handler], Handler]:
        """A handler of one event at a time. ``together``: a run of consecutive events of one of
        these types (at most ``together_size``) is handled in one transaction, each event in turn,
        as a burst of independent requests (a rush of applications) is cheaper to commit once."""

        def register(fn: Handler) -> Handler:
            for model in models:
                self.handlers[model.versioned_type()] = fn
                self.topics.add(model.topic)
                if together:
                    self.together.add(model.versioned_type())
            return fn

        return register

    def on_batch(self, *models: type[Event]) -> Callable[[BatchHandler], BatchHandler]:
        """A handler that takes a run of events of one type in one transaction (for floods)."""

        def register(fn: BatchHandler) -> BatchHandler:
            for model in models:
                self.batch_handlers[model.versioned_type()] = fn
                self.topics.add(model.topic)
            return fn

        return register

    def attach(self, broker: KafkaBroker) -> None:
        """Subscribe to every topic a handler needs, in the service's consumer group."""
        if not self.topics:
            return
        subscriber = broker.subscriber(
            *sorted(self.names.name(t) for t in self.topics),
            group_id=self.names.group(self.service),
            auto_offset_reset="earliest",
            batch=True,
            max_records=self.max_records,
            fetch_max_bytes=self.fetch_max_bytes,
            max_partition_fetch_bytes=min(self.fetch_max_bytes, 1024 * 1024),
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_raw_body,  # we parse the envelope ourselves: no second JSON decoding per record
            title=f"{self.service}-events",
        )

        @subscriber
        async def consume(message: KafkaMessage) -> None:
            raw = message.raw_message
            records = list(raw) if isinstance(raw, tuple | list) else [raw]
            await self.process(records)
            await _detached(message.ack())  # FastStream sees the fetch acknowledged and commits nothing more
            self.record_lag(message.consumer, records)

    def record_lag(self, consumer: Any, records: Sequence[ConsumerRecord]) -> None:
        """Set ``pfdo_consumer_lag`` for every partition the processed records came from: the
        messages still behind them, by the log end the consumer's last fetch reported."""
        highwater = getattr(consumer, "highwater", None)  # the in-memory test broker's consumer has none
        if highwater is None:
            return
        last: dict[tuple[str, int], int] = {}
        for record in records:
            last[(record.topic, record.partition)] = record.offset
        for (topic, partition), offset in last.items():
            end = highwater(TopicPartition(topic, partition))
            if end is not None:
                CONSUMER_LAG.labels(self.service, topic, str(partition)).set(max(0, end - offset - 1))

    # processing ---------------------------------------------------------------------------
    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Handle the records of one fetch in order. Raises only on infrastructure failures.

        Consecutive events of a type with a batch handler form one unit (at most ``unit_size``
        events and about ``unit_bytes`` of payload), applied in one transaction; so do runs of a
        ``together`` type (at most ``together_size``); every other event is a unit of its own.
        Decoding (CPU, in this process) overlaps applying (mostly waiting
        for PostgreSQL): unit k is applied by a task while unit k+1 is decoded, and k+1 starts
        only after k has committed, so order is kept and a flood costs about max(decode, apply)
        instead of their sum. The call returns only when every unit has committed (the offsets
        are acknowledged after it returns).
        """
        applying: asyncio.Task[None] | None = None
        current: list[Received] = []
        size = 0
        try:
            for index, record in enumerate(records):
                if applying is not None and applying.done():
                    applying.result()  # an infrastructure failure: stop here, redelivered later
                    applying = None
                try:
                    received = self._parse(record)
                except PoisonMessage as exc:
                    await _detached(self._dead_letter(record, exc, attempts=0))
                    continue
                if index % 32 == 31:
                    # let the applying unit send its next statement. Yielding every 8 or 16 records
                    # drained a 1 M-mark flood no faster here, but billing peaked at 230 MB instead
                    # of 160 MB (the bound is 200); why, was not pinned down
                    await asyncio.sleep(0)
                if received is None:
                    continue
                kind = received.envelope.type
                if (current and current[0].envelope.type == kind and size < self.unit_bytes
                        and len(current) < (self.unit_size if kind in self.batch_handlers
                                            else self.together_size if kind in self.together else 1)):
                    current.append(received)
                    size += len(record.value or b"")
                    continue
                if current:
                    applying = await self._hand_over(applying, current)
                current, size = [received], len(record.value or b"")
            if current:
                applying = await self._hand_over(applying, current)
        finally:
            if applying is not None:
                await applying

    async def _hand_over(self, applying: asyncio.Task[None] | None, unit: list[Received]) -> asyncio.Task[None]:
        """Wait for the unit being applied to commit, then start applying ``unit``."""
        if applying is not None:
            await applying
        return _detached(self._process_unit(unit))

    def _typed_envelope(self, versioned_type: str) -> type[Envelope] | None:
        """An envelope model whose ``data`` is the event model itself: one validation pass."""
        if versioned_type not in self._typed:
            try:
                model = model_for(versioned_type)
            except LookupError:
                self._typed[versioned_type] = None
            else:
                self._typed[versioned_type] = create_model(
                    f"{model.__name__}Envelope", __base__=Envelope, data=(model, ...)
                )
        return self._typed[versioned_type]

    def _parse(self, record: ConsumerRecord) -> Received | None:
        # fast path: the type named by our relay's header (or, from other producers, read off the
        # body) picks a typed envelope that validates envelope and payload in one pass; a wrong
        # guess only costs falling through to the general path below
        kind = _declared_type(record)
        if kind is not None and (kind in self.handlers or kind in self.batch_handlers):
            typed = self._typed_envelope(kind)
            if typed is not None:
                try:
                    envelope = typed.model_validate_json(record.value or b"")
                except ValidationError:
                    pass  # the general path names the problem precisely
                else:
                    if envelope.type == kind:
                        return Received(record, envelope, envelope.data)  # type: ignore[arg-type]
        try:
            envelope = Envelope.model_validate_json(record.value or b"")
        except ValidationError as exc:
            raise PoisonMessage(f"not a valid event envelope: {exc.errors()[:3]}") from exc
        if envelope.type not in self.handlers and envelope.type not in self.batch_handlers:
            return None  # an event this service does not consume (or a newer version it does not know)
        try:
            event = decode(envelope)
        except (ValidationError, LookupError) as exc:
            raise PoisonMessage(f"payload does not match {envelope.type}: {exc}") from exc
        return Received(record, envelope, event)

    async def _process_unit(self, unit: list[Received]) -> None:
        attempts = 0
        while True:
            attempts += 1
            try:
                await self._apply(unit)
                return
            except Exception as exc:
                if is_transient(exc):
                    log.warning("consumer_transient_failure", error=str(exc)[:500], error_type=type(exc).__name__)
                    await asyncio.sleep(min(2.0, self.retry_backoff_s * 2**attempts))
                    if attempts < 20:
                        continue
                    raise
                if len(unit) > 1:
                    # one bad event must not poison its neighbours: go one by one
                    for single in unit:
                        await self._process_unit([single])
                    return
                if attempts >= self.retries:
                    await self._dead_letter(unit[0].record, exc, attempts=attempts)
                    return
                log.warning("consumer_retry", attempt=attempts, error=str(exc)[:500], event_type=unit[0].envelope.type)
                await asyncio.sleep(self.retry_backoff_s * attempts)

    async def _apply(self, unit: list[Received]) -> None:
        first = unit[0].envelope
        with context.bound(correlation=first.correlationid, causation=str(first.id), event_type=first.type):
            async with self.db.transaction() as session:
                fresh = await inbox.claim(session, [(r.envelope.id, r.envelope.type) for r in unit])
                new = []
                for r in unit:  # a copy of an event within the unit itself is a duplicate too
                    if r.envelope.id in fresh:
                        fresh.discard(r.envelope.id)
                        new.append(r)
                duplicates = len(unit) - len(new)
                if duplicates:
                    EVENTS_DUPLICATE.labels(self.service).inc(duplicates)
                if not new:
                    return
                kind = first.type
                if kind in self.batch_handlers:
                    await self.batch_handlers[kind](session, [(r.event, r.envelope) for r in new])
                elif len(new) == 1:
                    await self.handlers[kind](session, new[0].event, new[0].envelope)
                else:  # a run of a ``together`` type: each event under its own ids
                    for r in new:
                        with context.bound(correlation=r.envelope.correlationid, causation=str(r.envelope.id)):
                            await self.handlers[kind](session, r.event, r.envelope)
        self.processed += len(new)
        EVENTS_CONSUMED.labels(self.service, first.type).inc(len(new))

    async def _dead_letter(self, record: ConsumerRecord, exc: BaseException, *, attempts: int) -> None:
        headers: list[tuple[str, bytes]] = list(record.headers or [])
        headers += [
            ("x-dlq-consumer", self.service.encode()),
            ("x-dlq-error-type", type(exc).__name__.encode()),
            ("x-dlq-error", str(exc)[:2000].encode()),
            ("x-dlq-original-topic", record.topic.encode()),
            ("x-dlq-original-partition", str(record.partition).encode()),
            ("x-dlq-original-offset", str(record.offset).encode()),
            ("x-dlq-attempts", str(attempts).encode()),
        ]
        assert self.producer is not None, "EventConsumer.producer must be set before consuming"
        await self.producer.send_and_wait(
            self.names.dead_letter(self.service), value=record.value, key=record.key, headers=headers
        )
        EVENTS_DEAD_LETTERED.labels(self.service).inc()
        log.error(
            "event_dead_lettered",
            topic=record.topic, partition=record.partition, offset=record.offset,
            error_type=type(exc).__name__, error=str(exc)[:500], attempts=attempts,
        )


_TYPE_IN_BODY = re.compile(rb'"type"\s*:\s*"([^"\\]{1,200})"')


def _declared_type(record: ConsumerRecord) -> str | None:
    """The event type a record says it carries: its ``ce_type`` header, else the first ``"type"``
    member of its body (a hint only: the typed validation checks it)."""
    for name, value in record.headers or ():
        if name == "ce_type":
            return value.decode(errors="replace")
    found = _TYPE_IN_BODY.search(record.value or b"")
    return found.group(1).decode(errors="replace") if found else None


def _detached(work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    """Run ``work`` as a task in an empty context, not in the handler's.

    FastStream keeps the message being handled (with every record of its fetch) in a context
    variable, and a timer keeps the context it was armed in until it fires or the event loop
    purges it, even once cancelled: the broker client's request timeout (40 s) for a commit or
    a dead letter, the database driver's statement-cache expiry (300 s). Armed from the
    handler's context, those timers kept about four fetches of a flood alive at a time, and
    billing outgrew its memory bound the faster it drained."""
    return asyncio.get_running_loop().create_task(work, context=contextvars.Context())


async def _raw_body(message: Any) -> Any:
    """FastStream decoder that leaves bodies alone (the consumer reads the raw records)."""
    return None


__all__ = ["EventConsumer", "PoisonMessage"]
