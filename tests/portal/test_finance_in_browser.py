"""The finance user's register of payment orders in Debian's Chromium, through the real gateway in
front of the real services, on a business clock (pfdo_testkit.enrolled_region: a child enrolled
from 1 September 2026 and marked present twice). On 2 October the region freezes September's
journal, issues the advances of September and October and closes September: billing issues an
advance for each month and September's final settlement.

The finance user reads the three orders with their totals, filters by month, by kind and by
provider on the page, and downloads the register as CSV and as XLSX with the page's filters
(Playwright's downloads): the files hold the same orders as billing's API, amounts in roubles
(a decimal comma in the CSV, numbers in a rouble format in the workbook), dates as dates. An
operator is refused the register and its files.

Every page: own host only, no script error, no serious or critical axe-core violation, no sideways
scrolling at 375 px. Screenshots in .work/test-artefacts/portal/finance-*.png.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from pfdo_devstack import story as st
from pfdo_portal.formatting import money
from pfdo_testkit import browser as browser_checks
from pfdo_testkit.browser import PHONE, Browser, chromium, horizontal_overflow
from pfdo_testkit.enrolled_region import EnrolledRegion, enrolled_region
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(480)]

SUITE = "portal"
PROVIDER = "ООО «Кванториум»"


@pytest.fixture(scope="module")
async def region(platform_factory, auth, tmp_path_factory) -> AsyncIterator[EnrolledRegion]:  # noqa: ANN001
    clock = st.StoryClock(tmp_path_factory.mktemp("finance-clock"))
    clock.set(dt.date(2026, 8, 24))
    platform = await platform_factory(db_prefix="finance", portal=True,
                                      extra_env={"PFDO_LOG_LEVEL": "WARNING", "PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        try:
            found = await enrolled_region(platform.gateway_url, gw, auth, clock, "finance", children_count=100)
            s = found.story
            clock.set(dt.date(2026, 10, 2))  # September is over
            st.expect(await st.freeze_month(s, "2026-09"), 200)
            for month in ("2026-09", "2026-10"):
                await advance(s, month)
            await st.close_month_when_ready(s, "2026-09", timeout=60)
        except BaseException:
            print(platform.logs(40))
            raise
        yield found


async def advance(s: st.Story, month: str) -> None:
    """The month's advance order, issued again (idempotent) until billing, which hears of the
    confirmed contract from the bus, has one."""
    async def probe() -> list[dict] | None:
        await st.issue_advance(s, month)
        return [o for o in await st.payment_orders(s) if o["month"] == month and o["kind"] == "advance"] or None

    await st.eventually(probe, f"the advance order of {month}")


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await browser_checks.assert_sound(browser, page, SUITE, name)


async def sign_in_finance(page, region: EnrolledRegion, next_page: str = "/finance") -> None:  # noqa: ANN001
    await sign_in_as(page, region.gateway, "finance", region.story.people["finance"].sub, next_page=next_page)


def cells(rows: list[str]) -> list[list[str]]:
    return [[cell.strip() for cell in row.split("\t")] for row in rows]


def roubles_text(kopecks: int) -> str:
    return f"{kopecks // 100},{kopecks % 100:02d}"


async def download(page, link: str) -> tuple[str, bytes]:  # noqa: ANN001
    """The file the link downloads: its suggested name and its bytes."""
    async with page.expect_download() as started:
        await page.get_by_role("link", name=link).click()
    found = await started.value
    path = await found.path()
    assert path is not None and await found.failure() is None
    return found.suggested_filename, Path(path).read_bytes()


async def test_the_register_lists_filters_and_sums_the_orders(region: EnrolledRegion) -> None:
    orders = await st.payment_orders(region.story)
    assert sorted((o["month"], o["kind"]) for o in orders) == [
        ("2026-09", "advance"), ("2026-09", "final"), ("2026-10", "advance")]
    by_key = {(o["month"], o["kind"]): o for o in orders}
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_finance(page, region)
        await page.get_by_role("heading", level=1, name="Платёжные поручения").wait_for()
        rows = cells(await page.locator("#orders tbody tr").all_inner_texts())
        # month, number, provider, payer, kind, issued on, contracts, five sums, status (with its form)
        assert [(r[0], r[2], r[4]) for r in rows] == [
            ("октябрь 2026", PROVIDER, "Аванс"), ("сентябрь 2026", PROVIDER, "Аванс"),
            ("сентябрь 2026", PROVIDER, "Окончательный расчёт")]
        for row, key in zip(rows, [("2026-10", "advance"), ("2026-09", "advance"), ("2026-09", "final")], strict=True):
            o = by_key[key]
            assert (row[1], row[3]) == (o["number"], {"01": "Липецк", "02": "Елец"}[o["payer_code"]])
            assert row[5] == dt.date.fromisoformat(o["issued_on"]).strftime("%d.%m.%Y")
            assert row[6:12] == [str(o["contract_count"]), money(o["base_kopecks"]), money(o["advance_paid_kopecks"]),
                                 money(o["offset_applied_kopecks"]), money(o["amount_kopecks"]),
                                 money(o["offset_carried_kopecks"])]
            assert row[12].startswith("Сформировано")
        totals = re.sub(r"[ \t\r\n]+", " ", await page.locator("#totals").inner_text())  # money keeps its spaces
        assert f"Поручений 3 К оплате, всего {money(sum(o['amount_kopecks'] for o in orders))}" in totals
        assert f"Окончательные расчёты (1) {money(by_key[('2026-09', 'final')]['amount_kopecks'])}" in totals
        await assert_sound(browser, page, "finance-register")

        # by month, then by kind: the page's form, the address keeps the filters
        await page.get_by_label("Месяц").fill("2026-09")
        await page.get_by_role("button", name="Показать").click()
        await page.wait_for_url(re.compile(r"/finance\?month=2026-09&kind=&provider="))
        assert [r[4] for r in cells(await page.locator("#orders tbody tr").all_inner_texts())] == [
            "Аванс", "Окончательный расчёт"]
        await page.get_by_label("Вид поручения").select_option(label="Окончательный расчёт")
        await page.get_by_label("Организация").select_option(label=PROVIDER)
        await page.get_by_role("button", name="Показать").click()
        await page.wait_for_url(re.compile(r"kind=final"))
        [row] = cells(await page.locator("#orders tbody tr").all_inner_texts())
        assert [row[0], row[2], row[4]] == ["сентябрь 2026", PROVIDER, "Окончательный расчёт"]
        assert await page.get_by_label("Вид поручения").input_value() == "final"
        await assert_sound(browser, page, "finance-register-filtered")

        # a month with no orders
        page = await browser.open("/finance?month=2026-11")
        assert "Поручений по этому отбору нет." in await page.locator("main").inner_text()


async def test_the_downloads_hold_the_orders_of_the_filters(region: EnrolledRegion) -> None:
    orders = [o for o in await st.payment_orders(region.story) if o["month"] == "2026-09"]
    advance, final = sorted(orders, key=lambda o: o["kind"])
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_finance(page, region, "/finance?month=2026-09")
        await page.get_by_role("heading", level=1, name="Платёжные поручения").wait_for()

        name, raw = await download(page, "Скачать CSV")
        assert name == "payment-orders-2026-09.csv"
        assert raw.startswith(b"\xef\xbb\xbf")
        lines = [line.split(";") for line in raw.decode("utf-8-sig").split("\r\n") if line]
        assert lines[0][:3] == ["Месяц", "Организация", "Вид поручения"]
        body = {line[2]: line for line in lines[1:-1]}
        assert set(body) == {"Аванс", "Окончательный расчёт"}
        for kind, o in (("Аванс", advance), ("Окончательный расчёт", final)):
            assert body[kind] == ["09.2026", PROVIDER, kind, dt.date.fromisoformat(o["issued_on"]).strftime("%d.%m.%Y"),
                                  str(o["contract_count"]), roubles_text(o["base_kopecks"]),
                                  roubles_text(o["advance_paid_kopecks"]), roubles_text(o["offset_applied_kopecks"]),
                                  roubles_text(o["amount_kopecks"]), roubles_text(o["offset_carried_kopecks"]),
                                  o["order_id"]]
        assert lines[-1][0] == "Итого" and lines[-1][8] == roubles_text(advance["amount_kopecks"] + final["amount_kopecks"])

        name, raw = await download(page, "Скачать XLSX")
        assert name == "payment-orders-2026-09.xlsx"
        sheet = load_workbook(io.BytesIO(raw)).active
        values = list(sheet.iter_rows(values_only=True))
        assert len(values) == 4 and values[-1][0] == "Итого"
        rows = {v[2]: v for v in values[1:3]}
        for kind, o in (("Аванс", advance), ("Окончательный расчёт", final)):
            row = rows[kind]
            assert row[0] == dt.datetime(2026, 9, 1) and row[1] == PROVIDER
            assert row[3] == dt.datetime.fromisoformat(o["issued_on"]) and row[4] == o["contract_count"]
            assert [Decimal(str(v)) for v in row[5:10]] == [
                Decimal(o[f]) / 100 for f in ("base_kopecks", "advance_paid_kopecks", "offset_applied_kopecks",
                                              "amount_kopecks", "offset_carried_kopecks")]
        assert sheet["I2"].number_format.endswith('"₽"') and sheet["D2"].number_format == "DD.MM.YYYY"
        assert browser.elsewhere == [] and browser.page_errors == []

    async with chromium(region.gateway, viewport=PHONE) as phone:
        page = await phone.open("/")
        await sign_in_finance(page, region)
        page = await phone.open("/finance")
        assert await horizontal_overflow(page) == 0
        await assert_sound(phone, page, "finance-register-phone")


async def test_an_operator_is_refused_the_register_and_its_files(region: EnrolledRegion) -> None:
    operator = region.story.people["operator"]
    async with chromium(region.gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, region.gateway, operator.role, operator.sub, municipality=operator.municipality)
        for path in ("/finance", "/finance/orders.csv", "/finance/orders.xlsx"):
            answer = await page.request.get(region.gateway + path)
            assert answer.status == 403, path
