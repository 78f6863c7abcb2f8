"""Money per month for the operators' dashboard, counted by billing on the real PostgreSQL: an
enrolment's reservation shows month by month as reserved (the worked example's schedule), for
the region and for the certificate's municipality; another municipality's operator sees none of
it; a parent is refused."""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import Harness, certificate, enrolment, module, program, setup_period

pytestmark = pytest.mark.integration

CERT, PARENT = uuid.uuid4(), "parent-statistics"
PROVIDER, PROGRAM, MODULE, ENROLMENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
M = module(MODULE)
P = program(PROGRAM, PROVIDER, [M])


async def months(h: Harness, headers: dict[str, str], **params: object) -> dict:
    r = await h.client.get("/api/billing/statistics/months", params={"from_month": "2026-09", "months": 10, **params},
                           headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_reservation_shows_as_money_reserved_per_month(h: Harness) -> None:
    region = h.headers("regional_operator", "op-1")
    before = await months(h, region)
    assert [m["month"] for m in before["months"]] == ["2026-09", "2026-10", "2026-11", "2026-12", "2027-01",
                                                      "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"]

    await h.publish(certificate(CERT, PARENT))
    await h.wait_for("SELECT count(*) FROM certificates WHERE certificate_id = :c", c=CERT)
    await setup_period(h, nominal=3_000_000, agreements=(PROVIDER,))
    await h.publish(P)
    await h.wait_for("SELECT count(*) FROM modules WHERE module_id = :m", m=MODULE)
    await h.publish(enrolment(ENROLMENT, CERT, P, M, parent=PARENT))
    await h.wait_for("SELECT count(*) FROM contract_months WHERE enrolment_id = :e", lambda n: n == 8, e=ENROLMENT)

    after = await months(h, region)
    reserved = [a["reserved_kopecks"] - b["reserved_kopecks"] for a, b in zip(after["months"], before["months"])]
    # October 2026 .. May 2027: the certificate's part of the worked example, month by month
    assert reserved == [0, 111_269] + [111_263] * 7 + [0]
    assert [a["contracts"] - b["contracts"] for a, b in zip(after["months"], before["months"])] == [0] + [1] * 8 + [0]
    assert all(m["spent_kopecks"] == b["spent_kopecks"] for m, b in zip(after["months"], before["months"]))

    own = await months(h, h.headers("municipal_operator", "mo-01", municipality="01"), municipality="02")
    assert own["municipality_code"] == "01"  # its own municipality, whatever it asks for
    assert own["months"][1]["reserved_kopecks"] >= 111_269
    other = await months(h, h.headers("municipal_operator", "mo-02", municipality="02"))
    assert {m["reserved_kopecks"] for m in other["months"]} == {0}

    r = await h.client.get("/api/billing/statistics/months", headers=h.headers("parent", PARENT))
    assert r.status_code == 403
    r = await h.client.get("/api/billing/statistics/months", params={"months": 40}, headers=region)
    assert r.status_code == 422
