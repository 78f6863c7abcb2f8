"""The public API's calls behind the agreements pages (billing's agreements between providers and
payer municipalities), with the caller's own token: an operator concludes, changes the limit of
and ends the agreements of its municipality (the region's: any); a provider reads its own."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .client import GatewayApi


def _id(value: str) -> str:
    return quote(str(value), safe="")


async def agreements(api: GatewayApi, token: str, **filters: str) -> list[dict[str, Any]]:
    """Every agreement the caller may read, by number (at most 5 000)."""
    return await api.all_items("billing/agreements", token=token, params={"limit": 200, **filters}, most_pages=25)


async def conclude(api: GatewayApi, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    return await api.request("POST", "billing/agreements", token=token, json=body, headers={"Idempotency-Key": key})


async def set_limit(api: GatewayApi, token: str, agreement_id: str, limit_kopecks: int) -> dict[str, Any]:
    return await api.request("PUT", f"billing/agreements/{_id(agreement_id)}/limit", token=token,
                             json={"limit_kopecks": limit_kopecks})


async def end(api: GatewayApi, token: str, agreement_id: str) -> dict[str, Any]:
    return await api.request("POST", f"billing/agreements/{_id(agreement_id)}/end", token=token, json={})
