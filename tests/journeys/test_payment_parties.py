"""The two sides of a payment order reach billing, end to end through the gateway over real Kafka
and PostgreSQL: the regional operator sets a municipality's payer details, a provider registers
with its bank details and later changes them; billing keeps the newest revision of each in its
own tables (``payees``, ``payers``), which payment orders and the bank file read."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import asyncpg
import httpx
import pytest

from pfdo_devstack import story as st

pytestmark = pytest.mark.integration

D = dt.date


async def _row_when(dsn: str, sql: str, arg: object, test, timeout: float = 30.0) -> dict:  # noqa: ANN001
    conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg://", "postgresql://"), timeout=10)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            row = await conn.fetchrow(sql, arg)
            if row is not None and test(dict(row)):
                return dict(row)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"billing did not get there: {sql} {arg} -> {row}")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def test_billing_learns_the_payee_and_payer_details_from_the_registry(platform_factory, auth, tmp_path) -> None:  # noqa: ANN001
    clock = st.StoryClock(tmp_path)
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(extra_env={"PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    billing = platform.databases["billing"]
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), st.cast("parties"))
        try:
            await st.open_region(s)  # with the payer details of «01»
            payer = await _row_when(billing, "SELECT * FROM payers WHERE municipality_code = $1", st.MUNICIPALITY,
                                    lambda r: r["revision"] == 1)
            listed = st.expect(await s.get("region", "/api/registry/municipalities"), 200)["items"]
            [mine] = [m["payer"] for m in listed if m["code"] == st.MUNICIPALITY]
            assert (payer["name"], payer["inn"], payer["kpp"], payer["account"]) == (
                mine["authority_name"], mine["inn"], mine["kpp"], mine["settlement_account"])

            provider = await st.register_provider(s, "ООО «Кванториум»")
            payee = await _row_when(billing, "SELECT * FROM payees WHERE provider_id = $1::uuid", str(provider["id"]),
                                    lambda r: r["revision"] == 1)
            assert (payee["name"], payee["inn"], payee["kpp"], payee["bik"], payee["account"]) == (
                "ООО «Кванториум»", provider["inn"], provider["kpp"], provider["bik"], provider["settlement_account"])

            # the provider moves to another bank: billing follows
            other = st.bank_details(random.Random(26), bank="ПАО Сбербанк")
            changed = st.expect(await s.put("provider", f"/api/registry/providers/{provider['id']}/bank-details",
                                            other), 200)
            assert changed["details_revision"] == 2
            payee = await _row_when(billing, "SELECT * FROM payees WHERE provider_id = $1::uuid", str(provider["id"]),
                                    lambda r: r["revision"] == 2)
            assert (payee["bank_name"], payee["bik"], payee["account"], payee["correspondent_account"]) == (
                "ПАО Сбербанк", other["bik"], other["settlement_account"], other["correspondent_account"])
            # a mistyped account is refused with its code and changes nothing
            typo = other | {"settlement_account": other["settlement_account"][:-1]
                            + str((int(other["settlement_account"][-1]) + 1) % 10)}
            r = await s.put("provider", f"/api/registry/providers/{provider['id']}/bank-details", typo)
            assert r.status_code == 422 and r.json()["code"] == "account_checksum", r.text
        except BaseException:
            print(platform.logs(40))
            raise
