"""What every navigator route gets: the service context (from the composition root) and its problem answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from pfdo_plumbing.db import Database
from pfdo_plumbing.http.app_state import from_app_state
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.runtime import ServiceRuntime

from ..adapters.status_feed import StatusFeed
from ..service.search import FacetCache, QuoteClient
from ..settings import NavigatorSettings


@dataclass(frozen=True)
class NavigatorApi:
    """The navigator's runtime (database, outbox), settings, billing's quotes, the catalogue's reader
    pool with its facet cache, and the status feed; built once by the composition root."""

    runtime: ServiceRuntime
    settings: NavigatorSettings
    quotes: QuoteClient
    search_db: Database
    facet_cache: FacetCache
    feed: StatusFeed

    @property
    def cursor_key(self) -> bytes:
        """The key that signs search cursors."""
        return self.settings.cursor_key.encode()


NavigatorContext = Annotated[NavigatorApi, Depends(from_app_state("navigator", NavigatorApi))]
"""The navigator context the composition root keeps on ``app.state.navigator``."""

SIGNED_IN = ("unauthenticated", "forbidden", "validation_error")
"""Codes any signed-in call may answer with (rate limits and outages are documented for every operation)."""


def service_problems(*codes: str) -> dict[int | str, dict]:
    """The ``responses=`` of an operation: the problem answers it can give, with this service's texts."""
    return problems(*codes, service="navigator")
