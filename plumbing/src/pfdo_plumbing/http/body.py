"""The whole body of an ASGI request, read once by a middleware that must see it (the NUL guard,
idempotency) and handed to the application again as if it had not been read."""

from __future__ import annotations

from starlette.types import Message, Receive


async def buffered_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole request body (None when the client went away), and a ``receive`` that hands it to
    the app again."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, receive
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
