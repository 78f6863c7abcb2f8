"""A small world of two of everything, built through the public APIs through the gateway:
side A and side B, each with a municipality, a municipal operator, a parent with a child
certificate, and a provider with a certified program. Regional operator, finance and service
accounts are global. Each step that the services do not support (yet) is recorded, not hidden."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from pfdo_plumbing.auth.principal import Role
from pfdo_plumbing.testing import TestAuth

SCOPED = (Role.PARENT, Role.PROVIDER, Role.MUNICIPAL_OPERATOR)
GLOBAL = (Role.REGIONAL_OPERATOR, Role.FINANCE, Role.SERVICE)
SURNAMES = {"A": "Тестоваясекретность", "B": "Чужаковапроверка"}  # unique values: scanned for in logs


@dataclass(frozen=True)
class Identity:
    role: Role
    sub: str
    municipality: str | None = None
    provider_id: str | None = None

    def headers(self, auth: TestAuth) -> dict[str, str]:
        claims: dict[str, Any] = {}
        if self.municipality:
            claims["municipality"] = self.municipality
        if self.provider_id:
            claims["provider_id"] = self.provider_id
        return auth.headers(self.role.value, self.sub, **claims)


@dataclass
class Side:
    name: str
    municipality: str
    identities: dict[Role, Identity]
    snils: str = ""
    surname: str = ""


@dataclass
class World:
    auth: TestAuth
    base_url: str
    sides: dict[str, Side]
    global_identities: dict[Role, Identity]
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    """path parameter name -> side name -> value of that side's resource."""
    steps: list[tuple[str, str]] = field(default_factory=list)
    """(step, outcome) of the build: what the services supported."""
    _headers: dict[tuple[Role, str], dict[str, str]] = field(default_factory=dict, repr=False)

    def identity(self, role: Role, side: str = "A") -> Identity:
        return self.sides[side].identities[role] if role in SCOPED else self.global_identities[role]

    def headers(self, role: Role, side: str = "A") -> dict[str, str]:
        """Minted once per identity (loading the signing key is the slow part)."""
        key = (role, side if role in SCOPED else "")
        if key not in self._headers:
            self._headers[key] = self.identity(role, side).headers(self.auth)
        return dict(self._headers[key])

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def put(self, param: str, side: str, value: object) -> None:
        self.params.setdefault(param, {})[side] = str(value)

    def record(self, step: str, response: httpx.Response | None, note: str = "") -> bool:
        ok = response is not None and response.is_success
        outcome = f"{response.status_code}" if response is not None else "not attempted"
        if not ok and response is not None:
            outcome += f" {response.text[:200]}"
        self.steps.append((step, outcome + (f" ({note})" if note else "")))
        return ok


def new_world(auth: TestAuth, base_url: str) -> World:
    run = uuid.uuid4().hex[:6]
    sides = {}
    for name, code in (("A", "71"), ("B", "72")):
        provider_id = str(uuid.uuid4())
        sides[name] = Side(name, code, {
            Role.PARENT: Identity(Role.PARENT, f"parent-{name}-{run}"),
            Role.PROVIDER: Identity(Role.PROVIDER, f"staff-{name}-{run}", provider_id=provider_id),
            Role.MUNICIPAL_OPERATOR: Identity(Role.MUNICIPAL_OPERATOR, f"mo-{name}-{run}", municipality=code),
        })
    glob = {r: Identity(r, f"{r.value}-{run}") for r in GLOBAL}
    world = World(auth, base_url, sides, glob)
    for side in sides:  # calendar months are not owned by anyone: an old one, harmless to act on
        world.put("month", side, "2020-01")
    return world


def _module(code: str) -> dict[str, Any]:
    today = dt.date.today()
    start = today + dt.timedelta(days=30)
    return {
        "name": "Модуль 1", "min_age": 5, "max_age": 17, "municipality_code": code, "address": "ул. Ленина, 1",
        "schedule": [{"weekday": 1, "starts_at": "15:00:00", "ends_at": "16:30:00"}], "hours": 72,
        "start_date": start.isoformat(), "end_date": (start + dt.timedelta(days=240)).isoformat(),
        "capacity": 15, "price_kopecks": 1_200_000, "funding_kind": "certificate",
    }


def build_registry_part(world: World) -> None:
    """Municipalities, settings, a certificate and a certified program per side."""
    from pfdo_registry.domain import identifiers as ids
    from pfdo_registry.domain.program import Direction
    from pfdo_registry.domain.provider import ProviderType

    rng = random.Random()
    ro = world.headers(Role.REGIONAL_OPERATOR)
    with world.client() as c:
        for side in world.sides.values():
            world.put("code", side.name, side.municipality)
            world.record(f"registry: municipality {side.municipality}",
                         c.put(f"/api/registry/municipalities/{side.municipality}", json={"name": f"Округ {side.name}"},
                               headers=ro))
        for side in world.sides.values():
            parent = side.identities[Role.PARENT].headers(world.auth)
            mo = side.identities[Role.MUNICIPAL_OPERATOR].headers(world.auth)
            side.snils = ids.generate_snils(rng)
            side.surname = SURNAMES[side.name]
            birth = dt.date.today().replace(year=dt.date.today().year - 10, day=1)
            r = c.post("/api/registry/applications", headers=parent, json={"child": {
                "surname": side.surname, "first_name": "Ева", "patronymic": "Игоревна",
                "birth_date": birth.isoformat(), "snils": side.snils, "municipality_code": side.municipality,
            }})
            if world.record(f"registry: application {side.name}", r):
                app = r.json()
                world.put("application_id", side.name, app["id"])
                world.put("child_id", side.name, app["child_id"])
                cert = app.get("certificate_id")
                if not cert:
                    r = c.post(f"/api/registry/applications/{app['id']}/approve", headers=mo)
                    if world.record(f"registry: approve {side.name}", r):
                        cert = r.json().get("certificate_id")
                if cert:
                    world.put("certificate_id", side.name, cert)
            staff = side.identities[Role.PROVIDER]
            inn = ids.generate_org_inn(rng)
            r = c.post("/api/registry/providers", headers=staff.headers(world.auth), json={
                "provider_type": ProviderType.PRIVATE_ORG.value, "name": f"Школа {side.name}", "inn": inn,
                "ogrn": ids.generate_ogrn(rng), "kpp": ids.generate_kpp(rng, inn=inn),
                "municipality_code": side.municipality, "address": "ул. Мира, 2", "bank_name": "Банк",
                "bik": "044525225", "settlement_account": "40702810" + "".join(rng.choice("0123456789") for _ in range(12)),
            })
            if world.record(f"registry: provider {side.name}", r):
                provider_id = r.json()["id"]
                world.put("provider_id", side.name, provider_id)
                world.record(f"registry: provider approve {side.name}",
                             c.post(f"/api/registry/providers/{provider_id}/approve", headers=mo, json={}))
            r = c.post("/api/registry/programs", headers=staff.headers(world.auth), json={
                "name": f"Робототехника {side.name}", "description": "Конструирование и программирование роботов.",
                "direction": Direction.TECHNICAL.value, "modules": [_module(side.municipality)],
            })
            if world.record(f"registry: program {side.name}", r):
                program = r.json()
                program_id = program["id"]
                world.put("program_id", side.name, program_id)
                module_id = program["modules"][0]["id"] if program.get("modules") else None
                if module_id:
                    world.put("module_id", side.name, module_id)
                world.record(f"registry: submit {side.name}",
                             c.post(f"/api/registry/programs/{program_id}/submit", headers=staff.headers(world.auth)))
                if module_id:
                    world.record(f"registry: normative cost {side.name}", c.put(
                        f"/api/registry/programs/{program_id}/modules/{module_id}/normative-cost", headers=mo,
                        json={"normative_cost_kopecks": 1_000_000}))
                world.record(f"registry: certify {side.name}",
                             c.post(f"/api/registry/programs/{program_id}/certify", headers=mo))


def harvest(world: World, routes: list, *, wait_s: float = 0.0) -> None:
    """Fill path parameters the builder could not, from list routes (GET without path params)
    called by each side's scoped roles: ``/x/things`` items give ``{thing_id}`` (from ``thing_id``
    or ``id``). A value seen by both sides is shared, not owned: it is not used."""
    wanted = {p for r in routes for p in r.path_params} - set(world.params)
    if not wanted:
        return
    lists = [r for r in routes if r.method == "GET" and not r.path_params]
    deadline = time.monotonic() + wait_s
    with world.client() as c:
        while True:
            found: dict[str, dict[str, set[str]]] = {}
            for route in lists:
                stem = route.path.rstrip("/").rsplit("/", 1)[-1]
                singular = stem[:-1] if stem.endswith("s") else stem
                for side in world.sides:
                    for role in SCOPED:
                        if role not in route.allowed:
                            continue
                        try:
                            r = c.get(route.path, headers=world.headers(role, side))
                        except httpx.HTTPError:
                            continue
                        if not r.is_success:
                            continue
                        body = r.json()
                        items = body if isinstance(body, list) else body.get("items", []) if isinstance(body, dict) else []
                        for item in items:
                            if not isinstance(item, dict):
                                continue
                            for param in wanted:
                                value = item.get(param)
                                if value is None and param == f"{singular}_id":
                                    value = item.get("id")
                                if value is not None:
                                    found.setdefault(param, {}).setdefault(side, set()).add(str(value))
            for param, by_side in found.items():
                for side, values in by_side.items():
                    others = set().union(*(v for s, v in by_side.items() if s != side))
                    own = sorted(values - others)
                    if own and side not in world.params.get(param, {}):
                        world.put(param, side, own[0])
            wanted -= {p for p in wanted if len(world.params.get(p, {})) == 2}
            if not wanted or time.monotonic() >= deadline:
                return
            time.sleep(1.0)
