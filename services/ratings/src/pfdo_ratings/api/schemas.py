"""Request and response bodies of the ratings API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pfdo_plumbing.http.examples import document_examples
from pfdo_plumbing.http.paging import Page

from ..domain.aggregate import DEFAULT_PRIOR_WEIGHT

_SCALE_DOC = "Percent, 0..100 in steps of 10."


class ScoresIn(BaseModel):
    """The four scales of a rating."""

    model_config = ConfigDict(extra="forbid")

    results: int = Field(description=f"Results achieved. {_SCALE_DOC}", examples=[80])
    teachers_and_group: int = Field(description=f"Teachers and group size. {_SCALE_DOC}", examples=[90])
    materials_and_equipment: int = Field(description=f"Materials and equipment. {_SCALE_DOC}", examples=[70])
    overall_satisfaction: int = Field(description=f"Overall satisfaction. {_SCALE_DOC}", examples=[80])


class ScoresOut(BaseModel):
    results: int = Field(description=f"Results achieved. {_SCALE_DOC}")
    teachers_and_group: int = Field(description=f"Teachers and group size. {_SCALE_DOC}")
    materials_and_equipment: int = Field(description=f"Materials and equipment. {_SCALE_DOC}")
    overall_satisfaction: int = Field(description=f"Overall satisfaction. {_SCALE_DOC}")


class RatingSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enrolment_id: uuid.UUID = Field(description="The ended enrolment being rated (one rating per enrolment).")
    scores: ScoresIn = Field(description="The four scales.")
    comment: str | None = Field(
        default=None, max_length=10_000,
        description="Optional comment, at most 2000 characters after trimming; shown without the author's identity.",
    )


class RatingEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: ScoresIn = Field(description="The four scales (all of them, replacing the previous values).")
    comment: str | None = Field(
        default=None, max_length=10_000, description="The new comment (null or empty removes it); at most 2000 characters.",
    )


class RatingOut(BaseModel):
    enrolment_id: uuid.UUID = Field(description="The rated enrolment.")
    program_id: uuid.UUID = Field(description="The rated program.")
    provider_id: uuid.UUID = Field(description="The program's provider.")
    scores: ScoresOut = Field(description="The four scales.")
    comment: str | None = Field(description="The comment, if any.")
    submitted_at: datetime = Field(description="First submission (UTC).")
    updated_at: datetime = Field(description="Last change (UTC).")
    editable_until: datetime = Field(description="Edits are accepted until this moment (submission + 30 days, UTC).")
    final: bool = Field(description="True once the edit window has passed.")
    version: int = Field(description="1 at submission, +1 per edit that changed something.")


class MyRatingItem(BaseModel):
    enrolment_id: uuid.UUID = Field(description="An ended enrolment of one of your children.")
    program_id: uuid.UUID = Field(description="Its program.")
    provider_id: uuid.UUID = Field(description="The program's provider.")
    outcome: str = Field(description="completed or terminated.")
    end_date: date = Field(description="Last contract day.")
    can_rate: bool = Field(description="True while the enrolment is not rated yet.")
    rating: RatingOut | None = Field(description="Your rating, if you gave one.")


class ScaleMeansOut(BaseModel):
    results: float | None = Field(description="Mean percent (1 decimal, half up); null without ratings.")
    teachers_and_group: float | None = Field(description="Mean percent; null without ratings.")
    materials_and_equipment: float | None = Field(description="Mean percent; null without ratings.")
    overall_satisfaction: float | None = Field(description="Mean percent; null without ratings.")


class PriorOut(BaseModel):
    mean: float = Field(description="C: the region's mean review value at the last refresh (70 while there is none).")
    weight: int = Field(
        default=DEFAULT_PRIOR_WEIGHT,
        description="m: the prior counts as this many pseudo-reviews (default 10). "
        "score = (m*C + sum of review values) / (m + n); a review's value is the mean of its four scales.",
    )


class AggregateOut(BaseModel):
    count: int = Field(description="Number of ratings.")
    means: ScaleMeansOut = Field(description="Mean per scale.")
    overall_mean: float | None = Field(description="Plain mean review value; null without ratings.")
    score: float = Field(description="Shrunk (Bayesian average) score used for ranking; the prior mean without ratings.")
    prior: PriorOut = Field(description="The prior the score is shrunk towards.")
    revision: int = Field(description="Increases with every change of this aggregate (0: never rated).")


class ProgramAggregateOut(AggregateOut):
    program_id: uuid.UUID = Field(description="Program id.")
    provider_id: uuid.UUID | None = Field(description="The program's provider (null while unrated).")


class ProviderAggregateOut(AggregateOut):
    provider_id: uuid.UUID = Field(description="Provider id.")
    program_count: int = Field(description="Programs of this provider with at least one rating.")


class CommentOut(BaseModel):
    """An anonymous comment: no author, enrolment or certificate."""

    scores: ScoresOut = Field(description="The scales given with the comment.")
    comment: str = Field(description="The comment text.")
    submitted_on: date = Field(description="Day of submission (region time zone).")
    edited: bool = Field(description="True if the rating was changed after submission.")


class CommentsPage(Page[CommentOut]):
    """Newest first. The cursor carries only a position (a key would name the comment's enrolment)."""

    total: int = Field(description="Comments of this program in all.")


class RecomputeOut(BaseModel):
    consistent: bool = Field(description="True when the incremental aggregates equal the recomputed ones.")
    applied: bool = Field(description="Whether the recomputed values and the refreshed prior were stored.")
    programs: int = Field(description="Programs with ratings.")
    providers: int = Field(description="Providers with ratings.")
    differences: list[dict[str, Any]] = Field(description="Each aggregate whose incremental value differed.")
    prior_before: dict[str, Any] = Field(description="The prior before the run (mean, count, weight).")
    prior_after: dict[str, Any] = Field(description="The prior after the run.")
    republished: int = Field(description="Aggregate events written to the outbox.")


document_examples(globals())
