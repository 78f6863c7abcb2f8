"""The operators' dashboard: enrolments per day (counted by the navigator)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.examples import document_examples

from ..service import statistics
from .context import SIGNED_IN, NavigatorContext, service_problems as _problems

router = APIRouter(tags=["statistics"])


class DayEnrolments(BaseModel):
    day: dt.date
    requested: int = Field(description="Applications for a group made that day.")


class EnrolmentStatistics(BaseModel):
    from_date: dt.date
    to_date: dt.date
    municipality_code: str | None = Field(description="The municipality counted; null: the whole region.")
    days: list[DayEnrolments]
    by_state: dict[str, int] = Field(description="Enrolments in scope by their state now.")


document_examples(globals())


@router.get("/statistics/enrolments", response_model=EnrolmentStatistics, summary="Enrolments per day",
            operation_id="getEnrolmentStatistics",
            description=("Applications for a group made per day over the last `days` days (today included, the "
                         "region's calendar), and the enrolments in scope by state. Municipal operators get their "
                         "municipality only."),
            responses=_problems(*SIGNED_IN))
async def enrolment_statistics(
    nav: NavigatorContext,
    days: int = Query(default=30, ge=1, le=366, description="How many days back, today included (1..366)."),
    municipality: str | None = Query(default=None, pattern=r"^[0-9]{2}$",
                                     description="Only this municipality (regional operators)."),
    who: Principal = Depends(require("navigator.statistics.read")),
) -> dict:
    async with nav.runtime.db.transaction() as session:
        return await statistics.enrolments_per_day(session, who, today=nav.settings.today(), days=days,
                                                   timezone=nav.settings.region_timezone, municipality=municipality)
