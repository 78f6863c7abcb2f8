"""An HTTP client of the gateway's public API (``.../api/``), shared by every page of a process.

Each call may carry the signed-in person's bearer token (kept on the server, never sent to the
browser); without one it is an anonymous call, as the public catalogue allows. Every call asks for
Russian answers and carries the page request's correlation id, so the services' logs of a page
view share it with the portal's.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from pfdo_plumbing import context

from . import problems, visitor
from .pooled_transport import PooledTransport

Params = dict[str, str | int | list[str] | list[int]]


@dataclass(frozen=True)
class Downloaded:
    """A file from the API: its bytes, its media type and the name it is saved under."""

    body: bytes
    media_type: str
    filename: str


class GatewayApi:
    def __init__(self, base_url: str, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None,
                 source_address: str = "") -> None:
        """``source_address``: the local address the calls leave from (the one the gateway believes
        a visitor's X-Forwarded-For from, see :mod:`.visitor`); empty: the system's choice."""
        if not base_url.endswith("/"):
            base_url += "/"
        if transport is None:
            transport = PooledTransport(source_address=source_address)
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, transport=transport, follow_redirects=False,
            headers={"Accept": "application/json", "Accept-Language": "ru"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, path: str, *, token: str | None = None, params: Params | None = None,
        json: Any = None, headers: dict[str, str] | None = None, timeout: float | None = None,
    ) -> Any:
        """The JSON of a successful answer (None for 204); raises :class:`ApiError` otherwise.

        ``path`` is relative to the API's root, e.g. ``navigator/programs``; ``timeout`` replaces
        the client's for a call known to take long (a month's close)."""
        response = await self._send(method, path, token=token, params=params, json=json, headers=headers,
                                    timeout=timeout)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise problems.ApiError(502, "bad_answer", problems.UNREACHABLE) from exc

    async def download(self, path: str, *, token: str | None = None, params: Params | None = None) -> Downloaded:
        """A file the API answers (a document's PDF or JSON, an export) with its type and name."""
        response = await self._send("GET", path, token=token, params=params, headers={"Accept": "*/*"})
        disposition = response.headers.get("content-disposition", "")
        name = disposition.split("filename=", 1)[1].strip('"') if "filename=" in disposition else "document"
        return Downloaded(response.content, response.headers.get("content-type", "application/octet-stream"), name)

    async def _send(
        self, method: str, path: str, *, token: str | None = None, params: Params | None = None,
        json: Any = None, headers: dict[str, str] | None = None, timeout: float | None = None,
    ) -> httpx.Response:
        """The successful answer of a call; raises :class:`ApiError` otherwise."""
        sent = {"X-Correlation-ID": context.correlation_id(), **(headers or {})}
        if visitor_address := visitor.forwarded_for():
            sent["X-Forwarded-For"] = visitor_address
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            response = await self._http.request(
                method, path.lstrip("/"), params=params, json=json, headers=sent,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout)
        except httpx.HTTPError as exc:
            raise problems.unreachable(exc) from exc
        if response.status_code >= 400:
            raise problems.from_response(response)
        return response

    async def get(self, path: str, *, token: str | None = None, params: Params | None = None) -> Any:
        return await self.request("GET", path, token=token, params=params)

    # ---- the calls the pages make ----------------------------------------------------------
    async def search_programs(self, params: Params, *, token: str | None = None) -> dict[str, Any]:
        return await self.get("navigator/programs", token=token, params=params)

    async def program_page(self, program_id: str, *, token: str | None = None) -> dict[str, Any]:
        return await self.get(f"navigator/programs/{quote(program_id, safe='')}", token=token)

    async def labels(self) -> dict[str, dict[str, str]]:
        return (await self.get("registry/labels"))["labels"]

    async def pages(self, path: str, *, token: str | None = None, params: Params | None = None,
                    most_pages: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """The pages of a paged list of the API (``limit`` + ``cursor``; each with its ``items`` and
        ``next_cursor``), one after another, at most ``most_pages`` of them."""
        cursor: str | None = None
        for _ in itertools.count() if most_pages is None else range(most_pages):
            page = await self.get(path, token=token, params={**(params or {}), **({"cursor": cursor} if cursor else {})})
            yield page
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def all_items(self, path: str, *, token: str | None = None, params: Params | None = None,
                        most_pages: int | None = None) -> list[dict[str, Any]]:
        """Every item of a paged list of the API, at most ``most_pages`` pages of them."""
        return [item async for page in self.pages(path, token=token, params=params, most_pages=most_pages)
                for item in page["items"]]

    async def municipality_names(self, token: str) -> dict[str, str]:
        """code -> name of the region's municipalities (the API shows them to a signed-in person)."""
        # 200 a page, 20 pages: far more municipalities than a region has
        found = await self.all_items("registry/municipalities", token=token, params={"limit": 200}, most_pages=20)
        return {item["code"]: item["name"] for item in found}
