"""Request ids, correlation, access logs and metrics for every HTTP request."""

from __future__ import annotations

import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import context
from ..logging import get_logger
from ..metrics import HTTP_LATENCY, HTTP_REQUESTS

log = get_logger("pfdo.http")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode(errors="replace") for k, v in scope.get("headers", [])}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _SAFE_ID.match(incoming) else str(uuid.uuid4())
        correlation = headers.get("x-correlation-id") or request_id
        if not _SAFE_ID.match(correlation):
            correlation = request_id
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        with context.bound(correlation=correlation, causation=f"http:{request_id}", request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = scope.get("route")
                route_path = getattr(route, "path", "unmatched")
                HTTP_REQUESTS.labels(self.service, scope["method"], route_path, str(status)).inc()
                HTTP_LATENCY.labels(self.service, scope["method"], route_path).observe(elapsed)
                if not route_path.endswith(("/health", "/metrics")):
                    log.info("http_request", method=scope["method"], path=scope["path"], status=status,
                             duration_ms=round(elapsed * 1000, 2))
