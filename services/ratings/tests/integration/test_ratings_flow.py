"""The ratings service over the real broker and PostgreSQL: enrolment end events make a parent
eligible, ratings update the aggregates incrementally and publish them, duplicates and reordering
change nothing, foreign callers are refused, the 30-day window closes, recompute == incremental."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text

from pfdo_contracts.envelope import wrap
from pfdo_contracts.events.navigator import EndOutcome, EnrolmentEnded
from pfdo_contracts.topics import ENROLMENTS, RATINGS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import REPO_ROOT, new_namespace, running_app, service_settings
from pfdo_ratings.domain.aggregate import Prior, present, recompute
from pfdo_ratings.domain.rating import Scores
from pfdo_ratings.main import build_app

pytestmark = pytest.mark.integration

START = dt.datetime.now(dt.UTC)


class FakeClock:
    """The service's clock: real time shifted by ``offset`` (tests move it)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


class Harness:
    def __init__(self, client: Any, app: Any, names: TopicNames, producer: AIOKafkaProducer, clock: FakeClock,
                 database_url: str, auth: Any) -> None:
        self.client, self.app, self.names, self.producer, self.clock = client, app, names, producer, clock
        self.database_url, self.auth = database_url, auth
        self.published: list[dict[str, Any]] = []

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    def parent(self, sub: str) -> dict[str, str]:
        return self.auth.headers("parent", sub)

    async def publish(self, event: EnrolmentEnded, *, event_id: uuid.UUID | None = None,
                      time: dt.datetime | None = None) -> None:
        envelope = wrap(event, source="pfdo/navigator", correlation_id=str(uuid.uuid4()), event_id=event_id, time=time)
        await self.producer.send_and_wait(
            self.names.name(ENROLMENTS), value=orjson.dumps(envelope.model_dump(mode="json")),
            key=event.partition_key().encode(),
        )

    async def eventually(self, probe: Callable[[], Any], *, timeout: float = 20.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await probe()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.05)

    async def ratable(self, sub: str, enrolment_id: uuid.UUID) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            response = await self.client.get("/api/ratings/me/ratings", headers=self.parent(sub))
            assert response.status_code == 200
            return next((i for i in response.json()["items"] if i["enrolment_id"] == str(enrolment_id)), None)

        return await self.eventually(probe)

    async def rating_events(self, kind: str, key: str, count: int) -> list[dict[str, Any]]:
        async def probe() -> list[dict[str, Any]] | None:
            found = [e for e in self.published if e["type"] == kind and e["subject"] == key]
            return found if len(found) >= count else None

        return await self.eventually(probe)


def ended(parent: str, *, program_id: uuid.UUID | None = None, provider_id: uuid.UUID | None = None,
          enrolment_id: uuid.UUID | None = None, certificate_id: uuid.UUID | None = None, outcome: EndOutcome = EndOutcome.COMPLETED,
          end_date: dt.date = dt.date(2027, 5, 31)) -> EnrolmentEnded:
    return EnrolmentEnded(
        enrolment_id=enrolment_id or uuid.uuid4(), certificate_id=certificate_id or uuid.uuid4(), parent_id=parent,
        program_id=program_id or uuid.uuid4(), provider_id=provider_id or uuid.uuid4(), module_id=uuid.uuid4(),
        outcome=outcome, end_date=end_date,
    )


def scores(results: int = 80, teachers: int = 90, materials: int = 70, satisfaction: int = 100) -> dict[str, int]:
    return {"results": results, "teachers_and_group": teachers, "materials_and_equipment": materials,
            "overall_satisfaction": satisfaction}


@pytest.fixture(scope="module")
async def h(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {"navigator", "ratings"}, 1)
    database_url = await databases.fresh("ratings")
    clock = FakeClock()
    app = build_app(
        service_settings("ratings", infra=infra, database_url=database_url, namespace=namespace, auth=auth),
        clock=clock,
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    reader = AIOKafkaConsumer(names.name(RATINGS), bootstrap_servers=infra.kafka_bootstrap,
                              auto_offset_reset="earliest", group_id=None)
    await producer.start()
    await reader.start()
    async with running_app(app) as client:
        harness = Harness(client, app, names, producer, clock, database_url, auth)

        async def collect() -> None:
            async for record in reader:
                harness.published.append(orjson.loads(record.value))

        task = asyncio.create_task(collect())
        try:
            yield harness
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await reader.stop()
            await producer.stop()


async def test_ended_enrolment_lets_the_parent_rate_and_the_aggregate_is_published(h: Harness) -> None:
    program, provider = uuid.uuid4(), uuid.uuid4()
    event = ended("parent-a", program_id=program, provider_id=provider)
    await h.publish(event)
    item = await h.ratable("parent-a", event.enrolment_id)
    assert item["can_rate"] is True and item["rating"] is None and item["outcome"] == "completed"

    response = await h.client.post(
        "/api/ratings/ratings", headers=h.parent("parent-a"),
        json={"enrolment_id": str(event.enrolment_id), "scores": scores(80, 90, 70, 100), "comment": "  Great club  "},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["version"] == 1 and body["final"] is False and body["comment"] == "Great club"
    assert body["program_id"] == str(program) and body["provider_id"] == str(provider)

    aggregate = (await h.client.get(f"/api/ratings/programs/{program}", headers=h.parent("someone"))).json()
    # one review of value (80+90+70+100)/4 = 85 shrunk towards 70 with weight 10: (700 + 85) / 11 = 71.36..
    assert aggregate["count"] == 1
    assert aggregate["means"] == {"results": 80.0, "teachers_and_group": 90.0, "materials_and_equipment": 70.0,
                                  "overall_satisfaction": 100.0}
    assert aggregate["overall_mean"] == 85.0
    assert aggregate["score"] == 71.4
    assert aggregate["prior"] == {"mean": 70.0, "weight": 10}
    assert aggregate["revision"] == 1 and aggregate["provider_id"] == str(provider)

    [program_event] = await h.rating_events("pfdo.ratings.program_rating.changed.v1", str(program), 1)
    assert program_event["data"]["count"] == 1
    assert program_event["data"]["means"] == {"results": 80.0, "teachers": 90.0, "materials": 70.0, "satisfaction": 100.0}
    assert program_event["data"]["score"] == 71.4 and program_event["data"]["revision"] == 1
    assert program_event["data"]["prior_mean"] == 70.0 and program_event["data"]["prior_weight"] == 10.0
    [provider_event] = await h.rating_events("pfdo.ratings.provider_rating.changed.v1", str(provider), 1)
    assert provider_event["data"]["program_count"] == 1 and provider_event["data"]["count"] == 1

    # a second program of the same provider: the provider aggregate spans both
    other = ended("parent-b", program_id=uuid.uuid4(), provider_id=provider)
    await h.publish(other)
    await h.ratable("parent-b", other.enrolment_id)
    response = await h.client.post(
        "/api/ratings/ratings", headers=h.parent("parent-b"),
        json={"enrolment_id": str(other.enrolment_id), "scores": scores(60, 60, 60, 60)},
    )
    assert response.status_code == 201
    provider_view = (await h.client.get(f"/api/ratings/providers/{provider}", headers=h.parent("x"))).json()
    assert provider_view["count"] == 2 and provider_view["program_count"] == 2
    assert provider_view["means"]["results"] == 70.0 and provider_view["overall_mean"] == 72.5
    events = await h.rating_events("pfdo.ratings.provider_rating.changed.v1", str(provider), 2)
    assert max(e["data"]["revision"] for e in events) == 2

    # the audit log names the fields, never the values
    async with h.db.transaction() as s:
        details = await s.scalar(
            text("SELECT details FROM audit_log WHERE subject_id = :id AND action = 'ratings.rating.submit'"),
            {"id": str(event.enrolment_id)},
        )
    assert "comment" in details["fields"] and "Great club" not in json.dumps(details)


async def test_duplicate_and_out_of_order_enrolment_events(h: Harness) -> None:
    enrolment, program = uuid.uuid4(), uuid.uuid4()
    # rating before the end event arrived: not eligible yet, and nothing is stored
    early = await h.client.post(
        "/api/ratings/ratings", headers=h.parent("parent-c"),
        json={"enrolment_id": str(enrolment), "scores": scores()},
    )
    assert early.status_code == 409 and early.json()["code"] == "not_eligible"

    newer = ended("parent-c", enrolment_id=enrolment, program_id=program, outcome=EndOutcome.TERMINATED,
                  end_date=dt.date(2027, 3, 31))
    older = newer.model_copy(update={"outcome": EndOutcome.COMPLETED, "end_date": dt.date(2027, 5, 31)})
    same_id = uuid.uuid4()
    # the newer event arrives first, twice with one id and once more with another id; the older one comes last
    await h.publish(newer, event_id=same_id, time=START)
    await h.publish(newer, event_id=same_id, time=START)
    await h.publish(newer, time=START)
    await h.publish(older, time=START - dt.timedelta(days=1))
    # a marker on the same certificate (same partition key): once it is seen, every event before it was handled
    marker = ended("parent-c", certificate_id=newer.certificate_id)
    await h.publish(marker)
    await h.ratable("parent-c", marker.enrolment_id)
    item = await h.ratable("parent-c", enrolment)
    assert item["outcome"] == "terminated" and item["end_date"] == "2027-03-31"  # the older event did not win
    async with h.db.transaction() as s:
        assert await s.scalar(text("SELECT count(*) FROM ratable_enrolment WHERE enrolment_id = :e"), {"e": enrolment}) == 1

    first = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-c"),
                                json={"enrolment_id": str(enrolment), "scores": scores(50, 50, 50, 50)})
    assert first.status_code == 201
    # a late duplicate of the end event after the rating: still one rating, still counted once
    await h.publish(older, time=START + dt.timedelta(seconds=1))
    late_marker = ended("parent-c", certificate_id=newer.certificate_id)
    await h.publish(late_marker)
    await h.ratable("parent-c", late_marker.enrolment_id)
    again = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-c"),
                                json={"enrolment_id": str(enrolment), "scores": scores(100, 100, 100, 100)})
    assert again.status_code == 409 and again.json()["code"] == "already_rated"
    items = [i for i in (await h.client.get("/api/ratings/me/ratings", headers=h.parent("parent-c"))).json()["items"]
             if i["enrolment_id"] == str(enrolment)]
    assert len(items) == 1 and items[0]["can_rate"] is False and items[0]["rating"]["scores"]["results"] == 50
    assert items[0]["outcome"] == "completed"  # the newest event (by time) refreshed the outcome
    aggregate = (await h.client.get(f"/api/ratings/programs/{program}", headers=h.parent("x"))).json()
    assert aggregate["count"] == 1 and aggregate["means"]["results"] == 50.0


async def test_other_callers_and_bad_input_are_refused_and_change_nothing(h: Harness) -> None:
    event = ended("parent-d")
    await h.publish(event)
    await h.ratable("parent-d", event.enrolment_id)
    body = {"enrolment_id": str(event.enrolment_id), "scores": scores()}

    stranger = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-e"), json=body)
    assert stranger.status_code == 403 and stranger.json()["code"] == "not_your_enrolment"
    provider = await h.client.post("/api/ratings/ratings", headers=h.auth.headers("provider", "staff-1",
                                   provider_id=str(event.provider_id)), json=body)
    assert provider.status_code == 403 and provider.json()["code"] == "forbidden"
    unknown = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-d"),
                                  json={**body, "enrolment_id": str(uuid.uuid4())})
    assert unknown.status_code == 409 and unknown.json()["code"] == "not_eligible"
    anonymous = await h.client.post("/api/ratings/ratings", json=body)
    assert anonymous.status_code == 401

    step = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-d"), json={**body, "scores": scores(55)})
    assert step.status_code == 422 and step.json()["code"] == "scale_not_step_of_10"
    assert step.json()["errors"] == [{"pointer": "/body/scores/results", "code": "scale_not_step_of_10",
                                      "message": "Оценка по шкале ставится с шагом 10."}]
    high = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-d"), json={**body, "scores": scores(110)})
    assert high.status_code == 422 and high.json()["code"] == "scale_out_of_range"
    long = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-d"), json={**body, "comment": "x" * 2001})
    assert long.status_code == 422 and long.json()["code"] == "comment_too_long"
    missing = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-d"),
                                  json={**body, "scores": {"results": 10}})
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"

    async with h.db.transaction() as s:
        assert await s.scalar(text("SELECT count(*) FROM rating WHERE enrolment_id = :e"), {"e": event.enrolment_id}) == 0
        assert await s.scalar(text("SELECT count(*) FROM program_aggregate WHERE program_id = :p"),
                              {"p": event.program_id}) == 0

    ok = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-d"), json=body)
    assert ok.status_code == 201
    # someone else's rating cannot be edited, and is answered like a missing one
    foreign = await h.client.put(f"/api/ratings/ratings/{event.enrolment_id}", headers=h.parent("parent-e"),
                                 json={"scores": scores(0, 0, 0, 0)})
    assert foreign.status_code == 404 and foreign.json()["code"] == "rating_not_found"
    assert (await h.client.get("/api/ratings/me/ratings", headers=h.parent("parent-e"))).json()["items"] == []


async def test_edit_within_30_days_then_the_rating_is_final(h: Harness) -> None:
    program = uuid.uuid4()
    event = ended("parent-f", program_id=program)
    await h.publish(event)
    await h.ratable("parent-f", event.enrolment_id)
    url = f"/api/ratings/ratings/{event.enrolment_id}"
    created = await h.client.post("/api/ratings/ratings", headers=h.parent("parent-f"),
                                  json={"enrolment_id": str(event.enrolment_id), "scores": scores(40, 40, 40, 40),
                                        "comment": "meh"})
    assert created.status_code == 201
    try:
        h.clock.offset = dt.timedelta(days=29, hours=23)
        edited = await h.client.put(url, headers=h.parent("parent-f"),
                                    json={"scores": scores(90, 80, 70, 60), "comment": "better after all"})
        assert edited.status_code == 200, edited.text
        assert edited.json()["version"] == 2 and edited.json()["comment"] == "better after all"
        aggregate = (await h.client.get(f"/api/ratings/programs/{program}", headers=h.parent("x"))).json()
        assert aggregate["count"] == 1 and aggregate["means"]["results"] == 90.0 and aggregate["revision"] == 2
        events = await h.rating_events("pfdo.ratings.program_rating.changed.v1", str(program), 2)
        latest = max(events, key=lambda e: e["data"]["revision"])
        assert latest["data"]["count"] == 1 and latest["data"]["means"]["satisfaction"] == 60.0

        h.clock.offset = dt.timedelta(days=30, seconds=1)
        final = await h.client.put(url, headers=h.parent("parent-f"), json={"scores": scores(10, 10, 10, 10)})
        assert final.status_code == 409 and final.json()["code"] == "rating_final"
        mine = (await h.client.get("/api/ratings/me/ratings", headers=h.parent("parent-f"))).json()["items"]
        assert mine[0]["rating"]["final"] is True and mine[0]["rating"]["scores"]["results"] == 90
    finally:
        h.clock.offset = dt.timedelta()

    comments = await h.client.get(f"/api/ratings/programs/{program}/comments", headers=h.parent("x"))
    assert comments.status_code == 200
    page = comments.json()
    assert page["total"] == 1 and page["items"][0]["comment"] == "better after all" and page["items"][0]["edited"]
    # anonymous: nothing that identifies the author or the enrolment
    raw = comments.text
    assert "parent-f" not in raw and str(event.enrolment_id) not in raw and str(event.certificate_id) not in raw
    assert set(page["items"][0]) == {"scores", "comment", "submitted_on", "edited"}


async def test_many_ratings_recompute_equals_incremental(h: Harness) -> None:
    provider = uuid.uuid4()
    programs = [uuid.uuid4(), uuid.uuid4()]
    given: dict[uuid.UUID, list[Scores]] = {p: [] for p in programs}
    events = [ended(f"parent-g{i}", program_id=programs[i % 2], provider_id=provider) for i in range(8)]
    for event in events:
        await h.publish(event)
    for i, event in enumerate(events):
        await h.ratable(f"parent-g{i}", event.enrolment_id)

    async def rate(i: int, event: EnrolmentEnded) -> None:
        values = scores((i * 10) % 110, 100 - i * 10, 50, 70)
        response = await h.client.post("/api/ratings/ratings", headers=h.parent(f"parent-g{i}"),
                                       json={"enrolment_id": str(event.enrolment_id), "scores": values})
        assert response.status_code == 201, response.text
        given[event.program_id].append(Scores.from_mapping(values))

    await asyncio.gather(*(rate(i, e) for i, e in enumerate(events)))  # concurrent: row locks keep sums exact
    for program in programs:
        expected = present(recompute(given[program]), Prior())
        view = (await h.client.get(f"/api/ratings/programs/{program}", headers=h.parent("x"))).json()
        assert view["count"] == expected.count == 4
        assert view["score"] == float(expected.shrunk_score)

    operator = h.auth.headers("regional_operator", "op-1")
    assert (await h.client.post("/api/ratings/admin/recompute", headers=h.parent("parent-g0"))).status_code == 403
    check = await h.client.post("/api/ratings/admin/recompute?apply=false&refresh_prior=false", headers=operator)
    assert check.status_code == 200 and check.json()["consistent"] is True and check.json()["differences"] == []

    # the command line agrees
    env = {**os.environ, "PFDO_DATABASE_URL": h.database_url, "PFDO_SERVICE_NAME": "ratings"}
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "pfdo_ratings.recompute", "--check"], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["consistent"] is True

    # a drifted aggregate is reported and repaired, and the prior moves to the region's mean
    async with h.db.transaction() as s:
        await s.execute(text("UPDATE program_aggregate SET sum_results = sum_results + 10 WHERE program_id = :p"),
                        {"p": programs[0]})
        rows = (await s.execute(text("SELECT results, teachers_and_group, materials_and_equipment, "
                                     "overall_satisfaction FROM rating"))).all()
    region_mean = Fraction(sum(sum(r) for r in rows), 4 * len(rows))
    repaired = await h.client.post("/api/ratings/admin/recompute", headers=operator)
    report = repaired.json()
    assert report["consistent"] is False
    assert [(d["kind"], d["id"]) for d in report["differences"]] == [("program", str(programs[0]))]
    diff = report["differences"][0]
    assert diff["incremental"]["sums"]["results"] == diff["recomputed"]["sums"]["results"] + 10
    assert report["prior_after"]["mean"] == float(region_mean)
    assert report["republished"] >= 3

    again = await h.client.post("/api/ratings/admin/recompute?apply=false", headers=operator)
    assert again.json()["consistent"] is True
    view = (await h.client.get(f"/api/ratings/programs/{programs[0]}", headers=h.parent("x"))).json()
    expected = present(recompute(given[programs[0]]), Prior(mean=region_mean))
    assert view["score"] == float(expected.shrunk_score) and view["prior"]["mean"] == float(region_mean)
    republished = await h.rating_events("pfdo.ratings.program_rating.changed.v1", str(programs[0]), 5)
    assert max(e["data"]["revision"] for e in republished) == view["revision"]
    assert (await h.client.get("/api/ratings/audit?subject_type=aggregates", headers=operator)).json()["items"][0]["action"] \
        == "ratings.admin.recompute"
