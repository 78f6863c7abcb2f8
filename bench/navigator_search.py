"""Benchmark: catalogue search over N module groups (default 50 000) with 50 concurrent clients,
through the navigator's own route (in-process ASGI: token check, query parsing, the page query
and the facet query), beside a raw SQL baseline of the same two statements sent straight through
asyncpg, in the same run on the same database.

Target: p95 <= 30 ms for the service. Printed twice: with the 50 clients sending back to back
(a closed loop at saturation: there p95 is about 50 / throughput, whatever one request costs; the
floor line shows what the same loop gets from a route that does nothing) and with the 50 clients
pausing about a second between searches, as people browsing do.
Run: uv run python bench/navigator_search.py [modules] [requests]
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from billing_common import infra  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from pfdo_plumbing.testing import DatabaseFactory, TestAuth, plain_dsn, service_settings  # noqa: E402

from pfdo_navigator.domain.search_query import SearchQuery  # noqa: E402
from pfdo_navigator.main import build_app  # noqa: E402
from pfdo_navigator.service.search import build_statement  # noqa: E402
from pfdo_navigator.settings import NavigatorSettings  # noqa: E402

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
FROM generate_series(1, :n) i, (SELECT CAST(:w AS text[]) w, CAST(:d AS text[]) d) c
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


async def main(modules: int, n_requests: int) -> None:
    bench_infra = infra()
    url = await DatabaseFactory(bench_infra).fresh("navigator")
    with tempfile.TemporaryDirectory() as folder:
        auth = TestAuth(Path(folder))
        base = service_settings("navigator", infra=bench_infra, database_url=url, namespace="bench.", auth=auth,
                                db_pool_size=CLIENTS, db_max_overflow=0, log_level="WARNING")
        settings = NavigatorSettings(**base.model_dump(), search_pool_size=CLIENTS, search_max_overflow=0)
        app = build_app(settings)
        runtime = app.state.runtime
        t0 = time.perf_counter()
        async with runtime.db.transaction() as s:
            await s.execute(text(SEED), {"n": modules, "w": WORDS, "d": DIRECTIONS})
            await s.execute(text(SEED_MODULES))
        async with runtime.db.engine.connect() as c:
            await c.execution_options(isolation_level="AUTOCOMMIT")
            await c.execute(text("VACUUM ANALYZE catalogue.entries"))
            await c.execute(text("VACUUM ANALYZE modules"))
        print(f"seeded {modules} module groups in {time.perf_counter() - t0:.1f} s")

        qs = queries()
        headers = auth.headers("parent", "bench-parent")
        today = dt.date(2026, 9, 1)

        # raw baseline: the same two statements (page + facets), compiled once, sent through asyncpg
        from pfdo_navigator.service.search import facets as _facets  # noqa: F401  (same WHERE clause below)

        compiled: list[tuple[str, str]] = []
        for q in qs:
            sq = SearchQuery.from_params({**q, "weekdays": q.get("weekdays")} if "weekdays" in q else q)
            stmt, _keys, where, _ = build_statement(sq, today=today, key=b"k" * 16, cursor=None)
            from sqlalchemy import func, select, tuple_

            e = runtime_entries()
            fstmt = (
                select(e.c.direction, e.c.municipality_code, e.c.funding_kind,
                       func.grouping(e.c.direction, e.c.municipality_code, e.c.funding_kind), func.count())
                .where(*where)
                .group_by(func.grouping_sets(tuple_(e.c.direction), tuple_(e.c.municipality_code),
                                             tuple_(e.c.funding_kind), tuple_()))
            )
            dialect = postgresql.asyncpg.dialect()
            compiled.append(tuple(_positional(x.compile(dialect=dialect)) for x in (stmt, fstmt)))
        # planned per call like the service's searches (plan_cache_mode, see service/search.py)
        pool = await asyncpg.create_pool(plain_dsn(url), min_size=CLIENTS, max_size=CLIENTS,
                                         server_settings={"plan_cache_mode": "force_custom_plan"})

        async def raw(i: int) -> None:
            (page_sql, page_args), (facet_sql, facet_args) = compiled[i % len(compiled)]
            async with pool.acquire() as conn:
                await conn.fetch(page_sql, *page_args)
                await conn.fetch(facet_sql, *facet_args)

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://navigator") as client:

            async def service(i: int) -> None:
                resp = await client.get("/api/navigator/programs", params=qs[i % len(qs)], headers=headers)
                assert resp.status_code == 200, resp.text

            async def health(i: int) -> None:
                resp = await client.get("/api/navigator/health")
                assert resp.status_code == 200, resp.text

            await run_clients(200, service)  # warm-up (JWKS, pools, plans)
            await run_clients(200, raw)
            raw_lat, raw_wall = await run_clients(n_requests, raw)
            svc_lat, svc_wall = await run_clients(n_requests, service)
            floor_lat, floor_wall = await run_clients(n_requests, health)
            raw1, raw1_wall = await run_clients(300, raw, clients=1)
            svc1, svc1_wall = await run_clients(300, service, clients=1)
            paced = min(n_requests, 1000)  # 50 per second: 20 s each
            paced_raw, paced_raw_wall = await run_clients(paced, raw, think_s=THINK_S)
            paced_svc, paced_svc_wall = await run_clients(paced, service, think_s=THINK_S)
        await pool.close()
        await runtime.db.dispose()
        print(f"search over {modules} module groups, {CLIENTS} concurrent clients, {len(qs)} distinct queries")
        print(summary("raw SQL (page + facets)", raw_lat, raw_wall))
        print(summary("navigator GET /programs", svc_lat, svc_wall))
        print(summary("floor: GET /health", floor_lat, floor_wall)
              + "  <- the same 50 clients on a route that does nothing")
        print("one client at a time (no queueing):")
        print(summary("raw SQL (page + facets)", raw1, raw1_wall))
        print(summary("navigator GET /programs", svc1, svc1_wall))
        print(f"{CLIENTS} clients that each wait {THINK_S * 1000:.0f} ms (mean, exponential) between searches:")
        print(summary("raw SQL (page + facets)", paced_raw, paced_raw_wall))
        print(summary("navigator GET /programs", paced_svc, paced_svc_wall))
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        for label, lat in (("back to back", svc_lat), ("with think time", paced_svc)):
            verdict = "MET" if pct([v * 1000 for v in lat], 95) <= 30 else "NOT MET"
            print(f"target p95 <= 30 ms, {CLIENTS} clients {label}: {verdict}")


def _positional(compiled: Any) -> tuple[str, list[Any]]:
    """The statement as asyncpg receives it ($n placeholders) with its parameters in order."""
    params = compiled.construct_params()
    return compiled.string, [params[name] for name in compiled.positiontup]


def runtime_entries() -> Any:
    from pfdo_navigator.adapters.tables import LIVE

    return LIVE.entries


if __name__ == "__main__":
    n_modules = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    n_req = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    asyncio.run(main(n_modules, n_req))
