"""The one access policy of the platform: which roles may attempt which action.

Every route declares its action with ``Depends(require("<action>"))`` (or ``public()``, or
``Depends(optional("<action>"))`` for an action in :data:`ANONYMOUS_READ`); the role check happens
here, and the scope check (own children, own organisation, own
municipality) happens in the use case with the :class:`Principal` helpers, answering 404 for
a foreign resource so that its existence is not revealed. A test walks every route of every
service and fails when one declares no action or an action missing from this table.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..http.problems import ProblemError
from ..logging import get_logger
from .principal import Principal, Role
from .ratelimit import SubjectLimiter
from .tokens import InvalidToken, TokenVerifier

P, PR, MO, RO, F, S = (
    Role.PARENT, Role.PROVIDER, Role.MUNICIPAL_OPERATOR, Role.REGIONAL_OPERATOR, Role.FINANCE, Role.SERVICE,
)
OPERATORS = frozenset({MO, RO})

POLICY: dict[str, frozenset[Role]] = {
    # registry
    "registry.certificate.apply": frozenset({P}),
    "registry.certificate.read": frozenset({P, PR, MO, RO, S}),
    "registry.application.read": frozenset({P, MO, RO, S}),
    "registry.certificate.lookup": frozenset({PR, MO, RO}),
    "registry.certificate.moderate": OPERATORS,
    "registry.certificate.expire_job": frozenset({RO, S}),
    "registry.provider.register": frozenset({PR}),
    "registry.provider.read": frozenset({P, PR, MO, RO, F, S}),
    "registry.provider.moderate": OPERATORS,
    "registry.provider.details": frozenset({PR, MO, RO}),  # payee details: the provider itself or its operators
    "registry.program.manage": frozenset({PR}),
    "registry.program.read": frozenset({P, PR, MO, RO, F, S}),
    "registry.program.certify": OPERATORS,
    "registry.municipality.read": frozenset({P, PR, MO, RO, F, S}),
    "registry.settings.manage": frozenset({RO}),
    "registry.statistics.read": OPERATORS,  # the operators' dashboard (own municipality for MO)
    # navigator
    "navigator.catalogue.search": frozenset({P, PR, MO, RO, F, S}),
    "navigator.catalogue.read": frozenset({P, PR, MO, RO, F, S}),
    "navigator.events.follow": frozenset({P, PR}),
    "navigator.enrolment.apply": frozenset({P}),
    "navigator.enrolment.read": frozenset({P, PR, MO, RO}),
    "navigator.enrolment.cancel": frozenset({P}),
    "navigator.enrolment.accept": frozenset({P}),  # the parent accepts the offer (own children only)
    "navigator.enrolment.decide": frozenset({PR}),
    "navigator.enrolment.terminate": frozenset({P, PR}),
    "navigator.attendance.post": frozenset({PR}),
    "navigator.attendance.read": frozenset({P, PR, MO, RO}),
    "navigator.attendance.freeze": frozenset({RO, S}),
    "navigator.dispute.open": frozenset({P}),
    "navigator.dispute.resolve": OPERATORS,
    "navigator.dispute.read": frozenset({P, PR, MO, RO}),
    "navigator.cabinet.read": frozenset({P}),
    "navigator.waitlist.leave": frozenset({P}),
    "navigator.waitlist.read": frozenset({PR, MO, RO}),
    "navigator.waitlist.manage": frozenset({PR}),
    "navigator.admin.rebuild": frozenset({RO, S}),
    "navigator.statistics.read": OPERATORS,
    # billing
    "billing.account.read": frozenset({P, MO, RO, F}),
    # a quote shows the certificate's part, min(cost, normative, available): the balance to the
    # kopeck. Providers do not get it: their module's price is theirs (registry), the split of an
    # enrolment they are party to comes with the enrolment and its offer (navigator), and a
    # certificate is checked before enrolling with the registry lookup (status, validity, age)
    "billing.quote.read": frozenset({P, MO, RO, S}),
    "billing.period.manage": OPERATORS,
    "billing.period.open_close": frozenset({RO}),  # credits or returns money of the whole region
    "billing.period.read": frozenset({MO, RO, F}),
    "billing.order.read": frozenset({PR, MO, RO, F}),
    "billing.reconciliation.read": frozenset({RO, F, MO}),
    "billing.month_close.run": frozenset({MO, RO, S}),  # a municipal operator: its own municipality only
    "billing.order.treasury_status": frozenset({F, S}),  # the finance system reports an order's status
    "billing.order.reissue": frozenset({MO, RO, F}),  # a returned order (MO: of its municipality)
    "billing.statistics.read": OPERATORS,
    "billing.agreement.manage": OPERATORS,  # a municipal operator for its own municipality (the payer)
    "billing.agreement.read": frozenset({PR, MO, RO, F}),
    # ratings
    "ratings.rating.submit": frozenset({P}),
    "ratings.rating.read": frozenset({P, PR, MO, RO, F, S}),
    "ratings.admin.recompute": frozenset({RO, S}),
    # audit logs (append-only), one per service
    "registry.audit.read": OPERATORS,
    "navigator.audit.read": OPERATORS,
    "billing.audit.read": OPERATORS | {F},
    "ratings.audit.read": OPERATORS,
}

ANONYMOUS_READ: frozenset[str] = frozenset({"navigator.catalogue.search", "navigator.catalogue.read"})
"""Actions a caller without a token may also perform (the public catalogue: public fields only).
A token, when one is sent, is still verified (a bad one answers 401) and its role checked."""

_bearer = HTTPBearer(auto_error=False)
log = get_logger(__name__)


def _unauthenticated() -> ProblemError:
    """The one 401 answer: missing, malformed, forged, expired or too long-lived tokens all get it,
    so that a caller probing with crafted tokens learns nothing about which check failed (the
    reason goes to the structured log, ``token_refused``)."""
    return ProblemError(401, "unauthenticated", "A valid bearer token is required.",
                        headers={"WWW-Authenticate": 'Bearer realm="pfdo"'})


def _count_subject(request: Request, principal: Principal) -> None:
    """The per-subject limit (settings ``rate_per_subject``), after the signature: only a verified
    subject is counted, so a forged token never spends another's budget."""
    limiter: SubjectLimiter | None = getattr(request.app.state, "subject_limiter", None)
    if limiter is None:
        return
    wait = limiter.retry_after(principal.sub)
    if wait is not None:
        log.info("subject_rate_limited", role=principal.role.value)
        raise ProblemError(429, "rate_limited", "Too many requests of this account; retry later.",
                           headers={"Retry-After": str(max(1, math.ceil(wait)))})


def require(action: str) -> Callable[..., Awaitable[Principal]]:
    """A route dependency: a verified principal whose role may perform ``action``."""
    if action not in POLICY:
        raise KeyError(f"action {action!r} is not in the policy table")
    allowed = POLICY[action]

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            log.info("token_refused", reason="no bearer token")
            raise _unauthenticated()
        verifier: TokenVerifier = request.app.state.verifier
        try:
            principal = await verifier.verify(credentials.credentials)
        except InvalidToken as exc:
            log.info("token_refused", reason=exc.reason)
            raise _unauthenticated() from exc
        _count_subject(request, principal)
        if principal.role not in allowed:
            raise ProblemError(403, "forbidden", f"The role {principal.role.value} may not do {action}.")
        request.state.principal = principal
        return principal

    dependency.pfdo_action = action  # type: ignore[attr-defined]
    return dependency


def optional(action: str) -> Callable[..., Awaitable[Principal | None]]:
    """A route dependency for an action in :data:`ANONYMOUS_READ`: ``None`` without a token, else
    the verified principal (a refused token answers 401, a role outside the policy 403)."""
    if action not in ANONYMOUS_READ:
        raise KeyError(f"action {action!r} is not open to anonymous callers (ANONYMOUS_READ)")
    signed_in = require(action)

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Principal | None:
        if credentials is None and not request.headers.get("authorization"):
            return None
        return await signed_in(request, credentials)

    dependency.pfdo_action = action  # type: ignore[attr-defined]
    dependency.pfdo_anonymous = True  # type: ignore[attr-defined]
    return dependency


def public() -> Callable[[], Awaitable[None]]:
    """A route dependency that marks a route as deliberately open (health, docs)."""

    async def dependency() -> None:
        return None

    dependency.pfdo_action = "public"  # type: ignore[attr-defined]
    return dependency


def declared_action(route: object) -> str | None:
    """The action a FastAPI route declared (walks its dependency tree)."""
    dependant = getattr(route, "dependant", None)
    stack = list(getattr(dependant, "dependencies", []) or [])
    while stack:
        dep = stack.pop()
        action = getattr(dep.call, "pfdo_action", None)
        if action:
            return action
        stack.extend(dep.dependencies or [])
    return None
