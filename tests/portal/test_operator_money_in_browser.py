"""The operator's money pages in Debian's Chromium, through the real gateway in front of the real
services. A child's certificate, a provider and its certified program are made through the API;
then the regional operator, on the pages only, creates the school year's period, types a nominal
the Russian way («30 000,00», after a wrong one told next to its field), sets caps and opens the
period (the certificate is credited); the child is enrolled and marked in September (API); on
2 October the operator freezes September's journal, issues the advances, closes the month and
reads its totals (the same figures as billing's); the reconciliation page says every invariant
holds. A municipal operator, on a 375 px phone, sees the pages without the region's buttons; a
parent gets 403.

Every page: no request to another host, no script error, no serious or critical axe-core
violation. Screenshots in .work/test-artefacts/portal/money-*.png.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_portal.formatting import money
from pfdo_testkit.browser import PHONE, Browser, axe_violations, chromium, horizontal_overflow, screenshot
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

SUITE = "portal"
D = dt.date
NOMINAL = 3_000_000


@dataclass
class Region:
    gateway: str
    story: st.Story
    clock: st.StoryClock
    module_id: str


@pytest.fixture(scope="module")
async def region(platform_factory, auth, tmp_path_factory) -> AsyncIterator[Region]:  # noqa: ANN001
    clock = st.StoryClock(tmp_path_factory.mktemp("money-clock"))
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(db_prefix="opmoney", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    gw = httpx.AsyncClient(base_url=platform.gateway_url, timeout=30)
    s = st.Story(gw, st.TestAuthTokens(auth), st.cast("money"))
    try:
        await st.open_region(s)
        await st.apply_for_certificate(s, surname="Соколов", first_name="Артём", birth_date=D(2015, 3, 14))
        await st.approve_certificate(s)
        await st.register_provider(s, "ООО «Кванториум»")
        await st.approve_provider(s)
        program = await st.create_program(
            s, "robotics", name="Робототехника", description="Конструирование роботов.", direction="technical",
            module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2027, 5, 31), weekdays=(2, 4),
                                  price=1_500_000))
        module_id = str(program["modules"][0]["id"])
        await st.certify_program(s, "robotics", {module_id: 1_500_000})
        await st.wait_in_catalogue(s, [module_id])
    except BaseException:
        print(platform.logs(40))
        await gw.aclose()
        raise
    yield Region(platform.gateway_url, s, clock, module_id)
    await gw.aclose()


async def assert_sound(browser: Browser, page, name: str, *, own_status: int | None = None) -> None:  # noqa: ANN001
    """``own_status``: the page itself answered it (a form drawn again with its messages), which
    the console notes; any other error fails."""
    await screenshot(page, SUITE, name, full_page=True)
    assert browser.elsewhere == [], browser.elsewhere
    noted = f"the server responded with a status of {own_status} "
    assert [e for e in browser.page_errors if own_status is None or noted not in e] == [], browser.page_errors
    browser.page_errors.clear()
    assert await axe_violations(page) == []


async def sign_in_region(page, region: Region, next_page: str) -> None:  # noqa: ANN001
    await sign_in_as(page, region.gateway, "regional_operator", region.story.people["region"].sub, next_page=next_page)


def status(page, text: str):  # noqa: ANN001, ANN201
    return page.get_by_role("status").filter(has_text=text)


async def test_the_region_creates_and_opens_a_period_with_nominals(region: Region) -> None:
    s = region.story
    async with chromium(region.gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_region(page, region, "/operator/periods")
        await page.get_by_role("heading", name="Периоды и номиналы", level=1).wait_for()
        await page.get_by_text("Периодов пока нет.").wait_for()
        await assert_sound(desktop, page, "money-periods-empty")

        assert await page.get_by_label("Первый день").input_value() == "01.09.2026"  # the next school year
        await page.get_by_label("Последний день").fill("31.08.2027")
        await page.get_by_role("button", name="Создать черновик периода").click()
        await status(page, "Черновик периода создан.").wait_for()
        await page.get_by_role("heading", name="Период 01.09.2026 – 31.08.2027: черновик").wait_for()
        [period] = await s.all_items("region", "/api/billing/periods")
        assert (period["starts_on"], period["status"]) == ("2026-09-01", "draft")
        s.ids["period"] = str(period["period_id"])
        await st.ensure_agreement(s)  # the provider's agreement with the municipality, for the enrolment below

        # a wrong amount: told next to its field, the typed text kept, nothing saved
        await page.get_by_label("Муниципалитет, строка 1").select_option(label="Липецк")
        await page.get_by_label("Возраст от, лет").first.fill("5")
        await page.get_by_label("Возраст до, лет").first.fill("17")
        amount = page.locator("#nominal_0_amount")
        await amount.fill("30 000,555")
        await page.get_by_role("button", name="Сохранить номиналы").click()
        await page.get_by_role("alert").filter(has_text="Проверьте номиналы.").wait_for()
        assert await amount.get_attribute("aria-invalid") == "true"
        assert "не больше двух цифр копеек" in await page.locator("#nominal_0_amount-error").inner_text()
        assert await amount.input_value() == "30 000,555"
        await assert_sound(desktop, page, "money-nominal-refused", own_status=422)

        await amount.fill("30 000,00")
        await page.get_by_role("button", name="Сохранить номиналы").click()
        await status(page, "Номиналы сохранены.").wait_for()
        nominals = page.get_by_role("region", name="Номиналы")
        assert " ".join((await nominals.locator("tbody tr").inner_text()).split()) == "Липецк 5–17 лет 30 000,00 ₽"

        await page.get_by_label("Сертификатов финансирования, не больше").fill("1 000")
        await page.get_by_label("Записей одного сертификата на направленность").fill("2")
        await page.get_by_role("button", name="Сохранить лимиты").click()
        await status(page, "Лимиты сохранены.").wait_for()
        caps = page.get_by_role("region", name="Лимиты")
        assert " ".join((await caps.locator("tbody tr").inner_text()).split()) == "Липецк 0 из 1000 без ограничения 2"
        assert await page.get_by_label("Сертификатов финансирования, не больше").input_value() == "1000"
        await assert_sound(desktop, page, "money-period-draft")

        await page.get_by_role("button", name="Открыть период").click()
        # a certificate becomes a funding one (and gets its nominal) when the child first enrols
        await status(page, "Период открыт. Номинал начислен сертификатам финансирования: 0.").wait_for()
        await page.get_by_role("heading", name="Период 01.09.2026 – 31.08.2027: открыт").wait_for()
        assert await page.get_by_role("button", name="Сохранить номиналы").count() == 0
        await assert_sound(desktop, page, "money-period-open")


async def test_the_region_freezes_and_closes_a_month_and_sees_its_totals(region: Region) -> None:
    s = region.story
    await st.apply(s, region.module_id, D(2026, 9, 1), "monthly")
    await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
    credited = await st.balance_when(s, "the nominal typed on the page", lambda b: b.get("nominal") == NOMINAL)
    assert credited["reserved"] > 0
    await st.confirm(s)
    await st.accept_offer(s)
    region.clock.set(D(2026, 9, 16))
    await st.post_attendance(s, region.module_id, [(D(2026, 9, 1), "present"), (D(2026, 9, 3), "present"),
                                                   (D(2026, 9, 8), "absent")])
    region.clock.set(D(2026, 10, 2))  # September is over
    async with chromium(region.gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_region(page, region, "/operator/months")
        await page.get_by_role("heading", name="Закрытие месяца: сентябрь 2026", level=1).wait_for()
        journal = page.locator("section", has=page.get_by_role("heading", name="Журнал посещаемости месяца"))
        assert "открыт: поставщики ещё отмечают" in await journal.inner_text()
        assert await page.get_by_role("button", name="Закрыть месяц", exact=True).count() == 0  # not yet
        await assert_sound(desktop, page, "money-month-open")

        await page.get_by_role("button", name="Закрыть журнал месяца").click()
        await status(page, "Журнал месяца закрыт").wait_for()

        async def closable() -> bool | None:
            await page.goto(region.gateway + "/operator/months?month=2026-09")
            return True if await page.get_by_role("button", name="Закрыть месяц", exact=True).count() else None

        await st.eventually(closable, "billing applied September's journal")
        assert "Сохранений журнала учтено в расчётах\n1 из 1" in await journal.inner_text()  # one save of 3 marks

        await page.get_by_role("button", name="Сформировать авансовые поручения").click()
        await status(page, "Авансовые платёжные поручения сформированы: новых 1.").wait_for()

        await page.get_by_role("button", name="Закрыть месяц", exact=True).click()
        await page.get_by_role("heading", name="Итоги закрытия").wait_for(timeout=60_000)
        await page.get_by_role("heading", name="Закрытие месяца: завершено").wait_for()
        figures = (await s.get("region", "/api/billing/months/2026-09/close")).json()
        assert (figures["status"], figures["contracts_closed"], figures["contracts_total"]) == ("done", 1, 1)
        totals = await page.locator("#close-progress").inner_text()
        assert "Закрыто договоров: 1 из 1 (частей: 1 из 1)." in totals
        assert money(figures["posted_kopecks"]) in totals and money(figures["released_kopecks"]) in totals
        assert await page.get_by_role("button", name="Закрыть месяц", exact=True).count() == 0  # done
        assert await page.get_by_role("button", name="Закрыть журнал месяца").count() == 0
        await assert_sound(desktop, page, "money-month-closed")
    spent = await st.balance_when(s, "September spent", lambda b: b.get("spent", 0) > 0)
    assert spent["spent"] == figures["posted_kopecks"] > 0


async def test_the_progress_block_polls_while_a_close_starts_and_then_stops(region: Region) -> None:
    """htmx reloads the block every second (CSP: scripts from the own host only); a close that
    billing does not report within the countdown stops the polling; without JavaScript the page
    offers the «Обновить» link instead."""
    path = "/operator/months?month=2026-10&started=3"
    async with chromium(region.gateway) as desktop:
        page = await desktop.open("/")
        polls: list[str] = []
        page.on("request", lambda r: "/progress" in r.url and polls.append(r.url.split("/operator/")[1]))
        await sign_in_region(page, region, path)
        await page.wait_for_timeout(5_000)
        assert polls == ["months/2026-10/progress?started=2", "months/2026-10/progress?started=1",
                         "months/2026-10/progress"]  # three polls, then none
        assert await page.locator("#close-progress[hx-trigger]").count() == 0
        await assert_sound(desktop, page, "money-month-polled")
    async with chromium(region.gateway, javascript=False) as plain:
        page = await plain.open("/")
        await sign_in_region(page, region, path)
        await page.get_by_role("link", name="Обновить").click()
        await page.get_by_role("heading", name="Закрытие месяца: не начато").wait_for()
        assert plain.elsewhere == []


async def test_the_reconciliation_holds(region: Region) -> None:
    async with chromium(region.gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_region(page, region, "/operator/reconciliation")
        await status(page, "Все проверки сходятся.").wait_for()
        rows = page.locator("table tbody tr")
        assert await rows.count() == 7
        assert await page.locator("td.check--ok").count() == 7
        assert await page.locator("td.check--broken").count() == 0
        await assert_sound(desktop, page, "money-reconciliation")
        await page.get_by_label("Период").select_option(label="01.09.2026 – 31.08.2027")
        await page.get_by_role("button", name="Проверить").click()
        await status(page, "Все проверки сходятся за период 01.09.2026 – 31.08.2027.").wait_for()


async def test_a_municipal_operator_on_a_phone_sees_no_region_actions(region: Region) -> None:
    operator = region.story.people["operator"]
    async with chromium(region.gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_as(page, region.gateway, "municipal_operator", operator.sub,
                         municipality=operator.municipality, next_page="/operator/periods")
        for path, heading, name in (("/operator/periods", "Периоды и номиналы", "money-phone-periods"),
                                    ("/operator/months?month=2026-09", "Закрытие месяца: сентябрь 2026",
                                     "money-phone-months"),
                                    ("/operator/reconciliation", "Сверка расчётов", "money-phone-reconciliation")):
            page = await phone.open(path)
            await page.get_by_role("heading", name=heading, level=1).wait_for()
            assert await horizontal_overflow(page) == 0, path
            for button in ("Открыть период", "Закрыть период", "Закрыть журнал месяца", "Закрыть месяц"):
                assert await page.get_by_role("button", name=button, exact=True).count() == 0, (path, button)
            await assert_sound(phone, page, name)
        page = await phone.open("/operator/periods")
        assert await page.get_by_text("Открывает и закрывает период региональный оператор.").count() == 1
        options = await page.locator("#cap_municipality option").all_inner_texts()
        assert options == ["Липецк"]
        caps = page.get_by_role("region", name="Лимиты")
        assert " ".join((await caps.locator("tbody tr").inner_text()).split()) == "Липецк 1 из 1000 без ограничения 2"


async def test_a_parent_gets_403_on_the_money_pages(region: Region) -> None:
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, region.gateway, "parent", region.story.people["parent"].sub, next_page="/")
        for path in ("/operator/periods", "/operator/months", "/operator/reconciliation"):
            answer = await page.goto(region.gateway + path)
            assert answer is not None and answer.status == 403, path
