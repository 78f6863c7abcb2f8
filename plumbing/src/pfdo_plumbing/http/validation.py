"""Validation errors as items a client can act on: where (``pointer``), what (``code``), and a human
``message`` in the request's language.

``pointer`` is an RFC 6901 JSON pointer into the request, starting with where the value came from:
``/query/page_size``, ``/path/program_id``, ``/header/idempotency-key``, ``/body/marks/3/status``.
``code`` is derived from pydantic's error type and is stable (``missing``, ``not_integer``,
``greater_than_equal``, ``too_long``, ``enum``...); unknown types pass through unchanged, so a
validator raising ``PydanticCustomError("no_such_thing", ...)`` gives the code ``no_such_thing``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import lookup, render

_LOCATIONS = {"query": "query", "path": "path", "header": "header", "cookie": "cookie", "body": "body"}

# pydantic error type -> the public item code
_CODES: dict[str, str] = {
    "missing": "missing",
    "int_parsing": "not_integer",
    "int_type": "not_integer",
    "int_from_float": "not_integer",
    "int_parsing_size": "out_of_range",
    "float_parsing": "not_number",
    "float_type": "not_number",
    "finite_number": "not_number",
    "decimal_parsing": "not_number",
    "decimal_type": "not_number",
    "decimal_max_digits": "too_many_digits",
    "decimal_max_places": "too_many_decimal_places",
    "decimal_whole_digits": "too_many_digits",
    "greater_than": "greater_than",
    "greater_than_equal": "greater_than_equal",
    "less_than": "less_than",
    "less_than_equal": "less_than_equal",
    "multiple_of": "multiple_of",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "too_long": "too_long",
    "too_short": "too_short",
    "string_pattern_mismatch": "pattern_mismatch",
    "string_type": "not_text",
    "string_unicode": "not_text",
    "enum": "enum",
    "literal_error": "enum",
    "uuid_parsing": "not_uuid",
    "uuid_type": "not_uuid",
    "uuid_version": "not_uuid",
    "date_parsing": "not_date",
    "date_type": "not_date",
    "date_from_datetime_parsing": "not_date",
    "date_from_datetime_inexact": "not_date",
    "date_past": "date_not_past",
    "date_future": "date_not_future",
    "datetime_parsing": "not_datetime",
    "datetime_type": "not_datetime",
    "datetime_from_date_parsing": "not_datetime",
    "datetime_object_invalid": "not_datetime",
    "timezone_aware": "timezone_required",
    "timezone_naive": "timezone_not_allowed",
    "time_parsing": "not_time",
    "bool_parsing": "not_boolean",
    "bool_type": "not_boolean",
    "json_invalid": "invalid_json",
    "json_type": "invalid_json",
    "model_type": "not_object",
    "model_attributes_type": "not_object",
    "dict_type": "not_object",
    "list_type": "not_list",
    "tuple_type": "not_list",
    "set_type": "not_list",
    "frozen_set_type": "not_list",
    "extra_forbidden": "unexpected_field",
    "value_error": "invalid",
    "assertion_error": "invalid",
    "union_tag_invalid": "enum",
    "union_tag_not_found": "missing",
    "url_parsing": "not_url",
    "url_type": "not_url",
    "url_scheme": "not_url",
}

# item code -> (Russian, English) message templates, filled from pydantic's ``ctx``
FIELD_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("Обязательное поле не заполнено.", "Field required."),
    "not_integer": ("Нужно целое число.", "Must be a whole number."),
    "not_number": ("Нужно число.", "Must be a number."),
    "out_of_range": ("Число слишком большое.", "The number is too large."),
    "too_many_digits": ("Слишком много цифр[: не больше {max_digits}].", "Too many digits[: at most {max_digits}]."),
    "too_many_decimal_places": ("Слишком много знаков после запятой[: не больше {decimal_places}].",
                                "Too many decimal places[: at most {decimal_places}]."),
    "greater_than": ("Значение должно быть больше {gt}.", "Must be greater than {gt}."),
    "greater_than_equal": ("Значение должно быть не меньше {ge}.", "Must be greater than or equal to {ge}."),
    "less_than": ("Значение должно быть меньше {lt}.", "Must be less than {lt}."),
    "less_than_equal": ("Значение должно быть не больше {le}.", "Must be less than or equal to {le}."),
    "multiple_of": ("Значение должно быть кратно {multiple_of}.", "Must be a multiple of {multiple_of}."),
    "too_long": ("Слишком длинно: не больше {max_length} (символов или элементов).",
                 "Too long: at most {max_length} (characters or items)."),
    "too_short": ("Слишком коротко: не меньше {min_length} (символов или элементов).",
                  "Too short: at least {min_length} (characters or items)."),
    "pattern_mismatch": ("Значение не соответствует формату[ {pattern}].",
                         "The value does not match the format[ {pattern}]."),
    "not_text": ("Нужна строка текста.", "Must be text."),
    "enum": ("Недопустимое значение[; допустимо: {expected}].", "Not an allowed value[; allowed: {expected}]."),
    "not_uuid": ("Нужен идентификатор UUID (например, 3fa85f64-5717-4562-b3fc-2c963f66afa6).",
                 "Must be a UUID (e.g. 3fa85f64-5717-4562-b3fc-2c963f66afa6)."),
    "not_date": ("Нужна дата в формате ГГГГ-ММ-ДД (например, 2027-11-15).",
                 "Must be a date as YYYY-MM-DD (e.g. 2027-11-15)."),
    "date_not_past": ("Дата должна быть в прошлом.", "The date must be in the past."),
    "date_not_future": ("Дата должна быть в будущем.", "The date must be in the future."),
    "not_datetime": ("Нужны дата и время в формате ISO 8601 (например, 2027-11-15T10:00:00+03:00).",
                     "Must be a date and time in ISO 8601 (e.g. 2027-11-15T10:00:00+03:00)."),
    "timezone_required": ("Укажите часовой пояс (например, +03:00).", "A time zone is required (e.g. +03:00)."),
    "timezone_not_allowed": ("Часовой пояс здесь не указывается.", "No time zone is allowed here."),
    "not_time": ("Нужно время в формате ЧЧ:ММ.", "Must be a time as HH:MM."),
    "not_boolean": ("Нужно значение true или false.", "Must be true or false."),
    "invalid_json": ("Тело запроса — не корректный JSON.", "The request body is not valid JSON."),
    "not_object": ("Нужен объект JSON.", "Must be a JSON object."),
    "not_list": ("Нужен список.", "Must be a list."),
    "unexpected_field": ("Такого поля нет: уберите его.", "Unknown field: remove it."),
    "invalid": ("Неверное значение.", "Invalid value."),
    "not_url": ("Нужен адрес URL.", "Must be a URL."),
}


def _escape(part: Any) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer(location: Sequence[Any]) -> str:
    """An RFC 6901 JSON pointer for a pydantic/FastAPI error location (``("query", "page_size")``)."""
    parts = list(location)
    if parts and parts[0] in _LOCATIONS:
        parts[0] = _LOCATIONS[parts[0]]
    return "".join("/" + _escape(p) for p in parts)


def item_code(error_type: str) -> str:
    return _CODES.get(error_type, error_type)


def _context(ctx: Mapping[str, Any] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in (ctx or {}).items():
        if key == "expected" and isinstance(value, str):
            value = value.replace("'", "").replace(" or ", ", ")
        values[key] = value if isinstance(value, (int, float, str)) else str(value)
    return values


def field_message(code: str, language: str, ctx: Mapping[str, Any] | None = None, fallback: str | None = None,
                  service: str | None = None) -> str:
    """The human message of an item code: the field table, else the error catalogue, else the
    fallback (e.g. pydantic's English text) in English or a generic Russian sentence."""
    values = _context(ctx)
    if code in FIELD_MESSAGES:
        ru, en = FIELD_MESSAGES[code]
        return render(en if language == "en" else ru, values, language)
    known = lookup(code, service)
    if known is not None:
        return known.message(language, values)
    if language == "en" and fallback:
        return fallback
    return render(FIELD_MESSAGES["invalid"][0 if language != "en" else 1], values, language)


def validation_items(errors: Iterable[Mapping[str, Any]], language: str) -> list[dict[str, Any]]:
    """FastAPI's ``RequestValidationError.errors()`` as ``{pointer, code, message}`` items."""
    items: list[dict[str, Any]] = []
    for error in errors:
        code = item_code(str(error.get("type", "invalid")))
        ctx = error.get("ctx") if isinstance(error.get("ctx"), Mapping) else None
        fallback = str(error.get("msg") or "") or None
        items.append({
            "pointer": pointer(error.get("loc", ())),
            "code": code,
            "message": field_message(code, language, ctx, fallback),
        })
    return items
