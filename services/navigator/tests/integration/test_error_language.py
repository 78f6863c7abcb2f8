"""Through the real navigator app (real PostgreSQL and Kafka): a bad search parameter answers 422
with a JSON pointer to it, a machine code and a message in Russian, or in English on
Accept-Language: en; the machine codes do not change with the language."""

from __future__ import annotations

import uuid

import pytest
import pytest_asyncio

from navigator_testkit import FixedClockSettings
from pfdo_contracts.topics import ALL_TOPICS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings

from pfdo_navigator.main import build_app

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture(scope="module")
async def nav(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    base = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                            namespace=namespace, auth=auth)
    settings = FixedClockSettings(**base.model_dump(), jobs_interval_s=3600, facet_cache_s=0)
    async with running_app(build_app(settings)) as client:
        yield client, auth.headers("parent", "someone")


async def _search(nav, params: dict, language: str | None = None) -> dict:  # noqa: ANN001
    client, headers = nav
    if language:
        headers = {**headers, "Accept-Language": language}
    answer = await client.get("/api/navigator/programs", params=params, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    return {"language": answer.headers.get("content-language"), **answer.json()}


async def test_a_bad_limit_points_at_it_in_russian_by_default(nav) -> None:  # noqa: ANN001
    body = await _search(nav, {"limit": "0"})
    assert (body["code"], body["language"]) == ("validation_error", "ru")
    assert body["title"] == "Неверные данные"
    [item] = body["errors"]
    assert item["pointer"] == "/query/limit" and item["code"] == "greater_than_equal"
    assert item["message"] == "Значение должно быть не меньше 1."


async def test_english_on_accept_language_en_with_the_same_pointer_and_code(nav) -> None:  # noqa: ANN001
    ru = await _search(nav, {"limit": "many"})
    en = await _search(nav, {"limit": "many"}, "en-GB,en;q=0.9,ru;q=0.5")
    assert en["language"] == "en" and en["title"] == "Unprocessable content"
    assert [(e["pointer"], e["code"]) for e in en["errors"]] == [(e["pointer"], e["code"]) for e in ru["errors"]] == [
        ("/query/limit", "not_integer")]
    assert en["errors"][0]["message"] == "Must be a whole number."
    assert ru["errors"][0]["message"] == "Нужно целое число."


async def test_each_bad_parameter_answers_with_its_own_pointer(nav) -> None:  # noqa: ANN001
    body = await _search(nav, {"limit": "1000", "direction": "cooking", "child_age": "99"})
    items = {e["pointer"]: e for e in body["errors"]}
    assert set(items) == {"/query/limit", "/query/direction", "/query/child_age"}
    assert items["/query/limit"]["code"] == "less_than_equal"
    assert items["/query/direction"]["code"] == "enum"
    assert "technical" in items["/query/direction"]["message"]
    assert all(e["message"] and "Input should" not in e["message"] for e in body["errors"])


async def test_a_rule_across_parameters_points_at_the_parameter_it_concerns(nav) -> None:  # noqa: ANN001
    body = await _search(nav, {"sort": "relevance"})
    assert body["code"] in ("invalid_query", "validation_error")
    [item] = body["errors"]
    assert item["pointer"] == "/query/sort" and item["code"] == "relevance_requires_text"
    assert item["message"] == "Сортировка по релевантности нужна только вместе с текстом поиска."


@pytest.mark.parametrize("language", [None, "en"])
async def test_not_found_speaks_the_language_too(nav, language: str | None) -> None:  # noqa: ANN001
    client, headers = nav
    if language:
        headers = {**headers, "Accept-Language": language}
    answer = await client.get(f"/api/navigator/enrolments/{uuid.uuid4()}", headers=headers)
    assert answer.status_code in (403, 404)
    body = answer.json()
    assert body["detail"] and (body["detail"].isascii() == (language == "en"))
