"""The access matrix: every route x every role, own vs foreign vs non-existent resources."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, find, settings

from pfdo_plumbing.auth.principal import Role

from ._routes import RouteInfo, service_app
from ._world import SCOPED, World

P, PR, MO = Role.PARENT, Role.PROVIDER, Role.MUNICIPAL_OPERATOR
ALL_SCOPED = frozenset(SCOPED)
NONE: frozenset[Role] = frozenset()

PRIVACY: dict[str, tuple[frozenset[Role], frozenset[Role]]] = {
    # path parameter -> (roles for which another side's resource is private to READ, ... to WRITE)
    "certificate_id": (ALL_SCOPED, ALL_SCOPED),
    "application_id": (ALL_SCOPED, ALL_SCOPED),
    "child_id": (ALL_SCOPED, ALL_SCOPED),
    "enrolment_id": (ALL_SCOPED, ALL_SCOPED),
    "contract_id": (ALL_SCOPED, ALL_SCOPED),
    "request_id": (ALL_SCOPED, ALL_SCOPED),
    "dispute_id": (ALL_SCOPED, ALL_SCOPED),
    "mark_id": (ALL_SCOPED, ALL_SCOPED),
    "invoice_id": (ALL_SCOPED, ALL_SCOPED),
    "account_id": (ALL_SCOPED, ALL_SCOPED),
    "order_id": (ALL_SCOPED, ALL_SCOPED),
    "payment_order_id": (ALL_SCOPED, ALL_SCOPED),
    "agreement_id": (ALL_SCOPED, ALL_SCOPED),  # a provider's own, an operator's municipality's
    "rating_id": (NONE, ALL_SCOPED),
    "provider_id": (NONE, ALL_SCOPED),  # the providers' registry is public; changes are scoped
    "program_id": (NONE, ALL_SCOPED),  # certified programs are public; changes are scoped
    "module_id": (NONE, ALL_SCOPED),
    "code": (NONE, NONE),  # municipality codes: reference data (changes: regional operators only)
    # program periods are region-wide (one school year for every municipality): there is no
    # "another side's" period. A municipal operator's reach inside one is the municipality named in
    # the body (nominals, caps), refused with 404 for another municipality by billing.
    "period_id": (NONE, NONE),
    "month": (NONE, NONE),  # calendar months (month close, journal freeze) belong to no one
}
"""Which resources are private to whom. Unknown parameters: reads public, writes private
(listed as an assumption in the printed report)."""

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_UUIDISH = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class Cell:
    route: RouteInfo
    role: Role | None  # None: no token
    kind: str  # auth | anonymous (open without a token) | denied | own | foreign
    outcome: str  # ok | leak | wrong | error5xx | inconclusive | not_exercised
    detail: str = ""


@dataclass
class MatrixResult:
    cells: list[Cell] = field(default_factory=list)
    not_exercised: list[str] = field(default_factory=list)
    assumptions: set[str] = field(default_factory=set)

    def bad(self, outcome: str) -> list[Cell]:
        return [c for c in self.cells if c.outcome == outcome]

    def table(self) -> str:
        roles = list(Role)
        head = f"{'route':70} | {'anon':5} | " + " | ".join(f"{r.value[:12]:12}" for r in roles)
        lines = [head, "-" * len(head)]
        by_route: dict[str, list[Cell]] = {}
        for cell in self.cells:
            by_route.setdefault(cell.route.label, []).append(cell)
        for label, cells in by_route.items():
            def mark(role: Role | None) -> str:
                mine = [c for c in cells if c.role == role]
                kinds = Counter(c.outcome for c in mine)
                if not mine:
                    return "-"
                if kinds["leak"]:
                    return "LEAK"
                if kinds["error5xx"]:
                    return "5xx"
                if kinds["wrong"]:
                    return "WRONG"
                symbol = {"denied": "deny", "own": "allow", "auth": "401", "anonymous": "open"}
                main = next((symbol[c.kind] for c in mine if c.kind in symbol), "")
                if any(c.kind == "foreign" and c.outcome == "ok" for c in mine):
                    main += "+f"
                if any(c.outcome == "inconclusive" for c in mine):
                    main += "?"
                if any(c.outcome == "not_exercised" for c in mine):
                    main += "(n/e)"
                return main
            lines.append(f"{label[:70]:70} | {mark(None):5} | " + " | ".join(f"{mark(r):12}" for r in roles))
        totals = Counter(c.outcome for c in self.cells)
        kinds = Counter((c.kind, c.outcome) for c in self.cells)
        lines.append("-" * len(head))
        lines.append(
            f"cells: {len(self.cells)}; allowed-own ok {kinds[('own', 'ok')]}, denied ok {kinds[('denied', 'ok')]}, "
            f"anonymous 401 ok {kinds[('auth', 'ok')]}, foreign refused ok {kinds[('foreign', 'ok')]}, "
            f"foreign inconclusive {kinds[('foreign', 'inconclusive')]}; LEAKS {totals['leak']}, "
            f"WRONG {totals['wrong']}, 5xx {totals['error5xx']}, not exercised {totals['not_exercised']}"
        )
        return "\n".join(lines)


def _param_schema(route: RouteInfo, name: str) -> dict[str, Any]:
    for p in route.route.dependant.path_params:
        if p.name == name:
            return p.field_info.json_schema_extra or {}  # type: ignore[return-value]
    return {}


def nonexistent_value(route: RouteInfo, name: str, like: str | None) -> str:
    """A well-formed value of the same shape as ``like`` that names nothing."""
    if like is None or _UUIDISH.fullmatch(like):
        return str(uuid.uuid4())
    if like.isdigit():
        return "9" * len(like) if len(like) > 1 else "9"
    return f"nonexistent-{uuid.uuid4().hex[:8]}"


_examples: dict[str, tuple[dict | None, Any]] = {}


@cache
def _st_schema(service: str) -> Any:
    import schemathesis

    return schemathesis.openapi.from_dict(service_app(service).openapi())


def example_request(route: RouteInfo) -> tuple[dict | None, Any]:
    """A minimal schema-valid query and body for the operation (from its OpenAPI, via schemathesis)."""
    if route.label in _examples:
        return _examples[route.label]
    operation = _st_schema(route.service)[route.path][route.method]
    path_parameters = {p: str(uuid.uuid4()) for p in route.path_params}
    try:
        case = find(
            operation.as_strategy(path_parameters=path_parameters), lambda _c: True,
            settings=settings(database=None, max_examples=1, phases=[Phase.generate], deadline=None,
                              suppress_health_check=list(HealthCheck)),
        )
        query = dict(case.query) if case.query else None
        body = case.body if case.body is not None and not isinstance(case.body, type) else None
        if type(case.body).__name__ == "NotSet":
            body = None
    except Exception:  # noqa: BLE001  an operation whose schema cannot be generated: send {}
        query, body = None, ({} if route.method in WRITE_METHODS else None)
    _examples[route.label] = (query, body)
    return query, body


def _call(client: httpx.Client, route: RouteInfo, values: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    query, body = example_request(route)
    path = route.path
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    kwargs: dict[str, Any] = {"headers": headers, "params": query}
    if body is not None:
        kwargs["json"] = body
    if route.is_stream:  # an event stream never ends: its status and first bytes (or a refusal) are enough
        with client.stream(route.method, path, **kwargs) as response:
            if not response.is_success:
                response.read()
                return response
            first = next(response.iter_bytes(), b"")
            return httpx.Response(response.status_code, headers=response.headers, content=first,
                                  request=response.request)
    return client.request(route.method, path, **kwargs)


def _shape(response: httpx.Response, ids: list[str]) -> tuple:
    try:
        body = response.json()
    except ValueError:
        return (response.status_code, response.text)
    if not isinstance(body, dict):
        return (response.status_code, type(body).__name__)
    detail = str(body.get("detail", ""))
    for value in ids:
        detail = detail.replace(value, "<id>")
    return (response.status_code, body.get("code"), body.get("title"), tuple(sorted(set(body) - {"request_id"})),
            _UUIDISH.sub("<id>", detail))


def run_matrix(world: World, routes: list[RouteInfo]) -> MatrixResult:
    result = MatrixResult()
    own_calls: list[tuple[RouteInfo, Role]] = []
    with world.client() as client:
        for route in routes:
            if route.is_public:
                continue
            params = route.path_params
            own_values = {p: world.params.get(p, {}).get("A") for p in params}
            any_values = {p: v or str(uuid.uuid4()) for p, v in own_values.items()}
            # no token at all: refused, or public fields (the catalogue); a bad token is refused either way
            r = _call(client, route, any_values, {})
            if route.is_anonymous_read:
                ok = r.status_code < 500 and r.status_code not in (401, 403)
                bad = _call(client, route, any_values, {"Authorization": "Bearer not.a.token"})
                ok = ok and bad.status_code == 401 and bad.json().get("code") == "unauthenticated"
                result.cells.append(Cell(route, None, "anonymous", "ok" if ok else "wrong",
                                         f"anonymous -> {r.status_code}, bad token -> {bad.status_code}"))
            else:
                ok = r.status_code == 401 and r.json().get("code") == "unauthenticated"
                result.cells.append(Cell(route, None, "auth", "ok" if ok else ("leak" if r.is_success else "wrong"),
                                         f"anonymous -> {r.status_code}"))
            for role in Role:
                if role not in route.allowed:
                    r = _call(client, route, any_values, world.headers(role, "A"))
                    ok = r.status_code == 403 and r.json().get("code") == "forbidden"
                    outcome = "ok" if ok else "leak" if r.is_success else "error5xx" if r.status_code >= 500 else "wrong"
                    result.cells.append(Cell(route, role, "denied", outcome, f"{role.value} -> {r.status_code} {r.text[:160]}"))
                    continue
                if any(v is None for v in own_values.values()):
                    missing = [p for p, v in own_values.items() if v is None]
                    result.cells.append(Cell(route, role, "own", "not_exercised", f"no value for {missing}"))
                else:
                    own_calls.append((route, role))
                if role not in SCOPED or not params:
                    continue
                private = []
                for p in params:
                    if p not in PRIVACY:
                        result.assumptions.add(p)
                    reads, writes = PRIVACY.get(p, (NONE, ALL_SCOPED))
                    if role in (writes if route.method in WRITE_METHODS else reads):
                        private.append(p)
                if not private:
                    continue
                foreign = {p: world.params.get(p, {}).get("B") for p in params}
                if any(v is None for v in foreign.values()):
                    missing = [p for p, v in foreign.items() if v is None]
                    result.cells.append(Cell(route, role, "foreign", "not_exercised", f"no foreign value for {missing}"))
                    continue
                headers = world.headers(role, "A")
                fr = _call(client, route, foreign, headers)
                ghost = {p: nonexistent_value(route, p, foreign[p]) for p in params}
                nr = _call(client, route, ghost, headers)
                req = f"{role.value}(side A) {route.method} {route.path} with {foreign}"
                if fr.is_success:
                    outcome, detail = "leak", f"{req} -> {fr.status_code} {fr.text[:300]}"
                elif fr.status_code >= 500:
                    outcome, detail = "error5xx", f"{req} -> {fr.status_code} {fr.text[:300]}"
                elif fr.status_code == 401:
                    outcome, detail = "wrong", f"{req} -> 401 with a valid token"
                elif fr.status_code == 403:
                    outcome, detail = "ok", f"{req} -> 403 (non-existent -> {nr.status_code})"
                elif _shape(fr, list(foreign.values())) != _shape(nr, list(ghost.values())):
                    outcome = "leak"
                    detail = (f"{req}: foreign answers {_shape(fr, list(foreign.values()))} but non-existent answers "
                              f"{_shape(nr, list(ghost.values()))} (existence revealed)")
                elif fr.status_code == 404:
                    outcome, detail = "ok", f"{req} -> 404 like a non-existent one"
                else:
                    outcome, detail = "inconclusive", f"{req} -> {fr.status_code} (non-existent too): scope not reached"
                result.cells.append(Cell(route, role, "foreign", outcome, detail))
        # own resources last: these calls may change the world (side A only)
        for route, role in own_calls:
            values = {p: world.params[p]["A"] for p in route.path_params}
            r = _call(client, route, values, world.headers(role, "A"))
            req = f"{role.value} {route.method} {route.path} with {values}"
            if r.status_code >= 500:
                outcome = "error5xx"
            elif r.status_code in (401, 403):
                outcome = "wrong"
            else:
                outcome = "ok"
            result.cells.append(Cell(route, role, "own", outcome, f"{req} -> {r.status_code} {r.text[:200]}"))
    for cell in result.cells:
        if cell.outcome == "not_exercised":
            who = cell.role.value if cell.role else "anonymous"
            result.not_exercised.append(f"{cell.route.label} as {who} ({cell.kind}): {cell.detail}")
    return result
