"""The operator's registry pages in Debian's Chromium against the real platform through the real
gateway: a municipal operator approves one certificate application and refuses another with a
reason, approves a new provider, sets the normative cost of each module of a submitted program
(a badly typed amount is named beside its field, nothing saved) and certifies it, and rejects
another program with a reason; each result is checked on the pages and in the API. An operator of
another municipality is offered no decision there, and the API's refusal of one is shown in words.

Every page: its own host only, no script error, no serious or critical axe-core violation, no
sideways scrolling at 375 px. Screenshots go to .work/test-artefacts/portal/.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_devstack.demo import TODAY, module_end
from pfdo_testkit import browser as browser_checks
from pfdo_testkit.browser import PHONE, Browser, chromium, horizontal_overflow, rub
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

SUITE = "portal"
REFUSAL = "Не приложено свидетельство о рождении."
REJECTION = "Нет учебного плана по модулям."


@dataclass
class Registry:
    gateway: str
    s: st.Story
    approve: str
    """The application the operator approves (Артём Соколов)."""
    refuse: str
    """The application the operator refuses (Мария Соколова)."""


@pytest.fixture(scope="module")
async def registry(platform_factory, auth, tmp_path_factory) -> AsyncIterator[Registry]:  # noqa: ANN001
    # the services' business day is the one this module computed its dates from (TODAY), also when
    # the run crosses midnight in the region
    clock = st.StoryClock(tmp_path_factory.mktemp("opregistry-clock"))
    clock.set(TODAY)
    platform = await platform_factory(db_prefix="opregistry", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)},
                                      service_env={"portal": {"PFDO_PORTAL_REGION_NAME": "Липецкая область"}})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), st.cast("opregistry"))
        s.people["elsewhere"] = st.Person("municipal_operator", "operator-02-opregistry", municipality="02")
        try:
            await st.open_region(s)
            st.expect(await s.put("region", "/api/registry/municipalities/02", {"name": "Елец"}), 200, 201)
            ids = []
            for surname, first_name, year in (("Соколов", "Артём", 2015), ("Соколова", "Мария", 2017)):
                ids.append(str((await st.apply_for_certificate(
                    s, surname=surname, first_name=first_name, birth_date=TODAY.replace(year=year, day=1)))["id"]))
            await st.register_provider(s, "ООО «Кванториум»")  # new: moderation on the page
        except BaseException:
            print(platform.logs(40))
            raise
        yield Registry(platform.gateway_url, s, *ids)


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, name)


async def submitted_programs(s: st.Story) -> tuple[dict, dict]:
    """Two programs of the (now active) provider sent for certification: one with two modules to
    certify, one to reject."""
    weekdays = sorted({TODAY.isoweekday(), TODAY.isoweekday() % 7 + 1})
    body = st.module_body("Группа 1", starts=TODAY, ends=module_end(TODAY), weekdays=weekdays, price=1_800_000)
    await st.create_program(s, "robotics", name="Робототехника", description="Конструирование роботов.",
                            direction="technical", module=body)
    await st.add_module(s, "robotics", {**body, "name": "Группа 2", "price_kopecks": 1_200_000})
    await st.create_program(s, "chess", name="Шахматы", description="Дебюты и эндшпиль.", direction="physical_sports",
                            module={**body, "name": "Начинающие"})
    for key in ("robotics", "chess"):
        st.expect(await s.post("provider", f"/api/registry/programs/{s.ids[f'{key}_program']}/submit"), 200)
    robotics = st.expect(await s.get("operator", f"/api/registry/programs/{s.ids['robotics_program']}"), 200)
    chess = st.expect(await s.get("operator", f"/api/registry/programs/{s.ids['chess_program']}"), 200)
    return robotics, chess


async def test_an_operator_decides_applications_a_provider_and_programs(registry: Registry) -> None:
    s, gateway = registry.s, registry.gateway
    operator = s.people["operator"]
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "municipal_operator", operator.sub, municipality=operator.municipality,
                         next_page="/operator/applications")

        # the queue: both children, their birth dates, the municipality, the day applied
        await page.get_by_role("heading", level=1, name="Заявления на сертификат").wait_for()
        approve, refuse = page.locator(f"#application-{registry.approve}"), page.locator(f"#application-{registry.refuse}")
        text = await approve.inner_text()
        for expected in ("Соколов Артём", TODAY.replace(year=2015, day=1).strftime("%d.%m.%Y"), "Липецк",
                         TODAY.strftime("%d.%m.%Y"), "На рассмотрении"):
            assert expected in text, expected
        assert await page.locator("nav.sections a[aria-current=page]").inner_text() == "Заявления на сертификат"
        await assert_sound(browser, page, "operator-applications")

        # approve one
        await approve.get_by_role("button", name=re.compile("^Одобрить")).click()
        await page.wait_for_url(re.compile(r"/operator/applications\?status=pending&done=approved$"))
        assert "Заявление одобрено: сертификат выдан." in await page.get_by_role("status").inner_text()
        assert await page.locator(f"#application-{registry.approve}").count() == 0  # no longer pending

        # refuse the other: the browser asks for the reason first, then it goes with the refusal
        await refuse.get_by_role("button", name=re.compile("^Отказать")).click()
        assert await refuse.locator("textarea:invalid").count() == 1
        assert page.url.endswith("done=approved")  # nothing sent
        await refuse.get_by_label("Причина отказа").fill(REFUSAL)
        await refuse.get_by_role("button", name=re.compile("^Отказать")).click()
        await page.wait_for_url(re.compile(r"done=refused$"))
        assert "Заявителю отказано" in await page.get_by_role("status").inner_text()
        assert "Заявлений на рассмотрении нет." in await page.locator("main").inner_text()
        await assert_sound(browser, page, "operator-applications-decided")

        # every application: the certificate's number, the refusal's reason
        await page.get_by_label("Состояние").select_option("")
        await page.get_by_role("button", name="Показать").click()
        await page.wait_for_url(re.compile(r"status=$"))
        decided = {a["id"]: a for a in await s.all_items("operator", "/api/registry/applications")}
        assert decided[registry.approve]["status"] == "approved" and decided[registry.refuse]["status"] == "refused"
        assert decided[registry.refuse]["reason"] == REFUSAL
        approved_text = await page.locator(f"#application-{registry.approve}").inner_text()
        assert "Одобрено" in approved_text and decided[registry.approve]["certificate_number"] in approved_text
        assert f"Причина отказа: {REFUSAL}" in await page.locator(f"#application-{registry.refuse}").inner_text()
        await assert_sound(browser, page, "operator-applications-all")

        # the new provider with its details: approve it
        page = await browser.open("/operator/providers")
        card = page.locator(f"#provider-{s.ids['provider']}")
        details = await card.inner_text()
        registered = st.expect(await s.get("operator", f"/api/registry/providers/{s.ids['provider']}"), 200)
        for expected in ("ООО «Кванториум»", "Новый", "Частная организация", registered["inn"], registered["ogrn"],
                         registered["settlement_account"], "Липецк, ул. Гагарина, 10"):
            assert expected in details, expected
        assert await card.get_by_role("button", name=re.compile("^Приостановить")).count() == 0  # not for a new one
        await assert_sound(browser, page, "operator-providers")
        await card.get_by_role("button", name=re.compile("^Одобрить")).click()
        await page.wait_for_url(re.compile(r"done=provider_approve$"))
        assert "Организация одобрена и включена в реестр." in await page.get_by_role("status").inner_text()
        page = await browser.open("/operator/providers?status=active")
        card = page.locator(f"#provider-{s.ids['provider']}")
        assert "Действует" in await card.inner_text()
        assert await card.get_by_role("button", name=re.compile("^Приостановить")).count() == 1
        assert st.expect(await s.get("operator", f"/api/registry/providers/{s.ids['provider']}"), 200)["status"] == "active"
        await assert_sound(browser, page, "operator-providers-active")

        # the active provider sends two programs for certification
        robotics, chess = await submitted_programs(s)
        first, second = (str(m["id"]) for m in robotics["modules"])
        page = await browser.open("/operator/programs")
        listed = await page.locator(".registry-list").inner_text()
        assert "Робототехника" in listed and "Шахматы" in listed and "ООО «Кванториум»" in listed
        await assert_sound(browser, page, "operator-programs")
        await page.get_by_role("link", name="Робототехника").click()
        await page.get_by_role("heading", level=1, name="Робототехника").wait_for()
        assert rub(1_800_000) in await page.locator(f"#module-{first}").inner_text()
        await assert_sound(browser, page, "operator-program")

        # a cost typed badly is named beside its field and nothing is saved
        await page.get_by_label("Нормативная стоимость модуля «Группа 1», ₽").fill("13 50")
        await page.get_by_role("button", name="Сохранить стоимость").click()
        field = page.get_by_label("Нормативная стоимость модуля «Группа 1», ₽")
        assert await field.get_attribute("aria-invalid") == "true"
        assert "Сумма — это рубли цифрами" in await page.locator(f"#cost-{first}-error").inner_text()
        assert "ничего не сохранено" in await page.get_by_role("alert").inner_text()
        browser.page_errors.clear()  # the console notes the page's own 422
        await assert_sound(browser, page, "operator-program-bad-cost")

        # Russian amounts, then certify: the costs in kopecks, the program certified, its history
        await field.fill("13 500,00")
        await page.get_by_label("Нормативная стоимость модуля «Группа 2», ₽").fill("12000")
        await page.get_by_role("button", name="Сохранить и сертифицировать").click()
        await page.wait_for_url(re.compile(r"done=certified$"))
        assert "Программа сертифицирована" in await page.get_by_role("status").inner_text()
        certified = st.expect(await s.get("operator", f"/api/registry/programs/{s.ids['robotics_program']}"), 200)
        assert certified["status"] == "certified"
        assert {str(m["id"]): m["normative_cost_kopecks"] for m in certified["modules"]} == {
            first: 1_350_000, second: 1_200_000}
        assert "Сертифицирована" in await page.locator(".program-facts").inner_text()
        assert rub(1_350_000) in await page.locator(f"#module-{first} .module__cost").inner_text()
        assert rub(1_200_000) in await page.locator(f"#module-{second} .module__cost").inner_text()
        assert await page.get_by_role("button", name="Сохранить и сертифицировать").count() == 0
        history = await page.locator("table.history tbody tr").all_inner_texts()
        assert "Сертифицирована" in history[0] and "На сертификации → Сертифицирована" in history[0]
        assert "Муниципальный оператор" in history[0]
        assert len(history) == 2 and "Отправлена на сертификацию" in history[1] and "Организация" in history[1]
        await assert_sound(browser, page, "operator-program-certified")

        # reject the other program with a reason
        page = await browser.open(f"/operator/programs/{s.ids['chess_program']}")
        await page.get_by_label("Причина отклонения").fill(REJECTION)
        await page.get_by_role("button", name="Отклонить").click()
        await page.wait_for_url(re.compile(r"done=rejected$"))
        assert f"Причина: {REJECTION}" in await page.locator("main").inner_text()
        history = await page.locator("table.history tbody tr").all_inner_texts()
        assert "Отклонена" in history[0] and REJECTION in history[0]
        rejected = st.expect(await s.get("operator", f"/api/registry/programs/{s.ids['chess_program']}"), 200)
        assert rejected["status"] == "rejected" and rejected["status_reason"] == REJECTION
        await assert_sound(browser, page, "operator-program-rejected")

    # a phone: no sideways scrolling on any of the operator's registry pages
    async with chromium(gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_as(page, gateway, "municipal_operator", operator.sub, municipality=operator.municipality,
                         next_page="/operator/applications")
        for path, name in (("/operator/applications?status=", "applications"), ("/operator/providers?status=", "providers"),
                           ("/operator/programs?status=", "programs"),
                           (f"/operator/programs/{s.ids['robotics_program']}", "program")):
            page = await phone.open(path)
            assert await horizontal_overflow(page) == 0, path
            await assert_sound(phone, page, f"operator-{name}-phone")


async def test_an_operator_of_another_municipality_decides_nothing_there(registry: Registry) -> None:
    s, gateway = registry.s, registry.gateway
    elsewhere = s.people["elsewhere"]
    provider = st.expect(await s.get("operator", f"/api/registry/providers/{s.ids['provider']}"), 200)
    if provider["status"] == "new":  # the first test approves it on the page; alone, this one does it here
        await st.approve_provider(s)
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "municipal_operator", elsewhere.sub, municipality="02",
                         next_page="/operator/providers?status=")
        await page.get_by_role("heading", level=1, name="Организации").wait_for()
        # an active provider of Липецк is in the region's registry: readable, no decision offered
        card = page.locator(f"#provider-{s.ids['provider']}")
        assert "другого муниципалитета" in await card.inner_text()
        assert await card.locator("form").count() == 0
        await assert_sound(browser, page, "operator-providers-elsewhere")
        # the same decision posted anyway: the API's refusal, in words, on the page
        headers = await page.locator("body").get_attribute("hx-headers") or ""
        token = re.search(r'"X-CSRF-Token": "([^"]+)"', headers)
        assert token is not None, headers
        answer = await page.request.post(gateway + f"/operator/providers/{s.ids['provider']}?status=", form={
            "csrf_token": token.group(1), "action": "suspend", "reason": "Проверка"}, max_redirects=0)
        assert answer.status == 404
        text = await answer.text()
        assert "Запись не найдена среди доступных вам: возможно, она относится к другому муниципалитету." in text
        provider = st.expect(await s.get("operator", f"/api/registry/providers/{s.ids['provider']}"), 200)
        assert provider["status"] == "active"
