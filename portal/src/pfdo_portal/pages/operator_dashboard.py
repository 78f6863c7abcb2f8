"""The operator's dashboard (``/operator``): applications for certificates, certificates issued and
applications for groups per day; money reserved and spent per month; certificates in force and
the share of the municipality's children they cover («нет данных» while the region has not given
the number of children).

A municipal operator sees its municipality (the API gives no other); a regional operator sees the
region, or one municipality chosen in the form. The figures are counted by the services; each
chart comes with its figures in words and in a table (:mod:`.dashboard_charts`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import HTMLResponse

from pfdo_plumbing.auth.principal import Role

from ..auth import PortalUser, require_role
from ..gateway import oversight as api
from ..rendering import access_token, render
from .dashboard_charts import Series, column_chart, coverage, total_coverage

router = APIRouter(include_in_schema=False)
operators_only = require_role("municipal_operator", "regional_operator")

DAYS = 30
"""Days of the daily chart, today included."""
MONTHS = 12
"""The money chart's months: by billing's default, from five months before the current one."""

SHY = "\u00ad"
DAILY = (Series("applications", "Заявления на сертификат", f"Заявления на серти{SHY}фикат"),
         Series("certificates_issued", "Выдано сертификатов", f"Выдано серти{SHY}фикатов"),
         Series("requested", "Заявки на запись в группы"))
MONEY = (Series("reserved_kopecks", "Зарезервировано"), Series("spent_kopecks", "Оплачено"))


def chosen_municipality(user: PortalUser, raw: str | None, known: Mapping[str, str]) -> str | None:
    """The municipality the figures are for: the municipal operator's own; for the regional
    operator the one chosen when it is known (None: the region)."""
    if user.role == Role.MUNICIPAL_OPERATOR:
        return user.municipality
    return raw if raw and raw in known else None


def daily_rows(registry_days: list[Mapping[str, Any]], enrolment_days: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per day: the registry's and the navigator's figures side by side (days the other
    service does not list count 0)."""
    requested = {str(d["day"]): int(d["requested"]) for d in enrolment_days}
    rows = [{"day": str(d["day"]), "applications": int(d["applications"]),
             "certificates_issued": int(d["certificates_issued"]), "requested": requested.pop(str(d["day"]), 0)}
            for d in registry_days]
    rows += [{"day": day, "applications": 0, "certificates_issued": 0, "requested": n}
             for day, n in requested.items()]
    return sorted(rows, key=lambda r: r["day"])


@router.get("/operator", response_class=HTMLResponse)
async def dashboard(request: Request, user: PortalUser = Depends(operators_only)) -> HTMLResponse:
    token, gateway = access_token(request), request.app.state.api
    labels = await request.app.state.labels.book()
    names = {str(m["code"]): str(m["name"]) for m in await api.municipalities(gateway, token)}
    muni = chosen_municipality(user, request.query_params.get("municipality"), names)
    registry, enrolments, money = await asyncio.gather(
        api.registry_figures(gateway, token, days=DAYS, municipality=muni),
        api.enrolment_figures(gateway, token, days=DAYS, municipality=muni),
        api.money_figures(gateway, token, months=MONTHS, municipality=muni))
    daily = column_chart(daily_rows(registry["days"], enrolments["days"]), DAILY, label="day")
    monthly = column_chart(money["months"], MONEY, label="month")
    covered = coverage(registry["municipalities"])
    scope = names.get(muni, f"Код {muni}") if muni else "Вся область"
    return render(request, "operator/dashboard.html", {
        "title": "Сводка", "section": "dashboard", "nav_current": "operator", "scope": scope,
        "chosen": muni, "municipalities": sorted(names.items()), "may_choose": user.role == Role.REGIONAL_OPERATOR,
        "daily": daily, "monthly": monthly, "coverage": covered, "coverage_total": total_coverage(covered),
        "by_state": enrolments.get("by_state", {}), "from_date": registry["from_date"], "to_date": registry["to_date"],
        "certificates_active": sum(c.certificates for c in covered),
    }, labels=labels)
