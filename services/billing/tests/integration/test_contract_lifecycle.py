"""A contract's status through redelivered and reordered navigator events, on the real database:
a duplicate or an overtaken event writes nothing (no status change, no transfer)."""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import D, certificate, enrolment, module, program, setup_period, start_harness

from pfdo_contracts.common import UsageKind
from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import registry as g

from pfdo_billing.domain.contract import ContractStatus
from pfdo_billing.service import catalogue, reservations

pytestmark = pytest.mark.integration

S = ContractStatus


async def test_redelivered_and_reordered_events_are_harmless(infra, databases, auth) -> None:  # noqa: ANN001, PLR0915
    h = await start_harness(infra, databases, auth)
    try:
        cert, parent = uuid.uuid4(), "parent-lifecycle"
        m = module(uuid.uuid4())
        p = program(uuid.uuid4(), uuid.uuid4(), [m])
        await h.publish(certificate(cert, parent))
        await h.publish(p)
        await h.wait_for("SELECT count(*) FROM certificates WHERE certificate_id = :c", c=cert)
        await h.wait_for("SELECT count(*) FROM modules")
        await setup_period(h, nominal=3_000_000, agreements=(p.provider_id,))
        b = h.app.state.billing

        async def run(use_case, event):  # noqa: ANN001, ANN202
            env = wrap(event, source="pfdo/test", correlation_id=str(uuid.uuid4()))
            async with b.runtime.db.transaction() as session:
                return await use_case(b, session, event, env)

        async def status(eid: uuid.UUID) -> str | None:
            return await h.scalar("SELECT status FROM contracts WHERE enrolment_id = :e", e=eid)

        async def money() -> tuple:
            balance = (await h.rows("SELECT available, reserved, spent FROM certificate_balances "
                                    "WHERE certificate_id = :c", c=cert))[0]
            return tuple(balance.values()), await h.scalar("SELECT count(*) FROM transfers")

        first = uuid.uuid4()
        request = enrolment(first, cert, p, m, parent=parent)
        confirmed = n.EnrolmentConfirmed(enrolment_id=first, certificate_id=cert, module_id=m.module_id,
                                         provider_id=p.provider_id, start_date=D(2026, 10, 1), end_date=m.end_date,
                                         confirmed_on=D(2026, 9, 20))
        terminated = n.EnrolmentTerminated(enrolment_id=first, certificate_id=cert, provider_id=p.provider_id,
                                           terminated_by="parent", reason="parent_request",
                                           requested_on=D(2026, 12, 10), effective_end_date=D(2026, 12, 31))
        ended = n.EnrolmentEnded(enrolment_id=first, certificate_id=cert, parent_id=parent, program_id=p.program_id,
                                 provider_id=p.provider_id, module_id=m.module_id, outcome="terminated",
                                 end_date=D(2026, 12, 31))
        cancelled = n.EnrolmentCancelled(enrolment_id=first, certificate_id=cert, cancelled_by="parent",
                                         cancelled_on=D(2026, 9, 25))

        # events that overtook the request: the confirmation is refused (the consumer retries it),
        # the others find nothing to change
        with pytest.raises(LookupError):
            await run(reservations.enrolment_confirmed, confirmed)
        for early in (terminated, ended, cancelled):
            await run({n.EnrolmentTerminated: reservations.enrolment_terminated,
                       n.EnrolmentEnded: reservations.enrolment_ended,
                       n.EnrolmentCancelled: reservations.enrolment_cancelled}[type(early)], early)
        assert await status(first) is None

        assert await run(reservations.enrolment_requested, request) is S.RESERVED
        reserved = await money()
        assert reserved[0][1] > 0
        assert await run(reservations.enrolment_requested, request) is S.RESERVED  # the first answer stands
        await run(reservations.enrolment_ended, ended)  # not in force yet: ignored
        assert await status(first) == S.RESERVED
        assert await money() == reserved

        await run(reservations.enrolment_confirmed, confirmed)
        await run(reservations.enrolment_confirmed, confirmed)
        assert await status(first) == S.ACTIVE
        assert await run(reservations.enrolment_requested, request) is S.ACTIVE
        assert await money() == reserved

        await run(reservations.enrolment_terminated, terminated)
        assert await status(first) == S.TERMINATED
        after_termination = await money()
        assert after_termination[0][1] < reserved[0][1]  # the months after December are released
        await run(reservations.enrolment_terminated, terminated)
        await run(reservations.enrolment_cancelled, cancelled)  # a late cancellation of a terminated contract
        await run(reservations.enrolment_confirmed, confirmed)
        assert await status(first) == S.TERMINATED
        assert await money() == after_termination

        await run(reservations.enrolment_ended, ended)
        await run(reservations.enrolment_ended, ended)
        await run(reservations.enrolment_confirmed, confirmed)
        await run(reservations.enrolment_terminated, terminated)
        assert await status(first) == S.ENDED
        assert await money() == after_termination

        # a hold that expired: a late confirmation and a repeated expiry change nothing
        second = uuid.uuid4()
        assert await run(reservations.enrolment_requested, enrolment(second, cert, p, m, parent=parent)) is S.RESERVED
        expired = n.EnrolmentExpired(enrolment_id=second, certificate_id=cert, expired_on=D(2026, 9, 27))
        await run(reservations.enrolment_expired, expired)
        assert await status(second) == S.EXPIRED
        after_expiry = await money()
        assert after_expiry[0][1] == after_termination[0][1]  # everything of the second is released
        await run(reservations.enrolment_expired, expired)
        await run(reservations.enrolment_confirmed, n.EnrolmentConfirmed(
            enrolment_id=second, certificate_id=cert, module_id=m.module_id, provider_id=p.provider_id,
            start_date=D(2026, 10, 1), end_date=m.end_date, confirmed_on=D(2026, 9, 28)))
        assert await run(reservations.enrolment_requested, enrolment(second, cert, p, m, parent=parent)) is S.EXPIRED
        assert await status(second) == S.EXPIRED
        assert await money() == after_expiry

        # an offer the parent did not accept in time: released like an unanswered application, and
        # the release says which timeout it was
        third = uuid.uuid4()
        assert await run(reservations.enrolment_requested, enrolment(third, cert, p, m, parent=parent)) is S.RESERVED
        withdrawn = n.EnrolmentExpired(enrolment_id=third, certificate_id=cert, expired_on=D(2026, 9, 30),
                                       reason=n.ExpiryReason.OFFER_NOT_ACCEPTED)
        await run(reservations.enrolment_expired, withdrawn)
        assert await status(third) == S.EXPIRED
        assert (await money())[0] == after_expiry[0]  # the balance is back where it was
        reasons = {row["subject_id"]: row["details"]["reason"] for row in await h.rows(
            "SELECT subject_id, details FROM audit_log WHERE action = 'billing.reservation.release' "
            "AND subject_id IN (:a, :b)", a=str(second), b=str(third))}
        assert reasons == {str(second): "hold_expired", str(third): "offer_not_accepted"}
    finally:
        await h.stack.aclose()


async def test_the_end_of_a_certificate_rejects_its_waiting_request_and_ends_its_contracts(  # noqa: ANN001
        infra, databases, auth) -> None:
    h = await start_harness(infra, databases, auth)
    try:
        funded, waiting = uuid.uuid4(), uuid.uuid4()
        m = module(uuid.uuid4())
        p = program(uuid.uuid4(), uuid.uuid4(), [m])
        for cid in (funded, waiting):
            await h.publish(certificate(cid, f"parent-{cid}", usage=UsageKind.ACCOUNTING))
        await h.publish(p)
        await h.wait_for("SELECT count(*) FROM certificates", lambda v: v == 2)
        await h.wait_for("SELECT count(*) FROM modules")
        await setup_period(h, caps={"funding_cap": 1, "free_places": None, "direction_cap": None},
                           agreements=(p.provider_id,))
        b = h.app.state.billing

        async def run(use_case, event):  # noqa: ANN001, ANN202
            env = wrap(event, source="pfdo/test", correlation_id=str(uuid.uuid4()))
            async with b.runtime.db.transaction() as session:
                return await use_case(b, session, event, env)

        async def status(eid: uuid.UUID) -> tuple[str, str | None]:
            row = (await h.rows("SELECT status, reject_reason FROM contracts WHERE enrolment_id = :e", e=eid))[0]
            return row["status"], row["reject_reason"]

        running, later, queued = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        assert await run(reservations.enrolment_requested,
                         enrolment(running, funded, p, m, parent=f"parent-{funded}")) is S.RESERVED
        assert await run(reservations.enrolment_requested,
                         enrolment(later, funded, p, m, start=D(2027, 1, 12), parent=f"parent-{funded}")) is S.RESERVED
        assert await run(reservations.enrolment_requested,
                         enrolment(queued, waiting, p, m, parent=f"parent-{waiting}")) is S.QUEUED
        await run(reservations.enrolment_confirmed, n.EnrolmentConfirmed(
            enrolment_id=running, certificate_id=funded, module_id=m.module_id, provider_id=p.provider_id,
            start_date=D(2026, 10, 1), end_date=m.end_date, confirmed_on=D(2026, 9, 28)))
        assert await status(running) == (S.ACTIVE, None)

        # the waiting request's certificate is closed: the request is refused, it leaves the queue
        await run(catalogue.certificate_closed,
                  g.CertificateClosed(certificate_id=waiting, closed_on=D(2026, 9, 20), reason="left_region"))
        assert await status(queued) == (S.REJECTED, "certificate_not_active")
        assert await h.scalar("SELECT status FROM funding_queue WHERE enrolment_id = :e", e=queued) == "rejected"

        # the funded certificate is closed in December: the running (confirmed) contract is
        # terminated at the end of December, the one starting in January (never confirmed) is
        # cancelled with everything released
        closed = g.CertificateClosed(certificate_id=funded, closed_on=D(2026, 12, 10), reason="left_region")
        await run(catalogue.certificate_closed, closed)
        assert await status(running) == (S.TERMINATED, None)
        assert await h.scalar("SELECT end_date FROM contracts WHERE enrolment_id = :e", e=running) == D(2026, 12, 31)
        assert await status(later) == (S.CANCELLED, None)
        assert await h.scalar("SELECT count(*) FROM contract_months WHERE enrolment_id = :e AND state = 'reserved'",
                              e=later) == 0
        transfers = await h.scalar("SELECT count(*) FROM transfers")
        await run(catalogue.certificate_closed, closed)  # redelivered under a new id: nothing more
        assert await h.scalar("SELECT count(*) FROM transfers") == transfers
        assert [await status(e) for e in (running, later, queued)] == [
            (S.TERMINATED, None), (S.CANCELLED, None), (S.REJECTED, "certificate_not_active")]
    finally:
        await h.stack.aclose()
