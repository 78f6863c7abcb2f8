"""A parent's rating (docs/domain-rules.md, "Ratings")."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pfdo_ratings.domain.errors import DomainError
from pfdo_ratings.domain.rating import (
    COMMENT_MAX_LENGTH,
    RatableEnrolment,
    Scores,
    edit,
    normalise_comment,
    submit,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
ENDED = RatableEnrolment("e1", "c1", "parent1", "prog1", "prov1", finished=True)
GOOD = Scores(90, 80, 70, 100)


def first(**kw):  # type: ignore[no-untyped-def]
    args = dict(enrolment=ENDED, rater_id="parent1", existing=None, scores=GOOD, comment=None, now=NOW)
    args.update(kw)
    return submit(**args)


def err(fn) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        fn()
    return exc.value


def test_scores_validation() -> None:
    assert Scores(0, 10, 50, 100).total == 160
    assert err(lambda: Scores(110, 0, 0, 0)).code == "scale_out_of_range"
    assert err(lambda: Scores(-10, 0, 0, 0)).code == "scale_out_of_range"
    assert err(lambda: Scores(55, 0, 0, 0)).code == "scale_not_step_of_10"
    assert err(lambda: Scores(True, 0, 0, 0)).code == "scale_invalid"  # type: ignore[arg-type]
    assert err(lambda: Scores(50.0, 0, 0, 0)).code == "scale_invalid"  # type: ignore[arg-type]
    e = err(lambda: Scores(0, 105, 0, 15))
    assert e.details["errors"] == [
        {"field": "teachers_and_group", "code": "scale_out_of_range"},
        {"field": "overall_satisfaction", "code": "scale_not_step_of_10"},
    ]


def test_scores_from_mapping() -> None:
    s = Scores.from_mapping(GOOD.as_dict())
    assert s == GOOD
    e = err(lambda: Scores.from_mapping({"results": 10, "stars": 5, "teachers_and_group": 10, "materials_and_equipment": 10}))
    assert {(x["field"], x["code"]) for x in e.details["errors"]} == {
        ("stars", "unknown_scale"),
        ("overall_satisfaction", "scale_missing"),
    }


def test_comment_limits() -> None:
    assert normalise_comment("   ") is None
    assert normalise_comment("  ok \n") == "ok"
    assert normalise_comment(" " + "я" * COMMENT_MAX_LENGTH + " ") == "я" * COMMENT_MAX_LENGTH
    assert err(lambda: normalise_comment("я" * (COMMENT_MAX_LENGTH + 1))).code == "comment_too_long"
    assert err(lambda: first(comment="x" * 2001)).code == "comment_too_long"


def test_submit() -> None:
    r = first(comment=" Great teachers ")
    assert (r.program_id, r.provider_id, r.comment, r.version) == ("prog1", "prov1", "Great teachers", 1)
    assert r.editable_until == NOW + timedelta(days=30)


def test_eligibility_codes() -> None:
    assert err(lambda: first(enrolment=None)).code == "not_eligible"
    assert err(lambda: first(enrolment=RatableEnrolment("e1", "c1", "parent1", "p", "v", finished=False))).code == "not_eligible"
    assert err(lambda: first(rater_id="parent2")).code == "not_your_enrolment"
    # someone else's unfinished enrolment: reveal nothing about its state
    assert err(lambda: first(enrolment=RatableEnrolment("e1", "c1", "parent1", "p", "v", False), rater_id="x")).code == "not_your_enrolment"
    assert err(lambda: first(existing=first())).code == "already_rated"


def test_edit_within_30_days_then_final() -> None:
    r = first()
    better = Scores(100, 100, 100, 100)
    edited = edit(r, rater_id="parent1", scores=better, comment="after all", now=NOW + timedelta(days=29, hours=23))
    assert (edited.scores, edited.comment, edited.version, edited.submitted_at) == (better, "after all", 2, NOW)
    # the window runs from the first submission, edits do not restart it
    e = err(lambda: edit(edited, rater_id="parent1", scores=GOOD, comment=None, now=NOW + timedelta(days=30)))
    assert e.code == "rating_final"
    assert err(lambda: edit(r, rater_id="parent2", scores=GOOD, comment=None, now=NOW)).code == "not_your_enrolment"


def test_edit_without_change_keeps_version() -> None:
    r = first(comment="ok")
    assert edit(r, rater_id="parent1", scores=GOOD, comment=" ok ", now=NOW + timedelta(days=1)) is r
