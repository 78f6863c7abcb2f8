"""Examples of the request and response bodies in the OpenAPI documents.

``document_examples(globals())`` at the end of a service's schemas module gives every model of the
module that has none an example built from its fields: a value named by the field (a certificate
number of 10 digits, a Lipetsk address, money in kopecks, a program title in Russian...) or, for
other fields, a value of the field's type and range. A model may pass its own example instead
(``overrides={"Model": {...}}``) or declare one in ``model_config``; nested models use their
example. A test validates every example of a request body against its model.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

# deterministic, readable identifiers: the same field shows the same id in every example
_IDS = {
    "certificate_id": "0b6f1c1e-7a43-4c36-9d0a-5b1d2f7e8a91",
    "child_id": "5c2a9d0e-3b1f-4e6a-8d2c-7f4b1a9e0c35",
    "application_id": "9e1d4c7b-2a6f-4b83-9c5e-1f0a7d3b6e24",
    "provider_id": "3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48",
    "program_id": "7d4e1a2b-9c3f-4e58-b0a1-6f2d8c4e9b13",
    "module_id": "c81e4a7d-5f2b-4c9e-8a3d-0b6f1e2d7c59",
    "enrolment_id": "e4b2d9a1-6c7f-4e3b-9a58-2d1c0f8e7b36",
    "mark_id": "a2c5e8f1-4b7d-4a09-8e3c-5f1b9d2a6c70",
    "dispute_id": "d9f3b6a2-1e8c-4d75-b4a0-8c2e5f1d9a37",
    "period_id": "f1a8c3e6-2d9b-4f7a-8c51-3e0b7d4a2f96",
    "order_id": "b7e2a9d4-3c6f-4a81-9d0e-4f5c1b8a3e72",
    "reservation_id": "6a3d8f1c-9e2b-4c74-a5d0-1b7e4c9f2a85",
    "adjustment_id": "8c1f6b3e-5a9d-4e20-b7c4-9d2a0e6f1b53",
}
_DATES = {
    "birth_date": dt.date(2016, 3, 14), "valid_until": dt.date(2034, 3, 13), "starts_on": dt.date(2027, 9, 1),
    "ends_on": dt.date(2028, 5, 31), "start_date": dt.date(2027, 9, 1), "end_date": dt.date(2028, 5, 31),
    "lesson_date": dt.date(2027, 10, 12), "age_on": dt.date(2027, 9, 1), "certified_on": dt.date(2027, 8, 20),
    "dispute_deadline": dt.date(2027, 10, 19), "marked_on": dt.date(2027, 10, 12), "frozen_on": dt.date(2027, 11, 5),
    "end_date_actual": dt.date(2028, 5, 31), "submitted_on": dt.date(2028, 6, 3), "issued_on": dt.date(2027, 10, 1),
}
_TEXTS = {
    "number": "4801000123", "certificate_number": "4801000123", "region_code": "48", "municipality_code": "01",
    "municipality": "01", "code": "01", "payer_code": "01",
    "surname": "Иванов", "first_name": "Пётр", "patronymic": "Сергеевич", "snils": "112-233-445 95",
    "title": "Робототехника для начинающих", "program_title": "Робототехника для начинающих",
    "module_title": "Группа 1 (8–10 лет)", "program_name": "Робототехника для начинающих",
    "description": "Конструирование и программирование роботов на наборах LEGO Education.",
    "venue_address": "г. Липецк, ул. Советская, д. 10", "address": "г. Липецк, ул. Советская, д. 10",
    "provider_name": "МБУ ДО «Центр детского творчества «Октябрьский»", "bank_name": "ПАО Сбербанк",
    "inn": "4826012342", "ogrn": "1024840836129", "kpp": "482601001", "bik": "044206604",
    "settlement_account": "40702810235000001234", "correspondent_account": "30101810800000000604",
    "authority_name": "Управление образования и науки администрации города Липецка", "month": "2027-10", "reason": "Не хватает подтверждающих документов.",
    "note": "Проверено по журналу педагога.", "comment": "Ребёнку очень нравится, педагог внимательный.",
    "text": "робототехника", "parent_id": "parent-4b1d", "actor_sub": "operator-01", "sub": "parent-4b1d",
    "cursor": "Hq3cS0dV2m1VxB0aQ0uYqXsiayI6WyIyMDI3LTExIl19", "next_cursor": None,
    "direction": "technical", "funding_kind": "certificate", "payment_mode": "monthly", "usage_kind": "funding",
    "billing_history_url": "/api/billing/certificates/0b6f1c1e-7a43-4c36-9d0a-5b1d2f7e8a91/history",
    "request_id": "2f6c1d9a-7b3e-4a85-9c0d-1e4f8b2a6d37", "correlation_id": "2f6c1d9a-7b3e-4a85-9c0d-1e4f8b2a6d37",
    "subject_type": "certificate", "subject_id": "0b6f1c1e-7a43-4c36-9d0a-5b1d2f7e8a91", "action": "certificate.suspended",
    "actor_role": "municipal_operator", "kind": "advance", "service": "registry", "applicant_role": "parent",
    "close_reason": "left_region", "certificate_status": "active", "from_status": "submitted", "to_status": "certified",
    "claimed_status": "absent", "period_status": "open", "cause": "month_close:2027-10", "effect": "credited to available",
    "provider_type": "municipal_or_state_org", "status_reason": "operator_decision", "pending_state": "pending",
}
_NAMES = {  # a field called `name` in a model whose class name says what it names
    "Check": "accounts_sum_to_zero",
    "Municipality": "город Липецк", "Provider": "МБУ ДО «Центр детского творчества «Октябрьский»",
    "Module": "Группа 1 (8–10 лет)", "Program": "Робототехника для начинающих",
}
_AMOUNTS = ("kopecks", "nominal", "available", "reserved", "spent", "amount", "cost", "price", "charged", "refunded")
_COUNTS = {"capacity": 15, "hours": 72, "lessons_per_week": 2, "free_seats": 3, "held": 12, "waiting": 2,
           "planned_lessons": 8, "enrolled_days": 243, "module_days": 273, "rating_count": 14, "count": 14,
           "program_count": 3, "total": 128, "position": 1, "max_length": 10}
_SCALES = ("results", "teachers_and_group", "materials_and_equipment", "overall_satisfaction", "teachers", "materials",
           "satisfaction")
_ENUMERATION = re.compile(r"^([a-z][a-z_]+)(?:\s*\||,| or | \()")


def _kopecks(name: str) -> int:
    if "family" in name or "refund" in name:
        return 150_000
    if "nominal" in name:
        return 2_500_000
    if "available" in name:
        return 1_350_000
    if "spent" in name:
        return 450_000
    return 1_200_000


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type inside Optional/Annotated, whether None is allowed)."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0]
        else:
            return annotation, optional


def _bounded(value: int | float, field: FieldInfo | None) -> int | float:
    for meta in getattr(field, "metadata", ()) or ():
        for attr, pick in (("ge", max), ("gt", lambda v, b: max(v, b + 1)), ("le", min), ("lt", lambda v, b: min(v, b - 1))):
            bound = getattr(meta, attr, None)
            if bound is not None:
                value = pick(value, bound)
    return value


def value_for(name: str, annotation: Any, field: FieldInfo | None = None, owner: str = "") -> Any:
    """A realistic example value of a field, as JSON."""
    if field is not None and field.examples:
        return _jsonable(field.examples[0])
    kind, _ = _unwrap(annotation)
    origin = typing.get_origin(kind)
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(kind)
        return [value_for(name, args[0] if args else str, None, owner)]
    if origin in (dict, Mapping) or kind is dict:
        return {}
    if origin is typing.Literal:
        return typing.get_args(kind)[0]
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return example_of(kind)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(list(kind)[0]).value
    if kind is uuid.UUID:
        return _IDS.get(name, "4a7c2e9b-1d3f-4b86-a0c5-9e2d7f1b3c48")
    if kind is dt.datetime:
        return "2027-09-01T09:30:00Z"
    if kind is dt.time:
        return "17:30:00" if "end" in name else "16:00:00"
    if kind is dt.date:
        return _DATES.get(name, dt.date(2027, 9, 1)).isoformat()
    if kind is bool:
        return True
    if kind is int:
        if any(word in name for word in _AMOUNTS):
            return _bounded(_kopecks(name), field)
        if name in _COUNTS:
            return _bounded(_COUNTS[name], field)
        if name in _SCALES:
            return _bounded(80, field)
        if "age" in name:
            return _bounded(9 if "max" not in name else 12, field) if "min" in name or "max" in name or name == "age" else 9
        if name in ("year", "birth_year"):
            return 2016
        return _bounded(1, field)
    if kind is float:
        return _bounded(86.5, field)
    if kind is str:
        listed = _ENUMERATION.match((field.description or "") if field is not None else "")
        if listed:  # "pending | approved | refused", "advance or final.": the first value listed
            return listed.group(1)
        if "Error" in owner and name in ("code", "detail"):
            return {"code": "period_not_open", "detail": "Программный период ещё не открыт."}[name]
        if name == "name":
            return next((v for k, v in _NAMES.items() if k in owner), "Робототехника для начинающих")
        if name in _TEXTS:
            return _TEXTS[name]
        if name.endswith("_month"):
            return "2027-10"
        if name == "status" and "Period" in owner:
            return "open"
        if name.endswith("_id"):
            return _IDS.get(name, "4a7c2e9b-1d3f-4b86-a0c5-9e2d7f1b3c48")
        if name in ("status", "state"):
            return "active"
        return "пример"
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, enum.Enum)):
        return str(getattr(value, "value", value))
    return value


def _own_examples(model: type[BaseModel]) -> list[Any] | None:
    """The examples the model declares itself. A subclass gets a copy of its base's config, so an
    example equal to a base's is the base's (it lacks the subclass's own fields), not the model's."""
    extra = model.model_config.get("json_schema_extra")
    if not (isinstance(extra, dict) and extra.get("examples")):
        return None
    for base in model.__mro__[1:]:
        if isinstance(base, type) and issubclass(base, BaseModel) and base.model_config.get("json_schema_extra") == extra:
            return None
    return extra["examples"]


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """The model's declared example, or one built from its fields."""
    examples = _own_examples(model)
    if examples:
        return examples[0]
    return {
        (field.alias or name): value_for(name, field.annotation, field, model.__name__)
        for name, field in model.model_fields.items()
        if not field.exclude
    }


def document_examples(namespace: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Give every model defined in ``namespace`` (a module's ``globals()``) an example, unless it has one."""
    overrides = overrides or {}
    module = namespace.get("__name__")
    models = [obj for obj in namespace.values()
              if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == module]
    for model in models:
        if _own_examples(model):
            continue
        extra = model.model_config.get("json_schema_extra")
        example = {**example_of(model), **overrides.get(model.__name__, {})}
        model.model_config["json_schema_extra"] = {**(extra if isinstance(extra, dict) else {}), "examples": [example]}


__all__ = ["document_examples", "example_of", "value_for"]
