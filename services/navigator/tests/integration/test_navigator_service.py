"""The navigator over the real broker and PostgreSQL: catalogue from registry and ratings events,
Russian search with filters, pagination and facets, the enrolment saga with billing simulated
by real reservation events on the broker, attendance, disputes, the parent cabinet, and a
catalogue rebuild from the topics that gives the same answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from navigator_testkit import (
    CLOCK, SAT, Bus, FixedClockSettings, certificate, eventually, module, program, provider_active,
)
from pfdo_contracts.common import Direction, FundingKind
from pfdo_contracts.events import billing as b
from pfdo_contracts.events import ratings as r
from pfdo_contracts.events import registry as g
from pfdo_contracts.topics import ALL_TOPICS, ATTENDANCE, ENROLMENTS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings

from pfdo_navigator.adapters.handlers import run_timers, timers_of
from pfdo_navigator.adapters.search_docs import COPIED_COLUMNS as SEARCH_DOC_COLUMNS
from pfdo_navigator.main import build_app
from pfdo_navigator.service import enrolments as enr
from pfdo_navigator.service.rebuild import rebuild_catalogue
from pfdo_navigator.service.search import QuoteClient

pytestmark = pytest.mark.integration

P1, P2, P3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


class BillingStub:
    """Billing's batch quote endpoint, as the navigator sees it over HTTP."""

    def __init__(self) -> None:
        self.down = False
        self.family: dict[str, int] = {}
        self.calls: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("billing is down")
        body = json.loads(request.content)
        self.calls.append({"body": body, "auth": request.headers.get("authorization")})
        quotes = []
        for mid in body["module_ids"]:
            family = self.family.get(mid, 0)
            quotes.append({"module_id": mid, "total_cost_kopecks": 1_000_000 + family,
                           "certificate_kopecks": 1_000_000, "family_kopecks": family})
        return httpx.Response(200, json={"quotes": quotes})


@pytest_asyncio.fixture(scope="module")
async def nav(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    base = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                            namespace=namespace, auth=auth)
    settings = FixedClockSettings(**base.model_dump(), jobs_interval_s=3600, facet_cache_s=0)
    stub = BillingStub()
    app = build_app(settings, quotes=QuoteClient("http://billing", 2.0, transport=httpx.MockTransport(stub.handler)))
    async with Bus(infra.kafka_bootstrap, names) as bus, running_app(app) as client:
        yield {"client": client, "bus": bus, "runtime": app.state.runtime, "settings": settings, "stub": stub,
               "names": names, "auth": auth, "infra": infra}


async def scalar(nav: dict, sql: str, **params: Any) -> Any:
    async with nav["runtime"].db.transaction() as s:
        return await s.scalar(text(sql), params)


async def search(nav: dict, headers: dict | None = None, **params: Any) -> dict:
    headers = headers or nav["auth"].headers("parent", "someone")
    resp = await nav["client"].get("/api/navigator/programs", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


# ---------------------------------------------------------------------------- catalogue + search
DANCE = program(provider_id=P1, title="Танцевальный кружок «Ритм»", description="Современная хореография для детей",
                ages=(6, 12), modules=[module(price=1_500_000, title="Младшая группа")],
                certified_on=dt.date(2026, 7, 1))
ROBOTS = program(provider_id=P1, title="Робототехника", description="Конструирование и программирование роботов",
                 direction=Direction.TECHNICAL, ages=(8, 14),
                 modules=[module(price=2_500_000, title="Год 1"), module(price=2_600_000, title="Год 2", schedule=SAT)],
                 certified_on=dt.date(2026, 8, 1))
CHESS = program(provider_id=P2, title="Шахматная школа", description="Шахматы для начинающих", municipality="02",
                direction=Direction.PHYSICAL_SPORTS, ages=(5, 17), funding=FundingKind.MUNICIPAL_TASK,
                modules=[module(price=0, capacity=1)], certified_on=dt.date(2026, 8, 15))
CHOIR = program(provider_id=P3, title="Хоровая студия", description="Пение и сольфеджио", ages=(7, 15),
                modules=[module(price=900_000)])
HIKING = program(provider_id=P2, title="Юные туристы", description="Походы и краеведение", municipality="02",
                 direction=Direction.TOURISM_LOCAL_HISTORY, modules=[module(price=1_200_000)])


async def test_catalogue_from_events_and_search(nav) -> None:  # noqa: ANN001
    bus: Bus = nav["bus"]
    # programs may arrive before their provider is active: they appear once it is
    await bus.publish(DANCE, ROBOTS, CHESS, CHOIR, HIKING)
    await bus.publish(*provider_active(P1), *provider_active(P2, "02"),
                      g.ProviderRegistered(provider_id=P3, provider_type="private_org", municipality_code="01",
                                           status="new", registered_on=dt.date(2026, 6, 1)))
    await eventually(lambda: scalar(nav, "SELECT count(*) = 5 FROM catalogue.entries WHERE visible"), what="catalogue")

    # Russian stemming with prefixes: "танцы" finds "танцевальный"
    hits = await search(nav, text="танцы")
    assert [h["program_id"] for h in hits["items"]] == [str(DANCE.program_id)]
    assert (await search(nav, text="роботы программирование"))["total"] == 2
    # P3 is not active (still new): its program is not shown
    assert (await search(nav, text="хоровая"))["total"] == 0

    # a newer snapshot replaces the program; an older one arriving late is skipped
    renamed = DANCE.model_copy(update={"revision": 3, "title": "Танцевальная студия «Ритм»"})
    stale = DANCE.model_copy(update={"revision": 2, "title": "Устаревшее название"})
    await bus.publish(renamed, stale)

    async def renamed_applied() -> bool:
        hits = await search(nav, text="студия")
        return hits["total"] == 1
    await eventually(renamed_applied, what="renamed program")
    await eventually(lambda: scalar(nav, "SELECT count(*) = 7 FROM inbox WHERE event_type LIKE '%program.certified%'"),
                     what="stale snapshot consumed")
    assert (await search(nav, text="устаревшее"))["total"] == 0
    assert await scalar(nav, "SELECT revision FROM catalogue.programs WHERE program_id = :p", p=DANCE.program_id) == 3

    # filters
    assert {h["direction"] for h in (await search(nav, direction="technical"))["items"]} == {"technical"}
    assert (await search(nav, municipality="02"))["total"] == 2
    assert (await search(nav, funding_kind="municipal_task"))["total"] == 1
    assert (await search(nav, price_min=1_000_000, price_max=2_000_000))["total"] == 2  # dance, hiking
    assert [h["module_title"] for h in (await search(nav, weekday=6))["items"]] == ["Год 2"]
    assert (await search(nav, child_age=13))["total"] == 4  # robots ×2, chess, hiking (dance is 6–12)
    assert (await search(nav, provider_id=str(P2)))["total"] == 2

    # facets over the whole filtered set
    all_hits = await search(nav)
    assert all_hits["total"] == 5
    assert all_hits["facets"]["direction"] == {"artistic": 1, "technical": 2, "physical_sports": 1,
                                               "tourism_local_history": 1}
    assert all_hits["facets"]["municipality"] == {"01": 3, "02": 2}
    assert all_hits["facets"]["funding_kind"] == {"certificate": 4, "municipal_task": 1}

    # keyset pagination by price, two at a time: every row once, in order
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"sort": "price", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await search(nav, **params)
        seen.extend(h["price_kopecks"] for h in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == 5 and pages == 3
    newest = await search(nav, sort="newest")
    assert newest["items"][0]["program_id"] == str(CHESS.program_id)
    # every sort order pages one row at a time through exactly the rows of one long page, in its
    # order (relevance: the ties on rank are broken by id, across pages too)
    for params in ({"sort": "rating"}, {"sort": "newest"}, {"sort": "price"}, {"text": "робот"}, {"text": "группа"}):
        whole = [h["module_id"] for h in (await search(nav, limit=100, **params))["items"]]
        paged: list[str] = []
        cursor = None
        while True:
            page = await search(nav, limit=1, **params, **({"cursor": cursor} if cursor else {}))
            paged.extend(h["module_id"] for h in page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(whole) >= 2 and paged == whole, (params, whole, paged)
    not_an_id = await nav["client"].get("/api/navigator/programs", params={"provider_id": "not-an-id"},
                                        headers=nav["auth"].headers("parent", "x"))
    assert not_an_id.status_code == 422 and not_an_id.json()["code"] == "validation_error"
    assert (await search(nav, free_seats_only="true", sort="price"))["total"] == 5

    # a cursor is signed and bound to its query
    first = await search(nav, sort="price", limit=2)
    bad = await nav["client"].get("/api/navigator/programs", params={"sort": "rating", "cursor": first["next_cursor"]},
                                  headers=nav["auth"].headers("parent", "x"))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"
    typo = await nav["client"].get("/api/navigator/programs", params={"txt": "x"}, headers=nav["auth"].headers("parent", "x"))
    assert typo.status_code == 422 and typo.json()["code"] == "validation_error" and "txt" in typo.text

    # ratings rank programs; a stale aggregate is skipped
    agg = dict(count=20, means=r.ScaleMeans(results=90, teachers=90, materials=90, satisfaction=90), prior_mean=75,
               prior_weight=10)
    await bus.publish(
        r.ProgramRatingChanged(program_id=HIKING.program_id, provider_id=P2, score=88.0, revision=2, **agg),
        r.ProgramRatingChanged(program_id=HIKING.program_id, provider_id=P2, score=10.0, revision=1, **agg),
        r.ProgramRatingChanged(program_id=CHESS.program_id, provider_id=P2, score=70.0, revision=1, **agg),
    )

    async def ranked() -> bool:
        items = (await search(nav, sort="rating"))["items"]
        return [h["program_id"] for h in items[:2]] == [str(HIKING.program_id), str(CHESS.program_id)]
    await eventually(ranked, what="rating order")
    await eventually(lambda: scalar(nav, "SELECT count(*) = 3 FROM inbox WHERE event_type LIKE '%program_rating%'"),
                     what="ratings consumed")
    assert (await search(nav, text="туристы"))["items"][0]["rating_score"] == 88.0

    # a suspended provider's programs disappear; an archived program disappears
    await bus.publish(
        g.ProviderStatusChanged(provider_id=P2, old_status="active", new_status="suspended",
                                reason="violation", changed_on=dt.date(2026, 9, 1)),
        g.ProgramArchived(program_id=ROBOTS.program_id, provider_id=P1, revision=2, archived_on=dt.date(2026, 9, 1)),
    )

    async def gone() -> bool:
        return (await search(nav))["total"] == 1
    await eventually(gone, what="suspension and archive")
    assert (await search(nav, text="туристы"))["total"] == 0  # text searches read the search copy
    assert await search_copy_matches(nav)
    await bus.publish(g.ProviderStatusChanged(provider_id=P2, old_status="suspended", new_status="active",
                                              reason="operator_decision", changed_on=dt.date(2026, 9, 2)))

    async def back() -> bool:
        return (await search(nav))["total"] == 3
    await eventually(back, what="reinstated provider")
    assert (await search(nav, text="туристы"))["total"] == 1
    assert await search_copy_matches(nav)


async def test_many_searches_on_small_pools_all_finish(nav) -> None:  # noqa: ANN001
    """Sixteen searches at once, each counting its facets (no cache), on a search pool of two
    connections: they queue for the pool and all finish (a search must never hold one connection
    of a pool while it waits for another of the same pool)."""
    infra, names = nav["infra"], TopicNames(new_namespace())
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    small = nav["settings"].model_copy(update={
        "kafka_namespace": names.namespace, "search_pool_size": 2, "search_max_overflow": 0, "facet_cache_s": 0})
    app = build_app(small, quotes=QuoteClient("http://billing", 2.0, transport=httpx.MockTransport(BillingStub().handler)))
    headers = nav["auth"].headers("parent", "someone")
    async with running_app(app) as client:
        async def one(i: int) -> int:
            resp = await client.get("/api/navigator/programs", headers=headers,
                                    params={"price_min": str(i), "sort": "price"})
            return resp.status_code

        statuses = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(16))), timeout=20)
    assert statuses == [200] * 16


async def test_stale_facet_counts_are_answered_then_recounted_in_the_background(nav) -> None:  # noqa: ANN001
    """With a 2 s facet cache: a group hidden meanwhile leaves the page at once, the total only
    after the cache time; past it, the stale total is answered once more while a search-pool
    connection counts again, and the next search has the new total."""
    infra, names = nav["infra"], TopicNames(new_namespace())
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    cached = nav["settings"].model_copy(update={"kafka_namespace": names.namespace, "facet_cache_s": 2.0})
    app = build_app(cached, quotes=QuoteClient("http://billing", 2.0, transport=httpx.MockTransport(BillingStub().handler)))
    headers = nav["auth"].headers("parent", "someone")
    async with running_app(app) as client:
        async def page() -> dict:
            resp = await client.get("/api/navigator/programs", headers=headers)
            assert resp.status_code == 200, resp.text
            return resp.json()

        first = await page()
        total = first["total"]
        assert total == len(first["items"]) >= 2
        hidden = await scalar(nav, "UPDATE catalogue.entries SET visible = false WHERE module_id = "
                                   "(SELECT min(module_id::text)::uuid FROM catalogue.entries WHERE visible) "
                                   "RETURNING module_id")
        try:
            fresh = await page()
            assert (len(fresh["items"]), fresh["total"]) == (total - 1, total)  # rows now, counts cached
            await asyncio.sleep(2.3)
            stale = await page()
            assert (len(stale["items"]), stale["total"]) == (total - 1, total)  # answered stale, recounting

            async def recounted() -> bool:
                return (await page())["total"] == total - 1
            await eventually(recounted, timeout=1, what="the background recount")  # before the counts are 4 s old
        finally:
            await scalar(nav, "UPDATE catalogue.entries SET visible = true WHERE module_id = :m RETURNING 1", m=hidden)


async def test_rebuild_from_topics_gives_the_same_catalogue(nav) -> None:  # noqa: ANN001
    runtime = nav["runtime"]
    queries = [{}, {"text": "танцы"}, {"sort": "price"}, {"sort": "rating"}, {"municipality": "02"}, {"child_age": 13},
               {"sort": "newest", "limit": 2}]
    before = [await search(nav, **q) for q in queries]
    report = await rebuild_catalogue(runtime.db, nav["infra"].kafka_bootstrap, nav["names"], swap=False)
    assert report.events_applied >= 15 and report.entries == await scalar(nav, "SELECT count(*) FROM catalogue.entries")
    for table in ("providers", "programs", "program_ratings", "entries", "search_docs"):  # the copy: by the twin's triggers
        diff = await scalar(
            nav,
            f"SELECT count(*) FROM ((SELECT * FROM catalogue.{table} EXCEPT SELECT * FROM catalogue_rebuild.{table}) "
            f"UNION ALL (SELECT * FROM catalogue_rebuild.{table} EXCEPT SELECT * FROM catalogue.{table})) d",
        )
        assert diff == 0, table
    # swap through the operator API, then the same queries give the same answers
    resp = await nav["client"].post("/api/navigator/admin/catalogue/rebuild",
                                    headers=nav["auth"].headers("regional_operator", "op"))
    assert resp.status_code == 200 and resp.json()["swapped"] is True
    after = [await search(nav, **q) for q in queries]
    assert after == before
    assert await search_copy_matches(nav)  # refilled by the live triggers from the rebuilt rows
    assert await scalar(nav, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'catalogue_rebuild'") == 0
    denied = await nav["client"].post("/api/navigator/admin/catalogue/rebuild", headers=nav["auth"].headers("parent", "p"))
    assert denied.status_code == 403

    # the command line entry point does the same (dry run: the twin schema only)
    env = {**os.environ, "PFDO_DATABASE_URL": nav["settings"].database_url,
           "PFDO_KAFKA_BOOTSTRAP": nav["infra"].kafka_bootstrap, "PFDO_KAFKA_NAMESPACE": nav["names"].namespace}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pfdo_navigator.rebuild", "--dry-run", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    cli = json.loads(out.decode().strip().splitlines()[-1])
    assert cli["swapped"] is False and cli["entries"] == await scalar(nav, "SELECT count(*) FROM catalogue.entries")


async def search_copy_matches(nav: dict) -> bool:
    """The text searches' copy holds exactly the searchable columns of every group, no more."""
    cols = ", ".join(SEARCH_DOC_COLUMNS)
    return await scalar(nav, f"""
        SELECT NOT EXISTS (
            (SELECT {cols} FROM catalogue.entries EXCEPT ALL SELECT {cols} FROM catalogue.search_docs)
            UNION ALL
            (SELECT {cols} FROM catalogue.search_docs EXCEPT ALL SELECT {cols} FROM catalogue.entries))""")


# ---------------------------------------------------------------------------- enrolment saga
PARENT = "parent-olga"
CLUB = program(provider_id=P1, title="Кружок рисования", description="Живопись и графика", ages=(7, 12),
               modules=[module(price=1_800_000, title="Группа А"), module(price=1_800_000, title="Группа Б"),
                        module(price=1_800_000, title="Группа В", capacity=1)])


async def _setup_child(nav: dict) -> g.CertificateIssued:
    cert = certificate(PARENT)
    await nav["bus"].publish(CLUB, cert)
    await eventually(lambda: scalar(nav, "SELECT count(*) = 3 FROM catalogue.entries WHERE program_id = :p AND visible",
                                    p=CLUB.program_id), what="club")
    await eventually(lambda: scalar(nav, "SELECT count(*) FROM certificates WHERE certificate_id = :c",
                                    c=cert.certificate_id), what="certificate")
    return cert


def reservation(enrolment: dict, cert_id: uuid.UUID, family: int = 0) -> b.ReservationCreated:
    return b.ReservationCreated(
        reservation_id=uuid.uuid4(), enrolment_id=enrolment["enrolment_id"], certificate_id=cert_id,
        provider_id=P1, period_id=uuid.uuid4(), payment_mode="monthly", total_cost_kopecks=1_000_000 + family,
        reserved_kopecks=1_000_000, family_kopecks=family, funding_activated=True,
        schedule=[b.Instalment(month="2026-09", certificate_kopecks=500_000, family_kopecks=family, planned_lessons=9),
                  b.Instalment(month="2026-10", certificate_kopecks=500_000, family_kopecks=0, planned_lessons=9)],
    )


async def state_of(nav: dict, enrolment_id: str, state: str) -> bool:
    return await scalar(nav, "SELECT state FROM enrolments WHERE enrolment_id = :e", e=enrolment_id) == state


async def test_enrolment_saga_attendance_and_disputes(nav) -> None:  # noqa: ANN001
    CLOCK["today"] = dt.date(2026, 9, 1)
    client, bus, auth = nav["client"], nav["bus"], nav["auth"]
    cert = await _setup_child(nav)
    parent = auth.headers("parent", PARENT)
    provider = auth.headers("provider", "teacher", provider_id=str(P1))
    mod_a, mod_b, mod_c = (str(m.module_id) for m in CLUB.modules)

    # cabinet: my children, with the link to billing's history
    children = (await client.get("/api/navigator/me/children", headers=parent)).json()["items"]
    assert [c["certificate_id"] for c in children] == [str(cert.certificate_id)]
    assert children[0]["billing_history_url"] == f"/api/billing/certificates/{cert.certificate_id}/history"

    # price for this family: one batch call with the parent's token; billing down → no prices, a flag
    nav["stub"].family = {mod_b: 250_000}
    page = await search(nav, parent, text="рисования", child=str(cert.certificate_id))
    assert {h["module_id"]: h["quote"]["family_kopecks"] for h in page["items"]} == {mod_a: 0, mod_b: 250_000, mod_c: 0}
    assert len(nav["stub"].calls) == 1 and nav["stub"].calls[0]["auth"] == parent["Authorization"]
    free = await search(nav, parent, text="рисования", child=str(cert.certificate_id), no_copayment="true")
    assert {h["module_id"] for h in free["items"]} == {mod_a, mod_c}
    nav["stub"].down = True
    down = await search(nav, parent, text="рисования", child=str(cert.certificate_id))
    assert down["prices_available"] is False and all(h["quote"] is None for h in down["items"]) and down["total"] == 3
    nav["stub"].down = False
    foreign = await client.get("/api/navigator/programs", params={"child": str(cert.certificate_id)},
                               headers=auth.headers("parent", "someone-else"))
    assert foreign.status_code == 404

    # apply: a foreign child is not found; an age outside the range is refused with the reason
    body = {"certificate_id": str(cert.certificate_id), "module_id": mod_a, "start_date": "2026-09-01"}
    assert (await client.post("/api/navigator/enrolments", json=body, headers=auth.headers("parent", "intruder"))).status_code == 404
    resp = await client.post("/api/navigator/enrolments", json=body, headers=parent)
    assert resp.status_code == 201, resp.text
    enrolment = resp.json()
    assert enrolment["state"] == "requested"
    assert enrolment["billing_history_url"].endswith(f"{cert.certificate_id}/history")
    again = await client.post("/api/navigator/enrolments", json=body, headers=parent)
    assert again.status_code == 422 and [e["code"] for e in again.json()["errors"]] == ["already_enrolled"]
    requested = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.requested.v1",
                                         enrolment_id=enrolment["enrolment_id"])
    assert requested["data"]["price_kopecks"] == 1_800_000 and requested["data"]["parent_id"] == PARENT

    # billing (simulated on the real broker) reserves; the provider confirms
    first_reservation = reservation(enrolment, cert.certificate_id, family=100_000)
    await bus.publish(first_reservation)
    await eventually(lambda: state_of(nav, enrolment["enrolment_id"], "reserved"), what="reserved")
    # billing redelivers the same reservation (a new envelope): it changes nothing
    await bus.publish(first_reservation)
    await eventually(lambda: scalar(nav, "SELECT count(*) = 2 FROM inbox WHERE event_type LIKE '%reservation.created%'"),
                     what="redelivery consumed")
    assert await scalar(nav, "SELECT reservation_id FROM enrolments WHERE enrolment_id = :e",
                        e=enrolment["enrolment_id"]) == first_reservation.reservation_id
    mine = (await client.get("/api/navigator/me/enrolments", headers=parent)).json()["items"]
    assert mine[0]["reserved_kopecks"] == 1_000_000 and mine[0]["family_kopecks"] == 100_000
    assert [i["month"] for i in mine[0]["instalments"]] == ["2026-09", "2026-10"]
    other_provider = auth.headers("provider", "x", provider_id=str(P2))
    eid = enrolment["enrolment_id"]
    assert (await client.post(f"/api/navigator/enrolments/{eid}/confirm", headers=other_provider)).status_code == 404
    # the provider's confirmation issues the offer (договор-оферта); only the parent's acceptance makes
    # the contract
    offered = await client.post(f"/api/navigator/enrolments/{eid}/confirm", headers=provider)
    assert offered.status_code == 200 and offered.json()["state"] == "offered", offered.text
    assert offered.json()["offered_on"] == "2026-09-01" and offered.json()["offer_expires_on"] == "2026-09-11"
    offer = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.offered.v1", enrolment_id=eid)
    assert offer["data"]["certificate_number"] == cert.number and offer["data"]["payment_mode"] == "monthly"
    assert (offer["data"]["certificate_kopecks"], offer["data"]["family_kopecks"]) == (1_000_000, 100_000)
    assert offer["data"]["schedule"] and offer["data"]["offer_expires_on"] == "2026-09-11"
    assert (await client.post(f"/api/navigator/enrolments/{eid}/confirm", headers=provider)).json()["state"] == "offered"
    assert (await client.post(f"/api/navigator/enrolments/{eid}/accept", headers=provider)).status_code == 403
    assert (await client.post(f"/api/navigator/enrolments/{eid}/accept",
                              headers=auth.headers("parent", "intruder"))).status_code == 404
    accepted = await client.post(f"/api/navigator/enrolments/{eid}/accept", headers=parent)
    assert accepted.status_code == 200 and accepted.json()["state"] == "confirmed", accepted.text
    assert accepted.json()["accepted_by"] == PARENT and accepted.json()["accepted_at"]
    again = await client.post(f"/api/navigator/enrolments/{eid}/accept", headers=parent)
    assert again.status_code == 200 and again.json()["accepted_at"] == accepted.json()["accepted_at"]
    contract = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.confirmed.v1", enrolment_id=eid)
    assert contract["data"]["accepted_by"] == PARENT and contract["data"]["accepted_at"]
    assert len([e for e in await bus.read_all(ENROLMENTS) if e["type"] == "pfdo.navigator.enrolment.confirmed.v1"
                and e["data"]["enrolment_id"] == eid]) == 1

    # attendance: a month's journal; foreign, future and off-schedule marks refused with reasons
    CLOCK["today"] = dt.date(2026, 9, 20)
    tuesdays_thursdays = [dt.date(2026, 9, d) for d in (1, 3, 8, 10, 15, 17)]
    marks = [{"enrolment_id": eid, "module_id": mod_a, "lesson_date": d.isoformat(), "status": "present"}
             for d in tuesdays_thursdays]
    marks += [
        {"enrolment_id": eid, "module_id": mod_a, "lesson_date": "2026-09-22", "status": "present"},  # future
        {"enrolment_id": eid, "module_id": mod_a, "lesson_date": "2026-09-05", "status": "present"},  # Saturday
        {"enrolment_id": eid, "module_id": mod_b, "lesson_date": "2026-09-08", "status": "present"},  # not enrolled there
    ]
    posted = await client.post("/api/navigator/attendance", json={"marks": marks}, headers=provider)
    assert posted.status_code == 200, posted.text
    report = posted.json()
    assert report["recorded"] == 6 and report["events"] == 1
    assert [(x["index"], x["reason"]) for x in report["rejected"]] == [
        (6, "future_date"), (7, "not_a_lesson_day"), (8, "not_enrolled_on_date")]
    foreign_post = await client.post("/api/navigator/attendance", json={"marks": marks[:1]}, headers=other_provider)
    assert foreign_post.json()["rejected"][0]["reason"] == "foreign_group"
    # a correction reuses the mark id with a higher revision
    fix = await client.post("/api/navigator/attendance", headers=provider, json={"marks": [
        {"enrolment_id": eid, "module_id": mod_a, "lesson_date": "2026-09-17", "status": "excused"}]})
    assert fix.json()["corrected"] == 1
    await eventually(lambda: _count_recorded(bus, eid, 2), what="attendance events")
    recorded = [e for e in await bus.read_all(ATTENDANCE)
                if e["type"] == "pfdo.navigator.attendance.recorded.v1" and e["data"]["enrolment_id"] == eid]
    first, second = recorded[0]["data"], recorded[1]["data"]
    assert len(first["marks"]) == 6 and first["month"] == "2026-09"
    corrected = second["marks"][0]
    original = next(m for m in first["marks"] if m["lesson_date"] == "2026-09-17")
    assert corrected["mark_id"] == original["mark_id"] and corrected["revision"] == 2 and corrected["status"] == "excused"

    # the parent sees every mark and disputes one within 7 days; the operator resolves
    seen = (await client.get("/api/navigator/attendance", params={"enrolment_id": eid}, headers=parent)).json()["items"]
    assert len(seen) == 6
    assert (await client.get("/api/navigator/attendance", params={"enrolment_id": eid},
                             headers=auth.headers("parent", "nosy"))).status_code == 404
    target = next(m for m in seen if m["lesson_date"] == "2026-09-15")
    opened = await client.post("/api/navigator/disputes", json={"mark_id": target["mark_id"]}, headers=parent)
    assert opened.status_code == 201, opened.text
    dup = await client.post("/api/navigator/disputes", json={"mark_id": target["mark_id"]}, headers=parent)
    assert dup.status_code == 409 and dup.json()["code"] == "dispute_already_open"
    CLOCK["today"] = dt.date(2026, 9, 28)
    late = await client.post("/api/navigator/disputes", json={"mark_id": seen[0]["mark_id"]}, headers=parent)
    assert late.status_code == 422 and late.json()["code"] == "dispute_window_closed"
    dispute_id = opened.json()["dispute_id"]
    resolved = await client.post(f"/api/navigator/disputes/{dispute_id}/resolve", json={"upheld": True},
                                 headers=auth.headers("municipal_operator", "op", municipality="01"))
    assert resolved.status_code == 200 and resolved.json()["state"] == "upheld"
    elsewhere = await client.post(f"/api/navigator/disputes/{dispute_id}/resolve", json={"upheld": True},
                                  headers=auth.headers("municipal_operator", "op2", municipality="02"))
    assert elsewhere.status_code == 404
    await bus.wait_for_event(ATTENDANCE, "pfdo.navigator.dispute.opened.v1", dispute_id=dispute_id)
    done = await bus.wait_for_event(ATTENDANCE, "pfdo.navigator.dispute.resolved.v1", dispute_id=dispute_id)
    assert done["data"]["final_status"] == "absent"
    after = (await client.get("/api/navigator/attendance", params={"enrolment_id": eid, "month": "2026-09"},
                              headers=parent)).json()["items"]
    assert next(m for m in after if m["lesson_date"] == "2026-09-15")["status"] == "absent"
    # the operator's list shows the mark as it stands now, when it was recorded (the 7-day window) and the comment
    listed = (await client.get("/api/navigator/disputes", headers=auth.headers("municipal_operator", "op",
                                                                                municipality="01"))).json()["items"]
    decided = next(d for d in listed if d["dispute_id"] == dispute_id)
    assert (decided["mark_status"], decided["marked_on"], decided["comment"]) == ("absent", "2026-09-20", None)
    one = (await client.get(f"/api/navigator/disputes/{dispute_id}", headers=parent)).json()
    assert (one["mark_status"], one["marked_on"], one["state"]) == ("absent", "2026-09-20", "upheld")

    # the operator freezes September's journal before billing closes it: not before the month is
    # over, not by a provider; the freeze publishes the count of September's attendance events
    region = auth.headers("regional_operator", "ro")
    freeze = "/api/navigator/attendance/months/2026-09/freeze"
    early = await client.post(freeze, headers=region)
    assert early.status_code == 409 and early.json()["code"] == "month_not_over"
    assert (await client.post(freeze, headers=provider)).status_code == 403
    CLOCK["today"] = dt.date(2026, 10, 1)
    frozen = await client.post(freeze, headers=region)
    assert frozen.status_code == 200 and frozen.json()["state"] == "frozen", frozen.text
    published = [e for e in await bus.read_all(ATTENDANCE)
                 if e["type"] == "pfdo.navigator.attendance.recorded.v1" and e["data"]["month"] == "2026-09"]
    assert frozen.json()["attendance_events"] == len(published) >= 2
    ev = await bus.wait_for_event(ATTENDANCE, "pfdo.navigator.attendance.month_frozen.v1", month="2026-09")
    assert ev["data"]["attendance_events"] == len(published) and ev["data"]["frozen_by"] == "operator"
    again = await client.post(freeze, headers=region)  # idempotent: same answer, no second event
    assert again.json() == frozen.json()
    state = await client.get("/api/navigator/attendance/months/2026-09", headers=provider)
    assert state.json()["state"] == "frozen"
    refused = await client.post("/api/navigator/attendance", headers=provider, json={"marks": [
        {"enrolment_id": eid, "module_id": mod_a, "lesson_date": "2026-09-22", "status": "present"}]})
    assert refused.status_code == 409 and refused.json()["code"] == "journal_frozen"
    assert refused.json()["errors"][0]["reason"] == "month_closed"
    assert await scalar(nav, "SELECT count(*) FROM attendance_marks WHERE lesson_date = '2026-09-22' "
                             "AND status = 'present'") == 0
    frozen_events = [e for e in await bus.read_all(ATTENDANCE)
                     if e["type"] == "pfdo.navigator.attendance.month_frozen.v1"]
    assert len(frozen_events) == 1

    # terminate (parent): the contract ends at the end of this month, then the end job publishes ended
    CLOCK["today"] = dt.date(2026, 10, 5)
    term = await client.post(f"/api/navigator/enrolments/{eid}/terminate", headers=parent)
    assert term.status_code == 200 and term.json()["state"] == "terminated" and term.json()["ends_on"] == "2026-10-31"
    ev = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.terminated.v1", enrolment_id=eid)
    assert ev["data"]["terminated_by"] == "parent" and ev["data"]["effective_end_date"] == "2026-10-31"
    CLOCK["today"] = dt.date(2026, 11, 1)
    assert (await run_timers(nav["runtime"], nav["settings"], today=CLOCK["today"]))["ended"] >= 1
    ended = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.ended.v1", enrolment_id=eid)
    assert ended["data"]["outcome"] == "terminated" and ended["data"]["parent_id"] == PARENT
    assert ended["data"]["program_id"] == str(CLUB.program_id) and ended["data"]["provider_id"] == str(P1)
    audit = await client.get("/api/navigator/audit", params={"subject_id": eid},
                             headers=auth.headers("regional_operator", "op"))
    assert {a["action"] for a in audit.json()["items"]} >= {"enrolment.requested", "enrolment.confirmed", "enrolment.terminated"}


async def _count_recorded(bus: Bus, eid: str, n: int) -> bool:
    return len([e for e in await bus.read_all(ATTENDANCE)
                if e["type"] == "pfdo.navigator.attendance.recorded.v1" and e["data"]["enrolment_id"] == eid]) >= n


async def test_rejection_cancel_expiry_and_seats(nav) -> None:  # noqa: ANN001
    CLOCK["today"] = dt.date(2026, 9, 1)
    client, bus, auth = nav["client"], nav["bus"], nav["auth"]
    mod_b, mod_c = str(CLUB.modules[1].module_id), str(CLUB.modules[2].module_id)
    parent_2, parent_3 = "parent-ivan", "parent-anna"
    c2, c3 = certificate(parent_2), certificate(parent_3)
    await bus.publish(c2, c3)
    await eventually(lambda: scalar(nav, "SELECT count(*) = 2 FROM certificates WHERE certificate_id IN (:a, :b)",
                                    a=c2.certificate_id, b=c3.certificate_id), what="certificates")
    h2, h3 = auth.headers("parent", parent_2), auth.headers("parent", parent_3)

    # the last seat: one winner, the other gets no_free_seats
    r2 = await client.post("/api/navigator/enrolments", headers=h2,
                           json={"certificate_id": str(c2.certificate_id), "module_id": mod_c, "start_date": "2026-09-10"})
    r3 = await client.post("/api/navigator/enrolments", headers=h3,
                           json={"certificate_id": str(c3.certificate_id), "module_id": mod_c, "start_date": "2026-09-10"})
    assert r2.status_code == 201 and r3.status_code == 409 and r3.json()["code"] == "no_free_seats"
    e2 = r2.json()["enrolment_id"]

    # billing rejects: the enrolment is rejected and the seat is free again
    await bus.publish(b.ReservationRejected(enrolment_id=e2, certificate_id=c2.certificate_id,
                                            reason="insufficient_balance"))
    await eventually(lambda: state_of(nav, e2, "rejected"), what="rejected")
    assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod_c) == 0
    r3 = await client.post("/api/navigator/enrolments", headers=h3,
                           json={"certificate_id": str(c3.certificate_id), "module_id": mod_c, "start_date": "2026-09-10"})
    assert r3.status_code == 201
    e3 = r3.json()["enrolment_id"]

    # the parent cancels before the start: seat released, event published
    cancelled = await client.post(f"/api/navigator/enrolments/{e3}/cancel", headers=h3)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod_c) == 0
    await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.cancelled.v1", enrolment_id=e3)
    # billing's reservation arrives after the cancellation: it is recorded, and nothing is published
    # again (billing consumed the cancellation after the request, on the same partition, and released)
    await bus.publish(reservation({"enrolment_id": e3}, c3.certificate_id))
    await eventually(lambda: scalar(nav, "SELECT reservation_id IS NOT NULL FROM enrolments WHERE enrolment_id = :e", e=e3),
                     what="late reservation recorded")
    assert await state_of(nav, e3, "cancelled")
    cancels = [e for e in await bus.read_all(ENROLMENTS)
               if e["type"] == "pfdo.navigator.enrolment.cancelled.v1" and e["data"]["enrolment_id"] == e3]
    assert len(cancels) == 1
    assert (await client.post(f"/api/navigator/enrolments/{e3}/cancel", headers=h3)).status_code == 200  # idempotent

    # an application the provider has not answered in 5 days is refused (the timer counts regional
    # dates from the day of the request: this test's requests are stamped with the real time)
    r4 = await client.post("/api/navigator/enrolments", headers=h2,
                           json={"certificate_id": str(c2.certificate_id), "module_id": mod_b, "start_date": "2026-09-10"})
    e4 = r4.json()["enrolment_id"]
    held = await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod_b)
    requested_on = dt.datetime.fromisoformat(r4.json()["requested_at"]).astimezone(ZoneInfo("Europe/Moscow")).date()
    assert await _expire_timed_out(nav, requested_on + dt.timedelta(days=5)) == []  # the fifth day is the provider's
    assert e4 in await _expire_timed_out(nav, requested_on + dt.timedelta(days=6))
    assert await state_of(nav, e4, "expired")
    assert await scalar(nav, "SELECT reason FROM enrolments WHERE enrolment_id = :e", e=e4) == "application_unanswered"
    assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod_b) == held - 1
    expired = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.expired.v1", enrolment_id=e4)
    assert expired["data"]["reason"] == "application_unanswered"

    # certificate expiry cancels a pending request
    r5 = await client.post("/api/navigator/enrolments", headers=h2,
                           json={"certificate_id": str(c2.certificate_id), "module_id": mod_b, "start_date": "2026-09-10"})
    e5 = r5.json()["enrolment_id"]
    await bus.publish(g.CertificateSuspended(certificate_id=c2.certificate_id, suspended_on=dt.date(2026, 9, 2),
                                             reason="operator_decision"))
    await eventually(lambda: scalar(nav, "SELECT status = 'suspended' FROM certificates WHERE certificate_id = :c",
                                    c=c2.certificate_id), what="suspended")
    refused = await client.post("/api/navigator/enrolments", headers=h2,
                                json={"certificate_id": str(c2.certificate_id), "module_id": mod_c, "start_date": "2026-09-10"})
    assert refused.status_code == 422 and "certificate_not_active" in [e["code"] for e in refused.json()["errors"]]
    await bus.publish(g.CertificateClosed(certificate_id=c2.certificate_id, closed_on=dt.date(2026, 9, 3), reason="left_region"))
    await eventually(lambda: state_of(nav, e5, "cancelled"), what="closed certificate cancels")
    held_b = await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod_b)
    assert held_b == 0


async def _expire_timed_out(nav: dict, today: dt.date) -> list[str]:
    """The timer's use cases on ``today`` (run_timers would also end the other tests' contracts)."""
    timers = timers_of(nav["settings"])
    async with nav["runtime"].db.transaction() as s:
        due = await enr.timed_out(s, timers, today)
    struck = []
    for enrolment_id in due:
        async with nav["runtime"].db.transaction() as s:
            if await enr.expire_timed_out(s, nav["runtime"].outbox, enrolment_id, today, timers) is not None:
                struck.append(str(enrolment_id))
    return struck


async def test_an_offer_not_accepted_in_ten_days_is_withdrawn(nav) -> None:  # noqa: ANN001
    CLOCK["today"] = dt.date(2026, 9, 1)
    client, bus, auth = nav["client"], nav["bus"], nav["auth"]
    parent = "parent-undecided"
    cert = certificate(parent, birth=dt.date(2016, 3, 3))
    await bus.publish(cert)
    await eventually(lambda: scalar(nav, "SELECT count(*) FROM certificates WHERE certificate_id = :c",
                                    c=cert.certificate_id), what="certificate")
    club = program(provider_id=P1, title="Лепка", ages=(6, 12), modules=[module(price=1_000_000)])
    await bus.publish(club)
    mod = str(club.modules[0].module_id)
    await eventually(lambda: scalar(nav, "SELECT visible FROM catalogue.entries WHERE module_id = :m", m=mod),
                     what="program")
    provider = auth.headers("provider", "teacher", provider_id=str(P1))
    ids = []
    for _ in range(2):  # the first offer is withdrawn, the second is declined by the parent
        applied = await client.post("/api/navigator/enrolments", headers=auth.headers("parent", parent), json={
            "certificate_id": str(cert.certificate_id), "module_id": mod, "start_date": "2026-09-20"})
        assert applied.status_code == 201, applied.text
        eid = applied.json()["enrolment_id"]
        await bus.publish(reservation({"enrolment_id": eid}, cert.certificate_id))
        await eventually(lambda eid=eid: state_of(nav, eid, "reserved"), what="reserved")
        CLOCK["today"] = dt.date(2026, 9, 2)
        assert (await client.post(f"/api/navigator/enrolments/{eid}/confirm", headers=provider)).json()["state"] == "offered"
        assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod) == 1
        ids.append(eid)
        if len(ids) == 1:
            assert await _expire_timed_out(nav, dt.date(2026, 9, 12)) == []  # the offer's last day
            assert await _expire_timed_out(nav, dt.date(2026, 9, 13)) == [eid]
            assert await state_of(nav, eid, "expired")
            ev = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.expired.v1", enrolment_id=eid)
            assert ev["data"]["reason"] == "offer_not_accepted" and ev["data"]["expired_on"] == "2026-09-13"
            assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod) == 0
            CLOCK["today"] = dt.date(2026, 9, 13)
            late = await client.post(f"/api/navigator/enrolments/{eid}/accept", headers=auth.headers("parent", parent))
            assert late.status_code == 409 and late.json()["code"] == "illegal_transition"
            CLOCK["today"] = dt.date(2026, 9, 1)
    CLOCK["today"] = dt.date(2026, 9, 13)  # past the deadline, the timer not run yet: refused all the same
    late = await client.post(f"/api/navigator/enrolments/{ids[1]}/accept", headers=auth.headers("parent", parent))
    assert late.status_code == 409 and late.json()["code"] == "offer_expired", late.text
    CLOCK["today"] = dt.date(2026, 9, 3)
    declined = await client.post(f"/api/navigator/enrolments/{ids[1]}/cancel", headers=auth.headers("parent", parent))
    assert declined.json()["state"] == "cancelled" and declined.json()["reason"] == "offer_declined"
    await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.cancelled.v1", enrolment_id=ids[1])
    assert await scalar(nav, "SELECT held FROM modules WHERE module_id = :m", m=mod) == 0
    CLOCK["today"] = dt.date(2026, 9, 1)


async def test_certificate_expiry_terminates_a_running_contract(nav) -> None:  # noqa: ANN001
    CLOCK["today"] = dt.date(2026, 9, 1)
    client, bus, auth = nav["client"], nav["bus"], nav["auth"]
    parent = "parent-grown-up"
    cert = certificate(parent, birth=dt.date(2008, 10, 14))  # turns 18 on 14 October 2026
    await bus.publish(cert)
    await eventually(lambda: scalar(nav, "SELECT count(*) FROM certificates WHERE certificate_id = :c",
                                    c=cert.certificate_id), what="certificate")
    club = program(provider_id=P1, title="Автодело", ages=(14, 17), modules=[module(price=1_000_000)])
    await bus.publish(club)
    await eventually(lambda: scalar(nav, "SELECT visible FROM catalogue.entries WHERE program_id = :p",
                                    p=club.program_id), what="program")
    applied = await client.post("/api/navigator/enrolments", headers=auth.headers("parent", parent), json={
        "certificate_id": str(cert.certificate_id), "module_id": str(club.modules[0].module_id),
        "start_date": "2026-09-10"})
    assert applied.status_code == 201, applied.text
    eid = applied.json()["enrolment_id"]
    await bus.publish(reservation({"enrolment_id": eid}, cert.certificate_id))
    await eventually(lambda: state_of(nav, eid, "reserved"), what="reserved")
    provider = auth.headers("provider", "teacher", provider_id=str(P1))
    assert (await client.post(f"/api/navigator/enrolments/{eid}/confirm", headers=provider)).status_code == 200
    accepted = await client.post(f"/api/navigator/enrolments/{eid}/accept", headers=auth.headers("parent", parent))
    assert accepted.json()["state"] == "confirmed", accepted.text

    await bus.publish(g.CertificateExpired(certificate_id=cert.certificate_id, expired_on=dt.date(2026, 10, 14)))
    await eventually(lambda: state_of(nav, eid, "terminated"), what="terminated by expiry")
    ev = await bus.wait_for_event(ENROLMENTS, "pfdo.navigator.enrolment.terminated.v1", enrolment_id=eid)
    assert ev["data"]["terminated_by"] == "expiry" and ev["data"]["reason"] == "certificate_expired"
    assert ev["data"]["effective_end_date"] == "2026-10-31"


async def test_out_of_type_or_range_input_is_422_never_500(nav) -> None:  # noqa: ANN001
    """Typed query parameters: integers past 64 bits, impossible months and dates, unknown
    enum values and unknown parameters answer 422 validation_error naming the parameter."""
    client, auth = nav["client"], nav["auth"]
    parent = auth.headers("parent", "someone")
    for params, field in [
        ({"price_min": str(2**64)}, "price_min"), ({"price_max": "1" + "0" * 30}, "price_max"),
        ({"child_age": "99"}, "child_age"), ({"limit": "0"}, "limit"), ({"page_size": "1000"}, "page_size"),
        ({"direction": "cooking"}, "direction"), ({"sort": "cheapest"}, "sort"), ({"weekday": "1,8"}, "weekday"),
        ({"age_on": "0000-01-01", "child_age": "9"}, "age_on"), ({"colour": "red"}, "colour"),
    ]:
        resp = await client.get("/api/navigator/programs", params=params, headers=parent)
        assert resp.status_code == 422, (params, resp.status_code, resp.text)
        assert resp.json()["code"] == "validation_error" and field in resp.text, resp.text
    typed = await search(nav, weekday="2,4", price_min=0, price_max=10**12, limit=1, child_age=9)
    assert len(typed["items"]) <= 1

    # an enrolment's marks of month 0000-01 (the month path and query parameter: 2000-01..2100-12)
    eid, owner = (await scalar(nav, "SELECT enrolment_id::text || ' ' || parent_id FROM enrolments LIMIT 1")).split()
    for month in ("0000-01", "1999-12", "2101-01", "2026-13"):
        resp = await client.get("/api/navigator/attendance", params={"enrolment_id": eid, "month": month},
                                headers=auth.headers("parent", owner))
        assert resp.status_code == 422, (month, resp.status_code, resp.text)
        resp = await client.get(f"/api/navigator/attendance/months/{month}",
                                headers=auth.headers("provider", "teacher", provider_id=str(P1)))
        assert resp.status_code == 422, (month, resp.status_code, resp.text)


async def test_lists_page_with_limit_and_a_signed_cursor(nav) -> None:  # noqa: ANN001
    """Enrolments (newest first) one at a time give the whole list once; a cursor altered or made
    for other filters answers 422 invalid_cursor."""
    client, auth = nav["client"], nav["auth"]
    operator = auth.headers("regional_operator", "op")
    whole = (await client.get("/api/navigator/enrolments", params={"limit": 1000}, headers=operator)).json()
    assert whole["next_cursor"] is None and len(whole["items"]) >= 3
    stamps = [e["requested_at"] for e in whole["items"]]
    assert stamps == sorted(stamps, reverse=True)
    paged, cursor = [], None
    while True:
        page = (await client.get("/api/navigator/enrolments", headers=operator,
                                 params={"limit": 1, **({"cursor": cursor} if cursor else {})})).json()
        paged.extend(e["enrolment_id"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [e["enrolment_id"] for e in whole["items"]]
    first = (await client.get("/api/navigator/enrolments", params={"limit": 1}, headers=operator)).json()["next_cursor"]
    for params in ({"cursor": first[:-2] + ("AB" if not first.endswith("AB") else "CD")},
                   {"cursor": first, "state": "confirmed"}):
        r = await client.get("/api/navigator/enrolments", params={"limit": 1, **params}, headers=operator)
        assert r.status_code == 422 and r.json()["code"] == "invalid_cursor", r.text
    r = await client.get("/api/navigator/disputes", params={"cursor": first}, headers=operator)
    assert r.status_code == 422 and r.json()["code"] == "invalid_cursor"  # another list's cursor
