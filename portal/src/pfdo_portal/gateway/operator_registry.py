"""The public API's calls behind the operator's registry pages, all with the operator's own token:
the certificate applications to decide, the providers to moderate, the programs to certify
(registry). The API keeps a municipal operator to the municipality (another one's application,
provider or program answers 404) and lets both operator roles make these calls
(``registry.certificate.moderate``, ``registry.provider.moderate``, ``registry.program.certify``).
Every decision carries an ``Idempotency-Key`` made when the form was drawn, so a form sent twice
decides once; a normative cost is a PUT, the same value twice is one change."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .client import GatewayApi, Params

PAGE = 50
"""Items on one page of a list."""


def _id(value: str) -> str:
    return quote(str(value), safe="")


def _filters(**values: str | None) -> Params:
    return {name: value for name, value in values.items() if value}


# ---- certificate applications ------------------------------------------------------------------

async def applications(api: GatewayApi, token: str, *, status: str | None, cursor: str | None) -> dict[str, Any]:
    """One page of the applications in the operator's scope, oldest first (``items``, ``next_cursor``)."""
    return await api.get("registry/applications", token=token,
                         params={"limit": PAGE, **_filters(status=status, cursor=cursor)})


async def approve_application(api: GatewayApi, token: str, application_id: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"registry/applications/{_id(application_id)}/approve", token=token,
                             headers={"Idempotency-Key": key})


async def refuse_application(api: GatewayApi, token: str, application_id: str, reason: str,
                             key: str) -> dict[str, Any]:
    return await api.request("POST", f"registry/applications/{_id(application_id)}/refuse", token=token,
                             json={"reason": reason}, headers={"Idempotency-Key": key})


# ---- providers ----------------------------------------------------------------------------------

async def providers(api: GatewayApi, token: str, *, status: str | None, municipality: str | None,
                    cursor: str | None, limit: int = PAGE) -> dict[str, Any]:
    """One page of the providers in scope, by name: a municipal operator's own municipality's and the
    active ones of the region (those it may read, not moderate)."""
    return await api.get("registry/providers", token=token, params={
        "limit": limit, **_filters(status=status, municipality=municipality, cursor=cursor)})


async def provider(api: GatewayApi, token: str, provider_id: str) -> dict[str, Any]:
    return await api.get(f"registry/providers/{_id(provider_id)}", token=token)


async def moderate_provider(api: GatewayApi, token: str, provider_id: str, action: str, reason: str | None,
                            key: str) -> dict[str, Any]:
    """``action``: approve, refuse, suspend, reinstate or exclude (a reason for refuse, suspend, exclude)."""
    return await api.request("POST", f"registry/providers/{_id(provider_id)}/{_id(action)}", token=token,
                             json={"reason": reason} if reason else {}, headers={"Idempotency-Key": key})


# ---- programs -----------------------------------------------------------------------------------

async def programs(api: GatewayApi, token: str, *, status: str | None, cursor: str | None) -> dict[str, Any]:
    """One page of the programs in scope with their modules, oldest first."""
    return await api.get("registry/programs", token=token,
                         params={"limit": PAGE, **_filters(status=status, cursor=cursor)})


async def program(api: GatewayApi, token: str, program_id: str) -> dict[str, Any]:
    return await api.get(f"registry/programs/{_id(program_id)}", token=token)


async def history(api: GatewayApi, token: str, program_id: str) -> list[dict[str, Any]]:
    """Every certification step of the program, oldest first."""
    # 500 a page, 20 pages: far more steps than a program goes through
    return await api.all_items(f"registry/programs/{_id(program_id)}/history", token=token, params={"limit": 500},
                               most_pages=20)


async def set_normative_cost(api: GatewayApi, token: str, program_id: str, module_id: str,
                             kopecks: int) -> dict[str, Any]:
    return await api.request("PUT", f"registry/programs/{_id(program_id)}/modules/{_id(module_id)}/normative-cost",
                             token=token, json={"normative_cost_kopecks": kopecks})


async def certify_program(api: GatewayApi, token: str, program_id: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"registry/programs/{_id(program_id)}/certify", token=token,
                             headers={"Idempotency-Key": key})


async def reject_program(api: GatewayApi, token: str, program_id: str, reason: str, key: str) -> dict[str, Any]:
    return await api.request("POST", f"registry/programs/{_id(program_id)}/reject", token=token,
                             json={"reason": reason}, headers={"Idempotency-Key": key})
