"""The provider's organisation, programs, payment orders and disputes in Debian's Chromium,
through the real gateway in front of the real services.

One provider registers its organisation on the portal's form (a wrong ИНН first: the registry's
reason shows next to the field), an operator approves it over HTTP; the provider creates a
program and its module through the pages (the API's refusal of the dates next to the field, the
price typed «18 000,00»), adds and removes a second module, submits the program; the operator
rejects it with a reason (HTTP), the provider reads the reason, edits the program and submits it
again; after the operator certifies it with a normative cost (HTTP) the provider sees the decision
and the history. A second provider, whose group has a child (its contract, marks, a payment
advance and two disputes made over HTTP), reads its payment order with its lines and the disputes
on its marks with their outcome.

Every page: no request to another host, no script error, no serious or critical axe-core
violation, no sideways scrolling at 375 px. Screenshots in .work/test-artefacts/portal/provider-*.png.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_registry.domain.identifiers import generate_kpp, generate_ogrn, generate_org_inn
from pfdo_testkit.browser import PHONE, Browser, axe_violations, chromium, horizontal_overflow, rub, screenshot
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

SUITE = "portal"
D = dt.date
PRICE, NORMATIVE = 1_800_000, 1_500_000


@dataclass
class Region:
    gateway: str
    newcomer: st.Story
    """The provider that registers through the pages (nothing made for it beforehand)."""
    running: st.Story
    """A provider with a certified program, a child's contract, marks, an advance and disputes."""
    clock: st.StoryClock


@pytest.fixture(scope="module")
async def region(platform_factory, auth, tmp_path_factory) -> AsyncIterator[Region]:  # noqa: ANN001
    clock = st.StoryClock(tmp_path_factory.mktemp("provider-clock"))
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(db_prefix="provprog", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING",
                                                 "PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    gw = httpx.AsyncClient(base_url=platform.gateway_url, timeout=30)
    newcomer = st.Story(gw, st.TestAuthTokens(auth), st.cast("provnew"))
    s = st.Story(gw, st.TestAuthTokens(auth), st.cast("provrun"))
    try:
        await st.open_region(s)
        await st.apply_for_certificate(s, surname="Соколов", first_name="Артём", birth_date=D(2015, 3, 14))
        await st.approve_certificate(s)
        await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=3_000_000)
        await st.register_provider(s, "ООО «Кванториум»")
        await st.approve_provider(s)
        program = await st.create_program(
            s, "robotics", name="Робототехника", description="Конструирование роботов.", direction="technical",
            module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2027, 5, 31), weekdays=(2, 4),
                                  price=PRICE))
        module_id = str(program["modules"][0]["id"])
        await st.certify_program(s, "robotics", {module_id: NORMATIVE})
        await st.wait_in_catalogue(s, [module_id])
        await st.apply(s, module_id, D(2026, 9, 1), "monthly")
        await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
        await st.confirm(s)
        await st.accept_offer(s)
        clock.set(D(2026, 9, 1))

        async def advance() -> dict | None:  # idempotent; billing may not have heard of the confirmation yet
            await st.issue_advance(s, "2026-09")
            found = [o for o in await st.payment_orders(s) if o["month"] == "2026-09" and o["kind"] == "advance"]
            return found[0] if found else None

        await st.eventually(advance, "the advance order for September")
        clock.set(D(2026, 9, 16))
        await st.post_attendance(s, module_id, [(D(2026, 9, 10), "present"), (D(2026, 9, 15), "present")])
        marks = {m["lesson_date"]: m for m in await st.marks(s, "2026-09")}
        upheld = await st.open_dispute(s, str(marks["2026-09-10"]["mark_id"]), "absent", "Ребёнок болел.")
        await st.open_dispute(s, str(marks["2026-09-15"]["mark_id"]), "absent", "Занятие отменили.")
        await st.resolve_dispute(s, str(upheld["dispute_id"]), upheld=True, note="Справка подтверждена.")
        # September closed on 1 October: the final settlement
        clock.set(D(2026, 10, 1))
        st.expect(await st.freeze_month(s, "2026-09"), 200)
        await st.close_month_when_ready(s, "2026-09")
        await st.open_region(newcomer)
    except BaseException:
        print(platform.logs(40))
        await gw.aclose()
        raise
    yield Region(platform.gateway_url, newcomer, s, clock)
    await gw.aclose()


async def assert_sound(browser: Browser, page, name: str, *, phone: bool = False,  # noqa: ANN001
                       refused: int | None = None) -> None:
    """The page is sound. ``refused``: the page is a form drawn again with the API's refusal, under
    that status (422, 409), which Chromium reports in the console as a resource that failed to load:
    that one line is expected (and dropped), nothing else."""
    await screenshot(page, SUITE, name, full_page=True)
    assert browser.elsewhere == [], browser.elsewhere
    if refused is not None:
        expected = f"Failed to load resource: the server responded with a status of {refused}"
        assert any(expected in error for error in browser.page_errors), browser.page_errors
        browser.page_errors[:] = [error for error in browser.page_errors if expected not in error]
    assert browser.page_errors == [], browser.page_errors
    violations = await axe_violations(page)
    assert violations == [], violations
    if phone:
        assert await horizontal_overflow(page) == 0


async def sign_in_provider(page, region: Region, story: st.Story, next_page: str) -> None:  # noqa: ANN001
    provider = story.people["provider"]
    await sign_in_as(page, region.gateway, "provider", provider.sub, provider_id=provider.provider_id,
                     next_page=next_page)


def section(page, name: str):  # noqa: ANN001, ANN201
    """A link of the cabinet's sections."""
    sections = page.get_by_role("navigation", name="Разделы кабинета организации")
    return sections.get_by_role("link", name=name, exact=True)


async def fill_module(page, name: str, *, starts: str, ends: str, price: str) -> None:  # noqa: ANN001
    await page.get_by_label("Название модуля (группы)").fill(name)
    await page.get_by_label("Возраст от, лет").fill("8")
    await page.get_by_label("Возраст до, лет").fill("12")
    await page.get_by_label("Мест в группе").fill("10")
    await page.get_by_label("Часов по программе модуля").fill("72")
    await page.get_by_label("Начало занятий").fill(starts)
    await page.get_by_label("Окончание занятий").fill(ends)
    await page.get_by_label("Цена модуля, ₽").fill(price)
    await page.get_by_label("Адрес", exact=True).fill("Липецк, ул. Гагарина, 10, каб. 5")
    await page.get_by_label("День недели, занятие 1").select_option("6")
    await page.get_by_label("Начало, занятие 1").fill("10:00")
    await page.get_by_label("Конец, занятие 1").fill("11:30")


async def test_a_provider_registers_creates_submits_and_reads_the_certifiers_decision(region: Region) -> None:
    s = region.newcomer
    person = s.people["provider"]
    s.ids["provider"] = str(person.provider_id)
    inn = generate_org_inn(s.rng)
    wrong_inn = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    async with chromium(region.gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_provider(page, region, s, "/provider")
        await section(page, "Организация").click()
        await page.get_by_role("heading", name="Регистрация организации", level=1).wait_for()

        # the registry refuses the ИНН's checksum: its reason next to the field, what was typed kept
        await page.get_by_label("Вид поставщика").select_option("private_org")
        await page.get_by_label("Полное наименование", exact=True).fill("ООО «Умелые руки»")
        await page.get_by_label("ИНН", exact=True).fill(wrong_inn)
        await page.get_by_label("КПП", exact=True).fill(generate_kpp(s.rng, inn=inn))
        await page.get_by_label("ОГРН или ОГРНИП").fill(generate_ogrn(s.rng))
        await page.get_by_label("Адрес", exact=True).fill("Липецк, ул. Ленина, 1")
        bank = st.bank_details(s.rng)  # the accounts' control keys match the БИК
        await page.get_by_label("Банк", exact=True).fill(bank["bank_name"])
        await page.get_by_label("БИК", exact=True).fill(bank["bik"])
        await page.get_by_label("Расчётный счёт", exact=True).fill(bank["settlement_account"])
        await page.get_by_label("Корреспондентский счёт банка", exact=True).fill(bank["correspondent_account"])
        await page.get_by_role("button", name="Зарегистрировать организацию").click()
        inn_field = page.get_by_label("ИНН", exact=True)
        await page.locator("#inn-error").wait_for()
        assert await inn_field.get_attribute("aria-invalid") == "true"
        assert "ИНН" in await page.locator("#inn-error").inner_text()
        assert await inn_field.input_value() == wrong_inn
        assert await page.locator("[aria-invalid='true']").count() == 1
        await assert_sound(desktop, page, "provider-register-refused", refused=422)

        await inn_field.fill(inn)
        await page.get_by_role("button", name="Зарегистрировать организацию").click()
        await page.get_by_role("status").filter(has_text="отправлена на модерацию").wait_for()
        assert "Модерация: Новый" in await page.locator("main").inner_text()
        await assert_sound(desktop, page, "provider-profile-new")

        # an operator approves the organisation (over HTTP)
        await st.approve_provider(s)
        await page.reload()
        await page.get_by_role("heading", name="Модерация: Действует").wait_for()
        assert inn in await page.locator("main").inner_text()
        await assert_sound(desktop, page, "provider-profile-active")

        # a draft through the pages
        await section(page, "Программы").click()
        await page.get_by_role("link", name="Новая программа").click()
        await page.get_by_label("Название программы").fill("Керамика")
        await page.get_by_label("Направленность").select_option("artistic")
        await page.get_by_label("Описание", exact=True).fill("Лепка и роспись.")
        await assert_sound(desktop, page, "provider-program-new")
        await page.get_by_role("button", name="Создать черновик").click()
        await page.get_by_role("status").filter(has_text="Черновик программы создан").wait_for()
        program_url = page.url.split("?")[0]
        program_id = program_url.rsplit("/", 1)[1]
        s.ids["ceramics_program"] = program_id

        # a module: the registry refuses an end before the start, next to the field
        await page.get_by_role("link", name="Добавить модуль").click()
        await fill_module(page, "Группа выходного дня", starts="2026-10-01", ends="2026-09-01", price="18 000,00")
        await page.get_by_role("button", name="Добавить модуль").click()
        await page.locator("#end_date-error").wait_for()
        assert "позже даты начала" in await page.locator("#end_date-error").inner_text()
        assert await page.get_by_label("Цена модуля, ₽").input_value() == "18 000,00"
        await assert_sound(desktop, page, "provider-module-refused", refused=422)
        await page.get_by_label("Окончание занятий").fill("2027-05-31")
        await page.get_by_role("button", name="Добавить модуль").click()
        await page.get_by_role("status").filter(has_text="Модуль добавлен.").wait_for()

        # a second module added and removed again
        await page.get_by_role("link", name="Добавить модуль").click()
        await fill_module(page, "Лишняя группа", starts="2026-10-01", ends="2027-05-31", price="1 000")
        await page.get_by_role("button", name="Добавить модуль").click()
        await page.get_by_role("status").filter(has_text="Модуль добавлен.").wait_for()
        await page.get_by_role("button", name="Удалить модуль «Лишняя группа»").click()
        await page.get_by_role("status").filter(has_text="Модуль удалён.").wait_for()
        program = st.expect(await s.get("provider", f"/api/registry/programs/{program_id}"), 200)
        [module] = program["modules"]
        assert module["name"] == "Группа выходного дня" and module["price_kopecks"] == PRICE
        assert module["schedule"] == [{"weekday": 6, "starts_at": "10:00:00", "ends_at": "11:30:00"}]

        # the module replaced: 12 places
        await page.get_by_role("link", name="Изменить модуль «Группа выходного дня»").click()
        assert await page.get_by_label("Цена модуля, ₽").input_value() == "18 000,00"
        await page.get_by_label("Мест в группе").fill("12")
        await page.get_by_role("button", name="Сохранить модуль").click()
        await page.get_by_role("status").filter(has_text="Модуль изменён.").wait_for()

        await page.get_by_role("button", name="Отправить на сертификацию").click()
        await page.get_by_role("status").filter(has_text="Программа отправлена на сертификацию.").wait_for()
        assert "На сертификации" in await page.locator("main").inner_text()
        await assert_sound(desktop, page, "provider-program-submitted")

        # the certifier rejects it with a reason (over HTTP): the provider reads it
        st.expect(await s.post("operator", f"/api/registry/programs/{program_id}/reject",
                               {"reason": "Приложите учебный план."}), 200)
        await page.goto(program_url)
        decision = page.get_by_role("region", name="Сертификация", exact=True)
        await decision.get_by_text("В сертификации отказано").wait_for()
        assert "Приложите учебный план." in await decision.inner_text()
        history = page.get_by_role("region", name="Шаги сертификации")
        assert "Приложите учебный план." in await history.inner_text()
        await assert_sound(desktop, page, "provider-program-rejected")

        # corrected and submitted again
        await page.get_by_label("Описание", exact=True).fill("Лепка и роспись. Учебный план: 72 часа.")
        await page.get_by_role("button", name="Сохранить сведения").click()
        await page.get_by_role("status").filter(has_text="Сведения о программе сохранены.").wait_for()
        await page.get_by_role("button", name="Отправить на сертификацию").click()
        await page.get_by_role("status").filter(has_text="Программа отправлена на сертификацию.").wait_for()

        # certified with a normative cost (over HTTP): the decision and the history
        st.expect(await s.put("operator", f"/api/registry/programs/{program_id}/modules/{module['id']}/normative-cost",
                              {"normative_cost_kopecks": NORMATIVE}), 200)
        st.expect(await s.post("operator", f"/api/registry/programs/{program_id}/certify"), 200)
        await page.goto(program_url)
        await page.get_by_text("Программа сертифицирована").wait_for()
        costs = page.get_by_role("region", name="Нормативная стоимость модулей")
        row = costs.get_by_role("row", name="Группа выходного дня")
        assert [c for c in await row.locator("td").all_inner_texts()] == [rub(PRICE), rub(NORMATIVE)]
        steps = await history.locator("tbody tr").all_inner_texts()
        assert len(steps) >= 4 and "Сертифицирована" in steps[0]
        assert any("Отклонена" in step and "Приложите учебный план." in step for step in steps)
        assert await page.get_by_role("button", name="Отправить на сертификацию").count() == 0
        await assert_sound(desktop, page, "provider-program-certified")

        await section(page, "Программы").click()
        cards = page.locator(".program-card")
        assert await cards.count() == 1  # its own: not the other provider's certified «Робототехника»
        assert "Керамика" in await cards.inner_text() and "Сертифицирована" in await cards.inner_text()
        await assert_sound(desktop, page, "provider-programs")

    async with chromium(region.gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_provider(page, region, s, f"/provider/programs/{program_id}")
        await page.get_by_text("Программа сертифицирована").wait_for()
        await assert_sound(phone, page, "provider-program-phone", phone=True)
        await page.goto(f"{region.gateway}/provider/programs/{program_id}/modules/{module['id']}")
        await assert_sound(phone, page, "provider-module-phone", phone=True)
        await page.goto(f"{region.gateway}/provider/profile")
        await assert_sound(phone, page, "provider-profile-phone", phone=True)
        await page.goto(f"{region.gateway}/provider/programs")
        await assert_sound(phone, page, "provider-programs-phone", phone=True)
        await page.goto(f"{region.gateway}/provider/programs/new")
        await assert_sound(phone, page, "provider-program-new-phone", phone=True)


async def test_a_provider_reads_its_payment_order_and_the_disputes_on_its_marks(region: Region) -> None:
    s = region.running
    orders = {o["kind"]: o for o in await st.payment_orders(s) if o["month"] == "2026-09"}
    advance, final = orders["advance"], orders["final"]
    assert advance["amount_kopecks"] > 0 and final["advance_paid_kopecks"] == advance["amount_kopecks"]
    async with chromium(region.gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_provider(page, region, s, "/provider")
        await section(page, "Платёжные поручения").click()
        month = page.get_by_role("region", name="Платёжные поручения за сентябрь 2026")
        kinds = [" ".join(t.split()) for t in await month.locator("tbody th").all_inner_texts()]
        assert kinds == ["Аванс за сентябрь 2026", "Окончательный расчёт за сентябрь 2026"], kinds
        row = month.get_by_role("row", name="Аванс за сентябрь 2026")
        cells = await row.locator("td").all_inner_texts()
        # number, payer, status, issued on, contracts, posted, advance, offset, to pay
        assert cells[:4] == [advance["number"], "Липецк", "Сформировано", "01.09.2026"], cells
        assert cells[-1] == rub(advance["amount_kopecks"])
        final_row = month.get_by_role("row", name="Окончательный расчёт за сентябрь 2026")
        settled = await final_row.locator("td").all_inner_texts()
        assert settled[3] == "01.10.2026" and settled[6] == rub(advance["amount_kopecks"])
        assert settled[-1] == rub(final["amount_kopecks"])
        total = await month.locator("tfoot td").inner_text()
        assert total == rub(advance["amount_kopecks"] + final["amount_kopecks"])
        await assert_sound(desktop, page, "provider-orders")

        await row.get_by_role("link").click()
        await page.get_by_role("heading", name="Аванс за сентябрь 2026", level=1).wait_for()
        lines = page.get_by_role("region", name="Строки поручения")
        line = lines.get_by_role("row", name="Робототехника: Группа 1")
        assert await line.locator("td").all_inner_texts() == ["01.09.2026", rub(advance["base_kopecks"])]
        await assert_sound(desktop, page, "provider-order")

        await section(page, "Споры по отметкам").click()
        await page.get_by_text("Открытых споров: 1").wait_for()
        rows = page.get_by_role("region", name="Споры по отметкам").locator("tbody tr")
        texts = await rows.all_inner_texts()
        assert len(texts) == 2
        assert "15.09.2026" in texts[0] and "Ждёт решения" in texts[0]  # the open one first
        assert "10.09.2026" in texts[1] and "Удовлетворено: отметка исправлена на «Отсутствовал»." in texts[1]
        assert all("Робототехника: Группа 1" in t for t in texts)
        await assert_sound(desktop, page, "provider-disputes")

    async with chromium(region.gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_provider(page, region, s, "/provider/orders")
        await assert_sound(phone, page, "provider-orders-phone", phone=True)
        await page.goto(f"{region.gateway}/provider/disputes")
        await assert_sound(phone, page, "provider-disputes-phone", phone=True)
        await page.goto(f"{region.gateway}/provider/orders/{advance['order_id']}")
        await assert_sound(phone, page, "provider-order-phone", phone=True)
        await page.goto(f"{region.gateway}/provider")
        await assert_sound(phone, page, "provider-cabinet-phone", phone=True)


async def test_a_parent_is_refused_the_providers_sections(region: Region) -> None:
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, region.gateway, "parent", region.running.people["parent"].sub, next_page="/")
        for path in ("/provider/profile", "/provider/programs", "/provider/programs/new", "/provider/orders",
                     "/provider/disputes"):
            answer = await page.goto(region.gateway + path)
            assert answer is not None and answer.status == 403, path
