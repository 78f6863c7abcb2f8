"""The provider's attendance journal in Debian's Chromium, through the real gateway in front of
the real services: a provider of a group with two children (their contracts made through the
API: certificates, the school-year period, enrolments, the provider's confirmations) signs in,
opens the group's month, fills a row and a column, saves the month in one request, reads the
navigator's reason next to each refused mark (lessons still to come), finds the saved marks after
a reload, and sees the month read-only once it is frozen. Without JavaScript the fill buttons
work too; on a 375 px phone the grid scrolls in its own frame; a parent gets 403.

Every page: no request to another host, no script error, no serious or critical axe-core
violation. Screenshots in .work/test-artefacts/portal/journal-*.png.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from pfdo_devstack import story as st
from pfdo_testkit import browser as browser_checks
from pfdo_testkit.browser import PHONE, Browser, chromium, horizontal_overflow
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

SUITE = "portal"
D = dt.date
FUTURE = "Нельзя отметить занятие, которое ещё не прошло."
SEPTEMBER = ["2026-09-01", "2026-09-03", "2026-09-08", "2026-09-10", "2026-09-15", "2026-09-17", "2026-09-22",
             "2026-09-24", "2026-09-29"]
PAST, COMING = SEPTEMBER[:5], SEPTEMBER[5:]  # the story's today is Wednesday 16 September 2026


@dataclass
class Group:
    gateway: str
    story: st.Story
    clock: st.StoryClock
    module_id: str
    first: str
    """The enrolment of the child from 1 September (row 1)."""
    second: str
    """The enrolment of the child from 8 September (row 2)."""


@pytest.fixture(scope="module")
async def group(platform_factory, auth, tmp_path_factory) -> AsyncIterator[Group]:  # noqa: ANN001
    clock = st.StoryClock(tmp_path_factory.mktemp("journal-clock"))
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(db_prefix="journal", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    gw = httpx.AsyncClient(base_url=platform.gateway_url, timeout=30)
    s = st.Story(gw, st.TestAuthTokens(auth), st.cast("journal"))
    try:
        await st.open_region(s)
        certificates = []
        for first_name, birth in (("Артём", D(2015, 3, 14)), ("Мария", D(2016, 6, 2)), ("Ирина", D(2014, 1, 20)),
                                   ("Анна", D(2013, 11, 5))):
            await st.apply_for_certificate(s, surname="Соколов" if first_name == "Артём" else "Соколова",
                                           first_name=first_name, birth_date=birth)
            certificates.append((await st.approve_certificate(s))["id"])
        await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=3_000_000)
        await st.register_provider(s, "ООО «Кванториум»")
        await st.approve_provider(s)
        program = await st.create_program(
            s, "robotics", name="Робототехника", description="Конструирование роботов.", direction="technical",
            module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2027, 5, 31), weekdays=(2, 4),
                                  price=1_500_000))
        module_id = str(program["modules"][0]["id"])
        second_group = await st.add_module(s, "robotics", st.module_body(
            "Группа 2", starts=D(2026, 9, 1), ends=D(2027, 5, 31), weekdays=(6,), price=1_500_000))
        s.ids["second_group"] = next(str(m["id"]) for m in second_group["modules"] if str(m["id"]) != module_id)
        await st.certify_program(s, "robotics", {module_id: 1_500_000, s.ids["second_group"]: 1_500_000})
        await st.wait_in_catalogue(s, [module_id, s.ids["second_group"]])
        enrolments = []
        s.ids["certificates"] = certificates  # type: ignore[assignment]
        for certificate, starts in zip(certificates[:2], (D(2026, 9, 1), D(2026, 9, 8)), strict=True):
            s.ids["certificate"] = str(certificate)
            await st.apply(s, module_id, starts, "monthly")
            await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
            await st.confirm(s)
            await st.accept_offer(s)
            enrolments.append(s.ids["enrolment"])
    except BaseException:
        print(platform.logs(40))
        await gw.aclose()
        raise
    clock.set(D(2026, 9, 16))
    yield Group(platform.gateway_url, s, clock, module_id, *enrolments)
    await gw.aclose()


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, name)


def cell(page, enrolment: str, day: str):  # noqa: ANN001, ANN201
    return page.locator(f'select[name="mark.{enrolment}.{day}"]')


async def values(page, enrolment: str, days: list[str]) -> list[str]:  # noqa: ANN001
    return [await cell(page, enrolment, day).input_value() for day in days]


async def sign_in_provider(page, group: Group, next_page: str) -> None:  # noqa: ANN001
    provider = group.story.people["provider"]
    await sign_in_as(page, group.gateway, "provider", provider.sub, provider_id=provider.provider_id,
                     next_page=next_page)


async def test_the_provider_fills_saves_and_rereads_a_month(group: Group) -> None:
    journal = f"/provider/groups/{group.module_id}"
    async with chromium(group.gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_provider(page, group, "/provider")
        await page.get_by_role("heading", name="Кабинет организации", level=1).wait_for()
        await assert_sound(desktop, page, "journal-cabinet")
        await page.get_by_role("link", name="Журнал посещаемости группы «Группа 1»").click()
        await page.wait_for_url(group.gateway + journal)
        await page.get_by_role("heading", name="Группа 1: журнал за сентябрь 2026").wait_for()
        headers = await page.locator(".journal__date").all_inner_texts()
        assert [h.split("\n")[1] for h in headers] == [f"{d[8:]}.{d[5:7]}.{d[:4]}" for d in SEPTEMBER]
        # the second child's contract starts on 8 September: no fields before it
        assert await cell(page, group.second, "2026-09-03").count() == 0
        assert await cell(page, group.second, "2026-09-08").count() == 1

        # quick fill (in the page): the first child's row present, the 15th's column absent
        await page.get_by_role("button", name="Заполнить строку: Ребёнок 1").click()
        assert await values(page, group.first, SEPTEMBER) == ["present"] * 9
        await page.get_by_label("Быстрое заполнение строки или столбца:").select_option("absent")
        await page.get_by_role("button", name="Заполнить столбец 15.09.2026").click()
        assert await values(page, group.first, ["2026-09-15"]) == ["absent"]
        assert await values(page, group.second, ["2026-09-15"]) == ["absent"]
        # one cell by keyboard: focus it, pick "уважит."
        await cell(page, group.second, "2026-09-10").focus()
        await cell(page, group.second, "2026-09-10").select_option("excused")
        await page.locator("#journal-status", has_text="Не забудьте сохранить месяц").wait_for(state="attached")
        await assert_sound(desktop, page, "journal-filled")

        # one request; the lessons still to come are refused, each reason in its cell
        async with page.expect_response(lambda r: r.request.method == "POST" and journal in r.url) as posted:
            await page.get_by_role("button", name="Сохранить месяц").click()
        assert (await posted.value).status == 200
        await page.get_by_role("alert").filter(has_text="Не принято: 4").wait_for()
        refusals = page.locator(".journal__refusal", has_text=FUTURE)
        assert await refusals.count() == 4
        for day in COMING:
            described = await cell(page, group.first, day).get_attribute("aria-describedby")
            assert described and FUTURE in await page.locator(f"#{described}").inner_text()
            assert await cell(page, group.first, day).get_attribute("aria-invalid") == "true"
        await assert_sound(desktop, page, "journal-refusals")

        # after a reload: the accepted marks, and nothing on the lessons to come
        page = await desktop.open(journal + "?month=2026-09")
        assert await values(page, group.first, PAST) == ["present"] * 4 + ["absent"]
        assert await values(page, group.first, COMING) == [""] * 4
        assert await values(page, group.second, ["2026-09-08", "2026-09-10", "2026-09-15"]) == [
            "", "excused", "absent"]
        marks = await group.story.all_items("provider", "/api/navigator/attendance", enrolment_id=group.first,
                                            month="2026-09")
        assert {m["lesson_date"]: m["status"] for m in marks} == {
            **{d: "present" for d in PAST[:4]}, "2026-09-15": "absent"}
        await assert_sound(desktop, page, "journal-saved")

        # a correction: the 3rd becomes excused, saved, shown after the redirect
        await cell(page, group.first, "2026-09-03").select_option("excused")
        await page.get_by_role("button", name="Сохранить месяц").click()
        await page.get_by_role("status").filter(has_text="Отметки месяца сохранены.").wait_for()
        assert await values(page, group.first, ["2026-09-03"]) == ["excused"]


async def test_quick_fill_works_without_javascript(group: Group) -> None:
    journal = f"/provider/groups/{group.module_id}?month=2026-09"
    async with chromium(group.gateway, javascript=False) as browser:
        page = await browser.open("/")
        # sign-in pages are plain forms: they work without JavaScript as well
        await sign_in_provider(page, group, journal)
        await page.get_by_label("Быстрое заполнение строки или столбца:").select_option("excused")
        await page.get_by_role("button", name="Заполнить строку: Ребёнок 2").click()
        await page.get_by_role("status").filter(has_text="Заполнено").wait_for()
        assert await values(page, group.second, SEPTEMBER[2:]) == ["excused"] * 7
        assert browser.elsewhere == []


async def test_the_grid_scrolls_in_its_own_frame_on_a_phone(group: Group) -> None:
    journal = f"/provider/groups/{group.module_id}?month=2026-09"
    async with chromium(group.gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_provider(page, group, journal)
        await page.get_by_role("heading", name="Группа 1: журнал за сентябрь 2026").wait_for()
        assert await horizontal_overflow(page) == 0
        frame = page.get_by_role("region", name="Журнал за сентябрь 2026")
        assert await frame.evaluate("el => el.scrollWidth > el.clientWidth")  # it scrolls, the page does not
        await assert_sound(phone, page, "journal-phone")


async def test_a_frozen_month_is_read_only(group: Group) -> None:
    group.clock.set(D(2026, 10, 5))
    try:
        frozen = st.expect(await st.freeze_month(group.story, "2026-09"), 200)
        assert frozen["state"] == "frozen"
        journal = f"/provider/groups/{group.module_id}?month=2026-09"
        async with chromium(group.gateway) as desktop:
            page = await desktop.open("/")
            await sign_in_provider(page, group, journal)
            await page.get_by_text("Месяц закрыт: журнал доступен только для просмотра.").wait_for()
            assert await page.locator("select[name^='mark.']").count() == 0
            assert await page.get_by_role("button", name="Сохранить месяц").count() == 0
            assert await page.locator(".journal__mark--present").count() >= 3
            await assert_sound(desktop, page, "journal-frozen")
    finally:
        group.clock.set(D(2026, 9, 16))


async def test_a_parent_gets_403_on_the_providers_pages(group: Group) -> None:
    async with chromium(group.gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, group.gateway, "parent", group.story.people["parent"].sub, next_page="/")
        for path in ("/provider", f"/provider/groups/{group.module_id}"):
            answer = await page.goto(group.gateway + path)
            assert answer is not None and answer.status == 403, path
            assert "Эта страница недоступна для вашей роли." in await page.locator("main").inner_text()


async def test_the_provider_confirms_one_application_and_declines_another(group: Group) -> None:
    s = group.story
    # made today (16 September): a third child in group 1, a fourth in group 2, both from 1 October
    applied = {}
    for certificate, module_id in ((s.ids["certificates"][2], group.module_id),
                                   (s.ids["certificates"][3], s.ids["second_group"])):
        s.ids["certificate"] = str(certificate)
        await st.apply(s, module_id, D(2026, 10, 1), "monthly")
        await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
        applied[module_id] = s.ids["enrolment"]
    async with chromium(group.gateway) as desktop:
        page = await desktop.open("/")
        await sign_in_provider(page, group, "/provider")
        rows = page.locator("table.applications tbody tr")
        assert await rows.count() == 2
        await assert_sound(desktop, page, "journal-applications")
        await rows.filter(has_text="Группа 1").get_by_role("button", name="Подтвердить").click()
        await page.get_by_role("status").filter(has_text="Заявка подтверждена").wait_for()
        await page.locator("table.applications tbody tr").filter(has_text="Группа 2").get_by_role(
            "button", name="Отклонить").click()
        await page.get_by_role("status").filter(has_text="Заявка отклонена").wait_for()
        # the confirmed application stays on the list until the parent accepts the offer it issued
        waiting = page.locator("table.applications tbody tr")
        assert await waiting.count() == 1
        assert "ожидает акцепта до 26.09.2026" in await waiting.inner_text()  # confirmed on 16 September
        await assert_sound(desktop, page, "journal-application-offered")
        assert desktop.elsewhere == [] and desktop.page_errors == []
    s.ids["enrolment"] = applied[group.module_id]
    assert (await st.accept_offer(s))["state"] == "confirmed"
    states = {}
    for module_id, enrolment_id in applied.items():
        states[module_id] = st.expect(await s.get("provider", f"/api/navigator/enrolments/{enrolment_id}"), 200)["state"]
    assert states == {group.module_id: "confirmed", s.ids["second_group"]: "declined"}
