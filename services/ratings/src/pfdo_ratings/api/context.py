"""What every ratings route gets: the ratings use cases the composition root keeps on ``app.state.ratings``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pfdo_plumbing.http.app_state import from_app_state

from ..service.ratings import RatingsService

RatingsContext = Annotated[RatingsService, Depends(from_app_state("ratings", RatingsService))]
