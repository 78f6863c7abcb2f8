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
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy import (
    BigInteger, Date, Float, Integer, String, Table, and_, bindparam, cast, false, func, literal_column, select, tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, REGCONFIG
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import SmallInteger

from ..adapters.tables import LIVE, MODULES
from ..domain.search_query import Cursor, SearchQuery, SortOrder, decode_cursor, encode_cursor
from ..settings import NavigatorSettings
from pfdo_plumbing.db import Database, Statement
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


@dataclass(frozen=True)
class SearchShape:
    """What decides a search's SQL: the sort, which parameters it has, and two conditions that
    take no value. Searches of one shape share their compiled statements."""

    sort: SortOrder
    names: frozenset[str]
    free_seats_only: bool = False
    unknown_provider: bool = False


@dataclass(frozen=True)
class SearchStatements:
    """A shape's page and facet statements, compiled once for the driver."""

    page: Statement
    facets: Statement


def search_plan(
    q: SearchQuery, *, today: dt.date, key: bytes, cursor: str | None, child: ChildContext | None = None,
) -> tuple[SearchStatements, dict[str, Any]]:
    """The statements of a search and the values of their parameters (one dict for both)."""
    params: dict[str, Any] = {"today": today, "limit": q.page_size + 1}
    text = tsquery_text(q.text) if q.text else None
    if text:
        params["ts_config"], params["ts_query"] = "russian", text
    if q.municipality:
        params["municipality"] = q.municipality
    if q.direction:
        params["direction"] = q.direction.value
    if q.funding_kind:
        params["funding_kind"] = q.funding_kind.value
    unknown_provider = False
    if q.provider_id:
        try:
            params["provider_id"] = uuid.UUID(q.provider_id)
        except ValueError:
            unknown_provider = True  # no group has it
    if q.price_min is not None:
        params["price_min"] = q.price_min
    if q.price_max is not None:
        params["price_max"] = q.price_max
    if q.weekdays:
        params["weekdays"] = sorted(q.weekdays)
    if q.child_age is not None:
        params["child_age"] = q.child_age
    elif child is not None:
        params["birth_date"] = child.birth_date
    if cursor:
        c = decode_cursor(cursor, q, key)
        if len(c.values) != 1:
            from ..domain.errors import DomainError

            raise DomainError("invalid_cursor", "the page cursor is not valid: malformed")
        params["after_key"] = _parse_cursor_value(c.sort, c.values[0])
        params["after_id"] = uuid.UUID(c.last_id)
    shape = SearchShape(q.effective_sort, frozenset(params), q.free_seats_only, unknown_provider)
    return search_statements(shape), params


_AFTER_KEY_TYPES: dict[SortOrder, Any] = {
    SortOrder.RELEVANCE: Float, SortOrder.RATING: Float, SortOrder.PRICE: BigInteger, SortOrder.NEWEST: Date,
}


def _where(shape: SearchShape, e: Table, tsq: Any) -> list[ColumnElement[bool]]:
    """The shape's conditions on ``e``: the catalogue's entries, or their search copy."""
    has = shape.names.__contains__
    # bare `visible` (not `IS TRUE`) so the planner matches the partial indexes (WHERE visible)
    where: list[ColumnElement[bool]] = [e.c.visible, e.c.end_date >= bindparam("today", type_=Date)]
    if tsq is not None:
        where.append(e.c.search.op("@@")(tsq))
    if has("municipality"):
        where.append(e.c.municipality_code == bindparam("municipality", type_=String))
    if has("direction"):
        where.append(e.c.direction == bindparam("direction", type_=String))
    if has("funding_kind"):
        where.append(e.c.funding_kind == bindparam("funding_kind", type_=String))
    if has("provider_id"):
        where.append(e.c.provider_id == bindparam("provider_id", type_=PG_UUID(as_uuid=True)))
    if shape.unknown_provider:
        where.append(false())
    if has("price_min"):
        where.append(e.c.price_kopecks >= bindparam("price_min", type_=BigInteger))
    if has("price_max"):
        where.append(e.c.price_kopecks <= bindparam("price_max", type_=BigInteger))
    if has("weekdays"):
        where.append(e.c.weekdays.op("&&")(bindparam("weekdays", type_=ARRAY(SmallInteger))))
    if has("child_age"):
        age: Any = bindparam("child_age", type_=Integer)
        where.append(and_(e.c.age_min <= age, e.c.age_max >= age))
    elif has("birth_date"):
        # the child's completed years on the date they would start, max(today, module start), are
        # within the range: the platform's one age rule (pfdo_contracts.rules.age) in SQL, turning
        # N on birth + N years (29 February + N years is 28 February in a common year)
        start = func.greatest(e.c.start_date, bindparam("today", type_=Date))
        birth = bindparam("birth_date", type_=Date)
        turns_min = cast(birth + func.make_interval(e.c.age_min), Date)
        turns_past_max = cast(birth + func.make_interval(e.c.age_max + literal_column("1", Integer)), Date)
        where.append(and_(turns_min <= start, start < turns_past_max))
    if shape.free_seats_only:
        seats = select(MODULES.c.module_id).where(
            and_(MODULES.c.module_id == e.c.module_id, MODULES.c.held < MODULES.c.capacity)
        )
        where.append(seats.exists())
    return where


def _order(sort: SortOrder, e: Table, rank: Any) -> tuple[list[Any], list[Any], bool]:
    """(sort key columns, ORDER BY, descending?)."""
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


@lru_cache(maxsize=1024)
def search_statements(shape: SearchShape) -> SearchStatements:
    """The page statement (the shape's filters, keyset condition, order and limit) and the facet
    statement (the same filters), built with SQLAlchemy and compiled once per shape.

    A text search picks and orders its page in the search copy, ``search_docs``, then reads the
    page's rows from ``entries``: a broad word matches thousands of groups, each visited to be
    ranked, and the copy's rows are a fraction of the width of those of ``entries``. Other
    searches read ``entries`` through its sort indexes."""
    e = LIVE.entries
    text_search = "ts_query" in shape.names
    picked = LIVE.search_docs if text_search else e
    tsq = None
    if text_search:
        tsq = func.to_tsquery(bindparam("ts_config", type_=REGCONFIG), bindparam("ts_query", type_=String))
    rank = cast(func.ts_rank(picked.c.search, tsq), Float) if tsq is not None else cast(literal_column("0"), Float)
    where = _where(shape, picked, tsq)
    keys, order_by, desc = _order(shape.sort, picked, rank)
    page_where = list(where)
    if "after_key" in shape.names:
        after = tuple_(bindparam("after_key", type_=_AFTER_KEY_TYPES[shape.sort]),
                       bindparam("after_id", type_=PG_UUID(as_uuid=True)))
        page_where.append(tuple_(*keys) < after if desc else tuple_(*keys) > after)
    limit = bindparam("limit", type_=Integer)
    if text_search:
        top = select(picked.c.module_id, rank.label("rank")).where(*page_where).order_by(*order_by).limit(limit)
        top = top.subquery("top")
        rows_from: Any = top.join(e, e.c.module_id == top.c.module_id)
        page_rank: Any = top.c.rank
        # the same order again over the page's rows (the relevance key is the subquery's rank)
        _, order_by, _ = _order(shape.sort, e, top.c.rank)
    else:
        rows_from, page_rank = e, rank
    free = (
        select(MODULES.c.capacity - MODULES.c.held).where(MODULES.c.module_id == e.c.module_id).scalar_subquery()
    )
    page = select(*(e.c[name] for name in PAGE_COLUMNS), page_rank.label("rank"), free.label("free_seats"))
    page = page.select_from(rows_from).order_by(*order_by)
    if not text_search:  # (a text search's page was picked in the subquery)
        page = page.where(*page_where).limit(limit)
    return SearchStatements(Statement.compiled(page), Statement.compiled(facet_statement(where, picked)))


Facets = tuple[int, dict[str, dict[str, int]]]
"""The total and the counts per direction, municipality and funding kind."""


def facet_statement(where: list[ColumnElement[bool]], e: Table) -> Any:
    """The counts of the groups ``where`` selects (in ``e``: the entries or their search copy),
    per direction, municipality and funding kind and in all (grouping sets), in one pass."""
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


async def facets(session: AsyncSession, statement: Statement, params: dict[str, Any]) -> Facets:
    out: dict[str, dict[str, int]] = {"direction": {}, "municipality": {}, "funding_kind": {}}
    total = 0
    for row in await statement.fetch_from(session, params):
        # grouping bits: direction=4, municipality=2, funding_kind=1 (1 = rolled up)
        g, n = row["g"], row["n"]
        if g == 7:
            total = n
        elif g == 3:
            out["direction"][row["direction"]] = n
        elif g == 5:
            out["municipality"][row["municipality_code"]] = n
        elif g == 6:
            out["funding_kind"][row["funding_kind"]] = n
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
    """A page row (the driver's record) as a result."""
    out = {name: row[name] for name in PAGE_COLUMNS if name != "sort_rating"}
    free = row["free_seats"]
    out["free_seats"] = max(int(free), 0) if free is not None else row["capacity"]
    out["relevance"] = float(row["rank"]) if row["rank"] else None
    out["quote"] = None
    out["quote_error"] = None
    return out


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
    statements, params = search_plan(q, today=today, key=key, cursor=cursor, child=child)
    rows = await statements.page.fetch_from(session, params)
    more = len(rows) > q.page_size
    rows = rows[: q.page_size]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        sort = q.effective_sort
        value = last[_SORT_KEY_COLUMN[sort]]
        next_cursor = encode_cursor(Cursor(sort, (_cursor_value(sort, value),), str(last["module_id"])), q, key)
    total, facet_counts = 0, {}
    if with_facets:
        filters = (replace(q, sort=None, page_size=1).fingerprint(), today, child.birth_date if child else None)

        async def count(on: AsyncSession) -> Facets:
            return await facets(on, statements.facets, params)

        total, facet_counts = await (facet_cache.counts(filters, count, session) if facet_cache else count(session))
    return SearchPage([row_out(r) for r in rows], next_cursor, total, facet_counts)


_SORT_KEY_COLUMN = {
    SortOrder.RELEVANCE: "rank", SortOrder.RATING: "sort_rating", SortOrder.PRICE: "price_kopecks",
    SortOrder.NEWEST: "certified_on",
}


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
    ) -> dict[str, ModuleQuote] | None:
        """Per module id: its figures, or the reason billing could not quote that one module;
        None when billing cannot answer at all (down, slow, or an unexpected answer)."""
        if not module_ids:
            return {}
        body = {"certificate_id": str(certificate_id), "start_date": start_date.isoformat(),
                "module_ids": [str(m) for m in module_ids]}
        try:
            response = await self._http().post(
                f"{self.base_url}/api/billing/quotes:batch", json=body,
                headers={"Authorization": f"Bearer {token}", "Accept-Language": "ru"},
            )
            if response.status_code != 200:
                log.warning("billing_quote_failed", status=response.status_code)
                return None
            return parse_quotes(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("billing_quote_unavailable", error_type=type(exc).__name__)
            return None


UNQUOTED_MESSAGE = "Стоимость этого модуля для ребёнка сейчас рассчитать нельзя."
"""Shown when billing refused one module without a text of its own."""


@dataclass(frozen=True)
class ModuleQuote:
    """Billing's answer for one module of a page: the figures (kopecks), or why there are none
    (``error``: billing's item code and a Russian message). One unquotable module leaves only its
    own price empty."""

    figures: dict[str, int] | None = None
    error: dict[str, str] | None = None


def parse_quotes(body: Any) -> dict[str, ModuleQuote]:
    """Accepts ``{"quotes": [...]}`` or a bare list; each item names its module and either the
    cost, certificate and family parts in kopecks, or an ``error`` (code and detail) for that
    module alone."""
    items = body.get("quotes", body.get("items")) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise ValueError("no quotes in billing's answer")
    out: dict[str, ModuleQuote] = {}
    for item in items:
        error = item.get("error")
        if error:
            out[str(item["module_id"])] = ModuleQuote(error={
                "code": str(error.get("code") or "quote_unavailable"),
                "message": str(error.get("detail") or error.get("message") or UNQUOTED_MESSAGE),
            })
            continue
        cost = item.get("total_cost_kopecks", item.get("cost_kopecks"))
        cert = item.get("certificate_kopecks", item.get("certificate_part_kopecks"))
        family = item.get("family_kopecks", item.get("family_part_kopecks"))
        if cost is None or cert is None or family is None:
            raise KeyError("quote item without cost, certificate and family parts")
        out[str(item["module_id"])] = ModuleQuote(figures={
            "total_cost_kopecks": int(cost), "certificate_kopecks": int(cert), "family_kopecks": int(family),
        })
    return out
