"""The per-subject limiter (GCRA): 1 + burst at once, then one per interval; bounded memory."""

from __future__ import annotations

import pytest

from pfdo_plumbing.auth.ratelimit import SubjectLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate_per_subject() -> None:
    clock = Clock()
    limiter = SubjectLimiter(2.0, 3, clock=clock)
    assert [limiter.retry_after("a") for _ in range(4)] == [None] * 4
    wait = limiter.retry_after("a")
    assert wait == pytest.approx(0.5)
    assert limiter.retry_after("b") is None  # another subject has its own budget
    clock.now += 0.5
    assert limiter.retry_after("a") is None and limiter.retry_after("a") is not None
    clock.now += 10  # drained: the whole burst again
    assert [limiter.retry_after("a") for _ in range(4)] == [None] * 4


def test_refused_requests_are_not_counted_and_memory_is_bounded() -> None:
    clock = Clock()
    limiter = SubjectLimiter(1.0, 0, max_subjects=3, clock=clock)
    assert limiter.retry_after("a") is None
    for _ in range(5):
        assert limiter.retry_after("a") == pytest.approx(1.0)  # waiting does not grow with refusals
    for name in ("b", "c", "d", "e"):
        assert limiter.retry_after(name) is None
    assert len(limiter._next) <= 3  # noqa: SLF001
