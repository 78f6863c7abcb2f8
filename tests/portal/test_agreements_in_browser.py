"""Agreements with payers in Debian's Chromium, through the real gateway in front of the real
services: the municipality's operator sees the agreement the story concluded, ends it, concludes
a new one on the form (the limit typed the Russian way) and raises its limit; the provider reads
its agreements. Every page: no request to another host, no script error, no serious or critical
axe-core violation (pfdo_testkit.browser.assert_sound). Screenshots in
.work/test-artefacts/portal/agreements-*.png."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_testkit.browser import assert_sound, chromium, rub
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

D = dt.date


async def test_the_operator_concludes_changes_and_ends_agreements_the_provider_reads_them(  # noqa: ANN001
        platform_factory, auth, tmp_path) -> None:
    clock = st.StoryClock(tmp_path)
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(db_prefix="agreements", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), st.cast("agreements"))
        try:
            await st.open_region(s)
            await st.register_provider(s, "ООО «Кванториум»")
            await st.approve_provider(s)
            await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=3_000_000)
            first = s.ids[f"agreement_{st.MUNICIPALITY}"]
            await pages(platform.gateway_url, s, first)
        except BaseException:
            print(platform.logs(40))
            raise


async def pages(gateway: str, s: st.Story, first: str) -> None:
    operator, provider = s.people["operator"], s.people["provider"]
    async with chromium(gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_as(page, gateway, operator.role, operator.sub, municipality=operator.municipality,
                         next_page="/operator/agreements")
        await page.get_by_role("heading", name="Соглашения с поставщиками", level=1).wait_for()
        row = page.get_by_role("row").filter(has_text="ООО «Кванториум»")
        await row.filter(has_text="действует с 01.07.2026").wait_for()
        await assert_sound(desktop, page, "portal", "agreements-operator")

        # the operator ends it
        number = st.expect(await s.get("operator", f"/api/billing/agreements/{first}"), 200)["number"]
        await page.get_by_role("button", name=f"Расторгнуть соглашение {number}").click()
        await page.get_by_role("status").filter(has_text="Соглашение расторгнуто").wait_for()
        ended = st.expect(await s.get("operator", f"/api/billing/agreements/{first}"), 200)
        assert ended["status"] == "ended"

        # and concludes a new one on the form, the limit typed the Russian way
        await page.get_by_label("Номер соглашения").fill("С-2026/17")
        await page.get_by_label("Организация").select_option(label="ООО «Кванториум»")
        await page.get_by_label("Годовой лимит, ₽").fill("1 500 000,00")
        await page.get_by_label("Дата заключения").fill("25.08.2026")
        await page.get_by_role("button", name="Заключить соглашение").click()
        await page.get_by_role("status").filter(has_text="Соглашение заключено.").wait_for()
        new = page.get_by_role("row").filter(has_text="С-2026/17")
        await new.filter(has_text=rub(150_000_000)).wait_for()
        await assert_sound(desktop, page, "portal", "agreements-concluded")
        made = [a for a in await s.all_items("operator", "/api/billing/agreements") if a["number"] == "С-2026/17"]
        assert [(a["limit_kopecks"], a["concluded_on"], a["status"]) for a in made] == [
            (150_000_000, "2026-08-25", "active")]

        # its limit raised
        await page.get_by_label("Новый лимит соглашения С-2026/17, ₽").fill("2 000 000")
        await page.get_by_role("button", name="Изменить лимит соглашения С-2026/17").click()
        await page.get_by_role("status").filter(has_text="Лимит соглашения изменён.").wait_for()
        await page.get_by_role("row").filter(has_text="С-2026/17").filter(has_text=rub(200_000_000)).first.wait_for()

    async with chromium(gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_as(page, gateway, provider.role, provider.sub, provider_id=provider.provider_id,
                         next_page="/provider/agreements")
        await page.get_by_role("heading", name="Соглашения с уполномоченными органами", level=1).wait_for()
        await page.get_by_role("row").filter(has_text="С-2026/17").filter(has_text=rub(200_000_000)).wait_for()
        await page.get_by_role("row").filter(has_text="расторгнуто").filter(has_text="Липецк").wait_for()
        await assert_sound(desktop, page, "portal", "agreements-provider")
