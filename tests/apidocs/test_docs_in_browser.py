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

import httpx
import pytest

from pfdo_devstack.apidocs import openapi_path
from pfdo_devstack.config import SERVICES
from pfdo_testkit.browser import Browser, chromium, screenshot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def docs_platform(platform_factory) -> object:  # noqa: ANN001
    return await platform_factory(db_prefix="docs", extra_env={"PFDO_LOG_LEVEL": "WARNING"})


async def _shot(page: object, name: str) -> None:
    await screenshot(page, "docs", name)


@pytest.fixture(scope="module")
async def browser(docs_platform) -> AsyncIterator[Browser]:  # noqa: ANN001
    async with chromium(docs_platform.gateway_url) as state:
        yield state


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
    await page.goto(browser.base_url + "/docs")
    await page.click("text=Каталог ошибок")
    await page.locator("code", has_text="validation_error").first.wait_for()
    await _shot(page, "errors")
    assert browser.elsewhere == [] and browser.page_errors == []


@pytest.mark.parametrize("service", SERVICES)
async def test_swagger_ui_renders_every_operation_offline(browser: Browser, service: str) -> None:
    page = await browser.open(f"/api/{service}/docs")
    spec = httpx.get(f"{browser.base_url}/api/{service}/openapi.json", timeout=30).json()  # what the page shows
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
        # the path leaves /docs/ (a portal page's path, the portal is not started here): never the file
        leaked = client.get("/docs/../deploy/gateway/nginx.conf.template")
        assert leaked.status_code in (404, 502) and "proxy_pass" not in leaked.text
