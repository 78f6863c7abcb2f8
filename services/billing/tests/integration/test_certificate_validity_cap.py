"""A child turning 18 during a module: the quote, the reservation and the schedule stop at the end
of the month in which the certificate's validity ends (the day before the 18th birthday), over
the real broker and PostgreSQL.

Module 1 Sep 2026 – 31 May 2027 priced 12 000 ₽ with normative cost 10 000 ₽ (273 days); the
child born on 15 Mar 2009 holds a certificate valid until 14 Mar 2027: from 1 Oct 2026 the
enrolment is paid for 182 days (to 31 Mar 2027), 8 000 ₽ of which the certificate pays 6 666,67 ₽.
"""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import (
    D, Harness, certificate, certificate_balance, enrolment, module, program, read_topic, setup_period,
)

from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import registry as g
from pfdo_contracts.topics import RESERVATIONS

pytestmark = pytest.mark.integration

CERT, PARENT = uuid.uuid4(), "parent-turning-18"
CERT_FIRST, PARENT_FIRST = uuid.uuid4(), "parent-born-on-the-1st"
PROVIDER, PROGRAM, MODULE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ENROLMENT, LATE_ENROLMENT = uuid.uuid4(), uuid.uuid4()
M = module(MODULE)
P = program(PROGRAM, PROVIDER, [M])
MONTHS_TO_MARCH = ["2026-10", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03"]


async def quote(h: Harness, cert: uuid.UUID, parent: str, start: str) -> tuple[int, dict]:
    r = await h.client.get("/api/billing/quote", params={"certificate_id": str(cert), "module_id": str(MODULE),
                                                          "start_date": start}, headers=h.headers("parent", parent))
    return r.status_code, r.json()


async def test_the_quote_stops_at_the_end_of_the_validity_month(h: Harness) -> None:
    await h.publish(certificate(CERT, PARENT, birth=D(2009, 3, 15)))
    await h.publish(certificate(CERT_FIRST, PARENT_FIRST, birth=D(2009, 3, 1)))
    await h.wait_for("SELECT count(*) FROM certificates WHERE certificate_id IN (:a, :b)", lambda v: v == 2,
                     a=CERT, b=CERT_FIRST)
    await setup_period(h, nominal=3_000_000, agreements=(PROVIDER,))
    await h.publish(P)
    await h.wait_for("SELECT count(*) FROM modules WHERE module_id = :m", m=MODULE)

    status, q = await quote(h, CERT, PARENT, "2026-10-01")
    assert status == 200, q
    # 12 000 ₽ × 182 / 273 = 8 000 ₽; 10 000 ₽ × 182 / 273 = 6 666,67 ₽ (half up)
    assert (q["cost_kopecks"], q["certificate_kopecks"], q["family_kopecks"]) == (800_000, 666_667, 133_333)
    assert (q["enrolled_days"], q["module_days"]) == (182, 273)
    assert [line["month"] for line in q["schedule"]] == MONTHS_TO_MARCH
    assert sum(line["certificate_kopecks"] for line in q["schedule"]) == 666_667
    assert (q["certificate_valid_until"], q["ends_early_on"]) == ("2027-03-14", "2027-03-31")
    assert q["note"] == "Сертификат действует до 14.03.2027: обучение оплачивается до 31.03.2027."

    # a birthday on the 1st: validity ends on the last day of the month before
    status, q = await quote(h, CERT_FIRST, PARENT_FIRST, "2026-10-01")
    assert status == 200, q
    assert q["schedule"][-1]["month"] == "2027-02" and q["ends_early_on"] == "2027-02-28"
    assert q["enrolled_days"] == 151

    # a start after the last valid day cannot be paid by the certificate at all
    status, problem = await quote(h, CERT, PARENT, "2027-03-20")
    assert status == 422 and problem["code"] == "certificate_expires_before_start", problem
    assert "14.03.2027" in problem["detail"] and "20.03.2027" in problem["detail"]


async def test_the_reservation_and_the_schedule_stop_there_too(h: Harness) -> None:
    await h.publish(enrolment(ENROLMENT, CERT, P, M, parent=PARENT))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=ENROLMENT)
    contract = (await h.rows("SELECT end_date, certificate_kopecks, family_kopecks FROM contracts "
                             "WHERE enrolment_id = :e", e=ENROLMENT))[0]
    assert contract == {"end_date": D(2027, 3, 31), "certificate_kopecks": 666_667, "family_kopecks": 133_333}
    months = await h.rows("SELECT month, certificate_kopecks FROM contract_months WHERE enrolment_id = :e "
                          "ORDER BY month", e=ENROLMENT)
    assert [f"{row['month']:%Y-%m}" for row in months] == MONTHS_TO_MARCH
    assert sum(row["certificate_kopecks"] for row in months) == 666_667
    b = await certificate_balance(h, CERT, PARENT)
    assert b["reserved"] == 666_667 and b["available"] == b["nominal"] - 666_667

    # an enrolment starting after the certificate's last valid day is refused, nothing reserved
    await h.publish(enrolment(LATE_ENROLMENT, CERT, P, M, start=D(2027, 3, 20), parent=PARENT))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'rejected' "
                     "AND reject_reason = 'certificate_not_active'", e=LATE_ENROLMENT)
    assert (await certificate_balance(h, CERT, PARENT))["reserved"] == 666_667

    await h.idle()
    events = await read_topic(h.infra, h.names, RESERVATIONS, min_count=2)
    created = [e for e in events if isinstance(e, bev.ReservationCreated) and e.enrolment_id == ENROLMENT]
    assert len(created) == 1
    assert [i.month for i in created[0].schedule] == MONTHS_TO_MARCH
    assert created[0].reserved_kopecks == 666_667
    rejected = [e for e in events if isinstance(e, bev.ReservationRejected) and e.enrolment_id == LATE_ENROLMENT]
    assert [e.reason for e in rejected] == [bev.RejectionReason.CERTIFICATE_NOT_ACTIVE]


async def test_expiry_at_18_ends_the_contract_with_the_validity_month(h: Harness) -> None:
    """The registry's expiry on the 18th birthday (15 Mar 2027) ends the contract at the end of the
    month of the last valid day (14 Mar 2027): March is still billed, nothing more is released.
    The enrolment refused for starting after the last valid day holds nothing and stays refused."""
    await h.publish(n.EnrolmentConfirmed(enrolment_id=ENROLMENT, certificate_id=CERT, module_id=MODULE,
                                         provider_id=PROVIDER, start_date=D(2026, 10, 1), end_date=D(2027, 5, 31),
                                         confirmed_on=D(2026, 9, 25)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'active'", e=ENROLMENT)
    await h.publish(g.CertificateExpired(certificate_id=CERT, expired_on=D(2027, 3, 15)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'terminated'", e=ENROLMENT)
    contract = (await h.rows("SELECT end_date FROM contracts WHERE enrolment_id = :e", e=ENROLMENT))[0]
    assert contract["end_date"] == D(2027, 3, 31)
    months = await h.rows("SELECT month, state FROM contract_months WHERE enrolment_id = :e ORDER BY month",
                          e=ENROLMENT)
    assert [(f"{row['month']:%Y-%m}", row["state"]) for row in months] == [(m, "reserved") for m in MONTHS_TO_MARCH]
    assert await h.scalar("SELECT status FROM certificates WHERE certificate_id = :c", c=CERT) == "expired"
    assert (await certificate_balance(h, CERT, PARENT))["reserved"] == 666_667
    assert await h.scalar("SELECT status FROM contracts WHERE enrolment_id = :e", e=LATE_ENROLMENT) == "rejected"


async def test_expiry_cancels_a_contract_the_provider_never_confirmed(h: Harness) -> None:
    """A reserved contract the provider never confirmed owes nothing when the certificate expires:
    it is cancelled and every month's reservation goes back to the balance (the navigator cancels
    such an enrolment too)."""
    pending = uuid.uuid4()
    await h.publish(enrolment(pending, CERT_FIRST, P, M, parent=PARENT_FIRST))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'reserved'", e=pending)
    assert (await certificate_balance(h, CERT_FIRST, PARENT_FIRST))["reserved"] > 0
    await h.publish(g.CertificateExpired(certificate_id=CERT_FIRST, expired_on=D(2027, 3, 1)))
    await h.wait_for("SELECT count(*) FROM contracts WHERE enrolment_id = :e AND status = 'cancelled'", e=pending)
    assert await h.scalar("SELECT count(*) FROM contract_months WHERE enrolment_id = :e AND state = 'reserved'",
                          e=pending) == 0
    assert (await certificate_balance(h, CERT_FIRST, PARENT_FIRST))["reserved"] == 0
