"""A parent follows a contract in Debian's Chromium, against the real platform through the real
gateway, while the services' business calendar moves (``StoryClock``): the search and a program's
page show what the family pays for the chosen child, per month and in total; after September is
closed the enrolment's page shows every mark and the month's debits (the certificate's and the
family's); the parent disputes a mark within its 7 days and reads the operator's decision and its
effect on the debit; cancels a contract that has not started and terminates a running one, each
after a confirmation page (the latter without JavaScript); once the contract has ended, rates the
program on the four scales and edits the rating.

Every page: its own host only, no script error, no serious or critical axe-core violation; on a
375 px phone no sideways scrolling. Screenshots in .work/test-artefacts/portal/contract-*.png.
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
from pfdo_testkit.browser import PHONE, Browser, chromium, horizontal_overflow, rub
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

SUITE = "portal"
D = dt.date
NNBSP, NBSP = "\u202f", "\u00a0"
PRICE, NORMATIVE = 1_800_000, 1_350_000
SEPTEMBER = [1, 3, 8, 10, 15, 17, 22, 24, 29]  # the group's Tuesdays and Thursdays
SCORES = {"Достижение результатов": 90, "Педагоги и наполняемость группы": 100,
          "Материально-техническая база": 80, "Общая удовлетворённость": 90}


@dataclass
class Contract:
    gateway: str
    s: st.Story
    clock: st.StoryClock
    robotics: str
    """The running contract (Робототехника from 1 September, by attendance)."""
    chess: str
    """The contract that has not started yet (Шахматы from 3 November)."""

    @property
    def parent(self) -> st.Person:
        return self.s.people["parent"]


@pytest.fixture(scope="module")
async def contract(platform_factory, auth, tmp_path_factory) -> AsyncIterator[Contract]:  # noqa: ANN001
    clock = st.StoryClock(tmp_path_factory.mktemp("contract-clock"))
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(db_prefix="contract", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)},
                                      service_env={"navigator": {"PFDO_JOBS_INTERVAL_S": "0.5"}})
    gw = httpx.AsyncClient(base_url=platform.gateway_url, timeout=30)
    s = st.Story(gw, st.TestAuthTokens(auth), st.cast("contract"))
    try:
        await st.open_region(s)
        await st.apply_for_certificate(s, surname="Соколов", first_name="Артём", birth_date=D(2015, 3, 14))
        await st.approve_certificate(s)
        await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=3_000_000)
        await st.register_provider(s, "ООО «Кванториум»")
        await st.approve_provider(s)
        await st.create_program(s, "robotics", name="Робототехника", description="Конструирование роботов.",
                                direction="technical",
                                module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2026, 12, 31),
                                                      weekdays=(2, 4), price=PRICE))
        await st.certify_program(s, "robotics", {s.ids["robotics_module"]: NORMATIVE})
        await st.create_program(s, "chess", name="Шахматы", description="Шахматный клуб.",
                                direction="social_humanitarian",
                                module=st.module_body("Группа 2", starts=D(2026, 11, 3), ends=D(2027, 5, 31),
                                                      weekdays=(2,), price=900_000))
        await st.certify_program(s, "chess", {s.ids["chess_module"]: 900_000})
        await st.wait_in_catalogue(s, [s.ids["robotics_module"], s.ids["chess_module"]])
        await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")
    except BaseException:
        print(platform.logs(40))
        await gw.aclose()
        raise
    yield Contract(platform.gateway_url, s, clock, "", "")
    await gw.aclose()


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, name)


def monthly(quote: dict) -> str:
    parts = [line["family_kopecks"] for line in quote["schedule"]]
    return rub(min(parts)) if min(parts) == max(parts) else f"{rub(min(parts))} – {rub(max(parts))}"


async def enrol(s: st.Story, module_id: str, starts: D, mode: str, *, accept: bool = True) -> str:
    """Apply; billing reserves; the provider confirms (the offer); the parent accepts it unless told not to."""
    await st.apply(s, module_id, starts, mode)
    await st.enrolment_when(s, "billing reserved", lambda e: e["state"] == "reserved")
    assert (await st.confirm(s))["state"] == "offered"
    if accept:
        assert (await st.accept_offer(s))["state"] == "confirmed"
    return s.ids["enrolment"]


async def enrolment(s: st.Story, enrolment_id: str) -> dict:
    return st.expect(await s.get("parent", f"/api/navigator/enrolments/{enrolment_id}"), 200)


async def months_debits(s: st.Story, enrolment_id: str, month: str) -> tuple[int, int]:
    """What billing debited the certificate and invoiced the family for a month of a contract."""
    certificate = family = 0
    for move in await st.history(s):
        if str(move.get("enrolment_id")) != enrolment_id or not str(move.get("month") or "").startswith(month):
            continue
        sign = {"post": 1, "late_charge": 1, "late_refund": -1, "invoice_family": 1, "late_invoice": 1,
                "late_credit": -1}.get(move["kind"], 0)
        if move["kind"] in ("post", "late_charge", "late_refund"):
            certificate += sign * move["amount"]
        elif sign:
            family += sign * move["amount"]
    return certificate, family


async def test_the_search_and_the_program_show_what_the_family_pays_for_the_chosen_child(contract: Contract) -> None:
    s, gateway = contract.s, contract.gateway
    robotics = await st.billing_quote(s, s.ids["robotics_module"], D(2026, 9, 1))  # from the group's first day
    chess = await st.billing_quote(s, s.ids["chess_module"], D(2026, 11, 3))
    assert robotics["family_kopecks"] > 0 and chess["family_kopecks"] == 0  # chess costs its normative
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page="/")
        await page.get_by_label("Для ребёнка").select_option(label="Артём Соколов")
        await page.get_by_role("button", name="Показать").click()
        await page.wait_for_url(re.compile(r"child="))
        hit = page.locator(".hit", has_text="Робототехника")
        await hit.locator(".family-cost").wait_for()
        text = await hit.locator(".family-cost").inner_text()
        assert "Для ребёнка: Артём, с 01.09.2026" in text
        assert monthly(robotics) in await hit.locator(".family-cost__monthly").inner_text()
        assert rub(robotics["family_kopecks"]) in await hit.locator(".family-cost__total").inner_text()
        assert rub(robotics["certificate_kopecks"]) in text
        other = await page.locator(".hit", has_text="Шахматы").locator(".family-cost").inner_text()
        assert "с 03.11.2026" in other and "Семья не доплачивает" in other
        await assert_sound(browser, page, "contract-search-family-cost")

        page = await browser.open(f"/programs/{s.ids['robotics_program']}?child={s.ids['certificate']}")
        module = page.locator(".module", has_text="Группа 1")
        assert rub(robotics["family_kopecks"]) in await module.locator(".family-cost__total").inner_text()
        assert await page.get_by_label("Для ребёнка").input_value() == s.ids["certificate"]
        await assert_sound(browser, page, "contract-program-family-cost")

    async with chromium(gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page=f"/?child={s.ids['certificate']}")
        await page.locator(".family-cost").first.wait_for()
        assert await horizontal_overflow(page) == 0
        await assert_sound(phone, page, "contract-search-family-cost-phone")

    # the contracts: robotics from 1 September by attendance; chess from 3 November
    contract.robotics = await enrol(s, s.ids["robotics_module"], D(2026, 9, 1), "attendance", accept=False)
    contract.chess = await enrol(s, s.ids["chess_module"], D(2026, 11, 3), "monthly")


async def test_the_parent_reads_the_offer_and_accepts_it_in_the_cabinet(contract: Contract) -> None:
    """The provider confirmed the robotics application on 24 August: the offer (договор-оферта) waits
    in the cabinet until 3 September; the parent reads it (on a phone too) and accepts it."""
    s, gateway = contract.s, contract.gateway
    assert contract.robotics, "the first test enrols"
    offered = await enrolment(s, contract.robotics)
    assert (offered["state"], offered["offered_on"], offered["offer_expires_on"]) == ("offered", "2026-08-24",
                                                                                     "2026-09-03")
    number = (await st.certificate(s))["number"]
    path = f"/cabinet/enrolments/{contract.robotics}"
    expected = ("ООО «Кванториум»", "Артём Соколов", f"№ {number}", "Робототехника", "Группа 1",
                "вторник, 16:00–17:30", "четверг, 16:00–17:30", "с 01.09.2026 по 31.12.2026",
                rub(offered["total_cost_kopecks"]), rub(offered["reserved_kopecks"]), rub(offered["family_kopecks"]),
                "По факту посещения", "до 03.09.2026 включительно")
    async with chromium(gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page=path)
        await page.locator("#offer").wait_for()
        assert await horizontal_overflow(page) == 0
        await assert_sound(phone, page, "contract-offer-phone")
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page="/cabinet")
        await page.get_by_role("link", name=re.compile("Рассмотреть оферту")).click()
        offer = page.locator("#offer")
        await offer.get_by_role("heading", name=re.compile(r"Договор-оферта № \S+ от 24\.08\.2026")).wait_for()
        text = await offer.inner_text()
        for words in expected:
            assert words in text, (words, text)
        assert "Ожидает акцепта оферты" in await page.locator("#status").inner_text()
        await assert_sound(browser, page, "contract-offer")
        await offer.get_by_role("button", name="Принять оферту").click()
        await page.wait_for_url(re.compile(r"done=accepted"))
        await page.get_by_role("status").filter(has_text="Оферта принята").wait_for()
        assert "Договор заключён" in await page.locator("#status").inner_text()
        assert await page.locator("#offer").count() == 0
        await assert_sound(browser, page, "contract-offer-accepted")
    accepted = await enrolment(s, contract.robotics)
    assert accepted["state"] == "confirmed" and accepted["accepted_by"] == contract.parent.sub


async def test_marks_and_debits_a_dispute_cancel_terminate_and_the_rating(contract: Contract) -> None:  # noqa: PLR0915
    s, gateway, clock = contract.s, contract.gateway, contract.clock
    assert contract.robotics and contract.chess, "the first test enrols"
    s.ids["enrolment"] = contract.robotics
    # September: the provider's journal (one absence) on its last day; the month is frozen and closed
    clock.set(D(2026, 9, 30))
    await st.post_attendance(s, s.ids["robotics_module"],
                             [(D(2026, 9, d), "absent" if d == 17 else "present") for d in SEPTEMBER])
    clock.set(D(2026, 10, 1))
    st.expect(await st.freeze_month(s, "2026-09"), 200)
    closed = await st.close_month_when_ready(s, "2026-09")
    assert closed["posted_kopecks"] > 0 and closed["family_invoiced_kopecks"] > 0
    clock.set(D(2026, 10, 2))
    posted, invoiced = await months_debits(s, contract.robotics, "2026-09")
    assert (posted, invoiced) == (closed["posted_kopecks"], closed["family_invoiced_kopecks"])

    path = f"/cabinet/enrolments/{contract.robotics}"
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page=path)
        month = page.locator("#month-2026-09")
        await month.get_by_role("heading", name="Сентябрь 2026").wait_for()
        rows = await month.locator(".marks-table tbody tr").all_inner_texts()
        assert len(rows) == 9 and "17.09.2026" in rows[5] and "Отсутствовал" in rows[5], rows
        assert all("Присутствовал" in row for i, row in enumerate(rows) if i != 5)
        assert rub(posted) in await month.locator(".month__debit").inner_text()
        assert rub(invoiced) in await month.locator(".month__family").inner_text()
        assert "до 07.10.2026" in rows[8]  # recorded on 30 September: 7 days to dispute
        await assert_sound(browser, page, "contract-marks-and-debits")

        # the parent disputes the 29th: the child was ill
        assert await page.locator("#dispute").count() == 0  # the form of the one mark chosen only
        await page.get_by_role("link", name="Оспорить отметку за 29.09.2026").click()
        await page.wait_for_url(re.compile(r"\?dispute=[0-9a-f-]{36}#dispute$"))
        form = page.locator("#dispute")
        assert "Присутствовал" not in await form.locator("fieldset").inner_text()  # the claim differs from the mark
        await assert_sound(browser, page, "contract-dispute-form")
        await form.get_by_label("Отсутствовал").check()
        await form.get_by_label("Комментарий для муниципалитета").fill("Артём болел, справка есть")
        await form.get_by_role("button", name="Оспорить отметку").click()
        await page.wait_for_url(re.compile(r"done=disputed"))
        await page.get_by_role("status").filter(has_text="Оспаривание отправлено").wait_for()
        last = page.locator("#month-2026-09 .marks-table tbody tr").nth(8)
        assert "На рассмотрении" in await last.inner_text()
        assert await last.get_by_role("link", name=re.compile("Оспорить")).count() == 0  # one open dispute a mark
        await assert_sound(browser, page, "contract-disputed")

        # the municipal operator upholds it: the mark changes, September is billed again
        disputes = await s.all_items("parent", "/api/navigator/disputes")
        assert [(d["lesson_date"], d["claimed_status"], d["state"]) for d in disputes] == [
            ("2026-09-29", "absent", "open")]
        await st.resolve_dispute(s, str(disputes[0]["dispute_id"]), upheld=True, note="Справка подтверждена")

        async def refunded() -> tuple[int, int] | None:
            found = await months_debits(s, contract.robotics, "2026-09")
            return found if found[0] < posted else None

        posted, invoiced = await st.eventually(refunded, "September billed again after the upheld dispute")
        page = await browser.open(path)
        last = page.locator("#month-2026-09 .marks-table tbody tr").nth(8)
        assert "Удовлетворено" in await last.inner_text() and "Отсутствовал" in await last.inner_text()
        assert rub(posted) in await page.locator("#month-2026-09 .month__debit").inner_text()
        assert rub(invoiced) in await page.locator("#month-2026-09 .month__family").inner_text()
        await assert_sound(browser, page, "contract-dispute-upheld")

        # the chess contract has not started: it is cancelled, after a confirmation page
        page = await browser.open(f"/cabinet/enrolments/{contract.chess}")
        await page.get_by_role("link", name="Отменить запись…").click()
        await page.get_by_role("heading", level=1, name="Отменить запись?").wait_for()
        await assert_sound(browser, page, "contract-cancel-confirm")
        await page.get_by_role("button", name="Да, отменить запись").click()
        await page.wait_for_url(re.compile(r"done=cancelled"))
        await page.get_by_role("status").filter(has_text="Запись отменена").wait_for()
        assert (await enrolment(s, contract.chess))["state"] == "cancelled"
        await assert_sound(browser, page, "contract-cancelled")

    async with chromium(gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page=path)
        for where in (path, path + "/end"):
            page = await phone.open(where)
            assert await horizontal_overflow(page) == 0, where
        await assert_sound(phone, page, "contract-terminate-confirm-phone")
        page = await phone.open(path)
        await assert_sound(phone, page, "contract-marks-phone")

    # the robotics contract is terminated without JavaScript: it ends on 31 October
    async with chromium(gateway, javascript=False) as plain:
        page = await plain.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page=path)
        await page.get_by_role("link", name="Расторгнуть договор…").click()
        await page.get_by_role("heading", level=1, name="Расторгнуть договор?").wait_for()
        assert "Последний день обучения: 31.10.2026" in await page.locator("main").inner_text()
        # the confirmation's form carries the session's token: without it the post is refused
        refused = await page.request.post(gateway + path + "/end", form={"action": "terminate", "csrf_token": "x"},
                                          max_redirects=0)
        assert refused.status == 403
        await page.get_by_role("button", name="Да, расторгнуть договор").click()
        await page.wait_for_url(re.compile(r"done=terminated"))
        assert "Договор расторгнут" in await page.locator("main").inner_text()
        terminated = await enrolment(s, contract.robotics)
        assert (terminated["state"], terminated["ends_on"]) == ("terminated", "2026-10-31")
        assert await page.get_by_role("link", name="Расторгнуть договор…").count() == 0
        assert plain.elsewhere == [] and plain.page_errors == []

    # 1 November: the contract has ended; the parent rates the program
    clock.set(D(2026, 11, 1))
    await st.enrolment_when(s, "the contract ended", lambda e: e["state"] == "ended")

    async def rateable() -> bool | None:
        items = await s.all_items("parent", "/api/ratings/me/ratings")
        return True if any(str(i["enrolment_id"]) == contract.robotics for i in items) else None

    await st.eventually(rateable, "ratings heard of the end")
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "parent", contract.parent.sub, next_page="/cabinet")
        await page.get_by_role("link", name="Оценить программу «Робототехника»").click()
        await page.wait_for_url(re.compile(re.escape(path) + "#rating$"))
        assert await page.get_by_role("link", name=re.compile("^Оспорить")).count() == 0  # the 7 days are over
        rating = page.locator("#rating")
        for scale, value in SCORES.items():
            await rating.get_by_role("group", name=scale).get_by_label(f"{value}{NBSP}%", exact=True).check()
        await rating.get_by_label("Отзыв (необязательно)").fill("Сыну очень понравилось")
        await assert_sound(browser, page, "contract-rating-form")
        await rating.get_by_role("button", name="Оценить программу").click()
        await page.wait_for_url(re.compile(r"done=rated"))
        await page.get_by_role("status").filter(has_text="Оценка сохранена").wait_for()
        mine = [i for i in await s.all_items("parent", "/api/ratings/me/ratings")
                if str(i["enrolment_id"]) == contract.robotics][0]["rating"]
        assert mine["scores"] == {"results": 90, "teachers_and_group": 100, "materials_and_equipment": 80,
                                  "overall_satisfaction": 90}
        assert mine["comment"] == "Сыну очень понравилось" and mine["version"] == 1
        # editable for 30 days: the form again, with the scores given
        rating = page.locator("#rating")
        assert await rating.get_by_role("group", name="Общая удовлетворённость").get_by_label(
            f"90{NBSP}%", exact=True).is_checked()
        await rating.get_by_role("group", name="Общая удовлетворённость").get_by_label(
            f"100{NBSP}%", exact=True).check()
        await rating.get_by_role("button", name="Изменить оценку").click()
        await page.wait_for_url(re.compile(r"done=rating_edited"))
        await assert_sound(browser, page, "contract-rated")
        mine = [i for i in await s.all_items("parent", "/api/ratings/me/ratings")
                if str(i["enrolment_id"]) == contract.robotics][0]["rating"]
        assert mine["scores"]["overall_satisfaction"] == 100 and mine["version"] == 2

        page = await browser.open("/cabinet")
        card = page.locator(".card", has_text="Робототехника")
        assert "общая удовлетворённость — 100" in await card.inner_text()
        assert await card.get_by_role("link", name="Изменить оценку программы «Робототехника»").count() == 1
        await assert_sound(browser, page, "contract-cabinet-rated")
