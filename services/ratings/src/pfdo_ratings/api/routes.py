"""HTTP routes of the ratings service (mounted under /api/ratings)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, status

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from ..adapters.repository import StoredAggregate
from ..domain.aggregate import AggregateState, Prior, present
from ..domain.rating import Rating
from ..service.ratings import RatingsService
from .context import RatingsContext
from .schemas import (
    CommentOut, CommentsPage, MyRatingItem, PriorOut, ProgramAggregateOut, ProviderAggregateOut, RatingEdit, RatingOut,
    RatingSubmit, RecomputeOut, ScaleMeansOut, ScoresOut,
)

router = APIRouter(tags=["ratings"])

SIGNED_IN = ("unauthenticated", "forbidden", "validation_error")
"""Codes any signed-in call may answer with (rate limits and outages are documented for every operation)."""


def _problems(*codes: str) -> dict[int | str, dict]:
    """The ``responses=`` of an operation: the problem answers it can give, with this service's texts."""
    return problems(*codes, service="ratings")


def rating_out(rating: Rating, service: RatingsService) -> RatingOut:
    return RatingOut(
        enrolment_id=uuid.UUID(rating.enrolment_id), program_id=uuid.UUID(rating.program_id),
        provider_id=uuid.UUID(rating.provider_id), scores=ScoresOut(**rating.scores.as_dict()), comment=rating.comment,
        submitted_at=rating.submitted_at, updated_at=rating.updated_at, editable_until=rating.editable_until,
        final=rating.is_final(service.now()), version=rating.version,
    )


def _aggregate_fields(stored: StoredAggregate | None, prior: Prior) -> dict:
    state = stored.state if stored else AggregateState()
    view = present(state, prior)
    return {
        "count": view.count,
        "means": ScaleMeansOut(**{k: None if v is None else float(v) for k, v in view.means.items()}),
        "overall_mean": None if view.overall_mean is None else float(view.overall_mean),
        "score": float(view.shrunk_score),
        "prior": PriorOut(mean=float(prior.mean), weight=prior.weight),
        "revision": stored.revision if stored else 0,
    }


@router.post(
    "/ratings", response_model=RatingOut, status_code=status.HTTP_201_CREATED, summary="Rate an ended enrolment",
    description="The parent named by the enrolment's end event rates it once. Errors: not_eligible (409, "
    "unknown or not ended), not_your_enrolment (403), already_rated (409), scale_out_of_range / "
    "scale_not_step_of_10 / comment_too_long (422).",
    operation_id="submitRating",
    responses=_problems(*SIGNED_IN, "not_eligible", "not_your_enrolment", "already_rated",
                        "scale_out_of_range", "scale_not_step_of_10", "scale_missing", "unknown_scale",
                        "comment_too_long"))
async def submit_rating(
    service: RatingsContext, body: RatingSubmit, who: Principal = Depends(require("ratings.rating.submit")),
) -> RatingOut:
    rating = await service.submit(who, body.enrolment_id, body.scores.model_dump(), body.comment)
    return rating_out(rating, service)


@router.put(
    "/ratings/{enrolment_id}", response_model=RatingOut, summary="Edit my rating (within 30 days)",
    description="Replaces the scales and the comment. rating_final (409) after 30 days from the first "
    "submission; rating_not_found (404) when you have no rating for this enrolment.",
    operation_id="editRating",
    responses=_problems(*SIGNED_IN, "rating_not_found", "rating_final", "not_your_enrolment",
                        "scale_out_of_range", "scale_not_step_of_10", "scale_missing", "unknown_scale",
                        "comment_too_long"))
async def edit_rating(
    service: RatingsContext,
    enrolment_id: uuid.UUID, body: RatingEdit, who: Principal = Depends(require("ratings.rating.submit"))
) -> RatingOut:
    rating = await service.edit(who, enrolment_id, body.scores.model_dump(), body.comment)
    return rating_out(rating, service)


@router.get(
    "/me/ratings", response_model=Page[MyRatingItem], summary="My ended enrolments and my ratings",
    description="Every ended enrolment you may rate, with your rating if given (empty for non-parents).",
    operation_id="listMyRatings",
    responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def my_ratings(service: RatingsContext, paging: PageRequest = Depends(paging_params(default=100, maximum=500)),
                     who: Principal = Depends(require("ratings.rating.read"))) -> dict:
    items = await service.my_ratings(who)
    return paging.page_of_all([
        MyRatingItem(
            enrolment_id=uuid.UUID(e.enrolment.enrolment_id), program_id=uuid.UUID(e.enrolment.program_id),
            provider_id=uuid.UUID(e.enrolment.provider_id), outcome=e.outcome, end_date=e.end_date,
            can_rate=r is None, rating=None if r is None else rating_out(r, service),
        )
        for e, r in items
    ], "me/ratings", lambda i: [i.end_date.isoformat(), str(i.enrolment_id)])


@router.get(
    "/programs/{program_id}", response_model=ProgramAggregateOut, summary="A program's rating aggregate",
    description="Count, mean per scale and the shrunk score. score = (m*C + sum of review values) / (m + n) with "
    "the prior weight m (default 10 pseudo-reviews) and the regional mean C; an unrated program scores C.",
    operation_id="getProgramRating",
    responses=_problems(*SIGNED_IN))
async def program_aggregate(
    service: RatingsContext,
    program_id: uuid.UUID, _: Principal = Depends(require("ratings.rating.read"))
) -> ProgramAggregateOut:
    stored, prior = await service.program_aggregate(program_id)
    return ProgramAggregateOut(
        program_id=program_id, provider_id=stored.provider_id if stored else None, **_aggregate_fields(stored, prior)
    )


@router.get(
    "/providers/{provider_id}", response_model=ProviderAggregateOut, summary="A provider's rating aggregate",
    description="Over all the provider's programs; same figures and prior as for a program.",
    operation_id="getProviderRating",
    responses=_problems(*SIGNED_IN))
async def provider_aggregate(
    service: RatingsContext,
    provider_id: uuid.UUID, _: Principal = Depends(require("ratings.rating.read"))
) -> ProviderAggregateOut:
    stored, prior = await service.provider_aggregate(provider_id)
    return ProviderAggregateOut(
        provider_id=provider_id, program_count=stored.program_count if stored else 0,
        **_aggregate_fields(stored, prior),
    )


@router.get(
    "/programs/{program_id}/comments", response_model=CommentsPage, summary="A program's comments (anonymous)",
    description="Newest first, without any author identity.",
    operation_id="listProgramComments",
    responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def program_comments(
    service: RatingsContext,
    program_id: uuid.UUID,
    paging: PageRequest = Depends(paging_params(default=20, maximum=100)),
    _: Principal = Depends(require("ratings.rating.read")),
) -> CommentsPage:
    scope = f"comments|{program_id}"
    offset = paging.offset(scope)
    total, ratings = await service.comments(program_id, limit=paging.limit + 1, offset=offset)
    page = paging.page_at(ratings, scope, offset)
    return CommentsPage(
        total=total, next_cursor=page["next_cursor"],
        items=[
            CommentOut(
                scores=ScoresOut(**r.scores.as_dict()), comment=r.comment or "",
                submitted_on=service.local_date(r.submitted_at), edited=r.version > 1,
            )
            for r in page["items"]
        ],
    )


@router.post(
    "/admin/recompute", response_model=RecomputeOut, summary="Recompute every aggregate from the ratings",
    description="Rebuilds all aggregates from the ratings table and reports differences from the incremental "
    "values (there should be none). apply=false only checks. refresh_prior=true moves the regional prior to the "
    "region's current mean and republishes every aggregate when it changed.",
    operation_id="recomputeRatings",
    responses=_problems(*SIGNED_IN))
async def recompute(
    service: RatingsContext,
    apply: bool = Query(default=True, description="Store the recomputed values (and publish changes)."),
    refresh_prior: bool = Query(default=True, description="Refresh the regional prior."),
    who: Principal = Depends(require("ratings.admin.recompute")),
) -> RecomputeOut:
    report = await service.recompute(who, apply=apply, refresh_prior=refresh_prior)
    return RecomputeOut(
        consistent=report.consistent, applied=report.applied, programs=report.programs, providers=report.providers,
        differences=report.differences, prior_before=report.prior_before, prior_after=report.prior_after,
        republished=report.republished,
    )
