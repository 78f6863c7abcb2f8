"""A parent's rating of a program after the enrolment ended.

docs/domain-rules.md, "Ratings": after an enrolment ends (completed or terminated) the parent may rate the
program **once**, on four scales of 0–100 % in steps of 10 (results achieved; teachers and group
size; materials and equipment; overall satisfaction). Editable for 30 days.

Rules and error codes:

* each scale is an integer 0..100 (``scale_out_of_range``) and a multiple of 10
  (``scale_not_step_of_10``); a non-integer value is ``scale_invalid`` (booleans are not
  numbers here); all four scales are required (``scale_missing``); unknown keys are rejected
  (``unknown_scale``). The error's ``code`` is the first problem, ``details["errors"]`` lists
  all ``{field, code}``;
* an optional comment: surrounding whitespace stripped, empty → no comment, at most
  :data:`COMMENT_MAX_LENGTH` characters after stripping (``comment_too_long``);
* eligibility: the enrolment is known to ratings and finished (``not_eligible`` — an unknown
  enrolment gets the same code, revealing nothing), the rater is the parent account the
  enrolment's ``ended`` event names (``not_your_enrolment``), and it was not rated yet
  (``already_rated``: edit instead); only that parent edits the rating;
* edits: allowed while ``now < first submission + 30 days`` (timestamps UTC), then the rating
  is final (``rating_final``). The window is not restarted by edits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .errors import DomainError

SCALE_MIN = 0
SCALE_MAX = 100
SCALE_STEP = 10
COMMENT_MAX_LENGTH = 2000
EDIT_WINDOW = timedelta(days=30)


class Scale(StrEnum):
    RESULTS = "results"
    TEACHERS_AND_GROUP = "teachers_and_group"
    MATERIALS_AND_EQUIPMENT = "materials_and_equipment"
    OVERALL_SATISFACTION = "overall_satisfaction"


SCALES: tuple[Scale, ...] = tuple(Scale)
_SCALE_NAMES = frozenset(s.value for s in SCALES)


def _scale_error(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "scale_invalid"
    if not SCALE_MIN <= value <= SCALE_MAX:
        return "scale_out_of_range"
    if value % SCALE_STEP:
        return "scale_not_step_of_10"
    return None


def _raise_first(errors: list[dict[str, str]]) -> None:
    if errors:
        raise DomainError(errors[0]["code"], "the rating is invalid", errors=errors)


@dataclass(frozen=True, slots=True)
class Scores:
    """The four scale values of one rating (percent, 0..100, steps of 10)."""

    results: int
    teachers_and_group: int
    materials_and_equipment: int
    overall_satisfaction: int

    def __post_init__(self) -> None:
        errors = []
        for scale in SCALES:
            code = _scale_error(getattr(self, scale.value))
            if code:
                errors.append({"field": scale.value, "code": code})
        _raise_first(errors)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Scores":
        errors = [{"field": str(k), "code": "unknown_scale"} for k in values if k not in _SCALE_NAMES]
        for scale in SCALES:
            if scale.value not in values:
                errors.append({"field": scale.value, "code": "scale_missing"})
            else:
                code = _scale_error(values[scale.value])
                if code:
                    errors.append({"field": scale.value, "code": code})
        _raise_first(errors)
        return cls(**{scale.value: values[scale.value] for scale in SCALES})

    def as_tuple(self) -> tuple[int, int, int, int]:
        """Values in :data:`SCALES` order."""
        return (self.results, self.teachers_and_group, self.materials_and_equipment, self.overall_satisfaction)

    def as_dict(self) -> dict[str, int]:
        return dict(zip((s.value for s in SCALES), self.as_tuple(), strict=True))

    @property
    def total(self) -> int:
        """The sum of the four scales (the review's overall value is ``total / 4``)."""
        return sum(self.as_tuple())


def normalise_comment(comment: str | None) -> str | None:
    """Strip the comment; empty → ``None``; longer than the limit → ``comment_too_long``."""
    if comment is None:
        return None
    text = comment.strip()
    if len(text) > COMMENT_MAX_LENGTH:
        raise DomainError(
            "comment_too_long",
            f"the comment is longer than {COMMENT_MAX_LENGTH} characters",
            errors=[{"field": "comment", "code": "comment_too_long"}],
            length=len(text),
        )
    return text or None


@dataclass(frozen=True, slots=True)
class RatableEnrolment:
    """What ratings knows about an enrolment (from the navigator's enrolment events)."""

    enrolment_id: str
    certificate_id: str
    parent_id: str  # the account allowed to rate
    program_id: str
    provider_id: str
    finished: bool  # ended (completed, or terminated and past its last day)


@dataclass(frozen=True, slots=True)
class Rating:
    enrolment_id: str
    certificate_id: str
    program_id: str
    provider_id: str
    rater_id: str
    scores: Scores
    comment: str | None
    submitted_at: datetime
    updated_at: datetime
    version: int = 1  # increases with every edit (optimistic concurrency, event ordering)

    @property
    def editable_until(self) -> datetime:
        return self.submitted_at + EDIT_WINDOW

    def is_final(self, now: datetime) -> bool:
        return now >= self.editable_until


def check_can_rate(enrolment: RatableEnrolment | None, rater_id: str, existing: Rating | None) -> None:
    """Raise ``not_eligible`` / ``not_your_enrolment`` / ``already_rated`` (in this order of
    checking, except that an unknown enrolment is ``not_eligible`` straight away)."""
    if enrolment is None:
        raise DomainError("not_eligible", "the enrolment has not ended or is unknown")
    if enrolment.parent_id != rater_id:
        raise DomainError("not_your_enrolment", "the enrolment is not one of your child's")
    if not enrolment.finished:
        raise DomainError("not_eligible", "the enrolment has not ended", enrolment_id=enrolment.enrolment_id)
    if existing is not None:
        raise DomainError(
            "already_rated", "this enrolment is already rated: edit the rating instead", enrolment_id=enrolment.enrolment_id
        )


def submit(
    *,
    enrolment: RatableEnrolment | None,
    rater_id: str,
    existing: Rating | None,
    scores: Scores,
    comment: str | None,
    now: datetime,
) -> Rating:
    """The first rating of a finished enrolment by its parent."""
    check_can_rate(enrolment, rater_id, existing)
    assert enrolment is not None
    return Rating(
        enrolment_id=enrolment.enrolment_id,
        certificate_id=enrolment.certificate_id,
        program_id=enrolment.program_id,
        provider_id=enrolment.provider_id,
        rater_id=rater_id,
        scores=scores,
        comment=normalise_comment(comment),
        submitted_at=now,
        updated_at=now,
    )


def edit(
    rating: Rating,
    *,
    rater_id: str,
    scores: Scores,
    comment: str | None,
    now: datetime,
) -> Rating:
    """Change a rating within 30 days of its first submission (``rating_final`` after that,
    ``not_your_enrolment`` for someone else's rating). An edit that changes nothing returns
    the rating unchanged (same version)."""
    if rating.rater_id != rater_id:
        raise DomainError("not_your_enrolment", "the rating is not one of your child's")
    if rating.is_final(now):
        raise DomainError(
            "rating_final", "ratings can be edited for 30 days only", editable_until=rating.editable_until.isoformat()
        )
    text = normalise_comment(comment)
    if scores == rating.scores and text == rating.comment:
        return rating
    return replace(rating, scores=scores, comment=text, updated_at=now, version=rating.version + 1)
