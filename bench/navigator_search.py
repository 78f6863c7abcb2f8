"""Benchmark: catalogue search over N module groups (default 50 000) with 50 concurrent clients,
against the navigator running as it is deployed (its own uvicorn process, its access log at INFO:
token check, query parsing, the page query and the facet query), beside a raw SQL baseline of the
same two statements sent straight through asyncpg, in the same run on the same database.

The clients are wrk (C, from Debian) driven by ``search.lua``, one connection per client, outside
the navigator's process: until this bench ran them as Python coroutines in the navigator's own
event loop, and their HTTP client's CPU counted in every search's latency.

Target: p95 <= 30 ms for the service. Printed twice: with the 50 clients sending back to back
(a closed loop at saturation: there p95 is about 50 / throughput, whatever one request costs; the
floor line shows what the same loop gets from a route that does nothing) and with the 50 clients
pausing about a second between searches, as people browsing do.
Run: uv run python -m bench.navigator_search [modules] [seconds per run]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import asyncpg

from pfdo_devstack.platform import PlatformUnderTest
from pfdo_navigator.api.schemas import SearchParams
from pfdo_navigator.service.search import search_plan
from pfdo_navigator.settings import NavigatorSettings
from pfdo_plumbing import clock
from pfdo_testkit import DatabaseFactory, TestAuth, plain_dsn

from .billing_common import infra
from .wrk import THREADS as WRK_THREADS
from .wrk import LoadFigures, figures_from, find_wrk

CLIENTS = 50
WORDS = ["танцевальный", "хореография", "робототехника", "программирование", "шахматы", "футбол", "плавание",
         "рисование", "живопись", "вокал", "хоровое", "пение", "театральная", "студия", "краеведение", "туризм",
         "экология", "биология", "химия", "физика", "английский", "журналистика", "конструирование", "лего",
         "гимнастика", "борьба", "карате", "керамика", "дизайн", "фотография"]
DIRECTIONS = ["technical", "natural_science", "physical_sports", "artistic", "tourism_local_history",
              "social_humanitarian"]

SEED = """
INSERT INTO catalogue.entries (module_id, program_id, provider_id, program_revision, title, module_title, description,
    direction, municipality_code, venue_address, age_min, age_max, funding_kind, start_date, end_date, weekdays,
    schedule, hours, lessons_per_week, capacity, price_kopecks, normative_cost_kopecks, certified_on, visible,
    rating_score, rating_count)
SELECT md5('m' || i)::uuid, md5('p' || (i / 2))::uuid, md5('v' || (i % 2000))::uuid, 1,
       initcap(w[1 + i % 30]) || ' ' || w[1 + (i / 7) % 30],
       'Группа ' || (i % 5 + 1),
       'Занятия: ' || w[1 + (i / 3) % 30] || ', ' || w[1 + (i / 11) % 30] || ', ' || w[1 + (i / 13) % 30],
       d[1 + i % 6], lpad((i % 20 + 1)::text, 2, '0'), 'Липецк', 5 + i % 6, 10 + i % 8,
       CASE WHEN i % 5 = 0 THEN 'municipal_task' ELSE 'certificate' END,
       DATE '2026-09-01', DATE '2027-05-31', ARRAY[1 + i % 7, 1 + (i + 3) % 7]::smallint[],
       '[]'::jsonb, 72, 2, 15, (i % 40) * 50000, 1800000, DATE '2026-01-01' + (i % 300), i % 50 <> 0,
       CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 97)::float END, i % 40
FROM generate_series(1, $1::int) i, (SELECT CAST($2 AS text[]) w, CAST($3 AS text[]) d) c
"""
SEED_MODULES = """
INSERT INTO modules (module_id, program_id, provider_id, revision, capacity, held, start_date, end_date, weekdays,
                     schedule, lessons_per_week)
SELECT module_id, program_id, provider_id, 1, capacity, (abs(hashtext(module_id::text)) % 16), start_date, end_date,
       weekdays, schedule, lessons_per_week FROM catalogue.entries
"""


def queries() -> list[dict[str, Any]]:
    rnd = random.Random(7)
    out: list[dict[str, Any]] = []
    for _ in range(200):
        q: dict[str, Any] = {}
        kind = rnd.randrange(6)
        if kind in (0, 1, 2):
            q["text"] = rnd.choice(["танцы", "робот", "шахматы", "рисование", "пение", "футбол", "туризм краеведение"])
        if kind in (1, 3):
            q["municipality"] = f"{rnd.randint(1, 20):02d}"
        if kind in (2, 4):
            q["direction"] = rnd.choice(DIRECTIONS)
            q["child_age"] = str(rnd.randint(6, 15))
        if kind == 5:
            q["sort"] = rnd.choice(["price", "newest", "rating"])
            q["free_seats_only"] = "true"
        out.append(q)
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(name: str, latencies: list[float], wall: float) -> str:
    ms = [v * 1000 for v in latencies]
    return (f"{name:<28} n={len(ms):>5}  p50={pct(ms, 50):6.1f} ms  p95={pct(ms, 95):6.1f} ms  "
            f"p99={pct(ms, 99):6.1f} ms  mean={statistics.mean(ms):6.1f} ms  throughput={len(ms) / wall:7.0f}/s")


THINK_S = 1.0
"""Mean pause of a person between two searches (the paced run): 50 people browsing at once."""


async def run_clients(n_requests: int, call: Any, clients: int = CLIENTS, think_s: float = 0.0) -> tuple[list[float], float]:
    """``clients`` clients share ``n_requests`` calls; with ``think_s`` each pauses before every
    call (exponentially distributed, that mean), as people do. Latency is counted from the moment
    a call is sent."""
    rnd = random.Random(11)
    latencies: list[float] = []
    counter = iter(range(n_requests))

    async def client() -> None:
        for i in counter:
            if think_s:
                await asyncio.sleep(rnd.expovariate(1 / think_s))
            t0 = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, time.perf_counter() - start


LUA = Path(__file__).with_name("search.lua")
BACK_TO_BACK_S = 15
PACED_S = 25
"""50 clients pausing a second on average: about 50 searches a second, 1 250 in a paced run."""


async def run_wrk(url: str, paths: Path, token: str, *, seconds: int, clients: int = CLIENTS,
                  think_s: float = 0.0) -> LoadFigures:
    """``clients`` connections (wrk, outside this process) searching for ``seconds``, each pausing
    ``think_s`` on average before every search; returns wrk's figures. Every answer must be 200."""
    threads = min(WRK_THREADS, clients)
    cmd = [find_wrk(), "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "30s",
           "-H", f"Authorization: Bearer {token}", "-s", str(LUA), url, "--", str(paths), str(int(think_s * 1000))]
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await proc.communicate()
    text = output.decode(errors="replace")
    figures = figures_from(text, "SEARCH_RESULT", exit_code=proc.returncode or 0,
                           wall_s=time.perf_counter() - began)
    if set(figures.statuses) != {200} or any(figures.errors.values()):
        raise RuntimeError(f"not every search was answered 200: {dict(figures.statuses)}, {figures.errors}\n{text}")
    return figures


async def seed(url: str, modules: int) -> None:
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(SEED, modules, WORDS, DIRECTIONS)
        await conn.execute(SEED_MODULES)
        await conn.execute("VACUUM ANALYZE catalogue.entries")
        await conn.execute("VACUUM ANALYZE catalogue.search_docs")  # the text searches' copy, filled by trigger
        await conn.execute("VACUUM ANALYZE modules")
    finally:
        await conn.close()


def raw_statements(qs: list[dict[str, Any]], today: dt.date) -> list[tuple[tuple[str, list[Any]], ...]]:
    """Each query's page and facet statements with their values, exactly as the service sends them."""
    compiled = []
    for q in qs:
        statements, params = search_plan(SearchParams.model_validate(q).to_query(), today=today, key=b"k" * 16, cursor=None)
        compiled.append(tuple((st.sql, st.args_from(params)) for st in (statements.page, statements.facets)))
    return compiled


async def main(modules: int, seconds: int) -> None:
    bench_infra = infra()
    url = await DatabaseFactory(bench_infra).fresh("navigator")
    t0 = time.perf_counter()
    await seed(url, modules)
    print(f"seeded {modules} module groups in {time.perf_counter() - t0:.1f} s", flush=True)
    qs = queries()
    # the same business date as the navigator's searches use
    today = clock.today(NavigatorSettings.model_fields["region_timezone"].default)
    compiled = raw_statements(qs, today)
    # planned per call like the service's searches (plan_cache_mode, see service/search.py)
    pool = await asyncpg.create_pool(plain_dsn(url), min_size=CLIENTS, max_size=CLIENTS,
                                     server_settings={"plan_cache_mode": "force_custom_plan"})

    async def raw(i: int) -> None:
        (page_sql, page_args), (facet_sql, facet_args) = compiled[i % len(compiled)]
        async with pool.acquire() as conn:
            await conn.fetch(page_sql, *page_args)
            await conn.fetch(facet_sql, *facet_args)

    with tempfile.TemporaryDirectory() as folder:
        auth = TestAuth(Path(folder) / "auth")
        platform = PlatformUnderTest(
            kafka_bootstrap=bench_infra.kafka_bootstrap, database_url=lambda _name: url,
            jwks_url=str(auth.jwks_path), issuer=auth.issuer, audience=auth.audience, services=("navigator",),
            # one connection per client, as the raw baseline's pool has
            extra_env={"PFDO_SEARCH_POOL_SIZE": str(CLIENTS), "PFDO_SEARCH_MAX_OVERFLOW": "0"},
            work_dir=Path(folder),
        )
        await asyncio.to_thread(platform.start)
        try:
            navigator = platform.service_url("navigator")
            paths = Path(folder) / "searches.txt"
            paths.write_text("".join(f"/api/navigator/programs?{urllib.parse.urlencode(q)}\n" for q in qs))
            health = Path(folder) / "health.txt"
            health.write_text("/api/navigator/health\n")
            token = auth.token("parent", "bench-parent")

            await run_wrk(navigator, paths, token, seconds=5)  # warm-up (JWKS, pools, plans, facet cache)
            await run_clients(200, raw)
            raw_lat, raw_wall = await run_clients(3000, raw)
            svc = await run_wrk(navigator, paths, token, seconds=seconds)
            floor = await run_wrk(navigator, health, token, seconds=seconds)
            raw1, raw1_wall = await run_clients(300, raw, clients=1)
            svc1 = await run_wrk(navigator, paths, token, seconds=10, clients=1)
            paced_raw, paced_raw_wall = await run_clients(int(PACED_S * CLIENTS / THINK_S), raw, think_s=THINK_S)
            paced_svc = await run_wrk(navigator, paths, token, seconds=PACED_S, think_s=THINK_S)
        finally:
            await asyncio.to_thread(platform.stop)
            await pool.close()
    print(f"search over {modules} module groups, {CLIENTS} concurrent clients, {len(qs)} distinct queries; "
          f"the navigator in its own process, the clients wrk ({WRK_THREADS} threads)")
    print(summary("raw SQL (page + facets)", raw_lat, raw_wall))
    print(svc.line("navigator GET /programs"))
    print(floor.line("floor: GET /health") + "  <- the same 50 clients on a route that does nothing")
    print("one client at a time (no queueing):")
    print(summary("raw SQL (page + facets)", raw1, raw1_wall))
    print(svc1.line("navigator GET /programs"))
    print(f"{CLIENTS} clients that each wait {THINK_S * 1000:.0f} ms (mean, exponential) between searches:")
    print(summary("raw SQL (page + facets)", paced_raw, paced_raw_wall))
    print(paced_svc.line("navigator GET /programs"))
    print(f"load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, figures in (("back to back", svc), ("with think time", paced_svc)):
        verdict = "MET" if figures.p95_ms <= 30 else "NOT MET"
        print(f"target p95 <= 30 ms, {CLIENTS} clients {label}: {verdict} ({figures.p95_ms:.1f} ms)")


if __name__ == "__main__":
    n_modules = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    seconds_per_run = int(sys.argv[2]) if len(sys.argv) > 2 else BACK_TO_BACK_S
    asyncio.run(main(n_modules, seconds_per_run))
