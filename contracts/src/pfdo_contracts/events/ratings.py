"""Events published by ratings: aggregates per program and per provider.

Four scales, each 0–100 % in steps of 10: results achieved, teachers and group size, materials
and equipment, overall satisfaction. ``score`` is shrunk towards a prior so that one review
cannot beat two hundred: score = (prior_weight × prior_mean + count × mean) / (prior_weight + count),
using the mean over the four scales. Each aggregate carries a ``revision``: apply the highest.
"""

from __future__ import annotations

import uuid

from pydantic import Field

from ..common import Part, Revision
from ..envelope import Event
from ..registration import event
from ..topics import RATINGS

class ScaleMeans(Part):
    """Mean rating on each scale, in percent."""

    results: float = Field(ge=0, le=100, description="Results achieved, mean percent.")
    teachers: float = Field(ge=0, le=100, description="Teachers and group size, mean percent.")
    materials: float = Field(ge=0, le=100, description="Materials and equipment, mean percent.")
    satisfaction: float = Field(ge=0, le=100, description="Overall satisfaction, mean percent.")


class _Aggregate(Event):
    count: int = Field(ge=1, description="Number of ratings counted.")
    means: ScaleMeans = Field(description="Mean per scale.")
    score: float = Field(ge=0, le=100, description="Shrunk score used for ranking, percent.")
    prior_mean: float = Field(ge=0, le=100, description="Prior the score is shrunk towards, percent.")
    prior_weight: float = Field(ge=0, description="Weight of the prior, in 'virtual ratings'.")
    revision: Revision = Field(description="Monotonic per aggregate: apply the highest.")


@event("pfdo.ratings.program_rating.changed", version=1, topic=RATINGS)
class ProgramRatingChanged(_Aggregate):
    """A program's rating aggregate changed (a rating was added or edited)."""

    program_id: uuid.UUID = Field(description="Program id.")
    provider_id: uuid.UUID = Field(description="Provider of the program.")


@event(
    "pfdo.ratings.provider_rating.changed",
    version=1,
    topic=RATINGS,
    key="provider_id",
    key_note="A provider aggregate spans all its programs: keyed by provider_id.",
)
class ProviderRatingChanged(_Aggregate):
    """A provider's rating aggregate (over all its programs) changed."""

    provider_id: uuid.UUID = Field(description="Provider id.")
    program_count: int = Field(ge=1, description="Programs with at least one rating.")
