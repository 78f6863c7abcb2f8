"""The body of every error answer (RFC 9457 problem details) and the titles of the HTTP statuses,
in Russian and English: what the error catalogue (``errors.py``) and the exception handlers
(``problems.py``) both build answers from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .language import ENGLISH

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """The body of every error answer.

    ``code`` is the machine code (stable; see the error catalogue); ``title`` and ``detail`` are for
    people, in Russian by default and in English when ``Accept-Language`` prefers it. ``errors`` lists
    per-field or per-item reasons: a validation error's items are ``{pointer, code, message}`` with
    ``pointer`` an RFC 6901 JSON pointer into the request (``/query/limit``, ``/body/marks/3/status``).
    """

    type: str = Field(default="about:blank")
    title: str
    status: int
    code: str = Field(description="Machine-readable error code, stable across versions (see the error catalogue).")
    detail: str | None = None
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Per-field or per-item reasons. Validation items: `pointer` (JSON pointer into the request), "
        "`code` (machine), `message` (human, in the answer's language).",
    )


_STATUS_TITLES: dict[int, tuple[str, str]] = {
    400: ("Неверный запрос", "Bad request"),
    401: ("Нужен вход", "Unauthenticated"),
    403: ("Нет доступа", "Forbidden"),
    404: ("Не найдено", "Not found"),
    405: ("Метод не поддерживается", "Method not allowed"),
    409: ("Конфликт с текущим состоянием", "Conflict"),
    410: ("Больше недоступно", "Gone"),
    411: ("Нужна длина тела", "Length required"),
    413: ("Слишком большой запрос", "Content too large"),
    414: ("Слишком длинный адрес", "URI too long"),
    415: ("Неподдерживаемый формат", "Unsupported media type"),
    422: ("Неверные данные", "Unprocessable content"),
    429: ("Слишком много запросов", "Too many requests"),
    431: ("Слишком большие заголовки", "Request header fields too large"),
    500: ("Внутренняя ошибка", "Internal server error"),
    501: ("Не поддерживается", "Not implemented"),
    502: ("Ошибка смежного сервиса", "Bad gateway"),
    503: ("Сервис временно недоступен", "Service unavailable"),
    504: ("Смежный сервис не ответил", "Gateway timeout"),
}


def status_title(status: int, language: str) -> str:
    ru, en = _STATUS_TITLES.get(status, ("Ошибка", "Error"))
    return en if language == ENGLISH else ru
