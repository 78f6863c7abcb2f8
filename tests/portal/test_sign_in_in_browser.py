"""Signing in and out of the portal in Debian's Chromium: the portal and the development issuer
(its OpenID Connect provider) as real processes behind the real nginx gateway, the navigator
behind it for the pages. A parent picks themselves on the issuer's page, comes back signed in,
and signs out again (at the issuer too). Every page: its own host only, no script error, no
serious or critical axe-core violation, no sideways scrolling at 375 px."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from pfdo_testkit.browser import PHONE, Browser, axe_violations, chromium, horizontal_overflow, screenshot
from pfdo_testkit.sign_in import sign_in_as, sign_out

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SUITE = "portal"
PARENT = "parent-signin-1"


@pytest.fixture(scope="module")
def platform(portal_with_navigator):  # noqa: ANN001, ANN201
    platform = portal_with_navigator
    # the people the issuer's page offers (the demo load writes this file in a local stack)
    (platform.config.stack_dir / "demo-accounts.json").write_text(json.dumps({
        "parents": [{"role": "parent", "sub": PARENT, "certificates": ["48-01-000001", "48-01-000002"]}],
        "municipal_operators": [{"role": "municipal_operator", "sub": "operator-01", "municipality": "01",
                                 "name": "Липецк"}],
    }, ensure_ascii=False))
    return platform


@pytest.fixture(scope="module")
def gateway(platform) -> str:  # noqa: ANN001
    return platform.gateway_url


@pytest.fixture(scope="module")
async def desktop(gateway: str) -> AsyncIterator[Browser]:
    async with chromium(gateway) as browser:
        yield browser


async def assert_sound(browser: Browser, page, name: str) -> None:  # noqa: ANN001
    await screenshot(page, SUITE, name, full_page=True)
    assert browser.elsewhere == [], browser.elsewhere
    assert browser.page_errors == [], browser.page_errors
    assert await axe_violations(page) == []


async def test_a_parent_signs_in_on_the_issuers_page_and_signs_out(desktop: Browser) -> None:
    page = await desktop.open("/")
    await page.get_by_role("link", name="Войти").click()
    # the issuer's page, through the same gateway
    await page.get_by_role("heading", name="Вход в систему (тестовый поставщик учётных записей)").wait_for()
    assert "/auth/oidc/authorize?" in page.url and "code_challenge_method=S256" in page.url
    assert await page.get_attribute("html", "lang") == "ru"
    await assert_sound(desktop, page, "sign-in-issuer")

    await page.get_by_role("button", name=f"Родитель 1 (детей: 2) ({PARENT})").click()
    await page.wait_for_url(desktop.base_url + "/")
    await page.locator(".site-nav__user", has_text="Родитель 1 (детей: 2)").wait_for()
    cookie = next(c for c in await desktop.context.cookies() if c["name"] == "pfdo_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert cookie["value"].count(".") == 0  # an opaque id: the tokens stay in the portal
    assert desktop.elsewhere == [] and desktop.page_errors == []

    await page.get_by_role("link", name="Выйти").click()
    await page.get_by_role("heading", name="Выход").wait_for()
    await assert_sound(desktop, page, "sign-out")
    await page.get_by_role("button", name="Выйти").click()
    # the issuer's end-session sends the browser back to the portal's first page, signed out
    await page.wait_for_url(lambda url: url.startswith(desktop.base_url + "/?state="))
    await page.get_by_role("link", name="Войти").wait_for()
    assert not [c for c in await desktop.context.cookies() if c["name"] == "pfdo_session"]
    assert desktop.elsewhere == [] and desktop.page_errors == []


async def test_the_issuers_page_works_on_a_phone_and_by_keyboard(gateway: str) -> None:
    async with chromium(gateway, viewport=PHONE) as phone:
        page = await phone.open("/auth/login?next=%2F")
        await page.get_by_role("heading", name="Вход в систему (тестовый поставщик учётных записей)").wait_for()
        assert await horizontal_overflow(page) == 0
        await assert_sound(phone, page, "sign-in-issuer-phone")
        # by keyboard: the first person's button is the first stop, Enter signs in
        await page.keyboard.press("Tab")
        assert PARENT in await page.evaluate("document.activeElement.textContent")
        await page.keyboard.press("Enter")
        await page.wait_for_url(gateway + "/")
        await page.locator(".site-nav__user").wait_for()
        assert phone.elsewhere == [] and phone.page_errors == []


async def test_the_session_survives_a_restart_of_the_portal_process(platform, gateway: str) -> None:  # noqa: ANN001
    async with chromium(gateway) as browser:
        page = await browser.open("/auth/login?next=%2F")
        await page.get_by_role("button", name="Липецк (operator-01)").click()
        await page.wait_for_url(gateway + "/")
        await page.locator(".site-nav__user", has_text="Липецк").wait_for()
        await asyncio.to_thread(platform.restart, "portal")
        page = await browser.open("/")
        await page.locator(".site-nav__user", has_text="Липецк").wait_for()
        assert await page.get_by_role("link", name="Войти").count() == 0


async def test_any_person_of_a_story_signs_in_with_the_other_account_form(gateway: str) -> None:
    async with chromium(gateway) as browser:
        page = await browser.open("/")
        await sign_in_as(page, gateway, "provider", "provider-story-1", provider_id="p-123", next_page="/auth/logout")
        assert "Вы вошли как provider-story-1" in await page.locator("main").inner_text()
        await sign_out(page, gateway)
        await page.get_by_role("link", name="Войти").wait_for()
        assert browser.elsewhere == [] and browser.page_errors == []
