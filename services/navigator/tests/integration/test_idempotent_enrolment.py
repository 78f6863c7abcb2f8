"""The Idempotency-Key header on the navigator's hottest POST, applying for a place: a parent's
retry with the same key holds one seat and publishes one ``enrolment.requested``, also when
the retries arrive at the same moment; a retry with other data is refused with 422."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from navigator_testkit import CLOCK, Bus, FixedClockSettings, certificate, eventually, module, program, provider_active
from pfdo_contracts.topics import ALL_TOPICS, ENROLMENTS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings

from pfdo_navigator.main import build_app
from pfdo_navigator.service.search import QuoteClient

pytestmark = pytest.mark.integration

PROVIDER = uuid.uuid4()
CLUB = program(provider_id=PROVIDER, title="Студия керамики", ages=(6, 14),
               modules=[module(price=1_500_000, title="Группа 1", capacity=5), module(price=1_500_000, title="Группа 2")])


def no_quotes(_: httpx.Request) -> httpx.Response:
    return httpx.Response(503)


@pytest_asyncio.fixture(scope="module")
async def nav(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    base = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                            namespace=namespace, auth=auth)
    settings = FixedClockSettings(**base.model_dump(), jobs_interval_s=3600)
    app = build_app(settings, quotes=QuoteClient("http://billing", 2.0, transport=httpx.MockTransport(no_quotes)))
    async with Bus(infra.kafka_bootstrap, names) as bus, running_app(app) as client:
        await bus.publish(*provider_active(PROVIDER), CLUB)
        nav = {"client": client, "bus": bus, "db": app.state.runtime.db, "auth": auth}
        await eventually(lambda: scalar(nav, "SELECT count(*) = 2 FROM catalogue.entries WHERE program_id = :p AND visible",
                                        p=CLUB.program_id), what="the club in the catalogue")
        yield nav


async def scalar(nav: dict, sql: str, **params: Any) -> Any:
    async with nav["db"].transaction() as s:
        return await s.scalar(text(sql), params)


async def child_of(nav: dict, parent: str) -> str:
    cert = certificate(parent)
    await nav["bus"].publish(cert)
    await eventually(lambda: scalar(nav, "SELECT count(*) FROM certificates WHERE certificate_id = :c",
                                    c=cert.certificate_id), what="certificate")
    return str(cert.certificate_id)


async def requested_events(nav: dict, certificate_id: str) -> int:
    return sum(1 for e in await nav["bus"].read_all(ENROLMENTS)
               if e["type"] == "pfdo.navigator.enrolment.requested.v1" and e["data"]["certificate_id"] == certificate_id)


async def test_a_retried_application_holds_one_seat_and_publishes_once(nav) -> None:  # noqa: ANN001
    CLOCK["today"] = dt.date(2026, 9, 1)
    client, auth = nav["client"], nav["auth"]
    cert = await child_of(nav, "parent-retry")
    group = str(CLUB.modules[0].module_id)
    body = {"certificate_id": cert, "module_id": group, "start_date": "2026-09-01"}
    headers = {**auth.headers("parent", "parent-retry"), "Idempotency-Key": f"apply-{uuid.uuid4()}"}
    first = await client.post("/api/navigator/enrolments", json=body, headers=headers)
    again = await client.post("/api/navigator/enrolments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    other = await client.post("/api/navigator/enrolments", json={**body, "start_date": "2026-09-15"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await scalar(nav, "SELECT count(*) FROM enrolments WHERE certificate_id = :c", c=cert) == 1
    assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=group) == 1
    await eventually(lambda: requested_events(nav, cert), what="enrolment.requested")
    await asyncio.sleep(1.0)  # a second event, had there been one, would be relayed by now
    assert await requested_events(nav, cert) == 1


async def test_retries_at_the_same_moment_hold_one_seat(nav) -> None:  # noqa: ANN001
    CLOCK["today"] = dt.date(2026, 9, 1)
    client, auth = nav["client"], nav["auth"]
    cert = await child_of(nav, "parent-impatient")
    group = str(CLUB.modules[1].module_id)
    body = {"certificate_id": cert, "module_id": group, "start_date": "2026-09-01"}
    headers = {**auth.headers("parent", "parent-impatient"), "Idempotency-Key": f"apply-{uuid.uuid4()}"}
    answers = await asyncio.gather(*[client.post("/api/navigator/enrolments", json=body, headers=headers) for _ in range(6)])
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409} and 201 in statuses, [a.text for a in answers]
    assert len({a.json()["enrolment_id"] for a in answers if a.status_code == 201}) == 1
    assert await scalar(nav, "SELECT count(*) FROM enrolments WHERE certificate_id = :c", c=cert) == 1
    assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=group) == 1
