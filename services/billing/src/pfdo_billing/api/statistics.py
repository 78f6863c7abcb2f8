"""The operators' dashboard: money reserved, spent and released per month (counted by billing)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.examples import document_examples
from pfdo_plumbing.http.params import YearMonth, first_day

from pfdo_billing.service import statistics

from .context import SIGNED_IN, BillingContext, service_problems as _problems

router = APIRouter(tags=["billing"])


class MonthMoney(BaseModel):
    month: str = Field(description="Month, 'YYYY-MM'.")
    reserved_kopecks: int = Field(description="Still reserved for the month (it is not closed yet).")
    spent_kopecks: int = Field(description="Posted to the providers when the month closed.")
    released_kopecks: int = Field(description="Returned to the certificates' available balances.")
    contracts: int = Field(description="Contracts with a part in the month.")


class MoneyPerMonth(BaseModel):
    municipality_code: str | None = Field(description="The municipality counted; null: the whole region.")
    months: list[MonthMoney]


document_examples(globals())


@router.get("/statistics/months", response_model=MoneyPerMonth, summary="Money reserved and spent per month",
            operation_id="getMoneyPerMonth",
            description=("Per month, summed over the certificates in scope: still reserved, spent (posted to the "
                         "providers) and released. Municipal operators get their municipality's certificates only."),
            responses=_problems(*SIGNED_IN))
async def money_per_month(
    b: BillingContext,
    from_month: YearMonth | None = Query(default=None, description=(
        "First month, 'YYYY-MM' (by default five months before the current one).")),
    months: int = Query(default=12, ge=1, le=36, description="How many months (1..36)."),
    municipality: str | None = Query(default=None, pattern=r"^[0-9]{2}$",
                                     description="Only this municipality's certificates (regional operators)."),
    who: Principal = Depends(require("billing.statistics.read")),
) -> dict:
    first = first_day(from_month) if from_month else None
    return await statistics.money_per_month(b, who, first=first, months=months, municipality=municipality)
