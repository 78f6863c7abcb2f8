"""The payment orders an export holds, with both sides' bank details and the agreement they pay under.

Reads ``payment_orders`` with ``payees`` / ``payers`` (``service.parties``) and ``agreements``; the
files themselves are written by the pure ``domain.exports``."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_billing.domain.documents.facts import AgreementRef, Organisation
from pfdo_billing.domain.exports import ExportedOrder

EXPORT_LIMIT = 20_000
"""The most orders one file holds (a region's month is a few thousand)."""
NOT_RECEIVED = "(реквизиты не получены)"


@dataclass(frozen=True)
class OrderFilter:
    provider_id: uuid.UUID | None = None
    month: dt.date | None = None
    kind: str | None = None
    payer_code: str | None = None
    status: str | None = None
    municipality: str | None = None
    """A municipal operator's scope: only the orders its municipality pays."""


@dataclass(frozen=True)
class OrdersForExport:
    orders: list[ExportedOrder]
    without_details: list[str]
    """Numbers of the orders whose payee or payer details billing has not received."""


def _organisation(row: Any, prefix: str) -> Organisation | None:
    if row[f"{prefix}_inn"] is None:
        return None
    return Organisation(name=row[f"{prefix}_name"], inn=row[f"{prefix}_inn"], kpp=row[f"{prefix}_kpp"],
                        account=row[f"{prefix}_account"], bik=row[f"{prefix}_bik"],
                        corr_account=row[f"{prefix}_corr"], bank=row[f"{prefix}_bank"])


def _placeholder() -> Organisation:
    return Organisation(name=NOT_RECEIVED, inn="", kpp=None, account="", bik="", corr_account="", bank="")


_SIDE = ("{p}.name AS {p}_name, {p}.inn AS {p}_inn, {p}.kpp AS {p}_kpp, {p}.account AS {p}_account, "
         "{p}.bik AS {p}_bik, {p}.correspondent_account AS {p}_corr, {p}.bank_name AS {p}_bank")


async def orders_for_export(session: AsyncSession, f: OrderFilter) -> OrdersForExport:
    rows = (await session.execute(text(
        f"SELECT o.number, o.issued_on, o.kind, o.month, o.amount_kopecks, o.contract_count, o.status, "
        f"{_SIDE.format(p='payee')}, {_SIDE.format(p='payer')}, ag.number AS agreement_number, ag.concluded_on "
        "FROM payment_orders o "
        "LEFT JOIN payees payee ON payee.provider_id = o.provider_id "
        "LEFT JOIN payers payer ON payer.municipality_code = o.payer_code "
        "LEFT JOIN LATERAL (SELECT a.number, a.concluded_on FROM agreements a WHERE a.provider_id = o.provider_id "
        "  AND a.payer_code = o.payer_code AND a.period_id = o.period_id "
        "  ORDER BY a.concluded_on DESC, a.agreement_id LIMIT 1) ag ON true "
        "WHERE (CAST(:p AS uuid) IS NULL OR o.provider_id = :p) AND (CAST(:m AS date) IS NULL OR o.month = :m) "
        "AND (CAST(:k AS text) IS NULL OR o.kind = :k) AND (CAST(:payer AS text) IS NULL OR o.payer_code = :payer) "
        "AND (CAST(:status AS text) IS NULL OR o.status = :status) "
        "AND (CAST(:muni AS text) IS NULL OR o.payer_code = :muni) "
        "ORDER BY o.month, o.issued_on, o.number LIMIT :l"),
        {"p": f.provider_id, "m": f.month, "k": f.kind, "payer": f.payer_code, "status": f.status,
         "muni": f.municipality, "l": EXPORT_LIMIT})).mappings().all()
    orders, missing = [], []
    for r in rows:
        payee, payer = _organisation(r, "payee"), _organisation(r, "payer")
        if payee is None or payer is None:
            missing.append(r["number"])
        agreement = AgreementRef(r["agreement_number"], r["concluded_on"]) if r["agreement_number"] else None
        orders.append(ExportedOrder(
            number=r["number"], issued_on=r["issued_on"], kind=r["kind"], month=r["month"],
            amount_kopecks=int(r["amount_kopecks"]), payer=payer or _placeholder(), payee=payee or _placeholder(),
            contracts=int(r["contract_count"]), status=r["status"], agreement=agreement))
    return OrdersForExport(orders, missing)
