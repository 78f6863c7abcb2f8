"""A tiny ASGI app standing in for a PFDO service in the devstack tests.

Answers the readiness paths (``/api/<name>/ready``, ``/auth/health``), echoes any other request
as JSON (method, path, headers, body length), sleeps on ``/api/<name>/slow?s=<seconds>`` and streams
``/api/<name>/me/events?n=<events>&gap=<seconds>`` as Server-Sent Events, one event per gap.
"""

from __future__ import annotations

import asyncio
import json
import os
from urllib.parse import parse_qs

NAME = os.environ.get("PFDO_SERVICE_NAME", "standin")


async def _body(receive) -> bytes:
    chunks = []
    while True:
        msg = await receive()
        chunks.append(msg.get("body", b""))
        if not msg.get("more_body"):
            return b"".join(chunks)


async def _event_stream(scope, send) -> None:
    query = parse_qs(scope["query_string"].decode())
    n, gap = int(query.get("n", ["3"])[0]), float(query.get("gap", ["1"])[0])
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
    for i in range(1, n + 1):
        if i > 1:
            await asyncio.sleep(gap)
        await send({"type": "http.response.body", "body": b"id: %d\ndata: {}\n\n" % i, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    body = await _body(receive)
    status = 200
    if path.endswith("/me/events"):
        await _event_stream(scope, send)
        return
    if path.endswith("/slow"):
        seconds = float(parse_qs(scope["query_string"].decode()).get("s", ["1"])[0])
        await asyncio.sleep(seconds)
    payload = {
        "service": NAME,
        "method": scope["method"],
        "path": path,
        "query": scope["query_string"].decode(),
        "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        "body_length": len(body),
        "env": {k: v for k, v in os.environ.items() if k.startswith("PFDO_")},
    }
    data = json.dumps(payload).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"x-request-id", b"from-upstream")],
    })
    await send({"type": "http.response.body", "body": data})
