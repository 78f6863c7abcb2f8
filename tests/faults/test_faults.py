"""Fault injection against the whole platform under a steady synthetic load.

Each test injects one kind of fault while the load runs, then waits until every outbox is empty
and every consumer group has caught up, and audits: zero lost events (every event on a topic is
in its consumers' inboxes, malformed ones in their dead-letter topics), zero duplicated money
effects, ledger invariants (SQL replay of the journal and billing's reconciliation), every
enrolment saga in a final state, seat counters equal to the seat-holding enrolments. The tests
share one platform and run in order; the table of all phases is printed at the end.

Short run (``make test``): 2 SIGKILLs per service. Full run (``make chaos``, PFDO_CHAOS=full):
20 per service, a broker of a 3-node cluster killed and brought back, longer load.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
import uuid
from pathlib import Path

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import navigator as n
from pfdo_contracts.topics import ATTENDANCE
from pfdo_devstack.platform import PlatformUnderTest

from . import inject
from .conftest import TABLES, Chaos
from .harness import FULL, Audit, group_lag, plain, read_all, rss_mb, start_extra_instance
from .load import today

pytestmark = pytest.mark.integration

SERVICES = ("registry", "navigator", "billing", "ratings")


def kills_per_service(chaos: Chaos) -> int:
    return 20 if chaos.full else 2


def load_seconds(chaos: Chaos, short: float) -> float:
    return short * 4 if chaos.full else short


async def _with_load(chaos: Chaos, seconds: float, faults: object) -> None:
    """Run the load and the fault schedule together; the load stops when its time is up and
    the faults are done."""
    load = asyncio.create_task(chaos.load.run(seconds=seconds, applications=10_000))
    try:
        await faults  # type: ignore[misc]
    finally:
        await load


async def test_baseline_world_and_load(chaos: Chaos) -> None:
    world = await chaos.load.build_world()
    assert world.period_id and len(world.modules) == 4 and len(world.certificates) >= 10
    await chaos.load.run(seconds=load_seconds(chaos, 6), applications=30)
    assert chaos.load.stats.enrolments, f"the load enrolled nobody: {chaos.load.stats.calls}"
    chaos.check(await chaos.audit("baseline (load only)", 0))


async def test_sigkill_every_service_at_random_moments(chaos: Chaos) -> None:
    platform: PlatformUnderTest = chaos.platform
    n = kills_per_service(chaos)
    kills = {s: 0 for s in SERVICES}

    async def schedule(service: str) -> None:
        for _ in range(n):
            await asyncio.sleep(chaos.rng.uniform(0.3, 2.5))
            platform.kill(service)
            kills[service] += 1
            await asyncio.sleep(chaos.rng.uniform(0.0, 1.0))
            await asyncio.to_thread(platform.restart, service)

    began = time.monotonic()
    await _with_load(chaos, load_seconds(chaos, 8), asyncio.gather(*(schedule(s) for s in SERVICES)))
    assert all(platform.processes[s].is_running() for s in SERVICES)
    result = await chaos.audit(f"SIGKILL x{n} per service ({time.monotonic() - began:.0f}s)", sum(kills.values()))
    assert sum(kills.values()) == n * len(SERVICES)
    chaos.check(result)


async def test_postgres_crash_and_restart(chaos: Chaos) -> None:
    down = {}

    async def crash() -> None:
        await asyncio.sleep(1.5)
        down["s"] = await asyncio.to_thread(chaos.pg.crash_restart)

    await _with_load(chaos, load_seconds(chaos, 6), crash())
    assert chaos.pg.restarts == 1
    result = await chaos.audit(f"PostgreSQL crash + restart ({down['s']:.1f}s down)", 1)
    chaos.check(result)


async def test_malformed_duplicated_and_reordered_events(chaos: Chaos) -> None:
    names = chaos.auditor.names
    records = await read_all(chaos.bootstrap, [names.name(b) for b in inject.POISON_TYPES])
    poisoned = await inject.malformed(chaos.bootstrap, names, chaos.injected)
    duplicated = await inject.duplicates(chaos.bootstrap, records, names, chaos.injected, chaos.rng)
    reordered = await inject.reversed_batches(chaos.bootstrap, records, names, chaos.injected, chaos.rng)
    revisions = await inject.reordered_revisions(chaos.bootstrap, records, names, chaos.injected)
    assert duplicated > 0 and reordered > 0 and revisions is not None
    await chaos.load.run(seconds=load_seconds(chaos, 4), applications=20)
    result = await chaos.audit(
        f"events: {poisoned} malformed, {duplicated} duplicated, {reordered + 2} reordered",
        poisoned + duplicated + reordered + 2,
    )
    # the program revisions were sent newest first: both read models must stay on the newest
    program_id, newest = revisions
    nav = await chaos.auditor.sql("navigator", "SELECT revision FROM catalogue.programs WHERE program_id = $1::uuid",
                                  program_id)
    bil = await chaos.auditor.sql("billing", "SELECT revision FROM programs WHERE program_id = $1::uuid", program_id)
    for who, rows in (("navigator", nav), ("billing", bil)):
        if not rows or rows[0]["revision"] != newest:
            result.violations.append(f"{who}: program {program_id} at revision "
                                     f"{rows[0]['revision'] if rows else None} after reordered revisions, not {newest}")
    assert result.dead_lettered >= poisoned, "every malformed record reaches the dead-letter topic of its consumers"
    chaos.check(result)


async def test_two_instances_of_billing_and_navigator_rebalance_under_load(chaos: Chaos) -> None:
    platform = chaos.platform
    extras = []
    chaos.extras = extras  # type: ignore[attr-defined]  (stopped by the fixture if a test fails)

    async def scale_out_then_crash() -> None:
        await asyncio.sleep(1.0)
        started = await asyncio.gather(*(asyncio.to_thread(start_extra_instance, platform, s)
                                         for s in ("billing", "navigator")))
        extras.extend(started)
        await asyncio.sleep(load_seconds(chaos, 5))  # both instances share the partitions
        for extra in started:  # a second rebalance: one member dies without leaving the group
            platform_kill(extra)
        await asyncio.sleep(1.0)

    await _with_load(chaos, load_seconds(chaos, 10), scale_out_then_crash())
    for extra in extras:
        extra.stop(timeout=10)
    result = await chaos.audit("2 instances of billing + navigator, rebalance, one killed", 4)
    chaos.check(result)


def platform_kill(process: object) -> None:
    import os
    import signal

    pid = process.pid  # type: ignore[attr-defined]
    if pid:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def test_month_close_under_load_and_a_kill_of_billing(chaos: Chaos) -> None:
    month = today().replace(day=1)

    async def close_with_a_crash() -> dict:
        await asyncio.sleep(1.0)
        chaos.platform.kill("billing")  # the close starts after billing comes back; it is resumable
        await asyncio.to_thread(chaos.platform.restart, "billing")
        return await chaos.load.close_month(month)

    task = asyncio.create_task(close_with_a_crash())
    await _with_load(chaos, load_seconds(chaos, 5), task)
    closed = task.result()
    again = await chaos.load.close_month(month)  # idempotent: a second close changes nothing
    result = await chaos.audit(f"month close {month:%Y-%m} under load (+1 SIGKILL)", 1)
    posted = await chaos.auditor.sql(
        "billing", "SELECT count(*) AS n FROM transfers WHERE kind = 'post' AND month = $1::date", month)
    active = await chaos.auditor.sql("billing", "SELECT count(*) AS n FROM contracts WHERE status = 'active'")
    if active[0]["n"] and not posted[0]["n"]:
        result.violations.append(f"month close posted nothing for {active[0]['n']} active contracts: {closed}")
    if again.get("closed_now", 0):
        result.violations.append(f"a second close of {month:%Y-%m} closed {again['closed_now']} contracts again")
    chaos.check(result)


if FULL:

    async def test_kill_one_broker_of_three_and_bring_it_back(chaos: Chaos) -> None:
        """Full run only: the platform runs on a 3-broker cluster (RF 3, min ISR 2)."""
        assert chaos.kafka is not None
        node = chaos.rng.choice([1, 2, 3])

        async def broker_crash() -> None:
            await asyncio.sleep(2.0)
            await asyncio.to_thread(chaos.kafka.cluster.stop_node, node, kill=True)
            await asyncio.sleep(load_seconds(chaos, 4))
            await asyncio.to_thread(chaos.kafka.cluster.start_node, node)

        await _with_load(chaos, load_seconds(chaos, 8), broker_crash())
        assert len(chaos.kafka.cluster.running_nodes()) == 3
        chaos.check(await chaos.audit(f"Kafka broker {node} of 3 SIGKILLed + back", 1))


async def test_month_end_flood_of_attendance_marks_stays_within_memory_bounds(chaos: Chaos) -> None:
    """Back-pressure: a flood of attendance marks straight onto the attendance topic (1 000 000 in
    the full run). Billing takes it in batches; its resident memory stays under its bound while
    the consumer lag, sampled all along, goes back to zero, and every flood event is in billing's
    inbox."""
    marks_total = int(os.environ.get("PFDO_FLOOD_MARKS") or (1_000_000 if chaos.full else 20_000))
    per_event = 20
    names = chaos.auditor.names
    month = today().replace(day=1)
    events = await asyncio.to_thread(flood_events, marks_total // per_event, per_event, month)
    pids = {s: chaos.platform.processes[s].pid for s in SERVICES}
    billing_log = chaos.platform.processes["billing"].log_file
    log_offset = billing_log.stat().st_size if billing_log.exists() else 0
    peak = {s: rss_mb(pid) for s, pid in pids.items()}
    before = dict(peak)
    samples: list[tuple[float, int, float]] = []
    topic = names.name(ATTENDANCE)
    group_topics = [topic]
    began = time.monotonic()
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            for s, pid in pids.items():
                peak[s] = max(peak[s], rss_mb(pid))
            lag = await group_lag(chaos.bootstrap, names.group("billing"), group_topics)
            samples.append((time.monotonic() - began, lag, rss_mb(pids["billing"])))
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    producer = AIOKafkaProducer(bootstrap_servers=chaos.bootstrap, acks="all", enable_idempotence=True,
                                linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    try:
        pending = []
        for key, value in events:
            pending.append(await producer.send(topic, value=value, key=key))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    produced_s = time.monotonic() - began
    # the moment the whole flood is on the topic: billing cannot have caught up yet
    samples.append((produced_s, await group_lag(chaos.bootstrap, names.group("billing"), group_topics),
                    rss_mb(pids["billing"])))
    ids = [orjson.loads(v)["id"] for _, v in events]
    deadline = time.monotonic() + (900 if chaos.full else 120)
    while True:
        lag = await group_lag(chaos.bootstrap, names.group("billing"), group_topics)
        if lag == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    stop.set()
    await sampler
    drained_s = time.monotonic() - began
    done = await chaos.auditor.sql("billing", "SELECT count(*) AS n FROM inbox WHERE event_id = ANY($1::uuid[])", ids)
    stored = await chaos.auditor.sql(
        "billing", "SELECT count(*) AS n FROM attendance_marks WHERE enrolment_id = ANY($1::uuid[])",
        list({orjson.loads(v)["data"]["enrolment_id"] for _, v in events}))
    troubles = billing_troubles(billing_log, log_offset)
    progress = ", ".join(f"{t:.0f}s lag {lag} rss {rss:.0f}MB" for t, lag, rss in samples[:: max(1, len(samples) // 12)])
    report = (f"flood of {marks_total} marks in {len(events)} events: produced in {produced_s:.1f}s, drained in "
              f"{drained_s:.1f}s ({marks_total / max(drained_s, 0.001):.0f} marks/s); RSS MB before -> peak: "
              + ", ".join(f"{s} {before[s]:.0f} -> {peak[s]:.0f} (bound {BOUNDS_MB[s]})" for s in SERVICES)
              + f"\nlag progress: {progress}"
              + f"\nbilling's warnings during the flood: {troubles or 'none'}")
    print("\n[faults] " + report, flush=True)
    TABLES.append(report)
    assert lag == 0, f"billing did not catch up with the flood: lag {lag}\n{report}"
    assert done[0]["n"] == len(events), f"{len(events) - done[0]['n']} flood events not processed\n{report}"
    assert stored[0]["n"] == marks_total, f"{stored[0]['n']} of {marks_total} marks stored\n{report}"
    assert max(lag for _, lag, _ in samples) > 0, "the lag samples never saw the flood (sampling is broken)"
    for s in SERVICES:
        assert peak[s] < BOUNDS_MB[s], f"{s} grew to {peak[s]:.0f} MB (bound {BOUNDS_MB[s]} MB)\n{report}"
    chaos.rows.append(Audit(f"flood: {marks_total} attendance marks", 1, processed=len(events)))


def billing_troubles(log_file: Path, offset: int) -> dict[str, int]:
    """Warnings and errors billing logged since ``offset``, counted by event name (a slow drain
    is explained by them: retries back off, transient failures wait for the infrastructure)."""
    counts: dict[str, int] = {}
    with log_file.open("rb") as f:
        f.seek(offset)
        for line in f:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
                name = str(entry.get("event"))
                counts[name] = counts.get(name, 0) + 1
    return counts


BOUNDS_MB = {"billing": 200, "navigator": 250, "registry": 250, "ratings": 250}
"""Resident memory bounds per service process (MB) during the flood."""


def flood_events(count: int, per_event: int, month: dt.date) -> list[tuple[bytes, bytes]]:
    out = []
    provider, module = uuid.uuid4(), uuid.uuid4()
    for i in range(count):
        enrolment, certificate = uuid.uuid4(), uuid.uuid4()
        event = n.AttendanceRecorded(
            batch_id=uuid.uuid4(), enrolment_id=enrolment, certificate_id=certificate, provider_id=provider,
            module_id=module, month=f"{month:%Y-%m}",
            marks=[n.AttendanceMark(mark_id=uuid.uuid4(), lesson_date=month + dt.timedelta(days=d), status="present",
                                    revision=1) for d in range(per_event)],
        )
        env = wrap(event, source="pfdo/navigator", correlation_id=f"flood-{i // 1000}")
        out.append((str(certificate).encode(), orjson.dumps(env.model_dump(mode="json"))))
    return out


async def test_the_audit_itself_detects_a_lost_event_and_a_broken_ledger(chaos: Chaos) -> None:
    """The audit can fail: forget one processed event in billing's inbox and move money between a
    certificate's available and reserved balances behind the journal's back; both must be
    reported. Everything is put back afterwards."""
    row = (await chaos.auditor.sql("billing", """
        SELECT i.event_id, i.event_type FROM inbox i WHERE i.event_type LIKE 'pfdo.navigator.enrolment.requested%'
        LIMIT 1"""))[0]
    cert = (await chaos.auditor.sql("billing", "SELECT certificate_id, period_id FROM certificate_balances "
                                               "WHERE available > 0 LIMIT 1"))[0]
    conn = await asyncpg.connect(plain(chaos.platform.databases["billing"]))
    try:
        await conn.execute("DELETE FROM inbox WHERE event_id = $1", row["event_id"])
        await conn.execute("UPDATE certificate_balances SET available = available - 1, reserved = reserved + 1 "
                           "WHERE certificate_id = $1 AND period_id = $2", cert["certificate_id"], cert["period_id"])
        broken = await chaos.auditor.audit("self-check (tampered)", 0)
    finally:
        await conn.execute("INSERT INTO inbox (event_id, event_type) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                           row["event_id"], row["event_type"])
        await conn.execute("UPDATE certificate_balances SET available = available + 1, reserved = reserved - 1 "
                           "WHERE certificate_id = $1 AND period_id = $2", cert["certificate_id"], cert["period_id"])
        await conn.close()
    assert any(str(row["event_id"]) in x for x in broken.lost), broken.problems()
    assert any(str(cert["certificate_id"]) in x for x in broken.violations), broken.problems()
    chaos.check(await chaos.audit("final (after the self-check was undone)", 0))
