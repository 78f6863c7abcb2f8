"""Sign-in end to end: the portal against the real development issuer (served over HTTP by
uvicorn) and its sessions in a real PostgreSQL database migrated by the portal's own Alembic
scripts. The browser is played by an HTTP client that follows the redirects by hand."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI

from pfdo_plumbing.auth.devissuer import create_issuer_app
from pfdo_plumbing.auth.oidc_settings import DevOidcSettings
from pfdo_plumbing.settings import ServiceSettings
from pfdo_portal.app import create_app
from pfdo_portal.gateway import ApiError
from pfdo_portal.auth import PortalUser, close_auth, csrf_protect, require_role, require_user
from pfdo_portal.auth.sealing import TokenSeal
from pfdo_portal.auth.sessions import id_hash
from pfdo_portal.settings import PortalSettings
from pfdo_testkit import REPO_ROOT, create_database, plain_dsn

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PORTAL = "http://portal.test"
SECRET = "portal-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def migrate_portal(url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO_ROOT / "portal" / "alembic.ini"), "upgrade", "head"],
        cwd=REPO_ROOT, env={**os.environ, "PFDO_PORTAL_DATABASE_URL": url}, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
async def issuer_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    folder = tmp_path_factory.mktemp("issuer")
    (folder / "demo-accounts.json").write_text(json.dumps({
        "municipal_operators": [{"role": "municipal_operator", "sub": "demo-operator-01", "municipality": "01",
                                 "name": "Тихоновский район"}],
        "parents": [{"role": "parent", "sub": "parent-uuid-1", "certificates": ["48-01-000001"]}],
    }, ensure_ascii=False))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_issuer_app(
        ServiceSettings(service_name="auth", dev_issuer_enabled=True, dev_keys_dir=str(folder / "keys")),
        DevOidcSettings(client_secret=SECRET, redirect_uris=[f"{PORTAL}/auth/callback"],
                        post_logout_redirect_uris=[f"{PORTAL}/"], accounts_file=str(folder / "demo-accounts.json")),
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the issuer did not start"
        await asyncio.sleep(0.02)
    yield url
    server.should_exit = True
    await task


@pytest.fixture(scope="module")
async def database_url(infra) -> str:  # noqa: ANN001
    url = await create_database(infra, f"portal_{uuid.uuid4().hex[:10]}")
    await asyncio.to_thread(migrate_portal, url)
    return url


def portal_settings(database_url: str, issuer_url: str, **overrides: object) -> PortalSettings:
    values: dict[str, object] = {
        "database_url": database_url, "oidc_issuer_url": f"{issuer_url}/auth/oidc",
        "oidc_client_secret": SECRET, "oidc_redirect_uri": f"{PORTAL}/auth/callback",
        "oidc_post_logout_redirect_uri": f"{PORTAL}/", "api_url": "http://127.0.0.1:9/api/", "log_json": False,
        "labels_ttl_s": 3600, **overrides,
    }
    return PortalSettings(**values)  # type: ignore[arg-type]


def portal_app(settings: PortalSettings) -> FastAPI:
    """The portal with three pages of the kind the cabinets add: one for parents, one for anyone
    signed in, and a form post."""
    app = create_app(settings)

    @app.get("/test/parent")
    async def parent_page(user: PortalUser = Depends(require_role("parent"))) -> dict[str, str]:
        return {"sub": user.sub}

    @app.get("/test/me")
    async def me(user: PortalUser = Depends(require_user)) -> dict[str, str | None]:
        return {"sub": user.sub, "role": user.role.value}

    @app.get("/test/refused-token")
    async def refused_token(user: PortalUser = Depends(require_user)) -> None:
        raise ApiError(401, "unauthenticated", "Нужно войти.")

    @app.post("/test/form", dependencies=[Depends(csrf_protect)])
    async def form() -> dict[str, bool]:
        return {"saved": True}

    return app


def browser(app: FastAPI, cookies: httpx.Cookies | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PORTAL, cookies=cookies)


async def authorize(issuer: httpx.AsyncClient, location: str, account: str) -> str:
    """The person on the issuer's page: picks ``account``; the callback URL the issuer sends back."""
    page = await issuer.get(location)
    assert page.status_code == 200 and "Вход в систему" in page.text
    action = urlsplit(location)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    chosen = await issuer.post(action._replace(query="").geturl(), data={**fields, "account": account})
    assert chosen.status_code == 303, chosen.text
    return chosen.headers["location"]


async def sign_in(client: httpx.AsyncClient, issuer_url: str, account: str = "parent-uuid-1",
                  next_page: str = "/test/parent") -> httpx.Response:
    start = await client.get("/auth/login", params={"next": next_page})
    assert start.status_code == 303
    location = start.headers["location"]
    assert location.startswith(f"{issuer_url}/auth/oidc/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] and query["nonce"]
    async with httpx.AsyncClient() as issuer:
        callback = await authorize(issuer, location, account)
    assert callback.startswith(f"{PORTAL}/auth/callback?")
    return await client.get(callback.removeprefix(PORTAL))


async def session_rows(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        return await conn.fetch("SELECT * FROM sessions")
    finally:
        await conn.close()


async def sql(database_url: str, statement: str, *args: object) -> None:
    conn = await asyncpg.connect(plain_dsn(database_url))
    try:
        await conn.execute(statement, *args)
    finally:
        await conn.close()


def opened(row: asyncpg.Record) -> dict:
    """The tokens of a session row, opened with the portal's key."""
    tokens = TokenSeal(PortalSettings().session_secret).open(json.loads(row["tokens"]))
    assert tokens is not None
    return tokens


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def test_a_parent_signs_in_and_the_session_is_a_cookie_holding_no_token(database_url: str, issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url))
    async with browser(app) as client:
        anonymous = await client.get("/test/parent?tab=1")
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/auth/login?next=%2Ftest%2Fparent%3Ftab%3D1"
        done = await sign_in(client, issuer_url)
        assert done.status_code == 303 and done.headers["location"] == "/test/parent"
        back = await client.get(done.request.url.raw_path.decode())  # the callback again, by Back
        assert back.status_code == 303 and back.headers["location"] == "/"
        cookie = done.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
        session_id = client.cookies["pfdo_session"]
        assert len(session_id) >= 40 and "." not in session_id  # a random id, not a token
        assert (await client.get("/test/parent")).json() == {"sub": "parent-uuid-1"}
    await close_auth(app)
    rows = [r for r in await session_rows(database_url) if r["person"]]
    mine = [r for r in rows if json.loads(r["person"])["sub"] == "parent-uuid-1"]
    assert mine and all(r["id_hash"] != session_id for r in mine)  # only the hash is stored
    for row in mine:  # the tokens are sealed: the table alone gives none away
        assert set(json.loads(row["tokens"])) == {"expires_at", "sealed"}
        assert opened(row)["access_token"].count(".") == 2 and opened(row)["access_token"] not in row["tokens"]


async def test_the_session_survives_a_restart_and_a_second_instance_reads_it(database_url: str, issuer_url: str) -> None:
    settings = portal_settings(database_url, issuer_url)
    first = portal_app(settings)
    async with browser(first) as client:
        await sign_in(client, issuer_url)
        cookies = httpx.Cookies(client.cookies)
    await close_auth(first)  # the process ends

    restarted, other = portal_app(settings), portal_app(settings)  # two instances behind one nginx
    async with browser(restarted, cookies) as a, browser(other, cookies) as b:
        assert (await a.get("/test/parent")).json() == {"sub": "parent-uuid-1"}
        assert (await b.get("/test/parent")).json() == {"sub": "parent-uuid-1"}
        page = await b.get("/auth/logout")
        token = csrf_of(page.text)
        # a form made by one instance is accepted by the other
        assert (await a.post("/test/form", data={"csrf_token": token}, headers={"Origin": PORTAL})).json() == {"saved": True}
    await close_auth(restarted)
    await close_auth(other)


async def test_a_form_post_without_the_token_or_from_another_site_is_refused(database_url: str, issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url))
    async with browser(app) as client:
        assert (await client.post("/test/form", data={})).status_code == 403  # a visitor has no session
        await sign_in(client, issuer_url)
        page = (await client.get("/auth/logout")).text
        token = csrf_of(page)
        assert f"hx-headers='{{\"X-CSRF-Token\": \"{token}\"}}'" in page  # htmx sends it with every request
        assert '<a href="/auth/logout">Выйти</a>' in page
        refused = await client.post("/test/form", data={"other": "1"}, headers={"Origin": PORTAL})
        assert refused.status_code == 403 and 'lang="ru"' in refused.text and "другого сайта" in refused.text
        wrong = await client.post("/test/form", data={"csrf_token": token[:-2] + "xx"})
        assert wrong.status_code == 403
        foreign = await client.post("/test/form", data={"csrf_token": token}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        foreign_referer = await client.post("/test/form", data={"csrf_token": token},
                                            headers={"Referer": "https://evil.example/page"})
        assert foreign_referer.status_code == 403
        assert (await client.post("/test/form", data={"csrf_token": token}, headers={"Origin": PORTAL})).status_code == 200
        htmx = await client.post("/test/form", headers={"X-CSRF-Token": token, "HX-Request": "true",
                                                        "Referer": f"{PORTAL}/cabinet"})
        assert htmx.status_code == 200
    await close_auth(app)


async def test_another_role_gets_403_in_russian(database_url: str, issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url))
    async with browser(app) as client:
        await sign_in(client, issuer_url, account="demo-operator-01", next_page="/test/me")
        assert (await client.get("/test/me")).json() == {"sub": "demo-operator-01", "role": "municipal_operator"}
        refused = await client.get("/test/parent")
        assert refused.status_code == 403
        assert 'lang="ru"' in refused.text and "Нет доступа" in refused.text and "недоступна для вашей роли" in refused.text
        htmx = await client.get("/test/parent", headers={"HX-Request": "true"})
        assert htmx.status_code == 403
    async with browser(app) as visitor:
        htmx = await visitor.get("/test/me", headers={"HX-Request": "true", "HX-Current-URL": f"{PORTAL}/test/me?a=1"})
        assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == "/auth/login?next=%2Ftest%2Fme%3Fa%3D1"
    await close_auth(app)


async def test_a_callback_is_refused_with_a_foreign_state_and_used_only_once(database_url: str, issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url))
    async with browser(app) as client, httpx.AsyncClient() as issuer:
        start = await client.get("/auth/login")
        callback = await authorize(issuer, start.headers["location"], "parent-uuid-1")
        forged = re.sub(r"state=[^&]+", "state=forged", callback)
        assert (await client.get(forged.removeprefix(PORTAL))).status_code == 400
        # the sign-in under way was spent by the forged try: the genuine answer no longer opens a session
        again = await client.get(callback.removeprefix(PORTAL))
        assert again.status_code == 400 and "Вход не завершён" in again.text
        assert (await client.get("/test/me")).status_code == 303
        # an answer arriving in a browser that started no sign-in
        start = await client.get("/auth/login")
        callback = await authorize(issuer, start.headers["location"], "parent-uuid-1")
    async with browser(app) as stranger:
        assert (await stranger.get(callback.removeprefix(PORTAL))).status_code == 400
    async with browser(app) as client, httpx.AsyncClient() as issuer:
        start = await client.get("/auth/login")
        location = start.headers["location"]
        refused = re.sub(r"code_challenge=[^&]+", "code_challenge=" + "A" * 43, location)  # another challenge
        callback = await authorize(issuer, refused, "parent-uuid-1")
        assert (await client.get(callback.removeprefix(PORTAL))).status_code == 400  # the verifier does not match
    await close_auth(app)


async def test_an_expired_access_token_is_refreshed_and_an_ended_session_is_gone(database_url: str, issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url))
    async with browser(app) as client:
        await sign_in(client, issuer_url)
        rows = {r["id_hash"]: r for r in await session_rows(database_url)}
        key = id_hash(client.cookies["pfdo_session"])
        before = opened(rows[key])
        await sql(database_url, "UPDATE sessions SET tokens = jsonb_set(tokens, '{expires_at}', to_jsonb($1::bigint)) "
                                "WHERE id_hash = $2", int(time.time()) - 5, key)
        assert (await client.get("/test/parent")).status_code == 200
        after = opened({r["id_hash"]: r for r in await session_rows(database_url)}[key])
        assert after["access_token"] != before["access_token"] and after["expires_at"] > time.time() + 60
        assert after["refresh_token"] != before["refresh_token"]  # the issuer rotates them

        await sql(database_url, "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id_hash = $1", key)
        assert (await client.get("/test/parent")).status_code == 303
        assert key not in {r["id_hash"] for r in await session_rows(database_url)}
    await close_auth(app)


async def test_sign_out_clears_the_session_and_ends_it_at_the_issuer(database_url: str, issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url))
    async with browser(app) as client:
        await sign_in(client, issuer_url)
        key = id_hash(client.cookies["pfdo_session"])
        refresh_token = opened({r["id_hash"]: r for r in await session_rows(database_url)}[key])["refresh_token"]
        page = await client.get("/auth/logout")
        assert page.status_code == 200 and "Выйти" in page.text
        assert (await client.post("/auth/logout", data={})).status_code == 403  # the sign-out form is protected too
        out = await client.post("/auth/logout", data={"csrf_token": csrf_of(page.text)}, headers={"Origin": PORTAL})
        assert out.status_code == 303
        assert 'pfdo_session=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
        end_session = out.headers["location"]
        assert end_session.startswith(f"{issuer_url}/auth/oidc/end-session?")
        query = parse_qs(urlsplit(end_session).query)
        assert query["post_logout_redirect_uri"] == [f"{PORTAL}/"] and query["id_token_hint"]
        async with httpx.AsyncClient() as issuer:
            back = await issuer.get(end_session)
            assert back.status_code == 303 and back.headers["location"].startswith(f"{PORTAL}/?state=")
            refreshed = await issuer.post(f"{issuer_url}/auth/oidc/token", auth=("pfdo-portal", SECRET), data={
                "grant_type": "refresh_token", "refresh_token": refresh_token})
            assert refreshed.json().get("error") == "invalid_grant"  # the issuer ended its session too
        assert key not in {r["id_hash"] for r in await session_rows(database_url)}
        assert (await client.get("/test/me")).status_code == 303
    await close_auth(app)


async def test_sign_in_says_so_in_russian_when_the_issuer_is_down(database_url: str) -> None:
    app = portal_app(portal_settings(database_url, f"http://127.0.0.1:{free_port()}"))
    async with browser(app) as client:
        down = await client.get("/auth/login")
        assert down.status_code == 503 and "Вход временно недоступен" in down.text
    await close_auth(app)



@pytest.mark.parametrize(("sources", "name"), [
    (["userinfo"], "Тихоновский район"),
    (["access_token"], "demo-operator-01"),  # the services' token has no name: the subject is shown
    (["access_token", "id_token"], "Тихоновский район"),
])
async def test_the_claims_are_read_from_the_configured_sources(database_url: str, issuer_url: str,
                                                               sources: list[str], name: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url, claims_from=sources))
    async with browser(app) as client:
        await sign_in(client, issuer_url, account="demo-operator-01", next_page="/test/me")
        assert (await client.get("/test/me")).json() == {"sub": "demo-operator-01", "role": "municipal_operator"}
        mine = {r["id_hash"]: r for r in await session_rows(database_url)}[id_hash(client.cookies["pfdo_session"])]
        assert json.loads(mine["person"]) == {"sub": "demo-operator-01", "role": "municipal_operator", "name": name,
                                              "municipality": "01", "provider_id": None}
    await close_auth(app)


async def test_a_person_without_a_portal_role_is_not_signed_in(database_url: str, issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url, claim_role="realm_access.roles"))
    async with browser(app) as client:
        refused = await sign_in(client, issuer_url)
        assert refused.status_code == 403 and "нет подходящей роли" in refused.text
        assert (await client.get("/test/me")).status_code == 303
    await close_auth(app)


async def test_two_instances_refreshing_the_same_session_at_once_keep_it(database_url: str, issuer_url: str) -> None:
    """The provider rotates refresh tokens: of simultaneous refreshes with the same one, only the
    first succeeds. The session's row lock makes the others wait and use its result."""
    settings = portal_settings(database_url, issuer_url)
    first, second = portal_app(settings), portal_app(settings)
    async with browser(first) as client:
        await sign_in(client, issuer_url)
        cookies = httpx.Cookies(client.cookies)
    key = id_hash(cookies["pfdo_session"])
    await sql(database_url, "UPDATE sessions SET tokens = jsonb_set(tokens, '{expires_at}', to_jsonb($1::bigint)) "
                            "WHERE id_hash = $2", int(time.time()) - 5, key)
    async with browser(first, cookies) as a, browser(second, cookies) as b:
        answers = await asyncio.gather(*(c.get("/test/parent") for c in (a, b, a, b, a, b)))
    assert [r.status_code for r in answers] == [200] * 6, [r.text[:200] for r in answers]
    tokens = opened({r["id_hash"]: r for r in await session_rows(database_url)}[key])
    assert tokens["expires_at"] > time.time() + 60
    await close_auth(first)
    await close_auth(second)


async def test_a_token_the_api_refuses_ends_the_session_and_asks_to_sign_in_again(database_url: str,
                                                                                 issuer_url: str) -> None:
    app = portal_app(portal_settings(database_url, issuer_url))
    async with browser(app) as client:
        await sign_in(client, issuer_url)
        key = id_hash(client.cookies["pfdo_session"])
        refused = await client.get("/test/refused-token?x=1")
        assert refused.status_code == 303 and refused.headers["location"] == "/auth/login?next=%2Ftest%2Frefused-token%3Fx%3D1"
        assert "Max-Age=0" in refused.headers["set-cookie"]
        assert key not in {r["id_hash"] for r in await session_rows(database_url)}
        again = await client.get(refused.headers["location"])  # not sent straight back: signs in anew
        assert again.status_code == 303 and "/auth/oidc/authorize?" in again.headers["location"]
    await close_auth(app)


async def test_a_new_session_secret_ends_the_sessions_sealed_with_the_old_one(database_url: str, issuer_url: str) -> None:
    old = portal_app(portal_settings(database_url, issuer_url))
    async with browser(old) as client:
        await sign_in(client, issuer_url)
        cookies = httpx.Cookies(client.cookies)
    await close_auth(old)
    new = portal_app(portal_settings(database_url, issuer_url, session_secret="another-secret-of-the-region"))
    async with browser(new, cookies) as client:
        assert (await client.get("/test/parent")).status_code == 303
    assert id_hash(cookies["pfdo_session"]) not in {r["id_hash"] for r in await session_rows(database_url)}
    await close_auth(new)
