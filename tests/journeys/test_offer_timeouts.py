"""The two timeouts of the way to a contract, end to end through the gateway over real Kafka and
PostgreSQL, on the services' business clock (``PFDO_CLOCK_OFFSET_FILE``; the navigator's timer job
runs every half second): an application the provider has not answered in 5 days is refused, and an
offer (договор-оферта) the parent has not accepted in 10 days is withdrawn (docs/domain-rules.md,
"Offer and acceptance"). Each gives the group's seat back and, through billing, the reserved money
of the certificate; the release says which timeout it was.

The calendar: the family applies on Monday 24 August 2026; the provider never answers, and on
30 August (the sixth day) the application is refused. The family applies again the same day; the
provider confirms at once, the offer may be accepted until 9 September; on 10 September it is
withdrawn and a late acceptance is refused.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from pfdo_devstack import story as st

pytestmark = pytest.mark.integration

D = dt.date
NOMINAL = 3_000_000
PRICE = 2_700_000


async def free_seats(s: st.Story) -> int:
    page = st.expect(await s.get("parent", f"/api/navigator/programs/{s.ids['pottery_program']}"), 200)
    return next(m["free_seats"] for m in page["modules"] if str(m["module_id"]) == s.ids["pottery_module"])


async def releases(bootstrap: str, namespace: str, enrolment_ids: set[str]) -> dict[str, dict]:
    """Billing's ``reservation.released`` events of the enrolments, read as any consumer would."""
    consumer = AIOKafkaConsumer(f"{namespace}pfdo.billing.reservations.v1", bootstrap_servers=bootstrap,
                                group_id=f"offer-timeouts-{uuid.uuid4().hex[:6]}", auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    found: dict[str, dict] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline and set(found) != enrolment_ids:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    envelope = json.loads(record.value)
                    data = envelope["data"]
                    if envelope["type"] == "pfdo.billing.reservation.released.v1" and data["enrolment_id"] in enrolment_ids:
                        found[data["enrolment_id"]] = data
    finally:
        await consumer.stop()
    return found


async def still(s: st.Story, state: str, seconds: float = 2.0) -> dict:
    """The enrolment is still in ``state`` after a few runs of the timer job."""
    await asyncio.sleep(seconds)
    e = await st.enrolment(s)
    assert e["state"] == state, e
    return e


async def test_an_unanswered_application_and_an_unaccepted_offer_release_the_seat_and_the_money(  # noqa: ANN001
        platform_factory, auth, infra, tmp_path) -> None:
    clock = st.StoryClock(tmp_path)
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(
        extra_env={"PFDO_CLOCK_OFFSET_FILE": str(clock.file)}, service_env={"navigator": {"PFDO_JOBS_INTERVAL_S": "0.5"}},
    )
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), st.cast("timeouts"))
        try:
            await timeouts(s, clock, infra, platform.namespace)
        except BaseException:
            print(platform.logs(40))
            raise


async def timeouts(s: st.Story, clock: st.StoryClock, infra, namespace: str) -> None:  # noqa: ANN001
    await st.open_region(s)
    await st.apply_for_certificate(s, surname="Петрова", first_name="Мария", birth_date=D(2015, 5, 5))
    await st.approve_certificate(s)
    await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=NOMINAL)
    await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")
    await st.register_provider(s, "ООО «Гончарная мастерская»")
    await st.approve_provider(s)
    await st.create_program(s, "pottery", name="Гончарное дело", description="Лепка и гончарный круг",
                            direction="artistic",
                            module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2027, 5, 31),
                                                  weekdays=(2, 4), price=PRICE, capacity=1))
    module = s.ids["pottery_module"]
    await st.certify_program(s, "pottery", {module: PRICE})
    await st.wait_in_catalogue(s, [module])
    assert await free_seats(s) == 1

    # --- 24 Aug: the family applies; billing reserves; the provider never answers ----------------
    await st.apply(s, module, D(2026, 9, 1), "monthly")
    unanswered = s.ids["enrolment"]
    e = await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
    part = e["reserved_kopecks"]
    assert part > 0
    await st.balance_when(s, "the certificate part reserved", lambda b: b.get("reserved") == part)
    assert await free_seats(s) == 0
    clock.set(D(2026, 8, 29))  # the fifth day after the application is still the provider's
    await still(s, "reserved")
    clock.set(D(2026, 8, 30))  # the sixth: refused
    e = await st.enrolment_when(s, "the unanswered application refused", lambda e: e["state"] == "expired")
    assert e["reason"] == "application_unanswered"
    await st.enrolment_when(s, "billing released the reservation", lambda e: e["released_kopecks"] == part)
    await st.balance_when(s, "the reserved money back", lambda b: b.get("reserved", 0) == 0)
    assert await free_seats(s) == 1

    # --- 30 Aug: she applies again; the provider confirms: the offer, until 9 September ---------
    await st.apply(s, module, D(2026, 9, 1), "monthly")
    unaccepted = s.ids["enrolment"]
    e = await st.enrolment_when(s, "billing reserved again", lambda e: e["state"] == "reserved")
    part = e["reserved_kopecks"]
    await st.balance_when(s, "reserved again", lambda b: b.get("reserved") == part)
    offer = await st.confirm(s)
    assert (offer["state"], offer["offered_on"], offer["offer_expires_on"]) == ("offered", "2026-08-30", "2026-09-09")
    assert await free_seats(s) == 0
    clock.set(D(2026, 9, 9))  # the offer's last day: it still stands
    await still(s, "offered")
    clock.set(D(2026, 9, 10))  # not accepted: withdrawn
    e = await st.enrolment_when(s, "the unaccepted offer withdrawn", lambda e: e["state"] == "expired")
    assert e["reason"] == "offer_not_accepted" and e["accepted_at"] is None
    late = await s.post("parent", f"/api/navigator/enrolments/{unaccepted}/accept")
    assert late.status_code == 409, late.text
    await st.enrolment_when(s, "billing released the reservation", lambda e: e["released_kopecks"] == part)
    await st.balance_when(s, "the reserved money back", lambda b: b.get("reserved", 0) == 0)
    assert await free_seats(s) == 1

    # --- what billing published: each release names its timeout ---------------------------------
    released = await releases(infra.kafka_bootstrap, namespace, {unanswered, unaccepted})
    assert released[unanswered]["reason"] == "hold_expired"
    assert released[unaccepted]["reason"] == "offer_not_accepted"
    assert released[unaccepted]["released_kopecks"] == part and released[unaccepted]["remaining_reserved_kopecks"] == 0
