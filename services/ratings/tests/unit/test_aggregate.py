"""Aggregates and the shrunk score (docs/domain-rules.md, "Ratings": 1 review must not beat 200)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfdo_ratings.domain.aggregate import (
    EMPTY,
    AggregateState,
    Prior,
    ranking_key,
    present,
    recompute,
    regional_prior,
    round_half_up,
)
from pfdo_ratings.domain.errors import DomainError
from pfdo_ratings.domain.rating import Scale, Scores

scale_values = st.integers(0, 10).map(lambda v: v * 10)
scores_st = st.builds(Scores, scale_values, scale_values, scale_values, scale_values)
REGION = Prior(weight=10, mean=Fraction(70))


def uniform(v: int) -> Scores:
    return Scores(v, v, v, v)


def test_one_review_of_100_does_not_outrank_200_reviews_averaging_90() -> None:
    single = recompute([uniform(100)])
    many = recompute([uniform(80), uniform(100)] * 100)  # 200 reviews, mean 90
    assert many.count == 200 and many.overall_mean == 90
    assert single.overall_mean == 100 > many.overall_mean  # the plain mean would rank it first
    assert single.shrunk(REGION) == Fraction(800, 11)  # ≈ 72.7
    assert many.shrunk(REGION) == Fraction(18700, 210)  # ≈ 89.0
    assert ranking_key(many, REGION) > ranking_key(single, REGION)
    assert present(single, REGION).shrunk_score == Decimal("72.7")
    assert present(many, REGION).shrunk_score == Decimal("89.0")


def test_counts_sums_and_means() -> None:
    s = EMPTY.add(Scores(100, 50, 0, 70)).add(Scores(90, 60, 10, 80))
    assert s.count == 2 and s.sums == (190, 110, 10, 150)
    assert s.mean(Scale.RESULTS) == 95 and s.mean(Scale.MATERIALS_AND_EQUIPMENT) == 5
    assert s.overall_mean == Fraction(460, 8)
    view = present(s, REGION)
    assert view.means == {
        "results": Decimal("95.0"),
        "teachers_and_group": Decimal("55.0"),
        "materials_and_equipment": Decimal("5.0"),
        "overall_satisfaction": Decimal("75.0"),
    }
    assert view.overall_mean == Decimal("57.5") and view.count == 2


def test_empty_aggregate() -> None:
    assert EMPTY.mean(Scale.RESULTS) is None and EMPTY.overall_mean is None
    assert EMPTY.shrunk(REGION) == 70
    assert present(EMPTY, REGION).means["results"] is None
    assert EMPTY.shrunk(Prior(weight=0, mean=Fraction(40))) == 40


def test_regional_prior() -> None:
    region = recompute([uniform(60), uniform(80)])
    assert regional_prior(region) == Prior(10, Fraction(70))
    assert regional_prior(EMPTY).mean == 70
    assert regional_prior(region, weight=5).weight == 5


def test_remove_and_underflow() -> None:
    s = EMPTY.add(uniform(50))
    assert s.remove(uniform(50)) == EMPTY
    with pytest.raises(DomainError) as exc:
        EMPTY.remove(uniform(0))
    assert exc.value.code == "aggregate_underflow"
    with pytest.raises(DomainError) as exc:
        s.remove(uniform(60))
    assert exc.value.code == "aggregate_underflow"
    with pytest.raises(DomainError) as exc:
        EMPTY.replace(uniform(0), uniform(10))
    assert exc.value.code == "aggregate_underflow"
    with pytest.raises(DomainError) as exc:
        AggregateState(0, (10, 0, 0, 0))
    assert exc.value.code == "aggregate_underflow"


def test_round_half_up() -> None:
    assert round_half_up(Fraction(1, 20), 1) == Decimal("0.1")  # 0.05 → 0.1 (not banker's 0.0)
    assert round_half_up(Fraction(25, 100), 1) == Decimal("0.3")
    assert round_half_up(Fraction(800, 11), 2) == Decimal("72.73")
    assert round_half_up(Fraction(100), 1) == Decimal("100.0")
    assert round_half_up(Fraction(2, 3), 0) == Decimal("1")


def test_provider_aggregate_is_the_merge_of_its_programs() -> None:
    a = recompute([uniform(10), uniform(90)])
    b = recompute([uniform(40)])
    assert a.merge(b) == recompute([uniform(10), uniform(90), uniform(40)])


# ------------------------------------------------------------------ properties
# An operation log over rating slots: ("put", slot, scores) adds or edits the slot's rating,
# ("del", slot) removes it if present.
ops_st = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 7), scores_st),
        st.tuples(st.just("del"), st.integers(0, 7)),
    ),
    max_size=60,
)


@settings(max_examples=300)
@given(ops_st)
def test_incremental_equals_recompute(ops: list) -> None:  # type: ignore[type-arg]
    state = EMPTY
    current: dict[int, Scores] = {}
    for op in ops:
        slot = op[1]
        old = current.get(slot)
        if op[0] == "put":
            new = op[2]
            state = state.apply(old, new)
            current[slot] = new
        elif old is not None:
            state = state.apply(old, None)
            del current[slot]
        assert state == recompute(current.values())
    final = recompute(current.values())
    assert state.shrunk(REGION) == final.shrunk(REGION)
    assert present(state, REGION) == present(final, REGION)


@given(st.lists(scores_st, max_size=40), st.randoms())
def test_order_independent(ratings: list[Scores], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(ratings)
    rnd.shuffle(shuffled)
    forward = EMPTY
    for s in ratings:
        forward = forward.add(s)
    backward = EMPTY
    for s in shuffled:
        backward = backward.add(s)
    assert forward == backward == recompute(shuffled)


@given(st.lists(scores_st, min_size=1, max_size=40), st.integers(0, 50), st.integers(0, 10).map(lambda v: v * 10))
def test_shrunk_lies_between_prior_and_mean(ratings: list[Scores], m: int, c: int) -> None:
    state = recompute(ratings)
    prior = Prior(m, Fraction(c))
    mean = state.overall_mean
    assert mean is not None
    assert min(mean, prior.mean) <= state.shrunk(prior) <= max(mean, prior.mean)
    if m == 0:
        assert state.shrunk(prior) == mean


@given(st.integers(1, 9), st.integers(100, 300))
def test_few_perfect_reviews_never_beat_many_good_ones(few: int, many: int) -> None:
    """With m = 10, C = 70: up to 9 perfect reviews stay below 100+ reviews averaging 90."""
    perfect = recompute([uniform(100)] * few)
    good = recompute([uniform(90)] * many)
    assert ranking_key(good, REGION) > ranking_key(perfect, REGION)
