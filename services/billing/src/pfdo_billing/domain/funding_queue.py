"""The municipality's yearly cap of funding certificates and its first-come queue.

docs/domain-rules.md, "Caps and the funding queue": a certificate becomes funding on its first
enrolment in a paid program, subject to the municipality's yearly cap; over the cap, the request
waits in a first-come queue with a visible position. A slot is counted for every active funding
certificate of the period (the period's opening counts them; each activation adds one).

**When a slot frees** (decided here): when a funding certificate turns out not to use the
period's money at all, i.e. nothing of the period is spent or reserved on it and it holds no live
paid contract, and either

* its funding was activated in this period by a request that then ended before the contract
  started (cancelled by the parent, declined by the provider, the hold expired), so the
  certificate never used the slot: it goes back to accounting use, its nominal returns to the
  budget, and it queues like anyone else if the family applies again; or
* it left the registry (closed as a duplicate or because the child left the region, or expired at
  18) with nothing spent this period: its unused nominal returns to the budget at once.

A funding certificate that spent money this period keeps its slot to the period's end (the money
was budgeted and used). Raising the cap frees slots too (operator). Freed slots admit waiting
requests in queue order, and every request still waiting whose position changed is told its new
position.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def frees_funding_slot(
    *, funding: bool, certificate_active: bool, activated_this_period: bool, live_paid_contracts: int,
    reserved_kopecks: int, spent_kopecks: int,
) -> bool:
    """Whether a certificate gives its funding slot of the period back (see the module docstring)."""
    if min(live_paid_contracts, reserved_kopecks, spent_kopecks) < 0:
        raise ValueError("counts and amounts are never negative")
    if not funding:
        return False
    if live_paid_contracts or reserved_kopecks or spent_kopecks:
        return False
    return activated_this_period or not certificate_active


def position_updates(published: Mapping[K, int | None], waiting_in_order: Sequence[K]) -> list[tuple[K, int]]:
    """Positions (1-based, queue order) of the waiting requests whose position differs from the one
    last published to the parent, in queue order."""
    return [(key, index) for index, key in enumerate(waiting_in_order, 1) if published.get(key) != index]


__all__ = ["frees_funding_slot", "position_updates"]
