"""Signing a person in through the portal's pages in a browser test: the portal's /auth/login,
the development issuer's page (its «Другая учётная запись» form, so any subject of a story can
sign in, not only the demo region's people), and back to the page asked for."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


async def sign_in_as(page: Any, base_url: str, role: str, sub: str, *, municipality: str | None = None,
                     provider_id: str | None = None, next_page: str = "/") -> None:
    """``page`` ends on ``next_page``, signed in as ``sub`` with ``role`` (and its scope claims)."""
    await page.goto(f"{base_url}/auth/login?next={quote(next_page, safe='')}", wait_until="load")
    form = page.locator("fieldset", has_text="Другая учётная запись")
    await form.get_by_label("Роль").select_option(role)
    await form.get_by_label("Идентификатор (sub)").fill(sub)
    if municipality:
        await form.get_by_label("Код муниципалитета").fill(municipality)
    if provider_id:
        await form.get_by_label("Идентификатор организации").fill(provider_id)
    await form.get_by_role("button", name="Войти").click()
    await page.wait_for_url(base_url + next_page)


async def sign_out(page: Any, base_url: str) -> None:
    """Sign-out through the portal's confirmation page and the issuer's end-session."""
    await page.goto(f"{base_url}/auth/logout", wait_until="load")
    await page.get_by_role("main").get_by_role("button", name="Выйти").click()
    await page.wait_for_url(lambda url: url.startswith(base_url + "/?state="))
