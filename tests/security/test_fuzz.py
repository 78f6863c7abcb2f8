"""schemathesis against every service's OpenAPI, through the gateway, with a valid token of a
role the policy allows for each operation: no 5xx, every response matches its documented schema.

``PFDO_FUZZ_EXAMPLES`` examples per operation and generation mode (positive and negative data);
``make test`` keeps it small, ``make fuzz`` sets 200."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from pfdo_plumbing.auth.principal import Role

from ._routes import routes_of
from .conftest import available_services

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]
EXAMPLES = int(os.environ.get("PFDO_FUZZ_EXAMPLES", "5"))
PREFERENCE = (Role.REGIONAL_OPERATOR, Role.PARENT, Role.PROVIDER, Role.MUNICIPAL_OPERATOR, Role.FINANCE, Role.SERVICE)
CLAIMS = {Role.MUNICIPAL_OPERATOR: {"municipality": "71"}, Role.PROVIDER: {"provider_id": str(uuid.uuid4())}}
TOTALS: dict[str, int] = {}


def describe(group: FailureGroup) -> list[str]:
    return [f"{f.title}: {str(getattr(f, 'message', ''))[:400]}" for f in group.exceptions]


def operation_has_inputs(operation) -> bool:  # noqa: ANN001
    """Negative data needs something to break: a parameter or a body."""
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def role_for(allowed: frozenset[Role]) -> Role:
    return next(r for r in PREFERENCE if r in allowed)


@pytest.mark.parametrize("service", ["registry", "navigator", "billing", "ratings"])
def test_fuzz_service_through_the_gateway(fuzz_platform, sec_auth, service: str) -> None:  # noqa: ANN001
    assert service in available_services(), f"{service} has no composition root yet"
    gateway = fuzz_platform.gateway_url
    document = httpx.get(f"{gateway}/api/{service}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    actions = {(r.method, r.path): r for r in routes_of(service)}
    headers_for = {role: sec_auth.headers(role.value, f"fuzz-{role.value}", **CLAIMS.get(role, {})) for role in Role}
    failures: list[str] = []
    cases = 0
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        route = actions.get((operation.method.upper(), operation.path))
        assert route is not None, f"{operation.method} {operation.path}: in the OpenAPI but not among the app's routes"
        if route.is_stream:  # an endless event stream (its own tests: test_public_catalogue_and_events)
            continue
        if route.is_public:
            headers: dict[str, str] = {}
        else:
            headers = headers_for[role_for(route.allowed)]
        operations += 1
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            seen: list[str] = []

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def run(case) -> None:  # noqa: ANN001
                nonlocal cases
                cases += 1
                response = case.call(base_url=gateway, headers=headers, timeout=60)
                try:
                    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance],
                                           headers=headers)
                except FailureGroup as group:
                    if len(seen) < 3:
                        seen.append(f"{operation.method.upper()} {operation.path} [{mode.value}] -> "
                                    f"{response.status_code}: {describe(group)}\n"
                                    f"    {case.as_curl_command(headers={'Authorization': 'Bearer <token>'})}\n"
                                    f"    body: {response.text[:300]}")

            try:
                run()
            except Unsatisfiable:
                if mode is schemathesis.GenerationMode.POSITIVE or operation_has_inputs(operation):
                    failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: no input generated")
            except Exception as exc:  # noqa: BLE001  e.g. a schema hypothesis cannot generate from
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: could not fuzz: {exc!r}"[:500])
            failures.extend(seen)
    TOTALS[service] = cases
    print(f"\nfuzz {service}: {operations} operations, {cases} cases ({EXAMPLES} per operation and mode); "
          f"all services so far: {sum(TOTALS.values())} cases {TOTALS}")
    assert operations > 0 and cases >= operations
    assert not failures, f"{len(failures)} failing operations in {service}:\n" + "\n".join(failures)
