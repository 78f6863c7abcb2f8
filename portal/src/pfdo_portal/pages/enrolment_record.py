"""What a parent reads on an enrolment's page besides its state: every attendance mark and every
debit month by month, which marks may still be disputed, whether the enrolment may be cancelled
or terminated (and when it would end), and the rating of a finished program.

Pure functions over the API's answers (docs/domain-rules.md: "Attendance journal and disputes",
"Month close", "Late adjustments", "Contracts and payment modes", "Ratings").
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MARK_STATUSES = ("present", "absent", "excused")

CERTIFICATE_MOVES: dict[str, int] = {"post": 1, "late_charge": 1, "late_refund": -1}
"""Billing's transfers that debit (or give back to) the certificate for a month of a contract."""

FAMILY_MOVES: dict[str, int] = {"invoice_family": 1, "late_invoice": 1, "late_credit": -1}
"""Billing's transfers that invoice (or credit) the family's part for a month of a contract."""

RATING_SCALES = ("results", "teachers_and_group", "materials_and_equipment", "overall_satisfaction")
RATING_STEPS = tuple(range(0, 101, 10))
COMMENT_LIMIT = 2000


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def month_key(value: dt.date | str) -> str:
    """``YYYY-MM`` of a date, a ``YYYY-MM-DD`` string or a ``YYYY-MM`` string."""
    return value.strftime("%Y-%m") if isinstance(value, dt.date) else str(value)[:7]


# ---- marks and disputes --------------------------------------------------------------------

@dataclass(frozen=True)
class DisputeView:
    dispute_id: str
    state: str
    claimed_status: str
    opened_at: str
    resolved_at: str | None


@dataclass(frozen=True)
class MarkRow:
    mark_id: str
    lesson_date: dt.date
    status: str
    deadline: dt.date
    disputable: bool
    """Still within the 7 days and not under an open dispute: the form is offered."""
    claims: tuple[str, ...]
    """The statuses the parent may claim (every other one)."""
    dispute: DisputeView | None
    """The latest dispute on this mark, if any."""


def latest_disputes(disputes: Iterable[Mapping[str, Any]]) -> dict[str, DisputeView]:
    """Per mark id, its latest dispute (by opening time)."""
    latest: dict[str, DisputeView] = {}
    for d in sorted(disputes, key=lambda d: str(d["opened_at"])):
        latest[str(d["mark_id"])] = DisputeView(str(d["dispute_id"]), str(d["state"]), str(d["claimed_status"]),
                                                str(d["opened_at"]), d.get("resolved_at"))
    return latest


def mark_row(mark: Mapping[str, Any], dispute: DisputeView | None, today: dt.date) -> MarkRow:
    deadline = _date(mark["dispute_deadline"])
    under_dispute = bool(mark.get("open_dispute_id")) or (dispute is not None and dispute.state == "open")
    return MarkRow(
        mark_id=str(mark["mark_id"]), lesson_date=_date(mark["lesson_date"]), status=str(mark["status"]),
        deadline=deadline, disputable=today <= deadline and not under_dispute,
        claims=tuple(s for s in MARK_STATUSES if s != mark["status"]), dispute=dispute,
    )


# ---- months --------------------------------------------------------------------------------

@dataclass(frozen=True)
class MonthRecord:
    month: str
    """``YYYY-MM``."""
    marks: tuple[MarkRow, ...]
    planned_lessons: int | None
    """Lessons of the month by the timetable (from the enrolment's instalments), if known."""
    planned_certificate: int | None
    planned_family: int | None
    """The month's instalments (kopecks) as the contract set them."""
    certificate_debited: int
    """Debited from the certificate for the month (postings, late charges less refunds)."""
    family_invoiced: int
    """Invoiced to the family for the month (co-payment, late invoices less credits)."""
    released: int
    """The month's unearned reservation given back to the certificate's available balance."""
    billed: bool
    """The month was closed by billing (something posted, released or invoiced)."""

    @property
    def present(self) -> int:
        return sum(1 for m in self.marks if m.status == "present")

    @property
    def disputable(self) -> bool:
        return any(m.disputable for m in self.marks)


def month_records(enrolment: Mapping[str, Any], marks: Iterable[Mapping[str, Any]],
                  history: Iterable[Mapping[str, Any]], disputes: Iterable[Mapping[str, Any]],
                  today: dt.date) -> list[MonthRecord]:
    """The enrolment's months, oldest first: each with its lessons and their marks, the
    instalments planned and what billing debited from the certificate and invoiced to the family.

    A month appears when it has a mark or a transfer of this enrolment, or an instalment up to the
    contract's last day."""
    enrolment_id = str(enrolment["enrolment_id"])
    latest = latest_disputes(d for d in disputes if str(d.get("enrolment_id")) == enrolment_id)
    by_month: dict[str, list[MarkRow]] = {}
    for m in marks:
        if str(m.get("enrolment_id", enrolment_id)) != enrolment_id:
            continue
        row = mark_row(m, latest.get(str(m["mark_id"])), today)
        by_month.setdefault(month_key(row.lesson_date), []).append(row)
    planned = {month_key(i["month"]): i for i in enrolment.get("instalments") or ()}
    certificate: dict[str, int] = {}
    family: dict[str, int] = {}
    released: dict[str, int] = {}
    billed: set[str] = set()
    for t in history:
        if str(t.get("enrolment_id")) != enrolment_id or not t.get("month"):
            continue
        month, kind, amount = month_key(t["month"]), str(t["kind"]), int(t["amount"])
        if kind in CERTIFICATE_MOVES:
            certificate[month] = certificate.get(month, 0) + CERTIFICATE_MOVES[kind] * amount
        elif kind in FAMILY_MOVES:
            family[month] = family.get(month, 0) + FAMILY_MOVES[kind] * amount
        elif kind == "release":
            released[month] = released.get(month, 0) + amount
        else:
            continue
        if kind in ("post", "release", "invoice_family"):
            billed.add(month)
    # a terminated contract keeps its original instalments: months after its end show only if billed
    last = month_key(enrolment["ends_on"])
    planned = {month: line for month, line in planned.items() if month <= last}
    months = sorted(set(by_month) | set(planned) | set(certificate) | set(family) | set(released))
    records = []
    for month in months:
        instalment = planned.get(month) or {}
        records.append(MonthRecord(
            month=month, marks=tuple(sorted(by_month.get(month, ()), key=lambda r: r.lesson_date)),
            planned_lessons=instalment.get("planned_lessons"),
            planned_certificate=instalment.get("certificate_kopecks"),
            planned_family=instalment.get("family_kopecks"),
            certificate_debited=certificate.get(month, 0), family_invoiced=family.get(month, 0),
            released=released.get(month, 0), billed=month in billed,
        ))
    return records


def record_totals(records: Iterable[MonthRecord]) -> dict[str, int]:
    records = list(records)
    return {"certificate": sum(r.certificate_debited for r in records),
            "family": sum(r.family_invoiced for r in records),
            "lessons": sum(len(r.marks) for r in records), "present": sum(r.present for r in records)}


# ---- cancel or terminate ---------------------------------------------------------------------

@dataclass(frozen=True)
class EndAction:
    action: str
    """``cancel`` or ``terminate`` (the API's action)."""
    title: str
    explanation: str
    ends_on: dt.date | None
    """Terminate: the last day of the contract afterwards."""


def last_day_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def end_action(enrolment: Mapping[str, Any], today: dt.date) -> EndAction | None:
    """What the parent may do to end the enrolment today: cancel before the contract starts
    (everything is released), terminate a running contract (it ends at the end of this month,
    still billed by its payment mode; later months are released), or nothing."""
    state = str(enrolment["state"])
    starts_on, ends_on = _date(enrolment["starts_on"]), _date(enrolment["ends_on"])
    if state == "waitlisted":
        return EndAction("cancel", "Покинуть лист ожидания", "Заявка будет снята с листа ожидания.", None)
    if state == "offered":
        return EndAction("cancel", "Отказаться от оферты",
                         "Договор не будет заключён: зарезервированные средства сертификата вернутся на баланс, "
                         "место в группе освободится.", None)
    if state in ("requested", "reserved") or (state == "confirmed" and today < starts_on):
        return EndAction("cancel", "Отменить запись",
                         "Запись будет отменена до начала обучения: зарезервированные средства сертификата "
                         "вернутся на баланс, место в группе освободится.", None)
    if state == "confirmed" and starts_on <= today <= ends_on:
        last = min(ends_on, last_day_of_month(today))
        return EndAction("terminate", "Расторгнуть договор",
                         "Договор будет расторгнут: обучение закончится в последний день этого месяца. "
                         "Текущий месяц оплачивается по условиям договора, средства следующих месяцев "
                         "вернутся на баланс сертификата.", last)
    return None


# ---- rating ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RatingView:
    mode: str
    """``new`` (may rate), ``edit`` (rated, still editable), ``final`` (rated, no longer editable)."""
    scores: dict[str, int]
    comment: str
    editable_until: dt.datetime | None


def rating_view(item: Mapping[str, Any] | None, now: dt.datetime) -> RatingView | None:
    """The rating part of an ended enrolment's page from ``GET me/ratings``'s item (None: the
    enrolment cannot be rated, e.g. not ended yet or not known to ratings yet)."""
    if item is None:
        return None
    rating = item.get("rating")
    if not rating:
        return RatingView("new", {}, "", None) if item.get("can_rate", True) else None
    until = dt.datetime.fromisoformat(str(rating["editable_until"]).replace("Z", "+00:00"))
    final = bool(rating.get("final")) or now >= until
    return RatingView("final" if final else "edit", {k: int(v) for k, v in rating["scores"].items()},
                      rating.get("comment") or "", until)


def rating_body(form: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The API's rating body (scores and comment) from the form, and what is missing: each scale
    must be chosen (0..100 in steps of 10; the API checks the values again)."""
    scores: dict[str, int] = {}
    missing = []
    for scale in RATING_SCALES:
        raw = str(form.get(scale) or "")
        if raw.isdigit() and int(raw) in RATING_STEPS:
            scores[scale] = int(raw)
        else:
            missing.append(scale)
    comment = str(form.get("comment") or "").strip()
    return {"scores": scores, "comment": comment or None}, missing
