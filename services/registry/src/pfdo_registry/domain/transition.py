"""The result of a state machine move: the new state and the domain event to publish.

The domain never publishes anything itself; the service layer writes ``event`` to the outbox in
the same transaction as ``state``. ``event`` is ``None`` for changes that are not announced
(e.g. editing a draft program nobody outside the provider can see).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Transition(Generic[T]):
    """New aggregate state plus the name of the domain event it causes (or ``None``)."""

    state: T
    event: str | None
