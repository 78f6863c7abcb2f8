"""The public API's calls behind the operator's money pages, all with the operator's own token:
program periods with their nominals and caps (billing), the month's journal (navigator: frozen or
open; billing: applied, closable), the month's advance and close with its progress (billing), and
the ledger's reconciliation (billing).

Who may call what is the platform's access policy: both operator roles manage a period's
nominals and caps (a municipal operator for its own municipality); only the regional operator
opens and closes a period, freezes a month's journal, issues the advances and closes a month.
Changes carry an ``Idempotency-Key`` made when the form was drawn."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .client import GatewayApi

CLOSE_TIMEOUT_S = 900.0
"""The longest wait for a month's close: it runs chunk by chunk in one call (resumable)."""


def _id(value: str) -> str:
    return quote(str(value), safe="")


# ---- periods -------------------------------------------------------------------------------------

async def periods(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    """Every program period, oldest first (a region has a few: one a school year)."""
    return await api.all_items("billing/periods", token=token, params={"limit": 200}, most_pages=50)


async def create_period(api: GatewayApi, token: str, body: dict[str, str], key: str) -> dict[str, Any]:
    return await api.request("POST", "billing/periods", token=token, json=body, headers={"Idempotency-Key": key})


async def nominals(api: GatewayApi, token: str, period_id: str) -> list[dict[str, Any]]:
    """The nominals set, per municipality and age group (a municipal operator: its own)."""
    return (await api.get(f"billing/periods/{_id(period_id)}/nominals", token=token))["nominals"]


async def caps(api: GatewayApi, token: str, period_id: str) -> list[dict[str, Any]]:
    """The caps set per municipality with what is used of them (a municipal operator: its own)."""
    return (await api.get(f"billing/periods/{_id(period_id)}/caps", token=token))["caps"]


async def set_nominals(api: GatewayApi, token: str, period_id: str, rows: list[dict[str, Any]]) -> None:
    await api.request("PUT", f"billing/periods/{_id(period_id)}/nominals", token=token, json={"nominals": rows})


async def set_caps(api: GatewayApi, token: str, period_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return await api.request("PUT", f"billing/periods/{_id(period_id)}/caps", token=token, json={"caps": rows})


async def open_period(api: GatewayApi, token: str, period_id: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"billing/periods/{_id(period_id)}/open", token=token,
                             headers={"Idempotency-Key": key})


async def close_period(api: GatewayApi, token: str, period_id: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"billing/periods/{_id(period_id)}/close", token=token,
                             headers={"Idempotency-Key": key})


# ---- months ---------------------------------------------------------------------------------------

async def journal_month(api: GatewayApi, token: str, month: str) -> dict[str, Any]:
    """The navigator's side: is the month's journal open or frozen (and when, by whom)."""
    return await api.get(f"navigator/attendance/months/{_id(month)}", token=token)


async def billing_journal(api: GatewayApi, token: str, month: str) -> dict[str, Any]:
    """Billing's side: the month's attendance events published and applied, may the month close."""
    return await api.get(f"billing/months/{_id(month)}/journal", token=token)


async def close_progress(api: GatewayApi, token: str, month: str, municipality: str | None = None) -> dict[str, Any]:
    """The close's progress: region-wide, or of one municipality's close."""
    return await api.get(f"billing/months/{_id(month)}/close", token=token,
                         params={"municipality": municipality} if municipality else None)


async def final_orders(api: GatewayApi, token: str, month: str) -> list[dict[str, Any]]:
    """The month's final payment orders (the first 1000: one per provider and payer)."""
    page = await api.get("billing/payment-orders", token=token, params={"month": month, "kind": "final", "limit": 1000})
    return page["items"]


async def freeze_journal(api: GatewayApi, token: str, month: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"navigator/attendance/months/{_id(month)}/freeze", token=token,
                             headers={"Idempotency-Key": key})


async def issue_advances(api: GatewayApi, token: str, month: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"billing/months/{_id(month)}/advance", token=token,
                             headers={"Idempotency-Key": key})


async def close_month(api: GatewayApi, token: str, month: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"billing/months/{_id(month)}/close", token=token,
                             headers={"Idempotency-Key": key}, timeout=CLOSE_TIMEOUT_S)


# ---- reconciliation -------------------------------------------------------------------------------

async def reconciliation(api: GatewayApi, token: str, period_id: str | None) -> dict[str, Any]:
    return await api.get("billing/reconciliation", token=token,
                         params={"period_id": period_id} if period_id else None)


async def municipalities(api: GatewayApi, token: str) -> dict[str, str]:
    """code -> name of the region's municipalities."""
    return await api.municipality_names(token)
