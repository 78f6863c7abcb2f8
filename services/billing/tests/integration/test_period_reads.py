"""A period's nominals and caps read back (``GET /periods/{id}/nominals``, ``/caps``): what was
set, with what is used of the caps; a municipal operator reads its own municipality's only."""

from __future__ import annotations

import uuid

import pytest
from billing_testkit import Harness

pytestmark = pytest.mark.integration


async def test_nominals_and_caps_read_back_in_each_operators_scope(h: Harness) -> None:
    r = await h.operator("POST", "/periods", json={"starts_on": "2030-09-01", "ends_on": "2031-08-31"})
    assert r.status_code == 201, r.text
    pid = r.json()["period_id"]
    nominals = [{"municipality_code": "01", "age_min": 12, "age_max": 17, "amount_kopecks": 2_500_000},
                {"municipality_code": "01", "age_min": 5, "age_max": 11, "amount_kopecks": 3_000_000},
                {"municipality_code": "02", "age_min": 5, "age_max": 17, "amount_kopecks": 2_000_000}]
    assert (await h.operator("PUT", f"/periods/{pid}/nominals", json={"nominals": nominals})).status_code == 204
    caps = [{"municipality_code": "01", "funding_cap": 100, "free_places": None, "direction_cap": 2},
            {"municipality_code": "02", "funding_cap": None, "free_places": 5, "direction_cap": None}]
    assert (await h.operator("PUT", f"/periods/{pid}/caps", json={"caps": caps})).status_code == 200

    region = await h.operator("GET", f"/periods/{pid}/nominals")
    assert region.status_code == 200, region.text
    assert region.json()["nominals"] == [nominals[1], nominals[0], nominals[2]]  # by municipality, then age
    region_caps = (await h.operator("GET", f"/periods/{pid}/caps")).json()["caps"]
    assert region_caps == [{**c, "funding_used": 0, "free_places_used": 0} for c in caps]

    municipal = h.headers("municipal_operator", "op-02", municipality="02")
    own = await h.client.get(f"/api/billing/periods/{pid}/nominals", headers=municipal)
    assert own.json()["nominals"] == [nominals[2]]
    own_caps = await h.client.get(f"/api/billing/periods/{pid}/caps", headers=municipal)
    assert [c["municipality_code"] for c in own_caps.json()["caps"]] == ["02"]
    finance = await h.client.get(f"/api/billing/periods/{pid}/caps", headers=h.headers("finance", "fin-1"))
    assert len(finance.json()["caps"]) == 2

    for role in ("parent", "provider"):
        refused = await h.client.get(f"/api/billing/periods/{pid}/nominals", headers=h.headers(role, f"{role}-1"))
        assert refused.status_code == 403, role
    missing = await h.operator("GET", f"/periods/{uuid.uuid4()}/caps")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
