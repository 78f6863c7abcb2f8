"""The typed contract of the four services, read from their OpenAPI documents (the apps as their
composition roots build them, never started): every operation has a stable, meaningful
operationId, a summary and a description; every request and response body has an example; every
list answers one page ``{items, next_cursor}`` with ``limit`` and ``cursor`` parameters."""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest

from pfdo_devstack.apidocs import openapi_document
from pfdo_devstack.config import SERVICES

METHODS = ("get", "post", "put", "patch", "delete")
OPERATION_ID = re.compile(r"^[a-z][a-zA-Z0-9]+$")
# bodies that are not JSON documents (Prometheus text)
NOT_API_BODIES = {"getMetrics"}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in doc["paths"].items() for method, op in item.items() if method in METHODS]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema behind a reference (an optional body: its non-null branch)."""
    while True:
        if "$ref" in schema:
            schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in schema and not schema.get("examples"):
            schema = next((s for s in schema["anyOf"] if s.get("type") != "null"), {})
        else:
            return schema


def has_example(doc: dict[str, Any], media: dict[str, Any]) -> bool:
    if media.get("example") is not None or media.get("examples"):
        return True
    schema = resolve(doc, media.get("schema") or {})
    if schema.get("examples") or schema.get("example") is not None:
        return True
    if schema.get("type") == "array":  # a bare list (not a page): its items must show one
        items = resolve(doc, schema.get("items") or {})
        return bool(items.get("examples") or items.get("example") is not None)
    return False


def json_bodies(op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    bodies = []
    request = op.get("requestBody", {}).get("content", {}).get("application/json")
    if request is not None:
        bodies.append(("request", request))
    for status, answer in op.get("responses", {}).items():
        media = answer.get("content", {}).get("application/json")
        if status.startswith("2") and media is not None:
            bodies.append((f"response {status}", media))
    return bodies


@pytest.fixture(scope="module", params=SERVICES)
def doc(request: pytest.FixtureRequest) -> dict[str, Any]:
    return openapi_document(request.param)


def test_operation_ids_are_meaningful_and_unique(doc: dict[str, Any]) -> None:
    ids = [op.get("operationId", "") for _, _, op in operations(doc)]
    bad = [i for i in ids if "_api_" in i or not OPERATION_ID.match(i)]
    assert not bad, f"framework-default or malformed operationIds: {bad}"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate operationIds: {duplicates}"


def test_every_operation_has_a_summary_and_a_description(doc: dict[str, Any]) -> None:
    missing = [f"{m.upper()} {p}" for m, p, op in operations(doc)
               if not (op.get("summary") or "").strip() or not (op.get("description") or "").strip()]
    assert not missing, f"without summary or description: {missing}"


def test_every_request_and_response_body_has_an_example(doc: dict[str, Any]) -> None:
    missing = []
    for method, path, op in operations(doc):
        if op.get("operationId") in NOT_API_BODIES:
            continue
        for what, media in json_bodies(op):
            if not has_example(doc, media):
                missing.append(f"{method.upper()} {path} {what}")
    assert not missing, f"bodies without an example: {missing}"


def test_every_operation_lists_its_problem_answers(doc: dict[str, Any]) -> None:
    """Each operation of a service (not the health and metrics routes) names the codes of its problem
    answers, each with an example, as ``problems(...)`` documents them."""
    missing = []
    for method, path, op in operations(doc):
        if "operations" in op.get("tags", []):
            continue
        coded = [status for status, answer in op.get("responses", {}).items()
                 if status[0] in "45" and answer.get("content", {}).get("application/problem+json", {}).get("examples")]
        if not coded:
            missing.append(f"{method.upper()} {path}")
    assert not missing, f"without documented problem codes: {missing}"


def test_every_list_is_one_page_with_limit_and_cursor(doc: dict[str, Any]) -> None:
    """No bare JSON array as an answer (it cannot say that more items exist); every page model is
    ``{items, next_cursor}`` and its operation takes ``limit`` and ``cursor``."""
    wrong = []
    for method, path, op in operations(doc):
        media = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
        if media is None:
            continue
        schema = resolve(doc, media.get("schema") or {})
        params = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        if schema.get("type") == "array":
            wrong.append(f"{method.upper()} {path}: a bare array")
        elif {"items", "next_cursor"} <= set(schema.get("properties", {})) and not {"limit", "cursor"} <= params:
            wrong.append(f"{method.upper()} {path}: a page without limit and cursor parameters")
    assert not wrong, wrong


def test_every_example_is_a_valid_body() -> None:
    """The examples of request and response models validate against their own models (a wrong
    example in the docs is worse than none)."""
    from fastapi.routing import APIRoute
    from pydantic import BaseModel, ValidationError

    from pfdo_devstack.apidocs import build_service_app

    def api_routes(routes: list[Any]) -> list[APIRoute]:
        found = []
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif hasattr(route, "original_router"):  # an included router, kept as it was declared
                found.extend(api_routes(route.original_router.routes))
        return found

    invalid, checked = [], 0
    for service in SERVICES:
        for route in api_routes(build_service_app(service).routes):
            body = route.body_field.field_info.annotation if route.body_field else None
            models = [*(typing.get_args(body) or (body,)), route.response_model]
            for model in models:
                if not (isinstance(model, type) and issubclass(model, BaseModel)):
                    continue
                extra = model.model_config.get("json_schema_extra") or {}
                for example in extra.get("examples", []) if isinstance(extra, dict) else []:
                    checked += 1
                    try:
                        model.model_validate(example)
                    except ValidationError as exc:
                        invalid.append(f"{service} {route.path} {model.__name__}: {exc.errors()[:2]}")
    assert checked >= 50 and not invalid, (checked, invalid)
