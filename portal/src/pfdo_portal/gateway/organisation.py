"""The public API's calls behind a provider's cabinet, all with the provider's own token: the
organisation and its programs (registry), its payment orders (billing), the disputes on its marks
(navigator). Creations carry an ``Idempotency-Key``, so a form sent twice creates one thing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .client import GatewayApi


def _id(value: object) -> str:
    return quote(str(value), safe="")




# ---- the organisation ------------------------------------------------------------------------

async def provider(api: GatewayApi, token: str | None, provider_id: str) -> dict[str, Any]:
    return await api.get(f"registry/providers/{_id(provider_id)}", token=token)


async def register(api: GatewayApi, token: str | None, body: dict[str, Any], key: str) -> dict[str, Any]:
    return await api.request("POST", "registry/providers", token=token, json=body, headers={"Idempotency-Key": key})


async def municipalities(api: GatewayApi, token: str | None) -> list[dict[str, Any]]:
    return await api.all_items("registry/municipalities", token=token, params={"limit": 200})


# ---- programs and modules --------------------------------------------------------------------

async def programs(api: GatewayApi, token: str | None, provider_id: str) -> list[dict[str, Any]]:
    """The organisation's own programs (a provider is shown every certified program otherwise)."""
    return await api.all_items("registry/programs", token=token, params={"provider_id": provider_id, "limit": 500})


async def program(api: GatewayApi, token: str | None, program_id: str) -> dict[str, Any]:
    return await api.get(f"registry/programs/{_id(program_id)}", token=token)


async def history(api: GatewayApi, token: str | None, program_id: str) -> list[dict[str, Any]]:
    return await api.all_items(f"registry/programs/{_id(program_id)}/history", token=token, params={"limit": 500})


async def create_program(api: GatewayApi, token: str | None, body: dict[str, Any], key: str) -> dict[str, Any]:
    return await api.request("POST", "registry/programs", token=token, json=body, headers={"Idempotency-Key": key})


async def edit_program(api: GatewayApi, token: str | None, program_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return await api.request("PATCH", f"registry/programs/{_id(program_id)}", token=token, json=body)


async def add_module(api: GatewayApi, token: str | None, program_id: str, body: dict[str, Any],
                     key: str) -> dict[str, Any]:
    return await api.request("POST", f"registry/programs/{_id(program_id)}/modules", token=token, json=body,
                             headers={"Idempotency-Key": key})


async def replace_module(api: GatewayApi, token: str | None, program_id: str, module_id: str,
                         body: dict[str, Any]) -> dict[str, Any]:
    return await api.request("PUT", f"registry/programs/{_id(program_id)}/modules/{_id(module_id)}", token=token,
                             json=body)


async def remove_module(api: GatewayApi, token: str | None, program_id: str, module_id: str) -> dict[str, Any]:
    return await api.request("DELETE", f"registry/programs/{_id(program_id)}/modules/{_id(module_id)}", token=token)


async def submit(api: GatewayApi, token: str | None, program_id: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"registry/programs/{_id(program_id)}/submit", token=token,
                             headers={"Idempotency-Key": key})


# ---- money and disputes ----------------------------------------------------------------------

async def payment_orders(api: GatewayApi, token: str | None, provider_id: str) -> list[dict[str, Any]]:
    return await api.all_items("billing/payment-orders", token=token, params={"provider_id": provider_id, "limit": 1000})


async def payment_order(api: GatewayApi, token: str | None, order_id: str) -> dict[str, Any]:
    return await api.get(f"billing/payment-orders/{_id(order_id)}", token=token)


async def enrolments(api: GatewayApi, token: str | None) -> list[dict[str, Any]]:
    return await api.all_items("navigator/enrolments", token=token, params={"limit": 1000})


async def disputes(api: GatewayApi, token: str | None) -> list[dict[str, Any]]:
    return await api.all_items("navigator/disputes", token=token, params={"limit": 1000})
