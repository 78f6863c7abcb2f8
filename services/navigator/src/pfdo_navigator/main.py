"""Composition root of the navigator: `uvicorn pfdo_navigator.main:app`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pfdo_plumbing.audit import audit_router
from pfdo_plumbing.http.app import create_app
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_plumbing.settings import ServiceSettings

from .adapters.handlers import register_handlers, run_journal_freeze, run_timers
from .adapters.status_feed import StatusFeed, end_streams_on_exit_signals
from .api.context import NavigatorApi
from .api.routes import ROUTERS
from .domain.errors import DomainError
from .service.search import FacetCache, QuoteClient, catalogue_reader
from .settings import NavigatorSettings


def build_app(settings: ServiceSettings | None = None, *, quotes: QuoteClient | None = None) -> FastAPI:
    if settings is None:
        settings = NavigatorSettings()
    elif not isinstance(settings, NavigatorSettings):
        settings = NavigatorSettings(**settings.model_dump())
    runtime = ServiceRuntime(settings)
    register_handlers(runtime, settings)

    @runtime.every("enrolment-timers", settings.jobs_interval_s)
    async def timers() -> None:
        await run_timers(runtime, settings)

    @runtime.every("journal-freeze", settings.jobs_interval_s)
    async def freeze_due_journals() -> None:
        await run_journal_freeze(runtime, settings)

    quotes = quotes or QuoteClient(settings.billing_url, settings.billing_timeout_s)
    runtime.on_stop(quotes.aclose)
    search_db = catalogue_reader(settings)
    facet_cache = FacetCache(settings.facet_cache_s, reader=search_db)
    runtime.on_stop(facet_cache.aclose)  # before the reader pool closes: it may be recounting facets
    feed = StatusFeed(runtime.db, sequence_interval_s=settings.feed_sequence_interval_s, poll_s=settings.feed_poll_s,
                      retention_days=settings.feed_retention_days)
    restore_signals: list[Any] = []

    async def start_feed() -> None:
        await feed.start()
        restore_signals.append(end_streams_on_exit_signals(feed))

    async def stop_feed() -> None:
        for restore in restore_signals:
            restore()
        await feed.stop()

    runtime.on_start(start_feed)
    runtime.on_stop(stop_feed)

    @runtime.every("status-feed-prune", 3600.0)
    async def prune_status_feed() -> None:
        await feed.prune()

    runtime.on_stop(search_db.dispose)
    app = create_app(
        runtime,
        title="PFDO navigator",
        description="The regional catalogue: search, enrolment without overbooking, attendance journal, disputes, "
        "and the parent cabinet.",
        routers=[*ROUTERS, audit_router(runtime)],
        domain_errors={DomainError: 422},
    )
    app.state.settings = settings
    app.state.navigator = NavigatorApi(runtime, settings, quotes, search_db, facet_cache, feed)
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn pfdo_navigator.main:app` builds the app on first access only
    if name == "app":
        return build_app()
    raise AttributeError(name)
