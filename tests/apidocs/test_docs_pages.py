"""Each service's documentation pages, from its composition root's app (not started): Swagger UI
and ReDoc load only the service's own files, the AsyncAPI page is rendered on the server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pfdo_devstack.apidocs import build_service_app
from pfdo_devstack.config import SERVICES
from pfdo_devstack.web import node_modules
from pfdo_plumbing.http.docs import ASSET_FILES, FOREIGN_URLS

OTHER_HOST = re.compile(r"""(?:src|href|url)\s*[=:]\s*["']?(?:https?:)?//""", re.I)


@pytest.fixture(scope="module", params=SERVICES)
def service(request: pytest.FixtureRequest) -> tuple[str, TestClient]:
    return request.param, TestClient(build_service_app(request.param))


def _local_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)="([^"]+)\"""", html)


def test_swagger_ui_and_redoc_load_only_the_services_own_files(service: tuple[str, TestClient]) -> None:
    name, client = service
    for page, bundle in (("docs", "swagger-ui/swagger-ui-bundle.js"), ("redoc", "redoc/redoc.standalone.js")):
        answer = client.get(f"/api/{name}/docs" if page == "docs" else f"/api/{name}/redoc")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/html")
        html = answer.text
        assert "http://" not in html and "https://" not in html, f"{page} of {name} names another host"
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert f"/api/{name}/openapi.json" in html
        urls = _local_urls(html)
        assert f"/api/{name}/docs/assets/{bundle}" in urls
        for url in urls:  # every file the page loads is served by the service itself
            fetched = client.get(url)
            assert fetched.status_code == 200, url
            assert len(fetched.content) > 500, url


def test_assets_are_the_npm_packages_files(service: tuple[str, TestClient]) -> None:
    name, client = service
    for url_path, package_path in ASSET_FILES.items():
        answer = client.get(f"/api/{name}/docs/assets/{url_path}")
        assert answer.status_code == 200
        original = (node_modules() / package_path).read_bytes()
        foreign = FOREIGN_URLS.get(url_path, ())
        assert all(url in original for url in foreign), "the bundle changed: check what it fetches"
        for url in foreign:
            original = original.replace(url, b'""')
        assert answer.content == original  # the package's file, with other hosts' URLs blanked out
    redoc = client.get(f"/api/{name}/docs/assets/redoc/redoc.standalone.js").content
    assert b"cdn.redoc.ly" not in redoc  # its logo would come from a CDN
    # only the files the pages need: the packages' demo pages (which fetch from other hosts) are not served
    for other in ("swagger-ui/index.html", "swagger-ui/swagger-initializer.js", "../package.json", "redoc/x.js"):
        assert client.get(f"/api/{name}/docs/assets/{other}").status_code == 404, other


def test_asyncapi_page_shows_servers_channels_and_examples(service: tuple[str, TestClient]) -> None:
    name, client = service
    doc = client.get(f"/api/{name}/asyncapi").json()
    answer = client.get(f"/api/{name}/asyncapi.html")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert not OTHER_HOST.search(html) and "<script" not in html
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert doc["servers"] and all(s["protocol"] == "kafka" for s in doc["servers"].values())
    for server in doc["servers"].values():
        assert server["host"] in html
    for channel in doc["channels"]:
        assert f">{channel}</h3>" in html
    for message_id, message in doc["components"]["messages"].items():
        assert f'id="message-{message_id}"' in html
        if message.get("examples"):
            assert message["examples"][0]["payload"]["type"] in html
        data_ref = message["payload"]["allOf"][1]["properties"]["data"]["$ref"].rsplit("/", 1)[-1]
        for field_name in doc["components"]["schemas"][data_ref]["properties"]:  # the fields table of the event
            assert f"<tr><td><code>{field_name}</code></td>" in html, (message_id, field_name)


def test_documentation_pages_stay_out_of_the_openapi_document(service: tuple[str, TestClient]) -> None:
    name, client = service
    paths = client.get(f"/api/{name}/openapi.json").json()["paths"]
    assert not [p for p in paths if p.endswith(("/docs", "/redoc", "/asyncapi.html")) or "/docs/assets" in p]


def test_without_the_assets_the_pages_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PFDO_DOCS_ASSETS_DIR", str(tmp_path))  # an empty folder
    app = build_service_app("ratings")
    client = TestClient(app)
    answer = client.get("/api/ratings/docs")
    assert answer.status_code == 503
    assert "npm ci" in answer.text and "PFDO_DOCS_ASSETS_DIR" in answer.text
    assert client.get("/api/ratings/docs/assets/swagger-ui/swagger-ui-bundle.js").status_code == 404
