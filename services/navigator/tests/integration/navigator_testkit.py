"""Test helpers for the navigator's integration tests: event builders, a plain Kafka
publisher/reader, a fixed regional clock, and polling with a deadline."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from pfdo_contracts.common import Direction, FundingKind, ScheduleSlot
from pfdo_contracts.envelope import Envelope, Event, wrap
from pfdo_contracts.events import registry as g
from pfdo_plumbing.kafka.topics import TopicNames

from pfdo_navigator.settings import NavigatorSettings

T = TypeVar("T")


class FixedClockSettings(NavigatorSettings):
    """Settings whose regional 'today' the test moves (class-level, shared by the app)."""

    def today(self) -> dt.date:
        return CLOCK["today"]


CLOCK: dict[str, dt.date] = {"today": dt.date(2026, 9, 1)}

TUE_THU = [
    ScheduleSlot(weekday=2, starts_at=dt.time(16, 0), ends_at=dt.time(16, 45)),
    ScheduleSlot(weekday=4, starts_at=dt.time(16, 0), ends_at=dt.time(16, 45)),
]
SAT = [ScheduleSlot(weekday=6, starts_at=dt.time(10, 0), ends_at=dt.time(11, 30))]


def module(*, capacity: int = 12, price: int = 2_000_000, schedule: list[ScheduleSlot] | None = None,
           title: str = "Группа 1", start: dt.date = dt.date(2026, 9, 1), end: dt.date = dt.date(2027, 5, 31),
           module_id: uuid.UUID | None = None) -> g.ModuleSnapshot:
    return g.ModuleSnapshot(
        module_id=module_id or uuid.uuid4(), title=title, start_date=start, end_date=end,
        schedule=schedule or TUE_THU, hours=72, capacity=capacity, price_kopecks=price,
        normative_cost_kopecks=1_800_000, lessons_per_week=2,
    )


def program(*, provider_id: uuid.UUID, title: str, description: str = "", direction: Direction = Direction.ARTISTIC,
            municipality: str = "01", ages: tuple[int, int] = (5, 17), funding: FundingKind = FundingKind.CERTIFICATE,
            modules: list[g.ModuleSnapshot] | None = None, revision: int = 1, program_id: uuid.UUID | None = None,
            certified_on: dt.date = dt.date(2026, 8, 1)) -> g.ProgramCertified:
    return g.ProgramCertified(
        program_id=program_id or uuid.uuid4(), provider_id=provider_id, revision=revision, title=title,
        description=description or title, direction=direction, municipality_code=municipality,
        venue_address="Липецк, ул. Ленина, 1", age_min=ages[0], age_max=ages[1], funding_kind=funding,
        modules=modules or [module()], certified_on=certified_on,
    )


def provider_active(provider_id: uuid.UUID, municipality: str = "01") -> list[Event]:
    return [
        g.ProviderRegistered(provider_id=provider_id, provider_type="private_org", municipality_code=municipality,
                             status="new", registered_on=dt.date(2026, 6, 1)),
        g.ProviderStatusChanged(provider_id=provider_id, old_status="new", new_status="active",
                                reason="moderation_passed", changed_on=dt.date(2026, 6, 2)),
    ]


def certificate(parent: str, *, birth: dt.date = dt.date(2016, 3, 14), municipality: str = "01",
                certificate_id: uuid.UUID | None = None) -> g.CertificateIssued:
    return g.CertificateIssued(
        certificate_id=certificate_id or uuid.uuid4(), number=f"48{municipality}{uuid.uuid4().int % 10**6:06d}",
        region_code="48", municipality_code=municipality, birth_date=birth, issued_on=dt.date(2026, 8, 20),
        valid_until=dt.date(birth.year + 18, birth.month, birth.day) - dt.timedelta(days=1),
        usage_kind="funding", parent_id=parent,
    )


SOURCES = {"registry": "pfdo/registry", "billing": "pfdo/billing", "ratings": "pfdo/ratings"}


class Bus:
    """Publishes events as their producing service would, and reads topics from the start."""

    def __init__(self, bootstrap: str, names: TopicNames) -> None:
        self.bootstrap = bootstrap
        self.names = names
        self.producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Bus:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True)
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.producer is not None
        await self.producer.stop()

    async def publish(self, *events: Event) -> list[Envelope]:
        assert self.producer is not None
        envelopes = []
        for event in events:
            source = SOURCES[event.event_type.split(".")[1]]
            envelope = wrap(event, source=source, correlation_id=f"test-{uuid.uuid4().hex[:8]}")
            await self.producer.send_and_wait(
                self.names.name(event.topic), value=orjson.dumps(envelope.model_dump(mode="json")),
                key=event.partition_key().encode(),
            )
            envelopes.append(envelope)
        return envelopes

    async def read_all(self, topic: Any) -> list[dict[str, Any]]:
        """Every message on a topic so far (envelopes as dicts)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False, group_id=None)
        await consumer.start()
        try:
            name = self.names.name(topic)
            await consumer._client.force_metadata_update()  # noqa: SLF001 - partition metadata
            parts = [TopicPartition(name, p) for p in sorted(consumer.partitions_for_topic(name) or [])]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            out: list[dict[str, Any]] = []
            while any([await consumer.position(tp) < ends[tp] for tp in parts]):
                batch = await consumer.getmany(timeout_ms=500)
                for recs in batch.values():
                    out.extend(orjson.loads(r.value) for r in recs)
            return out
        finally:
            await consumer.stop()

    async def wait_for_event(self, topic: Any, type_: str, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        async def find() -> dict[str, Any] | None:
            for env in await self.read_all(topic):
                if env["type"] == type_ and all(str(env["data"].get(k)) == str(v) for k, v in match.items()):
                    return env
            return None

        return await eventually(find, timeout=timeout, what=f"{type_} {match}")


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout: float = 20.0, what: str = "condition") -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
