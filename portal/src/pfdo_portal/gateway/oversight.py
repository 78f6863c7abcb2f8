"""The public API's calls behind the operator's dashboard and disputes and the finance user's
register of payment orders, all with the signed-in person's own token. The API keeps a
municipal operator to the municipality (figures and disputes of another one are not given).

The dashboard's figures are counted by the services (``.../statistics...``): a region has
hundreds of thousands of children, the portal never pages through whole lists to draw a chart.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .client import GatewayApi, Params

ORDERS_PAGE = 1000
"""Payment orders asked for in one call (the API's largest page)."""
ORDERS_MOST = 20_000
"""The register stops reading after this many orders (it says so on the page)."""


def _filters(**values: str | int | None) -> Params:
    return {name: value for name, value in values.items() if value not in (None, "")}


# ---- the dashboard ---------------------------------------------------------------------------

async def registry_figures(api: GatewayApi, token: str, *, days: int, municipality: str | None) -> dict[str, Any]:
    return await api.get("registry/statistics", token=token, params=_filters(days=days, municipality=municipality))


async def enrolment_figures(api: GatewayApi, token: str, *, days: int, municipality: str | None) -> dict[str, Any]:
    return await api.get("navigator/statistics/enrolments", token=token,
                         params=_filters(days=days, municipality=municipality))


async def money_figures(api: GatewayApi, token: str, *, months: int, municipality: str | None) -> dict[str, Any]:
    """``months`` months from five months before the current one (billing's calendar)."""
    return await api.get("billing/statistics/months", token=token,
                         params=_filters(months=months, municipality=municipality))


async def municipalities(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    return (await api.get("registry/municipalities", token=token, params={"limit": 200}))["items"]


# ---- disputes --------------------------------------------------------------------------------

async def disputes(api: GatewayApi, token: str, *, state: str | None = None) -> list[dict[str, Any]]:
    """The disputes in scope, oldest first (every page: a municipality's disputes are few)."""
    return await api.all_items("navigator/disputes", token=token, params=_filters(state=state, limit=1000))


async def resolve_dispute(api: GatewayApi, token: str, dispute_id: str, *, upheld: bool, note: str | None,
                          key: str) -> dict[str, Any]:
    return await api.request("POST", f"navigator/disputes/{quote(dispute_id, safe='')}/resolve", token=token,
                             json={"upheld": upheld, "note": note}, headers={"Idempotency-Key": key})


async def enrolment(api: GatewayApi, token: str, enrolment_id: str) -> dict[str, Any]:
    return await api.get(f"navigator/enrolments/{quote(enrolment_id, safe='')}", token=token)


# ---- payment orders --------------------------------------------------------------------------

async def payment_orders(api: GatewayApi, token: str, *, month: str | None, kind: str | None,
                         provider_id: str | None) -> tuple[list[dict[str, Any]], bool]:
    """The orders matching the filters, page after page, and whether the reading stopped at
    :data:`ORDERS_MOST` before the end."""
    found: list[dict[str, Any]] = []
    async for page in api.pages("billing/payment-orders", token=token, params=_filters(
            month=month, kind=kind, provider_id=provider_id, limit=ORDERS_PAGE)):
        found.extend(page["items"])
        if page.get("next_cursor") and len(found) >= ORDERS_MOST:
            return found, True
    return found, False


async def report_treasury_status(api: GatewayApi, token: str, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The finance system's status of an order (accepted, paid, returned with the reason); idempotent."""
    return await api.request("POST", f"billing/payment-orders/{quote(order_id, safe='')}/treasury-status",
                             token=token, json=body)


async def providers(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    """The region's providers (every page), for their names and the provider filter."""
    # 200 a page, 25 pages: at most 5 000 providers
    return await api.all_items("registry/providers", token=token, params=_filters(limit=200), most_pages=25)
