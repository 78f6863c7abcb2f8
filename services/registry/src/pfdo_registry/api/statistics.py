"""The operators' dashboard figures (counted by the registry, not paged through by the portal)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal

from ..service import statistics
from . import schemas as s
from .context import SIGNED_IN, RegistryContext, service_problems as _problems

router = APIRouter(tags=["statistics"])


@router.get("/statistics", response_model=s.RegistryStatistics, summary="Applications and certificates in figures",
            operation_id="getRegistryStatistics",
            description=("Applications and certificates issued per day over the last `days` days (today included), "
                         "and per municipality the certificates in force beside the children living there "
                         "(`children_count`, null when not given). Municipal operators get their municipality only."),
            responses=_problems(*SIGNED_IN))
async def get_statistics(
    reg: RegistryContext,
    days: int = Query(default=30, ge=1, le=366, description="How many days back, today included (1..366)."),
    municipality: str | None = Query(default=None, pattern=r"^[0-9]{2}$",
                                     description="Only this municipality (regional operators)."),
    who: Principal = Depends(require("registry.statistics.read")),
) -> dict:
    return await statistics.statistics(reg, who, days=days, municipality=municipality)
