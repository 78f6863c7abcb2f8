"""Reference data: the region's municipalities and its settings (age window, auto-approval)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi import Path as PathParam

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from ..service import reference
from . import schemas as s
from .context import SIGNED_IN, RegistryContext, service_problems as _problems

router = APIRouter(tags=["reference"])

CODE = PathParam(pattern=r"^[0-9]{2}$", description="Two-digit code.")


@router.get("/municipalities", response_model=Page[s.MunicipalityOut], summary="List the region's municipalities",
            operation_id="listMunicipalities",
            description=("The region's municipalities with their two-digit codes (the payer code inside certificate "
                         "numbers)."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_municipalities(
    reg: RegistryContext,
    paging: PageRequest = Depends(paging_params(default=100, maximum=200)),
    _: Principal = Depends(require("registry.municipality.read")),
) -> dict:
    return paging.page_of_all(await reference.list_municipalities(reg), "municipalities", lambda m: [m["code"]])


@router.put("/municipalities/{code}", response_model=s.MunicipalityOut, summary="Add or rename a municipality",
            operation_id="putMunicipality",
            description=("Creates the municipality with this two-digit code, or renames it; `children_count` "
                         "(optional) is how many children live there."),
            responses=_problems(*SIGNED_IN, "municipality_code_invalid", "name_required"))
async def put_municipality(reg: RegistryContext, body: s.MunicipalityIn, code: str = CODE,
                           who: Principal = Depends(require("registry.settings.manage"))) -> dict:
    children = body.children_count if "children_count" in body.model_fields_set else reference.UNCHANGED
    return await reference.put_municipality(reg, who, code, body.name, children_count=children)


@router.put("/municipalities/{code}/payer", response_model=s.MunicipalityOut,
            summary="Set the payer details of a municipality", operation_id="putMunicipalityPayer",
            description=("The body that pays for the municipality's certificates (ИНН of an organisation, КПП) and its "
                         "bank details; the ИНН's check digit and the accounts' control keys against the БИК are "
                         "checked. Billing learns them from the payers topic (payment orders, the bank file)."),
            responses=_problems(*SIGNED_IN, "not_found", "authority_name_required", "inn_format", "inn_length",
                                "inn_checksum", "kpp_format", "kpp_length", "bank_name_required", "bik_format",
                                "bik_length", "account_format", "account_length", "account_checksum",
                                "correspondent_account_format", "correspondent_account_length",
                                "correspondent_account_checksum"))
async def put_payer(reg: RegistryContext, body: s.PayerDetailsIn, code: str = CODE,
                    who: Principal = Depends(require("registry.settings.manage"))) -> dict:
    return await reference.put_payer_details(reg, who, code, reference.PayerDetailsInput(**body.model_dump()))


@router.get("/settings", response_model=s.SettingsOut, summary="Region settings (age window, auto-approval)",
            operation_id="getRegionSettings",
            description=("The region's settings: the age window of applications and whether applications are "
                         "approved automatically."),
            responses=_problems(*SIGNED_IN))
async def get_settings(reg: RegistryContext, _: Principal = Depends(require("registry.municipality.read"))) -> dict:
    return await reference.get_settings(reg)


@router.put("/settings", response_model=s.SettingsOut, summary="Change the region settings",
            operation_id="updateRegionSettings",
            description="Replaces the region's settings (audited).",
            responses=_problems(*SIGNED_IN, "age_window_invalid", "region_code_invalid"))
async def put_settings(
    reg: RegistryContext, body: s.SettingsIn, who: Principal = Depends(require("registry.settings.manage")),
) -> dict:
    return await reference.put_settings(reg, who, **body.model_dump())

