"""``GET /api/registry/labels``: the names a portal shows for the platform's codes, without a token.

Why here: the registry is the region's reference data (municipalities, region settings), and the
vocabulary is one for every service (``pfdo_contracts.labels``: directions, funding kinds,
certificate statuses and kinds, applications, enrolment states, marks, disputes and their decisions,
payment modes, payment-order kinds and statuses, periods, provider types and statuses, program
statuses, rating scales), so one public endpoint serves it all rather than four. Russian by default,
English when ``Accept-Language`` prefers it; the keys are the machine values the APIs carry.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from pfdo_contracts.labels import labels
from pfdo_plumbing.auth.policy import public
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.http.language import request_language


class LabelsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "language": "ru",
        "labels": {
            "directions": {"technical": "Техническая", "artistic": "Художественная"},
            "enrolment_states": {"confirmed": "Договор заключён", "waitlisted": "В листе ожидания"},
        },
    }]})

    language: str = Field(description="The language of the labels: `ru` (default) or `en` (Accept-Language: en).")
    labels: dict[str, dict[str, str]] = Field(description="Per group, the label of each machine value.")


router = APIRouter(tags=["reference"], dependencies=[Depends(public())])


@router.get(
    "/labels", response_model=LabelsOut, operation_id="getLabels", summary="Labels of the platform's codes",
    description=(
        "The Russian names (English with `Accept-Language: en`) of the codes a portal shows: the six directions, "
        "funding kinds, certificate statuses and kinds, application statuses, enrolment states, mark statuses, "
        "dispute states and decisions, payment modes, payment-order kinds and statuses, period statuses, "
        "provider types and statuses, program statuses, rating scales. No token needed."
    ),
    responses=problems("rate_limited", service="registry"),
)
async def get_labels(request: Request, response: Response) -> Any:
    language = request_language(request)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept-Language"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return {"language": language, "labels": labels(language)}
