"""The provider's forms and what the pages show of the API's answers, as pure functions: a form's
fields to the API's body (the organisation, a program, a module with its weekly timetable and its
price typed in roubles), the API's refusals placed next to the fields they concern, the
certifier's decision and the certification history, payment orders by month, disputes on marks.

The rules themselves (identifiers' checksums, a module's dates and ages, who may submit) are the
registry's (docs/domain-rules.md); the forms only carry what a person typed and show the answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..gateway import ApiError
from ..money_input import MoneyInputError, parse_roubles, roubles_for_input

Form = Mapping[str, Any]

# ---- the choices of the forms ----------------------------------------------------------------

PROVIDER_TYPES = ("municipal_or_state_org", "private_org", "entrepreneur_with_staff", "entrepreneur_without_staff")
DIRECTIONS = ("technical", "natural_science", "physical_sports", "artistic", "tourism_local_history",
              "social_humanitarian")
FUNDING_KINDS = ("certificate", "municipal_task")
"""The codes the registry takes (its API's enums); their names come from the labels."""


def options(label: Callable[[str, str], str], group: str, codes: Iterable[str]) -> list[tuple[str, str]]:
    """(code, name) of each choice of a select, in the API's order; a code without a name shows as it is."""
    return [(code, label(group, code)) for code in codes]


# ---- the API's refusals next to their fields -------------------------------------------------

PROVIDER_FIELDS = ("provider_type", "name", "inn", "kpp", "ogrn", "municipality_code", "address", "bank_name", "bik",
                   "settlement_account", "correspondent_account")
PROGRAM_FIELDS = ("name", "description", "direction")
MODULE_FIELDS = ("name", "funding_kind", "min_age", "max_age", "capacity", "hours", "start_date", "end_date",
                 "municipality_code", "address", "schedule", "price")

CODE_FIELDS: dict[str, str] = {
    "inn": "inn", "ogrn": "ogrn", "ogrnip": "ogrn", "kpp": "kpp", "bik": "bik", "account": "settlement_account",
    "correspondent_account": "correspondent_account", "bank_name": "bank_name",
    "municipality": "municipality_code", "age_range": "min_age", "module_dates": "end_date",
    "capacity": "capacity", "price": "price", "hours": "hours", "schedule": "schedule", "address": "address",
    "name_required": "name",
}
"""The first words of a registry error code -> the form field it is about (``inn_checksum`` -> ``inn``)."""

POINTER_FIELDS = {"price_kopecks": "price", "schedule": "schedule"}
"""Body fields whose form field has another name (the price is typed in roubles)."""


@dataclass
class Refusal:
    """What to show of an API's refusal: messages per form field, and the rest above the form."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str, message: str) -> None:
        if message not in self.fields.setdefault(name, []):
            self.fields[name].append(message)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def _field_of_pointer(pointer: str, fields: Iterable[str]) -> str | None:
    """``/body/schedule/0/starts_at`` -> ``schedule``; ``/body/modules/0/price_kopecks`` -> ``price``."""
    parts = [p for p in pointer.split("/") if p]
    if parts[:1] == ["body"]:
        parts = parts[1:]
    if parts[:1] == ["modules"] and len(parts) > 2:
        parts = parts[2:]
    if not parts:
        return None
    name = POINTER_FIELDS.get(parts[0], parts[0])
    return name if name in fields else None


def _field_of_code(code: str, fields: Iterable[str]) -> str | None:
    known = set(fields)
    for prefix, name in CODE_FIELDS.items():
        if (code == prefix or code.startswith(prefix + "_")) and name in known:
            return name
    return None


def refusal_of(exc: ApiError, fields: Iterable[str]) -> Refusal:
    """The API's refusal placed on the form: each ``errors[]`` item on its field (by its pointer),
    a domain error on the field its code names (``kpp_required`` -> КПП); what fits no field stays
    general (shown above the form)."""
    fields = tuple(fields)
    refusal = Refusal()
    for pointer, message in exc.field_pointers:
        name = _field_of_pointer(pointer, fields)
        if name is None:
            refusal.general.append(message)
        else:
            refusal.add(name, message)
    if not exc.field_pointers:
        name = _field_of_code(exc.code, fields)
        if name is None:
            refusal.general.append(exc.message)
        else:
            refusal.add(name, exc.message)
    elif exc.message not in refusal.general:
        refusal.general.insert(0, exc.message)
    return refusal


# ---- the organisation ------------------------------------------------------------------------

def text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def provider_body(form: Form) -> dict[str, Any]:
    """The registration form -> ``ProviderIn`` (an empty КПП is no КПП: an entrepreneur has none)."""
    body: dict[str, Any] = {name: text(form, name) for name in PROVIDER_FIELDS}
    body["kpp"] = body["kpp"] or None
    for digits in ("inn", "ogrn", "bik", "settlement_account", "correspondent_account"):
        body[digits] = body[digits].replace(" ", "")
    return body


# ---- programs and modules --------------------------------------------------------------------

def program_body(form: Form) -> dict[str, Any]:
    """The program's details form -> ``ProgramIn`` / ``ProgramPatch``."""
    return {"name": text(form, "name"), "description": text(form, "description"), "direction": text(form, "direction")}


SLOT_ROWS = 3
"""Empty timetable rows a module's form offers beyond the slots it has."""


@dataclass(frozen=True)
class Slot:
    weekday: str = ""
    starts_at: str = ""
    ends_at: str = ""


def slots_of_form(form: Form) -> list[Slot]:
    """The timetable rows as typed (``slot-<n>-weekday``, ``-starts``, ``-ends``), empty ones left out."""
    rows = []
    for n in range(50):
        row = Slot(text(form, f"slot-{n}-weekday"), text(form, f"slot-{n}-starts"), text(form, f"slot-{n}-ends"))
        if any((row.weekday, row.starts_at, row.ends_at)):
            rows.append(row)
    return rows


def slot_rows(slots: list[Slot]) -> list[Slot]:
    """The rows the form draws: the slots there are, then empty ones to add more."""
    return [*slots, *[Slot()] * max(SLOT_ROWS - len(slots), 1)]


def _seconds(value: str) -> str:
    return value if len(value) != 5 else f"{value}:00"


def module_body(form: Form) -> tuple[dict[str, Any], Refusal]:
    """The module form -> ``ModuleIn``, and what the page itself refuses before asking the API (a
    number that is not one, a price that is not an amount, a timetable row half filled)."""
    refusal = Refusal()
    body: dict[str, Any] = {name: text(form, name) for name in
                            ("name", "funding_kind", "start_date", "end_date", "municipality_code", "address")}
    for name in ("min_age", "max_age", "capacity", "hours"):
        value = text(form, name)
        if not value.isdigit():
            refusal.add(name, "Укажите целое число.")
        else:
            body[name] = int(value)
    try:
        body["price_kopecks"] = parse_roubles(text(form, "price"))
    except MoneyInputError as exc:
        refusal.add("price", exc.message)
    schedule = []
    for row in slots_of_form(form):
        if not (row.weekday and row.starts_at and row.ends_at):
            refusal.add("schedule", "В каждой строке расписания укажите день недели, начало и конец занятия.")
            continue
        schedule.append({"weekday": int(row.weekday), "starts_at": _seconds(row.starts_at),
                         "ends_at": _seconds(row.ends_at)})
    if not schedule and "schedule" not in refusal.fields:
        refusal.add("schedule", "Добавьте в расписание хотя бы одно занятие.")
    body["schedule"] = schedule
    return body, refusal


def module_values(module: Mapping[str, Any] | None, *, municipality_code: str = "") -> dict[str, str]:
    """A module (``ModuleOut``) as the form's values; a new module's form starts from the
    organisation's municipality and certificate funding."""
    if module is None:
        return {"funding_kind": "certificate", "municipality_code": municipality_code}
    values = {name: "" if module.get(name) is None else str(module[name]) for name in
              ("name", "funding_kind", "min_age", "max_age", "capacity", "hours", "start_date", "end_date",
               "municipality_code", "address")}
    return {**values, "price": roubles_for_input(module.get("price_kopecks"))}


def module_slots(module: Mapping[str, Any] | None) -> list[Slot]:
    return [Slot(str(s["weekday"]), str(s["starts_at"])[:5], str(s["ends_at"])[:5])
            for s in (module or {}).get("schedule") or ()]


def form_values(form: Form, names: Iterable[str]) -> dict[str, str]:
    """What was typed, to draw the form again after a refusal."""
    return {name: text(form, name) for name in names}


# ---- what may be done with a program in its status -------------------------------------------

@dataclass(frozen=True)
class Allowed:
    edit: bool
    add_module: bool
    remove_module: bool
    submit: bool
    back_to_review: bool
    """An edit sends a certified program back to the certifier."""


def allowed(status: str) -> Allowed:
    """The registry's moves for a program in ``status`` (docs/domain-rules.md: programs)."""
    editable = status in ("draft", "submitted", "rejected", "certified")
    return Allowed(edit=editable, add_module=editable, remove_module=status in ("draft", "submitted", "rejected"),
                   submit=status in ("draft", "rejected"), back_to_review=status == "certified")


# ---- the certifier's decision and the history ------------------------------------------------

ACTIONS = {
    "submit": "Отправлена на сертификацию",
    "certify": "Сертифицирована",
    "reject": "Отклонена",
    "archive": "Перенесена в архив",
    "edit": "Изменены сведения о программе",
    "add_module": "Добавлен модуль",
    "update_module": "Изменён модуль",
    "remove_module": "Удалён модуль",
    "set_normative_cost": "Установлена нормативная стоимость",
}
ROLES = {
    "provider": "Организация",
    "municipal_operator": "Уполномоченный орган муниципалитета",
    "regional_operator": "Региональный оператор",
    "service": "Платформа",
}


@dataclass(frozen=True)
class Step:
    action: str
    actor: str
    at: dt.datetime
    from_status: str | None
    to_status: str
    reason: str | None


def _when(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def history_steps(items: Iterable[Mapping[str, Any]]) -> list[Step]:
    """The certification history, newest first, in words."""
    steps = [Step(ACTIONS.get(str(i["action"]), str(i["action"])),
                  ROLES.get(str(i["actor_role"]), str(i["actor_role"])),
                  _when(i["at"]), i.get("from_status"), str(i["to_status"]), i.get("reason"))
             for i in items]
    return sorted(steps, key=lambda s: s.at, reverse=True)


@dataclass(frozen=True)
class Decision:
    """The certifier's last word: ``certified`` (with the normative cost of each module) or
    ``rejected`` (with the reason); None while there is none (a draft, under review)."""

    outcome: str
    reason: str | None
    costs: list[tuple[str, int | None, int]]
    """(module name, normative cost, price) of each module, kopecks."""


def decision(program: Mapping[str, Any], items: Iterable[Mapping[str, Any]]) -> Decision | None:
    status = program["status"]
    if status not in ("certified", "rejected"):
        return None
    rejections = [i for i in items if i.get("action") == "reject" or i.get("to_status") == "rejected"]
    reason = program.get("status_reason")
    if status == "rejected" and rejections:
        reason = max(rejections, key=lambda i: _when(i["at"])).get("reason") or reason
    costs = [(str(m["name"]), m.get("normative_cost_kopecks"), int(m["price_kopecks"]))
             for m in program.get("modules") or ()]
    return Decision(status, reason if status == "rejected" else None, costs if status == "certified" else [])


# ---- payment orders by month -----------------------------------------------------------------

@dataclass(frozen=True)
class Month:
    month: str
    """``YYYY-MM``."""
    orders: list[dict[str, Any]]
    """Advance first, then the final settlement."""
    total_kopecks: int


KIND_ORDER = {"advance": 0, "final": 1}


def orders_by_month(orders: Iterable[Mapping[str, Any]]) -> list[Month]:
    """The provider's payment orders grouped by month, the newest month first."""
    months: dict[str, list[dict[str, Any]]] = {}
    for order in orders:
        months.setdefault(str(order["month"]), []).append(dict(order))
    return [Month(month, sorted(items, key=lambda o: (KIND_ORDER.get(o["kind"], 9), str(o["issued_on"]))),
                  sum(int(o["amount_kopecks"]) for o in items if not o.get("reissued_as")))  # a reissue replaces
            for month, items in sorted(months.items(), reverse=True)]


# ---- disputes on the provider's marks ---------------------------------------------------------

@dataclass(frozen=True)
class DisputeRow:
    dispute_id: str
    group: str
    lesson_date: str
    claimed_status: str
    state: str
    opened_at: dt.datetime
    resolved_at: dt.datetime | None
    outcome: str


def dispute_rows(disputes: Iterable[Mapping[str, Any]], enrolments: Iterable[Mapping[str, Any]],
                 groups: Mapping[str, str], mark_names: Mapping[str, str]) -> list[DisputeRow]:
    """Disputes with the group of their enrolment and the outcome in words, open ones first and
    then the newest."""
    module_of = {str(e["enrolment_id"]): str(e["module_id"]) for e in enrolments}
    rows = []
    for d in disputes:
        claimed = mark_names.get(str(d["claimed_status"]), str(d["claimed_status"]))
        state = str(d["state"])
        outcome = {"open": "Ждёт решения уполномоченного органа.",
                   "upheld": f"Удовлетворено: отметка исправлена на «{claimed}».",
                   "rejected": "Отклонено: отметка осталась прежней."}.get(state, state)
        rows.append(DisputeRow(
            str(d["dispute_id"]), groups.get(module_of.get(str(d["enrolment_id"]), ""), "—"), str(d["lesson_date"]),
            claimed, state, _when(d["opened_at"]), _when(d["resolved_at"]) if d.get("resolved_at") else None, outcome))
    return sorted(rows, key=lambda r: (r.state != "open", -r.opened_at.timestamp()))
