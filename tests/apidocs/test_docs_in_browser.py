"""The documentation, as a person opens it with the network cut: Debian's Chromium (headless,
driven by Playwright) loads /docs, and every service's Swagger UI, ReDoc and AsyncAPI pages
through the real nginx gateway in front of the four real services. Every request to another
host is aborted and recorded: a page that needs one fails the test. Screenshots go to
.work/test-artefacts/docs/.

Also the drift check through the gateway: the OpenAPI documents the running services serve are
the committed ones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from pfdo_devstack.apidocs import openapi_path
from pfdo_devstack.config import SERVICES, repo_root
from pfdo_devstack.prereqs import CHROMIUM

pytestmark = pytest.mark.integration

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
ARTEFACTS = repo_root() / ".work" / "test-artefacts" / "docs"


@pytest.fixture(scope="module")
async def docs_platform(platform_factory) -> object:  # noqa: ANN001
    return await platform_factory(db_prefix="docs", extra_env={"PFDO_LOG_LEVEL": "WARNING"})


@dataclass
class Browser:
    gateway: str
    context: object
    elsewhere: list[str] = field(default_factory=list)
    """Requests to any other host (aborted)."""
    page_errors: list[str] = field(default_factory=list)
    page: object | None = None

    def _console_error(self, path: str, text: str) -> None:
        # also a load from another host that the page's Content-Security-Policy stopped
        self.page_errors.append(f"{path}: {text}")

    async def open(self, path: str) -> object:
        """A new page at ``path`` (the previous one is closed), with the records of the last page cleared."""
        if self.page is not None:
            await self.page.close()  # type: ignore[attr-defined]
        self.elsewhere.clear()
        self.page_errors.clear()
        page = self.page = await self.context.new_page()  # type: ignore[attr-defined]
        page.on("pageerror", lambda error: self.page_errors.append(f"{path}: {error}"))
        page.on("console", lambda message: message.type == "error" and self._console_error(path, message.text))
        answer = await page.goto(self.gateway + path, wait_until="load")
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        return page


async def _shot(page: object, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
async def browser(docs_platform) -> AsyncIterator[Browser]:  # noqa: ANN001
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make bootstrap does, as root)")
    from playwright.async_api import async_playwright

    gateway = docs_platform.gateway_url
    own = urlsplit(gateway).netloc
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
        state = Browser(gateway, context)

        async def only_the_gateway(route) -> None:  # noqa: ANN001
            if urlsplit(route.request.url).netloc == own or route.request.url.startswith(("data:", "blob:")):
                await route.continue_()
            else:
                state.elsewhere.append(route.request.url)
                await route.abort("internetdisconnected")

        await context.route("**/*", only_the_gateway)
        yield state
        await context.close()
        await chromium.close()


def _title(service: str) -> str:
    return json.loads(openapi_path(service).read_text(encoding="utf-8"))["info"]["title"]


async def test_docs_index_links_every_page_and_the_catalogues(browser: Browser) -> None:
    page = await browser.open("/docs")
    await page.get_by_role("heading", name="Документация API ПФДО").wait_for()
    hrefs = set(await page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))"))
    for service in SERVICES:
        assert {f"/api/{service}/docs", f"/api/{service}/redoc", f"/api/{service}/asyncapi.html"} <= hrefs
    await _shot(page, "index")
    await page.click("text=Каталог событий")
    await page.get_by_role("heading", name="Event catalogue").wait_for()
    assert await page.locator("table").count() > 3
    await _shot(page, "events")
    await page.goto(browser.gateway + "/docs")
    await page.click("text=Каталог ошибок")
    await page.locator("code", has_text="validation_error").first.wait_for()
    await _shot(page, "errors")
    assert browser.elsewhere == [] and browser.page_errors == []


@pytest.mark.parametrize("service", SERVICES)
async def test_swagger_ui_renders_every_operation_offline(browser: Browser, service: str) -> None:
    page = await browser.open(f"/api/{service}/docs")
    spec = httpx.get(f"{browser.gateway}/api/{service}/openapi.json", timeout=30).json()  # what the page shows
    await page.locator(".swagger-ui .info .title", has_text=_title(service)).wait_for(timeout=20_000)
    await page.locator(".opblock").first.wait_for(timeout=20_000)
    shown = set(await page.eval_on_selector_all(".opblock", """blocks => blocks.map(b =>
        b.querySelector('.opblock-summary-method').textContent.toLowerCase() + ' ' +
        b.querySelector('.opblock-summary-path').getAttribute('data-path'))"""))
    expected = {f"{method} {path}" for path, ops in spec["paths"].items() for method in ops
                if method in {"get", "post", "put", "patch", "delete"}}
    assert shown == expected, f"missing {sorted(expected - shown)}, unknown {sorted(shown - expected)}"
    assert await page.locator(".opblock-summary-path", has_text=f"/api/{service}/health").count() == 1
    assert await page.locator("text=Failed to load API definition").count() == 0
    await _shot(page, f"{service}-swagger-ui")
    assert browser.elsewhere == [], browser.elsewhere
    assert browser.page_errors == [], browser.page_errors


@pytest.mark.parametrize("service", SERVICES)
async def test_redoc_renders_offline(browser: Browser, service: str) -> None:
    page = await browser.open(f"/api/{service}/redoc")
    await page.locator("h1", has_text=_title(service)).wait_for(timeout=30_000)
    assert await page.locator("[data-role='search:results'], .menu-content li").count() > 5
    assert not await page.locator("text=API docs by Redocly").is_visible()  # its logo would come from a CDN
    await _shot(page, f"{service}-redoc")
    assert browser.elsewhere == [], browser.elsewhere
    assert browser.page_errors == [], browser.page_errors


@pytest.mark.parametrize("service", SERVICES)
async def test_asyncapi_page_renders_offline(browser: Browser, service: str) -> None:
    page = await browser.open(f"/api/{service}/asyncapi.html")
    await page.get_by_role("heading", name="Серверы").wait_for()
    assert await page.locator("h3").count() >= 1  # its channels
    assert await page.locator("text=pfdo-kafka-kafka-bootstrap:9092").count() == 1
    await _shot(page, f"{service}-asyncapi")
    assert browser.elsewhere == [], browser.elsewhere
    assert browser.page_errors == [], browser.page_errors


@pytest.mark.parametrize("service", SERVICES)
def test_running_services_serve_the_committed_openapi_documents(docs_platform, service: str) -> None:  # noqa: ANN001
    served = httpx.get(f"{docs_platform.gateway_url}/api/{service}/openapi.json", timeout=30).json()
    committed = json.loads(openapi_path(service).read_text(encoding="utf-8"))
    differing = [p for p in {*served["paths"], *committed["paths"]} if served["paths"].get(p) != committed["paths"].get(p)]
    assert served == committed, (f"{service}: the running service's OpenAPI differs (paths {sorted(differing)[:5]}); "
                                 "run make openapi and commit")


def test_gateway_serves_the_docs_pages_as_html_with_its_headers(docs_platform) -> None:  # noqa: ANN001
    with httpx.Client(base_url=docs_platform.gateway_url, timeout=30) as client:
        for path in ("/docs", "/docs/", "/docs/index.html", "/docs/events.html", "/docs/errors.html"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert answer.headers["content-type"] == "text/html; charset=utf-8", path
            assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["x-request-id"]
        missing = client.get("/docs/nothing.html")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert client.get("/docs/../deploy/gateway/nginx.conf.template").status_code == 404
