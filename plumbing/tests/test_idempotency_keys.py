"""The Idempotency-Key middleware on a real PostgreSQL database (the ``idempotency_keys`` table of
a migrated service database), in front of a small app whose routes count their effects."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from pfdo_plumbing.auth.jwks import JWKSCache
from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.auth.tokens import TokenVerifier
from pfdo_plumbing.db import Database
from pfdo_plumbing.http.idempotency import IdempotencyMiddleware, IdempotencyStore, request_fingerprint
from pfdo_plumbing.http.middleware import RequestContextMiddleware
from pfdo_plumbing.http.problems import install_problem_handlers
from pfdo_plumbing.tables import IDEMPOTENCY

pytestmark = pytest.mark.integration

ACTION = "ratings.rating.submit"  # a parent's POST that creates something


@dataclass
class World:
    app: FastAPI
    db: Database
    store: IdempotencyStore
    auth: object
    effects: list[tuple[str, dict]] = field(default_factory=list)
    failures_left: dict[str, int] = field(default_factory=dict)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    def parent(self, sub: str = "parent-1", key: str | None = None) -> dict[str, str]:
        headers = self.auth.headers("parent", sub)  # type: ignore[attr-defined]
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://service")

    async def rows(self) -> list[dict]:
        async with self.db.transaction() as s:
            return [dict(r) for r in (await s.execute(text(
                "SELECT subject, key, status, request_path FROM idempotency_keys ORDER BY created_at"))).mappings()]


@pytest.fixture
async def world(databases, auth) -> AsyncIterator[World]:  # noqa: ANN001
    db = Database(await databases.fresh("ratings"), pool_size=4)
    verifier = TokenVerifier(JWKSCache(str(auth.jwks_path)), issuer=auth.issuer, audience=auth.audience)
    store = IdempotencyStore(db, abandoned_after_s=60)
    app = FastAPI()
    install_problem_handlers(app)
    app.state.verifier = verifier
    app.add_middleware(IdempotencyMiddleware, store=store, verifier=verifier)
    app.add_middleware(RequestContextMiddleware, service="test")
    w = World(app, db, store, auth)

    @app.post("/api/t/things", status_code=201)
    async def create(body: dict, who: Principal = Depends(require(ACTION))) -> JSONResponse:
        w.effects.append(("things", body))
        number = len(w.effects)
        return JSONResponse({"id": number, "by": who.sub, "body": body}, status_code=201,
                            headers={"Location": f"/api/t/things/{number}"})

    @app.post("/api/t/flaky")
    async def flaky(body: dict, _: Principal = Depends(require(ACTION))) -> JSONResponse:
        w.effects.append(("flaky", body))
        mode = body.get("fail")
        if w.failures_left.get(mode, 0) > 0:
            w.failures_left[mode] -= 1
            if mode == "raise":
                raise RuntimeError("the handler broke")
            return JSONResponse({"code": "temporarily_unavailable"}, status_code=503)
        return JSONResponse({"done": len(w.effects)})

    @app.post("/api/t/slow", status_code=201)
    async def slow(body: dict, _: Principal = Depends(require(ACTION))) -> dict:
        w.entered.set()
        await w.gate.wait()
        w.effects.append(("slow", body))
        return {"done": len(w.effects)}

    @app.post("/api/t/quotes", dependencies=[Depends(require("billing.quote.read"))])
    async def quotes(body: dict) -> dict:
        w.effects.append(("quotes", body))
        return {"n": len(w.effects)}

    try:
        yield w
    finally:
        await db.dispose()


async def test_the_same_key_and_body_replay_the_stored_answer_and_do_nothing_again(world: World) -> None:
    async with world.client() as client:
        first = await client.post("/api/t/things", json={"a": 1, "b": "x"}, headers=world.parent(key="k-1"))
        again = await client.post("/api/t/things", content=b'{"b":"x",  "a":1}',
                                  headers={**world.parent(key="k-1"), "Content-Type": "application/json"})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content and again.headers["location"] == first.headers["location"] == "/api/t/things/1"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # each sending has its own id
    assert len(world.effects) == 1
    assert await world.rows() == [{"subject": "parent-1", "key": "k-1", "status": 201, "request_path": "/api/t/things"}]


async def test_the_same_key_with_another_body_path_or_method_is_refused_with_422(world: World) -> None:
    async with world.client() as client:
        assert (await client.post("/api/t/things", json={"a": 1}, headers=world.parent(key="k-2"))).status_code == 201
        other_body = await client.post("/api/t/things", json={"a": 2}, headers=world.parent(key="k-2"))
        other_path = await client.post("/api/t/flaky", json={"a": 1}, headers=world.parent(key="k-2"))
        in_english = await client.post("/api/t/things", json={"a": 3},
                                       headers={**world.parent(key="k-2"), "Accept-Language": "en-GB,en;q=0.9"})
    for answer in (other_body, other_path, in_english):
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "idempotency_key_reused"
        assert answer.json()["request_id"] == answer.headers["x-request-id"]
    assert "ключ идемпотентности" in other_body.json()["detail"]
    assert "Idempotency-Key" in in_english.json()["detail"]
    assert len(world.effects) == 1


async def test_malformed_keys_are_refused_before_anything_runs(world: World) -> None:
    async with world.client() as client:
        for key in ("", "x" * 256, "with space"):
            answer = await client.post("/api/t/things", json={"a": 1}, headers=world.parent(key=key))
            assert answer.status_code == 400 and answer.json()["code"] == "idempotency_key_invalid", answer.text
        answer = await client.post("/api/t/things", json={"a": 1},
                                   headers=[*world.parent(key="one").items(), ("Idempotency-Key", "two")])
        assert answer.status_code == 400 and answer.json()["code"] == "idempotency_key_invalid"
    assert world.effects == [] and await world.rows() == []


async def test_keys_belong_to_their_caller(world: World) -> None:
    async with world.client() as client:
        mine = await client.post("/api/t/things", json={"a": 1}, headers=world.parent("parent-1", key="shared"))
        theirs = await client.post("/api/t/things", json={"a": 1}, headers=world.parent("parent-2", key="shared"))
        forged = await client.post("/api/t/things", json={"a": 1},
                                   headers={"Authorization": "Bearer not.a.token", "Idempotency-Key": "shared"})
    assert mine.status_code == theirs.status_code == 201
    assert (mine.json()["by"], theirs.json()["by"]) == ("parent-1", "parent-2")
    assert "idempotent-replayed" not in theirs.headers
    assert forged.status_code == 401 and forged.json()["code"] == "unauthenticated"
    assert len(world.effects) == 2
    assert sorted(r["subject"] for r in await world.rows()) == ["parent-1", "parent-2"]


async def test_server_errors_are_not_stored_and_the_retry_runs_again(world: World) -> None:
    world.failures_left = {"answer": 1, "raise": 1}
    async with world.client() as client:
        for mode in ("answer", "raise"):
            key = f"retry-{mode}"
            failed = await client.post("/api/t/flaky", json={"fail": mode}, headers=world.parent(key=key))
            assert failed.status_code in (500, 503), failed.text
            assert [r for r in await world.rows() if r["key"] == key] == []
            retried = await client.post("/api/t/flaky", json={"fail": mode}, headers=world.parent(key=key))
            assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers
            replayed = await client.post("/api/t/flaky", json={"fail": mode}, headers=world.parent(key=key))
            assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == retried.json()
    assert len(world.effects) == 4  # a failed and a successful run per mode, no third


async def test_a_second_request_while_the_first_runs_gets_409_and_never_a_second_effect(world: World) -> None:
    async with world.client() as client:
        first = asyncio.create_task(client.post("/api/t/slow", json={"a": 1}, headers=world.parent(key="busy")))
        await asyncio.wait_for(world.entered.wait(), 10)
        try:  # a second run of the handler would wait at the gate
            during = await asyncio.wait_for(
                client.post("/api/t/slow", json={"a": 1}, headers=world.parent(key="busy")), 5)
        finally:
            world.gate.set()
        done = await first
        assert during.status_code == 409 and during.json()["code"] == "idempotency_key_in_progress"
        assert during.headers["retry-after"] == "1"
        after = await client.post("/api/t/slow", json={"a": 1}, headers=world.parent(key="busy"))
    assert done.status_code == 201 and after.status_code == 201 and after.content == done.content
    assert world.effects == [("slow", {"a": 1})]


async def test_many_concurrent_requests_with_one_key_make_one_effect(world: World) -> None:
    world.gate.set()
    async with world.client() as client:
        answers = await asyncio.gather(*[
            client.post("/api/t/things", json={"a": 1}, headers=world.parent(key="storm")) for _ in range(12)])
    assert {a.status_code for a in answers} <= {201, 409}
    assert len({a.content for a in answers if a.status_code == 201}) == 1
    assert len(world.effects) == 1


async def test_a_key_whose_first_request_died_can_be_taken_by_the_same_request_later(world: World) -> None:
    body = b'{"a":1}'
    stale = request_fingerprint("POST", "/api/t/things", b"", body, "application/json")
    async with world.db.transaction() as s:
        for key, fingerprint in (("died", stale), ("died-other", b"\x00" * 32)):
            await s.execute(text(
                "INSERT INTO idempotency_keys (subject, key, request_hash, request_method, request_path, owner, "
                "created_at, alive_at) VALUES ('parent-1', :key, :hash, 'POST', '/api/t/things', :owner, "
                "now() - interval '5 minutes', now() - interval '5 minutes')"),
                {"key": key, "hash": fingerprint, "owner": uuid.uuid4()})
    headers = {"Content-Type": "application/json"}
    async with world.client() as client:
        taken = await client.post("/api/t/things", content=body, headers={**world.parent(key="died"), **headers})
        other = await client.post("/api/t/things", content=body, headers={**world.parent(key="died-other"), **headers})
    assert taken.status_code == 201
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert len(world.effects) == 1


async def test_a_long_request_keeps_its_key_while_it_runs(world: World) -> None:
    world.store.abandoned_after = dt.timedelta(seconds=0.4)  # it says it is alive every 0.1 s
    async with world.client() as client:
        first = asyncio.create_task(client.post("/api/t/slow", json={"a": 1}, headers=world.parent(key="long")))
        await asyncio.wait_for(world.entered.wait(), 10)
        await asyncio.sleep(1.2)  # three times longer than a key is kept for a request that went silent
        try:  # taken for abandoned, it would run the handler a second time (and wait at the gate)
            during = await asyncio.wait_for(
                client.post("/api/t/slow", json={"a": 1}, headers=world.parent(key="long")), 5)
        finally:
            world.gate.set()
        done = await first
    assert during.status_code == 409 and during.json()["code"] == "idempotency_key_in_progress"
    assert done.status_code == 201 and world.effects == [("slow", {"a": 1})]


async def test_keys_older_than_the_retention_are_deleted(world: World) -> None:
    async with world.db.transaction() as s:
        for key, age_h in (("old", 25), ("older", 24 * 7), ("young", 23)):
            await s.execute(text(
                "INSERT INTO idempotency_keys (subject, key, request_hash, request_method, request_path, owner, "
                "status, created_at) VALUES ('p', :key, '\\x00', 'POST', '/x', :owner, 201, now() - make_interval(hours => :h))"),
                {"key": key, "owner": uuid.uuid4(), "h": age_h})
    assert await world.store.purge(dt.timedelta(hours=24), batch=1) == 2
    assert [r["key"] for r in await world.rows()] == ["young"]


async def test_requests_without_the_header_and_reads_are_left_alone(world: World) -> None:
    async with world.client() as client:
        for _ in range(2):
            assert (await client.post("/api/t/things", json={"a": 1}, headers=world.parent())).status_code == 201
            quote = await client.post("/api/t/quotes", json={"a": 1}, headers=world.parent(key="read"))
            assert quote.status_code == 200 and "idempotent-replayed" not in quote.headers
    assert len(world.effects) == 4 and await world.rows() == []


@pytest.mark.parametrize("service", ["registry", "navigator", "billing", "ratings"])
async def test_every_service_database_has_the_table_as_defined(databases, service: str) -> None:  # noqa: ANN001
    db = Database(await databases.fresh(service), pool_size=1)
    try:
        async with db.transaction() as s:
            columns = (await s.execute(text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'idempotency_keys'"))).scalars().all()
            primary_key = (await s.execute(text(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = 'idempotency_keys'::regclass AND i.indisprimary"))).scalars().all()
        assert sorted(columns) == sorted(c.name for c in IDEMPOTENCY.columns)
        assert sorted(primary_key) == sorted(c.name for c in IDEMPOTENCY.primary_key)
    finally:
        await db.dispose()
