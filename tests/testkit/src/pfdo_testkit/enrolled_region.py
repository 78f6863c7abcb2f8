"""A region with one child enrolled and marked, built over the public API on a business clock, for
the browser tests of the operator's dashboard and disputes and of the finance register.

On 24 August 2026 the region has two municipalities (Липецк with its number of children, Елец
without), a parent applies for a certificate and the operator approves it, a provider registers
and its program (one group, Tuesdays and Thursdays, 1 September 2026 – 31 May 2027) is certified,
the school year's period opens; on 26 August the parent enrols from 1 September (paid monthly) and
the provider confirms; on 4 September the provider marks the child present on 1 and 3 September.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx

from pfdo_devstack import story as st

D = dt.date
NOMINAL = 3_000_000
PRICE = 1_500_000
OTHER_MUNICIPALITY = ("02", "Елец")


@dataclass
class EnrolledRegion:
    gateway: str
    story: st.Story
    clock: st.StoryClock
    module_id: str
    program_id: str
    quote: dict[str, Any]
    """Billing's quote of the group from 1 September: the certificate's part month by month."""
    children_count: int


async def enrolled_region(gateway: str, gw: httpx.AsyncClient, auth: Any, clock: st.StoryClock, tag: str, *,
                          children_count: int) -> EnrolledRegion:
    s = st.Story(gw, st.TestAuthTokens(auth), st.cast(tag))
    clock.set(D(2026, 8, 24))
    st.expect(await s.put("region", f"/api/registry/municipalities/{st.MUNICIPALITY}",
                          {"name": "Липецк", "children_count": children_count}), 200)
    await st.set_payer(s, st.MUNICIPALITY, "Липецк")
    code, name = OTHER_MUNICIPALITY
    st.expect(await s.put("region", f"/api/registry/municipalities/{code}", {"name": name}), 200)
    await st.set_payer(s, code, name)
    await st.apply_for_certificate(s, surname="Соколов", first_name="Артём", birth_date=D(2015, 3, 14))
    await st.approve_certificate(s)
    await st.register_provider(s, "ООО «Кванториум»")
    await st.approve_provider(s)
    program = await st.create_program(
        s, "robotics", name="Робототехника", description="Конструирование роботов.", direction="technical",
        module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2027, 5, 31), weekdays=(2, 4), price=PRICE))
    module_id = str(program["modules"][0]["id"])
    await st.certify_program(s, "robotics", {module_id: PRICE})
    await st.wait_in_catalogue(s, [module_id])
    await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=NOMINAL)
    await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")

    clock.set(D(2026, 8, 26))
    quote = await st.billing_quote(s, module_id, D(2026, 9, 1))
    await st.apply(s, module_id, D(2026, 9, 1), "monthly")
    await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
    await st.confirm(s)
    await st.accept_offer(s)

    clock.set(D(2026, 9, 4))
    await st.post_attendance(s, module_id, [(D(2026, 9, 1), "present"), (D(2026, 9, 3), "present")])
    return EnrolledRegion(gateway, s, clock, module_id, str(program["id"]), quote, children_count)
