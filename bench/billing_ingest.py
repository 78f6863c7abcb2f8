"""Benchmark: attendance marks per second from Kafka into billing, beside two raw baselines
measured in the same run on the same machine: a raw aiokafka consume of the same messages, and
a raw PostgreSQL batched insert of the same marks.

Target: >= 20 000 marks/s and at least half of the slower raw baseline.
Run: uv run python bench/billing_ingest.py [events] [marks_per_event]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import orjson  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from billing_common import current_rss_mb, infra, rss_mb  # noqa: E402
from sqlalchemy import text  # noqa: E402

from pfdo_contracts.common import AttendanceStatus  # noqa: E402
from pfdo_contracts.envelope import wrap  # noqa: E402
from pfdo_contracts.events import navigator as n  # noqa: E402
from pfdo_contracts.topics import ATTENDANCE  # noqa: E402
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics  # noqa: E402
from pfdo_plumbing.runtime import ServiceRuntime  # noqa: E402
from pfdo_testkit import DatabaseFactory  # noqa: E402

from pfdo_billing.adapters import handlers  # noqa: E402
from pfdo_billing.service.context import Billing  # noqa: E402
from pfdo_billing.settings import BillingSettings  # noqa: E402

STATUSES = [AttendanceStatus.PRESENT, AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED]


def journal(i: int, per_event: int) -> n.AttendanceRecorded:
    days = [dt.date(2026, 11, 2) + dt.timedelta(days=d) for d in range(per_event)]
    return n.AttendanceRecorded(
        batch_id=uuid.uuid4(), enrolment_id=uuid.uuid4(), certificate_id=uuid.uuid4(), provider_id=uuid.uuid4(),
        module_id=uuid.uuid4(), month="2026-11",
        marks=[n.AttendanceMark(mark_id=uuid.uuid4(), lesson_date=day, status=STATUSES[(i + k) % 4], revision=1)
               for k, day in enumerate(days)])


async def produce(bootstrap: str, topic: str, events: list[n.AttendanceRecorded]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=10,
                                max_batch_size=512 * 1024)
    await producer.start()
    t0 = time.perf_counter()
    try:
        futures = []
        for e in events:
            env = wrap(e, source="pfdo/navigator", correlation_id=str(e.batch_id))
            futures.append(await producer.send(topic, value=orjson.dumps(env.model_dump(mode="json")),
                                               key=str(e.certificate_id).encode()))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - t0


async def raw_consume(bootstrap: str, topic: str, count: int) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=f"raw-{uuid.uuid4().hex[:6]}", enable_auto_commit=False, max_poll_records=2000)
    await consumer.start()
    seen, t0 = 0, None
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            got = sum(len(v) for v in batch.values())
            if got and t0 is None:
                t0 = time.perf_counter()
            seen += got
    finally:
        await consumer.stop()
    return time.perf_counter() - (t0 or time.perf_counter())


async def raw_insert(runtime: ServiceRuntime, events: list[n.AttendanceRecorded], batch_marks: int) -> float:
    rows = [(m.mark_id, e.enrolment_id, m.lesson_date, m.status.value, m.revision) for e in events for m in e.marks]
    async with runtime.db.transaction() as s:
        await s.execute(text("CREATE TABLE raw_marks (LIKE attendance_marks INCLUDING ALL)"))
    t0 = time.perf_counter()
    for i in range(0, len(rows), batch_marks):
        part = rows[i:i + batch_marks]
        async with runtime.db.transaction() as s:
            await s.execute(text(
                "INSERT INTO raw_marks (mark_id, enrolment_id, lesson_date, status, revision) "
                "SELECT * FROM unnest(CAST(:a AS uuid[]), CAST(:b AS uuid[]), CAST(:c AS date[]), "
                "CAST(:d AS varchar[]), CAST(:e AS integer[]))"),
                {"a": [r[0] for r in part], "b": [r[1] for r in part], "c": [r[2] for r in part],
                 "d": [r[3] for r in part], "e": [r[4] for r in part]})
    return time.perf_counter() - t0


async def main(count: int, per_event: int) -> None:
    bench_infra = infra()
    namespace = f"bench{uuid.uuid4().hex[:6]}."
    names = TopicNames(namespace)
    await ensure_topics(bench_infra.kafka_bootstrap, names, {"navigator", "billing"}, 1)
    topic = names.name(ATTENDANCE)
    events = [journal(i, per_event) for i in range(count)]
    marks = count * per_event
    produce_s = await produce(bench_infra.kafka_bootstrap, topic, events)
    print(f"produced {count} journal events ({marks} marks) in {produce_s:.2f} s")

    consume_s = await raw_consume(bench_infra.kafka_bootstrap, topic, count)
    url = await DatabaseFactory(bench_infra).fresh("billing")
    settings = BillingSettings(database_url=url, kafka_bootstrap=bench_infra.kafka_bootstrap, kafka_namespace=namespace,
                               kafka_replication_factor=1, log_level="WARNING")
    runtime = ServiceRuntime(settings, configure_logs=False)
    insert_s = await raw_insert(runtime, events, 4000)

    handlers.register(Billing(runtime, settings))
    t0 = time.perf_counter()
    first, first_done = None, 0
    rss_before_start = current_rss_mb()
    rss_peak = rss_before_start
    await runtime.start(relay=False)
    try:
        # progress from the consumer's own counter of committed events: polling count(*) on the
        # growing table would load the same two cores the ingest runs on
        while True:
            done = runtime.consumer.processed
            if done and first is None:
                first, first_done = time.perf_counter(), done
            if done >= count:
                break
            rss_peak = max(rss_peak, current_rss_mb())
            await asyncio.sleep(0.01)
        end = time.perf_counter()
        rss_after = current_rss_mb()
    finally:
        await runtime.stop()
    async with runtime.db.transaction() as s:
        stored = await s.scalar(text("SELECT count(*) FROM attendance_marks"))
    assert stored == marks, f"{stored} of {marks} marks stored"
    # the rate counts only what committed after the first unit was seen, over the time since then
    billing_s = end - (first or t0)
    raw_consume_rate, raw_insert_rate = marks / consume_s, marks / insert_s
    billing_rate = (count - first_done) * per_event / billing_s
    slower = min(raw_consume_rate, raw_insert_rate)
    print(f"raw aiokafka consume:        {raw_consume_rate:>12,.0f} marks/s ({count / consume_s:,.0f} messages/s)")
    print(f"raw PostgreSQL batch insert: {raw_insert_rate:>12,.0f} marks/s (batches of 4000)")
    print(f"billing (Kafka -> inbox -> marks): {billing_rate:>6,.0f} marks/s "
          f"(after the first committed unit; {marks / (end - t0):,.0f} marks/s including group join)")
    print(f"RSS of this process: {rss_before_start:.0f} MB before billing started (the bench's own events and "
          f"baselines), {rss_peak:.0f} MB at the peak of the ingest, {rss_after:.0f} MB after it: billing's consumer "
          f"added {rss_peak - rss_before_start:.0f} MB (peak of the whole run {rss_mb():.0f} MB). Billing as its own "
          "process is held to its 200 MB bound under a 1 M-mark flood by the fault suite (tests/faults, flood).")
    print(f"billing / slower baseline: {billing_rate / slower:.2f} (target >= 0.5); "
          f"target 20 000 marks/s: {'met' if billing_rate >= 20_000 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 25_000, int(sys.argv[2]) if len(sys.argv) > 2 else 8))
