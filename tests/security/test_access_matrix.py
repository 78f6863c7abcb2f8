"""Every route of every service x every role, against the one policy table; own vs foreign vs
non-existent resources in a small world built through the public APIs. Zero leaks allowed."""

from __future__ import annotations

import time

import pytest
from fastapi import Depends, FastAPI

from pfdo_devstack.config import SERVICES
from pfdo_plumbing.auth.policy import POLICY, declared_action, require
from pfdo_plumbing.auth.principal import Principal

from ._matrix import run_matrix
from ._routes import OPS_PUBLIC, RouteInfo, effective_routes, routes_of
from ._world import build_registry_part, harvest, new_world
from .conftest import available_services

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


def policy_problems(routes: list[RouteInfo]) -> list[str]:
    problems = []
    for r in routes:
        prefix = f"/api/{r.service}"
        if not r.path.startswith(prefix + "/"):
            problems.append(f"{r.label}: not under {prefix}/ (the gateway routes by prefix)")
        if r.action is None:
            problems.append(f"{r.label}: declares no action (Depends(require(...)) or public())")
        elif r.is_public:
            if r.path.removeprefix(prefix) not in OPS_PUBLIC:
                problems.append(f"{r.label}: public, but only {sorted(OPS_PUBLIC)} may be")
        elif r.action not in POLICY:
            problems.append(f"{r.label}: action {r.action!r} is not in POLICY")
        elif not r.action.startswith(f"{r.service}."):
            problems.append(f"{r.label}: action {r.action!r} belongs to another service")
    return problems


def test_every_service_has_a_composition_root() -> None:
    assert available_services() == SERVICES, f"missing pfdo_<svc>.main: {set(SERVICES) - set(available_services())}"


def test_every_route_declares_an_action_in_the_policy() -> None:
    routes = [r for s in available_services() for r in routes_of(s)]
    print(f"\n{len(routes)} routes in {len(available_services())} services")
    assert routes
    problems = policy_problems(routes)
    assert not problems, "\n".join(problems)
    used = {r.action for r in routes}
    unused = sorted(set(POLICY) - used)
    print(f"policy actions without a route yet: {unused}")


def test_the_policy_check_catches_a_route_without_policy_and_an_unknown_action() -> None:
    app = FastAPI()

    @app.get("/api/registry/forgotten")
    async def forgotten() -> dict:
        return {}

    @app.get("/api/registry/declared")
    async def declared(_: Principal = Depends(require("registry.program.read"))) -> dict:
        return {}

    dep = require("registry.program.read")
    dep.pfdo_action = "registry.not.in.policy"  # type: ignore[attr-defined]

    @app.get("/api/registry/unknown")
    async def unknown(_: Principal = Depends(dep)) -> dict:
        return {}

    routes = [RouteInfo("registry", "GET", r.path, declared_action(r), r) for r in effective_routes(app)]
    assert len(routes) == 3
    problems = policy_problems(routes)
    assert any("forgotten: declares no action" in p for p in problems)
    assert any("not in POLICY" in p for p in problems)
    assert not any("/declared" in p for p in problems)


def test_access_matrix_has_no_leaks(sec_platform, sec_auth) -> None:  # noqa: ANN001
    started = time.monotonic()
    world = new_world(sec_auth, sec_platform.gateway_url)
    routes = [r for s in available_services() for r in routes_of(s)]
    if "registry" in available_services():
        build_registry_part(world)
    harvest(world, routes, wait_s=5.0)
    print("\nworld build:")
    for step, outcome in world.steps:
        print(f"  {step}: {outcome}")
    print(f"path values: {world.params}")
    built = time.monotonic()
    result = run_matrix(world, routes)
    print(result.table())
    print(f"world built in {built - started:.1f} s, matrix ran in {time.monotonic() - built:.1f} s")
    if result.assumptions:
        print(f"privacy assumed (reads public, writes private) for: {sorted(result.assumptions)}")
    print(f"NOT EXERCISED ({len(result.not_exercised)}):")
    for line in result.not_exercised:
        print(f"  {line}")
    for outcome in ("leak", "error5xx", "wrong"):
        for cell in result.bad(outcome):
            print(f"{outcome.upper()}: {cell.detail}")
    assert not result.bad("leak"), "\n".join(c.detail for c in result.bad("leak"))
    assert not result.bad("error5xx"), "\n".join(c.detail for c in result.bad("error5xx"))
    assert not result.bad("wrong"), "\n".join(c.detail for c in result.bad("wrong"))
    exercised_own = [c for c in result.cells if c.kind == "own" and c.outcome == "ok"]
    assert exercised_own, "no allowed call was exercised at all"
