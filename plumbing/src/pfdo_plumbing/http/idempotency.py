"""The ``Idempotency-Key`` header: a POST that creates or moves something, sent again with the same
key and the same request, gets the answer the first one got instead of doing it twice.

How it works (one ASGI middleware for every service, wired by ``create_app``):

- A key is scoped to the caller (the verified token's subject): two users never see each other's
  answers. It is 1 to 255 visible ASCII characters, else 400 ``idempotency_key_invalid``.
- The request's fingerprint is SHA-256 of the method, the path with its query and the body (JSON
  bodies canonical: keys sorted, no whitespace), so a re-encoded but equal body is the same request.
- The first request claims the key with one statement (a row with no answer yet), runs, and its
  answer (status, headers such as ``Location``, body) is stored by a second statement before it is
  sent. Both run outside the route's transaction on a pooled connection, each its own transaction.
- A later request with the key: the same fingerprint replays the stored answer (header
  ``Idempotent-Replayed: true``); another fingerprint (other body, path or method) answers 422
  ``idempotency_key_reused``; while the first still runs, 409 ``idempotency_key_in_progress`` with
  ``Retry-After`` (never a second effect).
- Answers of 500 and above (and 429) are not stored: the key is released and a retry runs again.
- The running first request says every ``idempotency_abandoned_after_s / 4`` that it is alive;
  a key whose request stopped saying so for ``idempotency_abandoned_after_s`` (its process died)
  may be taken over by a retry with the same request. A request that died after its effect
  committed but before its answer was stored runs again then: the use cases' own guards
  (already enrolled, a duplicate СНИЛС, posting keys) are the last line there.
- Keys live in the service's own database (table ``idempotency_keys``), so a restarted or another
  instance replays them too; a periodic job deletes keys older than ``idempotency_retention_h``
  (at least 24 hours).

Requests without the header, and routes that only read (their policy action ends in ``.read``) or
are public, pass straight through: a method check and a scan of the header names.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import fastapi.routing
import orjson
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.policy import declared_action
from ..auth.tokens import InvalidToken, TokenVerifier
from ..db import Database
from ..logging import get_logger
from .body import buffered_body
from .errors import lookup, problems
from .problems import PROBLEM_JSON, Problem, problem_response

if TYPE_CHECKING:
    from ..runtime import ServiceRuntime

log = get_logger(__name__)

HEADER = "Idempotency-Key"
_HEADER_NAME = HEADER.lower().encode()
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
#: headers of an answer that belong to one sending, not to the stored answer
_NOT_STORED = frozenset({b"date", b"server", b"x-request-id", b"set-cookie", b"transfer-encoding", b"connection"})


class InvalidKey(ValueError):
    """The header is not one key of 1..255 visible ASCII characters."""


def parse_key(values: list[bytes]) -> str:
    """The key from the header's values (one value of 1..255 characters from ``!`` to ``~``)."""
    if len(values) != 1:
        raise InvalidKey("exactly one Idempotency-Key header is expected")
    raw = values[0]
    if not 1 <= len(raw) <= MAX_KEY_LENGTH or any(byte < 0x21 or byte > 0x7E for byte in raw):
        raise InvalidKey("the key must be 1 to 255 visible ASCII characters")
    return raw.decode("ascii")


def canonical_body(body: bytes, content_type: str) -> bytes:
    """JSON bodies with object keys sorted and no whitespace (an equal body encoded differently is
    the same request), numbers kept exactly as written (``1`` and ``1.0`` differ, big integers are
    never rounded); any other body, or JSON that does not parse, as sent."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if body and (media_type == "application/json" or media_type.endswith("+json")):
        try:
            value = json.loads(body, parse_float=_Number, parse_int=_Number, parse_constant=_refuse_constant)
        except ValueError:  # not JSON (UnicodeDecodeError and JSONDecodeError included)
            return body
        return "".join(_canonical(value)).encode()
    return body


class _Number(str):
    """A JSON number's text as written."""


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _canonical(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        yield "{"
        for i, name in enumerate(sorted(value)):
            yield ("," if i else "") + json.dumps(name, ensure_ascii=False) + ":"
            yield from _canonical(value[name])
        yield "}"
    elif isinstance(value, list):
        yield "["
        for i, item in enumerate(value):
            if i:
                yield ","
            yield from _canonical(item)
        yield "]"
    elif isinstance(value, _Number):
        yield str.__str__(value)
    else:  # strings, true, false, null
        yield json.dumps(value, ensure_ascii=False)


def request_fingerprint(method: str, path: str, query: bytes, body: bytes, content_type: str = "") -> bytes:
    """SHA-256 of the method, the path with its query string and the canonical body."""
    digest = hashlib.sha256()
    digest.update(method.upper().encode())
    digest.update(b"\n")
    digest.update(path.encode())
    digest.update(b"?")
    digest.update(query)
    digest.update(b"\n")
    digest.update(canonical_body(body, content_type))
    return digest.digest()


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """What claiming a key found: ``owner`` set when this request runs; else the earlier request's
    fingerprint and its answer (None while it still runs)."""

    owner: uuid.UUID | None
    fingerprint: bytes | None = None
    answer: StoredAnswer | None = None


_CLAIM_SQL = """
WITH claimed AS (
    INSERT INTO idempotency_keys AS k (subject, key, request_hash, request_method, request_path, owner)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (subject, key) DO UPDATE SET owner = EXCLUDED.owner, created_at = now(), alive_at = now()
        WHERE k.status IS NULL AND k.request_hash = EXCLUDED.request_hash AND k.alive_at < now() - $7::interval
    RETURNING k.owner
)
SELECT true AS claimed, NULL::bytea AS request_hash, NULL::smallint AS status,
       NULL::jsonb AS response_headers, NULL::bytea AS response_body
FROM claimed
UNION ALL
SELECT false, request_hash, status, response_headers, response_body FROM idempotency_keys
WHERE subject = $1 AND key = $2 AND NOT EXISTS (SELECT 1 FROM claimed)
"""
_READ_SQL = """
SELECT false AS claimed, request_hash, status, response_headers, response_body FROM idempotency_keys
WHERE subject = $1 AND key = $2
"""
_COMPLETE_SQL = """
UPDATE idempotency_keys SET status = $4, response_headers = $5, response_body = $6, completed_at = now()
WHERE subject = $1 AND key = $2 AND owner = $3
"""
_ALIVE_SQL = "UPDATE idempotency_keys SET alive_at = now() WHERE subject = $1 AND key = $2 AND owner = $3"
_RELEASE_SQL = "DELETE FROM idempotency_keys WHERE subject = $1 AND key = $2 AND owner = $3 AND status IS NULL"
_PURGE_SQL = """
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < now() - $1::interval LIMIT $2
))
"""


class IdempotencyStore:
    """The ``idempotency_keys`` table. Every statement runs alone (autocommit) on a connection of
    the service's pool: one round trip each, no BEGIN/COMMIT."""

    def __init__(self, db: Database, *, abandoned_after_s: float = 120.0) -> None:
        self.db = db
        self.abandoned_after = dt.timedelta(seconds=abandoned_after_s)

    async def _run(self, method: str, sql: str, *args: Any) -> Any:
        async with self.db.engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            return await getattr(driver, method)(sql, *args)

    async def claim(self, subject: str, key: str, fingerprint: bytes, method: str, path: str) -> Claim:
        owner = uuid.uuid4()
        row = None
        for _ in range(3):
            row = await self._run("fetchrow", _CLAIM_SQL, subject, key, fingerprint, method, path[:2000], owner,
                                  self.abandoned_after)
            if row is None:
                # a concurrent first request committed its claim after this statement's snapshot was taken
                row = await self._run("fetchrow", _READ_SQL, subject, key)
            if row is not None:
                break
            # ... and released it meanwhile (it failed): claim again
        if row is None:  # claimed and released again and again: answer as if it were still running
            return Claim(owner=None, fingerprint=fingerprint)
        if row["claimed"]:
            return Claim(owner=owner)
        answer = None
        if row["status"] is not None:
            headers = row["response_headers"]
            if isinstance(headers, (str, bytes)):
                headers = orjson.loads(headers)
            answer = StoredAnswer(row["status"], [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
                                  bytes(row["response_body"] or b""))
        return Claim(owner=None, fingerprint=bytes(row["request_hash"]), answer=answer)

    async def complete(self, subject: str, key: str, owner: uuid.UUID, answer: StoredAnswer) -> None:
        headers = orjson.dumps([[n.decode("latin-1"), v.decode("latin-1")] for n, v in answer.headers]).decode()
        await self._run("execute", _COMPLETE_SQL, subject, key, owner, answer.status, headers, answer.body)

    async def still_running(self, subject: str, key: str, owner: uuid.UUID) -> None:
        await self._run("execute", _ALIVE_SQL, subject, key, owner)

    async def keep_alive(self, subject: str, key: str, owner: uuid.UUID, done: asyncio.Event) -> None:
        """Say every so often that the request holding the key still runs, until ``done``, so that
        a long one (a month close) is never taken for abandoned. Never cancelled in the middle of
        a statement: it stops between two."""
        interval = self.abandoned_after.total_seconds() / 4
        while True:
            try:
                await asyncio.wait_for(done.wait(), interval)
                return
            except TimeoutError:
                pass
            try:
                await self.still_running(subject, key, owner)
            except Exception:  # noqa: BLE001  (tried again at the next interval)
                log.warning("idempotency_key_not_kept_alive", exc_info=True)

    async def release(self, subject: str, key: str, owner: uuid.UUID) -> None:
        await self._run("execute", _RELEASE_SQL, subject, key, owner)

    async def purge(self, retention: dt.timedelta, *, batch: int = 5000) -> int:
        """Delete keys older than ``retention``, ``batch`` rows per statement; the count deleted."""
        total = 0
        while True:
            status = await self._run("execute", _PURGE_SQL, retention, batch)
            deleted = int(status.rsplit(" ", 1)[-1])
            total += deleted
            if deleted < batch:
                return total


def honours_idempotency(route: Any) -> bool:
    """A POST route that creates or moves something: it declares a policy action that is not a
    read (``*.read``) and not public. ``route``: an APIRoute or a route context of
    :func:`effective_routes`."""
    if "POST" not in (getattr(route, "methods", None) or ()):
        return False
    action = declared_action(route)
    return action is not None and action != "public" and not action.endswith(".read")


async def _send_problem(scope: Scope, receive: Receive, send: Send, code: str, **headers: str) -> None:
    """The catalogue's problem answer for ``code``, in the request's language."""
    known = lookup(code)
    response = problem_response(Request(scope), known.status if known else 400, code, headers=headers or None)
    await response(scope, receive, send)


async def _send_answer(send: Send, answer: StoredAnswer, *, replayed: bool) -> None:
    headers = [*answer.headers, (REPLAYED_HEADER.lower().encode(), b"true")] if replayed else answer.headers
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def _stored(status: int) -> bool:
    """Answers a retry may change are not kept: server errors and rate limiting."""
    return status < 500 and status != 429


class IdempotencyMiddleware:
    """See the module's description. Place it inside the middleware that sets request ids."""

    def __init__(self, app: ASGIApp, *, store: IdempotencyStore, verifier: TokenVerifier) -> None:
        self.app = app
        self.store = store
        self.verifier = verifier
        self._routes: list[tuple[re.Pattern[str], bool]] | None = None
        self._keeping_alive: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        for name, _ in scope["headers"]:
            if name == _HEADER_NAME:
                break
        else:  # no key: the common case, as cheap as it can be
            return await self.app(scope, receive, send)
        if not self._route_honours(scope):
            return await self.app(scope, receive, send)
        values = [value for name, value in scope["headers"] if name == _HEADER_NAME]
        try:
            key = parse_key(values)
        except InvalidKey:
            await _send_problem(scope, receive, send, "idempotency_key_invalid")
            return
        subject = await self._subject(scope)
        if subject is None:  # the route itself answers 401
            await self.app(scope, receive, send)
            return
        body, receive = await buffered_body(receive)
        if body is None:  # the client went away
            return
        content_type = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"content-type"), "")
        fingerprint = request_fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body,
                                          content_type)
        claim = await self.store.claim(subject, key, fingerprint, scope["method"], scope["path"])
        if claim.owner is None:
            if claim.fingerprint != fingerprint:
                await _send_problem(scope, receive, send, "idempotency_key_reused")
            elif claim.answer is None:
                await _send_problem(scope, receive, send, "idempotency_key_in_progress", **{"Retry-After": "1"})
            else:
                await _send_answer(send, claim.answer, replayed=True)
            return
        await self._run_first(scope, receive, send, subject, key, claim.owner)

    async def _run_first(self, scope: Scope, receive: Receive, send: Send, subject: str, key: str,
                         owner: uuid.UUID) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        done = asyncio.Event()
        alive = asyncio.create_task(self.store.keep_alive(subject, key, owner, done))
        self._keeping_alive.add(alive)
        alive.add_done_callback(self._keeping_alive.discard)
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await self._release_quietly(subject, key, owner)
            raise
        finally:
            done.set()
        if start is None:
            await self._release_quietly(subject, key, owner)
            return
        answer = StoredAnswer(start["status"], [(n, v) for n, v in start.get("headers", ()) if n.lower() not in _NOT_STORED],
                              b"".join(chunks))
        if _stored(answer.status):
            try:
                await self.store.complete(subject, key, owner, answer)
            except Exception:  # noqa: BLE001  (the effect happened: its answer still goes out)
                log.exception("idempotency_answer_not_stored", path=scope["path"])
        else:
            await self._release_quietly(subject, key, owner)
        await send({**start, "headers": list(start.get("headers", ()))})
        await send({"type": "http.response.body", "body": answer.body})

    async def _release_quietly(self, subject: str, key: str, owner: uuid.UUID) -> None:
        try:
            await self.store.release(subject, key, owner)
        except Exception:  # noqa: BLE001  (the key then waits for idempotency_abandoned_after_s)
            log.exception("idempotency_key_not_released")

    def _route_honours(self, scope: Scope) -> bool:
        """Whether the POST route the request goes to honours the header (the first route whose
        path matches and that takes POST, as routing picks it)."""
        if self._routes is None:
            self._routes = [(compile_path(route.path)[0], honours_idempotency(route))
                            for route in effective_routes(scope["app"]) if "POST" in (route.methods or ())]
        path = scope["path"]
        return next((honours for regex, honours in self._routes if regex.match(path)), False)

    async def _subject(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    return None
                try:
                    return (await self.verifier.verify(token.strip())).sub
                except InvalidToken:
                    return None
        return None




HEADER_DESCRIPTION = (
    "Ключ идемпотентности: повтор запроса с тем же ключом и тем же телом вернёт сохранённый ответ первого "
    "(тот же статус, тело и заголовки, с заголовком `Idempotent-Replayed: true`) и ничего не создаст "
    "повторно, в том числе после перезапуска сервиса. Ключ принадлежит пользователю (субъекту токена), "
    "хранится не менее 24 часов; 1–255 видимых символов ASCII (например, UUID). Тот же ключ с другим телом, "
    "адресом или методом — 422 `idempotency_key_reused`; пока первый запрос выполняется — 409 "
    "`idempotency_key_in_progress` с `Retry-After`; неверный ключ — 400 `idempotency_key_invalid`. "
    "Ответы 5xx не сохраняются: запрос можно повторить с тем же ключом.\n\n"
    "Idempotency key: a repeat with the same key and the same body returns the first request's stored "
    "answer (same status, body and headers, plus `Idempotent-Replayed: true`) and creates nothing again, "
    "also after a restart. Keys belong to the caller (the token's subject) and are kept at least 24 hours; "
    "1 to 255 visible ASCII characters (a UUID, say). The same key with another body, path or method: 422 "
    "`idempotency_key_reused`; while the first request still runs: 409 `idempotency_key_in_progress` with "
    "`Retry-After`; a malformed key: 400 `idempotency_key_invalid`. 5xx answers are not stored: retry with "
    "the same key."
)
HEADER_PARAMETER: dict[str, Any] = {
    "name": HEADER, "in": "header", "required": False, "description": HEADER_DESCRIPTION,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[\\x21-\\x7E]+$"},
    "example": "5f0c6a53-2f1e-4b7e-9a51-0d4c8a1f2e3b",
}
CODES = ("idempotency_key_invalid", "idempotency_key_in_progress", "idempotency_key_reused")
REPLAYED_HEADER_DOC: dict[str, Any] = {
    "description": "`true`, когда это сохранённый ответ на более ранний запрос с тем же ключом идемпотентности "
                   "(запрос не выполнялся повторно). / `true` when this is the stored answer of an earlier "
                   "request with the same Idempotency-Key (nothing was done again).",
    "schema": {"type": "string", "enum": ["true"]},
}


def document_idempotency(app: FastAPI) -> None:
    """Add the optional header and its problem answers to every POST operation that honours it,
    when the OpenAPI document is built (call once the routers are included)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        add_idempotency_docs(schema, effective_routes(app))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_idempotency_docs(schema: dict[str, Any], routes: Iterable[Any]) -> None:
    """The header parameter and the 400/409/422 idempotency codes on the operations of ``routes``
    that honour the header (adding them twice changes nothing)."""
    documented = problems(*CODES)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    for route in routes:
        operation = schema.get("paths", {}).get(getattr(route, "path_format", None) or route.path, {}).get("post")
        if operation is None or not honours_idempotency(route):
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("name") == HEADER and p.get("in") == "header" for p in parameters):
            parameters.append(copy.deepcopy(HEADER_PARAMETER))
        answers = operation.setdefault("responses", {})
        for status, answer in answers.items():
            if status.startswith("2"):
                answer.setdefault("headers", {})[REPLAYED_HEADER] = copy.deepcopy(REPLAYED_HEADER_DOC)
        for status, entry in documented.items():
            answers[str(status)] = _with_codes(answers.get(str(status)), entry)


def _with_codes(existing: dict[str, Any] | None, added: dict[str, Any]) -> dict[str, Any]:
    """An operation's documented answer for one status with the idempotency codes added."""
    answer = existing if existing is not None else {"description": "Коды ошибок / error codes:"}
    for line in added["description"].splitlines()[1:]:
        if line not in answer.get("description", ""):
            answer["description"] = f"{answer.get('description', '')}\n{line}".strip()
    content = answer.setdefault("content", {}).setdefault(PROBLEM_JSON, {})
    content.setdefault("schema", {"$ref": "#/components/schemas/Problem"})
    content.setdefault("examples", {}).update(copy.deepcopy(added["content"][PROBLEM_JSON]["examples"]))
    return answer


def effective_routes(app: FastAPI) -> list[Any]:
    """The app's FastAPI routes with their full paths and every dependency. FastAPI >= 0.165 keeps
    included routers lazily (``app.routes`` holds the routers); ``iter_route_contexts`` yields the
    routes as routing and the OpenAPI document see them."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    if iterate is None:
        return [route for route in app.routes if isinstance(route, APIRoute)]
    return [context for context in iterate(app.routes) if isinstance(context.original_route, APIRoute)]


def install_idempotency(app: FastAPI, runtime: ServiceRuntime) -> None:
    """The middleware (add it before the middlewares that must run outside it) and the periodic
    deletion of keys older than the retention."""
    settings = runtime.settings
    store = IdempotencyStore(runtime.db, abandoned_after_s=settings.idempotency_abandoned_after_s)
    app.add_middleware(IdempotencyMiddleware, store=store, verifier=runtime.verifier)
    retention = dt.timedelta(hours=settings.idempotency_retention_h)

    @runtime.every("idempotency-keys-cleanup", settings.idempotency_cleanup_interval_s)
    async def delete_expired_keys() -> None:
        deleted = await store.purge(retention)
        if deleted:
            log.info("idempotency_keys_deleted", count=deleted)
