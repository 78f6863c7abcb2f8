"""Providers: registration of the caller's organisation and its moderation."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from ..domain.provider import ProviderStatus
from ..service import providers
from . import schemas as s
from .context import SIGNED_IN, RegistryContext, service_problems as _problems

router = APIRouter(tags=["providers"])

_MODERATION = {
    "approve": "A new provider enters the providers' registry (new -> active); its certified programs appear in the "
               "navigator.",
    "refuse": "A new provider is refused with a reason (new -> refused).",
    "suspend": "An active provider is suspended with a reason (active -> suspended); its programs leave the navigator, "
               "running contracts continue.",
    "reinstate": "A suspended provider becomes active again (suspended -> active).",
    "exclude": "A provider leaves the registry for good with a reason (active or suspended -> excluded).",
}


_BANK_PROBLEMS = ("bank_name_required", "bik_format", "bik_length", "account_format", "account_length",
                  "account_checksum", "correspondent_account_format", "correspondent_account_length",
                  "correspondent_account_checksum")


@router.post("/providers", response_model=s.ProviderOut, status_code=201,
             summary="Register the caller's organisation (moderation starts)",
             operation_id="registerProvider",
             description=("Registers the caller's organisation with its ИНН, ОГРН or ОГРНИП and КПП and its bank "
                          "details (checksums and the accounts' control keys validated); it stays `new` until a "
                          "moderator decides."),
             responses=_problems(*SIGNED_IN, *_BANK_PROBLEMS, "inn_checksum", "inn_format",
                                 "inn_length", "kpp_format", "kpp_length", "kpp_not_allowed", "kpp_required",
                                 "ogrn_checksum", "ogrn_format", "ogrn_length", "ogrn_sign", "ogrnip_checksum",
                                 "ogrnip_format", "ogrnip_length", "ogrnip_sign", "municipality_unknown",
                                 "municipality_code_invalid", "name_required", "provider_duplicate"))
async def register(
    reg: RegistryContext, body: s.ProviderIn, who: Principal = Depends(require("registry.provider.register")),
) -> dict:
    return await providers.register(reg, who, providers.ProviderInput(**body.model_dump()))


@router.put("/providers/{provider_id}/bank-details", response_model=s.ProviderOut,
            summary="Change the provider's payee details", operation_id="changeProviderBankDetails",
            description=("The provider itself, or an operator of its municipality, replaces the bank details payment "
                         "orders are paid to (the accounts' control keys are checked against the БИК); billing "
                         "learns the new details from the providers topic."),
            responses=_problems(*SIGNED_IN, "not_found", *_BANK_PROBLEMS))
async def change_bank_details(
    reg: RegistryContext, provider_id: uuid.UUID, body: s.BankDetailsIn,
    who: Principal = Depends(require("registry.provider.details")),
) -> dict:
    return await providers.change_bank_details(reg, who, provider_id, providers.BankDetailsInput(**body.model_dump()))


@router.get("/providers", response_model=Page[s.ProviderOut], summary="List providers in scope",
            operation_id="listProviders",
            description="Providers in the caller's scope, by name; paged with `limit` and `cursor`.",
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_providers(
    reg: RegistryContext,
    status: ProviderStatus | None = Query(default=None, description="Only this status."),
    municipality: str | None = Query(default=None, pattern=r"^[0-9]{2}$", description="Only this municipality."),
    paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
    who: Principal = Depends(require("registry.provider.read")),
) -> dict:
    scope = f"providers|{status}|{municipality}"
    keyset = paging.after_keyset(scope, str, uuid.UUID)
    rows = await providers.list_providers(reg, who, status=status, municipality=municipality,
                                          limit=paging.limit + 1, after=keyset)
    return paging.page(rows, scope, lambda p: [p["name"], str(p["id"])])


@router.get("/providers/{provider_id}", response_model=s.ProviderOut, summary="One provider",
            operation_id="getProvider",
            description="One provider in the caller's scope (404 otherwise).",
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_provider(
    reg: RegistryContext, provider_id: uuid.UUID, who: Principal = Depends(require("registry.provider.read")),
) -> dict:
    return await providers.get(reg, who, provider_id)


def _add_moderation_route(action: str) -> None:
    """POST /providers/{provider_id}/<action>, one operation per moderation action."""

    async def moderate(reg: RegistryContext, provider_id: uuid.UUID, body: s.ModerationIn | None = None,
                       who: Principal = Depends(require("registry.provider.moderate")), _action: str = action) -> dict:
        # `_action` is a (documented) query parameter of the published contract; its default is this route's action
        body = body or s.ModerationIn()
        return await providers.moderate(reg, who, provider_id, _action, reason=body.reason,
                                        reason_code=body.reason_code)

    router.add_api_route(f"/providers/{{provider_id}}/{action}", moderate, methods=["POST"],
                         response_model=s.ProviderOut, summary=f"Moderation: {action}", name=f"provider_{action}",
                         operation_id=f"{action}Provider", description=_MODERATION[action],
                         responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))


for _action in _MODERATION:
    _add_moderation_route(_action)
