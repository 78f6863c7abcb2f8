"""The catalogue search (GET /programs), with the family's price of every result for a parent's child."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from pfdo_plumbing.auth.policy import optional
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.problems import ProblemError, not_found

from ..adapters.tables import CERTIFICATES
from ..domain.search_query import SearchQuery
from ..service.search import ChildContext, SearchPage, run_search
from . import schemas as s
from .context import NavigatorApi, NavigatorContext, service_problems as _problems

router = APIRouter(tags=["catalogue"])


@router.get(
    "/programs", response_model=s.SearchResult, summary="Search the catalogue",
    description=(
        "Full-text search in Russian with filters, sorting (relevance, rating, price, newest), keyset "
        "pagination and facet counts. A parent may pass `child=<certificate id>` (own child only) to see the "
        "cost to the family of every result (billing's quote; a module billing cannot quote has `quote` null and "
        "`quote_error` with billing's code and a reason, the others keep their prices) and filter with "
        "`no_copayment=true`. Open without "
        "a token (public fields only, limited per client address at the gateway); `child=` needs a parent's "
        "token (401 without one)."
    ),
    operation_id="searchPrograms",
    responses=_problems("unauthenticated", "validation_error", "invalid_query", "invalid_cursor",
                        "child_required", "not_found", "age_on_without_age", "relevance_requires_text",
                        "invalid_price_range"))
async def search(
    nav: NavigatorContext,
    request: Request,
    params: Annotated[s.SearchParams, Query()],
    who: Principal | None = Depends(optional("navigator.catalogue.search")),
) -> s.SearchResult:
    cursor, child, start_date, no_copayment = params.cursor, params.child, params.start_date, params.no_copayment
    query = params.to_query()
    today = nav.settings.today()
    if no_copayment and child is None:
        raise ProblemError(422, "child_required", "no_copayment needs child=<certificate id>.")
    child_ctx: ChildContext | None = None
    async with nav.search_db.reading() as session:
        if child is not None:
            if who is None:  # the cost to a family is a signed-in parent's view
                raise ProblemError(401, "unauthenticated", "A bearer token is required to see the cost for a child.",
                                   headers={"WWW-Authenticate": 'Bearer realm="pfdo"'})
            cert = (await session.execute(select(CERTIFICATES).where(CERTIFICATES.c.certificate_id == child))).first()
            if cert is None or who.role != Role.PARENT or cert.parent_id != who.sub:
                raise not_found("Certificate")
            child_ctx = ChildContext(child, cert.birth_date)
        page = await run_search(session, query, today=today, key=nav.cursor_key, cursor=cursor, child=child_ctx,
                                facet_cache=nav.facet_cache)
        if child_ctx is None:
            return s.SearchResult(items=page.rows, next_cursor=page.next_cursor, total=page.total, facets=page.facets)
        token = request.headers.get("authorization", "").split(" ", 1)[-1]
        when = start_date or today
        if not no_copayment:
            prices = await nav.quotes.quotes(token, child, when, [r["module_id"] for r in page.rows])
            for r in page.rows:
                answer = prices.get(str(r["module_id"])) if prices else None
                r["quote"] = answer.figures if answer else None
                r["quote_error"] = answer.error if answer else None
            return s.SearchResult(items=page.rows, next_cursor=page.next_cursor, total=page.total,
                                  facets=page.facets, prices_available=prices is not None)
        return await _no_copayment(nav, session, query, page, token, child_ctx, when, today)

async def _no_copayment(
    nav: NavigatorApi, session: Any, query: SearchQuery, page: SearchPage, token: str, child_ctx: ChildContext,
    when: dt.date, today: dt.date,
) -> s.SearchResult:
    """Scan pages, keeping results the family pays nothing for (at most 10 pages per call)."""
    kept: list[dict[str, Any]] = []
    current = page
    for _ in range(10):
        prices = await nav.quotes.quotes(token, child_ctx.certificate_id, when, [r["module_id"] for r in current.rows])
        if prices is None:
            return s.SearchResult(items=[], next_cursor=None, total=page.total, facets=page.facets,
                                  prices_available=False)
        for r in current.rows:  # a module billing could not quote is not known to be free: left out
            answer = prices.get(str(r["module_id"]))
            if answer is not None and answer.figures is not None and answer.figures["family_kopecks"] == 0:
                r["quote"] = answer.figures
                kept.append(r)
        if len(kept) >= query.page_size or current.next_cursor is None:
            break
        current = await run_search(session, query, today=today, key=nav.cursor_key, cursor=current.next_cursor,
                                   child=child_ctx, with_facets=False)
    # the cursor continues after the last scanned row, so no result is skipped or repeated
    return s.SearchResult(items=kept, next_cursor=current.next_cursor, total=page.total, facets=page.facets,
                          prices_available=True)

