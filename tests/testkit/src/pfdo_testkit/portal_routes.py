"""The portal's pages as its application declares them, for the tests of who may open what: every
route of ``create_app()`` (the pages added later are found too, no hand-kept list), the roles its
guard admits, and an address of it with its path parameters filled in."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
import typing
import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.routing import Mount

from pfdo_plumbing.auth.principal import Role

CABINETS = ("cabinet", "provider", "operator", "finance")
"""The first part of every address that belongs to one kind of person: each needs a role guard."""

SAMPLE_MONTH = "2027-11"


@dataclass(frozen=True)
class Page:
    path: str
    """The route's pattern, e.g. ``/cabinet/enrolments/{enrolment_id}``."""
    methods: frozenset[str]
    roles: frozenset[Role] | None
    """Who the route's guard admits; None: no role guard (a public page, or a forgotten guard)."""
    route: RouteContext

    @property
    def in_a_cabinet(self) -> bool:
        return self.path.lstrip("/").split("/")[0].split(".")[0] in CABINETS

    def sample_address(self) -> str:
        """The address with every path parameter filled: a random UUID for an id, a month code
        for a month, a random word otherwise."""
        address = self.path
        dependant = getattr(self.route, "dependant", None)
        for param in dependant.path_params if dependant is not None else ():
            value = sample_value(param.name, param.field_info.annotation)
            address = address.replace(f"{{{param.name}}}", value).replace(f"{{{param.name}:path}}", value)
        return address


def sample_value(name: str, annotation: object) -> str:
    if annotation is uuid.UUID:
        return str(uuid.uuid4())
    if annotation is int:
        return str(secrets.randbelow(10_000) + 1)
    if annotation is dt.date:
        return f"{SAMPLE_MONTH}-15"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(next(iter(annotation)).value)
    if typing.get_origin(annotation) is typing.Literal:
        return str(typing.get_args(annotation)[0])
    if "month" in name or "period" in name:
        return SAMPLE_MONTH
    return secrets.token_hex(4)


def pages(app: FastAPI) -> list[Page]:
    """Every route of the application (those of included routers with the router's prefix and
    dependencies), a mounted sub-application as one page without a guard."""
    from pfdo_portal.auth.guards import admitted_roles  # the portal's own reading of its guards

    found = []
    for route in iter_route_contexts(app.routes):
        dependant = None if isinstance(route.original_route, Mount) else getattr(route, "dependant", None)
        roles = admitted_roles(dependant) if dependant is not None else None
        found.append(Page(route.path or "", frozenset(route.methods or ()), roles, route))
    return found


def guarded_pages(app: FastAPI) -> list[Page]:
    return [page for page in pages(app) if page.roles is not None]
