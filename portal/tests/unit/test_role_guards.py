"""Every page of a cabinet (/cabinet, /provider, /operator, /finance) stands behind a role guard,
read from the portal's own routes: a page added without one fails here. (That the server then
refuses it to every other role is tests/integration/test_role_refusals.py.)"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, FastAPI

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import require_role, require_user
from pfdo_portal.settings import PortalSettings
from pfdo_testkit.portal_routes import guarded_pages, pages


def portal() -> FastAPI:
    return create_app(PortalSettings(api_url="http://127.0.0.1:9/api/", log_json=False))


def test_a_role_guard_names_the_roles_it_admits() -> None:
    guard = require_role("municipal_operator", Role.REGIONAL_OPERATOR)
    assert guard.roles == {Role.MUNICIPAL_OPERATOR, Role.REGIONAL_OPERATOR}


def test_the_roles_of_a_route_are_read_from_its_guards_at_any_depth() -> None:
    app = FastAPI()
    operators = APIRouter(prefix="/operator", dependencies=[Depends(require_role("municipal_operator",
                                                                                   "regional_operator"))])

    @operators.get("/regional")
    async def regional(_: object = Depends(require_role("regional_operator", "finance"))) -> None: ...

    @operators.get("/any")
    async def any_operator() -> None: ...

    @app.get("/signed-in")
    async def signed_in(_: object = Depends(require_user)) -> None: ...

    app.include_router(operators)
    found = {page.path: page.roles for page in pages(app)}
    assert found["/operator/regional"] == {Role.REGIONAL_OPERATOR}  # both guards must admit
    assert found["/operator/any"] == {Role.MUNICIPAL_OPERATOR, Role.REGIONAL_OPERATOR}
    assert found["/signed-in"] is None  # signed in is not a role


def test_a_cabinet_page_without_a_role_guard_is_found() -> None:
    app = portal()

    @app.get("/finance/forgotten")
    async def forgotten() -> None: ...

    @app.post("/operator/signed-in-only")
    async def signed_in_only(_: object = Depends(require_user)) -> None: ...

    unguarded = {page.path for page in pages(app) if page.in_a_cabinet and page.roles is None}
    assert unguarded == {"/finance/forgotten", "/operator/signed-in-only"}


def test_every_page_of_a_cabinet_has_a_role_guard() -> None:
    found = pages(portal())
    unguarded = sorted(f"{sorted(page.methods)} {page.path}" for page in found
                       if page.in_a_cabinet and page.roles is None)
    assert unguarded == [], f"pages of a cabinet any visitor or any role can open: {unguarded}"
    cabinets = {page.path.split("/")[1] for page in found if page.in_a_cabinet}
    assert {"cabinet", "provider"} <= cabinets  # the walk sees the pages at all


def test_a_sample_address_fills_ids_and_months() -> None:
    app = FastAPI()

    @app.get("/provider/groups/{module_id}/{month}/{decision}")
    async def page(module_id: uuid.UUID, month: str, decision: str) -> None: ...

    [found] = [p for p in pages(app) if p.path.startswith("/provider")]
    address = found.sample_address()
    _, _, _, module_id, month, decision = address.split("/")
    assert uuid.UUID(module_id) and month == "2027-11" and decision and "{" not in address
    assert guarded_pages(app) == []
