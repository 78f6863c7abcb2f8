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
from pfdo_testkit import TestAuth

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


def _module(code: str, dates: tuple[dt.date, dt.date] | None = None) -> dict[str, Any]:
    start = dt.date.today() + dt.timedelta(days=30)
    start, end = dates or (start, start + dt.timedelta(days=240))
    return {
        "name": "Модуль 1", "min_age": 5, "max_age": 17, "municipality_code": code, "address": "ул. Ленина, 1",
        "schedule": [{"weekday": 1, "starts_at": "15:00:00", "ends_at": "16:30:00"}], "hours": 72,
        "start_date": start.isoformat(), "end_date": end.isoformat(),
        "capacity": 15, "price_kopecks": 1_200_000, "funding_kind": "certificate",
    }


def build_registry_part(world: World, *, module_dates: tuple[dt.date, dt.date] | None = None) -> None:
    """Municipalities, settings, a certificate and a certified program per side (its module runs
    over ``module_dates``, by default from a month ahead for eight months)."""
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
                "bik": "044525225", "settlement_account": ids.generate_settlement_account(rng, bik="044525225"),
                "correspondent_account": ids.correspondent_account_for("044525225"),
            })
            if world.record(f"registry: provider {side.name}", r):
                provider_id = r.json()["id"]
                world.put("provider_id", side.name, provider_id)
                world.record(f"registry: provider approve {side.name}",
                             c.post(f"/api/registry/providers/{provider_id}/approve", headers=mo, json={}))
            r = c.post("/api/registry/programs", headers=staff.headers(world.auth), json={
                "name": f"Робототехника {side.name}", "description": "Конструирование и программирование роботов.",
                "direction": Direction.TECHNICAL.value, "modules": [_module(side.municipality, module_dates)],
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


# --- the money part: enrolments, attendance, disputes, closed months, ratings ----------------


def school_year(today: dt.date | None = None) -> int:
    """The first year of the school year the matrix world lives in: four years ahead of the real
    one, so that its period and months cannot meet those of other tests on the same platform."""
    return (today or dt.date.today()).year + 4


def module_dates(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 9, 1), dt.date(year + 1, 5, 31)


def _story(world: World, side: str) -> Any:
    from pfdo_devstack import story as st

    def person(role: Role) -> st.Person:
        i = world.identity(role, side)
        return st.Person(i.role.value, i.sub, municipality=i.municipality, provider_id=i.provider_id)

    people = {"parent": person(Role.PARENT), "provider": person(Role.PROVIDER),
              "operator": person(Role.MUNICIPAL_OPERATOR), "region": person(Role.REGIONAL_OPERATOR),
              "finance": person(Role.FINANCE)}
    ids = {"certificate": world.params.get("certificate_id", {}).get(side),
           "provider": world.params.get("provider_id", {}).get(side)}
    return st.Story(httpx.AsyncClient(base_url=world.base_url, timeout=30), st.TestAuthTokens(world.auth), people,
                    {k: v for k, v in ids.items() if v})


async def build_money_part(world: World, clock: Any, year: int) -> None:
    """Per side, through the steps of the school-year story (:mod:`pfdo_devstack.story`) on the
    platform's moved business calendar: a period with nominals for both municipalities; an
    enrolment reserved by billing and confirmed by the provider; September's advance; attendance
    posted on 30 September; a dispute of a mark; a termination; on 1 October the contract has ended
    and September is closed (final payment orders); the parent rates the ended enrolment.

    Gives ``period_id`` (one region-wide period: the same value on both sides), ``enrolment_id``,
    ``dispute_id`` and ``order_id`` per side. A step that fails is recorded, the build goes on
    with what it has (the matrix then reports the cells it could not exercise)."""
    from pfdo_devstack import story as st

    start, _end = module_dates(year)
    september = f"{year}-09"
    stories = {side: _story(world, side) for side in world.sides}

    async def step(name: str, action: Any) -> Any:
        try:
            result = await action
        except Exception as exc:  # noqa: BLE001  recorded, not hidden: the matrix reports what is missing
            world.steps.append((name, f"failed: {str(exc)[:300]}"))
            return None
        world.steps.append((name, "ok"))
        return result

    try:
        region = stories["A"]
        period = await step("billing: period with nominals, opened", st.open_period(
            region, starts_on=start, ends_on=dt.date(year + 1, 8, 31), nominal=2_000_000,
            municipalities=[s.municipality for s in world.sides.values()]))
        if period is not None:
            for side in world.sides:
                world.put("period_id", side, period["period_id"])
            for side, s in stories.items():  # each side's provider works with its municipality under an agreement
                s.ids.update(period=str(period["period_id"]), period_starts_on=start.isoformat())
                await step(f"billing: agreement {side}", st.ensure_agreement(s))
                made = [v for k, v in s.ids.items() if k.startswith("agreement_")]
                if made:
                    world.put("agreement_id", side, made[0])
        for side, s in stories.items():
            module_id = world.params.get("module_id", {}).get(side)
            if "certificate" not in s.ids or module_id is None:
                world.steps.append((f"navigator: enrolment {side}", "not attempted (no certificate or module)"))
                continue
            s.ids["module"] = module_id
            if await step(f"navigator: enrolment {side}", st.apply(s, module_id, start, "monthly")) is None:
                continue
            world.put("enrolment_id", side, s.ids["enrolment"])
            if await step(f"navigator: reserved {side}", st.enrolment_when(
                    s, "billing reserved", lambda e: e["state"] == "reserved")) is not None:
                if await step(f"navigator: offered {side}", st.confirm(s)) is not None:
                    await step(f"navigator: confirmed {side}", st.accept_offer(s))
        clock.set(start)
        await step("billing: September advance", st.issue_advance(region, september))
        clock.set(dt.date(year, 9, 30))
        mondays = [start + dt.timedelta(days=d) for d in range(30) if (start + dt.timedelta(days=d)).isoweekday() == 1]
        for side, s in stories.items():
            if "enrolment" not in s.ids:
                continue
            await step(f"navigator: attendance {side}",
                       st.post_attendance(s, s.ids["module"], [(d, "present") for d in mondays]))
            marks = await step(f"navigator: marks {side}", st.marks(s, september))
            if marks:
                dispute = await step(f"navigator: dispute {side}", st.open_dispute(
                    s, str(marks[-1]["mark_id"]), "absent", "Ребёнок болел"))
                if dispute is not None:
                    world.put("dispute_id", side, dispute["dispute_id"])
            await step(f"navigator: terminate {side}", st.terminate(s))
        clock.set(dt.date(year, 10, 1))
        for side, s in stories.items():
            if "enrolment" in s.ids:
                await step(f"navigator: ended {side}", st.enrolment_when(
                    s, "the contract ended", lambda e: e["state"] == "ended"))
        await step("billing: September closed", _close(region, september))
        for side, s in stories.items():
            if "provider" in s.ids:
                orders = await step(f"billing: payment orders {side}", st.eventually(
                    lambda s=s: _orders(s, september), f"payment orders of side {side}"))
                if orders:
                    world.put("order_id", side, orders[0]["order_id"])
            if "enrolment" in s.ids:
                await step(f"ratings: rating {side}", st.rate(s, {
                    "results": 80, "teachers_and_group": 90, "materials_and_equipment": 70,
                    "overall_satisfaction": 80}, "Хорошие занятия"))
    finally:
        for s in stories.values():
            await s.gw.aclose()


async def _close(s: Any, month: str) -> dict:
    """The navigator freezes the month's journal (operator's command), billing hears of it and closes."""
    from pfdo_devstack import story as st

    st.expect(await s.post("region", f"/api/navigator/attendance/months/{month}/freeze"), 200)

    async def probe() -> dict | None:
        r = await st.close_month(s, month)
        return None if r.status_code == 409 and "journal_not_frozen" in r.text else st.expect(r, 200)

    return await st.eventually(probe, f"billing closes {month} once the journal is frozen")


async def _orders(s: Any, month: str) -> list[dict] | None:
    from pfdo_devstack import story as st

    found = [o for o in await st.payment_orders(s) if o["month"] == month]
    return found or None
