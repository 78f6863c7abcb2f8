"""The public API's calls behind a parent's cabinet, all with the parent's own token: the
children's certificates (registry), their balances and quotes (billing), the enrolments
(navigator), certificate applications (registry). Changes carry an ``Idempotency-Key``, so a form
sent twice (a double click, a reload) creates one thing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from .client import GatewayApi


def _id(value: str) -> str:
    return quote(str(value), safe="")


async def certificates(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    """The parent's children's certificates (the first 100: a family has a few)."""
    return (await api.get("registry/certificates", token=token, params={"limit": 100}))["items"]


async def applications(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    return (await api.get("registry/applications", token=token, params={"limit": 100}))["items"]


async def municipalities(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    return (await api.get("registry/municipalities", token=token, params={"limit": 200}))["items"]


async def apply_for_certificate(api: GatewayApi, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    return await api.request("POST", "registry/applications", token=token, json=body,
                             headers={"Idempotency-Key": key})


async def balance(api: GatewayApi, token: str, certificate_id: str) -> dict[str, Any]:
    return await api.get(f"billing/certificates/{_id(certificate_id)}/balance", token=token)


async def quote_module(api: GatewayApi, token: str, certificate_id: str, module_id: str,
                       start: dt.date) -> dict[str, Any]:
    return await api.get("billing/quote", token=token, params={
        "certificate_id": str(certificate_id), "module_id": str(module_id), "start_date": start.isoformat()})


async def enrolments(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    return (await api.get("navigator/me/enrolments", token=token, params={"limit": 100}))["items"]


async def enrolment(api: GatewayApi, token: str, enrolment_id: str) -> dict[str, Any]:
    return await api.get(f"navigator/enrolments/{_id(enrolment_id)}", token=token)


async def enrol(api: GatewayApi, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    return await api.request("POST", "navigator/enrolments", token=token, json=body,
                             headers={"Idempotency-Key": key})


async def program(api: GatewayApi, token: str, program_id: str) -> dict[str, Any]:
    return await api.program_page(str(program_id), token=token)




async def marks(api: GatewayApi, token: str, enrolment_id: str) -> list[dict[str, Any]]:
    """Every attendance mark of an enrolment, with the last day each may be disputed."""
    return await api.all_items("navigator/attendance", token=token,
                               params={"enrolment_id": str(enrolment_id), "limit": 1000}, most_pages=20)


async def certificate_history(api: GatewayApi, token: str, certificate_id: str) -> list[dict[str, Any]]:
    """Every transfer of a certificate's ledger, oldest first (credits, reservations, postings,
    releases, the family's invoices)."""
    return await api.all_items(f"billing/certificates/{_id(certificate_id)}/history", token=token,
                               params={"limit": 1000}, most_pages=20)


async def disputes(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    """The parent's disputes, oldest first."""
    return await api.all_items("navigator/disputes", token=token, params={"limit": 1000}, most_pages=20)


async def open_dispute(api: GatewayApi, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    return await api.request("POST", "navigator/disputes", token=token, json=body, headers={"Idempotency-Key": key})


async def accept_offer(api: GatewayApi, token: str, enrolment_id: str, key: str) -> dict[str, Any]:
    """The parent accepts the offer (договор-оферта): the contract is made."""
    return await api.request("POST", f"navigator/enrolments/{_id(enrolment_id)}/accept", token=token,
                             headers={"Idempotency-Key": key})


async def provider(api: GatewayApi, token: str, provider_id: str) -> dict[str, Any]:
    """The provider's public registry card (name, ИНН, address): the offering party."""
    return await api.get(f"registry/providers/{_id(provider_id)}", token=token)


async def end_enrolment(api: GatewayApi, token: str, enrolment_id: str, action: str, key: str) -> dict[str, Any]:
    """``action``: ``cancel`` (before the contract starts) or ``terminate`` (a running contract)."""
    return await api.request("POST", f"navigator/enrolments/{_id(enrolment_id)}/{action}", token=token,
                             headers={"Idempotency-Key": key})


async def my_ratings(api: GatewayApi, token: str) -> list[dict[str, Any]]:
    """The children's ended enrolments that may be rated, with the rating given, if any."""
    return await api.all_items("ratings/me/ratings", token=token, params={"limit": 500}, most_pages=20)


async def rate(api: GatewayApi, token: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    return await api.request("POST", "ratings/ratings", token=token, json=body, headers={"Idempotency-Key": key})


async def edit_rating(api: GatewayApi, token: str, enrolment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return await api.request("PUT", f"ratings/ratings/{_id(enrolment_id)}", token=token, json=body)


async def quotes(api: GatewayApi, token: str, certificate_id: str, start: dt.date,
                 module_ids: list[str]) -> list[dict[str, Any]]:
    """Billing's quotes of up to 100 modules for one child from one start date, in request order
    (a module that cannot be quoted carries ``error``)."""
    answer = await api.request("POST", "billing/quotes:batch", token=token, json={
        "certificate_id": str(certificate_id), "start_date": start.isoformat(), "module_ids": module_ids})
    return answer["quotes"]
