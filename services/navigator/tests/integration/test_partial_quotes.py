"""A search for a chosen child priced by the real billing: one module of the page that billing
cannot quote leaves only its own price empty, with billing's reason; every other result keeps its
price, and `no_copayment=true` still finds the free ones.

Both services run on the shared broker and PostgreSQL in one namespace; the navigator's quote
client calls billing's real batch quote route (in process), with the parent's own token."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from navigator_testkit import CLOCK, Bus, FixedClockSettings, certificate, eventually, module, program, provider_active
from pfdo_contracts.topics import ALL_TOPICS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings

from pfdo_billing.main import build_app as build_billing
from pfdo_billing.settings import BillingSettings
from pfdo_navigator.main import build_app as build_navigator
from pfdo_navigator.service.search import QuoteClient

pytestmark = pytest.mark.integration

PARENT = "parent-partial"
PROVIDER = uuid.uuid4()
FREE = module(price=1_500_000, title="Группа без доплаты")  # normative 18 000 ₽ covers it
LATER = module(price=1_500_000, title="Группа с октября", start=dt.date(2026, 10, 1))  # starts after the asked date
PAID = module(price=2_500_000, title="Группа с доплатой")  # over the normative: the family pays the rest
CLUB = program(provider_id=PROVIDER, title="Студия керамики", description="Лепка и гончарный круг",
               modules=[FREE, LATER, PAID])
CHILD = certificate(PARENT)


@pytest_asyncio.fixture(scope="module")
async def stack(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    billing_base = service_settings("billing", infra=infra, database_url=await databases.fresh("billing"),
                                    namespace=namespace, auth=auth, kafka_replication_factor=1)
    billing_app = build_billing(BillingSettings(**{**billing_base.model_dump(), "log_level": "WARNING"}))
    nav_base = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                                namespace=namespace, auth=auth)
    nav_settings = FixedClockSettings(**nav_base.model_dump(), jobs_interval_s=3600, facet_cache_s=0)
    async with running_app(billing_app) as billing_client:
        quotes = QuoteClient("http://billing", 5.0, transport=httpx.ASGITransport(app=billing_app))
        nav_app = build_navigator(nav_settings, quotes=quotes)
        async with Bus(infra.kafka_bootstrap, names) as bus, running_app(nav_app) as nav_client:
            yield {"billing": billing_client, "billing_app": billing_app, "navigator": nav_client,
                   "nav_app": nav_app, "bus": bus, "auth": auth}


async def _scalar(app: Any, sql: str, **params: Any) -> Any:
    async with app.state.runtime.db.transaction() as s:
        return await s.scalar(text(sql), params)


async def _open_period(stack: dict) -> None:
    operator = stack["auth"].headers("regional_operator", "op-1")
    r = await stack["billing"].post("/api/billing/periods", headers=operator,
                                    json={"starts_on": "2026-09-01", "ends_on": "2027-08-31"})
    assert r.status_code == 201, r.text
    period = r.json()["period_id"]
    r = await stack["billing"].put(f"/api/billing/periods/{period}/nominals", headers=operator, json={"nominals": [
        {"municipality_code": "01", "age_min": 5, "age_max": 17, "amount_kopecks": 3_000_000}]})
    assert r.status_code == 204, r.text
    r = await stack["billing"].post(f"/api/billing/periods/{period}/open", headers=operator)
    assert r.status_code == 200, r.text


async def _search(stack: dict, **params: Any) -> dict:
    r = await stack["navigator"].get("/api/navigator/programs", headers=stack["auth"].headers("parent", PARENT),
                                     params={"text": "керамики", "child": str(CHILD.certificate_id),
                                             "start_date": "2026-09-15", **params})
    assert r.status_code == 200, r.text
    return r.json()


async def test_one_unquotable_module_keeps_the_other_prices(stack) -> None:  # noqa: ANN001
    CLOCK["today"] = dt.date(2026, 9, 1)
    await stack["bus"].publish(*provider_active(PROVIDER), CLUB, CHILD)
    await _open_period(stack)
    module_ids = [m.module_id for m in CLUB.modules]
    await eventually(lambda: _scalar(stack["nav_app"], "SELECT count(*) = 3 FROM catalogue.entries "
                                     "WHERE program_id = :p AND visible", p=CLUB.program_id), what="navigator catalogue")
    await eventually(lambda: _scalar(stack["nav_app"], "SELECT count(*) FROM certificates WHERE certificate_id = :c",
                                     c=CHILD.certificate_id), what="navigator certificate")
    await eventually(lambda: _scalar(stack["billing_app"], "SELECT count(*) = 3 FROM modules WHERE module_id = ANY(:m)",
                                     m=module_ids), what="billing modules")
    await eventually(lambda: _scalar(stack["billing_app"], "SELECT count(*) FROM certificates WHERE certificate_id = :c",
                                     c=CHILD.certificate_id), what="billing certificate")

    page = await _search(stack)
    assert page["prices_available"] is True and page["total"] == 3
    hits = {h["module_id"]: h for h in page["items"]}
    free, later, paid = hits[str(FREE.module_id)], hits[str(LATER.module_id)], hits[str(PAID.module_id)]
    # the module that starts after the asked date: no price, billing's own code and a Russian reason
    assert later["quote"] is None
    assert later["quote_error"] == {"code": "start_outside_module",
                                    "message": "Обучение не может начаться раньше начала модуля."}
    # the others keep billing's figures
    assert free["quote_error"] is None and paid["quote_error"] is None
    assert free["quote"]["family_kopecks"] == 0 and free["quote"]["certificate_kopecks"] > 0
    assert paid["quote"]["family_kopecks"] > 0
    for hit in (free, paid):
        q = hit["quote"]
        assert q["total_cost_kopecks"] == q["certificate_kopecks"] + q["family_kopecks"]

    # the same figures as billing's batch route gives the parent directly
    direct = await stack["billing"].post(
        "/api/billing/quotes:batch", headers=stack["auth"].headers("parent", PARENT),
        json={"certificate_id": str(CHILD.certificate_id), "start_date": "2026-09-15",
              "module_ids": [str(FREE.module_id), str(PAID.module_id)]})
    assert direct.status_code == 200, direct.text
    assert [(q["cost_kopecks"], q["family_kopecks"]) for q in direct.json()["quotes"]] == [
        (free["quote"]["total_cost_kopecks"], 0), (paid["quote"]["total_cost_kopecks"], paid["quote"]["family_kopecks"])]

    # no co-payment: the free module is found; the unquotable one is not claimed to be free
    free_only = await _search(stack, no_copayment="true")
    assert free_only["prices_available"] is True
    assert [h["module_id"] for h in free_only["items"]] == [str(FREE.module_id)]
