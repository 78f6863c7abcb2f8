"""Status push: GET /me/events, a Server-Sent Events stream of the caller's enrolments, disputes and
attendance journal (see ``adapters/status_feed.py`` for where the rows come from).

Each event carries ``id: <position>`` (only grows); a client that reconnects with
``Last-Event-ID`` (or ``?last_event_id=``) gets exactly the events after it. Without one the
stream starts at the present. Comments (``: keep-alive``) every ``events_heartbeat_s`` keep
proxies from closing an idle connection; a stream ends after ``events_max_stream_s`` (the client
reconnects and resumes: a token that has expired meanwhile is then refused) and when the service
stops.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.http.problems import ProblemError

from ..adapters.status_feed import CLOSED, LAGGED, FeedRow, Follower, StatusFeed
from .context import NavigatorContext

EVENT_STREAM = "text/event-stream"

router = APIRouter(tags=["cabinet"])


def format_event(row: FeedRow) -> bytes:
    """One SSE event: ``id``, ``event`` (enrolment, dispute or attendance) and one line of JSON."""
    data = orjson.dumps({"kind": row.kind, "occurred_at": row.occurred_at, **row.data})
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (row.position, row.kind.encode(), data)


def _follower(who: Principal) -> Follower:
    if who.role == Role.PARENT:
        return Follower(parent_id=who.sub)
    try:
        return Follower(provider_id=str(uuid.UUID(who.provider_id or "")))
    except ValueError as exc:
        raise ProblemError(403, "forbidden", "The token names no provider organisation.") from exc


def _resume_from(header: str | None, query: str | None) -> int | None:
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ProblemError(422, "invalid_last_event_id", "Last-Event-ID must be a non-negative integer.",
                           errors=[{"pointer": "/header/Last-Event-ID", "code": "invalid_last_event_id"}])
    return int(raw)


async def stream_events(feed: StatusFeed, follower: Follower, after: int | None, *, heartbeat_s: float,
                        max_stream_s: float, retry_ms: int) -> AsyncIterator[bytes]:
    """The stream's bytes: resume (the follower's rows after ``after``), then live rows."""
    sub = feed.subscribe(follower)  # before reading the table: nothing committed meanwhile slips between
    try:
        yield b"retry: %d\n\n" % retry_ms
        last, pruned_through = await feed.state()
        if after is None:
            after = last
        elif after < pruned_through:
            yield b"event: reset\ndata: {\"reason\": \"feed_pruned\"}\n\n"  # reload the state, then follow

        async def catch_up(position: int) -> AsyncIterator[FeedRow]:
            while True:
                rows = await feed.rows_after(follower, position)
                for row in rows:
                    yield row
                    position = row.position
                if len(rows) < 500:
                    return

        async for row in catch_up(after):
            yield format_event(row)
            after = row.position
        deadline = asyncio.get_running_loop().time() + max_stream_s
        while not feed.closing:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            try:
                item: Any = await asyncio.wait_for(sub.queue.get(), timeout=min(heartbeat_s, left))
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            if item is CLOSED:
                return
            if item is LAGGED:
                async for row in catch_up(after):
                    yield format_event(row)
                    after = row.position
                continue
            if item.position > after:
                yield format_event(item)
                after = item.position
    finally:
        feed.unsubscribe(sub)


@router.get(
    "/me/events", summary="Follow my enrolments, disputes and attendance journal (Server-Sent Events)",
    response_class=StreamingResponse,
    description="A `text/event-stream` of changes in the caller's scope: a parent's own children, a provider's "
    "own organisation. Events: `enrolment` (every state change, billing's reservation included, and the "
    "funding-queue position), `dispute` (opened, decided), `attendance` (a posted or corrected batch of marks "
    "of one enrolment and month). Each has an `id` that only grows: reconnecting with `Last-Event-ID` (or "
    "`?last_event_id=`) gives exactly the events after it, without one the stream starts now. An `event: "
    "reset` means events that old are no longer kept: reload the state. Comments keep the connection alive; "
    "the stream ends after a while and when the service stops (reconnect with the last id).",
    operation_id="followMyEvents",
    responses={**problems("unauthenticated", "forbidden", "invalid_last_event_id"),
               200: {"content": {EVENT_STREAM: {"schema": {"type": "string"}, "example":
               'id: 42\nevent: enrolment\ndata: {"kind": "enrolment", "enrolment_id": "…", "state": "reserved"}\n\n'}},
               "description": "The event stream."}},
)
async def follow(
    nav: NavigatorContext,
    request: Request,
    last_event_id_header: str | None = Header(default=None, alias="Last-Event-ID",
                                              description="Id of the last event received: resume after it."),
    last_event_id: str | None = Query(default=None, max_length=20,
                                      description="The same as the Last-Event-ID header (which wins)."),
    who: Principal = Depends(require("navigator.events.follow")),
) -> StreamingResponse:
    after = _resume_from(last_event_id_header, last_event_id)
    follower = _follower(who)
    settings = nav.settings
    body = stream_events(nav.feed, follower, after, heartbeat_s=settings.events_heartbeat_s,
                         max_stream_s=settings.events_max_stream_s, retry_ms=settings.events_retry_ms)
    return StreamingResponse(body, media_type=EVENT_STREAM, headers={
        "Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no",
    })
