"""The municipality's number of children (optional, kept when a rename leaves it out) and the
operators' dashboard figures, counted by the registry on the real PostgreSQL: applications and
certificates issued per day, certificates in force per municipality beside its children; a
municipal operator gets its own municipality only, a parent is refused."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings
from pfdo_registry.domain.age import anniversary
from pfdo_registry.domain.identifiers import generate_snils
from pfdo_registry.main import build_app

pytestmark = pytest.mark.integration

RNG = random.Random(2025)
API = "/api/registry"


@pytest.fixture(scope="module")
async def client(infra, databases, auth) -> AsyncIterator[Any]:  # noqa: ANN001
    namespace = new_namespace()
    await ensure_topics(infra.kafka_bootstrap, TopicNames(namespace), {"registry"}, 1)
    app = build_app(service_settings("registry", infra=infra, database_url=await databases.fresh("registry"),
                                     namespace=namespace, auth=auth, kafka_replication_factor=1))
    async with running_app(app) as c:
        c.ro = auth.headers("regional_operator", "ro-1")
        c.mo = lambda muni: auth.headers("municipal_operator", f"mo-{muni}", municipality=muni)
        c.parent = auth.headers("parent", "parent-stat")
        yield c


def child(muni: str, today: dt.date) -> dict[str, Any]:
    born = anniversary(today, -9) - dt.timedelta(days=40)
    return {"child": {"surname": "Петрова", "first_name": "Мария", "birth_date": born.isoformat(),
                      "snils": generate_snils(RNG), "municipality_code": muni}}


async def test_a_municipality_keeps_its_number_of_children_until_it_is_changed_or_cleared(client) -> None:  # noqa: ANN001
    r = await client.put(f"{API}/municipalities/03", json={"name": "Данков"}, headers=client.ro)
    assert r.status_code == 200, r.text
    assert r.json()["children_count"] is None
    r = await client.put(f"{API}/municipalities/03", json={"name": "Данков", "children_count": 4200}, headers=client.ro)
    assert r.status_code == 200 and r.json()["children_count"] == 4200, r.text
    # a rename that leaves the figure out keeps it; the list shows it
    r = await client.put(f"{API}/municipalities/03", json={"name": "город Данков"}, headers=client.ro)
    assert r.json() == {"code": "03", "name": "город Данков", "region_code": r.json()["region_code"],
                        "children_count": 4200, "payer": None}
    listed = (await client.get(f"{API}/municipalities", headers=client.parent)).json()["items"]
    assert [m["children_count"] for m in listed if m["code"] == "03"] == [4200]
    # a negative figure is refused; null clears it
    r = await client.put(f"{API}/municipalities/03", json={"name": "Данков", "children_count": -1}, headers=client.ro)
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    r = await client.put(f"{API}/municipalities/03", json={"name": "Данков", "children_count": None}, headers=client.ro)
    assert r.json()["children_count"] is None
    # only the regional operator sets it
    r = await client.put(f"{API}/municipalities/03", json={"name": "Данков", "children_count": 1}, headers=client.mo("03"))
    assert r.status_code == 403


async def test_the_dashboard_figures_count_applications_certificates_and_children_covered(client) -> None:  # noqa: ANN001
    for code, name, children in (("01", "Липецк", 1000), ("02", "Елец", None)):
        body = {"name": name} if children is None else {"name": name, "children_count": children}
        assert (await client.put(f"{API}/municipalities/{code}", json=body, headers=client.ro)).status_code == 200
    before = (await client.get(f"{API}/statistics", params={"days": 7}, headers=client.ro)).json()
    today = dt.date.fromisoformat(before["to_date"])
    assert dt.date.fromisoformat(before["from_date"]) == today - dt.timedelta(days=6)
    assert [d["day"] for d in before["days"]] == [(today - dt.timedelta(days=6 - i)).isoformat() for i in range(7)]

    # three applications in 01 (two approved), one in 02 (pending)
    ids = []
    for muni in ("01", "01", "01", "02"):
        r = await client.post(f"{API}/applications", json=child(muni, today), headers=client.parent)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for application_id in ids[:2]:
        r = await client.post(f"{API}/applications/{application_id}/approve", headers=client.mo("01"))
        assert r.status_code == 200, r.text

    region = (await client.get(f"{API}/statistics", params={"days": 7}, headers=client.ro)).json()
    assert region["municipality_code"] is None
    last, first_before = region["days"][-1], before["days"][-1]
    assert last["applications"] - first_before["applications"] == 4
    assert last["certificates_issued"] - first_before["certificates_issued"] == 2
    by_code = {m["code"]: m for m in region["municipalities"]}
    assert by_code["01"]["children_count"] == 1000 and by_code["01"]["certificates_active"] == 2
    assert by_code["02"]["children_count"] is None and by_code["02"]["certificates_active"] == 0

    # the municipal operator of 02 sees 02 only, whatever it asks for
    own = (await client.get(f"{API}/statistics", params={"municipality": "01"}, headers=client.mo("02"))).json()
    assert own["municipality_code"] == "02" and [m["code"] for m in own["municipalities"]] == ["02"]
    assert own["days"][-1]["applications"] == 1 and own["days"][-1]["certificates_issued"] == 0
    assert len(own["days"]) == 30  # the default window

    # a parent is refused; a window beyond a year is malformed
    assert (await client.get(f"{API}/statistics", headers=client.parent)).status_code == 403
    assert (await client.get(f"{API}/statistics", params={"days": 400}, headers=client.ro)).status_code == 422
