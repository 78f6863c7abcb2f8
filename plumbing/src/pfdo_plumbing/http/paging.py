"""One paging convention for every list of the public API.

A list takes ``limit`` (how many items at most; a documented default and maximum) and ``cursor``
(the ``next_cursor`` of the previous page, opaque) and answers ``{"items": [...], "next_cursor": ...}``;
``next_cursor`` is null on the last page, so nothing is ever cut silently.

The cursor is keyset-based: it carries the sort key of the last item shown, so a list that changes
between two requests neither repeats nor skips items. It is URL-safe base64 of ``HMAC tag ‖ JSON``
signed with the service's ``cursor_key`` and bound to a *scope* (the list and its filters): a cursor
that was altered, signed with another key or made for another list or other filters answers
422 ``invalid_cursor``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Query, Request
from pydantic import BaseModel, Field

from .problems import ProblemError

T = TypeVar("T")

CURSOR_MAX_LENGTH = 2048
_TAG_BYTES = 16
_VERSION = 1
_EXAMPLE_CURSOR = "Hq3cS0dV2m1VxB0aQ0uYqXsiayI6WyIyMDI3LTExIl19"


class Page(BaseModel, Generic[T]):
    """One page of a list: its items and the cursor of the next page (null on the last one)."""

    items: list[T] = Field(description="The items of this page, in the list's order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null when this is the last page.",
        examples=[_EXAMPLE_CURSOR],
    )

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """The example of ``Page[Item]``: one item, the item model's own example."""
        schema = handler(core_schema)
        item = _item_example(cls)
        if item is not None and "examples" not in schema:
            schema["examples"] = [{"items": [item], "next_cursor": _EXAMPLE_CURSOR}]
        return schema


def _item_example(page_model: type[BaseModel]) -> Any:
    """The first example of the item model of ``Page[Item]`` (its ``json_schema_extra``)."""
    args = getattr(page_model, "__pydantic_generic_metadata__", {}).get("args") or ()
    item = args[0] if args else None
    extra = getattr(item, "model_config", {}).get("json_schema_extra") if isinstance(item, type) else None
    if isinstance(extra, dict) and extra.get("examples"):
        return extra["examples"][0]
    return None


def invalid_cursor() -> ProblemError:
    """422 ``invalid_cursor`` (a code of plumbing's catalogue)."""
    return ProblemError(422, "invalid_cursor", "The page cursor is not valid: start the list again.")


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]


def encode_cursor(key: bytes, scope: str, after: Sequence[Any]) -> str:
    """An opaque signed token for the page after the item whose sort key is ``after``."""
    body = {"v": _VERSION, "s": hashlib.sha256(scope.encode()).hexdigest()[:24], "k": list(after)}
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False, default=str).encode()
    return base64.urlsafe_b64encode(_tag(key, payload) + payload).decode().rstrip("=")


def decode_cursor(key: bytes, scope: str, token: str) -> list[Any]:
    """The sort key carried by ``token``; 422 ``invalid_cursor`` unless it was made by
    :func:`encode_cursor` with the same key for the same scope."""
    if not token or len(token) > CURSOR_MAX_LENGTH:
        raise invalid_cursor()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid_cursor() from None
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:  # only the one spelling encode_cursor makes
        raise invalid_cursor()
    tag, payload = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    if len(tag) != _TAG_BYTES or not hmac.compare_digest(tag, _tag(key, payload)):
        raise invalid_cursor()
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise invalid_cursor() from None
    if (not isinstance(body, dict) or body.get("v") != _VERSION
            or body.get("s") != hashlib.sha256(scope.encode()).hexdigest()[:24] or not isinstance(body.get("k"), list)):
        raise invalid_cursor()
    return body["k"]


@dataclass(frozen=True)
class PageRequest:
    """``limit`` and ``cursor`` of a list request, with the key that signs its cursors."""

    limit: int
    cursor: str | None
    key: bytes

    def after(self, scope: str) -> list[Any] | None:
        """The sort key of the last item of the previous page (None on the first page)."""
        return None if self.cursor is None else decode_cursor(self.key, scope, self.cursor)

    def after_keyset(self, scope: str, *parsers: Callable[[Any], Any]) -> tuple[Any, ...] | None:
        """:meth:`after` with each value of the sort key parsed back (``dt.datetime.fromisoformat``,
        ``uuid.UUID``...); a key of another shape answers 422 ``invalid_cursor``."""
        after = self.after(scope)
        if after is None:
            return None
        if len(after) != len(parsers):
            raise invalid_cursor()
        try:
            return tuple(parse(value) for parse, value in zip(parsers, after))
        except (TypeError, ValueError) as exc:
            raise invalid_cursor() from exc

    def page(self, rows: Sequence[T], scope: str, sort_key: Callable[[T], Sequence[Any]]) -> dict[str, Any]:
        """``{"items", "next_cursor"}`` from up to ``limit + 1`` rows read in the list's order
        (the extra row only tells that there is a next page)."""
        items = list(rows[: self.limit])
        more = len(rows) > self.limit
        return {"items": items, "next_cursor": encode_cursor(self.key, scope, sort_key(items[-1])) if more else None}

    def page_of_all(self, items: Sequence[T], scope: str, sort_key: Callable[[T], Sequence[Any]]) -> dict[str, Any]:
        """A page of a short list read whole (a parent's children, an enrolment's marks): the same
        keyset convention, applied in memory."""
        after = self.after(scope)
        ordered = sorted(items, key=lambda i: [str(v) for v in sort_key(i)])
        if after is not None:
            mark = [str(v) for v in after]
            ordered = [i for i in ordered if [str(v) for v in sort_key(i)] > mark]
        return self.page(ordered[: self.limit + 1], scope, sort_key)

    def offset(self, scope: str) -> int:
        """For a list whose store offers no keyset yet: the position carried by the signed cursor."""
        after = self.after(scope)
        if after is None:
            return 0
        if len(after) != 1 or not isinstance(after[0], int) or after[0] < 0:
            raise invalid_cursor()
        return after[0]

    def page_at(self, rows: Sequence[T], scope: str, offset: int) -> dict[str, Any]:
        """``{"items", "next_cursor"}`` from up to ``limit + 1`` rows read from ``offset``."""
        more = len(rows) > self.limit
        return {"items": list(rows[: self.limit]),
                "next_cursor": encode_cursor(self.key, scope, [offset + self.limit]) if more else None}


def paging(*, default: int = 50, maximum: int = 200) -> Callable[..., PageRequest]:
    """A route dependency: ``limit`` (1..maximum, ``default``) and ``cursor`` from the query string."""

    def dependency(
        request: Request,
        limit: int = Query(default=default, ge=1, le=maximum,
                           description=f"Most items on the page (1..{maximum}, default {default})."),
        cursor: str | None = Query(default=None, min_length=1, max_length=CURSOR_MAX_LENGTH,
                                   description="`next_cursor` of the previous page (opaque); omit for the first page."),
    ) -> PageRequest:
        settings = getattr(getattr(request.app.state, "runtime", None), "settings", None)
        key = str(getattr(settings, "cursor_key", None) or "pfdo-dev-cursor-key").encode()
        return PageRequest(limit=limit, cursor=cursor, key=key)

    return dependency


__all__ = ["Page", "PageRequest", "decode_cursor", "encode_cursor", "invalid_cursor", "paging"]
