"""What every billing route gets: the service context (from the composition root) and its problem answers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.app_state import from_app_state
from pfdo_plumbing.http.errors import problems

from pfdo_billing.service.context import Billing

BillingContext = Annotated[Billing, Depends(from_app_state("billing", Billing))]
"""The billing context the composition root keeps on ``app.state.billing``."""

SIGNED_IN = ("unauthenticated", "forbidden", "validation_error")
"""Codes any signed-in call may answer with (rate limits and outages are documented for every operation)."""


def service_problems(*codes: str) -> dict[int | str, dict]:
    """The ``responses=`` of an operation: the problem answers it can give, with this service's texts."""
    return problems(*codes, service="billing")


NOBODY = uuid.UUID(int=0)
"""A provider filter no row matches."""


def provider_filter(who: Principal, asked: uuid.UUID | None) -> uuid.UUID | None:
    """The provider a list is narrowed to: whatever others ask for; a provider only its own (asking
    for another's gets a filter no row matches, so an empty page)."""
    if who.role != Role.PROVIDER:
        return asked
    if (asked is not None and not who.is_provider(asked)) or not who.provider_id:
        return NOBODY
    return uuid.UUID(who.provider_id)
