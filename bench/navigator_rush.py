"""Benchmark: the application rush through the gateway.

2 000 parents (each with an active certificate of a child of 10, no funding cap, an open program
period with nominals) apply through the nginx gateway for 10 module groups with 200 seats in
total. The client is wrk (C, from Debian) driven by ``rush.lua``: one connection per parent, each
sending its one application at its moment, all at once by default or arriving evenly over
``--spread-s`` seconds (an open schedule: a slow answer does not delay the next parent). A
client in Python on the same two cores was itself the bottleneck (it managed 166 requests/s on a
route that does nothing). Measured:

- the latency of every ``POST /api/navigator/enrolments`` (sent to answered), p50/p95/p99;
  target p99 <= 300 ms; and, from the gateway's access log, the same split by answer (201 or
  409), each with the part of it spent waiting for the navigator (nginx's upstream time);
- overbooking: exactly as many 201 answers as seats, every other answer 409 ``no_free_seats``, and
  the navigator's seat counters equal to the capacities (never above);
- the saga: for every accepted application, the time from the navigator's ``requested_at`` (when
  it took the application, before its 201) until billing's reservation event (created or
  rejected) arrives on the namespaced reservations topic, read by a plain aiokafka consumer;
  target p99 <= 2 s, and every saga finished. The navigator's own view (enrolments in
  ``reserved``/``rejected``) is checked afterwards.

Also printed, from the navigator's /metrics: its process's CPU use during the rush (near 100 % of
one core: the process is the limit, since Python runs its work on one thread) and how late its
event loop's timers fired (``pfdo_event_loop_lag_seconds``, sampled every 20 ms for the bench).

Beside it, in the same run: the floor (the same wrk schedule on a navigator route that does
nothing), and the same number of raw seat holds
(``UPDATE modules SET held = held + 1 WHERE module_id = $1 AND held < capacity``) all at once,
straight against the navigator's database through an asyncpg pool as large as the navigator's
own (pool size + overflow), on baseline rows of the same table.

The world (municipality, providers, certified programs, certificates, billing period) is built
through the public APIs behind the gateway. Infrastructure: PFDO_TEST_KAFKA_BOOTSTRAP and
PFDO_TEST_PG_URL when set, otherwise the local test stack, started and stopped here. Loopback only.

Run: uv run python -m bench.navigator_rush [--parents 2000] [--seats 200] [--groups 10] [--spread-s S ...]
     [--instances N]  (N processes each for the navigator and billing; default 1)
(default: three rushes, each on a platform of its own: all at once, over 10 s and over 20 s)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from pfdo_contracts.topics import ENROLMENTS, RESERVATIONS
from pfdo_devstack.gateway_vars import HIGH_LIMITS
from pfdo_devstack.platform import PlatformUnderTest
from pfdo_devstack.testing import UrlInfra, env_or_local_infra, release
from pfdo_plumbing.settings import ServiceSettings
from pfdo_testkit import TestAuth, create_database, plain_dsn
from tests.faults.load import LoadConfig, LoadGenerator, today

from .wrk import THREADS as WRK_THREADS
from .wrk import LoadFigures, figures_from, find_wrk

SERVICES = ("registry", "navigator", "billing", "ratings")
# the services' pools as deployed (the settings' defaults)
NAVIGATOR_POOL: int = ServiceSettings.model_fields["db_pool_size"].default
NAVIGATOR_OVERFLOW: int = ServiceSettings.model_fields["db_max_overflow"].default
SETUP_CONCURRENCY = 16
TOTAL_TIMEOUT_S = 1200.0
HOLD = "UPDATE modules SET held = held + 1 WHERE module_id = $1 AND held < capacity RETURNING held"
TARGET_REQUEST_P99_MS = 300.0
TARGET_SAGA_P99_S = 2.0
LOOP_LAG_INTERVAL_S = 0.02  # the services sample their event loop's lag this often during the bench
LOOP_LAG_BOUNDS = ("0.005", "0.01", "0.05", "0.1")
DEFAULT_SPREADS_S = (0.0, 10.0, 20.0)
"""All at once (the literal burst), then 200 and 100 applications a second."""


# ------------------------------------------------------------------------------- infrastructure
Infra = UrlInfra
start_infra = env_or_local_infra
stop_infra = release


async def create_databases(infra: Infra, prefix: str) -> dict[str, str]:
    return {name: await create_database(infra, f"{prefix}_{name}") for name in SERVICES}


async def drop_databases(infra: Infra, urls: dict[str, str]) -> None:
    conn = await asyncpg.connect(plain_dsn(infra.pg_url("postgres")))
    try:
        for url in urls.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


# ------------------------------------------------------------------------------- figures
def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def summary(name: str, seconds: list[float], wall: float | None = None, unit: str = "ms") -> str:
    scale = 1000.0 if unit == "ms" else 1.0
    v = [x * scale for x in seconds]
    if not v:
        return f"{name:<34} n=    0"
    line = (f"{name:<34} n={len(v):>5}  p50={pct(v, 50):7.1f} {unit}  p95={pct(v, 95):7.1f} {unit}  "
            f"p99={pct(v, 99):7.1f} {unit}  max={max(v):7.1f} {unit}  mean={statistics.mean(v):7.1f} {unit}")
    if wall:
        line += f"  throughput={len(v) / wall:6.0f}/s"
    return line


def by_answer(access_log: Path, offset: int) -> list[str]:
    """The rush's applications as the gateway logged them (its access log from ``offset`` on), by
    answer: the time nginx took in all, and how much of it went on waiting for the navigator."""
    times: dict[int, tuple[list[float], list[float]]] = {}
    with access_log.open("rb") as log:
        log.seek(offset)
        for raw in log:
            entry = json.loads(raw)
            if entry["method"] != "POST" or entry["uri"] != "/api/navigator/enrolments":
                continue
            total, upstream = times.setdefault(entry["status"], ([], []))
            total.append(entry["request_time"])
            # one figure per upstream tried ("0.004, 0.010"), or "-" when none answered
            upstream.append(sum(float(x) for x in re.findall(r"\d+(?:\.\d+)?", entry["upstream_time"])))
    return [line for status, (total, upstream) in sorted(times.items())
            for line in (summary(f"  {status} at the gateway", total), summary(f"  {status} in the navigator", upstream))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "NOT MET"


# ------------------------------------------------------------------------------- the world
async def build_world(gateway: str, auth: TestAuth, parents: int, seats: int, groups: int) -> LoadGenerator:
    if seats % groups:
        raise SystemExit("--seats must be a multiple of --groups")
    providers = 2 if groups % 2 == 0 else 1
    load = LoadGenerator(gateway, auth, LoadConfig(
        providers=providers, modules_per_provider=groups // providers, certificates=0, capacity=seats // groups))
    t0 = time.perf_counter()
    await load.build_world()  # municipality, providers, certified programs, billing period opened
    print(f"providers, {groups} groups and the billing period: {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(i: int) -> None:
        async with gate:
            await load.add_certificate(f"rush-parent-{i}")

    await asyncio.gather(*(one(i) for i in range(parents)))
    print(f"{parents} certificates applied for and approved: {time.perf_counter() - t0:.1f} s", flush=True)

    t0 = time.perf_counter()
    await wait_consumed(load)
    print(f"navigator and billing know every certificate: {time.perf_counter() - t0:.1f} s", flush=True)
    return load


async def wait_consumed(load: LoadGenerator, timeout: float = 180.0) -> None:
    """Until the navigator shows every child in its parent's cabinet and billing answers for every
    certificate's balance (it knows the certificate and the open period)."""
    navigator_missing = set(load.world.certificates)
    billing_missing = set(load.world.certificates)
    gate = asyncio.Semaphore(32)
    deadline = time.monotonic() + timeout

    async def navigator_knows(cert: str, parent: str) -> bool:
        async with gate:
            r = await load.call("cabinet.children", "GET", "/api/navigator/me/children", load.parent(parent))
        return r is not None and r.status_code == 200 and any(c["certificate_id"] == cert for c in r.json()["items"])

    async def billing_knows(cert: str, parent: str) -> bool:
        async with gate:
            r = await load.call("billing.balance", "GET", f"/api/billing/certificates/{cert}/balance",
                                load.parent(parent))
        return r is not None and r.status_code == 200 and r.json()["status"] == "active"

    while navigator_missing or billing_missing:
        nav = list(navigator_missing)
        bil = list(billing_missing)
        answers = await asyncio.gather(*(navigator_knows(*c) for c in nav), *(billing_knows(*c) for c in bil))
        navigator_missing -= {c for c, ok in zip(nav, answers[:len(nav)]) if ok}
        billing_missing -= {c for c, ok in zip(bil, answers[len(nav):]) if ok}
        if not (navigator_missing or billing_missing):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"not consumed in {timeout:.0f} s: navigator misses {len(navigator_missing)}, "
                               f"billing misses {len(billing_missing)} certificates")
        await asyncio.sleep(0.5)


# ------------------------------------------------------------------------------- reservation events
@dataclass
class ReservationWatch:
    """A plain consumer (no group) of billing's reservations topic, first arrival per enrolment,
    and of the navigator's enrolments topic, for when each request was published."""

    bootstrap: str
    topics: tuple[str, ...]
    arrived: dict[str, float] = field(default_factory=dict)
    """enrolment id -> wall-clock time the event reached this process"""
    produced: dict[str, float] = field(default_factory=dict)
    """enrolment id -> the record's Kafka timestamp (billing's relay producing it)"""
    kinds: dict[str, str] = field(default_factory=dict)
    requested: dict[str, float] = field(default_factory=dict)
    """enrolment id -> the Kafka timestamp of the navigator's enrolment.requested (its relay)"""
    reasons: Counter = field(default_factory=Counter)

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         auto_offset_reset="earliest", fetch_max_wait_ms=20,
                                         client_id=f"bench-rush-{uuid.uuid4().hex[:6]}")
        await self.consumer.start()
        deadline = time.monotonic() + 30
        tps = []
        for topic in self.topics:
            while not (partitions := self.consumer.partitions_for_topic(topic)):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"topic {topic} has no partitions")
                await self.consumer._client.force_metadata_update()  # noqa: SLF001
                await asyncio.sleep(0.2)
            tps += [TopicPartition(topic, p) for p in sorted(partitions)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_beginning(*tps)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100, max_records=1000)
            now = time.time()
            for records in batches.values():
                for record in records:
                    body = json.loads(record.value or b"{}")
                    kind = body.get("type", "")
                    eid = str(body.get("data", {}).get("enrolment_id"))
                    if kind.startswith("pfdo.navigator.enrolment.requested"):
                        self.requested.setdefault(eid, record.timestamp / 1000)
                        continue
                    if eid in self.arrived or not (kind.startswith("pfdo.billing.reservation.created")
                                                   or kind.startswith("pfdo.billing.reservation.rejected")):
                        continue
                    self.arrived[eid] = now
                    self.produced[eid] = record.timestamp / 1000
                    self.kinds[eid] = "reserved" if ".created" in kind else "rejected"
                    if self.kinds[eid] == "rejected":
                        self.reasons[body["data"].get("reason")] += 1

    async def wait_for(self, enrolments: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not enrolments <= self.arrived.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
        await self.consumer.stop()


# ------------------------------------------------------------------------------- the rush
LUA = Path(__file__).with_name("rush.lua")


async def run_wrk(gateway: str, lines: list[str], spread_s: float, folder: Path, *, floor: bool = False) -> LoadFigures:
    """One connection per line, each sending its application at its moment of an even arrival over
    ``spread_s`` (0: all at once), through the gateway; returns wrk's figures."""
    if len(lines) % WRK_THREADS:
        raise SystemExit(f"--parents must be a multiple of {WRK_THREADS}")
    requests_file = folder / ("floor.tsv" if floor else "rush.tsv")
    requests_file.write_text("".join(line + "\n" for line in lines))
    cmd = [find_wrk(), "-t", str(WRK_THREADS), "-c", str(len(lines)), "-d", f"{int(spread_s) + 300}s",
           "--timeout", "60s", "-s", str(LUA), gateway, "--", str(requests_file), str(WRK_THREADS),
           str(int(spread_s * 1000)), "floor" if floor else "apply"]
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    output, threads_done = [], 0
    try:
        while line := (await proc.stdout.readline()).decode(errors="replace"):
            output.append(line)
            if line.startswith("RUSH_THREAD_DONE"):
                threads_done += 1
                if threads_done == WRK_THREADS:
                    proc.send_signal(signal.SIGINT)  # every answer is in: end wrk's timed sleep now
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    wall = time.perf_counter() - began
    return figures_from("".join(output), "RUSH_RESULT", exit_code=proc.returncode or 0, wall_s=wall)


async def navigator_readings(navigator_url: str) -> dict[str, float]:
    """From the navigator's /metrics: its process's CPU seconds (``cpu``) and its event-loop lag
    histogram: wake-ups in all (``+Inf``) and up to each bound, and their total lag (``sum``).
    With several processes, those of the one that answered."""
    async with httpx.AsyncClient(timeout=10) as client:
        exposition = (await client.get(f"{navigator_url}/api/navigator/metrics")).text
    readings: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name == "process_cpu_seconds":
            readings["cpu"] = family.samples[0].value
        elif family.name == "pfdo_event_loop_lag_seconds":
            readings.update({sample.labels.get("le", "sum"): sample.value for sample in family.samples
                             if sample.name.endswith(("_bucket", "_sum"))})
    return readings


def navigator_line(before: dict[str, float], after: dict[str, float], wall_s: float) -> str:
    busy = (after["cpu"] - before["cpu"]) / wall_s
    wakeups = after["+Inf"] - before["+Inf"]
    late = ", ".join(f"{float(b) * 1000:g} ms {((wakeups - (after[b] - before[b])) / wakeups if wakeups else 0):.0%}"
                     for b in LOOP_LAG_BOUNDS)
    mean_ms = (after["sum"] - before["sum"]) / wakeups * 1000 if wakeups else 0.0
    return (f"navigator during the rush ({wall_s:.1f} s): its process busy {busy:.0%} of one core on average; "
            f"its event loop's {wakeups:.0f} timer wake-ups (every {LOOP_LAG_INTERVAL_S * 1000:g} ms) late by "
            f"{mean_ms:.1f} ms on average, later than {late}")


def applications(auth: TestAuth, load: LoadGenerator) -> list[str]:
    """One line per parent: the bearer token and the JSON body of the application."""
    modules = [m[0] for m in load.world.modules]
    day = today().isoformat()
    lines = []
    for i, (cert, parent) in enumerate(load.world.certificates):
        token = auth.headers("parent", parent)["Authorization"].removeprefix("Bearer ")
        body = {"certificate_id": cert, "module_id": modules[i % len(modules)], "start_date": day,
                "payment_mode": "monthly"}
        lines.append(f"{token}\t{json.dumps(body, separators=(',', ':'))}")
    return lines


async def warm_up(gateway: str, auth: TestAuth, load: LoadGenerator) -> None:
    """Warm the navigator's apply route with applications that hold no seat (unknown certificate)."""
    cert, parent = load.world.certificates[0]
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        for _ in range(3):
            await asyncio.gather(*(
                client.post("/api/navigator/enrolments", headers=auth.headers("parent", parent),
                            json={"certificate_id": str(uuid.uuid4()), "module_id": load.world.modules[0][0],
                                  "start_date": today().isoformat(), "payment_mode": "monthly"})
                for _ in range(20)))


async def navigator_states(load: LoadGenerator, accepted: set[str], timeout: float = 60.0) -> Counter:
    """The navigator's view of the accepted enrolments, once none is still ``requested``."""
    deadline = time.monotonic() + timeout
    while True:
        rows: list[dict] = []
        cursor: str | None = None
        while True:  # every page: the list answers at most 1 000 per page
            r = await load.call("enrolment.list", "GET", "/api/navigator/enrolments", load.ro(), limit="1000",
                                **({"cursor": cursor} if cursor else {}))
            if r is None or r.status_code != 200:
                break
            rows.extend(r.json()["items"])
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        states = Counter(e["state"] for e in rows if e["enrolment_id"] in accepted)
        if (sum(states.values()) == len(accepted) and not states["requested"]) or time.monotonic() > deadline:
            return states
        await asyncio.sleep(0.25)


# ------------------------------------------------------------------------------- the raw baseline
async def raw_baseline(navigator_dsn: str, parents: int, seats: int, groups: int, concurrency: int,
                       capacity_rows: list[tuple[str, int]]) -> tuple[list[float], float, int, int]:
    """``parents`` raw seat holds on fresh baseline rows of the navigator's ``modules`` table (the
    same capacities as the rush's groups), removed afterwards."""
    pool_size = NAVIGATOR_POOL + NAVIGATOR_OVERFLOW
    pool = await asyncpg.create_pool(navigator_dsn, min_size=pool_size, max_size=pool_size)
    ids = [uuid.uuid4() for _ in range(groups)]
    try:
        async with pool.acquire() as conn:
            await conn.executemany(
                "INSERT INTO modules (module_id, program_id, provider_id, revision, capacity, held, start_date, "
                "end_date, weekdays, schedule, lessons_per_week) "
                "SELECT $1, program_id, provider_id, revision, $2, 0, start_date, end_date, weekdays, schedule, "
                "lessons_per_week FROM modules WHERE module_id = $3",
                [(ids[i], capacity_rows[i][1], uuid.UUID(capacity_rows[i][0])) for i in range(groups)])
            # warm the plan in every pooled connection with holds that cannot succeed
        await asyncio.gather(*(_warm(pool) for _ in range(pool_size)))
        go = asyncio.Event()
        slots = asyncio.Semaphore(concurrency)
        latencies: list[float] = []
        won = 0

        async def hold(i: int) -> None:
            nonlocal won
            await go.wait()
            async with slots:
                t0 = time.perf_counter()
                async with pool.acquire() as conn:
                    row = await conn.fetchrow(HOLD, ids[i % groups])
                latencies.append(time.perf_counter() - t0)
            won += row is not None

        tasks = [asyncio.create_task(hold(i)) for i in range(parents)]
        await asyncio.sleep(0.2)
        began = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        wall = time.perf_counter() - began
        async with pool.acquire() as conn:
            held = await conn.fetchval("SELECT sum(held) FROM modules WHERE module_id = ANY($1::uuid[])", ids)
            await conn.execute("DELETE FROM modules WHERE module_id = ANY($1::uuid[])", ids)
        return latencies, wall, won, int(held)
    finally:
        await pool.close()


async def _warm(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.fetchrow(HOLD, uuid.uuid4())


# ------------------------------------------------------------------------------- main
async def run(args: argparse.Namespace, spread_s: float, infra: Infra, folder: Path, cleanup: list[Any]) -> str:
    """One complete rush (its own platform, databases and world); returns its summary row."""
    auth = TestAuth(folder / "auth")
    urls = await create_databases(infra, f"rush_{uuid.uuid4().hex[:8]}")
    cleanup.append(("databases", urls))
    platform = PlatformUnderTest(
        kafka_bootstrap=infra.kafka_bootstrap, database_url=urls.__getitem__, jwks_url=str(auth.jwks_path),
        issuer=auth.issuer, audience=auth.audience, gateway_variables=HIGH_LIMITS,
        extra_env={"PFDO_DB_POOL_SIZE": str(NAVIGATOR_POOL), "PFDO_DB_MAX_OVERFLOW": str(NAVIGATOR_OVERFLOW),
                   "PFDO_LOOP_LAG_INTERVAL_S": str(LOOP_LAG_INTERVAL_S)},
        work_dir=folder,
        instances={"navigator": args.instances, "billing": args.instances},
    )
    cleanup.append(("platform", platform))
    t0 = time.perf_counter()
    try:
        await asyncio.to_thread(platform.start)
    except BaseException:
        print(platform.logs())
        raise
    print(f"platform up behind {platform.gateway_url}: {time.perf_counter() - t0:.1f} s", flush=True)

    load = await build_world(platform.gateway_url, auth, args.parents, args.seats, args.groups)
    cleanup.append(("load", load))

    watch = ReservationWatch(infra.kafka_bootstrap,
                             (platform.namespace + RESERVATIONS.name, platform.namespace + ENROLMENTS.name))
    await watch.start()
    cleanup.append(("watch", watch))

    lines = applications(auth, load)
    await warm_up(platform.gateway_url, auth, load)
    navigator_url = platform.service_url("navigator")
    assert platform.gateway is not None
    log_offset = platform.gateway.access_log.stat().st_size
    navigator_before, rush_began = await navigator_readings(navigator_url), time.perf_counter()
    rush = await run_wrk(platform.gateway_url, lines, spread_s, folder)
    navigator_after, rush_wall = await navigator_readings(navigator_url), time.perf_counter() - rush_began
    answers = by_answer(platform.gateway.access_log, log_offset)

    navigator_dsn = plain_dsn(urls["navigator"])
    rush_modules = [uuid.UUID(m[0]) for m in load.world.modules]
    conn = await asyncpg.connect(navigator_dsn)
    try:
        requested = {str(r["enrolment_id"]): r["requested_at"].timestamp() for r in await conn.fetch(
            "SELECT enrolment_id, requested_at FROM enrolments WHERE module_id = ANY($1::uuid[])", rush_modules)}
    finally:
        await conn.close()
    accepted = set(requested)
    await watch.wait_for(accepted, timeout=60)
    states = await navigator_states(load, accepted)
    floor_figures = await run_wrk(platform.gateway_url, lines, spread_s, folder, floor=True)

    conn = await asyncpg.connect(navigator_dsn)
    try:
        seat_rows = [(str(r["module_id"]), r["capacity"], r["held"])
                     for r in await conn.fetch("SELECT module_id, capacity, held FROM modules ORDER BY module_id")]
    finally:
        await conn.close()

    raw_lat, raw_wall, raw_won, raw_held = await raw_baseline(
        navigator_dsn, args.parents, args.seats, args.groups, args.parents, [(m, c) for m, c, _ in seat_rows])

    # ---- figures
    saga = [watch.arrived[e] - requested[e] for e in accepted if e in watch.arrived]
    saga_produced = [watch.produced[e] - requested[e] for e in accepted if e in watch.produced]
    saga_navigator = [watch.requested[e] - requested[e] for e in accepted if e in watch.requested]
    saga_billing = [watch.produced[e] - watch.requested[e] for e in accepted
                    if e in watch.produced and e in watch.requested]
    finished = sum(1 for e in accepted if e in watch.arrived)
    kinds = Counter(watch.kinds[e] for e in accepted if e in watch.kinds)
    held_total = sum(h for _, _, h in seat_rows)
    overbooked = [m for m, c, h in seat_rows if h > c]
    refused = args.parents - len(accepted)
    answers_ok = (rush.statuses[201] == len(accepted) and rush.statuses[409] == refused
                  and rush.codes["no_free_seats"] == refused and rush.requests == args.parents
                  and not any(rush.errors.values()))
    arrival = ("all at once" if not spread_s
               else f"arriving evenly over {spread_s:g} s ({args.parents / spread_s:.0f} applications/s)")

    print()
    print(f"application rush through the gateway: {args.parents} parents, {args.seats} seats in {args.groups} groups "
          f"({args.seats // args.groups} each, {args.parents // args.groups} applicants per group), "
          f"one connection per parent, {arrival}; client: wrk ({WRK_THREADS} threads); "
          f"{args.instances} process(es) each for the navigator and billing")
    print("answers: " + ", ".join(f"{s} x{n}" for s, n in sorted(rush.statuses.items()))
          + f"; codes {dict(rush.codes)}; socket errors {rush.errors}")
    print(summary("raw seat hold (asyncpg UPDATE)", raw_lat, raw_wall)
          + f"  [pool {NAVIGATOR_POOL + NAVIGATOR_OVERFLOW}, {args.parents} at once, {raw_won} won]")
    print(rush.line("gateway POST /enrolments"))
    print("\n".join(answers) + "  <- by answer, from the gateway's log (1 ms steps)")
    print(navigator_line(navigator_before, navigator_after, rush_wall))
    print(floor_figures.line("floor: gateway GET /health") + "  <- same client and schedule, a route that does nothing")
    print(summary("saga: requested -> reservation event", saga, unit="s")
          + f"  [{dict(kinds)}{', reasons ' + str(dict(watch.reasons)) if watch.reasons else ''}]")
    print(summary("  (by billing's record timestamp)", saga_produced, unit="s"))
    print(summary("  leg 1: requested -> on Kafka", saga_navigator, unit="s") + "  <- the navigator's commit and relay")
    print(summary("  leg 2: on Kafka -> billing's answer", saga_billing, unit="s") + "  <- billing's consumer and relay")
    print(f"navigator's view of the accepted enrolments: {dict(states)}")
    print(f"seats held in the navigator: {held_total} of {sum(c for _, c, _ in seat_rows)} "
          f"(groups above capacity: {len(overbooked)}); raw baseline held {raw_held} of {args.seats}")
    print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    no_overbooking = (len(accepted) == args.seats and held_total == args.seats and not overbooked and answers_ok)
    all_finished = finished == len(accepted) and not states["requested"]
    saga_p99 = pct(saga, 99)
    print(f"target request p99 <= {TARGET_REQUEST_P99_MS:.0f} ms ({arrival}): "
          f"{verdict(rush.p99_ms <= TARGET_REQUEST_P99_MS)} ({rush.p99_ms:.0f} ms)")
    print(f"target no overbooking (exactly {args.seats} accepted, the rest 409 no_free_seats): "
          f"{verdict(no_overbooking)} ({len(accepted)} accepted, {held_total} held)")
    print(f"target every saga finished, p99 <= {TARGET_SAGA_P99_S:.0f} s: "
          f"{verdict(all_finished and saga_p99 <= TARGET_SAGA_P99_S)} ({finished}/{len(accepted)} finished, "
          f"p99 {saga_p99:.2f} s)")
    rate = "at once" if not spread_s else f"{args.parents / spread_s:.0f}/s"
    return (f"| {rate:>8} | {rush.p99_ms:>8.0f} ms {verdict(rush.p99_ms <= TARGET_REQUEST_P99_MS):>7} "
            f"| {floor_figures.p99_ms:>8.1f} ms | {saga_p99:>6.2f} s {verdict(all_finished and saga_p99 <= TARGET_SAGA_P99_S):>7} "
            f"| {verdict(no_overbooking):>7} |")


async def cleanup_all(infra: Infra, cleanup: list[Any]) -> None:
    for kind, thing in reversed(cleanup):
        try:
            if kind == "watch":
                await asyncio.wait_for(thing.stop(), 15)
            elif kind == "load":
                await thing.aclose()
            elif kind == "platform":
                await asyncio.wait_for(asyncio.to_thread(thing.stop), 120)
            elif kind == "databases":
                await asyncio.wait_for(drop_databases(infra, thing), 60)
        except Exception as exc:  # noqa: BLE001
            print(f"clean-up of {kind} failed: {exc!r}")


async def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    infra = await asyncio.to_thread(start_infra)
    rows: list[str] = []
    try:
        for index, spread_s in enumerate(args.spread_s, 1):
            print(f"\n--- rush {index} of {len(args.spread_s)}: "
                  f"{'all at once' if not spread_s else f'arriving over {spread_s:g} s'} ---", flush=True)
            cleanup: list[Any] = []
            with tempfile.TemporaryDirectory(prefix="pfdo-rush-") as tmp:
                try:
                    rows.append(await asyncio.wait_for(run(args, spread_s, infra, Path(tmp), cleanup), TOTAL_TIMEOUT_S))
                finally:
                    await cleanup_all(infra, cleanup)
    finally:
        await asyncio.to_thread(stop_infra, infra)
    print(f"\n{args.parents} parents, {args.seats} seats; targets: request p99 <= {TARGET_REQUEST_P99_MS:.0f} ms, "
          f"saga p99 <= {TARGET_SAGA_P99_S:.0f} s, no overbooking")
    print("| arrival  | request p99         | floor p99   | saga p99          | no overbooking |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"whole run (set-up, rushes, baselines, clean-up): {time.perf_counter() - started:.0f} s")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parents", type=int, default=2000, help="applicants (each with own certificate)")
    p.add_argument("--seats", type=int, default=200, help="seats in total")
    p.add_argument("--groups", type=int, default=10, help="module groups the seats are spread over")
    p.add_argument("--instances", type=int, default=1,
                   help="processes serving the navigator and billing each (the Kubernetes manifests run 2 pods of each)")
    p.add_argument("--spread-s", type=float, nargs="+", default=list(DEFAULT_SPREADS_S),
                   help="one rush per value: the applications arrive evenly over this many seconds (0: all at once)")
    return p.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
