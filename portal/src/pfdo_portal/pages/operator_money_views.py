"""The view logic of the operator's money pages, pure functions (tested in portal/tests/unit):
what each operator role may do, the period forms read into API bodies with a Russian message next
to each field typed wrong, the month to show, the month close's progress, and the ledger's
reconciliation checks in Russian words (docs/domain-rules.md: periods, nominals and caps; month
close; the ledger's invariants)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..formatting import count, money
from ..money_input import MoneyInputError, parse_roubles

MUNICIPAL, REGIONAL = "municipal_operator", "regional_operator"

NOMINAL_ROWS = 3
"""Rows of age groups the nominals form offers at once (empty rows are left out)."""
OLDEST = 18
MOST_PLACES = 10_000_000
MOST_DIRECTION_CAP = 1_000


# ---- who may do what (the platform's access policy, plumbing/auth/policy.py) -----------------------

@dataclass(frozen=True)
class Permissions:
    manage_periods: bool
    """Create a draft period, set its nominals and caps (both operator roles)."""
    open_close_periods: bool
    """Open a period (credit every certificate) and close it (return the unused money): the region."""
    run_months: bool
    """Freeze a month's journal, issue its advances, close it: the region."""
    close_own_municipality: bool = False
    """Close a month for the operator's own municipality (its certificates' contracts): a municipal operator."""


def permissions(role: str) -> Permissions:
    regional = role == REGIONAL
    return Permissions(manage_periods=role in (MUNICIPAL, REGIONAL), open_close_periods=regional, run_months=regional,
                       close_own_municipality=role == MUNICIPAL)


FORBIDDEN = "Недостаточно прав для этого действия: его выполняет региональный оператор."


# ---- what a change's redirect says (its query: ``done`` and the API's figures) ------------------

PERIOD_DONE = {
    "created": "Черновик периода создан. Задайте номиналы и лимиты, затем откройте период.",
    "nominals": "Номиналы сохранены.",
    "caps": "Лимиты сохранены.",
    "opened": "Период открыт.",
    "closed": "Период закрыт: неиспользованные средства возвращены в бюджет.",
}

MONTH_DONE = {
    "frozen": "Журнал месяца закрыт: отметки и исправления больше не принимаются.",
    "closed": "Месяц закрыт.",
    "started": "Закрытие месяца запущено.",
}


def _figure(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name, "")
    return int(value) if value.isdigit() else None


def period_notice(query: Mapping[str, str]) -> str | None:
    done = query.get("done", "")
    notice = PERIOD_DONE.get(done)
    if done == "opened" and (credited := _figure(query, "credited")) is not None:
        return f"{notice} Номинал начислен сертификатам финансирования: {credited}."
    if done == "closed" and (returned := _figure(query, "returned")) is not None:
        return f"{notice} Возвращено: {money(returned)}."
    return notice


def month_notice(query: Mapping[str, str]) -> str | None:
    if query.get("done") == "advance":
        return f"Авансовые платёжные поручения сформированы: новых {_figure(query, 'issued') or 0}."
    return MONTH_DONE.get(query.get("done", ""))


# ---- forms ---------------------------------------------------------------------------------------

Errors = dict[str, str]


@dataclass
class Read:
    """A form read: the API's body (None when a field is wrong), the messages by field, the values to draw back."""

    body: dict[str, Any] | None
    errors: Errors = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _date(text: str) -> dt.date | None:
    """``2027-09-01`` (a date field) or ``01.09.2027`` (typed by hand) -> the date; None if neither."""
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def period_form(form: Mapping[str, Any]) -> Read:
    values = {name: _text(form, name) for name in ("starts_on", "ends_on")}
    errors: Errors = {}
    days = {}
    for name, what in (("starts_on", "начала"), ("ends_on", "окончания")):
        if not values[name]:
            errors[name] = f"Укажите дату {what} периода."
        elif (day := _date(values[name])) is None:
            errors[name] = "Дата в виде 01.09.2027."
        else:
            days[name] = day
    if not errors and days["ends_on"] < days["starts_on"]:
        errors["ends_on"] = "Период не может закончиться раньше, чем начнётся."
    if errors:
        return Read(None, errors, values)
    return Read({name: day.isoformat() for name, day in days.items()}, {}, values)


def default_period(today: dt.date, periods: Sequence[Mapping[str, Any]] = ()) -> tuple[str, str]:
    """The period the form offers, as its fields show it: the school year (1 September to 31 August)
    after the latest period, or the next one from today when there is none."""
    latest = max((dt.date.fromisoformat(str(p["ends_on"])) for p in periods), default=None)
    year = latest.year if latest else (today.year if today.month < 9 else today.year + 1)
    return dt.date(year, 9, 1).strftime("%d.%m.%Y"), dt.date(year + 1, 8, 31).strftime("%d.%m.%Y")


def _whole(text: str, *, least: int, most: int, what: str) -> tuple[int | None, str | None]:
    if not re.fullmatch(r"\d{1,9}", text.replace(" ", "").replace("\u00a0", "")):
        return None, f"{what}: целое число цифрами."
    number = int(text.replace(" ", "").replace("\u00a0", ""))
    if not least <= number <= most:
        return None, f"{what}: от {least} до {most}."
    return number, None


def _municipality(text: str, allowed: Mapping[str, str]) -> str | None:
    return text if text in allowed else None


def nominals_form(form: Mapping[str, Any], allowed: Mapping[str, str]) -> Read:
    """Rows ``nominal_<i>_{municipality,age_min,age_max,amount}``: a municipality of ``allowed``
    (code -> name), an age group 0..18 and a nominal typed in roubles («30 000,00»)."""
    rows: list[dict[str, Any]] = []
    errors: Errors = {}
    values: dict[str, str] = {}
    for i in range(NOMINAL_ROWS):
        names = {part: f"nominal_{i}_{part}" for part in ("municipality", "age_min", "age_max", "amount")}
        typed = {part: _text(form, name) for part, name in names.items()}
        values.update({names[part]: value for part, value in typed.items()})
        if not any(typed[part] for part in ("age_min", "age_max", "amount")):
            continue
        row_errors: Errors = {}
        municipality = _municipality(typed["municipality"], allowed)
        if municipality is None:
            row_errors[names["municipality"]] = "Выберите муниципалитет."
        age_min, problem = _whole(typed["age_min"], least=0, most=OLDEST, what="Возраст «от»")
        if problem:
            row_errors[names["age_min"]] = problem
        age_max, problem = _whole(typed["age_max"], least=0, most=OLDEST, what="Возраст «до»")
        if problem:
            row_errors[names["age_max"]] = problem
        if age_min is not None and age_max is not None and age_max < age_min:
            row_errors[names["age_max"]] = "Возраст «до» не может быть меньше возраста «от»."
        try:
            amount = parse_roubles(typed["amount"])
        except MoneyInputError as exc:
            row_errors[names["amount"]] = exc.message
        errors.update(row_errors)
        if not row_errors:
            rows.append({"municipality_code": municipality, "age_min": age_min, "age_max": age_max,
                         "amount_kopecks": amount})
    if not rows and not errors:
        errors["nominal_0_amount"] = "Заполните хотя бы одну строку: возраст и номинал."
    return Read(None if errors else {"nominals": rows}, errors, values)


CAP_FIELDS = (
    ("funding_cap", "Сертификатов финансирования", 0, MOST_PLACES),
    ("free_places", "Бесплатных мест", 0, MOST_PLACES),
    ("direction_cap", "Записей на одну направленность", 1, MOST_DIRECTION_CAP),
)
"""The caps of a municipality: the API's name, the label's start, the least and the most."""


def caps_form(form: Mapping[str, Any], allowed: Mapping[str, str]) -> Read:
    """``cap_municipality`` and the three caps; an empty cap is «без ограничения» (null)."""
    values = {f"cap_{name}": _text(form, f"cap_{name}") for name in ("municipality", *(c[0] for c in CAP_FIELDS))}
    errors: Errors = {}
    municipality = _municipality(values["cap_municipality"], allowed)
    if municipality is None:
        errors["cap_municipality"] = "Выберите муниципалитет."
    row: dict[str, Any] = {"municipality_code": municipality}
    for name, what, least, most in CAP_FIELDS:
        typed = values[f"cap_{name}"]
        if not typed:
            row[name] = None
            continue
        number, problem = _whole(typed, least=least, most=most, what=what)
        if problem:
            errors[f"cap_{name}"] = problem
        row[name] = number
    return Read(None if errors else {"caps": [row]}, errors, values)


def caps_values(caps: list[Mapping[str, Any]], allowed: Mapping[str, str]) -> dict[str, str]:
    """The caps form filled with the caps set for the first municipality the operator may set."""
    first = next(iter(allowed), None)
    found = next((c for c in caps if c["municipality_code"] == first), None)
    if found is None:
        return {}
    return {"cap_municipality": first, **{f"cap_{name}": "" if found.get(name) is None else str(found[name])
                                          for name, *_ in CAP_FIELDS}}


_BODY_POINTER = re.compile(r"^/body/(?P<list>nominals|caps)/(?P<i>\d+)/(?P<field>\w+)$|^/body/(?P<top>\w+)$")
_API_FIELDS = {"amount_kopecks": "amount", "municipality_code": "municipality"}


def api_field_errors(pointers: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> Errors:
    """The API's refused fields (``/body/nominals/0/amount_kopecks``) as the form's field names."""
    errors: Errors = {}
    for pointer, message in pointers:
        found = _BODY_POINTER.match(pointer)
        if found is None:
            continue
        if found.group("top"):
            errors[found.group("top")] = message
        elif found.group("list") == "nominals":
            errors[f"nominal_{found.group('i')}_{_API_FIELDS.get(found.group('field'), found.group('field'))}"] = message
        else:
            errors[f"cap_{_API_FIELDS.get(found.group('field'), found.group('field'))}"] = message
    return errors


def chosen_period(periods: list[dict[str, Any]], asked: str | None) -> dict[str, Any] | None:
    """The period asked for, else the latest that is not closed, else the latest."""
    if asked:
        found = next((p for p in periods if str(p["period_id"]) == asked), None)
        if found is not None:
            return found
    live = [p for p in periods if p["status"] != "closed"]
    return (live or periods or [None])[-1]


# ---- months --------------------------------------------------------------------------------------

_MONTH = re.compile(r"^(20\d{2}|2100)-(0[1-9]|1[0-2])$")


def parse_month(text: str | None) -> str | None:
    return text if isinstance(text, str) and _MONTH.match(text) else None


def default_month(today: dt.date) -> str:
    """The month to close: the one before today's."""
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last:%Y-%m}"


def shift_month(month: str, by: int) -> str:
    year, number = int(month[:4]), int(month[5:])
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_choices(today: dt.date, chosen: str) -> list[str]:
    """The months offered to pick, newest first: two school years back from today's, and the chosen one."""
    current = f"{today:%Y-%m}"
    months = [shift_month(current, -back) for back in range(24)]
    return months if chosen in months else sorted([*months, chosen], reverse=True)


START_POLLS = 10
"""Polls of a close just started that billing does not report yet (``not_started``) before the page
stops asking: a close refused or cut short does not keep the page polling."""


def polls_left(text: str | None) -> int:
    """The ``started`` countdown of the progress block's address (0..START_POLLS)."""
    return min(int(text), START_POLLS) if isinstance(text, str) and text.isdigit() else 0


CLOSE_STATES = {"not_started": "не начато", "running": "идёт", "done": "завершено"}


@dataclass(frozen=True)
class Progress:
    status: str
    closed: int
    total: int
    chunks_done: int
    chunks_total: int
    percent: int
    posted: int
    released: int
    invoiced: int

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def done(self) -> bool:
        return self.status == "done"

    @property
    def state(self) -> str:
        return CLOSE_STATES.get(self.status, self.status)

    @property
    def summary(self) -> str:
        """«Закрыто договоров: 2 из 3 (частей: 1 из 2)»."""
        return (f"Закрыто договоров: {self.closed} из {self.total} "
                f"(частей: {self.chunks_done} из {self.chunks_total}).")


def progress(answer: Mapping[str, Any]) -> Progress:
    """The billing's progress answer for the page; a month with nothing to close is 100 % once done."""
    total, closed = int(answer["contracts_total"]), int(answer["contracts_closed"])
    if total:
        percent = min(100, closed * 100 // total)
    else:
        percent = 100 if answer["status"] == "done" else 0
    return Progress(status=answer["status"], closed=closed, total=total, chunks_done=int(answer["chunks_done"]),
                    chunks_total=int(answer["chunks_total"]), percent=percent,
                    posted=int(answer["posted_kopecks"]), released=int(answer["released_kopecks"]),
                    invoiced=int(answer["family_invoiced_kopecks"]))


@dataclass(frozen=True)
class MonthState:
    frozen: bool
    frozen_on: str | None
    published: int | None
    applied: int
    closable: bool

    @property
    def applied_text(self) -> str:
        """The journal's saves (each a batch of marks) billing has applied, of those published."""
        if self.published is None:
            return f"{self.applied} (сколько всего — станет известно, когда журнал закроют)"
        return f"{self.applied} из {self.published}"


def month_state(navigator: Mapping[str, Any], billing: Mapping[str, Any]) -> MonthState:
    return MonthState(frozen=navigator.get("state") == "frozen" or bool(billing.get("frozen")),
                      frozen_on=navigator.get("frozen_on"), published=billing.get("published_events"),
                      applied=int(billing.get("applied_events") or 0), closable=bool(billing.get("closable")))


# ---- reconciliation ------------------------------------------------------------------------------

CHECKS = {
    "accounts_sum_to_zero": "Сумма всех счетов равна нулю",
    "nominal_equals_available_reserved_spent": "Номинал = доступно + зарезервировано + списано",
    "no_negative_certificate_balance": "Нет отрицательных остатков сертификатов",
    "balances_equal_journal_replay": "Остатки совпадают с проводками журнала",
    "reserved_equals_open_reservations": "Зарезервировано = открытые резервы",
    "spent_equals_provider_payable": "Списано = к оплате поставщикам = расход бюджета",
    "payment_orders_equal_postings": "Платёжные поручения = списания",
}

_CHECK_COUNTS = {
    "nominal_equals_available_reserved_spent": ("сертификат с расхождением", "сертификата с расхождением",
                                                "сертификатов с расхождением"),
    "no_negative_certificate_balance": ("сертификат с минусом", "сертификата с минусом", "сертификатов с минусом"),
    "balances_equal_journal_replay": ("счёт с расхождением", "счёта с расхождением", "счетов с расхождением"),
    "reserved_equals_open_reservations": ("сертификат с расхождением", "сертификата с расхождением",
                                          "сертификатов с расхождением"),
}

FIGURES = {
    "spent": "списано с сертификатов",
    "provider_payable": "к оплате поставщикам",
    "budget_outlay": "расход бюджета",
    "paid_kopecks": "оплачено поручениями",
    "offset_carried_kopecks": "перенесено в зачёт",
    "posted_kopecks": "списано за закрытые месяцы",
    "late_adjusted_kopecks": "поздние корректировки",
}


@dataclass(frozen=True)
class CheckRow:
    name: str
    ok: bool
    figures: tuple[str, ...]

    @property
    def verdict(self) -> str:
        return "сходится" if self.ok else "нарушено"


def _figures(name: str, value: Any) -> tuple[str, ...]:
    if name == "accounts_sum_to_zero":
        return (f"сумма: {money(int(value))}",)
    if name in _CHECK_COUNTS:
        return (count(int(value), *_CHECK_COUNTS[name]),)
    if isinstance(value, Mapping):
        shown = [f"{FIGURES[key]}: {money(int(amount))}" for key, amount in value.items() if key in FIGURES]
        if "providers_off" in value:
            shown.append(count(int(value["providers_off"]), "поставщик с расхождением",
                               "поставщика с расхождением", "поставщиков с расхождением"))
        return tuple(shown)
    return () if value is None else (str(value),)


def check_rows(report: Mapping[str, Any]) -> list[CheckRow]:
    return [CheckRow(CHECKS.get(c["name"], c["name"]), bool(c["ok"]), _figures(c["name"], c.get("value")))
            for c in report.get("checks") or ()]
