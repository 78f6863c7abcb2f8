"""Settings of the ratings service (environment, prefix ``PFDO_``)."""

from __future__ import annotations

from pydantic import Field

from pfdo_plumbing.settings import ServiceSettings

from .domain.aggregate import DEFAULT_PRIOR_WEIGHT


class RatingsSettings(ServiceSettings):
    service_name: str = Field(default="ratings", description="Always 'ratings'.")
    prior_weight: int = Field(
        default=DEFAULT_PRIOR_WEIGHT, ge=0, le=10_000,
        description="Weight m of the regional prior, in pseudo-reviews: score = (m*C + sum of review values) / (m + n).",
    )
    prior_refresh_interval_s: float = Field(
        default=24 * 3600, gt=0,
        description="How often the regional prior is refreshed (a recompute that also republishes the aggregates).",
    )
    region_timezone: str = Field(default="Europe/Moscow", description="Calendar dates are shown in this zone.")
