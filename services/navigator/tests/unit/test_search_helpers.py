"""Pure helpers of the search service: the tsquery built from user text, billing's quote
answer, and the facet cache."""

from __future__ import annotations

import time

import pytest

from pfdo_navigator.service.search import FacetCache, parse_quotes, tsquery_text


def test_tsquery_keeps_only_words_and_matches_prefixes() -> None:
    assert tsquery_text("Танцы для детей") == "танцы:* & для:* & детей:*"
    # operators and quotes typed by a user cannot break the tsquery syntax
    assert tsquery_text("робот & (!лего) | 'x'") == "робот:* & лего:* & x:*"
    assert tsquery_text("  !!! ") is None


def test_tsquery_caps_the_number_of_words() -> None:
    assert tsquery_text(" ".join(f"w{i}" for i in range(40))).count(":*") == 12


def test_parse_quotes_reads_each_module() -> None:
    body = {"quotes": [{"module_id": "m1", "total_cost_kopecks": 150, "certificate_kopecks": 100, "family_kopecks": 50}]}
    assert parse_quotes(body) == {"m1": {"total_cost_kopecks": 150, "certificate_kopecks": 100, "family_kopecks": 50}}
    alt = [{"module_id": "m2", "cost_kopecks": 10, "certificate_part_kopecks": 10, "family_part_kopecks": 0}]
    assert parse_quotes(alt)["m2"]["family_kopecks"] == 0


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
        str(module): {"total_cost_kopecks": 100, "certificate_kopecks": 80, "family_kopecks": 20}}
    assert quotes._http() is client, "one client for every page"  # noqa: SLF001
    assert await quotes.quotes("token-c", *ask) is None
    assert seen == ["Bearer token-a", "Bearer token-b", "Bearer token-c"]
    await quotes.aclose()
    assert client.is_closed
