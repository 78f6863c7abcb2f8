"""The rules of the Idempotency-Key header without a database: which keys are valid, which requests
are the same request, which routes honour the header, and how the OpenAPI document shows it."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import ValidationError

from pfdo_plumbing.auth.policy import public, require
from pfdo_plumbing.http.errors import lookup
from pfdo_plumbing.http.idempotency import (
    CODES, HEADER, InvalidKey, add_idempotency_docs, canonical_body, effective_routes, honours_idempotency,
    parse_key, request_fingerprint,
)
from pfdo_plumbing.settings import ServiceSettings


@pytest.mark.parametrize("raw", [b"a", b"5f0c6a53-2f1e-4b7e-9a51-0d4c8a1f2e3b", b"!~" * 127 + b"x", b"Key:/=+&?"])
def test_keys_of_1_to_255_visible_ascii_characters_are_taken(raw: bytes) -> None:
    assert parse_key([raw]) == raw.decode()


@pytest.mark.parametrize("values", [
    [b""], [b"x" * 256], [b"has space"], [b"tab\tkey"], [b"\x7f"], ["ключ".encode()], [b"a", b"b"], [],
])
def test_other_keys_are_refused(values: list[bytes]) -> None:
    with pytest.raises(InvalidKey):
        parse_key(values)


def test_equal_json_bodies_encoded_differently_are_the_same_request() -> None:
    one = request_fingerprint("POST", "/api/x/things", b"", b'{"a": 1, "b": [1, 2], "c": {"y": 1, "x": 2}}',
                              "application/json")
    other = request_fingerprint("post", "/api/x/things", b"", b'{"c":{"x":2,"y":1},"b":[1,2],"a":1}',
                                "application/json; charset=utf-8")
    assert one == other and len(one) == 32


@pytest.mark.parametrize(("method", "path", "query", "body"), [
    ("POST", "/api/x/things", b"", b'{"a": 2}'),  # another body
    ("POST", "/api/x/other", b"", b'{"a": 1}'),  # another path
    ("PUT", "/api/x/things", b"", b'{"a": 1}'),  # another method
    ("POST", "/api/x/things", b"dry=1", b'{"a": 1}'),  # another query
    ("POST", "/api/x/things", b"", b'{"a": 1.0}'),  # a number written otherwise is another number
])
def test_any_other_part_makes_another_request(method: str, path: str, query: bytes, body: bytes) -> None:
    base = request_fingerprint("POST", "/api/x/things", b"", b'{"a": 1}', "application/json")
    assert request_fingerprint(method, path, query, body, "application/json") != base


def test_bodies_that_are_not_json_are_compared_as_sent() -> None:
    assert canonical_body(b'{"b": 1, "a": 2}', "text/plain") == b'{"b": 1, "a": 2}'
    assert canonical_body(b"{not json", "application/json") == b"{not json"
    big = b'{"n": 123456789012345678901234567890}'  # past 64 bits: never rounded
    assert canonical_body(big, "application/json") == b'{"n":123456789012345678901234567890}'
    assert canonical_body(b'{"n": 123456789012345678901234567891}', "application/json") != canonical_body(
        big, "application/json")
    assert canonical_body(b'{"n": NaN}', "application/json") == b'{"n": NaN}'
    assert canonical_body('{"ф": "ё", "a": [true, null, 1e3]}'.encode(), "application/json") == \
        '{"a":[true,null,1e3],"ф":"ё"}'.encode()
    assert canonical_body(b'{"b": 1, "a": 2}', "application/problem+json") == b'{"a":2,"b":1}'


def _app() -> FastAPI:
    router = APIRouter(prefix="/api/registry")

    @router.post("/applications", status_code=201, dependencies=[Depends(require("registry.certificate.apply"))])
    async def apply() -> dict[str, str]:
        return {}

    @router.post("/quotes:batch", dependencies=[Depends(require("billing.quote.read"))])
    async def quotes() -> dict[str, str]:
        return {}

    @router.post("/open", dependencies=[Depends(public())])
    async def open_form() -> dict[str, str]:
        return {}

    @router.get("/applications", dependencies=[Depends(require("registry.application.read"))])
    async def listing() -> list[str]:
        return []

    app = FastAPI()
    app.include_router(router)
    return app


def test_only_posts_that_change_something_honour_the_header() -> None:
    honoured = {(tuple(sorted(r.methods)), r.path) for r in effective_routes(_app()) if honours_idempotency(r)}
    assert honoured == {(("POST",), "/api/registry/applications")}


def test_the_openapi_document_shows_the_header_and_its_answers_once() -> None:
    app = _app()
    schema = app.openapi()
    routes = effective_routes(app)
    add_idempotency_docs(schema, routes)
    add_idempotency_docs(schema, routes)  # twice changes nothing
    operation = schema["paths"]["/api/registry/applications"]["post"]
    headers = [p for p in operation["parameters"] if p["name"] == HEADER]
    assert len(headers) == 1 and headers[0]["in"] == "header" and headers[0]["required"] is False
    assert "24" in headers[0]["description"] and "422" in headers[0]["description"]
    assert headers[0]["schema"]["maxLength"] == 255
    assert operation["responses"]["201"]["headers"]["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}
    for code in CODES:
        known = lookup(code)
        assert known is not None
        answer = operation["responses"][str(known.status)]
        assert answer["description"].count(f"`{code}`") == 1
        assert code in answer["content"]["application/problem+json"]["examples"]
    assert "Problem" in schema["components"]["schemas"]
    for path in ("/api/registry/quotes:batch", "/api/registry/open"):
        assert not any(p.get("name") == HEADER for p in schema["paths"][path]["post"].get("parameters", []))


def test_the_retention_cannot_be_set_below_24_hours() -> None:
    assert ServiceSettings().idempotency_retention_h == 24
    assert ServiceSettings(idempotency_retention_h=72).idempotency_retention_h == 72
    with pytest.raises(ValidationError):
        ServiceSettings(idempotency_retention_h=23.5)
