"""Personal data stays in the registry: nothing personal on finance-facing topics, nothing in the
logs, СНИЛС encrypted at rest with a keyed hash for the duplicate search; and the audit log
records who changed a status, when, under which request id."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from pfdo_contracts.topics import ALL_TOPICS
from pfdo_plumbing.auth.principal import Role
from pfdo_plumbing.kafka.topics import TopicNames
from pfdo_plumbing.logging import PERSONAL_KEYS, SNILS_LIKE
from pfdo_testkit import plain_dsn

from ._world import World, build_registry_part, new_world

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
FINANCE_TOPICS = [t for t in ALL_TOPICS if t.finance_facing]
PHONE = re.compile(r"(\+7|\b8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@pytest.fixture(scope="module")
def flow(sec_platform, sec_auth) -> World:  # noqa: ANN001
    """A short real flow: two children with certificates, two providers with certified programs,
    and a billing period opened for the children's municipality (credits go to the ledger)."""
    world = new_world(sec_auth, sec_platform.gateway_url)
    build_registry_part(world)
    ro = world.headers(Role.REGIONAL_OPERATOR)
    today = dt.date.today()
    start = dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    with world.client() as c:
        r = c.post("/api/billing/periods", headers=ro,
                   json={"starts_on": start.isoformat(), "ends_on": dt.date(start.year + 1, 8, 31).isoformat()})
        if world.record("billing: period", r):
            period = r.json()["period_id"]
            world.record("billing: nominals", c.put(f"/api/billing/periods/{period}/nominals", headers=ro, json={
                "nominals": [{"municipality_code": s.municipality, "age_min": 5, "age_max": 17, "amount_kopecks": 2_000_000}
                             for s in world.sides.values()]}))
            world.record("billing: open", c.post(f"/api/billing/periods/{period}/open", headers=ro))
    print("\nflow:", *(f"{s}: {o}" for s, o in world.steps), sep="\n  ")
    return world


def personal_values(world: World) -> list[str]:
    values = []
    for side in world.sides.values():
        d = side.snils
        values += [side.surname, d, f"{d[:3]}-{d[3:6]}-{d[6:9]} {d[9:]}", f"{d[:3]}-{d[3:6]}-{d[6:9]}-{d[9:]}"]
    return values


def scan(obj: object, where: str, values: list[str]) -> list[str]:
    """Personal field names, СНИЛС-like numbers, phones, e-mails and the flow's own personal values."""
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, str) and PERSONAL_KEYS.search(key):
                found.append(f"{where}: personal field {key!r}")
            found += scan(value, f"{where}.{key}", values)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            found += scan(value, f"{where}[{i}]", values)
    elif isinstance(obj, str):
        for pattern, label in ((SNILS_LIKE, "СНИЛС-like number"), (PHONE, "phone number"), (EMAIL, "e-mail")):
            if pattern.search(obj):
                found.append(f"{where}: {label} in {obj[:80]!r}")
        found += [f"{where}: the flow's personal value {v!r}" for v in values if v in obj]
    return found


async def consume_all(bootstrap: str, topics: list[str], idle_s: float = 3.0, max_s: float = 30.0) -> list:
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    messages = []
    try:
        deadline = time.monotonic() + max_s
        idle_since = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - idle_since < idle_s:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                messages.extend(records)
                idle_since = time.monotonic()
    finally:
        await consumer.stop()
    return messages


async def test_finance_facing_topics_carry_no_personal_data(sec_platform, flow: World) -> None:  # noqa: ANN001
    assert FINANCE_TOPICS, "no topic is marked finance_facing in the contracts"
    names = TopicNames(sec_platform.namespace)
    topics = [names.name(t) for t in FINANCE_TOPICS]
    values = personal_values(flow)
    messages: list = []
    deadline = time.monotonic() + 30
    while not messages and time.monotonic() < deadline:  # the relay publishes after the commit
        messages = await consume_all(sec_platform.kafka_bootstrap, topics)
    by_topic: dict[str, int] = {}
    problems: list[str] = []
    for m in messages:
        by_topic[m.topic] = by_topic.get(m.topic, 0) + 1
        where = f"{m.topic}@{m.partition}:{m.offset}"
        key = m.key.decode(errors="replace") if m.key else ""
        problems += scan(key, f"{where} key", values)
        for name, header in m.headers or []:
            problems += scan({name: header.decode(errors="replace")}, f"{where} header", values)
        problems += scan(json.loads(m.value), f"{where} value", values)
    print(f"\nfinance-facing events scanned: {len(messages)} {by_topic}")
    assert messages, f"no event reached the finance-facing topics {topics} during the flow: nothing was checked"
    assert not problems, "\n".join(problems[:50])


def test_service_logs_contain_no_personal_values(sec_platform, flow: World) -> None:  # noqa: ANN001
    values = personal_values(flow)
    files = [p.log_file for p in sec_platform.processes.values()] + [sec_platform.gateway.access_log]
    problems = []
    lines = 0
    for path in files:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            lines += 1
            problems += [f"{path.name}:{number}: {v!r}" for v in values if v in line]
    print(f"\nlog lines scanned: {lines} in {len(files)} files")
    assert lines > 0
    assert not problems, "\n".join(problems[:50])


async def test_snils_is_stored_encrypted_and_found_by_its_keyed_hash(sec_platform, flow: World) -> None:  # noqa: ANN001
    side = flow.sides["A"]
    conn = await asyncpg.connect(plain_dsn(sec_platform.databases["registry"]))
    try:
        tables = [r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
        hits, surname_rows = [], 0
        for table in tables:
            for row in await conn.fetch(f'SELECT t::text AS t FROM "{table}" t'):
                text = row["t"]
                if side.snils in text or side.snils[:9] in text:
                    hits.append(f"{table}: {text[:200]}")
                surname_rows += side.surname in text
        assert surname_rows, "the flow's child is not in the registry database: nothing was checked"
        assert not hits, "plain СНИЛС in the registry database:\n" + "\n".join(hits)
        bytea = await conn.fetch("SELECT table_name, column_name FROM information_schema.columns "
                                 "WHERE table_schema = 'public' AND data_type = 'bytea' AND column_name ILIKE '%snils%'")
        assert len(bytea) >= 2, f"expected an encrypted СНИЛС column and a keyed-hash column, found {bytea}"
    finally:
        await conn.close()
    # the keyed hash finds the duplicate: a second application for the same СНИЛС by another parent
    # is accepted like any other (it reveals nobody) and flagged for the operator
    with flow.client() as c:
        r = c.post("/api/registry/applications", headers=flow.auth.headers("parent", f"other-{uuid.uuid4().hex[:6]}"),
                   json={"child": {"surname": "Другая", "first_name": "Ия", "birth_date": "2015-01-01",
                                   "snils": side.snils, "municipality_code": side.municipality}})
        assert r.status_code == 201 and r.json()["possible_duplicate"] is None, r.text
        assert side.surname not in r.text and side.snils not in r.text
        seen = c.get(f"/api/registry/applications/{r.json()['id']}",
                     headers=flow.headers(Role.MUNICIPAL_OPERATOR, "A"))
    assert seen.json()["duplicate_reason"] == "certificate_exists", seen.text


def test_status_change_leaves_an_audit_row_with_who_what_when_and_request_id(flow: World) -> None:
    certificate = flow.params["certificate_id"]["B"]  # side B: the access matrix never acts on it
    mo = flow.identity(Role.MUNICIPAL_OPERATOR, "B")
    request_id = f"audit-{uuid.uuid4().hex[:12]}"
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    with flow.client() as c:
        r = c.post(f"/api/registry/certificates/{certificate}/suspend", headers={**flow.headers(mo.role, "B"),
                   "X-Request-ID": request_id}, json={"reason": "Проверка документов"})
        assert r.status_code == 200 and r.json()["status"] == "suspended", r.text
        query = {"subject_type": "certificate", "subject_id": certificate}
        rows = c.get("/api/registry/audit", params=query, headers=flow.headers(mo.role, "B"))
        assert rows.status_code == 200, rows.text
        entries = [e for e in rows.json()["items"] if e["request_id"] == request_id]
        assert len(entries) == 1, rows.json()
        entry = entries[0]
        assert (entry["actor_sub"], entry["actor_role"]) == (mo.sub, "municipal_operator")
        assert "suspend" in entry["action"] and entry["municipality_code"] == mo.municipality
        at = dt.datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
        assert before <= at <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
        assert flow.sides["B"].surname not in json.dumps(entry) and flow.sides["B"].snils not in json.dumps(entry)
        # readable by the regional operator; not by the other municipality's operator, nor by a parent
        everywhere = c.get("/api/registry/audit", params=query, headers=flow.headers(Role.REGIONAL_OPERATOR))
        assert any(e["request_id"] == request_id for e in everywhere.json()["items"])
        other = c.get("/api/registry/audit", params=query, headers=flow.headers(Role.MUNICIPAL_OPERATOR, "A"))
        assert other.status_code == 200 and other.json() == {"items": [], "next_cursor": None}
        assert c.get("/api/registry/audit", headers=flow.headers(Role.PARENT, "B")).status_code == 403
