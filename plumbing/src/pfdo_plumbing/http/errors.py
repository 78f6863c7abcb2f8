"""The catalogue of error codes: every machine ``code`` an answer can carry, with its HTTP status and a
Russian and an English human message.

Each package registers its codes at import: plumbing the common ones below, each service its own in
``pfdo_<service>.api.error_codes`` (imported first by its ``api`` package). A code two services raise
with different meanings has one entry per service (``lookup(code, service)``). A message is a
``str.format`` template filled from the error's details; a part in square brackets shows only when its
details are known (see :func:`render`). ``problems("code", ...)`` gives a route's ``responses=`` entry
listing the codes it can answer with. The answer's language is negotiated in ``language``; the
published catalogue (docs/ERRORS.md) is written by ``error_catalogue``.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .problem_model import PROBLEM_JSON, Problem, status_title


@dataclass(frozen=True)
class Text:
    """A detail value that reads differently per language (e.g. the name of what was not found)."""

    ru: str
    en: str

    def __str__(self) -> str:
        return self.ru


@dataclass(frozen=True)
class ErrorCode:
    """One machine code: its status and its human message templates (``str.format(**details)``).

    A part in square brackets is optional: it is kept only when the details fill every placeholder in
    it (``"Группа заполнена[: мест {capacity}]."``). A placeholder outside brackets that the details do
    not fill is shown as ``…``.
    """

    code: str
    status: int
    ru: str
    en: str
    service: str = "common"
    # turns raw details into what the templates show (e.g. a status value into its label)
    prepare: Callable[[dict[str, Any], str], dict[str, Any]] | None = field(default=None, compare=False, repr=False)

    def message(self, language: str = "ru", details: Mapping[str, Any] | None = None) -> str:
        values = dict(details or {})
        if self.prepare is not None:
            try:
                values = self.prepare(values, language)
            except Exception:  # noqa: BLE001 - a message must never fail an answer
                values = dict(details or {})
        return render(self.en if language == "en" else self.ru, values, language)


# code -> its variants; a code two services raise with different meanings has one variant per service
_CATALOGUE: dict[str, list[ErrorCode]] = {}


def register(*codes: ErrorCode) -> None:
    """Add codes to the catalogue. The same code may be registered once per service (a code two
    services raise with different meanings); the same code twice for one service must not differ."""
    for code in codes:
        variants = _CATALOGUE.setdefault(code.code, [])
        same_service = next((v for v in variants if v.service == code.service), None)
        if same_service is not None:
            if same_service != code:
                raise ValueError(f"error code {code.code!r} of {code.service} is registered twice with different content")
            continue
        variants.append(code)


def catalogue() -> dict[str, ErrorCode]:
    """Every registered code, sorted by code (for a code with several variants, the first registered)."""
    return {name: variants[0] for name, variants in sorted(_CATALOGUE.items())}


def entries() -> list[ErrorCode]:
    """Every registered variant, sorted by code then service."""
    return sorted((v for variants in _CATALOGUE.values() for v in variants), key=lambda v: (v.code, v.service))


def lookup(code: str, service: str | None = None) -> ErrorCode | None:
    """A code's entry: the given service's variant, else the common one, else the first."""
    variants = _CATALOGUE.get(code)
    if not variants:
        return None
    for wanted in (service, "common"):
        for variant in variants:
            if variant.service == wanted:
                return variant
    return variants[0]


_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


def _value(value: Any, language: str) -> Any:
    if isinstance(value, Text):
        return value.en if language == "en" else value.ru
    if isinstance(value, bool):
        return ("да" if value else "нет") if language != "en" else ("yes" if value else "no")
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(_value(v, language)) for v in value)
    return value


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def _fields(template: str) -> set[str]:
    try:
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}
    except ValueError:
        return set()


def _fill(template: str, values: Mapping[str, Any]) -> str:
    try:
        return template.format_map(_Missing(values))
    except (IndexError, KeyError, ValueError, AttributeError, TypeError):
        return template


def render(template: str, details: Mapping[str, Any], language: str = "ru") -> str:
    """Fill a message template from the details (see :class:`ErrorCode` for the optional parts)."""
    values = {k: _value(v, language) for k, v in details.items() if v is not None}

    def optional(match: re.Match[str]) -> str:
        part = match.group(1)
        return _fill(part, values) if _fields(part) <= values.keys() else ""

    return _fill(_OPTIONAL.sub(optional, template), values)


def problems(*codes: str, service: str | None = None) -> dict[int | str, dict[str, Any]]:
    """A FastAPI ``responses=`` entry: per status the Problem model, the list of codes it may carry
    and an example answer per code. Unknown codes are an error (a typo must not reach the docs)."""
    by_status: dict[int, list[ErrorCode]] = {}
    for name in codes:
        variants = _CATALOGUE.get(name)
        if not variants:
            raise KeyError(f"error code {name!r} is not in the catalogue; register it first")
        chosen = [lookup(name, service)] if service else variants
        for known in chosen:
            if known is not None and known not in by_status.get(known.status, []):
                by_status.setdefault(known.status, []).append(known)
    responses: dict[int | str, dict[str, Any]] = {}
    for status, listed in sorted(by_status.items()):
        lines = "\n".join(f"- `{c.code}`: {c.message('ru')} / {c.message('en')}" for c in listed)
        examples = {
            (c.code if service or len(_CATALOGUE[c.code]) == 1 else f"{c.code} ({c.service})"): {
                "summary": c.code,
                "value": {"type": "about:blank", "title": status_title(status, "ru"), "status": status,
                          "code": c.code, "detail": c.message("ru")},
            }
            for c in listed
        }
        responses[status] = {
            "model": Problem,
            "description": f"Коды ошибок / error codes:\n{lines}",
            "content": {PROBLEM_JSON: {"examples": examples}},
        }
    return responses


# The codes every service can answer with (plumbing's own registration).
COMMON_CODES = (
    ErrorCode("validation_error", 422, "Запрос заполнен неверно: проверьте отмеченные поля.",
              "The request is not valid: check the listed fields."),
    ErrorCode("bad_request", 400, "Запрос составлен неверно.", "The request is malformed."),
    ErrorCode("unauthenticated", 401, "Нужно войти в систему.", "Sign-in is required."),
    ErrorCode("forbidden", 403, "У вас нет прав на это действие.", "You are not allowed to do this."),
    ErrorCode("not_found", 404, "Не найдено[: {what}].", "Not found[: {what}]."),
    ErrorCode("invalid_characters", 422,
              "Текст не должен содержать символ NUL (U+0000) и непарные суррогаты UTF-16.",
              "Text must not contain NUL (U+0000) characters or unpaired UTF-16 surrogates."),
    ErrorCode("invalid_cursor", 422, "Ссылка на следующую страницу устарела или повреждена: начните список заново.",
              "The page cursor is not valid: start the list again."),
    ErrorCode("method_not_allowed", 405, "Этот метод не поддерживается по этому адресу.",
              "This method is not allowed at this address."),
    ErrorCode("http_error", 400, "Запрос не может быть выполнен.", "The request cannot be served."),
    ErrorCode("rate_limited", 429, "Слишком много запросов: повторите чуть позже.",
              "Too many requests: retry a little later."),
    ErrorCode("internal_error", 500, "Что-то пошло не так; номер запроса поможет поддержке найти причину.",
              "Something went wrong; the request id helps support find it."),
    ErrorCode("temporarily_unavailable", 503,
              "Сервис ненадолго недоступен, ничего не изменено; повторите через минуту.",
              "A backing service is briefly unavailable and nothing was changed; retry in a moment."),
    ErrorCode("idempotency_key_reused", 422,
              "Этот ключ идемпотентности уже использован с другим запросом.",
              "This Idempotency-Key was already used with a different request."),
    ErrorCode("idempotency_key_invalid", 400,
              "Ключ идемпотентности (Idempotency-Key) должен состоять из 1–255 видимых символов ASCII.",
              "The Idempotency-Key must be 1 to 255 visible ASCII characters."),
    ErrorCode("idempotency_key_in_progress", 409,
              "Запрос с этим ключом идемпотентности ещё выполняется; повторите чуть позже.",
              "A request with this Idempotency-Key is still in progress; retry shortly."),
)
register(*COMMON_CODES)


# The codes the gateway (nginx) answers with itself: deploy/gateway/nginx.conf.template writes these
# texts as they are (Russian, English when Accept-Language starts with en); a test compares the two.
GATEWAY_CODES = tuple(ErrorCode(*entry, service="gateway") for entry in (
    ("invalid_request_target", 400,
     "В адресе есть символы без процентного кодирования: закодируйте их как UTF-8 (RFC 3986), например "
     "q=%D1%82%D0%B0%D0%BD%D1%86%D1%8B вместо q=танцы.",
     "The URL has characters that are not percent-encoded; encode them as UTF-8 percent-escapes (RFC 3986), "
     "e.g. q=%D1%82%D0%B0%D0%BD%D1%86%D1%8B for q=танцы."),
    ("not_found", 404, "По этому адресу нет API.", "No API at this path."),
    ("bad_request", 400, "Запрос не разобран: неверная строка запроса или заголовок.",
     "The request could not be read: a malformed request line or header."),
    ("method_not_allowed", 405, "Этот метод HTTP здесь не принимается.", "This HTTP method is not accepted here."),
    ("length_required", 411, "Укажите Content-Length тела запроса.", "Give the Content-Length of the request body."),
    ("uri_too_long", 414, "Адрес запроса длиннее допустимого; передайте данные в теле запроса.",
     "The request address is longer than allowed; send the data in the request body."),
    ("request_header_too_large", 431, "Заголовки запроса (или один из них) больше допустимого.",
     "The request headers (or one of them) are larger than allowed."),
    ("not_implemented", 501,
     "Запрос использует возможность HTTP, которую шлюз не поддерживает (например, Transfer-Encoding).",
     "The request uses an HTTP feature the gateway does not support (e.g. Transfer-Encoding)."),
    ("payload_too_large", 413, "Тело запроса больше допустимого для этого адреса.",
     "The request body exceeds the limit for this endpoint."),
    ("rate_limited", 429, "Слишком много запросов; повторите через {retry_after} с.",
     "Rate limit exceeded; retry after {retry_after} s."),
    ("bad_gateway", 502, "Сервис сейчас недоступен; повторите чуть позже.",
     "The service is not reachable; retry a little later."),
    ("gateway_timeout", 504, "Сервис не ответил вовремя; повторите чуть позже.",
     "The service did not answer in time; retry a little later."),
))
register(*GATEWAY_CODES)
