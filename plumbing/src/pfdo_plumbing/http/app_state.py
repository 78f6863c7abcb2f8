"""What the routes of a service get from its composition root: the objects kept on ``app.state``.

A service's routers are module-level (``router = APIRouter()`` with top-level route functions);
the composition root builds the service context once and puts it on ``app.state.<name>``. A route
asks for it with a typed dependency::

    BillingContext = Annotated[Billing, Depends(from_app_state("billing", Billing))]

    @router.get("/periods")
    async def list_periods(b: BillingContext) -> dict: ...

The dependency reads only the request, so it adds nothing to the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

T = TypeVar("T")


def from_app_state(name: str, kind: type[T]) -> Callable[[Request], T]:
    """A dependency answering ``request.app.state.<name>``, which must be a ``kind``."""

    def provide(request: Request) -> T:
        value = getattr(request.app.state, name, None)
        if not isinstance(value, kind):
            raise RuntimeError(f"app.state.{name} is not set to a {kind.__name__}: the composition root sets it")
        return value

    provide.__name__ = f"app_state_{name}"
    return provide
