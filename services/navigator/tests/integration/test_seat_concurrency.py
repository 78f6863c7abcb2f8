"""Never overbooked: 200 parents apply at once for a group of 10 seats, 20 times over, through
the application use case as the API runs it, against the real database (the seat claimed with
the application and taken while it commits; when it is gone, the commit fails and nothing of it
is kept). No refused attempt leaves a row, an event or a claim behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
import pytest_asyncio
from sqlalchemy.exc import DBAPIError
from sqlalchemy import text

from navigator_testkit import module, program, provider_active
from pfdo_contracts.envelope import wrap
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.domain_error import DomainError
from pfdo_plumbing.db import sqlstate_of
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_testkit import new_namespace, service_settings

from pfdo_navigator.service.catalogue import apply_catalogue_event
from pfdo_navigator.service.enrolments import ApplyCommand, apply, submit_application

pytestmark = pytest.mark.integration

APPLICANTS, SEATS, ROUNDS = 200, 10, 20
TODAY = dt.date(2026, 9, 1)


@pytest_asyncio.fixture
async def world(infra, databases, auth):  # noqa: ANN001, ANN201
    settings = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                                namespace=new_namespace(), auth=auth, db_pool_size=20, db_max_overflow=10)
    runtime = ServiceRuntime(settings, configure_logs=False)
    provider_id = uuid.uuid4()
    parents = [f"parent-{i}" for i in range(APPLICANTS)]
    certificates = [uuid.uuid4() for _ in range(APPLICANTS)]
    try:
        async with runtime.db.transaction() as s:
            for event in provider_active(provider_id):
                await apply_catalogue_event(s, event, wrap(event, source="pfdo/registry", correlation_id="t"))
            await s.execute(
                text(
                    "INSERT INTO certificates SELECT c, lpad(n::text, 10, '0'), p, '01', DATE '2016-03-14', "
                    "DATE '2034-03-13', 'funding', 'active', DATE '2026-08-20' "
                    "FROM unnest(CAST(:c AS uuid[]), CAST(:p AS varchar[])) WITH ORDINALITY AS t(c, p, n)"
                ),
                {"c": certificates, "p": parents},
            )
        yield {"runtime": runtime, "provider_id": provider_id, "parents": parents, "certificates": certificates}
    finally:
        await runtime.db.dispose()


async def new_group(world: dict, capacity: int, *, waiting_list: bool = False) -> uuid.UUID:
    group = module(capacity=capacity)
    event = program(provider_id=world["provider_id"], title="Футбол", modules=[group])
    async with world["runtime"].db.transaction() as s:
        await apply_catalogue_event(s, event, wrap(event, source="pfdo/registry", correlation_id="t"))
        if waiting_list:
            await s.execute(text("UPDATE modules SET waitlist_enabled = true WHERE module_id = :m"),
                            {"m": group.module_id})
    return group.module_id


async def seats_rows_events_claims(world: dict, module_id: uuid.UUID) -> tuple[int, int, int, int]:
    async with world["runtime"].db.transaction() as s:
        held = await s.scalar(text("SELECT held FROM modules WHERE module_id = :m"), {"m": module_id})
        rows = await s.scalar(text("SELECT count(*) FROM enrolments WHERE module_id = :m"), {"m": module_id})
        events = await s.scalar(
            text("SELECT count(*) FROM outbox WHERE payload->'data'->>'module_id' = :m"), {"m": str(module_id)}
        )
        claims = await s.scalar(text("SELECT count(*) FROM seat_claims"))
    return held, rows, events, claims


async def submit(world: dict, i: int, module_id: uuid.UUID) -> str:
    who = Principal(sub=world["parents"][i], role=Role.PARENT)
    try:
        await submit_application(world["runtime"].db, world["runtime"].outbox, who,
                                 ApplyCommand(world["certificates"][i], module_id, TODAY),
                                 today=TODAY, now=dt.datetime.now(dt.UTC))
        return "held"
    except DomainError as exc:
        return exc.code


async def test_two_hundred_applications_for_ten_seats_give_exactly_ten_holds(world) -> None:  # noqa: ANN001
    for _ in range(ROUNDS):
        group = await new_group(world, SEATS)
        outcomes = await asyncio.gather(*(submit(world, i, group) for i in range(APPLICANTS)))
        assert outcomes.count("held") == SEATS
        assert outcomes.count("no_free_seats") == APPLICANTS - SEATS
        assert await seats_rows_events_claims(world, group) == (SEATS, SEATS, SEATS, 0)


@pytest.mark.parametrize(("waiting_list", "sqlstate"), [(False, "PFS01"), (True, "PFS02")])
async def test_a_claim_on_a_seat_taken_meanwhile_fails_its_commit(world, waiting_list, sqlstate) -> None:  # noqa: ANN001
    group = await new_group(world, 1, waiting_list=waiting_list)
    who = Principal(sub=world["parents"][0], role=Role.PARENT)
    with pytest.raises(DBAPIError) as failed:
        async with world["runtime"].db.transaction() as s:
            # the group had a free seat when this application wrote its row and its claim...
            await apply(s, world["runtime"].outbox, who, ApplyCommand(world["certificates"][0], group, TODAY),
                        today=TODAY, now=dt.datetime.now(dt.UTC), seat_last=True)
            # ...and another parent took it before this one committed
            assert await submit(world, 1, group) == "held"
    assert sqlstate_of(failed.value) == sqlstate
    assert await seats_rows_events_claims(world, group) == (1, 1, 1, 0)
    # through the use case, the late applicant is refused, or joins the group's waiting list
    outcome = await submit(world, 0, group)
    async with world["runtime"].db.transaction() as s:
        mine = await s.scalar(text("SELECT state FROM enrolments WHERE module_id = :m AND parent_id = :p"),
                              {"m": group, "p": world["parents"][0]})
    assert (outcome, mine) == (("held", "waitlisted") if waiting_list else ("no_free_seats", None))
