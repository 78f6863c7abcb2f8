"""The per-direction cap: how many seat-holding programs of one direction (technical,
artistic, ...) a certificate may have at once (docs/domain-rules.md, "Per-direction cap").

Where the number lives: billing's ``caps`` row of the period and municipality
(``direction_cap``, empty = no cap) is the only authority, set by the regional operator with the
other caps of the period. Billing applies it when it decides a reservation and rejects an
enrolment over the cap with ``direction_cap_reached``; the navigator keeps no number of its
own and learns the outcome from that rejection (its enrolment saga ends the enrolment with
that reason).

The rule: a new enrolment is over the cap when the certificate already holds ``cap`` seats in
the module's direction (the new one would be the ``cap + 1``-th).
"""

from __future__ import annotations

__all__ = ["direction_cap_reached"]


def direction_cap_reached(holding_in_direction: int, cap: int | None) -> bool:
    """Whether a certificate already holding ``holding_in_direction`` seats of a direction may
    not take one more under ``cap`` (``None``: no cap)."""
    if isinstance(holding_in_direction, bool) or not isinstance(holding_in_direction, int) or holding_in_direction < 0:
        raise ValueError(f"holding_in_direction must be a non-negative integer, got {holding_in_direction!r}")
    return cap is not None and holding_in_direction >= cap
