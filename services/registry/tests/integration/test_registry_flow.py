"""The registry over the real broker and PostgreSQL: every event type goes through the outbox
to Kafka and is read back by a plain consumer; bad input answers 4xx with a code and leaves the
database unchanged; an application for a known СНИЛС is flagged for the operator, never issued twice; the expiry job is idempotent; scope rules
answer 404 for foreign resources."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from pfdo_contracts.topics import CERTIFICATES, PAYERS, PROGRAMS, PROVIDERS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics
from pfdo_testkit import new_namespace, running_app, service_settings
from pfdo_registry.domain.age import anniversary
from pfdo_registry.domain.identifiers import generate_ogrn, generate_org_inn, generate_snils
from pfdo_registry.main import build_app

pytestmark = pytest.mark.integration

RNG = random.Random(4801)
TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=3))).date()
API = "/api/registry"


class H:
    def __init__(self, client: Any, app: Any, auth: Any) -> None:
        self.client, self.app, self.auth = client, app, auth
        self.events: list[dict[str, Any]] = []

    @property
    def db(self):  # noqa: ANN201
        return self.app.state.runtime.db

    def ro(self) -> dict[str, str]:
        return self.auth.headers("regional_operator", "ro-1")

    def mo(self, muni: str = "01") -> dict[str, str]:
        return self.auth.headers("municipal_operator", f"mo-{muni}", municipality=muni)

    def parent(self, sub: str) -> dict[str, str]:
        return self.auth.headers("parent", sub)

    def provider(self, sub: str, provider_id: str | None = None) -> dict[str, str]:
        return self.auth.headers("provider", sub, provider_id=provider_id)

    async def event(self, type_: str, match: Callable[[dict[str, Any]], bool], timeout: float = 20.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for e in self.events:
                if e["type"].rsplit(".", 1)[0] == type_ and match(e["data"]):
                    return e
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {type_} event arrived")
            await asyncio.sleep(0.05)

    async def counts(self) -> dict[str, int]:
        out = {}
        async with self.db.transaction() as s:
            for table in ("children", "applications", "certificates", "providers", "programs", "modules", "audit_log"):
                out[table] = (await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()  # noqa: S608
            out["program_revisions"] = (await s.execute(text("SELECT coalesce(sum(revision), 0) FROM programs"))).scalar_one()
        return out


@pytest.fixture(scope="module")
async def h(infra, databases, auth):  # noqa: ANN001, ANN201
    namespace = new_namespace()
    names = TopicNames(namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {"registry"}, 1)
    app = build_app(service_settings("registry", infra=infra, database_url=await databases.fresh("registry"),
                                     namespace=namespace, auth=auth, kafka_replication_factor=1))
    async with running_app(app) as client:
        harness = H(client, app, auth)
        reader = AIOKafkaConsumer(*(names.name(t) for t in (CERTIFICATES, PROVIDERS, PROGRAMS, PAYERS)),
                                  bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest", group_id=None)
        await reader.start()

        async def collect() -> None:
            async for record in reader:
                harness.events.append(orjson.loads(record.value))

        task = asyncio.create_task(collect())
        await asyncio.sleep(1.0)  # let the reader take its partitions before anything is published
        for code, name in (("01", "Липецк"), ("02", "Елец")):
            r = await client.put(f"{API}/municipalities/{code}", json={"name": name}, headers=harness.ro())
            assert r.status_code == 200, r.text
        try:
            yield harness
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await reader.stop()


def child(snils: str | None = None, *, age: int = 10, muni: str = "01", surname: str = "Иванова") -> dict[str, Any]:
    born = anniversary(TODAY, -age) - dt.timedelta(days=30)
    return {"child": {"surname": surname, "first_name": "Анна", "patronymic": "Сергеевна", "birth_date": born.isoformat(),
                      "snils": snils or generate_snils(RNG), "municipality_code": muni}}


async def issue(h: H, parent: str, **kw: Any) -> dict[str, Any]:
    r = await h.client.post(f"{API}/applications", json=child(**kw), headers=h.parent(parent))
    assert r.status_code == 201, r.text
    app = r.json()
    r = await h.client.post(f"{API}/applications/{app['id']}/approve", headers=h.mo(app["municipality_code"]))
    assert r.status_code == 200, r.text
    return r.json()


async def test_application_approval_issues_a_numbered_certificate_and_publishes_it(h: H) -> None:
    r = await h.client.post(f"{API}/applications", json=child(), headers=h.parent("parent-a"))
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "pending" and app["certificate_id"] is None
    # an operator of another municipality does not see it; another parent neither
    assert (await h.client.post(f"{API}/applications/{app['id']}/approve", headers=h.mo("02"))).status_code == 404
    assert (await h.client.get(f"{API}/applications/{app['id']}", headers=h.parent("parent-b"))).status_code == 404
    r = await h.client.post(f"{API}/applications/{app['id']}/approve", headers=h.mo("01"))
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved"
    number = done["certificate_number"]
    assert len(number) == 10 and number.startswith("4801")
    again = await h.client.post(f"{API}/applications/{app['id']}/approve", headers=h.mo("01"))
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"

    issued = await h.event("pfdo.registry.certificate.issued", lambda d: d["number"] == number)
    data = issued["data"]
    assert data["parent_id"] == "parent-a" and data["status"] == "active" and data["usage_kind"] == "accounting"
    assert "surname" not in data and "snils" not in data
    cert_id = data["certificate_id"]

    mine = await h.client.get(f"{API}/certificates/{cert_id}", headers=h.parent("parent-a"))
    assert mine.status_code == 200 and mine.json()["number"] == number
    assert (await h.client.get(f"{API}/certificates/{cert_id}", headers=h.parent("parent-b"))).status_code == 404
    kids = (await h.client.get(f"{API}/children", headers=h.parent("parent-a"))).json()["items"]
    assert [k["certificate_number"] for k in kids] == [number]

    # СНИЛС is stored encrypted, never in clear
    async with h.db.transaction() as s:
        blob = (await s.execute(text("SELECT snils_encrypted FROM children WHERE id = :id"),
                                {"id": done["child_id"]})).scalar_one()
    snils = h.app.state.registry.pii.decrypt(blob)
    assert len(snils) == 11 and snils.encode() not in bytes(blob)

    # suspend, reinstate, close: each an event
    r = await h.client.post(f"{API}/certificates/{cert_id}/suspend", json={"reason": "проверка данных",
                            "reason_code": "data_verification"}, headers=h.mo("01"))
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    r = await h.client.post(f"{API}/certificates/{cert_id}/reinstate", headers=h.mo("01"))
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = await h.client.post(f"{API}/certificates/{cert_id}/close", json={"reason": "left_region"}, headers=h.mo("01"))
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = await h.client.post(f"{API}/certificates/{cert_id}/reinstate", headers=h.mo("01"))
    assert r.status_code == 409
    for t in ("suspended", "reinstated", "closed"):
        await h.event(f"pfdo.registry.certificate.{t}", lambda d: d["certificate_id"] == cert_id)
    async with h.db.transaction() as s:
        actions = (await s.execute(text("SELECT action FROM audit_log WHERE subject_id = :id ORDER BY id"),
                                   {"id": cert_id})).scalars().all()
    assert actions == ["certificate.issued", "certificate.suspended", "certificate.reinstated", "certificate.closed"]


async def test_refusal_needs_a_reason_and_keeps_the_child_free_to_apply_again(h: H) -> None:
    body = child()
    r = await h.client.post(f"{API}/applications", json=body, headers=h.parent("parent-r"))
    app = r.json()
    r = await h.client.post(f"{API}/applications/{app['id']}/refuse", json={"reason": "  "}, headers=h.mo("01"))
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    r = await h.client.post(f"{API}/applications/{app['id']}/refuse", json={"reason": "нет документов"},
                            headers=h.mo("01"))
    assert r.status_code == 200 and r.json()["status"] == "refused"
    r = await h.client.post(f"{API}/applications", json=body, headers=h.parent("parent-r"))
    assert r.status_code == 201 and r.json()["status"] == "pending"


async def test_an_application_for_a_known_snils_is_accepted_flagged_and_never_issued_twice(h: H) -> None:
    snils = generate_snils(RNG)
    done = await issue(h, "parent-d", snils=snils)
    fresh = await h.client.post(f"{API}/applications", json=child(), headers=h.parent("parent-y"))
    # the same number formatted differently is the same child; a stranger's answer tells nothing
    dashed = f"{snils[0:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
    other = await h.client.post(f"{API}/applications", json=child(dashed, surname="Чужая"), headers=h.parent("parent-x"))
    assert other.status_code == fresh.status_code == 201, other.text
    assert other.json().keys() == fresh.json().keys() and other.json()["status"] == "pending"
    assert other.json()["possible_duplicate"] is None and done["certificate_number"] not in other.text
    own = await h.client.post(f"{API}/applications", json=child(snils), headers=h.parent("parent-d"))
    assert own.status_code == 201, own.text
    # the operator sees why, and approval refuses a second live certificate
    for app in (other.json(), own.json()):
        seen = await h.client.get(f"{API}/applications/{app['id']}", headers=h.mo())
        assert seen.json()["possible_duplicate"] is True and seen.json()["duplicate_reason"] == "certificate_exists"
        r = await h.client.post(f"{API}/applications/{app['id']}/approve", headers=h.mo())
        assert r.status_code == 409 and r.json()["code"] == "certificate_duplicate", r.text
    assert (await h.client.get(f"{API}/applications/{fresh.json()['id']}", headers=h.mo())).json()["possible_duplicate"] is False


async def test_pending_applications_for_one_snils_are_both_flagged_and_the_first_approval_wins(h: H) -> None:
    snils = generate_snils(RNG)
    first = (await h.client.post(f"{API}/applications", json=child(snils, surname="Первая"), headers=h.parent("p-1"))).json()
    second = (await h.client.post(f"{API}/applications", json=child(snils), headers=h.parent("p-2"))).json()
    for app in (first, second):
        seen = (await h.client.get(f"{API}/applications/{app['id']}", headers=h.mo())).json()
        assert seen["duplicate_reason"] == "pending_application", seen
    before = await h.counts()
    results = await asyncio.gather(*(h.client.post(f"{API}/applications/{a['id']}/approve", headers=h.mo())
                                     for a in (first, second)))
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    assert (await h.counts())["certificates"] == before["certificates"] + 1


def _bad_snils() -> str:
    good = generate_snils(RNG)
    return good[:9] + f"{(int(good[9:]) + 1) % 100:02d}"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (lambda: child(_bad_snils()), "snils_checksum"),
        (lambda: child(age=4), "age_too_young"),
        (lambda: child(age=18), "age_too_old"),
        (lambda: child(muni="77"), "municipality_unknown"),
    ],
    ids=["wrong-checksum", "age-4", "age-18", "unknown-municipality"],
)
async def test_bad_applications_are_refused_and_change_nothing(h: H, body: Callable[[], dict], code: str) -> None:
    before = await h.counts()
    r = await h.client.post(f"{API}/applications", json=body(), headers=h.parent("parent-bad"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await h.counts() == before


async def test_a_child_of_13_may_not_apply_alone_but_of_14_may(h: H) -> None:
    body = child(age=13) | {"applicant_role": "child"}
    r = await h.client.post(f"{API}/applications", json=body, headers=h.parent("kid-13"))
    assert r.status_code == 422 and r.json()["code"] == "applicant_too_young"
    body = child(age=14) | {"applicant_role": "child"}
    r = await h.client.post(f"{API}/applications", json=body, headers=h.parent("kid-14"))
    assert r.status_code == 201


async def test_expiry_job_expires_adults_once(h: H) -> None:
    done = await issue(h, "parent-e", age=17)
    cert_id = done["certificate_id"]
    born = anniversary(TODAY, -18)  # the 18th birthday is today
    async with h.db.transaction() as s:
        await s.execute(text("UPDATE children SET birth_date = :b WHERE id = :c"), {"b": born, "c": done["child_id"]})
        await s.execute(text("UPDATE certificates SET valid_until = :v, expires_on = :e WHERE id = :id"),
                        {"v": born.replace(year=born.year + 18) - dt.timedelta(days=1), "e": TODAY, "id": cert_id})
    assert (await h.client.post(f"{API}/jobs/expire-certificates", headers=h.parent("p"))).status_code == 403
    r = await h.client.post(f"{API}/jobs/expire-certificates", headers=h.ro())
    assert r.status_code == 200 and r.json()["expired"] >= 1
    expired = await h.event("pfdo.registry.certificate.expired", lambda d: d["certificate_id"] == cert_id)
    assert expired["data"]["expired_on"] == TODAY.isoformat()
    before = await h.counts()
    r = await h.client.post(f"{API}/jobs/expire-certificates", headers=h.auth.headers("service", "cron"))
    assert r.status_code == 200 and r.json() == {"expired": 0}
    assert await h.counts() == before
    got = await h.client.get(f"{API}/certificates/{cert_id}", headers=h.parent("parent-e"))
    assert got.json()["status"] == "expired"


async def test_lookup_by_number_and_surname_answers_minimal_data(h: H) -> None:
    done = await issue(h, "parent-l", surname="Петров")
    number = done["certificate_number"]
    prov = h.provider("staff-1", str(uuid.uuid4()))
    r = await h.client.get(f"{API}/certificates/lookup", params={"number": number, "surname": "петров"}, headers=prov)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["certificate_id"] == str(done["certificate_id"]) and body["status"] == "active"
    assert "surname" not in body and "snils" not in body and "birth_date" not in body
    r = await h.client.get(f"{API}/certificates/lookup", params={"number": number, "surname": "Сидоров"}, headers=prov)
    assert r.status_code == 404
    r = await h.client.get(f"{API}/certificates/lookup", params={"number": number, "surname": "Петров"},
                           headers=h.parent("parent-l"))
    assert r.status_code == 403
    # the same check with the personal data in the body, out of the URL
    r = await h.client.post(f"{API}/certificates/lookup", json={"number": number, "surname": "петров"}, headers=prov)
    assert r.status_code == 200 and r.json() == body, r.text
    r = await h.client.post(f"{API}/certificates/lookup", json={"number": number, "surname": "Сидоров"}, headers=prov)
    assert r.status_code == 404


def provider_body(muni: str = "01", **over: Any) -> dict[str, Any]:
    inn = generate_org_inn(RNG, region="48")
    return {"provider_type": "private_org", "name": "ООО «Робототехника»", "inn": inn,
            "ogrn": generate_ogrn(RNG, region="48"), "kpp": f"{inn[:4]}01001", "municipality_code": muni,
            "address": "г. Липецк, ул. Ленина, 1", **BANK} | over


BANK = {"bank_name": "ПАО Сбербанк", "bik": "044525225", "settlement_account": "40702810938000000001",
        "correspondent_account": "30101810400000000225"}
OTHER_BANK = {"bank_name": "Банк ВТБ (ПАО)", "bik": "044525187", "settlement_account": "40702810200000000187",
              "correspondent_account": "30101810700000000187"}


def module_body(**over: Any) -> dict[str, Any]:
    return {"name": "Модуль 1", "min_age": 7, "max_age": 12, "municipality_code": "01", "address": "ул. Мира, 5",
            "schedule": [{"weekday": 2, "starts_at": "15:00", "ends_at": "16:30"}], "hours": 64,
            "start_date": "2026-09-01", "end_date": "2027-05-31", "capacity": 12, "price_kopecks": 3_600_000,
            "funding_kind": "certificate"} | over


async def test_provider_registration_validation_and_moderation(h: H) -> None:
    pid = str(uuid.uuid4())
    staff = h.provider("owner-1", pid)
    before = await h.counts()
    for over, code in (({"inn": "7707083894"[:-1] + "5"}, "inn_checksum"), ({"bik": "04420600"}, "bik_length"),
                       ({"settlement_account": "4070281000000000000X"}, "account_format"),
                       ({"settlement_account": "40702810938000000002"}, "account_checksum"),
                       ({"correspondent_account": "30101810500000000225"}, "correspondent_account_checksum"),
                       ({"bank_name": "  "}, "bank_name_required"),
                       ({"municipality_code": "77"}, "municipality_unknown"), ({"kpp": None}, "kpp_required")):
        r = await h.client.post(f"{API}/providers", json=provider_body(**over), headers=staff)
        assert r.status_code == 422, (over, r.text)
        assert r.json()["code"] == code
    assert await h.counts() == before
    r = await h.client.post(f"{API}/providers", json=provider_body(), headers=staff)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == pid and r.json()["status"] == "new"
    assert r.json()["correspondent_account"] == BANK["correspondent_account"] and r.json()["details_revision"] == 1
    registered = await h.event("pfdo.registry.provider.registered", lambda d: d["provider_id"] == pid)
    details = registered["data"]["details"]
    assert details["revision"] == 1 and details["title"] == "ООО «Робототехника»" and details["bik"] == BANK["bik"]
    assert details["account"] == BANK["settlement_account"] and details["kpp"] == r.json()["kpp"]
    r = await h.client.post(f"{API}/providers/{pid}/refuse", json={}, headers=h.mo("01"))
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    assert (await h.client.post(f"{API}/providers/{pid}/approve", headers=h.mo("02"))).status_code == 404
    r = await h.client.post(f"{API}/providers/{pid}/approve", headers=h.mo("01"))
    assert r.status_code == 200 and r.json()["status"] == "active"
    changed = await h.event("pfdo.registry.provider.status_changed", lambda d: d["provider_id"] == pid)
    assert changed["data"]["new_status"] == "active" and changed["data"]["reason"] == "moderation_passed"
    # a parent sees the active provider without its bank details
    seen = (await h.client.get(f"{API}/providers/{pid}", headers=h.parent("anyone"))).json()
    assert seen["bik"] is None and seen["settlement_account"] is None and seen["correspondent_account"] is None


async def test_a_provider_or_its_operator_changes_the_payee_details(h: H) -> None:
    pid = str(uuid.uuid4())
    staff = h.provider("owner-bank", pid)
    assert (await h.client.post(f"{API}/providers", json=provider_body(), headers=staff)).status_code == 201
    url = f"{API}/providers/{pid}/bank-details"
    before = await h.counts()
    for over, code in (({"settlement_account": "40702810200000000188"}, "account_checksum"),
                       ({"correspondent_account": "30101810800000000187"}, "correspondent_account_checksum"),
                       ({"bik": "04452518X"}, "bik_format"), ({"bank_name": ""}, "bank_name_required")):
        r = await h.client.put(url, json=OTHER_BANK | over, headers=staff)
        assert r.status_code == 422 and r.json()["code"] == code, (over, r.text)
    assert await h.counts() == before
    # strangers: another provider, an operator of another municipality, a parent
    assert (await h.client.put(url, json=OTHER_BANK, headers=h.provider("someone", str(uuid.uuid4())))).status_code == 404
    assert (await h.client.put(url, json=OTHER_BANK, headers=h.mo("02"))).status_code == 404
    assert (await h.client.put(url, json=OTHER_BANK, headers=h.parent("p"))).status_code == 403
    r = await h.client.put(url, json=OTHER_BANK, headers=staff)
    assert r.status_code == 200, r.text
    assert r.json()["bik"] == OTHER_BANK["bik"] and r.json()["details_revision"] == 2
    changed = await h.event("pfdo.registry.provider.details_changed", lambda d: d["provider_id"] == pid)
    assert changed["data"]["details"]["revision"] == 2 and changed["data"]["details"]["account"] == "40702810200000000187"
    # the same details again change nothing; the municipality's operator may change them back
    assert (await h.client.put(url, json=OTHER_BANK, headers=staff)).json()["details_revision"] == 2
    r = await h.client.put(url, json=BANK, headers=h.mo("01"))
    assert r.status_code == 200 and r.json()["details_revision"] == 3
    await h.event("pfdo.registry.provider.details_changed",
                  lambda d: d["provider_id"] == pid and d["details"]["revision"] == 3)
    revisions = [e["data"]["details"]["revision"] for e in h.events
                 if e["type"].startswith("pfdo.registry.provider.details_changed") and e["data"]["provider_id"] == pid]
    assert revisions == [2, 3]


async def test_the_regional_operator_sets_the_payer_details_of_a_municipality(h: H) -> None:
    inn = generate_org_inn(RNG, region="48")
    body = {"authority_name": "Управление образования администрации города Ельца", "inn": inn,
            "kpp": f"{inn[:4]}01001", **BANK}
    url = f"{API}/municipalities/02/payer"
    for over, code in (({"inn": inn[:-1] + str((int(inn[-1]) + 1) % 10)}, "inn_checksum"),
                       ({"kpp": "48X"}, "kpp_length"), ({"authority_name": " "}, "authority_name_required"),
                       ({"settlement_account": "40702810938000000011"}, "account_checksum")):
        r = await h.client.put(url, json=body | over, headers=h.ro())
        assert r.status_code == 422 and r.json()["code"] == code, (over, r.text)
    assert (await h.client.put(url, json=body, headers=h.mo("02"))).status_code == 403
    assert (await h.client.put(f"{API}/municipalities/55/payer", json=body, headers=h.ro())).status_code == 404
    r = await h.client.put(url, json=body, headers=h.ro())
    assert r.status_code == 200, r.text
    payer = r.json()["payer"]
    assert payer["inn"] == inn and payer["revision"] == 1 and payer["correspondent_account"] == BANK["correspondent_account"]
    event = await h.event("pfdo.registry.payer.details_changed", lambda d: d["municipality_code"] == "02")
    assert event["data"]["details"] == {
        "title": body["authority_name"], "inn": inn, "kpp": body["kpp"], "bank_title": BANK["bank_name"],
        "bik": BANK["bik"], "account": BANK["settlement_account"],
        "correspondent_account": BANK["correspondent_account"], "revision": 1}
    # the list shows it to every reader; renaming the municipality keeps the payer
    r = await h.client.put(f"{API}/municipalities/02", json={"name": "Елец"}, headers=h.ro())
    assert r.json()["payer"]["revision"] == 1
    listed = (await h.client.get(f"{API}/municipalities", headers=h.parent("anyone"))).json()["items"]
    assert {m["code"]: m["payer"] and m["payer"]["inn"] for m in listed}["02"] == inn
    r = await h.client.put(url, json=body | OTHER_BANK, headers=h.ro())
    assert r.json()["payer"]["revision"] == 2 and r.json()["payer"]["bik"] == OTHER_BANK["bik"]
    await h.event("pfdo.registry.payer.details_changed",
                  lambda d: d["municipality_code"] == "02" and d["details"]["revision"] == 2)


async def test_program_certification_edit_and_archive_publish_snapshots(h: H) -> None:
    pid = str(uuid.uuid4())
    staff = h.provider("owner-2", pid)
    assert (await h.client.post(f"{API}/providers", json=provider_body(), headers=staff)).status_code == 201
    r = await h.client.post(f"{API}/programs", json={"name": "Робототехника", "direction": "technical",
                                                     "modules": [module_body()]}, headers=staff)
    assert r.status_code == 201, r.text
    prog = r.json()
    prog_id, mod_id = prog["id"], prog["modules"][0]["id"]
    # a provider not yet active may not submit
    r = await h.client.post(f"{API}/programs/{prog_id}/submit", headers=staff)
    assert r.status_code == 422 and r.json()["code"] == "provider_not_active"
    await h.client.post(f"{API}/providers/{pid}/approve", headers=h.mo("01"))
    assert (await h.client.post(f"{API}/programs/{prog_id}/submit", headers=staff)).json()["status"] == "submitted"
    r = await h.client.post(f"{API}/programs/{prog_id}/certify", headers=h.mo("01"))
    assert r.status_code == 422 and r.json()["code"] == "normative_cost_missing"
    r = await h.client.put(f"{API}/programs/{prog_id}/modules/{mod_id}/normative-cost",
                           json={"normative_cost_kopecks": 3_300_000}, headers=h.mo("01"))
    assert r.status_code == 200
    r = await h.client.post(f"{API}/programs/{prog_id}/certify", headers=h.mo("01"))
    assert r.status_code == 200 and r.json()["status"] == "certified"
    cert = await h.event("pfdo.registry.program.certified", lambda d: d["program_id"] == prog_id)
    assert cert["data"]["modules"][0]["normative_cost_kopecks"] == 3_300_000
    assert cert["data"]["direction"] == "technical" and cert["data"]["age_min"] == 7

    # another provider can neither see the draft history nor edit it; nothing changes
    other = h.provider("owner-3", str(uuid.uuid4()))
    before = await h.counts()
    r = await h.client.put(f"{API}/programs/{prog_id}/modules/{mod_id}", json=module_body(capacity=99), headers=other)
    assert r.status_code == 404
    assert (await h.client.patch(f"{API}/programs/{prog_id}", json={"name": "X"}, headers=other)).status_code == 404
    assert await h.counts() == before
    # a bad module is refused with its code and changes nothing
    r = await h.client.put(f"{API}/programs/{prog_id}/modules/{mod_id}", json=module_body(min_age=4), headers=staff)
    assert r.status_code == 422 and r.json()["code"] == "age_range_invalid"
    assert await h.counts() == before

    # editing a certified module sends it back to submitted: ProgramChanged with a higher revision
    r = await h.client.put(f"{API}/programs/{prog_id}/modules/{mod_id}", json=module_body(capacity=15), headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    changed = await h.event("pfdo.registry.program.changed", lambda d: d["program_id"] == prog_id)
    assert changed["data"]["state"] == "submitted" and changed["data"]["revision"] > cert["data"]["revision"]
    assert changed["data"]["modules"][0]["capacity"] == 15

    await h.client.put(f"{API}/programs/{prog_id}/modules/{mod_id}/normative-cost",
                       json={"normative_cost_kopecks": 3_400_000}, headers=h.mo("01"))
    assert (await h.client.post(f"{API}/programs/{prog_id}/certify", headers=h.ro())).status_code == 200
    r = await h.client.post(f"{API}/programs/{prog_id}/archive", headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "archived"
    archived = await h.event("pfdo.registry.program.archived", lambda d: d["program_id"] == prog_id)
    assert archived["data"]["revision"] > changed["data"]["revision"]
    hist = (await h.client.get(f"{API}/programs/{prog_id}/history", headers=staff)).json()["items"]
    assert [x["action"] for x in hist] == ["submit", "certify", "update_module", "certify", "archive"]


async def test_every_list_pages_with_limit_and_a_signed_cursor(h: H) -> None:
    """One page at a time gives every item of the whole list once, in its order; a cursor altered,
    or made for other filters, is refused with 422 invalid_cursor; limits out of range with 422."""
    staff = h.provider("owner-paging", str(uuid.uuid4()))
    assert (await h.client.post(f"{API}/providers", json=provider_body(), headers=staff)).status_code == 201
    for name in ("Шахматы", "Хоровая студия"):
        r = await h.client.post(f"{API}/programs", json={"name": name, "direction": "artistic",
                                                         "modules": [module_body()]}, headers=staff)
        assert r.status_code == 201, r.text
    for path in ("/applications", "/certificates", "/providers", "/programs", "/municipalities"):
        whole = (await h.client.get(f"{API}{path}", params={"limit": 200}, headers=h.ro())).json()
        assert whole["next_cursor"] is None and len(whole["items"]) >= 2, (path, whole)
        paged, cursor = [], None
        while True:
            page = (await h.client.get(f"{API}{path}", headers=h.ro(),
                                       params={"limit": 1, **({"cursor": cursor} if cursor else {})})).json()
            assert len(page["items"]) <= 1
            paged.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        key = "code" if path == "/municipalities" else "id"
        assert [i[key] for i in paged] == [i[key] for i in whole["items"]], path
        first = (await h.client.get(f"{API}{path}", params={"limit": 1}, headers=h.ro())).json()["next_cursor"]
        tampered = first[:-3] + ("AAA" if not first.endswith("AAA") else "BBB")
        for params in ({"limit": 1, "cursor": tampered}, {"limit": 1, "cursor": "not a cursor"}):
            r = await h.client.get(f"{API}{path}", params=params, headers=h.ro())
            assert r.status_code == 422 and r.json()["code"] == "invalid_cursor", (path, r.text)
        for limit in (0, 10_001, 2**64):
            assert (await h.client.get(f"{API}{path}", params={"limit": limit}, headers=h.ro())).status_code == 422
    first = (await h.client.get(f"{API}/providers", params={"limit": 1}, headers=h.ro())).json()["next_cursor"]
    other = await h.client.get(f"{API}/providers", params={"limit": 1, "cursor": first, "status": "active"},
                               headers=h.ro())
    assert other.status_code == 422 and other.json()["code"] == "invalid_cursor"


async def test_a_certificate_funded_module_with_price_zero_is_refused_on_create_add_and_update(h: H) -> None:
    pid = str(uuid.uuid4())
    staff = h.provider("owner-price", pid)
    assert (await h.client.post(f"{API}/providers", json=provider_body(), headers=staff)).status_code == 201
    before = await h.counts()
    r = await h.client.post(f"{API}/programs", json={"name": "Шахматы", "direction": "physical_sports",
                                                     "modules": [module_body(price_kopecks=0)]}, headers=staff)
    assert r.status_code == 422 and r.json()["code"] == "price_must_be_positive", r.text
    assert "больше нуля" in r.json()["detail"]
    assert await h.counts() == before
    # a free municipal-task place may cost 0
    r = await h.client.post(f"{API}/programs", json={"name": "Шахматы", "direction": "physical_sports", "modules": [
        module_body(price_kopecks=0, funding_kind="municipal_task")]}, headers=staff)
    assert r.status_code == 201, r.text
    prog_id, mod_id = r.json()["id"], r.json()["modules"][0]["id"]
    before = await h.counts()
    r = await h.client.post(f"{API}/programs/{prog_id}/modules", json=module_body(price_kopecks=0), headers=staff)
    assert r.status_code == 422 and r.json()["code"] == "price_must_be_positive", r.text
    r = await h.client.put(f"{API}/programs/{prog_id}/modules/{mod_id}",
                           json=module_body(price_kopecks=0, funding_kind="certificate"), headers=staff)
    assert r.status_code == 422 and r.json()["code"] == "price_must_be_positive", r.text
    assert await h.counts() == before
    r = await h.client.put(f"{API}/programs/{prog_id}/modules/{mod_id}", json=module_body(price_kopecks=100),
                           headers=staff)
    assert r.status_code == 200, r.text
