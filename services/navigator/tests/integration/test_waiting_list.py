"""The waiting list over the real broker and PostgreSQL: concurrent applications for the last
seats give exactly the seats' winners, then waiting-list places 1..n, then clear refusals; the
parent sees and leaves their place; freed seats (a cancellation, billing's rejection) go to the
first waiting application automatically, with the saga's request event."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from navigator_testkit import CLOCK, Bus, FixedClockSettings, eventually, module, program, provider_active
from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import billing as b
from pfdo_contracts.topics import ALL_TOPICS, ENROLMENTS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings

from pfdo_navigator.main import build_app
from pfdo_navigator.service.catalogue import apply_catalogue_event
from pfdo_navigator.service.search import QuoteClient

pytestmark = pytest.mark.integration

PROVIDER = uuid.uuid4()
APPLICANTS = 8


@pytest_asyncio.fixture(scope="module")
async def world(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    base = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                            namespace=namespace, auth=auth)
    settings = FixedClockSettings(**base.model_dump(), jobs_interval_s=3600)
    app = build_app(settings, quotes=QuoteClient("http://billing", 1.0, transport=httpx.MockTransport(
        lambda request: httpx.Response(503))))
    runtime = app.state.runtime
    group, other = module(capacity=2), module(capacity=1)
    parents = [f"wl-parent-{i}" for i in range(APPLICANTS)]
    certificates = [uuid.uuid4() for _ in parents]
    async with runtime.db.transaction() as s:
        for event in [*provider_active(PROVIDER), program(provider_id=PROVIDER, title="Лепка", modules=[group]),
                      program(provider_id=uuid.uuid4(), title="Чужая группа", modules=[other])]:
            await apply_catalogue_event(s, event, wrap(event, source="pfdo/registry", correlation_id="t"))
        await s.execute(
            text("INSERT INTO certificates SELECT c, lpad(n::text, 10, '0'), p, '01', DATE '2016-03-14', "
                 "DATE '2034-03-13', 'funding', 'active', DATE '2026-08-20' "
                 "FROM unnest(CAST(:c AS uuid[]), CAST(:p AS varchar[])) WITH ORDINALITY AS t(c, p, n)"),
            {"c": certificates, "p": parents},
        )
    CLOCK["today"] = dt.date(2026, 9, 1)
    async with Bus(infra.kafka_bootstrap, names) as bus, running_app(app) as client:
        yield {"client": client, "bus": bus, "runtime": runtime, "auth": auth, "group": group.module_id,
               "other": other.module_id, "parents": parents, "certificates": certificates, "state": {}}


async def held(world: dict) -> int:
    async with world["runtime"].db.transaction() as s:
        return int(await s.scalar(text("SELECT held FROM modules WHERE module_id = :m"), {"m": world["group"]}))


def parent(world: dict, i: int) -> dict[str, str]:
    return world["auth"].headers("parent", world["parents"][i])


async def apply(world: dict, i: int) -> httpx.Response:
    return await world["client"].post("/api/navigator/enrolments", headers=parent(world, i), json={
        "certificate_id": str(world["certificates"][i]), "module_id": str(world["group"]), "start_date": "2026-09-01"})


async def test_provider_keeps_a_waiting_list_only_for_own_groups(world) -> None:  # noqa: ANN001
    client, auth = world["client"], world["auth"]
    mine = auth.headers("provider", "prov", provider_id=str(PROVIDER))
    url = f"/api/navigator/modules/{world['group']}/waiting-list"
    assert (await client.put(url, headers=parent(world, 0), json={"enabled": True})).status_code == 403
    foreign = await client.put(f"/api/navigator/modules/{world['other']}/waiting-list", headers=mine,
                               json={"enabled": True})
    assert foreign.status_code == 404
    bad = await client.put(url, headers=mine, json={"enabled": True, "max_length": 0})
    assert bad.status_code == 422
    resp = await client.put(url, headers=mine, json={"enabled": True, "max_length": 3})
    assert resp.status_code == 200, resp.text
    assert resp.json() | {"entries": None} == {
        "module_id": str(world["group"]), "provider_id": str(PROVIDER), "enabled": True, "max_length": 3,
        "capacity": 2, "held": 0, "waiting": 0, "entries": None}
    await world["bus"].wait_for_event(ENROLMENTS, "pfdo.navigator.waiting_list.changed.v1",
                                      module_id=world["group"], max_length=3)


async def test_concurrent_applications_get_seats_then_places_then_refusals(world) -> None:  # noqa: ANN001
    answers = await asyncio.gather(*(apply(world, i) for i in range(APPLICANTS)))
    outcome = Counter((r.status_code, r.json().get("code") or r.json().get("state")) for r in answers)
    assert outcome == {(201, "requested"): 2, (202, "waitlisted"): 3, (409, "waiting_list_full"): 3}, outcome
    assert await held(world) == 2
    waiting = sorted((r.json()["waiting_position"], i) for i, r in enumerate(answers) if r.status_code == 202)
    assert [p for p, _ in waiting] == [1, 2, 3]
    world["state"].update(
        seated=[i for i, r in enumerate(answers) if r.status_code == 201],
        waiting=[i for _, i in waiting],
        ids={i: r.json()["enrolment_id"] for i, r in enumerate(answers) if r.status_code in (201, 202)},
    )
    first = world["state"]["waiting"][0]
    await world["bus"].wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.waitlisted.v1",
                                      enrolment_id=world["state"]["ids"][first], position=1)
    # the same child cannot queue twice
    again = await apply(world, first)
    assert (again.status_code, [e["code"] for e in again.json()["errors"]]) == (422, ["already_enrolled"])


async def test_parent_sees_and_leaves_own_place(world) -> None:  # noqa: ANN001
    client, st = world["client"], world["state"]
    second = st["waiting"][1]
    eid = st["ids"][second]
    mine = (await client.get(f"/api/navigator/enrolments/{eid}", headers=parent(world, second))).json()
    assert (mine["state"], mine["waiting_position"]) == ("waitlisted", 2)
    cabinet = (await client.get("/api/navigator/me/enrolments", headers=parent(world, second))).json()["items"]
    assert [(e["enrolment_id"], e["waiting_position"]) for e in cabinet] == [(eid, 2)]
    stranger = st["waiting"][0]
    assert (await client.get(f"/api/navigator/enrolments/{eid}", headers=parent(world, stranger))).status_code == 404
    assert (await client.post(f"/api/navigator/enrolments/{eid}/leave-waiting-list",
                              headers=parent(world, stranger))).status_code == 404

    left = await client.post(f"/api/navigator/enrolments/{eid}/leave-waiting-list", headers=parent(world, second))
    assert (left.status_code, left.json()["state"], left.json()["reason"]) == (200, "withdrawn", "parent_left")
    again = await client.post(f"/api/navigator/enrolments/{eid}/leave-waiting-list", headers=parent(world, second))
    assert again.status_code == 200  # idempotent
    await world["bus"].wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.waitlist_left.v1",
                                      enrolment_id=eid, reason="parent_left")
    third = st["waiting"][2]
    moved = (await client.get(f"/api/navigator/enrolments/{st['ids'][third]}", headers=parent(world, third))).json()
    assert moved["waiting_position"] == 2
    provider = world["auth"].headers("provider", "prov", provider_id=str(PROVIDER))
    listing = (await client.get(f"/api/navigator/modules/{world['group']}/waiting-list", headers=provider)).json()
    assert [(e["position"], e["enrolment_id"]) for e in listing["entries"]] == [
        (1, st["ids"][st["waiting"][0]]), (2, st["ids"][third])]
    operator = world["auth"].headers("municipal_operator", "op", municipality="02")
    assert (await client.get(f"/api/navigator/modules/{world['group']}/waiting-list",
                             headers=operator)).status_code == 404


async def test_freed_seats_go_to_the_first_waiting_application(world) -> None:  # noqa: ANN001
    client, st, bus = world["client"], world["state"], world["bus"]
    first, third = st["waiting"][0], st["waiting"][2]
    seated = st["seated"][0]
    cancelled = await client.post(f"/api/navigator/enrolments/{st['ids'][seated]}/cancel",
                                  headers=parent(world, seated))
    assert cancelled.json()["state"] == "cancelled"
    promoted = (await client.get(f"/api/navigator/enrolments/{st['ids'][first]}", headers=parent(world, first))).json()
    assert (promoted["state"], promoted["waiting_position"]) == ("requested", None)
    assert await held(world) == 2
    request = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.requested.v1",
                                       enrolment_id=st["ids"][first])
    assert request["data"]["from_waiting_list"] is True
    last = (await client.get(f"/api/navigator/enrolments/{st['ids'][third]}", headers=parent(world, third))).json()
    assert last["waiting_position"] == 1

    # billing refuses the promoted request: its seat goes on down the list
    await bus.publish(b.ReservationRejected(enrolment_id=uuid.UUID(st["ids"][first]),
                                            certificate_id=world["certificates"][first],
                                            reason=b.RejectionReason.INSUFFICIENT_BALANCE))

    async def third_promoted() -> Any:
        row = (await client.get(f"/api/navigator/enrolments/{st['ids'][third]}", headers=parent(world, third))).json()
        return row if row["state"] == "requested" else None

    await eventually(third_promoted, what="the next waiting application takes the freed seat")
    assert await held(world) == 2
    provider = world["auth"].headers("provider", "prov", provider_id=str(PROVIDER))
    listing = (await client.get(f"/api/navigator/modules/{world['group']}/waiting-list", headers=provider)).json()
    assert (listing["held"], listing["waiting"], listing["entries"]) == (2, 0, [])
    # the list has room again: a newcomer to the full group waits at place 1
    newcomer = await apply(world, st["waiting"][1])
    assert (newcomer.status_code, newcomer.json()["waiting_position"]) == (202, 1)
