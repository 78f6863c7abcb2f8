"""Benchmark: the application rush through the gateway.

2 000 parents (each with an active certificate of a child of 10, no funding cap, an open program
period with nominals) apply at the same moment, through the nginx gateway, for 10 module groups
with 200 seats in total. Measured:

- the latency of every ``POST /api/navigator/enrolments`` (burst start to answer), p50/p95/p99;
  target p99 <= 300 ms;
- overbooking: exactly as many 201 answers as seats, every other answer 409 ``no_free_seats``, and
  the navigator's seat counters equal to the capacities (never above);
- the saga: for every accepted application, the time from its 201 answer until billing's
  reservation event (created or rejected) arrives on the namespaced reservations topic, read by a
  plain aiokafka consumer; target p99 <= 2 s, and every saga finished. The navigator's own view
  (enrolments in ``reserved``/``rejected``) is checked afterwards.

Beside it, in the same run: the same number of raw seat holds
(``UPDATE modules SET held = held + 1 WHERE module_id = $1 AND held < capacity``) with the same
concurrency, straight against the navigator's database through an asyncpg pool as large as the
navigator's own (pool size + overflow), on baseline rows of the same table.

The world (municipality, providers, certified programs, certificates, billing period) is built
through the public APIs behind the gateway. Infrastructure: PFDO_TEST_KAFKA_BOOTSTRAP and
PFDO_TEST_PG_URL when set, otherwise the local test stack, started and stopped here. Loopback only.

Run: uv run python -m bench.navigator_rush [--parents 2000] [--seats 200] [--groups 10]
     [--concurrency N (default: all parents at once)]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

from pfdo_contracts.topics import RESERVATIONS
from pfdo_devstack.gateway import HIGH_LIMITS
from pfdo_devstack.platform import PlatformUnderTest
from pfdo_devstack.testing import UrlInfra, env_or_local_infra, release
from pfdo_plumbing.testing import TestAuth, create_database, plain_dsn
from tests.faults.load import LoadConfig, LoadGenerator, today

SERVICES = ("registry", "navigator", "billing", "ratings")
NAVIGATOR_POOL = 10  # PFDO_DB_POOL_SIZE the platform gives every service
NAVIGATOR_OVERFLOW = 20  # ServiceSettings.db_max_overflow default
SETUP_CONCURRENCY = 16
CLIENT_POOL = 50  # connections per HTTP client of the rush
TOTAL_TIMEOUT_S = 1200.0
HOLD = "UPDATE modules SET held = held + 1 WHERE module_id = $1 AND held < capacity RETURNING held"
TARGET_REQUEST_P99_MS = 300.0
TARGET_SAGA_P99_S = 2.0


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
        return r is not None and r.status_code == 200 and any(c["certificate_id"] == cert for c in r.json())

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
    """A plain consumer of billing's reservations topic (no group): first arrival per enrolment."""

    bootstrap: str
    topic: str
    arrived: dict[str, float] = field(default_factory=dict)
    """enrolment id -> wall-clock time the event reached this process"""
    produced: dict[str, float] = field(default_factory=dict)
    """enrolment id -> the record's Kafka timestamp (billing's relay producing it)"""
    kinds: dict[str, str] = field(default_factory=dict)
    reasons: Counter = field(default_factory=Counter)

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                         auto_offset_reset="earliest", fetch_max_wait_ms=20,
                                         client_id=f"bench-rush-{uuid.uuid4().hex[:6]}")
        await self.consumer.start()
        deadline = time.monotonic() + 30
        while not (partitions := self.consumer.partitions_for_topic(self.topic)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topic {self.topic} has no partitions")
            await self.consumer._client.force_metadata_update()  # noqa: SLF001
            await asyncio.sleep(0.2)
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
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
@dataclass
class Answer:
    status: int
    code: str | None
    latency: float
    answered_at: float
    enrolment_id: str | None


def sharded_clients(gateway: str, concurrency: int) -> list[httpx.AsyncClient]:
    """HTTP clients for ``concurrency`` connections. httpcore's pool scans its connections and
    waiting requests on every event: one pool of thousands of connections makes the client, not
    the platform, the bottleneck; so the connections are spread over clients of at most
    CLIENT_POOL each."""
    shards = -(-concurrency // CLIENT_POOL)
    per = -(-concurrency // shards)
    limits = httpx.Limits(max_connections=per, max_keepalive_connections=per, keepalive_expiry=300)
    return [httpx.AsyncClient(base_url=gateway, limits=limits, timeout=httpx.Timeout(60.0, connect=10.0))
            for _ in range(shards)]


async def floor(gateway: str, requests: int, concurrency: int) -> tuple[list[float], float]:
    """The same number of requests, all in flight at once through the same clients and gateway,
    to a navigator route that does nothing: what this machine and harness can do at best."""
    clients = sharded_clients(gateway, concurrency)
    try:
        await asyncio.gather(*(clients[i % len(clients)].get("/healthz") for i in range(concurrency)))
        slots = asyncio.Semaphore(concurrency)
        latencies: list[float] = []

        async def one(i: int) -> None:
            async with slots:
                t0 = time.perf_counter()
                r = await clients[i % len(clients)].get("/api/navigator/health")
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text

        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        return latencies, time.perf_counter() - began
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def rush(gateway: str, auth: TestAuth, load: LoadGenerator, concurrency: int) -> tuple[list[Answer], float]:
    modules = [m[0] for m in load.world.modules]
    day = today().isoformat()
    requests = [
        (auth.headers("parent", parent),
         {"certificate_id": cert, "module_id": modules[i % len(modules)], "start_date": day, "payment_mode": "monthly"})
        for i, (cert, parent) in enumerate(load.world.certificates)
    ]
    clients = sharded_clients(gateway, concurrency)
    shards = len(clients)
    try:
        # open every connection first (browsers of parents waiting for the opening are connected),
        # and warm the navigator's apply route with requests that hold no seat (unknown certificate)
        await asyncio.gather(*(clients[i % shards].get("/healthz") for i in range(concurrency)))
        for _ in range(3):
            await asyncio.gather(*(
                clients[i % shards].post("/api/navigator/enrolments", headers=requests[0][0],
                                         json={**requests[0][1], "certificate_id": str(uuid.uuid4())})
                for i in range(20)))

        go = asyncio.Event()
        slots = asyncio.Semaphore(concurrency)
        answers: list[Answer] = []

        async def apply(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> None:
            await go.wait()
            async with slots:
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/navigator/enrolments", headers=headers, json=body)
                    status = r.status_code
                    payload = r.json() if r.headers.get("content-type", "").endswith("json") else {}
                except httpx.HTTPError:
                    status, payload = 0, {}
                latency = time.perf_counter() - t0
            answers.append(Answer(status, payload.get("code"), latency, time.time(),
                                  payload.get("enrolment_id") if status == 201 else None))

        tasks = [asyncio.create_task(apply(clients[i % shards], h, b)) for i, (h, b) in enumerate(requests)]
        await asyncio.sleep(0.2)  # every task waits at the gate
        began = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        return answers, time.perf_counter() - began
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def navigator_states(load: LoadGenerator, accepted: set[str], timeout: float = 60.0) -> Counter:
    """The navigator's view of the accepted enrolments, once none is still ``requested``."""
    deadline = time.monotonic() + timeout
    while True:
        r = await load.call("enrolment.list", "GET", "/api/navigator/enrolments", load.ro(), limit="1000")
        rows = r.json() if r is not None and r.status_code == 200 else []
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
async def run(args: argparse.Namespace, infra: Infra, folder: Path, cleanup: list[Any]) -> None:
    auth = TestAuth(folder / "auth")
    urls = await create_databases(infra, f"rush_{uuid.uuid4().hex[:8]}")
    cleanup.append(("databases", urls))
    platform = PlatformUnderTest(
        kafka_bootstrap=infra.kafka_bootstrap, database_url=urls.__getitem__, jwks_url=str(auth.jwks_path),
        issuer=auth.issuer, audience=auth.audience, gateway_variables=HIGH_LIMITS,
        extra_env={"PFDO_DB_POOL_SIZE": str(NAVIGATOR_POOL)}, work_dir=folder,
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

    watch = ReservationWatch(infra.kafka_bootstrap, platform.namespace + RESERVATIONS.name)
    await watch.start()
    cleanup.append(("watch", watch))

    concurrency = args.concurrency or args.parents
    answers, wall = await rush(platform.gateway_url, auth, load, concurrency)
    accepted = {a.enrolment_id for a in answers if a.status == 201 and a.enrolment_id}
    await watch.wait_for(accepted, timeout=60)
    states = await navigator_states(load, accepted)
    floor_lat, floor_wall = await floor(platform.gateway_url, args.parents, concurrency)

    navigator_dsn = plain_dsn(urls["navigator"])
    conn = await asyncpg.connect(navigator_dsn)
    try:
        seat_rows = [(str(r["module_id"]), r["capacity"], r["held"])
                     for r in await conn.fetch("SELECT module_id, capacity, held FROM modules ORDER BY module_id")]
    finally:
        await conn.close()

    raw_lat, raw_wall, raw_won, raw_held = await raw_baseline(
        navigator_dsn, args.parents, args.seats, args.groups, concurrency, [(m, c) for m, c, _ in seat_rows])

    # ---- figures
    outcomes = Counter((a.status, a.code) for a in answers)
    lat = [a.latency for a in answers]
    by_answer = {a.enrolment_id: a.answered_at for a in answers if a.enrolment_id}
    saga = [watch.arrived[e] - by_answer[e] for e in accepted if e in watch.arrived]
    saga_produced = [watch.produced[e] - by_answer[e] for e in accepted if e in watch.produced]
    finished = sum(1 for e in accepted if e in watch.arrived)
    kinds = Counter(watch.kinds[e] for e in accepted if e in watch.kinds)
    held_total = sum(h for _, _, h in seat_rows)
    overbooked = [m for m, c, h in seat_rows if h > c]
    rest_ok = outcomes[(409, "no_free_seats")] == args.parents - len(accepted)

    print()
    print(f"application rush through the gateway: {args.parents} parents, {args.seats} seats in {args.groups} groups "
          f"({args.seats // args.groups} each, {args.parents // args.groups} applicants per group), "
          f"{concurrency} requests in flight at once")
    print("answers: " + ", ".join(f"{s} {c or ''}".strip() + f" x{n}" for (s, c), n in sorted(outcomes.items(),
                                                                                      key=lambda x: -x[1])))
    print(summary("raw seat hold (asyncpg UPDATE)", raw_lat, raw_wall)
          + f"  [pool {NAVIGATOR_POOL + NAVIGATOR_OVERFLOW}, {raw_won} won]")
    print(summary("gateway POST /enrolments (all)", lat, wall))
    print(summary("floor: gateway GET /health", floor_lat, floor_wall)
          + "  <- same clients and concurrency, a route that does nothing")
    print(summary("  of which 201 (seat held)", [a.latency for a in answers if a.status == 201]))
    print(summary("  of which 409 (no free seats)", [a.latency for a in answers if a.status == 409]))
    print(summary("saga: 201 -> reservation event", saga, unit="s")
          + f"  [{dict(kinds)}{', reasons ' + str(dict(watch.reasons)) if watch.reasons else ''}]")
    print(summary("  (by billing's record timestamp)", saga_produced, unit="s"))
    print(f"navigator's view of the accepted enrolments: {dict(states)}")
    print(f"seats held in the navigator: {held_total} of {sum(c for _, c, _ in seat_rows)} "
          f"(groups above capacity: {len(overbooked)}); raw baseline held {raw_held} of {args.seats}")
    print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    p99_ms = pct([x * 1000 for x in lat], 99)
    no_overbooking = (len(accepted) == args.seats and held_total == args.seats and not overbooked and rest_ok
                      and not any(s == 0 or s >= 500 for s, _ in outcomes))
    all_finished = finished == len(accepted) and not states["requested"]
    saga_p99 = pct(saga, 99)
    print(f"target request p99 <= {TARGET_REQUEST_P99_MS:.0f} ms: {verdict(p99_ms <= TARGET_REQUEST_P99_MS)} "
          f"({p99_ms:.0f} ms)")
    print(f"target no overbooking (exactly {args.seats} accepted, the rest 409 no_free_seats): "
          f"{verdict(no_overbooking)} ({len(accepted)} accepted, {held_total} held)")
    print(f"target every saga finished, p99 <= {TARGET_SAGA_P99_S:.0f} s: "
          f"{verdict(all_finished and saga_p99 <= TARGET_SAGA_P99_S)} ({finished}/{len(accepted)} finished, "
          f"p99 {saga_p99:.2f} s)")


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
    cleanup: list[Any] = []
    code = 1
    try:
        with tempfile.TemporaryDirectory(prefix="pfdo-rush-") as tmp:
            try:
                await asyncio.wait_for(run(args, infra, Path(tmp), cleanup), TOTAL_TIMEOUT_S)
                code = 0
            finally:
                await cleanup_all(infra, cleanup)
    finally:
        await asyncio.to_thread(stop_infra, infra)
    print(f"whole run (set-up, rush, baseline, clean-up): {time.perf_counter() - started:.0f} s")
    return code


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--parents", type=int, default=2000, help="applicants (each with own certificate)")
    p.add_argument("--seats", type=int, default=200, help="seats in total")
    p.add_argument("--groups", type=int, default=10, help="module groups the seats are spread over")
    p.add_argument("--concurrency", type=int, default=0, help="requests in flight at once (0: all parents)")
    return p.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
