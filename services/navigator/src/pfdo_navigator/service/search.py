"""Catalogue search: Russian full-text (stemmed words, each also matched as a prefix so that
"танцы" finds "танцевальный"), filters, four sort orders with keyset pagination and signed
cursors, facet counts over the whole filtered set, and, for a parent's own child, the cost to
the family from billing's batch quote (one call per page)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from sqlalchemy import Float, and_, cast, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import SmallInteger

from ..adapters.tables import LIVE, MODULES, Catalogue
from ..domain.search_query import Cursor, SearchQuery, SortOrder, decode_cursor, encode_cursor
from ..settings import NavigatorSettings
from pfdo_plumbing.db import Database
from pfdo_plumbing.logging import get_logger

log = get_logger(__name__)

_WORD = re.compile(r"\w+", re.UNICODE)


def tsquery_text(text: str) -> str | None:
    """'танцы для детей' → 'танцы:* & для:* & детей:*' (only word characters survive, so the
    string is always a valid tsquery; to_tsquery then stems each word before the prefix)."""
    words = _WORD.findall(text.lower())[:12]
    if not words:
        return None
    return " & ".join(f"{w}:*" for w in words)


@dataclass
class ChildContext:
    certificate_id: uuid.UUID
    birth_date: dt.date


@dataclass
class SearchPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int
    facets: dict[str, dict[str, int]]
    prices_available: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _filters(q: SearchQuery, cat: Catalogue, today: dt.date, child: ChildContext | None, tsq: Any) -> list[ColumnElement[bool]]:
    e = cat.entries
    # bare `visible` (not `IS TRUE`) so the planner matches the partial indexes (WHERE visible)
    where: list[ColumnElement[bool]] = [e.c.visible, e.c.end_date >= today]
    if tsq is not None:
        where.append(e.c.search.op("@@")(tsq))
    if q.municipality:
        where.append(e.c.municipality_code == q.municipality)
    if q.direction:
        where.append(e.c.direction == q.direction.value)
    if q.funding_kind:
        where.append(e.c.funding_kind == q.funding_kind.value)
    if q.provider_id:
        try:
            where.append(e.c.provider_id == uuid.UUID(q.provider_id))
        except ValueError:
            where.append(literal(False))
    if q.price_min is not None:
        where.append(e.c.price_kopecks >= q.price_min)
    if q.price_max is not None:
        where.append(e.c.price_kopecks <= q.price_max)
    if q.weekdays:
        where.append(e.c.weekdays.op("&&")(cast(sorted(q.weekdays), ARRAY(SmallInteger))))
    if q.child_age is not None:
        where.append(and_(e.c.age_min <= q.child_age, e.c.age_max >= q.child_age))
    elif child is not None:
        # the child's completed years on the date they would start: max(today, module start)
        start = func.greatest(e.c.start_date, today)
        age = func.date_part("year", func.age(start, child.birth_date))
        where.append(and_(e.c.age_min <= age, e.c.age_max >= age))
    if q.free_seats_only:
        seats = select(MODULES.c.module_id).where(
            and_(MODULES.c.module_id == e.c.module_id, MODULES.c.held < MODULES.c.capacity)
        )
        where.append(seats.exists())
    return where


def _order(q: SearchQuery, cat: Catalogue, rank: Any) -> tuple[list[Any], list[Any], bool]:
    """(sort key columns, ORDER BY, descending?)."""
    e = cat.entries
    sort = q.effective_sort
    if sort is SortOrder.RELEVANCE:
        return [rank, e.c.module_id], [rank.desc(), e.c.module_id.desc()], True
    if sort is SortOrder.RATING:
        return [e.c.sort_rating, e.c.module_id], [e.c.sort_rating.desc(), e.c.module_id.desc()], True
    if sort is SortOrder.PRICE:
        return [e.c.price_kopecks, e.c.module_id], [e.c.price_kopecks.asc(), e.c.module_id.asc()], False
    return [e.c.certified_on, e.c.module_id], [e.c.certified_on.desc(), e.c.module_id.desc()], True


def _cursor_value(sort: SortOrder, value: Any) -> Any:
    if sort is SortOrder.NEWEST:
        return value.isoformat()
    if sort in (SortOrder.RELEVANCE, SortOrder.RATING):
        return float(value)
    return int(value)


def _parse_cursor_value(sort: SortOrder, value: Any) -> Any:
    if sort is SortOrder.NEWEST:
        return dt.date.fromisoformat(str(value))
    if sort in (SortOrder.RELEVANCE, SortOrder.RATING):
        return float(value)  # type: ignore[arg-type]
    return int(value)  # type: ignore[arg-type]


def build_statement(
    q: SearchQuery, *, today: dt.date, key: bytes, cursor: str | None, child: ChildContext | None = None,
    cat: Catalogue = LIVE, limit: int | None = None,
) -> tuple[Any, Any, list[ColumnElement[bool]], Any]:
    """The page query (and the WHERE clause, reused for facets)."""
    e = cat.entries
    text = tsquery_text(q.text) if q.text else None
    tsq = func.to_tsquery("russian", text) if text else None
    rank = cast(func.ts_rank(e.c.search, tsq), Float) if tsq is not None else cast(literal(0.0), Float)
    where = _filters(q, cat, today, child, tsq)
    keys, order_by, desc = _order(q, cat, rank)
    page_where = list(where)
    if cursor:
        c = decode_cursor(cursor, q, key)
        if len(c.values) != 1:
            from ..domain.errors import DomainError

            raise DomainError("invalid_cursor", "the page cursor is not valid: malformed")
        after = (_parse_cursor_value(c.sort, c.values[0]), uuid.UUID(c.last_id))
        page_where.append(tuple_(*keys) < after if desc else tuple_(*keys) > after)
    free = (
        select(MODULES.c.capacity - MODULES.c.held).where(MODULES.c.module_id == e.c.module_id).scalar_subquery()
    )
    stmt = (
        select(*(e.c[name] for name in PAGE_COLUMNS), rank.label("rank"), free.label("free_seats"))
        .where(*page_where)
        .order_by(*order_by)
        .limit(limit if limit is not None else q.page_size + 1)
    )
    return stmt, keys, where, rank


Facets = tuple[int, dict[str, dict[str, int]]]
"""The total and the counts per direction, municipality and funding kind."""


def facet_statement(where: list[ColumnElement[bool]], cat: Catalogue = LIVE) -> Any:
    """The counts of the groups ``where`` selects, per direction, municipality and funding kind
    and in all (grouping sets), in one pass."""
    e = cat.entries
    return (
        select(
            e.c.direction, e.c.municipality_code, e.c.funding_kind,
            func.grouping(e.c.direction, e.c.municipality_code, e.c.funding_kind).label("g"),
            func.count().label("n"),
        )
        .where(*where)
        .group_by(func.grouping_sets(
            tuple_(e.c.direction), tuple_(e.c.municipality_code), tuple_(e.c.funding_kind), tuple_()
        ))
    )


async def facets(session: AsyncSession, where: list[ColumnElement[bool]], cat: Catalogue = LIVE) -> Facets:
    out: dict[str, dict[str, int]] = {"direction": {}, "municipality": {}, "funding_kind": {}}
    total = 0
    for row in await session.execute(facet_statement(where, cat)):
        # grouping bits: direction=4, municipality=2, funding_kind=1 (1 = rolled up)
        if row.g == 7:
            total = row.n
        elif row.g == 3:
            out["direction"][row.direction] = row.n
        elif row.g == 5:
            out["municipality"][row.municipality_code] = row.n
        elif row.g == 6:
            out["funding_kind"][row.funding_kind] = row.n
    return total, out


PAGE_COLUMNS = (
    "module_id", "program_id", "provider_id", "title", "module_title", "description", "direction",
    "municipality_code", "venue_address", "age_min", "age_max", "funding_kind", "start_date", "end_date", "schedule",
    "lessons_per_week", "hours", "capacity", "price_kopecks", "rating_score", "rating_count", "certified_on",
    "sort_rating",
)
"""What a page reads of each group: what :func:`row_out` shows and the cursor's keys. Not the
search document (a tsvector, the widest column, which the driver decodes as text) nor the other
columns a result does not show."""


def row_out(row: Any) -> dict[str, Any]:
    return {
        "module_id": row.module_id, "program_id": row.program_id, "provider_id": row.provider_id,
        "title": row.title, "module_title": row.module_title, "description": row.description,
        "direction": row.direction, "municipality_code": row.municipality_code, "venue_address": row.venue_address,
        "age_min": row.age_min, "age_max": row.age_max, "funding_kind": row.funding_kind,
        "start_date": row.start_date, "end_date": row.end_date, "schedule": row.schedule,
        "lessons_per_week": row.lessons_per_week, "hours": row.hours, "capacity": row.capacity,
        "free_seats": max(int(row.free_seats), 0) if row.free_seats is not None else row.capacity,
        "price_kopecks": row.price_kopecks, "rating_score": row.rating_score, "rating_count": row.rating_count,
        "certified_on": row.certified_on, "relevance": float(row.rank) if row.rank else None, "quote": None,
    }


class FacetCache:
    """Facet counts and totals per filter set, kept for a few seconds (``ttl_s``; 0 disables).

    Counting facets scans every matching row (a filter as broad as free seats only: every group,
    44-72 ms on 50 000); the pages themselves come from the indexes. Counts younger than
    ``ttl_s`` are answered from here. Counts older than that but younger than twice that are
    answered too, and counted again in the background on a connection of ``reader``'s (a search
    no longer waits for the recount when an entry expires); older ones, and filter sets not seen
    yet, are counted on the search's own connection. So the counts lag the catalogue by at most
    twice ``ttl_s`` (plus one count); the page rows never lag."""

    def __init__(self, ttl_s: float, reader: Database | None = None, max_entries: int = 2048) -> None:
        self.ttl_s = ttl_s
        self.reader = reader
        self.max_entries = max_entries
        self._data: dict[tuple[Any, ...], tuple[float, Facets]] = {}
        self._recounting: dict[tuple[Any, ...], asyncio.Task[None]] = {}

    async def counts(self, key: tuple[Any, ...], count: Callable[[AsyncSession], Awaitable[Facets]],
                     session: AsyncSession) -> Facets:
        """The counts for ``key``, from here when recent enough, else by ``count`` on ``session``."""
        if self.ttl_s <= 0:
            return await count(session)
        fresh = self.get(key)
        if fresh is not None:
            return fresh
        hit = self._data.get(key)
        if hit is not None and self.reader is not None and time.monotonic() < hit[0] + self.ttl_s:
            if key not in self._recounting:
                self._recounting[key] = asyncio.create_task(self._recount(key, count), name="facet-recount")
            return hit[1]
        value = await count(session)
        self.put(key, value)
        return value

    async def _recount(self, key: tuple[Any, ...], count: Callable[[AsyncSession], Awaitable[Facets]]) -> None:
        assert self.reader is not None
        try:
            async with self.reader.reading() as session:
                self.put(key, await count(session))
        except Exception as exc:  # noqa: BLE001 - the entry ages out and the next search counts itself
            log.warning("facet_recount_failed", error=str(exc), error_type=type(exc).__name__)
        finally:
            self._recounting.pop(key, None)

    async def aclose(self) -> None:
        """Stop the recounts in flight (the service is stopping)."""
        tasks = list(self._recounting.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._recounting.clear()  # a task cancelled before it ran never removed itself

    def get(self, key: tuple[Any, ...]) -> Facets | None:
        """Counts younger than ``ttl_s``, or None."""
        if self.ttl_s <= 0:
            return None
        hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: tuple[Any, ...], value: Facets) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._data) >= self.max_entries:
            usable_after = time.monotonic() - self.ttl_s  # entries still answered while recounted stay
            self._data = {k: v for k, v in self._data.items() if v[0] >= usable_after}
            if len(self._data) >= self.max_entries:
                self._data.clear()
        self._data[key] = (time.monotonic() + self.ttl_s, value)


def catalogue_reader(settings: NavigatorSettings) -> Database:
    """The pool searches read the catalogue from (a replica's address could go here).

    Autocommit: a search is one statement (two on a facet-cache miss), so it needs no BEGIN and
    COMMIT round trips. Every statement is planned for its own parameters: how many rows a search
    matches swings from a handful to half the catalogue with its words and filters, and after
    five runs of a prepared statement PostgreSQL may switch to one generic plan for all of them
    (measured on 50 000 groups: page p95 21 ms generic, 9 ms planned per call)."""
    return Database(settings.database_url, pool_size=settings.search_pool_size,
                    max_overflow=settings.search_max_overflow, autocommit=True,
                    server_settings={"plan_cache_mode": "force_custom_plan"})


async def run_search(
    session: AsyncSession, q: SearchQuery, *, today: dt.date, key: bytes, cursor: str | None,
    child: ChildContext | None = None, with_facets: bool = True, facet_cache: FacetCache | None = None,
) -> SearchPage:
    stmt, keys, where, _ = build_statement(q, today=today, key=key, cursor=cursor, child=child)
    rows = (await session.execute(stmt)).all()
    more = len(rows) > q.page_size
    rows = rows[: q.page_size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        sort = q.effective_sort
        value = {
            SortOrder.RELEVANCE: last.rank, SortOrder.RATING: last.sort_rating,
            SortOrder.PRICE: last.price_kopecks, SortOrder.NEWEST: last.certified_on,
        }[sort]
        next_cursor = encode_cursor(Cursor(sort, (_cursor_value(sort, value),), str(last.module_id)), q, key)
    total, facet_counts = 0, {}
    if with_facets:
        filters = (replace(q, sort=None, page_size=1).fingerprint(), today, child.birth_date if child else None)

        async def count(on: AsyncSession) -> Facets:
            return await facets(on, where)

        total, facet_counts = await (facet_cache.counts(filters, count, session) if facet_cache else count(session))
    return SearchPage([row_out(r) for r in rows], next_cursor, total, facet_counts)


# ------------------------------------------------------------------------------- billing quotes
class QuoteClient:
    """One batch quote call to billing per page, with the parent's own bearer token, over one
    pooled HTTP client (kept-alive connections to billing; closed when the service stops)."""

    def __init__(self, base_url: str, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def quotes(
        self, token: str, certificate_id: uuid.UUID, start_date: dt.date, module_ids: list[uuid.UUID]
    ) -> dict[str, dict[str, int]] | None:
        """Per module id: total, certificate and family parts (kopecks); None when billing
        cannot answer (down, slow, or an unexpected answer)."""
        if not module_ids:
            return {}
        body = {"certificate_id": str(certificate_id), "start_date": start_date.isoformat(),
                "module_ids": [str(m) for m in module_ids]}
        try:
            response = await self._http().post(
                f"{self.base_url}/api/billing/quotes:batch", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            if response.status_code != 200:
                log.warning("billing_quote_failed", status=response.status_code)
                return None
            return parse_quotes(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("billing_quote_unavailable", error_type=type(exc).__name__)
            return None


def parse_quotes(body: Any) -> dict[str, dict[str, int]]:
    """Accepts ``{"quotes": [...]}`` or a bare list; each item names its module and the cost,
    certificate and family parts in kopecks."""
    items = body.get("quotes", body.get("items")) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise ValueError("no quotes in billing's answer")
    out: dict[str, dict[str, int]] = {}
    for item in items:
        cost = item.get("total_cost_kopecks", item.get("cost_kopecks"))
        cert = item.get("certificate_kopecks", item.get("certificate_part_kopecks"))
        family = item.get("family_kopecks", item.get("family_part_kopecks"))
        if cost is None or cert is None or family is None:
            raise KeyError("quote item without cost, certificate and family parts")
        out[str(item["module_id"])] = {
            "total_cost_kopecks": int(cost), "certificate_kopecks": int(cert), "family_kopecks": int(family),
        }
    return out
