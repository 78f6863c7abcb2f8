"""The navigator for anyone: the search with its filters, facets, sort and pages, and a program's
page (its modules, schedule, address, seats, normative cost, price and rating).

A signed-in parent also chooses a child («Для ребёнка»: the children with an active certificate)
and reads, for every module shown, what the family would pay per month and in total
(:mod:`.family_cost`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from pfdo_plumbing import clock

from ..gateway import ApiError
from ..gateway import family as family_api
from ..labels import RATING_SCALES
from ..rendering import access_token, render
from .family_cost import UNAVAILABLE, active_children, chosen_child, family_costs
from .search_form import SORTS, WEEKDAYS, SearchForm

router = APIRouter(include_in_schema=False)


def _parent_token(request: Request) -> str | None:
    """The token of a signed-in parent (the family's cost is theirs only), else None."""
    user = getattr(request.state, "user", None)
    token = access_token(request)
    return token if user is not None and str(user.role) == "parent" and token else None


async def _children(request: Request, token: str | None) -> list[Mapping[str, Any]]:
    if token is None:
        return []
    try:
        return active_children(await family_api.certificates(request.app.state.api, token))
    except ApiError as exc:
        if exc.status == 401:
            raise
        return []  # the search still works without the family's cost


async def _costs(request: Request, token: str | None, child: Mapping[str, Any] | None,
                 modules: Iterable[tuple[str, str]]) -> tuple[dict[str, Any] | None, str | None]:
    """The family's cost per module id for the chosen child, or why there is none."""
    modules = list(modules)
    if token is None or child is None or not modules:
        return None, None
    costs = await family_costs(request.app.state.api, token, str(child["id"]), modules, clock.today("Europe/Moscow"))
    return (costs, None) if costs is not None else (None, UNAVAILABLE)


@router.get("/", response_class=HTMLResponse)
async def search(request: Request) -> HTMLResponse:
    state = request.app.state
    form = SearchForm.from_query(request.query_params)
    token = _parent_token(request)
    labels = await state.labels.book(access_token(request))
    result, error = None, None

    async def found() -> Any:
        return await state.api.search_programs(form.api_params(state.settings.page_size), token=access_token(request))

    answer, children = await asyncio.gather(found(), _children(request, token), return_exceptions=True)
    if isinstance(children, BaseException):
        raise children
    if isinstance(answer, ApiError):
        if answer.status >= 500 or answer.status in (401, 403):
            raise answer
        error = answer  # the form stays, with the API's words about what it refused
    elif isinstance(answer, BaseException):
        raise answer
    else:
        result = answer
    child = chosen_child(children, form.child)
    costs, cost_error = await _costs(request, token, child, (
        (str(h["module_id"]), str(h["start_date"])) for h in (result or {}).get("items", ())))
    context = {"form": form, "result": result, "error": error, "sorts": SORTS, "weekdays": WEEKDAYS,
               "children": children, "child": child, "costs": costs, "cost_error": cost_error}
    # htmx asks for the results only (the form stays as the visitor left it)
    name = "navigator/_results.html" if request.headers.get("hx-request") == "true" else "navigator/search.html"
    # 200 also with the API's refusal: htmx swaps only successful answers into the page
    return render(request, name, context, labels=labels)


@router.get("/programs/{program_id}", response_class=HTMLResponse)
async def program(request: Request, program_id: uuid.UUID) -> HTMLResponse:
    state = request.app.state
    token = _parent_token(request)
    labels = await state.labels.book(access_token(request))
    page, children = await asyncio.gather(state.api.program_page(str(program_id), token=access_token(request)),
                                          _children(request, token))
    child = chosen_child(children, request.query_params.get("child"))
    costs, cost_error = await _costs(request, token, child, (
        (str(m["module_id"]), str(m["start_date"])) for m in page.get("modules") or ()))
    return render(request, "navigator/program.html", {
        "program": page, "scales": RATING_SCALES, "children": children, "child": child, "costs": costs,
        "cost_error": cost_error}, labels=labels)
