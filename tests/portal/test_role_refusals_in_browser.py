"""Every role's pages refused to the other roles, in Debian's Chromium through the real gateway:
each role signs in on the development issuer's page and opens one page of every cabinet that is
not theirs; the server answers 403 (or 404) with its page in Russian, not the page with a link
hidden. A visitor opening a cabinet is sent to sign in. The pages tried are read from the
portal's own routes (one page per set of admitted roles), so a cabinet added later is tried too;
the whole matrix, every page and form, is portal/tests/integration/test_role_refusals.py.

Every refusal page: its own host only, no script error, no serious or critical axe-core violation,
no sideways scrolling at 375 px. Screenshots go to .work/test-artefacts/portal/.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth.claims import PERSON_ROLES
from pfdo_portal.settings import PortalSettings
from pfdo_testkit.browser import PHONE, axe_violations, chromium, horizontal_overflow, screenshot
from pfdo_testkit.portal_routes import guarded_pages
from pfdo_testkit.sign_in import sign_in_as

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]

SUITE = "portal"
REFUSED = {403: "Нет доступа", 404: "Страница не найдена"}


def one_page_per_cabinet() -> dict[str, frozenset[Role]]:
    """For each set of roles a guard admits, its shortest page opened by GET, as an address."""
    app = create_app(PortalSettings(api_url="http://127.0.0.1:9/api/", log_json=False))
    chosen: dict[frozenset[Role], str] = {}
    for page in sorted(guarded_pages(app), key=lambda p: (len(p.path), p.path)):
        if "GET" in page.methods and page.roles is not None and page.roles not in chosen:
            chosen[page.roles] = page.sample_address()
    return {address: roles for roles, address in chosen.items()}


@pytest.fixture(scope="module")
def gateway(portal_with_navigator) -> str:  # noqa: ANN001
    return portal_with_navigator.gateway_url


@pytest.mark.parametrize("role", PERSON_ROLES, ids=[r.value for r in PERSON_ROLES])
async def test_a_person_is_refused_every_other_roles_page(gateway: str, role: Role) -> None:
    pages = one_page_per_cabinet()
    assert "/cabinet" in pages and "/provider" in pages, pages
    others = [address for address, roles in pages.items() if role not in roles]
    assert others, f"every cabinet admits {role.value}?"
    async with chromium(gateway, viewport=PHONE) as browser:
        page = await browser.context.new_page()
        browser.page = page
        page.on("pageerror", lambda error: browser.page_errors.append(str(error)))
        await sign_in_as(page, gateway, role.value, f"refused-{role.value}-{uuid.uuid4().hex[:6]}",
                         municipality="01" if role == Role.MUNICIPAL_OPERATOR else None,
                         provider_id=str(uuid.uuid4()) if role == Role.PROVIDER else None)
        for index, address in enumerate(others):
            answer = await page.goto(gateway + address, wait_until="load")
            assert answer is not None, address
            status = answer.status
            assert status in REFUSED, f"{role.value} {address}: {status}"
            assert page.url == gateway + address  # answered there, not sent elsewhere
            assert await page.get_by_role("heading", level=1, name=REFUSED[status]).count() == 1
            if index == 0:
                await screenshot(page, SUITE, f"refused-{role.value}", full_page=True)
                assert await axe_violations(page) == []
                assert await horizontal_overflow(page) == 0
        assert browser.elsewhere == [] and browser.page_errors == []


async def test_a_visitor_opening_a_cabinet_is_sent_to_sign_in(gateway: str) -> None:
    async with chromium(gateway) as browser:
        for address in one_page_per_cabinet():
            page = await browser.context.new_page()
            await page.goto(gateway + address, wait_until="load")
            assert "/auth/oidc/authorize?" in page.url, f"{address} -> {page.url}"
            await page.get_by_role("heading", name="Вход в систему (тестовый поставщик учётных записей)").wait_for()
            await page.close()
        assert browser.elsewhere == []


async def test_the_gateway_compresses_the_portals_static_files_but_not_its_pages(gateway: str) -> None:
    """Lighthouse's "enable text compression" for htmx and the stylesheet; a page holding the
    session's CSRF token stays uncompressed (BREACH)."""
    async with httpx.AsyncClient(base_url=gateway, headers={"Accept-Encoding": "gzip"}) as client:
        script = await client.get("/static/vendor/htmx.min.js")
        assert script.status_code == 200 and script.headers.get("content-encoding") == "gzip"
        assert "Accept-Encoding" in script.headers.get("vary", "") and len(script.content) > 40_000
        assert "max-age" in script.headers.get("cache-control", "")
        page = await client.get("/")
        assert page.status_code == 200 and "content-encoding" not in page.headers
