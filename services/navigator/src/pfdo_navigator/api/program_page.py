"""The public page of a program (GET /programs/{program_id}): open without a token."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from pfdo_plumbing.auth.policy import optional
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.http.examples import document_examples
from pfdo_plumbing.http.problems import not_found

from ..service.program_page import program_page
from .context import NavigatorContext
from .schemas import ProgramFields


class ScheduleSlotOut(BaseModel):
    weekday: int = Field(description="ISO weekday: 1 = Monday … 7 = Sunday.")
    starts_at: dt.time = Field(description="Local start time of the lesson.")
    ends_at: dt.time = Field(description="Local end time of the lesson.")


class ModuleOut(BaseModel):
    module_id: uuid.UUID = Field(description="Module (group) id: what a parent enrols in.")
    title: str = Field(description="Module title.")
    start_date: dt.date = Field(description="First day of the module.")
    end_date: dt.date = Field(description="Last day of the module.")
    schedule: list[ScheduleSlotOut] = Field(description="Weekly timetable.")
    lessons_per_week: int = Field(description="Planned lessons per week.")
    hours: int = Field(description="Academic hours of the whole module.")
    capacity: int = Field(description="Group capacity.")
    free_seats: int = Field(description="Seats not held right now.")
    price_kopecks: int = Field(description="Price of the whole module, kopecks.")
    normative_cost_kopecks: int | None = Field(description="Normative cost set by the certifier, kopecks.")


class ScaleMeansOut(BaseModel):
    results: float = Field(description="Results achieved, mean percent.")
    teachers: float = Field(description="Teachers and group size, mean percent.")
    materials: float = Field(description="Materials and equipment, mean percent.")
    satisfaction: float = Field(description="Overall satisfaction, mean percent.")


class RatingOut(BaseModel):
    score: float = Field(description="Shrunk score used for ranking, percent (one review does not beat 200).")
    count: int = Field(description="Number of ratings.")
    means: ScaleMeansOut = Field(description="Mean per scale.")


class ProviderOut(BaseModel):
    provider_id: uuid.UUID = Field(description="Provider id.")
    rating_score: float | None = Field(description="Provider's shrunk rating score, percent; null when not rated.")
    rating_count: int = Field(description="Ratings of the provider's programs.")


class ProgramPageOut(ProgramFields):
    provider: ProviderOut = Field(description="The provider running it.")
    rating: RatingOut | None = Field(description="Ratings of the program; null when not rated yet.")
    modules: list[ModuleOut] = Field(description="Its module groups in the catalogue, by start date.")


document_examples(globals())

router = APIRouter(tags=["catalogue"])


@router.get(
    "/programs/{program_id}", response_model=ProgramPageOut, summary="A program's page",
    description="The program as certified, its provider's rating, its module groups (timetable, address, "
    "dates, hours, capacity, seats left, price, normative cost) and its rating per scale. Open without a "
    "token (public fields only, limited per client address at the gateway). 404 when the program is not in "
    "the catalogue (not certified, archived, or its provider not active).",
    operation_id="getProgramPage", responses=problems("unauthenticated", "validation_error", "not_found"),
)
async def get_program(
    nav: NavigatorContext, program_id: uuid.UUID,
    who: Principal | None = Depends(optional("navigator.catalogue.read")),
) -> ProgramPageOut:
    async with nav.search_db.reading() as session:
        page = await program_page(session, program_id)
    if page is None:
        raise not_found("Program")
    return ProgramPageOut.model_validate({**page.program, "modules": page.modules})


document_examples(globals())
