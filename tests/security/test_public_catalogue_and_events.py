"""The anonymous catalogue and the status push, through the real nginx gateway in front of the real
navigator (over real Kafka and PostgreSQL; the registry's and billing's events are published on the
bus as those services would).

* Without a token: search (with its facets) and a program's page answer 200 with public fields
  only; the cost for a child (``child=``) is refused with 401; a bad token is still refused.
* Server-Sent Events: a parent sees their enrolment go requested -> reserved (billing's answer)
  -> confirmed (the provider) as it happens; a reconnect with ``Last-Event-ID`` gets exactly the
  events missed; another parent sees none of them; the provider sees its organisation's; the
  streams end cleanly when the service stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from pfdo_contracts.common import ScheduleSlot
from pfdo_contracts.envelope import Event, wrap
from pfdo_contracts.events import billing as b
from pfdo_contracts.events import registry as g
from pfdo_contracts.topics import ALL_TOPICS
from pfdo_plumbing.kafka.topics import TopicNames, ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PUBLIC_HIT_FIELDS = {
    "module_id", "program_id", "provider_id", "title", "module_title", "description", "direction",
    "municipality_code", "venue_address", "age_min", "age_max", "funding_kind", "start_date", "end_date", "schedule",
    "lessons_per_week", "hours", "capacity", "free_seats", "price_kopecks", "rating_score", "rating_count",
    "certified_on", "relevance", "quote", "quote_error",
}
PRIVATE_KEYS = {"parent_id", "certificate_id", "birth_date", "number", "snils", "surname", "first_name",
                "enrolment_id", "family_kopecks", "certificate_kopecks", "reserved_kopecks", "held"}


def keys_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


class EventStream:
    """A Server-Sent Events client: events (id, event, data) and comments, read as they come."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.comments = 0
        self.response: httpx.Response | None = None
        self.ended = asyncio.Event()
        self.connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def open(self, last_event_id: int | None = None) -> EventStream:
        headers = dict(self.headers)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._task = asyncio.create_task(self._read(headers))
        await asyncio.wait_for(self.connected.wait(), 15)
        return self

    async def _read(self, headers: dict[str, str]) -> None:
        try:
            async with self.client.stream("GET", "/api/navigator/me/events", headers=headers,
                                          timeout=httpx.Timeout(10, read=60)) as response:
                self.response = response
                current: dict[str, Any] = {}
                async for line in response.aiter_lines():
                    if line.startswith("retry:"):
                        self.connected.set()
                    elif line.startswith(":"):
                        self.comments += 1
                    elif line == "":
                        if "data" in current:
                            await self.events.put(current)
                        current = {}
                    else:
                        name, _, value = line.partition(":")
                        current[name] = value.strip()
                        if name == "data":
                            current["data"] = orjson.loads(value)
        finally:
            self.connected.set()
            self.ended.set()

    async def next(self, timeout: float = 20) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


@contextlib.asynccontextmanager
async def publisher(bootstrap: str, names: TopicNames) -> AsyncIterator[Any]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()

    async def publish(*events: Event) -> None:
        for event in events:
            source = {"registry": "pfdo/registry", "billing": "pfdo/billing"}[event.event_type.split(".")[1]]
            envelope = wrap(event, source=source, correlation_id=f"test-{uuid.uuid4().hex[:8]}")
            await producer.send_and_wait(names.name(event.topic), value=orjson.dumps(envelope.model_dump(mode="json")),
                                         key=event.partition_key().encode())

    try:
        yield publish
    finally:
        await producer.stop()


async def eventually(probe: Any, timeout: float = 30.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected state was not reached in time")
        await asyncio.sleep(0.2)


async def test_anonymous_catalogue_and_status_events_through_the_gateway(platform_factory, auth, infra) -> None:  # noqa: ANN001, C901, PLR0915
    platform = await platform_factory(
        services=("navigator",), db_prefix="pub",
        service_env={"navigator": {"PFDO_EVENTS_HEARTBEAT_S": "1", "PFDO_FEED_POLL_S": "0.5"}},
    )
    names = TopicNames(platform.namespace)
    await ensure_topics(infra.kafka_bootstrap, names, {t.producer for t in ALL_TOPICS}, 1)
    today = dt.date.today()
    provider_id, program_id, module_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cert_a, cert_b = uuid.uuid4(), uuid.uuid4()
    parent_a, parent_b = f"pub-parent-a-{uuid.uuid4().hex[:6]}", f"pub-parent-b-{uuid.uuid4().hex[:6]}"
    title = f"Гончарная мастерская {uuid.uuid4().hex[:6]}"
    birth = dt.date(today.year - 10, 3, 14)
    slots = [ScheduleSlot(weekday=d, starts_at=dt.time(16, 0), ends_at=dt.time(16, 45)) for d in (2, 4)]

    def certificate(cid: uuid.UUID, parent: str) -> g.CertificateIssued:
        return g.CertificateIssued(
            certificate_id=cid, number=f"4801{uuid.uuid4().int % 10**6:06d}", region_code="48", municipality_code="01",
            birth_date=birth, issued_on=today - dt.timedelta(days=30),
            valid_until=dt.date(birth.year + 18, 3, 13), usage_kind="funding", parent_id=parent)

    async with publisher(infra.kafka_bootstrap, names) as publish, \
            httpx.AsyncClient(base_url=platform.gateway_url, timeout=20) as gw:
        await publish(
            g.ProviderRegistered(provider_id=provider_id, provider_type="private_org", municipality_code="01",
                                 status="new", registered_on=today - dt.timedelta(days=90)),
            g.ProviderStatusChanged(provider_id=provider_id, old_status="new", new_status="active",
                                    reason="moderation_passed", changed_on=today - dt.timedelta(days=89)),
            g.ProgramCertified(
                program_id=program_id, provider_id=provider_id, revision=1, title=title, description="Лепка из глины",
                direction="artistic", municipality_code="01", venue_address="Липецк, ул. Ленина, 1", age_min=5,
                age_max=17, funding_kind="certificate", certified_on=today - dt.timedelta(days=60),
                modules=[g.ModuleSnapshot(
                    module_id=module_id, title="Группа 1", start_date=today - dt.timedelta(days=30),
                    end_date=today + dt.timedelta(days=200), schedule=slots, hours=72, capacity=5,
                    price_kopecks=2_000_000, normative_cost_kopecks=1_800_000, lessons_per_week=2)]),
            certificate(cert_a, parent_a), certificate(cert_b, parent_b),
        )

        # ---- the anonymous catalogue -------------------------------------------------------------
        async def found() -> dict[str, Any] | None:
            r = await gw.get("/api/navigator/programs", params={"text": title})
            assert r.status_code == 200, r.text
            return r.json() if r.json()["items"] and r.json()["total"] else None  # (facet counts lag a little)

        result = await eventually(found)
        assert result["total"] == 1 and result["facets"]["direction"] == {"artistic": 1}, result
        hit = result["items"][0]
        assert set(hit) <= PUBLIC_HIT_FIELDS, set(hit) - PUBLIC_HIT_FIELDS
        assert hit["quote"] is None and hit["quote_error"] is None and not keys_in(result) & PRIVATE_KEYS
        assert (hit["module_id"], hit["free_seats"]) == (str(module_id), 5)

        page = await gw.get(f"/api/navigator/programs/{program_id}")
        assert page.status_code == 200, page.text
        body = page.json()
        assert (body["title"], body["provider"]["provider_id"], body["rating"]) == (title, str(provider_id), None)
        [group] = body["modules"]
        assert (group["module_id"], group["capacity"], group["free_seats"], group["price_kopecks"],
                group["normative_cost_kopecks"], group["hours"]) == (str(module_id), 5, 5, 2_000_000, 1_800_000, 72)
        assert [s["weekday"] for s in group["schedule"]] == [2, 4]
        assert not keys_in(body) & PRIVATE_KEYS, keys_in(body) & PRIVATE_KEYS
        missing = await gw.get(f"/api/navigator/programs/{uuid.uuid4()}")
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found")

        # the cost to a family stays a signed-in parent's view; a bad token is refused, not ignored
        for params, headers in (({"child": str(cert_a)}, {}),
                                ({}, {"Authorization": "Bearer not-a-token"})):
            refused = await gw.get("/api/navigator/programs", params=params, headers=headers)
            assert (refused.status_code, refused.json()["code"]) == (401, "unauthenticated"), refused.text
        assert (await gw.get(f"/api/navigator/programs/{program_id}",
                             headers={"Authorization": "Bearer x.y.z"})).status_code == 401
        signed_in = await gw.get("/api/navigator/programs", params={"text": title, "child": str(cert_a)},
                                 headers=auth.headers("parent", parent_a))
        assert signed_in.status_code == 200, signed_in.text

        # ---- status push ---------------------------------------------------------------------------
        assert (await gw.get("/api/navigator/me/events")).status_code == 401
        finance = await gw.get("/api/navigator/me/events", headers=auth.headers("finance", "fin"))
        assert finance.status_code == 403
        bad_id = await gw.get("/api/navigator/me/events", headers={**auth.headers("parent", parent_a),
                                                                   "Last-Event-ID": "abc"})
        assert (bad_id.status_code, bad_id.json()["code"]) == (422, "invalid_last_event_id")

        stream_a = await EventStream(gw, auth.headers("parent", parent_a)).open()
        stream_b = await EventStream(gw, auth.headers("parent", parent_b)).open()
        stream_p = await EventStream(gw, auth.headers("provider", "pub-staff", provider_id=str(provider_id))).open()
        assert stream_a.response is not None
        assert stream_a.response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream_a.response.headers

        applied = await gw.post("/api/navigator/enrolments", headers=auth.headers("parent", parent_a), json={
            "certificate_id": str(cert_a), "module_id": str(module_id),
            "start_date": (today + dt.timedelta(days=1)).isoformat()})
        assert applied.status_code == 201, applied.text
        enrolment_id = applied.json()["enrolment_id"]
        requested = await stream_a.next()
        assert (requested["event"], requested["data"]["state"], requested["data"]["enrolment_id"]) == (
            "enrolment", "requested", enrolment_id)

        await publish(b.ReservationCreated(
            reservation_id=uuid.uuid4(), enrolment_id=uuid.UUID(enrolment_id), certificate_id=cert_a,
            provider_id=provider_id, period_id=uuid.uuid4(), payment_mode="monthly", total_cost_kopecks=1_000_000,
            reserved_kopecks=1_000_000, family_kopecks=0, funding_activated=True,
            schedule=[b.Instalment(month=today.strftime("%Y-%m"), certificate_kopecks=1_000_000, family_kopecks=0,
                                   planned_lessons=8)]))
        reserved = await stream_a.next()
        assert (reserved["data"]["state"], reserved["data"]["previous_state"]) == ("reserved", "requested")
        assert int(reserved["id"]) > int(requested["id"])
        await stream_a.close()

        confirmed = await gw.post(f"/api/navigator/enrolments/{enrolment_id}/confirm",
                                  headers=auth.headers("provider", "pub-staff", provider_id=str(provider_id)))
        assert confirmed.status_code == 200, confirmed.text  # the offer is issued
        accepted = await gw.post(f"/api/navigator/enrolments/{enrolment_id}/accept",
                                 headers=auth.headers("parent", parent_a))
        assert accepted.status_code == 200, accepted.text  # the parent accepts it: the contract
        provider_seen = [await stream_p.next() for _ in range(4)]
        assert [e["data"]["state"] for e in provider_seen] == ["requested", "reserved", "offered", "confirmed"]
        assert [e["id"] for e in provider_seen[:2]] == [requested["id"], reserved["id"]]

        # reconnecting with the last id received gives exactly what was missed, nothing again
        resumed = await EventStream(gw, auth.headers("parent", parent_a)).open(last_event_id=int(reserved["id"]))
        missed = [await resumed.next() for _ in range(2)]
        assert [(m["id"], m["data"]["state"]) for m in missed] == [
            (provider_seen[2]["id"], "offered"), (provider_seen[3]["id"], "confirmed")]
        older = await EventStream(gw, auth.headers("parent", parent_a)).open(last_event_id=int(requested["id"]))
        assert [(await older.next())["data"]["state"] for _ in range(3)] == ["reserved", "offered", "confirmed"]
        await asyncio.sleep(2.5)  # heartbeats go by, no event repeats
        assert resumed.events.empty() and older.events.empty()
        assert resumed.comments >= 1

        # another parent saw nothing of it (only the heartbeats)
        assert stream_b.events.empty() and stream_b.comments >= 2

        # the service stops: the streams end at once (no waiting for the server's graceful timeout)
        began = asyncio.get_running_loop().time()
        stopping = asyncio.create_task(asyncio.to_thread(platform.processes["navigator"].stop, timeout=15))
        await asyncio.wait_for(asyncio.gather(stream_b.ended.wait(), resumed.ended.wait(), older.ended.wait()), 8)
        assert asyncio.get_running_loop().time() - began < 8
        await stopping
        assert "timeout graceful shutdown exceeded" not in platform.log("navigator", 200)
        for stream in (stream_b, stream_p, resumed, older):
            await stream.close()
