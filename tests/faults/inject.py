"""Events written straight onto the topics with a plain producer: malformed ones, duplicates of
real events, and reordered ones."""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import registry as g
from pfdo_contracts.topics import ATTENDANCE, CERTIFICATES, ENROLMENTS, PROGRAMS, RESERVATIONS
from pfdo_plumbing.kafka.topics import TopicNames

from .harness import Injected, parse

POISON_TYPES = {
    ENROLMENTS.name: "pfdo.navigator.enrolment.requested.v1",
    RESERVATIONS.name: "pfdo.billing.reservation.created.v1",
    CERTIFICATES.name: "pfdo.registry.certificate.issued.v1",
    ATTENDANCE.name: "pfdo.navigator.attendance.recorded.v1",
    PROGRAMS.name: "pfdo.registry.program.certified.v1",
}


async def _producer(bootstrap: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    return producer


async def malformed(bootstrap: str, names: TopicNames, injected: Injected) -> int:
    """Per consumed topic: bytes that are not JSON, JSON that is not an envelope, and an envelope
    of a consumed type whose payload breaks its schema. Each must be dead-lettered by every
    consumer of the topic (the last one: by every consumer that handles its type)."""
    producer = await _producer(bootstrap)
    sent = 0
    try:
        for base, kind in POISON_TYPES.items():
            bad_id = uuid.uuid4()
            envelope = {"specversion": "1.0", "id": str(bad_id), "source": "pfdo/faults", "type": kind,
                        "time": "2026-11-28T10:00:00Z", "correlationid": "faults",
                        "data": {"enrolment_id": "not-a-uuid", "certificate_id": 42}}
            for value in (b"\x00not json {", orjson.dumps({"hello": "world"}), orjson.dumps(envelope)):
                meta = await producer.send_and_wait(names.name(base), value=value, key=b"faults-poison")
                injected.poison.append((meta.topic, meta.partition, meta.offset))
                sent += 1
            injected.poison_ids.add(bad_id)
    finally:
        await producer.stop()
    return sent


async def duplicates(bootstrap: str, records: dict[str, list[Any]], names: TopicNames, injected: Injected,
                     rng: random.Random, count: int = 40) -> int:
    """Re-send real records (same key, value, headers) captured from the consumed topics."""
    pool = [r for base in POISON_TYPES for r in records.get(names.name(base), []) if parse(r.value) is not None]
    chosen = rng.sample(pool, min(count, len(pool)))
    producer = await _producer(bootstrap)
    try:
        for r in chosen:
            await producer.send_and_wait(r.topic, value=r.value, key=r.key, headers=list(r.headers or []))
    finally:
        await producer.stop()
    injected.duplicates += len(chosen)
    return len(chosen)


async def reversed_batches(bootstrap: str, records: dict[str, list[Any]], names: TopicNames, injected: Injected,
                           rng: random.Random, keys: int = 5) -> int:
    """Real runs of events of one key (one certificate's enrolment saga, say), sent again newest first."""
    by_key: dict[tuple[str, bytes], list[Any]] = {}
    for base in (ENROLMENTS.name, RESERVATIONS.name, ATTENDANCE.name):
        for r in records.get(names.name(base), []):
            if r.key and parse(r.value) is not None:
                by_key.setdefault((r.topic, r.key), []).append(r)
    runs = [v for v in by_key.values() if len(v) >= 2]
    producer = await _producer(bootstrap)
    sent = 0
    try:
        for run in rng.sample(runs, min(keys, len(runs))):
            for r in reversed(run):
                await producer.send_and_wait(r.topic, value=r.value, key=r.key, headers=list(r.headers or []))
                sent += 1
    finally:
        await producer.stop()
    injected.reordered += sent
    return sent


async def reordered_revisions(bootstrap: str, records: dict[str, list[Any]], names: TopicNames,
                              injected: Injected) -> tuple[str, int] | None:
    """New revisions r+1 and r+2 of a real certified program (same modules), sent r+2 first: the
    consumers must end on r+2, never step back to r+1."""
    certified = [e for e in (parse(r.value) for r in records.get(names.name(PROGRAMS), []))
                 if e is not None and e.type == g.ProgramCertified.versioned_type()]
    if not certified:
        return None
    source = certified[-1]
    base = {k: v for k, v in source.data.items() if k != "certified_on"}
    newest = base["revision"] + 2
    producer = await _producer(bootstrap)
    try:
        for revision in (newest, newest - 1):
            event = g.ProgramChanged.model_validate({**base, "revision": revision, "state": "certified",
                                                     "title": f"{base['title']} (rev {revision})"})
            env = wrap(event, source="pfdo/registry", correlation_id="faults-reorder")
            await producer.send_and_wait(names.name(PROGRAMS), value=orjson.dumps(env.model_dump(mode="json")),
                                         key=event.partition_key().encode(),
                                         headers=[("ce_type", env.type.encode()), ("ce_id", str(env.id).encode())])
            injected.synthetic.add(env.id)
            injected.reordered += 1
    finally:
        await producer.stop()
    return str(base["program_id"]), newest
