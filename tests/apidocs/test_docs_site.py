"""The gateway's /docs pages (docs/site, made by `make docs`): up to date with the event and error
catalogues they render, linking every service's documentation, and nothing on another host."""

from __future__ import annotations

import re

import pytest

from pfdo_devstack.apidocs import site_files
from pfdo_devstack.config import SERVICES, repo_root


@pytest.fixture(scope="module")
def site() -> dict[str, str]:
    return {path.name: text for path, text in site_files().items()}


def test_committed_pages_are_what_make_docs_writes() -> None:
    stale = [str(path.relative_to(repo_root())) for path, text in site_files().items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {stale}; run make docs (after make schemas / make errors) and commit"


def test_index_links_every_service_and_both_catalogues(site: dict[str, str]) -> None:
    links = set(re.findall(r'href="([^"]+)"', site["index.html"]))
    for service in SERVICES:
        for page in ("docs", "redoc", "asyncapi.html", "openapi.json"):
            assert f"/api/{service}/{page}" in links, (service, page)
    assert {"/docs/events.html", "/docs/errors.html"} <= links
    assert 'lang="ru"' in site["index.html"] and "Документация API" in site["index.html"]


def test_catalogue_pages_render_their_markdown(site: dict[str, str]) -> None:
    events, errors = site["events.html"], site["errors.html"]
    assert "<table>" in events and "<code>pfdo.navigator.enrolments.v1</code>" in events
    assert "<table>" in errors and "<code>validation_error</code>" in errors
    assert "|---" not in events + errors and "| ---" not in events + errors  # tables, not raw Markdown


def test_pages_load_nothing_from_another_host(site: dict[str, str]) -> None:
    for name, html in site.items():
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I), name
        assert "<script" not in html, name
