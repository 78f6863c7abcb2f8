"""The names of the platform's codes (directions, funding kinds, statuses...), read from the API's
``GET /api/registry/labels`` and kept for a while. When the API cannot be asked, a page still
renders: a code without a known name is shown as it is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Generic, TypeVar

from .gateway import ApiError

Fetch = Callable[[], Awaitable[dict[str, dict[str, str]]]]
T = TypeVar("T")

RATING_SCALES: dict[str, str] = {
    "results": "results",
    "teachers": "teachers_and_group",
    "materials": "materials_and_equipment",
    "satisfaction": "overall_satisfaction",
}
"""The navigator's rating means (program page) -> the rating scale codes of the labels."""


class LabelBook:
    """The names of one moment: ``book("directions", "technical")`` -> ``Техническая``."""

    def __init__(self, groups: Mapping[str, Mapping[str, str]],
                 municipalities: Mapping[str, str] | None = None) -> None:
        self.groups = groups
        self.municipalities = municipalities or {}

    def municipality(self, code: str | None) -> str:
        """A municipality's name when known (a signed-in person's pages), else its code."""
        if code is None:
            return "—"
        return self.municipalities.get(code) or f"Код {code}"

    def with_municipalities(self, names: Mapping[str, str]) -> LabelBook:
        return LabelBook(self.groups, names)

    def __call__(self, group: str, value: str | None) -> str:
        if value is None:
            return "—"
        return self.groups.get(group, {}).get(str(value), str(value))

    def group(self, name: str) -> Mapping[str, str]:
        return self.groups.get(name, {})


class Kept(Generic[T]):
    """A value read from the API, kept ``ttl_s``; after a failed read, the value known (``empty``
    at first) serves for ``retry_s`` before the API is asked again, so an API that does not answer
    does not slow every page down."""

    def __init__(self, empty: T, *, ttl_s: float, retry_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._value = empty
        self._ttl_s = ttl_s
        self._retry_s = min(retry_s, ttl_s)
        self._clock = clock
        self._next_read: float | None = None
        """When to ask the API again (None: at first use)."""
        self._lock = asyncio.Lock()

    def _due(self) -> bool:
        return self._next_read is None or self._clock() >= self._next_read

    async def get(self, read: Callable[[], Awaitable[T]]) -> T:
        if not self._due():
            return self._value
        async with self._lock:
            if self._due():
                try:
                    self._value = await read()
                    self._next_read = self._clock() + self._ttl_s
                except ApiError:
                    self._next_read = self._clock() + self._retry_s
            return self._value


class Labels:
    """The labels of the API (kept ``ttl_s``), and the municipalities' names for the pages of a
    signed-in person (the API shows those only with a token; an anonymous visitor sees codes)."""

    def __init__(self, fetch: Fetch, *, ttl_s: float, retry_s: float = 30.0,
                 municipality_names: Callable[[str], Awaitable[dict[str, str]]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._labels: Kept[dict[str, dict[str, str]]] = Kept({}, ttl_s=ttl_s, retry_s=retry_s, clock=clock)
        self._municipality_names = municipality_names
        self._municipalities: Kept[dict[str, str]] = Kept({}, ttl_s=ttl_s, retry_s=retry_s, clock=clock)

    async def book(self, token: str | None = None) -> LabelBook:
        book = LabelBook(await self._labels.get(self._fetch))
        if token and self._municipality_names is not None:
            read = self._municipality_names
            book = book.with_municipalities(await self._municipalities.get(lambda: read(token)))
        return book
