"""Never overbooked: 200 parents apply at once for a group of 10 seats, 20 times over, through
the application use case as the API runs it, against the real database (the seat taken last in
the application's transaction; when it is gone, a second transaction refuses under the group's
lock). No refused attempt leaves a row or an event behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from navigator_testkit import module, program, provider_active
from pfdo_contracts.envelope import wrap
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.problems import ProblemError
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_plumbing.testing import new_namespace, service_settings

from pfdo_navigator.service.catalogue import apply_catalogue_event
from pfdo_navigator.service.enrolments import ApplyCommand, submit_application

pytestmark = pytest.mark.integration

APPLICANTS, SEATS, ROUNDS = 200, 10, 20
TODAY = dt.date(2026, 9, 1)


async def test_two_hundred_applications_for_ten_seats_give_exactly_ten_holds(infra, databases, auth) -> None:  # noqa: ANN001
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
        for _ in range(ROUNDS):
            group = module(capacity=SEATS)
            event = program(provider_id=provider_id, title="Футбол", modules=[group])
            async with runtime.db.transaction() as s:
                await apply_catalogue_event(s, event, wrap(event, source="pfdo/registry", correlation_id="t"))

            async def one(i: int, module_id: uuid.UUID = group.module_id) -> str:
                who = Principal(sub=parents[i], role=Role.PARENT)
                try:
                    await submit_application(runtime.db, runtime.outbox, who, ApplyCommand(certificates[i], module_id, TODAY),
                                             today=TODAY, now=dt.datetime.now(dt.UTC), direction_cap=None)
                    return "held"
                except ProblemError as exc:
                    return exc.code

            outcomes = await asyncio.gather(*(one(i) for i in range(APPLICANTS)))
            assert outcomes.count("held") == SEATS
            assert outcomes.count("no_free_seats") == APPLICANTS - SEATS
            async with runtime.db.transaction() as s:
                held = await s.scalar(text("SELECT held FROM modules WHERE module_id = :m"), {"m": group.module_id})
                rows = await s.scalar(text("SELECT count(*) FROM enrolments WHERE module_id = :m"), {"m": group.module_id})
                events = await s.scalar(
                    text("SELECT count(*) FROM outbox WHERE payload->'data'->>'module_id' = :m"), {"m": str(group.module_id)}
                )
            assert (held, rows, events) == (SEATS, SEATS, SEATS)
    finally:
        await runtime.db.dispose()
