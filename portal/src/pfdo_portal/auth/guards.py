"""Who may open a page: ``current_user`` (None for a visitor), ``require_user`` and
``require_role(...)``: a visitor is sent to sign in (and back), a person of another role gets
403 with a page in Russian.

A role guard carries the roles it admits (``guard.roles``) and ``admitted_roles(route.dependant)``
reads them back from a route's dependencies, so the portal's routes can be checked page by page:
every page of a cabinet refused to every other role by the server, not only hidden from its menu."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request
from starlette.responses import RedirectResponse, Response

from pfdo_plumbing.auth.principal import Role

from .claims import PortalUser

WRONG_ROLE = "Эта страница недоступна для вашей роли."


class SignInRequired(Exception):
    """Raised by the guards for a visitor; answered with a redirect to sign in."""


def current_user(request: Request) -> PortalUser | None:
    return getattr(request.state, "user", None)


def require_user(request: Request) -> PortalUser:
    user = current_user(request)
    if user is None:
        raise SignInRequired()
    return user


class RoleGuard(Protocol):
    roles: frozenset[Role]

    async def __call__(self, request: Request) -> PortalUser: ...


def require_role(*roles: Role | str) -> RoleGuard:
    """A dependency admitting the people of ``roles`` only; the set is kept as ``guard.roles``."""
    wanted = frozenset(Role(r) for r in roles)
    if not wanted:
        raise ValueError("a role guard admits at least one role")

    async def guard(request: Request) -> PortalUser:
        user = require_user(request)
        if user.role not in wanted:
            raise HTTPException(403, WRONG_ROLE)
        return user

    guard.roles = wanted  # type: ignore[attr-defined]
    return guard  # type: ignore[return-value]


def admitted_roles(dependant: Any) -> frozenset[Role] | None:
    """The roles a route admits (``route.dependant``, its dependencies searched to any depth):
    those every role guard on the way admits; None when no role guard stands in front of it."""
    admitted: frozenset[Role] | None = None
    pending: list[Any] = [dependant]
    while pending:
        node = pending.pop()
        roles = getattr(node.call, "roles", None)
        if isinstance(roles, frozenset):
            admitted = roles if admitted is None else admitted & roles
        pending.extend(node.dependencies)
    return admitted


def safe_next(raw: str | None) -> str:
    """A page of this portal to return to: a local path only (never another host)."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")) or "\\" in raw:
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    return raw


def login_redirect(request: Request) -> Response:
    if request.headers.get("hx-request") == "true":
        current = request.headers.get("hx-current-url", "")
        parts = urlsplit(current)
        back = safe_next(parts.path + (f"?{parts.query}" if parts.query else "")) if current else "/"
        return Response(status_code=401, headers={"HX-Redirect": f"/auth/login?next={quote(back, safe='')}"})
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = safe_next(back) if request.method == "GET" else "/"
    return RedirectResponse(f"/auth/login?next={quote(target, safe='')}", status_code=303)
