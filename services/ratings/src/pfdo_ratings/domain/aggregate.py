"""Rating aggregates per program and per provider, and the shrunk score used for ranking.

docs/domain-rules.md, "Ratings": aggregates per program and per provider (count, mean per scale, and a
shrunk score that does not let 1 review beat 200) feed the navigator's ranking.

**State.** An :class:`AggregateState` holds only integers: the number of ratings and the sum of
each scale. It is updated incrementally (:meth:`~AggregateState.add`,
:meth:`~AggregateState.replace` for an edit, :meth:`~AggregateState.remove`) or recomputed
from scratch (:func:`recompute`); integer arithmetic makes both give identical states in any
order. Means are exact :class:`~fractions.Fraction`\\ s; rounding happens only at presentation
(:func:`present`, half up).

**Shrunk score.** A review's value is the mean of its four scales, ``x = total / 4``. The
shrunk (Bayesian-average) score of an aggregate of ``n`` reviews is::

    shrunk = (m·C + Σx) / (m + n)

with ``C`` the regional mean review value (the prior) and ``m`` the prior weight in
pseudo-reviews, :data:`DEFAULT_PRIOR_WEIGHT` = 10: a program needs about ten reviews before its
own mean counts as much as the region's. With ``C = 70``: one review of 100 scores
``(700 + 100) / 11 ≈ 72.7``; two hundred reviews averaging 90 score
``(700 + 18 000) / 210 ≈ 89.0``, so the single review does not outrank them. With no reviews the
score is ``C``. ``C`` comes from the aggregate of all ratings in the region
(:func:`regional_prior`), falling back to :data:`DEFAULT_PRIOR_MEAN` while the region has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .errors import DomainError
from .rating import SCALES, Scale, Scores

DEFAULT_PRIOR_WEIGHT = 10
DEFAULT_PRIOR_MEAN = Fraction(70)
_SCALE_COUNT = len(SCALES)


@dataclass(frozen=True, slots=True)
class Prior:
    """The shrinkage prior: ``weight`` pseudo-reviews (m) of value ``mean`` (C)."""

    weight: int = DEFAULT_PRIOR_WEIGHT
    mean: Fraction = DEFAULT_PRIOR_MEAN

    def __post_init__(self) -> None:
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) or self.weight < 0:
            raise ValueError("the prior weight is a non-negative integer")
        if not 0 <= self.mean <= 100:
            raise ValueError("the prior mean is within 0..100")


@dataclass(frozen=True, slots=True)
class AggregateState:
    """Count and integer sums per scale (in :data:`SCALES` order)."""

    count: int = 0
    sums: tuple[int, int, int, int] = (0, 0, 0, 0)

    def __post_init__(self) -> None:
        if self.count < 0 or any(s < 0 for s in self.sums):
            raise DomainError("aggregate_underflow", "the aggregate would become negative")
        if self.count == 0 and any(self.sums):
            raise DomainError("aggregate_underflow", "an empty aggregate has non-zero sums")

    # -------------------------------------------------------------- updates
    def add(self, scores: Scores) -> "AggregateState":
        """A new rating."""
        return AggregateState(self.count + 1, _plus(self.sums, scores.as_tuple()))

    def remove(self, scores: Scores) -> "AggregateState":
        """A rating withdrawn (e.g. removed by moderation). ``aggregate_underflow`` if the state
        cannot contain it."""
        return AggregateState(self.count - 1, _minus(self.sums, scores.as_tuple()))

    def replace(self, old: Scores, new: Scores) -> "AggregateState":
        """A rating edited from ``old`` to ``new`` (the count is unchanged)."""
        if self.count == 0:
            raise DomainError("aggregate_underflow", "cannot edit a rating of an empty aggregate")
        return AggregateState(self.count, _plus(_minus(self.sums, old.as_tuple()), new.as_tuple()))

    def apply(self, old: Scores | None, new: Scores | None) -> "AggregateState":
        """One change of one rating: add (``old is None``), edit, or remove (``new is None``)."""
        if old is None and new is None:
            return self
        if old is None:
            assert new is not None
            return self.add(new)
        if new is None:
            return self.remove(old)
        return self.replace(old, new)

    def merge(self, other: "AggregateState") -> "AggregateState":
        """The aggregate of two disjoint sets of ratings (e.g. programs → provider, region)."""
        return AggregateState(self.count + other.count, _plus(self.sums, other.sums))

    # -------------------------------------------------------------- exact figures
    def sum_of(self, scale: Scale) -> int:
        return self.sums[SCALES.index(scale)]

    def mean(self, scale: Scale) -> Fraction | None:
        """Exact mean of one scale, ``None`` without ratings."""
        return Fraction(self.sum_of(scale), self.count) if self.count else None

    @property
    def value_sum(self) -> Fraction:
        """Σx: the sum over reviews of each review's value (mean of its four scales)."""
        return Fraction(sum(self.sums), _SCALE_COUNT)

    @property
    def overall_mean(self) -> Fraction | None:
        """The plain mean review value, ``None`` without ratings."""
        return self.value_sum / self.count if self.count else None

    def shrunk(self, prior: Prior = Prior()) -> Fraction:
        """``(m·C + Σx) / (m + n)``; equals ``C`` without ratings (and the plain mean if
        ``m = 0``)."""
        denominator = prior.weight + self.count
        if denominator == 0:
            return prior.mean
        return (prior.weight * prior.mean + self.value_sum) / denominator


def _plus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    x = tuple(i + j for i, j in zip(a, b, strict=True))
    return x  # type: ignore[return-value]


def _minus(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, int, int, int]:
    x = tuple(i - j for i, j in zip(a, b, strict=True))
    if any(v < 0 for v in x):
        raise DomainError("aggregate_underflow", "removing a rating that the aggregate cannot contain")
    return x  # type: ignore[return-value]


EMPTY = AggregateState()


def recompute(ratings: Iterable[Scores]) -> AggregateState:
    """The aggregate of ``ratings`` from scratch."""
    count = 0
    sums = [0, 0, 0, 0]
    for scores in ratings:
        count += 1
        for i, value in enumerate(scores.as_tuple()):
            sums[i] += value
    return AggregateState(count, (sums[0], sums[1], sums[2], sums[3]))


def regional_prior(region: AggregateState, weight: int = DEFAULT_PRIOR_WEIGHT) -> Prior:
    """The prior whose mean is the region's mean review value (``DEFAULT_PRIOR_MEAN`` while the
    region has no ratings)."""
    mean = region.overall_mean
    return Prior(weight=weight, mean=DEFAULT_PRIOR_MEAN if mean is None else mean)


def ranking_key(state: AggregateState, prior: Prior) -> tuple[Fraction, int]:
    """Sort key (descending) for the navigator: the shrunk score, then more reviews first."""
    return (state.shrunk(prior), state.count)


def round_half_up(value: Fraction, places: int = 1) -> Decimal:
    """Round an exact value half up to ``places`` decimals (presentation only)."""
    quantum = Decimal(1).scaleb(-places)
    scaled = value * 10**places
    floor = scaled.numerator // scaled.denominator
    remainder = scaled - floor
    result = floor + (1 if remainder >= Fraction(1, 2) else 0)
    return (Decimal(result) * quantum).quantize(quantum, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class AggregateView:
    """Presentation figures (the event payload / API response)."""

    count: int
    means: dict[str, Decimal | None]
    overall_mean: Decimal | None
    shrunk_score: Decimal


def present(state: AggregateState, prior: Prior = Prior(), places: int = 1) -> AggregateView:
    """Round the exact figures half up to ``places`` decimals."""

    def r(value: Fraction | None) -> Decimal | None:
        return None if value is None else round_half_up(value, places)

    return AggregateView(
        count=state.count,
        means={scale.value: r(state.mean(scale)) for scale in SCALES},
        overall_mean=r(state.overall_mean),
        shrunk_score=round_half_up(state.shrunk(prior), places),
    )
