"""The Idempotency-Key header on the real registry (its own PostgreSQL database, real Kafka):
applying for a certificate twice with one key makes one application, also when the second
request reaches another (restarted) instance, when many arrive at once, and never crosses users."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings
from pfdo_registry.domain.age import anniversary
from pfdo_registry.domain.identifiers import generate_snils
from pfdo_registry.main import build_app

pytestmark = pytest.mark.integration

RNG = random.Random(2323)
API = "/api/registry"
TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=3))).date()


class Registry:
    """One registry database and the settings to start instances of the service on it."""

    def __init__(self, settings: Any, auth: Any) -> None:
        self.settings = settings
        self.auth = auth

    def instance(self) -> Any:
        return build_app(self.settings)

    def parent(self, sub: str, key: str | None = None) -> dict[str, str]:
        headers = self.auth.headers("parent", sub)
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    async def applications(self, app: Any) -> int:
        async with app.state.runtime.db.transaction() as s:
            return (await s.execute(text("SELECT count(*) FROM applications"))).scalar_one()


@pytest.fixture(scope="module")
async def registry(infra, databases, auth) -> AsyncIterator[Registry]:  # noqa: ANN001
    namespace = new_namespace()
    await ensure_topics(infra.kafka_bootstrap, TopicNames(namespace), {"registry"}, 1)
    settings = service_settings("registry", infra=infra, database_url=await databases.fresh("registry"),
                                namespace=namespace, auth=auth, kafka_replication_factor=1)
    registry = Registry(settings, auth)
    app = registry.instance()
    async with running_app(app) as client:
        r = await client.put(f"{API}/municipalities/01", json={"name": "Липецк"},
                             headers=auth.headers("regional_operator", "ro-1"))
        assert r.status_code == 200, r.text
    yield registry


@pytest.fixture
async def service(registry: Registry) -> AsyncIterator[tuple[Any, Any]]:
    app = registry.instance()
    async with running_app(app) as client:
        yield app, client


def application(snils: str | None = None) -> dict[str, Any]:
    born = anniversary(TODAY, -9) - dt.timedelta(days=40)
    return {"child": {"surname": "Петрова", "first_name": "Мария", "patronymic": "Ивановна",
                      "birth_date": born.isoformat(), "snils": snils or generate_snils(RNG), "municipality_code": "01"}}


async def test_applying_twice_with_one_key_makes_one_application_with_one_answer(registry: Registry, service) -> None:  # noqa: ANN001
    app, client = service
    before = await registry.applications(app)
    body, key = application(), str(uuid.uuid4())
    first = await client.post(f"{API}/applications", json=body, headers=registry.parent("parent-idem-1", key))
    again = await client.post(f"{API}/applications", json=body, headers=registry.parent("parent-idem-1", key))
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and again.content == first.content
    assert await registry.applications(app) == before + 1

    changed = await client.post(f"{API}/applications", json=application(), headers=registry.parent("parent-idem-1", key))
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    assert changed.headers["content-type"] == "application/problem+json"
    assert "идемпотентности" in changed.json()["detail"]
    assert await registry.applications(app) == before + 1


async def test_a_restarted_instance_replays_the_stored_answer(registry: Registry) -> None:
    body, key = application(), f"restart-{uuid.uuid4()}"
    first_app = registry.instance()
    async with running_app(first_app) as client:
        first = await client.post(f"{API}/applications", json=body, headers=registry.parent("parent-idem-2", key))
        assert first.status_code == 201, first.text
        count = await registry.applications(first_app)
    second_app = registry.instance()  # a new process's state: nothing of the first instance in memory
    assert second_app.state.runtime is not first_app.state.runtime
    async with running_app(second_app) as client:
        again = await client.post(f"{API}/applications", json=body, headers=registry.parent("parent-idem-2", key))
        assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        assert await registry.applications(second_app) == count


async def test_concurrent_requests_with_one_key_make_one_application(registry: Registry, service) -> None:  # noqa: ANN001
    app, client = service
    before = await registry.applications(app)
    body, key = application(), f"rush-{uuid.uuid4()}"
    answers = await asyncio.gather(*[
        client.post(f"{API}/applications", json=body, headers=registry.parent("parent-idem-3", key)) for _ in range(8)])
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409} and 201 in statuses, [a.text for a in answers]
    assert all(a.json()["code"] == "idempotency_key_in_progress" for a in answers if a.status_code == 409)
    assert len({a.json()["id"] for a in answers if a.status_code == 201}) == 1
    assert await registry.applications(app) == before + 1
    settled = await client.post(f"{API}/applications", json=body, headers=registry.parent("parent-idem-3", key))
    assert settled.status_code == 201 and settled.headers["idempotent-replayed"] == "true"


async def test_another_user_with_the_same_key_is_served_on_their_own(registry: Registry, service) -> None:  # noqa: ANN001
    app, client = service
    before = await registry.applications(app)
    key = f"shared-{uuid.uuid4()}"
    mine = await client.post(f"{API}/applications", json=application(), headers=registry.parent("parent-idem-4", key))
    theirs = await client.post(f"{API}/applications", json=application(), headers=registry.parent("parent-idem-5", key))
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert "idempotent-replayed" not in theirs.headers and theirs.json()["id"] != mine.json()["id"]
    assert await registry.applications(app) == before + 2
    async with app.state.runtime.db.transaction() as s:
        owners = (await s.execute(text("SELECT subject FROM idempotency_keys WHERE key = :k ORDER BY subject"),
                                  {"k": key})).scalars().all()
    assert owners == ["parent-idem-4", "parent-idem-5"]


async def test_requests_without_the_key_behave_as_before(registry: Registry, service) -> None:  # noqa: ANN001
    app, client = service
    before = await registry.applications(app)
    for _ in range(2):
        r = await client.post(f"{API}/applications", json=application(), headers=registry.parent("parent-idem-6"))
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert await registry.applications(app) == before + 2
    async with app.state.runtime.db.transaction() as s:
        assert (await s.execute(text("SELECT count(*) FROM idempotency_keys WHERE subject = 'parent-idem-6'"))).scalar_one() == 0


async def test_the_cleanup_job_deletes_keys_past_the_retention_only(registry: Registry, service) -> None:  # noqa: ANN001
    app, client = service
    fresh = await client.post(f"{API}/applications", json=application(),
                              headers=registry.parent("parent-idem-7", "kept"))
    assert fresh.status_code == 201
    db = app.state.runtime.db
    async with db.transaction() as s:
        await s.execute(text(
            "INSERT INTO idempotency_keys (subject, key, request_hash, request_method, request_path, owner, status, "
            "created_at) VALUES ('parent-idem-7', 'expired', '\\x00', 'POST', '/x', :owner, 201, "
            "now() - interval '24 hours 1 minute')"), {"owner": uuid.uuid4()})
    jobs = {name: job for name, _, job in app.state.runtime.jobs}
    await jobs["idempotency-keys-cleanup"]()
    async with db.transaction() as s:
        keys = (await s.execute(text("SELECT key FROM idempotency_keys WHERE subject = 'parent-idem-7'"))).scalars().all()
    assert keys == ["kept"]
