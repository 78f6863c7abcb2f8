"""The API's refusals as messages a person reads on the page.

The platform answers errors with problem+json (RFC 9457) whose ``detail`` is already Russian
when asked with ``Accept-Language: ru``; the page shows that text, and the messages of the
fields a form got wrong (``errors[].message``). When there is no readable problem (the gateway
could not be reached, an answer that is not problem+json), the page says what happened in general
words for its status.
"""

from __future__ import annotations

from typing import Any

import httpx

UNREACHABLE = "Сервис временно недоступен. Повторите попытку чуть позже."

BY_STATUS: dict[int, str] = {
    400: "Запрос не принят: проверьте введённые данные.",
    401: "Чтобы продолжить, войдите в личный кабинет.",
    403: "Недостаточно прав для этого действия.",
    404: "Не найдено: возможно, страница удалена или адрес набран с ошибкой.",
    409: "Данные успели измениться. Обновите страницу и повторите действие.",
    413: "Слишком большой запрос.",
    422: "Проверьте введённые данные.",
    429: "Слишком много запросов. Повторите попытку через минуту.",
}
"""General messages when the answer carries no problem detail (5xx: :data:`UNREACHABLE`)."""


class ApiError(Exception):
    """An API call that did not succeed, with what to tell the person."""

    def __init__(self, status: int, code: str, message: str, field_messages: tuple[str, ...] = (),
                 request_id: str | None = None, field_pointers: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        """The API's status; 503 when the gateway could not be reached or did not answer in time."""
        self.code = code
        self.message = message
        """The Russian text the page shows."""
        self.field_messages = field_messages
        """One line per field the API refused (validation errors)."""
        self.request_id = request_id
        self.field_pointers = field_pointers
        """(JSON pointer into the request, message) of each refused field, e.g. ``/marks/3/status``."""


def general_message(status: int) -> str:
    if status >= 500:
        return UNREACHABLE
    return BY_STATUS.get(status, BY_STATUS[400])


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    kind = response.headers.get("content-type", "")
    if not kind.startswith(("application/problem+json", "application/json")):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def from_response(response: httpx.Response) -> ApiError:
    """The error of an answer with a 4xx or 5xx status."""
    status = response.status_code
    body = _problem(response) or {}
    code = body.get("code") if isinstance(body.get("code"), str) else f"http_{status}"
    detail = body.get("detail")
    # a 5xx detail speaks of the platform's insides (a service, a timeout): the person gets the general words
    message = detail.strip() if isinstance(detail, str) and detail.strip() and status < 500 else general_message(status)
    fields = tuple(
        item["message"] for item in body.get("errors") or ()
        if isinstance(item, dict) and isinstance(item.get("message"), str) and item["message"]
    )
    pointers = tuple(
        (item["pointer"], str(item.get("message") or item.get("code") or ""))
        for item in body.get("errors") or () if isinstance(item, dict) and isinstance(item.get("pointer"), str)
    )
    request_id = body.get("request_id") or response.headers.get("x-request-id")
    return ApiError(status, code, message, fields, request_id if isinstance(request_id, str) else None, pointers)


def unreachable(exc: httpx.HTTPError) -> ApiError:
    """The error of a call that got no answer (connection refused, timeout...)."""
    return ApiError(503, "api_unreachable", UNREACHABLE)
