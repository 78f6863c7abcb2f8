"""The cost to the family in the navigator: for a child a signed-in parent chose («Для ребёнка»),
what the family pays for each module of a search page or a program's page, per month and in total
(billing's quotes, docs/domain-rules.md "Quote").

Billing quotes one start date per call, and a module cannot be quoted from a day before it
starts, so the modules are asked for in groups of the same start: the later of today and the
module's first day (the day the parent would enrol from, as on the enrolment page).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..gateway import ApiError, GatewayApi
from ..gateway import family as api_calls

BATCH_LIMIT = 100
"""The most modules billing quotes in one call."""


@dataclass(frozen=True)
class FamilyCost:
    total: int | None
    """The family's part over the enrolment, kopecks (None: billing could not quote it)."""
    monthly_min: int | None
    monthly_max: int | None
    """The smallest and largest monthly family instalment."""
    months: int
    certificate: int | None
    """The certificate's part, kopecks."""
    start: dt.date
    free_place: bool
    error: str | None
    """Why billing could not quote this module, in Russian."""


def active_children(certificates: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The children a parent may look prices up for: those with an active certificate."""
    return [c for c in certificates if c.get("status") == "active"]


def chosen_child(children: Sequence[Mapping[str, Any]], raw: str | None) -> Mapping[str, Any] | None:
    return next((c for c in children if str(c["id"]) == (raw or "")), None)


def start_groups(modules: Iterable[tuple[str, dt.date | str]], today: dt.date) -> dict[dt.date, list[list[str]]]:
    """Module ids by the day they would be quoted from (the later of today and the module's
    start), each group cut into billing's batches; a module id once."""
    groups: dict[dt.date, list[str]] = {}
    seen: set[str] = set()
    for module_id, starts in modules:
        if str(module_id) in seen:
            continue
        seen.add(str(module_id))
        first = starts if isinstance(starts, dt.date) else dt.date.fromisoformat(str(starts))
        groups.setdefault(max(today, first), []).append(str(module_id))
    return {day: [ids[i:i + BATCH_LIMIT] for i in range(0, len(ids), BATCH_LIMIT)]
            for day, ids in sorted(groups.items())}


def family_cost(quote: Mapping[str, Any], start: dt.date) -> FamilyCost:
    """One module's figures for the family from billing's quote (or the reason there are none)."""
    error = quote.get("error")
    if error:
        return FamilyCost(None, None, None, 0, None, start, False, str(error.get("detail") or error.get("code")))
    schedule = quote.get("schedule") or ()
    monthly = [int(line["family_kopecks"]) for line in schedule]
    return FamilyCost(
        total=int(quote.get("family_kopecks") or 0), monthly_min=min(monthly) if monthly else None,
        monthly_max=max(monthly) if monthly else None, months=len(monthly),
        certificate=quote.get("certificate_kopecks"), start=start, free_place=bool(quote.get("free_place")),
        error=None,
    )


UNAVAILABLE = "Стоимость для семьи сейчас рассчитать нельзя: попробуйте обновить страницу позже."


async def family_costs(api: GatewayApi, token: str, certificate_id: str,
                       modules: Iterable[tuple[str, dt.date | str]], today: dt.date) -> dict[str, FamilyCost] | None:
    """Per module id, the family's cost for the child; None when billing cannot answer at all
    (the page then says so and shows its prices without the family's part)."""
    calls = [(day, batch) for day, batches in start_groups(modules, today).items() for batch in batches]
    answers = await asyncio.gather(*(api_calls.quotes(api, token, certificate_id, day, batch) for day, batch in calls),
                                   return_exceptions=True)
    costs: dict[str, FamilyCost] = {}
    for (day, _), answer in zip(calls, answers, strict=True):
        if isinstance(answer, ApiError):
            if answer.status == 401:
                raise answer
            return None
        if isinstance(answer, BaseException):
            raise answer
        for quote in answer:
            costs[str(quote["module_id"])] = family_cost(quote, day)
    return costs
