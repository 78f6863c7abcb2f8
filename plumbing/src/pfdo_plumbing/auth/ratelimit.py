"""The per-subject rate limit, checked inside each service after the token's signature.

The gateway limits per token (a hash of it): it cannot verify signatures, so it must not trust
the ``sub`` a token claims. The budget of a *subject* (all tokens of one account together) can only
be kept where the signature is verified, here: a forged token is refused with 401 before it is
counted, so nobody spends another's budget.

GCRA (the generic cell rate algorithm, the leaky bucket nginx's ``limit_req ... burst nodelay``
also implements): one number per subject, the theoretical arrival time of its next request. At
most ``1 + burst`` requests pass at once, then one per ``1 / rate`` seconds.

The state is per process: with N instances of a service behind the gateway a subject may reach N
times the rate (and the gateway's per-token limit per gateway instance the same). Memory is
bounded: subjects whose bucket has drained are forgotten first, and past ``max_subjects`` the
table starts again empty (a limit that forgets is the safe failure; it never refuses wrongly).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class SubjectLimiter:
    def __init__(self, rate_per_s: float, burst: int, *, max_subjects: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 0:
            raise ValueError("rate_per_s must be positive and burst not negative")
        self.interval = 1.0 / rate_per_s
        self.tolerance = (burst + 1) * self.interval
        self.max_subjects = max_subjects
        self.clock = clock
        self._next: dict[str, float] = {}

    def retry_after(self, subject: str) -> float | None:
        """Count a request of ``subject``: None when it may pass, else the seconds until one would."""
        now = self.clock()
        arrival = max(self._next.get(subject, now), now) + self.interval
        if arrival - now > self.tolerance:
            return arrival - now - self.tolerance
        if subject not in self._next and len(self._next) >= self.max_subjects:
            self._forget(now)
        self._next[subject] = arrival
        return None

    def _forget(self, now: float) -> None:
        self._next = {s: t for s, t in self._next.items() if t > now}
        if len(self._next) >= self.max_subjects:
            self._next.clear()
