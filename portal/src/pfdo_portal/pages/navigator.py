"""The navigator for anyone: the search with its filters, facets, sort and pages, and a program's
page (its modules, schedule, address, seats, normative cost, price and rating)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..gateway import ApiError
from ..labels import RATING_SCALES
from ..rendering import access_token, render
from .search_form import SORTS, WEEKDAYS, SearchForm

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def search(request: Request) -> HTMLResponse:
    state = request.app.state
    form = SearchForm.from_query(request.query_params)
    labels = await state.labels.book(access_token(request))
    result, error = None, None
    try:
        result = await state.api.search_programs(form.api_params(state.settings.page_size),
                                                 token=access_token(request))
    except ApiError as exc:
        if exc.status >= 500 or exc.status in (401, 403):
            raise
        error = exc  # the form stays, with the API's words about what it refused
    context = {"form": form, "result": result, "error": error, "sorts": SORTS, "weekdays": WEEKDAYS}
    # htmx asks for the results only (the form stays as the visitor left it)
    name = "navigator/_results.html" if request.headers.get("hx-request") == "true" else "navigator/search.html"
    # 200 also with the API's refusal: htmx swaps only successful answers into the page
    return render(request, name, context, labels=labels)


@router.get("/programs/{program_id}", response_class=HTMLResponse)
async def program(request: Request, program_id: uuid.UUID) -> HTMLResponse:
    state = request.app.state
    labels = await state.labels.book(access_token(request))
    page = await state.api.program_page(str(program_id), token=access_token(request))
    return render(request, "navigator/program.html", {"program": page, "scales": RATING_SCALES}, labels=labels)
