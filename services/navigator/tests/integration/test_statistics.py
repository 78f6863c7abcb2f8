"""Enrolments per day for the operators' dashboard, counted by the navigator on the real
PostgreSQL: applications made today show on today's row and by state, for the region and for
their municipality; another municipality's operator sees none of them; a parent is refused."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from navigator_testkit import CLOCK, FixedClockSettings, module, program, provider_active
from pfdo_contracts.envelope import wrap
from pfdo_contracts.topics import ALL_TOPICS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings

from pfdo_navigator.main import build_app
from pfdo_navigator.service.catalogue import apply_catalogue_event
from pfdo_navigator.service.search import QuoteClient

pytestmark = pytest.mark.integration

PROVIDER = uuid.uuid4()
PARENTS = [f"stat-parent-{i}" for i in range(3)]
CERTIFICATES = [uuid.uuid4() for _ in PARENTS]


@pytest_asyncio.fixture(scope="module")
async def world(infra, databases, auth) -> AsyncIterator[dict]:  # noqa: ANN001
    namespace = new_namespace()
    await ensure_topics(infra.kafka_bootstrap, TopicNames(namespace), {t.producer for t in ALL_TOPICS}, 1)
    base = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                            namespace=namespace, auth=auth)
    app = build_app(FixedClockSettings(**base.model_dump(), jobs_interval_s=3600),
                    quotes=QuoteClient("http://billing", 1.0,
                                       transport=httpx.MockTransport(lambda request: httpx.Response(503))))
    group = module(capacity=10)
    async with app.state.runtime.db.transaction() as s:
        for event in [*provider_active(PROVIDER), program(provider_id=PROVIDER, title="Лепка", modules=[group])]:
            await apply_catalogue_event(s, event, wrap(event, source="pfdo/registry", correlation_id="t"))
        await s.execute(
            text("INSERT INTO certificates SELECT c, lpad(n::text, 10, '0'), p, '01', DATE '2016-03-14', "
                 "DATE '2034-03-13', 'funding', 'active', DATE '2026-08-20' "
                 "FROM unnest(CAST(:c AS uuid[]), CAST(:p AS varchar[])) WITH ORDINALITY AS t(c, p, n)"),
            {"c": CERTIFICATES, "p": PARENTS})
    async with running_app(app) as client:
        yield {"client": client, "auth": auth, "group": group.module_id}


async def test_applications_for_a_group_are_counted_on_their_day_and_by_state(world) -> None:  # noqa: ANN001
    client, auth = world["client"], world["auth"]
    region = auth.headers("regional_operator", "ro")
    path = "/api/navigator/statistics/enrolments"
    CLOCK["today"] = dt.date(2026, 9, 1)  # the group's start
    for i, parent in enumerate(PARENTS[:2]):
        r = await client.post("/api/navigator/enrolments", headers=auth.headers("parent", parent), json={
            "certificate_id": str(CERTIFICATES[i]), "module_id": str(world["group"]), "start_date": "2026-09-01"})
        assert r.status_code == 201, r.text

    # the applications were made now (the real clock): count up to today
    today = CLOCK["today"] = dt.datetime.now(dt.timezone(dt.timedelta(hours=3))).date()
    figures = (await client.get(path, params={"days": 5}, headers=region)).json()
    assert figures["to_date"] == today.isoformat() and figures["municipality_code"] is None
    assert [d["day"] for d in figures["days"]] == [(today - dt.timedelta(days=4 - i)).isoformat() for i in range(5)]
    assert [d["requested"] for d in figures["days"]] == [0, 0, 0, 0, 2]
    assert figures["by_state"] == {"requested": 2}

    own = (await client.get(path, params={"municipality": "02"},
                            headers=auth.headers("municipal_operator", "mo", municipality="01"))).json()
    assert own["municipality_code"] == "01" and own["days"][-1]["requested"] == 2 and len(own["days"]) == 30
    other = (await client.get(path, headers=auth.headers("municipal_operator", "mo2", municipality="02"))).json()
    assert sum(d["requested"] for d in other["days"]) == 0 and other["by_state"] == {}

    assert (await client.get(path, headers=auth.headers("parent", PARENTS[0]))).status_code == 403
    assert (await client.get(path, params={"days": 0}, headers=region)).status_code == 422
