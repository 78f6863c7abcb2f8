"""The role × page matrix: every guarded page of the portal (found in ``create_app()``'s routes,
so a page added later is covered without touching this file) is refused by the server to every
role its guard does not admit — 403 or 404, the page itself, not a hidden link — and a visitor is
sent to sign in. Forms are posted with the session's valid CSRF token, so the refusal is the
role's and not the CSRF check's.

The portal runs in-process with its real session layer on a real PostgreSQL database migrated by
its own Alembic scripts; each person's session is opened in the session store as the sign-in
callback opens it. The gateway is not reachable: a page refused never asks it anything."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import PortalUser, close_auth
from pfdo_portal.auth.claims import PERSON_ROLES
from pfdo_portal.auth.guards import WRONG_ROLE
from pfdo_portal.settings import PortalSettings
from pfdo_testkit import create_database, migrate_portal
from pfdo_testkit.portal_routes import Page, guarded_pages

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PORTAL = "http://portal.test"
FORM_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def person(role: Role) -> PortalUser:
    return PortalUser(sub=f"matrix-{role.value}", role=role, name=f"Проверка {role.value}",
                      municipality="01" if role == Role.MUNICIPAL_OPERATOR else None,
                      provider_id=str(uuid.uuid4()) if role == Role.PROVIDER else None)


@pytest.fixture(scope="module")
async def portal(infra) -> AsyncIterator[FastAPI]:  # noqa: ANN001
    url = await create_database(infra, f"portal_{uuid.uuid4().hex[:10]}")
    await asyncio.to_thread(migrate_portal, url)
    app = create_app(PortalSettings(database_url=url, api_url="http://127.0.0.1:9/api/", api_timeout_s=2,
                                    oidc_redirect_uri=f"{PORTAL}/auth/callback", log_json=False))
    yield app
    await close_auth(app)


class Browser:
    """One person's browser: the session cookie and the CSRF token of that session."""

    def __init__(self, app: FastAPI, session_id: str | None, csrf_token: str | None) -> None:
        cookies = {app.state.settings.session_cookie_name: session_id} if session_id else {}
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PORTAL, cookies=cookies)
        self.csrf_token = csrf_token

    async def send(self, method: str, address: str) -> httpx.Response:
        if method in FORM_METHODS:
            return await self.client.request(method, address, data={"csrf_token": self.csrf_token or ""},
                                             headers={"Origin": PORTAL})
        return await self.client.request(method, address)


async def signed_in(app: FastAPI, role: Role) -> Browser:
    tokens = {"access_token": f"not-a-token-{role.value}", "expires_at": int(time.time()) + 3600}
    session_id, session = await app.state.sessions.create(person=person(role).as_json(), tokens=tokens)
    return Browser(app, session_id, session.csrf_token)


async def visitor(app: FastAPI) -> Browser:
    """A visitor whose sign-in is under way: a session with a CSRF token but nobody in it."""
    session_id, session = await app.state.sessions.create(login={"state": "s", "nonce": "n", "next": "/"})
    return Browser(app, session_id, session.csrf_token)


def tried(page: Page) -> list[tuple[str, str]]:
    """(method, address) of each way the page is asked for."""
    return [(method, page.sample_address()) for method in sorted(page.methods - {"HEAD", "OPTIONS"})]


async def test_every_guarded_page_is_refused_to_every_role_it_does_not_admit(portal: FastAPI) -> None:
    guarded = guarded_pages(portal)
    assert {p.path for p in guarded} >= {"/cabinet", "/provider"}, "the walk found none of the cabinets"
    browsers = {role: await signed_in(portal, role) for role in PERSON_ROLES}
    let_through, refused_count = [], 0
    for page in guarded:
        for role, browser in browsers.items():
            if role in (page.roles or ()):
                continue
            for method, address in tried(page):
                answer = await browser.send(method, address)
                refused_count += 1
                if answer.status_code not in (403, 404):
                    let_through.append(f"{role.value}: {method} {address} -> {answer.status_code}")
                elif answer.status_code == 403 and WRONG_ROLE not in answer.text:
                    said = re.sub(r"<[^>]+>|\s+", " ", answer.text)[-200:]
                    let_through.append(f"{role.value}: {method} {address} -> 403, not the role's refusal: {said}")
    for browser in browsers.values():
        await browser.client.aclose()
    assert let_through == [], "pages answered to a role their guard does not admit:\n" + "\n".join(let_through)
    assert refused_count >= len(guarded)


async def test_the_roles_a_page_admits_are_not_refused_by_its_guard(portal: FastAPI) -> None:
    """The other half of the matrix: the guard lets its own roles through (the page then fails
    to reach the gateway, which is not this test's business), so the refusals above are the
    guard's choice and not a guard that refuses everyone."""
    browsers = {role: await signed_in(portal, role) for role in PERSON_ROLES}
    wrongly_refused = []
    for page in guarded_pages(portal):
        for role in page.roles or ():
            for method, address in tried(page):
                answer = await browsers[role].send(method, address)
                if WRONG_ROLE in answer.text or answer.headers.get("location", "").startswith("/auth/login"):
                    wrongly_refused.append(f"{role.value}: {method} {address} -> {answer.status_code}")
    for browser in browsers.values():
        await browser.client.aclose()
    assert wrongly_refused == []


async def test_a_visitor_is_sent_to_sign_in_by_every_guarded_page(portal: FastAPI) -> None:
    browser = await visitor(portal)
    not_sent = []
    for page in guarded_pages(portal):
        for method, address in tried(page):
            answer = await browser.send(method, address)
            back = address if method not in FORM_METHODS else "/"  # a form cannot be posted again after sign-in
            expected = f"/auth/login?next={quote(back, safe='')}"
            if answer.status_code != 303 or answer.headers.get("location") != expected:
                not_sent.append(f"{method} {address} -> {answer.status_code} {answer.headers.get('location')}")
    assert not_sent == []
    anonymous = Browser(portal, None, None)  # no session at all: a form post fails the CSRF check first
    posts = [(m, a) for page in guarded_pages(portal) for m, a in tried(page) if m in FORM_METHODS]
    assert posts and [(await anonymous.send(m, a)).status_code for m, a in posts] == [403] * len(posts)
    await browser.client.aclose()
    await anonymous.client.aclose()
