"""Rebuild the catalogue from the topics, from offset zero.

1. A twin schema ``catalogue_rebuild`` is created with the live tables' DDL
   (``CREATE TABLE … (LIKE catalogue.x INCLUDING ALL)``).
2. A plain aiokafka consumer (no consumer group, nothing committed) is assigned every partition
   of the programs, providers and ratings topics, seeks to the beginning and reads up to the
   end offsets taken at the start, feeding each event to :func:`apply_catalogue_event` (the
   same function the live consumer uses) on the twin tables.
3. The swap: in one transaction that holds the catalogue lock exclusively (live handlers take
   it shared, so they wait), the consumer reads what arrived meanwhile up to the new end
   offsets, then the live tables are replaced by the twin's rows. Searches keep reading the
   old rows until the commit, then see the new ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope
from pfdo_contracts.registry import decode
from pfdo_contracts.topics import PROGRAMS, PROVIDERS, RATINGS
from pfdo_plumbing.db import Database
from pfdo_plumbing.kafka.topics import TopicNames
from pfdo_plumbing.logging import get_logger

from ..adapters.search_docs import mirror_ddl
from ..adapters.tables import CATALOGUE_TABLE_NAMES, LIVE_SCHEMA, REBUILD_SCHEMA, catalogue_tables
from .catalogue import CATALOGUE_EVENTS, CATALOGUE_LOCK, apply_catalogue_event

log = get_logger(__name__)
TOPICS = (PROGRAMS, PROVIDERS, RATINGS)
_HANDLED = {m.versioned_type() for m in CATALOGUE_EVENTS}


@dataclass
class RebuildReport:
    events_applied: int
    events_skipped: int
    entries: int
    swapped: bool


async def _prepare(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(text(f"DROP SCHEMA IF EXISTS {REBUILD_SCHEMA} CASCADE"))
        await session.execute(text(f"CREATE SCHEMA {REBUILD_SCHEMA}"))
        for name in CATALOGUE_TABLE_NAMES:
            await session.execute(
                text(f"CREATE TABLE {REBUILD_SCHEMA}.{name} (LIKE {LIVE_SCHEMA}.{name} INCLUDING ALL)")
            )
        for statement in mirror_ddl(REBUILD_SCHEMA):  # LIKE copies no triggers
            await session.execute(text(statement))


class _Replayer:
    def __init__(self, bootstrap: str, names: TopicNames) -> None:
        self.bootstrap = bootstrap
        self.names = names
        self.consumer: AIOKafkaConsumer | None = None
        self.partitions: list[TopicPartition] = []
        self.applied = 0
        self.skipped = 0
        self.cat = catalogue_tables(REBUILD_SCHEMA)

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest",
            client_id=f"pfdo-navigator-rebuild-{uuid.uuid4().hex[:6]}",
        )
        await self.consumer.start()
        # a consumer without subscriptions knows no partitions yet: load the cluster's metadata
        await self.consumer._client.force_metadata_update()  # noqa: SLF001
        for topic in TOPICS:
            name = self.names.name(topic)
            parts = self.consumer.partitions_for_topic(name) or set()
            self.partitions.extend(TopicPartition(name, p) for p in sorted(parts))
        self.consumer.assign(self.partitions)
        if self.partitions:
            await self.consumer.seek_to_beginning(*self.partitions)

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    async def read_to_end(self, db: Database | None = None, session: AsyncSession | None = None) -> None:
        """Read every partition up to its current end offset, applying events in order."""
        assert self.consumer is not None
        if not self.partitions:
            return
        ends = await self.consumer.end_offsets(self.partitions)
        pending = {tp for tp in self.partitions if await self.consumer.position(tp) < ends[tp]}
        while pending:
            batch = await self.consumer.getmany(*pending, timeout_ms=1000, max_records=2000)
            records = [(tp, rec) for tp, recs in batch.items() for rec in recs if rec.offset < ends[tp]]
            if records:
                if session is not None:
                    await self._apply(session, records)
                else:
                    assert db is not None
                    async with db.transaction() as s:
                        await self._apply(s, records)
            for tp in list(pending):
                if await self.consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)

    async def _apply(self, session: AsyncSession, records: list[tuple[TopicPartition, Any]]) -> None:
        for _tp, record in records:
            try:
                envelope = Envelope.model_validate_json(record.value or b"")
                if envelope.type not in _HANDLED:
                    self.skipped += 1
                    continue
                event = decode(envelope)
            except (ValidationError, LookupError, ValueError):
                self.skipped += 1  # the live consumer dead-lettered these; they change nothing
                continue
            await apply_catalogue_event(session, event, envelope, self.cat, own_state=False)
            self.applied += 1


async def rebuild_catalogue(db: Database, bootstrap: str, names: TopicNames, *, swap: bool = True) -> RebuildReport:
    """Replay the catalogue topics into the twin schema and (``swap``) make it the live one."""
    await _prepare(db)
    replayer = _Replayer(bootstrap, names)
    await replayer.start()
    try:
        await replayer.read_to_end(db=db)
        if swap:
            async with db.transaction() as session:
                await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CATALOGUE_LOCK})
                await replayer.read_to_end(session=session)
                for name in CATALOGUE_TABLE_NAMES:
                    columns = await _columns(session, name)
                    cols = ", ".join(columns)
                    await session.execute(text(f"DELETE FROM {LIVE_SCHEMA}.{name}"))
                    await session.execute(
                        text(f"INSERT INTO {LIVE_SCHEMA}.{name} ({cols}) SELECT {cols} FROM {REBUILD_SCHEMA}.{name}")
                    )
                entries = int(await session.scalar(text(f"SELECT count(*) FROM {LIVE_SCHEMA}.entries")) or 0)
                await session.execute(text(f"DROP SCHEMA {REBUILD_SCHEMA} CASCADE"))
        else:
            async with db.transaction() as session:
                entries = int(await session.scalar(text(f"SELECT count(*) FROM {REBUILD_SCHEMA}.entries")) or 0)
    finally:
        await replayer.stop()
    report = RebuildReport(replayer.applied, replayer.skipped, entries, swap)
    log.info("catalogue_rebuilt", applied=report.events_applied, skipped=report.events_skipped, entries=entries, swapped=swap)
    return report


async def _columns(session: AsyncSession, table: str) -> list[str]:
    """Writable columns (generated ones are recomputed by the database)."""
    rows = await session.execute(
        text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t "
            "AND is_generated = 'NEVER' ORDER BY ordinal_position"
        ),
        {"s": LIVE_SCHEMA, "t": table},
    )
    return [f'"{r[0]}"' for r in rows]
