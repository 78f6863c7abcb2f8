"""The school year through the portal's pages only, in Debian's Chromium against the real platform
behind the real gateway.

The region, the provider and its certified program are set up through the API (another portal's
business); from there on every step is a person on a page: the parent applies for a certificate,
the municipal operator approves it, the parent finds the module in the navigator with the cost to
the family for her child, enrols and watches the provider's confirmation arrive as an offer
(договор-оферта), which she accepts on her page; the provider fills September in the journal grid; the parent sees the marks, disputes
one; the operator upholds the dispute and closes the month; the parent sees the debits; the finance
user exports the orders; the parent rates the finished program on the four scales.

The services' business calendar moves with ``StoryClock`` (24 Aug → 30 Sep → 1 Oct 2026). Every
page the story passes: its own host only, no script error, no serious or critical axe-core
violation. Screenshots: .work/test-artefacts/portal/story-*.png.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_registry.domain.identifiers import generate_snils
from pfdo_testkit import browser as browser_checks
from pfdo_testkit.browser import Browser, chromium, rub
from pfdo_testkit.sign_in import sign_in_as, sign_out

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SUITE = "portal"
D = dt.date
NOMINAL = 3_000_000
PRICE, NORMATIVE = 1_200_000, 900_000
"""The September group's price and normative cost: the family pays the difference."""
SEPTEMBER = [D(2026, 9, day) for day in (1, 3, 8, 10, 15, 17, 22, 24, 29)]
"""The group's lessons: Tuesdays and Thursdays of September 2026."""
ABSENT, DISPUTED = D(2026, 9, 17), D(2026, 9, 29)


@dataclass
class Year:
    gateway: str
    s: st.Story
    clock: st.StoryClock

    def person(self, key: str) -> st.Person:
        return self.s.people[key]


@pytest.fixture(scope="module")
async def year(platform_factory, auth, tmp_path_factory) -> AsyncIterator[Year]:  # noqa: ANN001
    clock = st.StoryClock(tmp_path_factory.mktemp("story-clock"))
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(
        db_prefix="story", portal=True,
        extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)},
        service_env={"navigator": {"PFDO_JOBS_INTERVAL_S": "0.5"},
                     "portal": {"PFDO_PORTAL_REGION_NAME": "Липецкая область"}})
    gw = httpx.AsyncClient(base_url=platform.gateway_url, timeout=30)
    s = st.Story(gw, st.TestAuthTokens(auth), st.cast("story"))
    try:
        await st.open_region(s)
        await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=NOMINAL)
        await st.register_provider(s, "ООО «Кванториум»")
        await st.approve_provider(s)
        await st.create_program(s, "robotics", name="Робототехника", description="Конструирование роботов.",
                                direction="technical",
                                module=st.module_body("Сентябрьская группа", starts=D(2026, 9, 1),
                                                      ends=D(2026, 9, 30), weekdays=(2, 4), price=PRICE))
        await st.certify_program(s, "robotics", {s.ids["robotics_module"]: NORMATIVE})
        await st.wait_in_catalogue(s, [s.ids["robotics_module"]])
    except BaseException:
        print(platform.logs(40))
        await gw.aclose()
        raise
    yield Year(platform.gateway_url, s, clock)
    await gw.aclose()


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, f"story-{name}")


async def sign_in(browser: Browser, year: Year, key: str, next_page: str):  # noqa: ANN201
    """``browser``'s page on ``next_page``, signed in as the story's ``key`` person."""
    who = year.person(key)
    page = await browser.open("/")
    await sign_in_as(page, year.gateway, who.role, who.sub, municipality=who.municipality,
                     provider_id=who.provider_id, next_page=next_page)
    return page


async def test_a_school_year_through_the_pages(year: Year) -> None:  # noqa: PLR0915
    s, gateway = year.s, year.gateway
    snils = generate_snils(s.rng)
    async with chromium(gateway) as family, chromium(gateway) as staff:
        # --- 24 Aug: the parent applies for a certificate, the municipal operator approves it ---------
        page = await sign_in(family, year, "parent", "/cabinet/apply")
        await page.get_by_label("Фамилия").fill("Соколов")
        await page.get_by_label("Имя", exact=True).fill("Артём")
        await page.get_by_label("Дата рождения").fill("2015-03-14")
        await page.get_by_label("СНИЛС ребёнка").fill(f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}")
        await page.get_by_label("Муниципалитет проживания").select_option(st.MUNICIPALITY)
        await page.get_by_label(re.compile("согласие на обработку персональных данных")).check()
        await page.get_by_role("button", name="Подать заявление").click()
        await page.wait_for_url(re.compile(r"/cabinet\?applied="))

        page = await sign_in(staff, year, "operator", "/operator/applications")
        await page.get_by_role("button", name="Одобрить заявление: Соколов Артём").click()
        await page.get_by_role("status").first.wait_for()
        await assert_sound(staff, page, "operator-approved")
        certificates = await s.all_items("parent", "/api/registry/certificates")
        assert len(certificates) == 1 and certificates[0]["status"] == "active"
        number = certificates[0]["number"]
        s.ids["certificate"] = str(certificates[0]["id"])
        await sign_out(page, gateway)

        # --- the parent finds the module with the cost to the family for Артём -------------------
        page = await family.open("/cabinet")
        assert number in await page.locator(".certificate").inner_text()
        await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")
        page = await family.open("/?q=Робототехника")
        await page.get_by_label("Для ребёнка").select_option(label="Артём Соколов")
        quote = await st.billing_quote(s, s.ids["robotics_module"], D(2026, 9, 1))
        assert quote["family_kopecks"] > 0
        cost = page.locator(".family-cost").first
        await cost.locator(".family-cost__total", has_text=rub(quote["family_kopecks"])).wait_for()
        await assert_sound(family, page, "search-family-cost")

        # --- she enrols; the provider confirms; she accepts the offer: "Договор заключён" ---------
        await page.get_by_role("link", name=re.compile("Робототехника")).first.click()
        await page.get_by_role("link", name=re.compile("Стоимость для семьи и запись")).click()
        await page.wait_for_url(re.compile(r"/cabinet/enrol/"))
        assert rub(quote["family_kopecks"]) in await page.locator(".quote").inner_text()
        await page.get_by_label("По факту посещения").check()
        await page.get_by_role("button", name="Записаться").click()
        await page.wait_for_url(re.compile(r"/cabinet/enrolments/[0-9a-f-]{36}$"))
        enrolment_path = page.url.removeprefix(gateway)
        s.ids["enrolment"] = enrolment_path.rsplit("/", 1)[1]
        await page.locator(".status__now", has_text="Средства зарезервированы").wait_for(timeout=30_000)

        provider = await sign_in(staff, year, "provider", "/provider")
        await provider.locator("table.applications tbody tr").filter(has_text="Сентябрьская группа").get_by_role(
            "button", name="Подтвердить").click()
        await provider.get_by_role("status").filter(has_text="Заявка подтверждена").wait_for()
        await page.locator(".status__now", has_text="Ожидает акцепта оферты").wait_for(timeout=30_000)
        # the provider's confirmation issued the offer: she opens it and accepts it
        await page.get_by_role("link", name="Перейти к оферте").click()
        await page.locator("#offer").get_by_role("button", name="Принять оферту").click()
        await page.wait_for_url(re.compile(r"done=accepted"))
        await page.locator(".status__now", has_text="Договор заключён").wait_for(timeout=30_000)
        await assert_sound(family, page, "enrolment-confirmed")

        # --- 30 Sep: the provider fills September in the journal grid, one absence --------------
        year.clock.set(D(2026, 9, 30))
        await provider.goto(f"{gateway}/provider/groups/{s.ids['robotics_module']}?month=2026-09")
        await provider.get_by_role("heading", name="Сентябрьская группа: журнал за сентябрь 2026").wait_for()
        await provider.get_by_role("button", name="Заполнить строку: Ребёнок 1").click()
        await provider.locator(f'select[name$=".{ABSENT.isoformat()}"]').select_option("absent")
        await provider.get_by_role("button", name="Сохранить месяц").click()
        await provider.get_by_role("status").filter(has_text="Отметки месяца сохранены.").wait_for()
        await assert_sound(staff, provider, "journal-saved")
        await sign_out(provider, gateway)

        # --- the parent sees the marks and disputes the last one ---------------------------------
        page = await family.open(enrolment_path)
        september = page.locator("#month-2026-09")
        rows = await september.locator(".marks-table tbody tr").all_inner_texts()
        assert len(rows) == len(SEPTEMBER), rows
        assert "Отсутствовал" in rows[SEPTEMBER.index(ABSENT)] or "Отсутств" in rows[SEPTEMBER.index(ABSENT)], rows
        assert "месяц ещё не закрыт" in await september.locator(".month__debit").inner_text()
        await september.get_by_role("link", name=f"Оспорить отметку за {DISPUTED:%d.%m.%Y}").click()
        form = page.locator("#dispute")
        await form.get_by_label("Комментарий для муниципалитета").fill("Артём болел, справка есть.")
        await form.get_by_role("button", name="Оспорить отметку").click()
        await page.get_by_role("status").first.wait_for()
        await assert_sound(family, page, "mark-disputed")

        # --- 1 Oct: the operator upholds the dispute and closes September ----------------------
        year.clock.set(D(2026, 10, 1))
        page = await sign_in(staff, year, "operator", "/operator/disputes")
        dispute = page.locator("article.dispute").first
        assert "Артём болел" in await dispute.inner_text()
        await dispute.get_by_label(re.compile("Удовлетворить")).check()
        await dispute.get_by_role("button", name="Принять решение").click()
        await page.get_by_role("status").first.wait_for()
        await assert_sound(staff, page, "dispute-upheld")
        await sign_out(page, gateway)

        page = await sign_in(staff, year, "region", "/operator/months?month=2026-09")
        await page.get_by_role("button", name="Закрыть журнал месяца").click()
        await page.get_by_text("Журнал закрыт").first.wait_for()
        close = page.get_by_role("button", name="Закрыть месяц", exact=True)
        for _ in range(30):  # billing applies the journal's last saves before it lets the month close
            if await close.count():
                break
            await page.wait_for_timeout(1000)
            await page.reload()
        await close.click()
        await page.locator(".step-done", has_text="Месяц закрыт.").wait_for(timeout=60_000)
        await assert_sound(staff, page, "month-closed")
        orders = [o for o in await st.payment_orders(s) if o["month"] == "2026-09" and o["kind"] == "final"]
        assert len(orders) == 1, orders
        posted = orders[0]["base_kopecks"]
        attended = len(SEPTEMBER) - 2  # the absence and the upheld dispute
        certificate_part = quote["schedule"][0]["certificate_kopecks"]
        assert posted == certificate_part * attended // len(SEPTEMBER)
        await sign_out(page, gateway)

        # --- the parent sees what September cost the certificate and the family ---------------
        page = await family.open(enrolment_path)
        debit = await page.locator("#month-2026-09 .month__debit").inner_text()
        assert rub(posted) in debit, debit
        await assert_sound(family, page, "september-debited")

        # --- the finance user exports the orders of September ----------------------------------
        page = await sign_in(staff, year, "finance", "/finance?month=2026-09")
        assert "ООО «Кванториум»" in await page.locator("main").inner_text()
        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="Скачать CSV").click()
        download = await waiting.value
        text = (await download.path()).read_text(encoding="utf-8-sig")
        lines = list(csv.reader(io.StringIO(text), delimiter=";"))
        roubles = f"{posted // 100},{posted % 100:02d}"
        assert any(roubles in ";".join(line) for line in lines[1:]), lines
        await assert_sound(staff, page, "finance-register")

        # --- the contract has ended: the parent rates the program on the four scales ------------
        await st.enrolment_when(s, "the contract ended", lambda e: e["state"] == "ended")
        page = await family.open(enrolment_path)
        for _ in range(30):  # the ratings service hears of the ended contract from the bus
            if await page.locator("#rating form").count():
                break
            await page.wait_for_timeout(1000)
            page = await family.open(enrolment_path)
        rating = page.locator("#rating")
        scales = rating.locator("fieldset.scale")
        assert await scales.count() == 4
        for index in range(4):
            await scales.nth(index).locator("label.scale__step").last.click()
        await rating.get_by_label("Отзыв (необязательно)").fill("Сыну очень понравилось.")
        await rating.get_by_role("button", name="Оценить программу").click()
        await page.get_by_role("status").first.wait_for()
        await assert_sound(family, page, "rated")
        mine = (await s.get("parent", "/api/ratings/me/ratings")).json()
        rated = [item for item in mine["items"] if item.get("rating")]
        assert len(rated) == 1, mine
