"""Per-query page latency (min of 5) on the bench's seeded catalogue; EXPLAIN the slowest."""
import asyncio, time, sys
import asyncpg
from bench.navigator_search import seed, queries, raw_statements, infra
from pfdo_plumbing.testing import DatabaseFactory, plain_dsn
from pfdo_plumbing import clock

async def main():
    inf = infra()
    url = await DatabaseFactory(inf).fresh("navigator")
    await seed(url, 50000)
    qs = queries(); comp = raw_statements(qs, clock.today("Europe/Moscow"))
    conn = await asyncpg.connect(plain_dsn(url), server_settings={"plan_cache_mode": "force_custom_plan"})
    res = []
    for q, ((ps, pa), (fs, fa)) in zip(qs, comp):
        best = 1e9; bestf = 1e9
        for _ in range(5):
            t = time.perf_counter(); await conn.fetch(ps, *pa); best = min(best, time.perf_counter() - t)
            t = time.perf_counter(); await conn.fetch(fs, *fa); bestf = min(bestf, time.perf_counter() - t)
        res.append((best * 1000, bestf * 1000, q, ps, pa))
    res.sort(key=lambda r: -r[int(sys.argv[2]) if len(sys.argv) > 2 else 0])
    pages = sorted(r[0] for r in res)
    print("page p50 %.1f p95 %.1f max %.1f" % (pages[len(pages)//2], pages[int(len(pages)*.95)], pages[-1]))
    fac = sorted(r[1] for r in res)
    print("facets p50 %.1f p95 %.1f max %.1f" % (fac[len(fac)//2], fac[int(len(fac)*.95)], fac[-1]))
    for r in res[:15]: print(f"{r[0]:6.1f} {r[1]:6.1f} {r[2]}")
    for r in res[:int(sys.argv[1]) if len(sys.argv) > 1 else 2]:
        print(r[2]); print(r[3][:3000])
        for row in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + r[3], *r[4]): print(row[0])
    await conn.close()
asyncio.run(main())
