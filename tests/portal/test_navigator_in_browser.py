"""The portal's navigator as a visitor uses it: Debian's Chromium (headless, driven by Playwright)
opens the real portal through the real nginx gateway, in front of the four real services over
Kafka and PostgreSQL, with a provider's certified programs in the catalogue.

Every page: no request to another host (aborted and recorded), no script error, no serious or
critical axe-core violation, no sideways scrolling at 375 px. Screenshots go to
.work/test-artefacts/portal/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_testkit import browser as browser_checks
from pfdo_testkit.browser import PHONE, Browser, chromium, horizontal_overflow, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SUITE = "portal"
NNBSP, NBSP = "\u202f", "\u00a0"
STARTS, ENDS = dt.date(2027, 1, 11), dt.date(2027, 5, 31)
PAGE_SIZE = 3


@dataclass
class Catalogue:
    gateway: str
    robotics: str
    """The robotics program's id (two groups)."""


@pytest.fixture(scope="module")
async def catalogue(platform_factory, auth) -> Catalogue:  # noqa: ANN001
    platform = await platform_factory(db_prefix="portal", portal=True, extra_env={"PFDO_LOG_LEVEL": "WARNING"},
                                      service_env={"portal": {"PFDO_PORTAL_PAGE_SIZE": str(PAGE_SIZE),
                                                              "PFDO_PORTAL_REGION_NAME": "Липецкая область"}})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), st.cast("portal"))
        try:
            await st.open_region(s)
            await st.register_provider(s, "ООО «Кванториум»")
            await st.approve_provider(s)
            robotics = await st.create_program(
                s, "robotics", name="Робототехника", description="Конструирование и программирование роботов.",
                direction="technical", module=st.module_body("Группа 1 (9–12 лет)", starts=STARTS, ends=ENDS,
                                                             weekdays=(2, 4), price=1_500_000, capacity=12))
            second = await st.add_module(s, "robotics", st.module_body(
                "Группа 2 (13–17 лет)", starts=STARTS, ends=ENDS, weekdays=(6,), price=1_800_000))
            chess = await st.create_program(
                s, "chess", name="Шахматы", description="Шахматный клуб для начинающих.",
                direction="social_humanitarian", module=st.module_body("Шахматы, группа", starts=STARTS, ends=ENDS,
                                                                       weekdays=(1, 3), price=900_000))
            drawing = await st.create_program(
                s, "drawing", name="Рисунок и живопись", description="Акварель, гуашь и графика.",
                direction="artistic", module=st.module_body("Мастерская", starts=STARTS, ends=ENDS, weekdays=(5,),
                                                            price=2_345_678))
            await st.certify_program(s, "robotics", {str(m["id"]): 1_200_000 for m in second["modules"]})
            await st.certify_program(s, "chess", {str(chess["modules"][0]["id"]): 900_000})
            await st.certify_program(s, "drawing", {str(drawing["modules"][0]["id"]): 2_000_000})
            await st.wait_in_catalogue(s, [str(m["id"]) for p in (second, chess, drawing) for m in p["modules"]])
        except BaseException:
            print(platform.logs(40))
            raise
    return Catalogue(platform.gateway_url, str(robotics["id"]))


@pytest.fixture(scope="module")
async def desktop(catalogue: Catalogue) -> AsyncIterator[Browser]:
    async with chromium(catalogue.gateway) as browser:
        yield browser


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, name)


def prices(texts: list[str]) -> list[int]:
    """``["15 000,00 ₽", ...]`` -> kopecks."""
    return [int(re.sub(r"\D", "", t)) for t in texts]


async def test_anonymous_visitor_searches_and_opens_a_program(desktop: Browser, catalogue: Catalogue) -> None:
    page = await desktop.open("/")
    assert await page.get_attribute("html", "lang") == "ru"
    await page.get_by_role("heading", name="Поиск программ").wait_for()
    assert await page.locator(".brand__region").inner_text() == "Липецкая область"
    assert await page.get_by_role("link", name="Войти").get_attribute("href") == "/auth/login"
    assert "Найдено: 4 группы" in await page.locator("#results-heading").inner_text()
    # the facets count every direction of the catalogue
    assert await page.locator("#direction option[value=technical]").inner_text() == "Техническая (2)"
    await assert_sound(desktop, page, "navigator")

    # the keyboard: the skip link is the first stop and leads to the content
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "Перейти к содержанию"

    # a filter alone refreshes the results in place (htmx), the address follows
    await page.get_by_label("Направленность").select_option("artistic")
    await page.locator("#results-heading", has_text="Найдено: 1 группа").wait_for()
    await page.wait_for_url(re.compile(r"direction=artistic"))
    assert await page.locator(".hit__title").all_inner_texts() == ["Рисунок и живопись"]

    # words and a direction
    await page.get_by_label("Что ищете").fill("робототехника")
    await page.get_by_label("Направленность").select_option("technical")
    await page.get_by_role("button", name="Найти").click()
    await page.wait_for_url(re.compile(r"q=%D1%80%D0%BE%D0%B1"))
    await page.locator("#results-heading", has_text="Найдено: 2 группы").wait_for()
    assert await page.locator("#search-status").inner_text() == "Найдено: 2 группы"  # read out by screen readers
    titles = await page.locator(".hit__module").all_inner_texts()
    assert sorted(titles) == ["Группа 1 (9–12 лет)", "Группа 2 (13–17 лет)"]
    first = page.locator(".hit").filter(has_text="Группа 1 (9–12 лет)")
    assert f"15{NNBSP}000,00{NBSP}₽" in await first.inner_text()
    assert "вт 16:00–17:30" in await first.inner_text() and "12 из 12" in await first.inner_text()
    assert "11.01.2027 – 31.05.2027" in await first.inner_text()
    await assert_sound(desktop, page, "navigator-search")

    # the program's page
    await first.get_by_role("link", name="Робототехника").click()
    await page.wait_for_url(f"**/programs/{catalogue.robotics}")
    await page.get_by_role("heading", level=1, name="Робототехника").wait_for()
    text = await page.locator("main").inner_text()
    for expected in ("Липецк, ул. Гагарина, 10, каб. 21", "вторник, 16:00–17:30", "четверг, 16:00–17:30",
                     "суббота, 16:00–17:30", f"12{NNBSP}000,00{NBSP}₽", f"18{NNBSP}000,00{NBSP}₽",
                     "Нормативная стоимость", "Свободных мест", "12 из 12", "144 часа", "Техническая",
                     "Оценок пока нет", "11.01.2027 – 31.05.2027"):
        assert expected in text, expected
    await assert_sound(desktop, page, "program")


async def test_sort_by_price_and_pages_by_the_apis_cursor_without_javascript(catalogue: Catalogue) -> None:
    async with chromium(catalogue.gateway, javascript=False) as browser:
        page = await browser.open("/")
        await page.get_by_label("Порядок").select_option("price")
        await page.get_by_role("button", name="Показать").click()
        await page.wait_for_url(re.compile(r"sort=price"))
        first_page = prices(await page.locator(".hit__figures dd").filter(has_text="₽").all_inner_texts())
        assert first_page == [900_000, 1_500_000, 1_800_000]
        await page.get_by_role("link", name="Следующая страница").click()
        await page.wait_for_url(re.compile(r"cursor="))
        second_page = prices(await page.locator(".hit__figures dd").filter(has_text="₽").all_inner_texts())
        assert second_page == [2_345_678]
        assert f"23{NNBSP}456,78{NBSP}₽" in await page.locator(".hits").inner_text()
        assert await page.get_by_role("link", name="Следующая страница").count() == 0
        await page.get_by_role("link", name="В начало").click()
        assert len(await page.locator(".hit").all()) == PAGE_SIZE
        await screenshot(page, SUITE, "navigator-no-javascript", full_page=True)
        assert browser.elsewhere == [] and browser.page_errors == []

        # the filters: weekday and free seats; a direction's facet link
        await browser.open("/?weekday=5&free=1")
        assert await page_titles(browser) == ["Рисунок и живопись"]
        page = await browser.open("/")
        await page.locator(".facets").get_by_role("link", name=re.compile("Социально-гуманитарная")).click()
        assert await page_titles(browser) == ["Шахматы"]

        # the API's refusal is shown beside the form, in Russian
        page = await browser.open("/?age=40")
        assert "18" in await page.get_by_role("alert").inner_text()


async def tab_to(page, text: str, *, presses: int = 60) -> None:  # noqa: ANN001
    """Press Tab until the focused element's text is ``text``."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if (await page.evaluate("document.activeElement.textContent.trim()")) == text:
            return
    raise AssertionError(f"{text!r} was not reached with {presses} presses of Tab")


async def test_a_keyboard_alone_finds_and_opens_a_program(catalogue: Catalogue) -> None:
    async with chromium(catalogue.gateway, viewport=PHONE) as browser:
        page = await browser.open("/")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")  # the skip link: the next stop is the search field
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.id") == "q"
        await page.keyboard.type("шахматы")
        await page.keyboard.press("Enter")
        await page.locator("#results-heading", has_text="Найдено: 1 группа").wait_for()
        await tab_to(page, "Шахматы")
        await page.keyboard.press("Enter")
        await page.get_by_role("heading", level=1, name="Шахматы").wait_for()
        assert f"9{NNBSP}000,00{NBSP}₽" in await page.locator("main").inner_text()
        assert browser.elsewhere == [] and browser.page_errors == []


async def page_titles(browser: Browser) -> list[str]:
    return await browser.page.locator(".hit__title").all_inner_texts()


async def test_pages_fit_a_phone_and_missing_pages_say_so(catalogue: Catalogue) -> None:
    async with chromium(catalogue.gateway, viewport=PHONE) as browser:
        for path, name in (("/", "navigator-phone"), (f"/programs/{catalogue.robotics}", "program-phone")):
            page = await browser.open(path)
            assert await horizontal_overflow(page) == 0, path
            await assert_sound(browser, page, name)
        page = await browser.open("/programs/00000000-0000-4000-8000-000000000000", status=404)
        await page.get_by_role("heading", name="Страница не найдена").wait_for()
        # the browser's console notes the page's own status; nothing else may go wrong
        assert [e for e in browser.page_errors if "status of 404" not in e] == [], browser.page_errors
        browser.page_errors.clear()
        await assert_sound(browser, page, "not-found-phone")
        page = await browser.open("/nothing/here", status=404)
        assert await page.get_by_role("link", name="Вернуться к поиску программ").count() == 1


def test_the_gateway_serves_the_portal_at_the_root_and_keeps_the_apis(catalogue: Catalogue) -> None:
    with httpx.Client(base_url=catalogue.gateway, timeout=30) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        # the portal's referrer policy (a form posted to it carries its Origin); one of each gateway header
        assert page.headers.get_list("referrer-policy") == ["same-origin"]
        assert page.headers.get_list("x-content-type-options") == ["nosniff"]
        assert page.headers.get_list("x-frame-options") == ["DENY"] and page.headers["x-request-id"]
        htmx = client.get("/static/vendor/htmx.min.js")
        assert htmx.status_code == 200 and htmx.headers["content-type"].startswith("text/javascript")
        api = client.get("/api/navigator/programs")
        assert api.status_code == 200 and api.headers.get_list("referrer-policy") == ["no-referrer"]
        unknown_api = client.get("/api/portal/programs")
        assert unknown_api.status_code == 404 and unknown_api.json()["code"] == "not_found"
        unknown_page = client.get("/no/such/page")
        assert unknown_page.status_code == 404 and "Страница не найдена" in unknown_page.text
        assert client.get("/docs").status_code == 200
