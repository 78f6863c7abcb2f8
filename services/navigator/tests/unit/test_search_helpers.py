"""Pure helpers of the search service: the tsquery built from user text, billing's quote
answer, and the facet cache."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from pfdo_navigator.service.search import UNQUOTED_MESSAGE, FacetCache, ModuleQuote, parse_quotes, tsquery_text


def test_tsquery_keeps_only_words_and_matches_prefixes() -> None:
    assert tsquery_text("Танцы для детей") == "танцы:* & для:* & детей:*"
    # operators and quotes typed by a user cannot break the tsquery syntax
    assert tsquery_text("робот & (!лего) | 'x'") == "робот:* & лего:* & x:*"
    assert tsquery_text("  !!! ") is None


def test_tsquery_caps_the_number_of_words() -> None:
    assert tsquery_text(" ".join(f"w{i}" for i in range(40))).count(":*") == 12


def test_parse_quotes_reads_each_module() -> None:
    body = {"quotes": [{"module_id": "m1", "total_cost_kopecks": 150, "certificate_kopecks": 100, "family_kopecks": 50}]}
    assert parse_quotes(body) == {
        "m1": ModuleQuote(figures={"total_cost_kopecks": 150, "certificate_kopecks": 100, "family_kopecks": 50})}
    alt = [{"module_id": "m2", "cost_kopecks": 10, "certificate_part_kopecks": 10, "family_part_kopecks": 0}]
    assert parse_quotes(alt)["m2"].figures["family_kopecks"] == 0


def test_parse_quotes_keeps_the_other_prices_when_one_module_cannot_be_quoted() -> None:
    body = {"quotes": [
        {"module_id": "m1", "cost_kopecks": 150, "certificate_kopecks": 100, "family_kopecks": 50},
        {"module_id": "m2", "error": {"code": "start_outside_module",
                                      "detail": "Обучение не может начаться раньше начала модуля."}},
        {"module_id": "m3", "error": {"code": "period_not_open", "detail": ""}},
    ]}
    answers = parse_quotes(body)
    assert answers["m1"] == ModuleQuote(figures={"total_cost_kopecks": 150, "certificate_kopecks": 100,
                                                 "family_kopecks": 50})
    assert answers["m2"] == ModuleQuote(error={"code": "start_outside_module",
                                               "message": "Обучение не может начаться раньше начала модуля."})
    assert answers["m3"].figures is None and answers["m3"].error == {"code": "period_not_open",
                                                                      "message": UNQUOTED_MESSAGE}


@pytest.mark.parametrize("body", [{"nothing": []}, {"quotes": [{"module_id": "m1", "total_cost_kopecks": 1}]}, "x"])
def test_parse_quotes_refuses_an_unexpected_answer(body: object) -> None:
    with pytest.raises((ValueError, KeyError)):
        parse_quotes(body)


def test_facet_cache_expires_and_can_be_disabled() -> None:
    cache = FacetCache(ttl_s=0.05)
    cache.put(("a",), (3, {"direction": {"technical": 3}}))
    assert cache.get(("a",)) == (3, {"direction": {"technical": 3}})
    time.sleep(0.06)
    assert cache.get(("a",)) is None
    off = FacetCache(ttl_s=0)
    off.put(("a",), (1, {}))
    assert off.get(("a",)) is None


def test_facet_cache_is_bounded() -> None:
    cache = FacetCache(ttl_s=60, max_entries=3)
    for i in range(10):
        cache.put((i,), (i, {}))
    assert len(cache._data) <= 3 and cache.get((9,)) == (9, {})


class _Reader:
    """The search pool's ``reading()`` as the cache uses it: hands out its own session marker."""

    def __init__(self) -> None:
        self.opened = 0

    @contextlib.asynccontextmanager
    async def reading(self):  # noqa: ANN201
        self.opened += 1
        yield "reader-session"


async def test_facet_counts_are_answered_while_fresh_and_recounted_in_the_background_when_stale() -> None:
    reader = _Reader()
    cache = FacetCache(ttl_s=0.1, reader=reader)  # type: ignore[arg-type]
    calls: list[str] = []
    release = asyncio.Event()

    async def count(session: str) -> tuple[int, dict]:
        calls.append(session)
        if session == "reader-session":
            await release.wait()
        return len(calls), {}

    assert await cache.counts(("k",), count, "search-session") == (1, {})  # a miss: counted on the search's own
    assert await cache.counts(("k",), count, "search-session") == (1, {})  # fresh: not counted again
    assert calls == ["search-session"]

    await asyncio.sleep(0.12)  # stale, but younger than twice the ttl
    answers = await asyncio.gather(*(cache.counts(("k",), count, "search-session") for _ in range(5)))
    assert answers == [(1, {})] * 5  # answered at once with the stale counts...
    await asyncio.sleep(0)
    assert calls == ["search-session", "reader-session"] and reader.opened == 1  # ...and recounted once
    release.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert cache.get(("k",)) == (2, {})

    await asyncio.sleep(0.21)  # older than twice the ttl: the search counts itself again
    assert await cache.counts(("k",), count, "search-session") == (3, {})
    assert calls[-1] == "search-session"


async def test_a_failed_recount_keeps_the_stale_counts_and_stopping_cancels_recounts() -> None:
    cache = FacetCache(ttl_s=0.05, reader=_Reader())  # type: ignore[arg-type]

    async def first(session: str) -> tuple[int, dict]:
        return 7, {}

    async def broken(session: str) -> tuple[int, dict]:
        raise RuntimeError("database gone")

    await cache.counts(("k",), first, "s")
    await asyncio.sleep(0.06)
    assert await cache.counts(("k",), broken, "s") == (7, {})
    for _ in range(5):
        await asyncio.sleep(0)
    assert cache._data[("k",)][1] == (7, {}) and not cache._recounting

    hang = asyncio.Event()

    async def slow(session: str) -> tuple[int, dict]:
        await hang.wait()
        return 8, {}

    assert await cache.counts(("k",), slow, "s") == (7, {})
    (recount,) = cache._recounting.values()
    await cache.aclose()
    assert recount.cancelled() and not cache._recounting


async def test_without_a_reader_or_a_ttl_the_search_counts_itself() -> None:
    calls: list[str] = []

    async def count(session: str) -> tuple[int, dict]:
        calls.append(session)
        return len(calls), {}

    off = FacetCache(ttl_s=0)
    assert [await off.counts(("k",), count, "s") for _ in range(2)] == [(1, {}), (2, {})]
    no_reader = FacetCache(ttl_s=0.05)
    await no_reader.counts(("k",), count, "s")
    await asyncio.sleep(0.06)
    assert await no_reader.counts(("k",), count, "s") == (4, {})  # stale: counted inline, no background


async def test_quote_client_keeps_one_pooled_client_and_answers_none_when_billing_fails() -> None:
    import datetime as dt
    import uuid

    import httpx

    from pfdo_navigator.service.search import QuoteClient

    module = uuid.uuid4()
    seen: list[str] = []

    def billing(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if len(seen) == 3:
            return httpx.Response(503)
        return httpx.Response(200, json={"quotes": [{"module_id": str(module), "total_cost_kopecks": 100,
                                                     "certificate_kopecks": 80, "family_kopecks": 20}]})

    quotes = QuoteClient("http://billing/", 1.0, transport=httpx.MockTransport(billing))
    ask = (uuid.uuid4(), dt.date(2026, 9, 1), [module])
    first = await quotes.quotes("token-a", *ask)
    client = quotes._http()  # noqa: SLF001
    assert await quotes.quotes("token-b", *ask) == first == {
        str(module): ModuleQuote(figures={"total_cost_kopecks": 100, "certificate_kopecks": 80, "family_kopecks": 20})}
    assert quotes._http() is client, "one client for every page"  # noqa: SLF001
    assert await quotes.quotes("token-c", *ask) is None
    assert seen == ["Bearer token-a", "Bearer token-b", "Bearer token-c"]
    await quotes.aclose()
    assert client.is_closed
