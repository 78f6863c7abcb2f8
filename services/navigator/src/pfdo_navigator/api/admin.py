"""Operations: rebuilding the catalogue from the topics."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from pfdo_plumbing import audit
from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal

from ..service.rebuild import rebuild_catalogue
from . import schemas as s
from .context import SIGNED_IN, NavigatorContext, service_problems as _problems

router = APIRouter(tags=["admin"])


@router.post("/admin/catalogue/rebuild", response_model=s.RebuildOut,
             summary="Rebuild the catalogue from the topics (offset zero)",
             operation_id="rebuildCatalogue",
             description=("Replays the registry and ratings topics from offset zero into a fresh copy of the "
                          "catalogue and swaps it in; the live catalogue keeps answering meanwhile."),
             responses=_problems(*SIGNED_IN))
async def rebuild(nav: NavigatorContext, who: Principal = Depends(require("navigator.admin.rebuild"))) -> s.RebuildOut:
    report = await rebuild_catalogue(nav.runtime.db, nav.settings.kafka_bootstrap, nav.runtime.names)
    async with nav.runtime.db.transaction() as session:
        await audit.record(session, who, "catalogue.rebuilt", "catalogue", "catalogue",
                           details={"entries": report.entries, "events": report.events_applied})
    return s.RebuildOut(**report.__dict__)

