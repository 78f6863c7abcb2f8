"""The operator's dashboard and disputes in Debian's Chromium, through the real gateway in front of
the real services, on a business clock (pfdo_testkit.enrolled_region: a certificate applied for
and issued on 24 August 2026, an enrolment requested on 26 August and confirmed, the child marked
present on 1 and 3 September). On 4 September the parent disputes the mark of 3 September.

The municipal operator's dashboard shows those figures: one application and one certificate on
24 August, one application for a group on 26 August (words, table, drawing), the money reserved
month by month as billing's quote said, the share of Липецк's children covered; the regional
operator sees «нет данных» for Елец, whose number of children is not given, and chooses one
municipality. The municipal operator reads the dispute (the mark, the claim, the comment, the
7-day window) and rejects it with a note on the page; the mark stands (API) and the dispute is
listed as decided. A provider is refused both pages.

Every page: own host only, no script error, no serious or critical axe-core violation, no sideways
scrolling at 375 px. Screenshots in .work/test-artefacts/portal/dashboard-*.png.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_portal.formatting import money
from pfdo_testkit import browser as browser_checks
from pfdo_testkit.browser import PHONE, Browser, chromium, horizontal_overflow
from pfdo_testkit.enrolled_region import EnrolledRegion, enrolled_region
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

SUITE = "portal"
CHILDREN = 200
COMMENT = "Артём болел 3 сентября, справка есть."
NOTE = "Журнал группы подтверждён педагогом."
MONTH_NAMES = ("апрель 2026", "май 2026", "июнь 2026", "июль 2026", "август 2026", "сентябрь 2026", "октябрь 2026",
               "ноябрь 2026", "декабрь 2026", "январь 2027", "февраль 2027", "март 2027")


@pytest.fixture(scope="module")
async def region(platform_factory, auth, tmp_path_factory) -> AsyncIterator[EnrolledRegion]:  # noqa: ANN001
    clock = st.StoryClock(tmp_path_factory.mktemp("dashboard-clock"))
    clock.set(dt.date(2026, 8, 24))
    platform = await platform_factory(db_prefix="dashboard", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        try:
            found = await enrolled_region(platform.gateway_url, gw, auth, clock, "dashboard", children_count=CHILDREN)
            s = found.story
            [mark] = [m for m in await st.marks(s, "2026-09") if m["lesson_date"] == "2026-09-03"]
            s.ids["dispute"] = str((await st.open_dispute(s, mark["mark_id"], "absent", COMMENT))["dispute_id"])
        except BaseException:
            print(platform.logs(40))
            raise
        yield found


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, name)


async def sign_in_municipal(page, region: EnrolledRegion, next_page: str) -> None:  # noqa: ANN001
    operator = region.story.people["operator"]
    await sign_in_as(page, region.gateway, operator.role, operator.sub, municipality=operator.municipality,
                     next_page=next_page)


def cells(rows: list[str]) -> list[list[str]]:
    return [[cell.strip() for cell in row.split("\t")] for row in rows]


async def test_the_dashboard_shows_the_figures_of_the_story(region: EnrolledRegion) -> None:
    quote = region.quote
    reserved = {line["month"]: line["certificate_kopecks"] for line in quote["schedule"]}
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_municipal(page, region, "/operator")
        await page.get_by_role("heading", level=1, name="Сводка: Липецк").wait_for()
        assert await page.get_by_label("Муниципалитет", exact=True).count() == 0  # a municipal operator has one

        # per day: words, the table (opened), the drawing
        daily = page.locator("section", has=page.get_by_role("heading", name="Заявления и записи по дням"))
        assert re.sub(r"\s+", " ", await daily.locator(".chart__summary").inner_text()) == (
            "С 06.08.2026 по 04.09.2026: заявления на сертификат — 1; выдано сертификатов — 1; "
            "заявки на запись в группы — 1.")
        await daily.get_by_text("Таблица по дням").click()
        table = cells(await daily.locator("table tbody tr").all_inner_texts())
        assert len(table) == 30 and table[0][0] == "04.09.2026" and table[-1][0] == "06.08.2026"
        by_day = {row[0]: row[1:] for row in table}
        assert by_day["24.08.2026"] == ["1", "1", "0"] and by_day["26.08.2026"] == ["0", "0", "1"]
        assert sum(int(n) for row in table for n in row[1:]) == 3
        svg = daily.locator("svg.column-chart")
        assert await svg.get_attribute("aria-hidden") == "true"
        assert await svg.locator("rect.column--applications").count() == 1
        assert await svg.locator("rect.column--requested").count() == 1
        assert "Договор заключён: 1" in await daily.inner_text()

        # money per month: reserved as billing's quote said, nothing spent yet
        rows = cells(await page.locator("#money-table tbody tr").all_inner_texts())
        assert [r[0] for r in rows] == list(MONTH_NAMES)
        months = [f"{2026 + (3 + i) // 12}-{(3 + i) % 12 + 1:02d}" for i in range(12)]
        assert [r[1] for r in rows] == [money(reserved.get(m, 0)) for m in months]
        assert {r[2] for r in rows} == {money(0)}
        total = sum(reserved.get(m, 0) for m in months)
        assert money(total) in await page.locator("section", has=page.locator("#money-table")).inner_text()

        # certificates and the share of the children covered: 1 of 200
        coverage = cells(await page.locator("#coverage-table tbody tr").all_inner_texts())
        assert coverage == [["Липецк", "200 детей", "1", "0,5\u00a0%"]]
        await assert_sound(browser, page, "dashboard-municipal")

    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        region_person = region.story.people["region"]
        await sign_in_as(page, region.gateway, "regional_operator", region_person.sub, next_page="/operator")
        await page.get_by_role("heading", level=1, name="Сводка: Вся область").wait_for()
        coverage = cells(await page.locator("#coverage-table tbody tr").all_inner_texts())
        assert coverage == [["Липецк", "200 детей", "1", "0,5\u00a0%"], ["Елец", "нет данных", "0", "нет данных"]]
        assert "не указано в реестре" in await page.locator("main").inner_text()
        await assert_sound(browser, page, "dashboard-region")
        await page.get_by_label("Муниципалитет", exact=True).select_option(label="Елец")
        await page.get_by_role("button", name="Показать").click()
        await page.get_by_role("heading", level=1, name="Сводка: Елец").wait_for()
        assert "заявления на сертификат — 0" in await page.locator("main").inner_text()
        assert cells(await page.locator("#coverage-table tbody tr").all_inner_texts()) == [
            ["Елец", "нет данных", "0", "нет данных"]]


async def test_the_operator_rejects_the_dispute_with_a_note(region: EnrolledRegion) -> None:
    s = region.story
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_municipal(page, region, "/operator/disputes")
        await page.get_by_role("heading", level=1, name="Споры по отметкам").wait_for()
        card = page.locator(f"#dispute-{s.ids['dispute']}")
        text = re.sub(r"\s+", " ", await card.inner_text())
        for expected in ("Занятие 03.09.2026 · Робототехника: Группа 1", "Отметка поставщика Присутствовал",
                         "Родитель считает верным Отсутствовал", "Спор подан 04.09.2026",
                         "отметка от 04.09.2026, оспорить до 11.09.2026 — подан в срок", COMMENT):
            assert expected in text, (expected, text)
        assert "Решённых споров пока нет." in await page.locator("main").inner_text()
        await assert_sound(browser, page, "dashboard-disputes-open")

        await card.get_by_label(re.compile("Отклонить")).check()
        await card.get_by_label("Комментарий к решению (необязательно)").fill(NOTE)
        await card.get_by_role("button", name="Принять решение").click()
        await page.wait_for_url(re.compile(r"/operator/disputes\?done=rejected$"))
        await page.get_by_role("status").filter(has_text="спор отклонён, отметка осталась прежней").wait_for()
        assert "Споров, ожидающих решения, нет." in await page.locator("main").inner_text()
        decided = [re.sub(r"\s+", " ", text) for text in await page.locator(".decided .card").all_inner_texts()]
        assert decided == [f"Занятие 03.09.2026 · Робототехника: Группа 1 Отклонено 04.09.2026: родитель просил "
                           f"исправить на «Отсутствовал» Комментарий родителя: {COMMENT} Комментарий к решению: {NOTE}"]
        await assert_sound(browser, page, "dashboard-disputes-decided")

    answer = st.expect(await s.get("operator", f"/api/navigator/disputes/{s.ids['dispute']}"), 200)
    assert answer["state"] == "rejected"
    [mark] = [m for m in await st.marks(s, "2026-09") if m["lesson_date"] == "2026-09-03"]
    assert mark["status"] == "present"  # the mark stands


async def test_the_pages_fit_a_phone_and_are_refused_to_a_provider(region: EnrolledRegion) -> None:
    async with chromium(region.gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_municipal(page, region, "/operator")
        for path, name in (("/operator", "dashboard-phone"), ("/operator/disputes", "dashboard-disputes-phone")):
            page = await phone.open(path)
            assert await horizontal_overflow(page) == 0, path
            # the tables fit too (their own sideways scrolling is only a fallback), the closed one as well
            await page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            assert await page.evaluate(
                "[...document.querySelectorAll('.table-scroll')].every(e => e.scrollWidth <= e.clientWidth)"), path
            await assert_sound(phone, page, name)

    provider = region.story.people["provider"]
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, region.gateway, "provider", provider.sub, provider_id=provider.provider_id)
        for path in ("/operator", "/operator/disputes"):
            page = await browser.open(path, status=403)
            assert "Эта страница недоступна для вашей роли." in await page.locator("main").inner_text()
