"""CPU per search: run_search through SQLAlchemy vs the same compiled statements through asyncpg."""
import asyncio, time, sys
import asyncpg
from bench.navigator_search import queries, raw_statements
from pfdo_navigator.domain.search_query import SearchQuery
from pfdo_navigator.service.search import run_search, FacetCache, catalogue_reader
from pfdo_plumbing.db import Database
from pfdo_plumbing import clock
from pfdo_plumbing.testing import plain_dsn

URL = "postgresql+asyncpg://pfdo@127.0.0.1:15433/" + sys.argv[1]
async def main():
    today = clock.today("Europe/Moscow")
    qs = [SearchQuery.from_params(q) for q in queries()]
    comp = raw_statements(queries(), today)
    db = Database(URL, pool_size=2, max_overflow=0, autocommit=True, server_settings={"plan_cache_mode": "force_custom_plan"})
    cache = FacetCache(60.0)
    conn = await asyncpg.connect(plain_dsn(URL), server_settings={"plan_cache_mode": "force_custom_plan"})
    for rep in range(3):
        c0 = time.process_time(); w0 = time.perf_counter()
        for q in qs:
            async with db.reading() as s:
                await run_search(s, q, today=today, key=b"k" * 16, cursor=None, facet_cache=cache)
        c1 = time.process_time(); w1 = time.perf_counter()
        for (ps, pa), _ in comp:
            await conn.fetch(ps, *pa)
        c2 = time.process_time(); w2 = time.perf_counter()
        n = len(qs)
        print(f"run_search (facets cached): cpu {1000*(c1-c0)/n:.2f} ms wall {1000*(w1-w0)/n:.2f} ms | raw page fetch: cpu {1000*(c2-c1)/n:.2f} ms wall {1000*(w2-w1)/n:.2f} ms")
    await conn.close(); await db.dispose()
asyncio.run(main())
