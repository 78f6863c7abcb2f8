"""What every registry route gets: the service context (from the composition root) and its problem answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pfdo_plumbing.http.app_state import from_app_state
from pfdo_plumbing.http.errors import problems

from ..service.context import Registry

RegistryContext = Annotated[Registry, Depends(from_app_state("registry", Registry))]
"""The registry context the composition root keeps on ``app.state.registry``."""

SIGNED_IN = ("unauthenticated", "forbidden", "validation_error")
"""Codes any signed-in call may answer with (rate limits and outages are documented for every operation)."""


def service_problems(*codes: str) -> dict[int | str, dict]:
    """The ``responses=`` of an operation: the problem answers it can give, with this service's texts."""
    return problems(*codes, service="registry")
