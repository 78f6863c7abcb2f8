"""Agreements with the payer, end to end through the gateway over real Kafka and PostgreSQL: billing
refuses a paid reservation without an agreement in force between the provider and the certificate's
municipality, and over the agreement's yearly limit; the refusal travels over the bus to the
navigator, where the parent reads why (docs/domain-rules.md, "Agreements with payers")."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from pfdo_devstack import story as st

pytestmark = pytest.mark.integration

D = dt.date
PRICE = 2_700_000


async def test_no_agreement_and_a_reached_limit_refuse_the_enrolment_with_the_reason(  # noqa: ANN001
        platform_factory, auth, tmp_path) -> None:
    clock = st.StoryClock(tmp_path)
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(extra_env={"PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), st.cast("agreements"))
        try:
            await agreements(s)
        except BaseException:
            print(platform.logs(40))
            raise


async def agreements(s: st.Story) -> None:
    await st.open_region(s)
    await st.apply_for_certificate(s, surname="Петрова", first_name="Мария", birth_date=D(2015, 5, 5))
    await st.approve_certificate(s)
    await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=3_000_000)
    await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")
    await st.register_provider(s, "ООО «Гончарная мастерская»")
    await st.approve_provider(s)  # the period exists: the story concludes the agreement with «01»
    first = s.ids[f"agreement_{st.MUNICIPALITY}"]
    await st.create_program(s, "pottery", name="Гончарное дело", description="Лепка и гончарный круг",
                            direction="artistic",
                            module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2027, 5, 31),
                                                  weekdays=(2, 4), price=PRICE, capacity=5))
    module = s.ids["pottery_module"]
    await st.certify_program(s, "pottery", {module: PRICE})
    await st.wait_in_catalogue(s, [module])

    # the provider sees its agreement, the municipality's operator too
    mine = st.expect(await s.get("provider", "/api/billing/agreements"), 200)["items"]
    assert [a["agreement_id"] for a in mine] == [first] and mine[0]["payer_code"] == st.MUNICIPALITY
    assert st.expect(await s.get("operator", f"/api/billing/agreements/{first}"), 200)["status"] == "active"

    # the operator ends it: the family's application is refused, and the navigator says why
    ended = st.expect(await s.post("operator", f"/api/billing/agreements/{first}/end", {"ended_on": "2026-08-24"}),
                      200)
    assert ended["status"] == "ended"
    await st.apply(s, module, D(2026, 9, 1), "monthly")
    e = await st.enrolment_when(s, "billing refused: no agreement", lambda e: e["state"] == "rejected")
    assert e["reason"] == "no_agreement"
    await st.balance_when(s, "nothing reserved", lambda b: b.get("reserved", 0) == 0)

    # a new agreement whose limit is smaller than the certificate's part: refused over the limit
    small = await st.conclude_agreement(s, limit_kopecks=100_000, number="С-2026/2")
    await st.apply(s, module, D(2026, 9, 1), "monthly")
    e = await st.enrolment_when(s, "billing refused: over the limit", lambda e: e["state"] == "rejected")
    assert e["reason"] == "agreement_limit_reached"

    # the limit raised: the next application is reserved under it, and the limit shows it used
    st.expect(await s.put("operator", f"/api/billing/agreements/{small['agreement_id']}/limit",
                          {"limit_kopecks": 5_000_000}), 200)
    await st.apply(s, module, D(2026, 9, 1), "monthly")
    e = await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
    used = st.expect(await s.get("operator", f"/api/billing/agreements/{small['agreement_id']}"), 200)
    assert used["used_kopecks"] == e["reserved_kopecks"] > 0
    assert used["available_kopecks"] == 5_000_000 - e["reserved_kopecks"]
