"""Refuse text with NUL characters before it reaches a handler.

PostgreSQL cannot store U+0000 in text columns, and no field of ours needs it: a request whose
query string or JSON body carries one gets a clear 422 instead of a database error.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from .body import buffered_body
from .errors import lookup
from .language import negotiate
from .problems import status_title

_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
# a UTF-16 surrogate escape that is not part of a pair cannot be encoded as UTF-8 (nor stored)
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _has_nul(body: bytes) -> bool:
    return b"\x00" in body or bool(_ESCAPED_NUL.search(body)) or bool(_LONE_SURROGATE.search(body))


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query or "\x00" in scope.get("path", ""):
            await self._refuse(scope, send)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        body, replay = await buffered_body(receive)
        if body is None:  # the client went away
            return
        if _has_nul(body):
            await self._refuse(scope, send)
            return
        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        request_id = (scope.get("state") or {}).get("request_id")
        accept = next((v.decode("latin-1") for n, v in scope.get("headers", ()) if n == b"accept-language"), None)
        language = negotiate(accept)
        known = lookup("invalid_characters")
        payload = {
            "type": "about:blank", "title": status_title(422, language), "status": 422, "code": "invalid_characters",
            "detail": known.message(language) if known else "Text must not contain NUL (U+0000) characters.",
        }
        if request_id:
            payload["request_id"] = request_id
        body = json.dumps(payload, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode()),
                                (b"content-language", language.encode()), (b"vary", b"Accept-Language")]})
        await send({"type": "http.response.body", "body": body})
