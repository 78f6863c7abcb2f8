"""A parent's cabinet in Debian's Chromium against the real platform through the real gateway:
the parent applies for a certificate on the portal's form (with the consent), the operator
approves it, the parent sees the certificate and its balance chart, opens a module from the
program's page, reads the quote with its monthly schedule, enrols, and watches the enrolment turn
``reserved`` on its page (refreshed in place). A provider is refused the cabinet (403).

Every page: its own host only, no script error, no serious or critical axe-core violation, no
sideways scrolling at 375 px. Screenshots go to .work/test-artefacts/portal/.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_devstack.demo import TODAY, module_end, school_year
from pfdo_registry.domain.identifiers import generate_snils
from pfdo_testkit import browser as browser_checks
from pfdo_testkit.browser import PHONE, Browser, chromium, horizontal_overflow, rub
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

SUITE = "portal"
NOMINAL = 3_000_000
PRICE, NORMATIVE = 1_800_000, 1_350_000


@dataclass
class Family:
    gateway: str
    s: st.Story

    @property
    def parent(self) -> st.Person:
        return self.s.people["parent"]


@pytest.fixture(scope="module")
async def family(platform_factory, auth, tmp_path_factory) -> AsyncIterator[Family]:  # noqa: ANN001
    # the services' business day is the one this module computed its dates from (TODAY), also when
    # the run crosses midnight in the region
    clock = st.StoryClock(tmp_path_factory.mktemp("cabinet-clock"))
    clock.set(TODAY)
    platform = await platform_factory(db_prefix="cabinet", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)},
                                      service_env={"portal": {"PFDO_PORTAL_REGION_NAME": "Липецкая область"}})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), st.cast("cabinet"))
        try:
            await st.open_region(s)
            await st.register_provider(s, "ООО «Кванториум»")
            await st.approve_provider(s)
            weekdays = sorted({TODAY.isoweekday(), TODAY.isoweekday() % 7 + 1})
            await st.create_program(s, "robotics", name="Робототехника", description="Конструирование роботов.",
                                    direction="technical",
                                    module=st.module_body("Группа 1", starts=TODAY, ends=module_end(TODAY),
                                                          weekdays=weekdays, price=PRICE))
            await st.certify_program(s, "robotics", {s.ids["robotics_module"]: NORMATIVE})
            await st.wait_in_catalogue(s, [s.ids["robotics_module"]])
        except BaseException:
            print(platform.logs(40))
            raise
        yield Family(platform.gateway_url, s)


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, name)


async def test_a_parent_applies_sees_the_balance_chart_reads_the_quote_and_enrols(family: Family) -> None:
    s, gateway = family.s, family.gateway
    birth = TODAY.replace(year=TODAY.year - 10, day=min(TODAY.day, 28))
    snils = generate_snils(s.rng)
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "parent", family.parent.sub, next_page="/cabinet")
        await page.get_by_role("heading", level=1, name="Личный кабинет").wait_for()
        assert "У ваших детей пока нет сертификатов." in await page.locator("main").inner_text()
        await page.get_by_role("link", name="Подать заявление на сертификат").click()

        # the application, with the consent to personal data processing
        await page.get_by_role("heading", level=1, name="Заявление на сертификат").wait_for()
        await assert_sound(browser, page, "cabinet-apply")
        await page.get_by_label("Фамилия").fill("Соколов")
        await page.get_by_label("Имя", exact=True).fill("Артём")
        await page.get_by_label("Дата рождения").fill(birth.isoformat())
        await page.get_by_label("СНИЛС ребёнка").fill(f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}")
        await page.get_by_label("Муниципалитет проживания").select_option(st.MUNICIPALITY)
        await page.get_by_label(re.compile("согласие на обработку персональных данных")).check()
        await page.get_by_role("button", name="Подать заявление").click()
        await page.wait_for_url(re.compile(r"/cabinet\?applied="))
        applications = page.locator("#applications")
        assert "Артём Соколов" in await applications.inner_text()
        assert "На рассмотрении" in await applications.inner_text()
        await assert_sound(browser, page, "cabinet-application-pending")

        # the municipal operator approves (another person: through the API), the school year opens
        pending = await s.all_items("parent", "/api/registry/applications")
        s.ids["application"] = str(pending[0]["id"])
        cert = await st.approve_certificate(s)
        starts, ends = school_year(TODAY)
        await st.open_period(s, starts_on=starts, ends_on=ends, nominal=NOMINAL)
        # billing learns of the certificate: an accounting certificate, no money until its first paid enrolment
        await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")

        # the certificate: number, status, valid until
        page = await browser.open("/cabinet")
        certificate = page.locator(".certificate")
        text = await certificate.inner_text()
        for expected in (cert["number"], "Действует", dt.date.fromisoformat(cert["valid_until"]).strftime("%d.%m.%Y"),
                         "Сертификат учёта"):
            assert expected in text, expected
        assert await page.locator("#applications").count() == 0  # approved: now a certificate
        await assert_sound(browser, page, "cabinet-accounting-certificate")

        # the program's page -> the module's quote with the monthly schedule
        page = await browser.open(f"/programs/{s.ids['robotics_program']}")
        await page.get_by_role("link", name=re.compile("Стоимость для семьи и запись")).click()
        await page.wait_for_url(re.compile(r"/cabinet/enrol/"))
        await page.get_by_role("heading", level=1, name="Запись: Робототехника").wait_for()
        quote = await st.billing_quote(s, s.ids["robotics_module"], TODAY)
        assert quote["family_kopecks"] > 0  # the price is above the normative cost
        figures = await page.locator(".quote").inner_text()
        for amount in (quote["cost_kopecks"], quote["certificate_kopecks"], quote["family_kopecks"]):
            assert rub(amount) in figures, amount
        months = await page.locator(".schedule-table tbody tr").all_inner_texts()
        assert len(months) == len(quote["schedule"]) and len(months) >= 4
        first = quote["schedule"][0]
        assert rub(first["certificate_kopecks"]) in months[0] and rub(first["family_kopecks"]) in months[0]
        totals = await page.locator(".schedule-table tfoot").inner_text()
        assert rub(quote["certificate_kopecks"]) in totals and rub(quote["family_kopecks"]) in totals
        await assert_sound(browser, page, "cabinet-quote")

        # enrol: a CSRF-protected post, then the enrolment's page turns "reserved" by itself
        await page.get_by_label("По факту посещения").check()
        await page.get_by_role("button", name="Записаться").click()
        await page.wait_for_url(re.compile(r"/cabinet/enrolments/[0-9a-f-]{36}$"))
        await page.locator(".status__now", has_text="Средства зарезервированы").wait_for(timeout=30_000)
        steps = await page.locator(".steps__step--done").all_inner_texts()
        assert len(steps) == 2, steps
        text = await page.locator("main").inner_text()
        assert "Робототехника" in text and "Группа 1" in text and "Артём Соколов" in text
        assert "По факту посещения" in text
        await assert_sound(browser, page, "cabinet-enrolment-reserved")

        # the cabinet lists it; the certificate became funding: its balance per period, a chart and its table
        funded = await st.balance_when(s, "the certificate became funding", lambda b: b["usage_kind"] == "funding")
        assert funded["reserved"] == quote["certificate_kopecks"] and funded["spent"] == 0
        page = await browser.open("/cabinet")
        assert "Средства зарезервированы" in await page.locator("#enrolments").inner_text()
        certificate = page.locator(".certificate")
        assert "Сертификат финансирования" in await certificate.inner_text()
        table = certificate.locator(".balance__table")
        assert await table.locator("thead th").all_inner_texts() == ["Показатель", f"{starts:%d.%m.%Y} – {ends:%d.%m.%Y} (открыт)"]
        rows = [row.split("\t") for row in await table.locator("tbody tr").all_inner_texts()]
        assert [(name.strip(), amount.strip()) for name, amount in rows] == [
            ("Номинал", rub(funded["nominal"])), ("Доступно", rub(funded["available"])),
            ("Зарезервировано", rub(funded["reserved"])), ("Оплачено", rub(0))], rows
        chart = certificate.locator("svg.balance__chart")
        assert await chart.get_attribute("aria-hidden") == "true"
        assert await chart.locator("rect.bar--reserved").count() == 1
        assert await chart.locator("rect.bar--available").count() == 1
        assert await chart.locator("rect.bar--spent").count() == 0  # nothing spent: no segment
        await assert_sound(browser, page, "cabinet")

    # a phone: no sideways scrolling on any of the parent's pages
    async with chromium(gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_as(page, gateway, "parent", family.parent.sub, next_page="/cabinet")
        paths = ("/cabinet", "/cabinet/apply",
                 f"/cabinet/enrol/{s.ids['robotics_module']}?program={s.ids['robotics_program']}")
        for path in paths:
            page = await phone.open(path)
            assert await horizontal_overflow(page) == 0, path
            # the tables fit too (their own sideways scrolling is only a fallback for narrower screens)
            assert await page.evaluate(
                "[...document.querySelectorAll('.table-scroll')].every(e => e.scrollWidth <= e.clientWidth)"), path
        await assert_sound(phone, page, "cabinet-quote-phone")
        page = await phone.open("/cabinet")
        await assert_sound(phone, page, "cabinet-phone")


async def test_the_cabinet_works_without_javascript_and_the_consent_is_required(family: Family) -> None:
    async with chromium(family.gateway, javascript=False) as browser:
        page = await browser.open("/")
        await sign_in_as(page, family.gateway, "parent", "parent-cabinet-nojs", next_page="/cabinet/apply")
        await page.get_by_label("Фамилия").fill("Иванов")
        await page.get_by_label("Имя", exact=True).fill("Пётр")
        await page.get_by_label("Дата рождения").fill("2016-03-14")
        await page.get_by_label("СНИЛС ребёнка").fill("112-233-445 95")
        # the browser's own check stops a form without the consent (no script needed) ...
        await page.get_by_role("button", name="Подать заявление").click()
        assert await page.locator("input[name=consent]:invalid").count() == 1
        assert page.url.endswith("/cabinet/apply")
        # ... and the portal checks it too: the same form sent without it is refused, nothing applied
        form = {name: await page.locator(f"input[name={name}]").input_value()
                for name in ("csrf_token", "idempotency_key", "surname", "first_name", "birth_date", "snils")}
        answer = await page.request.post(family.gateway + "/cabinet/apply", form={
            **form, "municipality_code": st.MUNICIPALITY, "applicant_role": "parent"}, max_redirects=0)
        assert answer.status == 422
        assert "Без согласия на обработку персональных данных" in await answer.text()
        # and without the form's token: refused as a cross-site post
        answer = await page.request.post(family.gateway + "/cabinet/apply", form={**form, "csrf_token": "x",
                                                                              "consent": "yes"}, max_redirects=0)
        assert answer.status == 403
        page = await browser.open("/cabinet")
        assert "Записей пока нет" in await page.locator("#enrolments").inner_text()
        assert browser.elsewhere == [] and browser.page_errors == []


async def test_other_roles_are_refused_the_parents_pages(family: Family) -> None:
    provider = family.s.people["provider"]
    async with chromium(family.gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, family.gateway, "provider", provider.sub, provider_id=provider.provider_id)
        for path in ("/cabinet", "/cabinet/apply",
                     f"/cabinet/enrol/{family.s.ids['robotics_module']}?program={family.s.ids['robotics_program']}"):
            page = await browser.open(path, status=403)
            await page.get_by_role("heading", name="Нет доступа").wait_for()
            assert "Эта страница недоступна для вашей роли." in await page.locator("main").inner_text()
        assert await page.get_by_role("link", name="Личный кабинет").count() == 0
        browser.page_errors.clear()  # the console notes the page's own 403
        await assert_sound(browser, page, "cabinet-refused-to-provider")
