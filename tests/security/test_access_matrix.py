"""Every route of every service x every role, against the one policy table; own vs foreign vs
non-existent resources in a small world built through the public APIs. Zero leaks allowed."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fastapi import Depends, FastAPI

from pfdo_devstack.config import SERVICES
from pfdo_plumbing.auth.policy import POLICY, declared_action, require
from pfdo_plumbing.auth.principal import Principal

from ._matrix import run_matrix
from ._routes import OPS_PUBLIC, RouteInfo, effective_routes, routes_of
from ._world import build_money_part, build_registry_part, harvest, module_dates, new_world, school_year
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


def test_only_catalogue_reads_are_open_without_a_token() -> None:
    routes = [r for s in available_services() for r in routes_of(s)]
    open_routes = sorted(r.label for r in routes if r.is_anonymous_read)
    print(f"\nopen without a token (public fields): {open_routes}")
    assert open_routes, "the public catalogue declares no route"
    assert all(label.startswith("GET /api/navigator/programs") for label in open_routes), open_routes


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


NOT_EXERCISABLE: dict[str, str] = {}
"""Cells that cannot exist, as ``"<METHOD> <path> as <role> (<own|foreign>)"`` -> the reason.
Every other cell must be exercised; an entry here that gets exercised fails too (stale)."""


def unexpected_not_exercised(not_exercised: list[str], excluded: dict[str, str]) -> tuple[list[str], list[str]]:
    """(cells not exercised and not excluded, exclusions that were exercised after all)."""
    cells = {line.split(": ", 1)[0]: line for line in not_exercised}
    return sorted(line for cell, line in cells.items() if cell not in excluded), sorted(set(excluded) - set(cells))


def test_the_exercise_check_catches_a_missing_and_a_stale_cell() -> None:
    lines = ["GET /api/x/{a} as parent (own): no value for ['a']", "GET /api/x/{b} as parent (foreign): no foreign value"]
    missing, stale = unexpected_not_exercised(lines, {"GET /api/x/{b} as parent (foreign)": "why",
                                                      "GET /api/y as finance (own)": "why"})
    assert missing == [lines[0]]
    assert stale == ["GET /api/y as finance (own)"]


async def test_access_matrix_has_no_leaks(sec_platform, sec_auth, sec_clock) -> None:  # noqa: ANN001
    started = time.monotonic()
    year = school_year()
    world = new_world(sec_auth, sec_platform.gateway_url)
    routes = [r for s in available_services() for r in routes_of(s)]
    sec_clock.set(dt.date(year, 8, 24))  # a week before the world's school year
    try:
        build_registry_part(world, module_dates=module_dates(year))
        await build_money_part(world, sec_clock, year)
        harvest(world, routes, wait_s=5.0)
        print("\nworld build:")
        for step, outcome in world.steps:
            print(f"  {step}: {outcome}")
        print(f"path values: {world.params}")
        built = time.monotonic()
        result = run_matrix(world, routes)
    finally:
        sec_clock.reset()  # the other tests of the session live in real time
    print(result.table())
    print(f"world built in {built - started:.1f} s, matrix ran in {time.monotonic() - built:.1f} s")
    if result.assumptions:
        print(f"privacy assumed (reads public, writes private) for: {sorted(result.assumptions)}")
    print(f"NOT EXERCISED ({len(result.not_exercised)}):")
    for line in result.not_exercised:
        print(f"  {line}  [{NOT_EXERCISABLE.get(line.split(': ', 1)[0], 'NOT JUSTIFIED')}]")
    for outcome in ("leak", "error5xx", "wrong"):
        for cell in result.bad(outcome):
            print(f"{outcome.upper()}: {cell.detail}")
    assert not result.bad("leak"), "\n".join(c.detail for c in result.bad("leak"))
    assert not result.bad("error5xx"), "\n".join(c.detail for c in result.bad("error5xx"))
    assert not result.bad("wrong"), "\n".join(c.detail for c in result.bad("wrong"))
    exercised_own = [c for c in result.cells if c.kind == "own" and c.outcome == "ok"]
    assert exercised_own, "no allowed call was exercised at all"
    missing, stale = unexpected_not_exercised(result.not_exercised, NOT_EXERCISABLE)
    assert not missing, "cells not exercised (extend the world, or justify them in NOT_EXERCISABLE):\n" + "\n".join(missing)
    assert not stale, f"NOT_EXERCISABLE entries that were exercised after all (remove them): {stale}"
