"""Pages in a real browser: Debian's Chromium (headless), driven by Playwright, with the network
cut to one host. Shared by the browser tests (the documentation pages, the portal).

Every request to another host is aborted and recorded, and the page's errors (uncaught
exceptions, console errors such as a load its Content-Security-Policy stopped) are recorded, so a
test asserts both lists empty. Also: the axe-core accessibility check run inside the page (from
web/node_modules, the version of web/package-lock.json), the page's horizontal overflow (a phone
must not scroll sideways), and screenshots under ``.work/test-artefacts/<suite>/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import REPO_ROOT

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--lang=ru-RU", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
"""The narrowest phone the pages are made for."""
AXE = REPO_ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def artefacts(suite: str) -> Path:
    folder = REPO_ROOT / ".work" / "test-artefacts" / suite
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Browser:
    base_url: str
    context: Any
    elsewhere: list[str] = field(default_factory=list)
    """Requests to any other host (aborted)."""
    page_errors: list[str] = field(default_factory=list)
    page: Any | None = None

    def _console_error(self, path: str, text: str) -> None:
        # also a load from another host that the page's Content-Security-Policy stopped
        self.page_errors.append(f"{path}: {text}")

    async def open(self, path: str, *, status: int = 200) -> Any:
        """A new page at ``path`` (the previous one is closed), with the records of the last page cleared."""
        if self.page is not None:
            await self.page.close()
        self.elsewhere.clear()
        self.page_errors.clear()
        page = self.page = await self.context.new_page()
        page.on("pageerror", lambda error: self.page_errors.append(f"{path}: {error}"))
        page.on("console", lambda message: message.type == "error" and self._console_error(path, message.text))
        answer = await page.goto(self.base_url + path, wait_until="load")
        assert answer is not None and answer.status == status, f"{path}: {answer and answer.status}"
        return page


_shared: tuple[asyncio.AbstractEventLoop, Any] | None = None
"""The event loop and the browser of ``one_chromium_for_all`` while it runs."""


async def _launch(playwright: Any) -> Any:  # noqa: ANN401
    import pytest

    from pfdo_devstack.prereqs import CHROMIUM  # what the bootstrap installs (Debian's chromium)

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make bootstrap does, as root)")
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@asynccontextmanager
async def one_chromium_for_all() -> AsyncIterator[None]:
    """One Chromium process (and one Playwright driver) for every ``chromium()`` inside, each
    still in a context of its own (no cookie, storage or cache shared): starting the two costs
    seconds every time."""
    global _shared  # noqa: PLW0603
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await _launch(playwright)
        _shared = (asyncio.get_running_loop(), launched)
        try:
            yield
        finally:
            _shared = None
            await launched.close()


@asynccontextmanager
async def chromium(base_url: str, *, viewport: dict[str, int] | None = None,
                   javascript: bool = True) -> AsyncIterator[Browser]:
    """A browser context whose pages may load from ``base_url``'s host only: in the browser of
    ``one_chromium_for_all`` when one runs on this event loop, otherwise in a Chromium of its own."""
    if _shared is not None and _shared[0] is asyncio.get_running_loop() and _shared[1].is_connected():
        async with _isolated(_shared[1], base_url, viewport=viewport, javascript=javascript) as state:
            yield state
        return
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await _launch(playwright)
        try:
            async with _isolated(launched, base_url, viewport=viewport, javascript=javascript) as state:
                yield state
        finally:
            await launched.close()


@asynccontextmanager
async def _isolated(launched: Any, base_url: str, *, viewport: dict[str, int] | None,
                    javascript: bool) -> AsyncIterator[Browser]:
    own = urlsplit(base_url).netloc
    context = await launched.new_context(viewport=viewport or DESKTOP, locale="ru-RU", java_script_enabled=javascript)
    state = Browser(base_url, context)

    async def only_the_own_host(route: Any) -> None:  # noqa: ANN401
        if urlsplit(route.request.url).netloc == own or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            state.elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_the_own_host)
    try:
        yield state
    finally:
        await context.close()


async def screenshot(page: Any, suite: str, name: str, *, full_page: bool = False) -> Path:
    path = artefacts(suite) / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def axe_violations(page: Any, impacts: tuple[str, ...] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """axe-core's violations of the page (WCAG 2.x A and AA rules and best practices) with one of
    ``impacts``: each as its rule id, impact, help text and the first offending elements.

    The script is evaluated through the browser's debugging protocol, so the page's own
    Content-Security-Policy (scripts from its host only) stays as it is."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: npm ci in web/ (make bootstrap)")
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = await page.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}));
    }""")
    return [v for v in found if v["impact"] in impacts]


async def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than its window (0: no sideways scrolling)."""
    return int(await page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - document.documentElement.clientWidth"))


async def assert_sound(browser: Browser, page: Any, suite: str, name: str) -> None:
    """The page as a person would want it: its screenshot kept (``suite``/``name``.png), nothing
    loaded from another host, no script error, no serious or critical accessibility violation."""
    await screenshot(page, suite, name, full_page=True)
    assert browser.elsewhere == [], browser.elsewhere
    assert browser.page_errors == [], browser.page_errors
    violations = await axe_violations(page)
    assert violations == [], violations


def rub(kopecks: int) -> str:
    """An amount as the portal writes it: ``1 234,56 ₽`` (narrow no-break space between thousands,
    no-break space before the sign), a minus in front of a negative one."""
    roubles, rest = divmod(abs(kopecks), 100)
    return ("-" if kopecks < 0 else "") + f"{roubles:,}".replace(",", "\u202f") + f",{rest:02d}\u00a0₽"
