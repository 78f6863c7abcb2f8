"""Read side: quotes, balances, history, payment orders, reconciliation. Scope checks answer
404 for a resource that is not the caller's (existence is not revealed)."""

from __future__ import annotations

import uuid
import datetime as dt
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.rules import calendar
from pfdo_contracts.rules.lessons import planned_lessons
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.domain_error import NotFound

from pfdo_billing.domain.calendar import Period
from pfdo_billing.domain.errors import BillingDomainError, NoAgeGroup
from pfdo_billing.domain.nominal import prorated_nominal
from pfdo_billing.domain.quote import Quote, free_place, quote
from pfdo_billing.domain.validity import validity_of

from .context import Billing
from .reservations import nominal_of, open_period_for

async def certificate_for(session: AsyncSession, certificate_id: uuid.UUID, who: Principal) -> dict:
    """The certificate if ``who`` may see it (its balance, or a quote, which shows the balance
    through the certificate's part): its parent, operators of its municipality, the region's
    operators, finance, services. Anyone else, providers included, gets the same 404 as for a
    certificate that does not exist."""
    row = (await session.execute(text("SELECT * FROM certificates WHERE certificate_id = :c"),
                                 {"c": certificate_id})).mappings().first()
    if row is None:
        raise NotFound(message="certificate not found")
    allowed = (
        (who.role == Role.PARENT and row["parent_id"] == who.sub)
        or who.role in (Role.FINANCE, Role.SERVICE, Role.REGIONAL_OPERATOR)
        or (who.role == Role.MUNICIPAL_OPERATOR and who.covers_municipality(row["municipality_code"]))
    )
    if not allowed:
        raise NotFound(message="certificate not found")
    return dict(row)


async def quote_modules(b: Billing, session: AsyncSession, certificate: dict, module_ids: list[uuid.UUID],
                        start_date: date) -> list[dict]:
    """Quote each module for the certificate from ``start_date`` (one database round trip for the
    modules, one for the balance)."""
    modules = {
        r["module_id"]: dict(r)
        for r in (await session.execute(text("SELECT * FROM modules WHERE module_id = ANY(:ids)"),
                                        {"ids": module_ids})).mappings()
    }
    period = await open_period_for(session, start_date)
    available: int | None = None
    if period is not None:
        bal = (await session.execute(text(
            "SELECT available FROM certificate_balances WHERE certificate_id = :c AND period_id = :p"),
            {"c": certificate["certificate_id"], "p": period["period_id"]})).scalar()
        if bal is not None:
            available = int(bal)
        else:
            # not yet a funding certificate (or not yet credited): what it would be credited now
            try:
                full = await nominal_of(session, period, certificate["municipality_code"], certificate["birth_date"])
                available = prorated_nominal(full, Period(period["starts_on"], period["ends_on"]), max(b.today(), period["starts_on"]))
            except NoAgeGroup:
                available = 0
    valid_until = validity_of(certificate["birth_date"], certificate.get("valid_until"))
    answers: list[dict] = []
    for mid in module_ids:
        m = modules.get(mid)
        if m is None or m["state"] != "certified":
            answers.append({"module_id": mid, "error": {"code": "module_not_available",
                                                        "detail": "The module is unknown or not certified."}})
            continue
        if period is None:
            answers.append({"module_id": mid, "error": {"code": "period_not_open",
                                                        "detail": "No open period contains the start date."}})
            continue
        try:
            if m["funding_kind"] == "municipal_task":
                q = free_place(m["start_date"], m["end_date"], start_date, valid_until=valid_until)
            else:
                q = quote(m["price_kopecks"], m["normative_cost_kopecks"] or 0, m["start_date"], m["end_date"],
                          start_date, available or 0, "monthly", valid_until=valid_until)
        except BillingDomainError as exc:
            answers.append({"module_id": mid, "error": {"code": exc.code, "detail": exc.message,
                                                        "details": exc.details}})
            continue
        answers.append(_quote_answer(mid, q, m["weekdays"], start_date, q.ends_on, b.settings.region_days_off))
    return answers


def ends_early_note(q: Quote) -> str | None:
    """The parent's explanation when the certificate's validity stops the money before the module ends."""
    if q.ends_early_on is None or q.valid_until is None:
        return None
    return (f"Сертификат действует до {q.valid_until:%d.%m.%Y}: обучение оплачивается до "
            f"{q.ends_early_on:%d.%m.%Y}.")


def _quote_answer(module_id: uuid.UUID, q: Quote, weekdays: list[int], start: date, end: date,
                  region_days_off: list[date]) -> dict:
    return {
        "certificate_valid_until": q.valid_until, "ends_early_on": q.ends_early_on, "note": ends_early_note(q),
        "module_id": module_id, "error": None, "free_place": q.free_place, "cost_kopecks": q.cost,
        "normative_cost_kopecks": q.normative_cost, "certificate_kopecks": q.certificate_part,
        "family_kopecks": q.family_part, "enrolled_days": q.enrolled_days, "module_days": q.module_days,
        "schedule": [
            {"month": f"{line.month:%Y-%m}", "certificate_kopecks": line.certificate, "family_kopecks": line.family,
             "planned_lessons": planned_lessons(line.month, weekdays, start, end,
                                                days_off=calendar.days_off(line.month.year, region_days_off))}
            for line in q.schedule
        ],
    }


async def balances(session: AsyncSession, certificate_id: uuid.UUID) -> list[dict]:
    rows = (await session.execute(text(
        "SELECT b.period_id, p.starts_on, p.ends_on, p.status AS period_status, b.nominal, b.available, b.reserved, b.spent "
        "FROM certificate_balances b JOIN periods p ON p.period_id = b.period_id WHERE b.certificate_id = :c "
        "ORDER BY p.starts_on DESC"), {"c": certificate_id})).mappings().all()
    return [dict(r) for r in rows]


_EFFECT = {
    "credit_nominal": "credited to available",
    "reserve": "available -> reserved",
    "post": "reserved -> spent (paid to the provider)",
    "release": "reserved -> available",
    "return_unused": "available -> budget (period closed)",
    "invoice_family": "invoiced to the family (co-payment)",
    "late_charge": "available -> spent (a closed month billed again after a dispute)",
    "late_refund": "spent -> available (a closed month refunded after a dispute)",
    "late_invoice": "invoiced to the family (a closed month billed again after a dispute)",
    "late_credit": "credited to the family (a closed month refunded after a dispute)",
}


async def history(session: AsyncSession, certificate_id: uuid.UUID, limit: int,
                  after: tuple[dt.datetime, str] | None) -> list[dict]:
    """A certificate's transfers in (created_at, transfer_id) order, after the keyset ``after``."""
    at, last = after if after else (None, "")
    rows = (await session.execute(text(
        "SELECT transfer_id, kind, period_id, amount, pending_state, enrolment_id, month, cause_event_id, cause, created_at "
        "FROM transfers WHERE certificate_id = :c "
        "AND (CAST(:at AS timestamptz) IS NULL OR (created_at, transfer_id) > (CAST(:at AS timestamptz), :last)) "
        "ORDER BY created_at, transfer_id LIMIT :l"), {"c": certificate_id, "at": at, "last": last, "l": limit})).mappings().all()
    return [{**dict(r), "effect": _EFFECT.get(r["kind"], r["kind"]),
             "month": f"{r['month']:%Y-%m}" if r["month"] else None} for r in rows]


async def reconciliation(session: AsyncSession, period_id: uuid.UUID | None) -> list[dict]:
    """The ledger's invariants, each as a check with its figures."""
    where = "WHERE period_id = :p" if period_id else ""
    p = {"p": period_id}
    checks: list[dict] = []

    total = (await session.execute(text(
        f"SELECT (SELECT COALESCE(sum(balance), 0) FROM accounts {where}) + "
        f"(SELECT COALESCE(sum(available + reserved + spent), 0) FROM certificate_balances {where})"), p)).scalar()
    checks.append({"name": "accounts_sum_to_zero", "ok": int(total) == 0, "value": int(total)})

    bad = (await session.execute(text(
        f"SELECT count(*) FROM certificate_balances {where} {'AND' if where else 'WHERE'} "
        "nominal <> available + reserved + spent"), p)).scalar()
    checks.append({"name": "nominal_equals_available_reserved_spent", "ok": bad == 0, "value": int(bad)})

    negative = (await session.execute(text(
        f"SELECT count(*) FROM certificate_balances {where} {'AND' if where else 'WHERE'} "
        "(available < 0 OR reserved < 0 OR spent < 0)"), p)).scalar()
    checks.append({"name": "no_negative_certificate_balance", "ok": negative == 0, "value": int(negative)})

    drift = (await session.execute(text(
        f"""
        WITH legs AS (
            SELECT debit_kind AS kind, debit_owner AS owner, period_id, -amount AS delta FROM transfers {where}
            UNION ALL SELECT credit_kind, credit_owner, period_id, amount FROM transfers {where}
        ), replay AS (SELECT kind, owner, period_id, sum(delta) AS balance FROM legs GROUP BY 1, 2, 3),
        stored AS (
            SELECT kind, owner, period_id, balance FROM accounts {where}
            UNION ALL SELECT 'certificate_available', certificate_id::text, period_id, available FROM certificate_balances {where}
            UNION ALL SELECT 'certificate_reserved', certificate_id::text, period_id, reserved FROM certificate_balances {where}
            UNION ALL SELECT 'certificate_spent', certificate_id::text, period_id, spent FROM certificate_balances {where}
        )
        SELECT count(*) FROM stored s FULL JOIN replay r USING (kind, owner, period_id)
        WHERE COALESCE(s.balance, 0) <> COALESCE(r.balance, 0)
        """), p)).scalar()
    checks.append({"name": "balances_equal_journal_replay", "ok": drift == 0, "value": int(drift)})

    pending = (await session.execute(text(
        f"""
        SELECT count(*) FROM certificate_balances b
        LEFT JOIN (SELECT certificate_id, period_id, sum(amount) AS pending FROM transfers
                   WHERE kind = 'reserve' AND pending_state = 'pending' GROUP BY 1, 2) t
          ON t.certificate_id = b.certificate_id AND t.period_id = b.period_id
        {where.replace('period_id', 'b.period_id')} {'AND' if where else 'WHERE'} b.reserved <> COALESCE(t.pending, 0)
        """), p)).scalar()
    checks.append({"name": "reserved_equals_open_reservations", "ok": pending == 0, "value": int(pending)})

    spent = (await session.execute(text(
        f"SELECT (SELECT COALESCE(sum(spent), 0) FROM certificate_balances {where}), "
        f"(SELECT COALESCE(sum(balance), 0) FROM accounts {where} {'AND' if where else 'WHERE'} kind = 'provider_payable'), "
        f"(SELECT COALESCE(-sum(balance), 0) FROM accounts {where} {'AND' if where else 'WHERE'} kind = 'budget_outlay')"),
        p)).one()
    checks.append({"name": "spent_equals_provider_payable", "ok": spent[0] == spent[1] == spent[2],
                   "value": {"spent": int(spent[0]), "provider_payable": int(spent[1]), "budget_outlay": int(spent[2])}})

    orders = (await session.execute(text(
        f"""
        WITH originals AS (SELECT * FROM payment_orders WHERE reissue_of IS NULL {'AND period_id = :p' if period_id else ''}),
        finals AS (SELECT provider_id, payer_code, month FROM originals WHERE kind = 'final'),
        paid AS (SELECT o.provider_id, o.payer_code, sum(o.amount_kopecks) AS paid FROM originals o
                 JOIN finals f ON f.provider_id = o.provider_id AND f.payer_code = o.payer_code AND f.month = o.month
                 GROUP BY 1, 2),
        carried AS (SELECT DISTINCT ON (provider_id, payer_code) provider_id, payer_code, offset_carried_kopecks AS carried
                    FROM originals WHERE kind = 'final' ORDER BY provider_id, payer_code, month DESC),
        posted AS (SELECT c.provider_id, c.payer_code, sum(cm.posted_kopecks) AS posted FROM contract_months cm
                   JOIN contracts c ON c.enrolment_id = cm.enrolment_id
                   JOIN finals f ON f.provider_id = c.provider_id AND f.payer_code = c.payer_code AND f.month = cm.month
                   WHERE cm.state = 'closed' GROUP BY 1, 2),
        late AS (SELECT o.provider_id, o.payer_code, sum(a.charged_kopecks - a.refunded_kopecks) AS late
                 FROM month_adjustments a JOIN originals o ON o.order_id = a.settled_order_id GROUP BY 1, 2)
        SELECT COALESCE(sum(paid.paid), 0) AS paid, COALESCE(sum(carried.carried), 0) AS carried,
               COALESCE(sum(posted.posted), 0) AS posted, COALESCE(sum(late.late), 0) AS late,
               count(*) FILTER (WHERE COALESCE(paid.paid, 0) - COALESCE(carried.carried, 0)
                                      <> COALESCE(posted.posted, 0) + COALESCE(late.late, 0)) AS bad
        FROM (SELECT DISTINCT provider_id, payer_code FROM finals) fp
        LEFT JOIN paid USING (provider_id, payer_code) LEFT JOIN carried USING (provider_id, payer_code)
        LEFT JOIN posted USING (provider_id, payer_code) LEFT JOIN late USING (provider_id, payer_code)
        """), p)).one()
    checks.append({"name": "payment_orders_equal_postings", "ok": orders.bad == 0,
                   "value": {"paid_kopecks": int(orders.paid), "offset_carried_kopecks": int(orders.carried),
                             "posted_kopecks": int(orders.posted), "late_adjusted_kopecks": int(orders.late),
                             "providers_off": int(orders.bad)}})  # (provider, payer) pairs off
    return checks


async def outstanding(session: AsyncSession, period_id: uuid.UUID | None) -> dict:
    """Late adjustments still waiting for a final payment order, and late charges no balance covered."""
    row = (await session.execute(text(
        f"""
        SELECT count(*) FILTER (WHERE settled_order_id IS NULL) AS n,
               COALESCE(sum(charged_kopecks) FILTER (WHERE settled_order_id IS NULL), 0) AS charged,
               COALESCE(sum(refunded_kopecks) FILTER (WHERE settled_order_id IS NULL), 0) AS refunded,
               min(month) FILTER (WHERE settled_order_id IS NULL) AS oldest,
               COALESCE(sum(uncovered_change_kopecks), 0) AS uncovered
          FROM month_adjustments {"WHERE period_id = :p" if period_id else ""}
        """), {"p": period_id})).one()
    return {"unsettled_adjustments": int(row.n), "unsettled_charged_kopecks": int(row.charged),
            "unsettled_refunded_kopecks": int(row.refunded),
            "oldest_unsettled_month": f"{row.oldest:%Y-%m}" if row.oldest else None,
            "uncovered_kopecks": int(row.uncovered)}
