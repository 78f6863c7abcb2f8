"""A synthetic load through the public APIs behind the gateway: bounded in count and in time, and
loopback only.

``build_world`` creates a municipality, providers with certified programs (registry), children
with certificates (registry) and a program period with its nominals, opened (billing). ``run``
then keeps a steady stream of enrolment applications (navigator), provider confirmations, a few
cancellations and attendance uploads, until either the count or the time is used up; a service
that is down (502 from the gateway) is counted, not fatal: faults are the point. ``close_month``
runs the operator's month close in billing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import httpx

from pfdo_registry.domain.identifiers import (
    correspondent_account_for, generate_ogrn, generate_org_inn, generate_settlement_account, generate_snils,
)

BIK = "044206604"  # the providers' bank (ПАО Сбербанк, Липецк)

MUNICIPALITY = "01"
RETRY_STATUSES = frozenset({0, 500, 502, 503, 504})


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/Moscow")).date()


@dataclass
class LoadConfig:
    providers: int = 2
    modules_per_provider: int = 2
    certificates: int = 10
    capacity: int = 500
    price_kopecks: int = 3_600_000
    nominal_kopecks: int = 5_000_000
    concurrency: int = 3
    seed: int = 8


@dataclass
class World:
    providers: list[tuple[str, str]] = field(default_factory=list)
    """(provider id, staff sub)"""
    modules: list[tuple[str, str, str]] = field(default_factory=list)
    """(module id, program id, provider id)"""
    programs: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[tuple[str, str]] = field(default_factory=list)
    """(certificate id, parent sub)"""
    period_id: str | None = None


@dataclass
class LoadStats:
    calls: Counter = field(default_factory=Counter)
    enrolments: set[str] = field(default_factory=set)
    marks: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        ok = sum(n for (a, st), n in self.calls.items() if 200 <= st < 300)
        down = sum(n for (a, st), n in self.calls.items() if st in RETRY_STATUSES)
        return (f"{sum(self.calls.values())} calls in {self.seconds:.0f}s ({ok} ok, {down} while a part was down), "
                f"{len(self.enrolments)} enrolments, {self.marks} attendance marks")


class LoadGenerator:
    def __init__(self, base_url: str, auth: Any, config: LoadConfig | None = None) -> None:
        host = urlparse(base_url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"the load generator only talks to loopback, not {host}")
        self.base_url = base_url
        self.auth = auth
        self.config = config or LoadConfig()
        self.rng = random.Random(self.config.seed)
        self.world = World()
        self.stats = LoadStats()
        self.client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(20.0, connect=5.0),
                                        limits=httpx.Limits(max_connections=20))

    async def aclose(self) -> None:
        await self.client.aclose()

    # ---- tokens ---------------------------------------------------------------------------
    def ro(self) -> dict[str, str]:
        return self.auth.headers("regional_operator", "load-ro")

    def mo(self) -> dict[str, str]:
        return self.auth.headers("municipal_operator", "load-mo", municipality=MUNICIPALITY)

    def provider(self, provider_id: str, sub: str) -> dict[str, str]:
        return self.auth.headers("provider", sub, provider_id=provider_id)

    def parent(self, sub: str) -> dict[str, str]:
        return self.auth.headers("parent", sub)

    # ---- HTTP -----------------------------------------------------------------------------
    async def call(self, action: str, method: str, path: str, headers: dict[str, str], body: Any = None,
                   **params: Any) -> httpx.Response | None:
        try:
            r = await self.client.request(method, path, headers=headers, json=body, params=params or None)
            status = r.status_code
        except httpx.HTTPError:
            r, status = None, 0
        self.stats.calls[(action, status)] += 1
        return r

    async def must(self, action: str, method: str, path: str, headers: dict[str, str], body: Any = None,
                   ok: tuple[int, ...] = (200, 201, 204), timeout: float = 90.0, **params: Any) -> httpx.Response:
        """Setup calls: retried while a part of the platform is down (they are idempotent or
        their repetition is harmless)."""
        deadline = time.monotonic() + timeout
        while True:
            r = await self.call(action, method, path, headers, body, **params)
            if r is not None and r.status_code in ok:
                return r
            status = 0 if r is None else r.status_code
            if status not in RETRY_STATUSES or time.monotonic() > deadline:
                raise AssertionError(f"{action}: {method} {path} answered {status}: {r.text[:500] if r else 'no answer'}")
            await asyncio.sleep(0.5)

    # ---- the world ------------------------------------------------------------------------
    async def build_world(self) -> World:
        cfg, w = self.config, self.world
        await self.must("municipality", "PUT", f"/api/registry/municipalities/{MUNICIPALITY}", self.ro(),
                        {"name": "Липецк"})
        start = dt.date(today().year if today().month >= 9 else today().year - 1, 9, 1)
        end = dt.date(start.year + 1, 5, 31)
        for i in range(cfg.providers):
            pid, sub = str(uuid.uuid4()), f"load-provider-{i}"
            inn = generate_org_inn(self.rng, region="48")
            body = {"provider_type": "private_org", "name": f"ООО «Нагрузка {i}»", "inn": inn,
                    "ogrn": generate_ogrn(self.rng, region="48"), "kpp": f"{inn[:4]}01001",
                    "municipality_code": MUNICIPALITY, "address": "г. Липецк, ул. Ленина, 1", "bank_name": "Банк",
                    "bik": BIK, "settlement_account": generate_settlement_account(self.rng, bik=BIK, serial=i),
                    "correspondent_account": correspondent_account_for(BIK)}
            await self.must("provider.register", "POST", "/api/registry/providers", self.provider(pid, sub), body)
            await self.must("provider.approve", "POST", f"/api/registry/providers/{pid}/approve", self.mo())
            w.providers.append((pid, sub))
            modules = [
                {"name": f"Группа {j + 1}", "min_age": 5, "max_age": 17, "municipality_code": MUNICIPALITY,
                 "address": "ул. Мира, 5",
                 "schedule": [{"weekday": d, "starts_at": "15:00", "ends_at": "16:30"} for d in range(1, 8)],
                 "hours": 300, "start_date": start.isoformat(), "end_date": end.isoformat(),
                 "capacity": cfg.capacity, "price_kopecks": cfg.price_kopecks, "funding_kind": "certificate"}
                for j in range(cfg.modules_per_provider)
            ]
            r = await self.must("program.create", "POST", "/api/registry/programs", self.provider(pid, sub),
                                {"name": f"Робототехника {i}", "description": "Нагрузочный тест",
                                 "direction": "technical", "modules": modules})
            program = r.json()
            await self.must("program.submit", "POST", f"/api/registry/programs/{program['id']}/submit",
                            self.provider(pid, sub))
            for m in program["modules"]:
                await self.must("program.normative", "PUT",
                                f"/api/registry/programs/{program['id']}/modules/{m['id']}/normative-cost", self.mo(),
                                {"normative_cost_kopecks": cfg.price_kopecks - 100_000})
                w.modules.append((m["id"], program["id"], pid))
            await self.must("program.certify", "POST", f"/api/registry/programs/{program['id']}/certify", self.mo())
            w.programs.append(program)
        r = await self.must("period.create", "POST", "/api/billing/periods", self.ro(),
                            {"starts_on": start.isoformat(), "ends_on": dt.date(start.year + 1, 8, 31).isoformat()})
        w.period_id = r.json()["period_id"]
        await self.must("period.nominals", "PUT", f"/api/billing/periods/{w.period_id}/nominals", self.ro(),
                        {"nominals": [{"municipality_code": MUNICIPALITY, "age_min": 5, "age_max": 17,
                                       "amount_kopecks": cfg.nominal_kopecks}]})
        await self.must("period.open", "POST", f"/api/billing/periods/{w.period_id}/open", self.ro())
        for pid, _ in w.providers:  # each provider's agreement with the municipality (409: an earlier attempt made it)
            await self.must("agreement.conclude", "POST", "/api/billing/agreements", self.mo(),
                            {"number": f"С-{pid[:8]}", "provider_id": pid, "payer_code": MUNICIPALITY,
                             "period_id": w.period_id, "limit_kopecks": 10**13,
                             "concluded_on": (start - dt.timedelta(days=62)).isoformat()}, ok=(201, 409))
        for i in range(cfg.certificates):
            await self.add_certificate(f"load-parent-{i}")
        await self.wait_catalogue()
        return w

    async def add_certificate(self, parent: str) -> str:
        born = today().replace(year=today().year - 10) - dt.timedelta(days=40)
        body = {"child": {"surname": "Нагрузкина", "first_name": "Вера", "patronymic": None,
                          "birth_date": born.isoformat(), "snils": generate_snils(self.rng),
                          "municipality_code": MUNICIPALITY}}
        r = await self.must("certificate.apply", "POST", "/api/registry/applications", self.parent(parent), body)
        application = r.json()
        r = await self.must("certificate.approve", "POST", f"/api/registry/applications/{application['id']}/approve",
                            self.mo(), ok=(200, 409))
        if r.status_code == 409:  # approved by an earlier attempt whose answer was lost
            r = await self.must("certificate.get", "GET", f"/api/registry/applications/{application['id']}",
                                self.parent(parent))
        certificate_id = r.json()["certificate_id"]
        self.world.certificates.append((certificate_id, parent))
        return certificate_id

    async def wait_catalogue(self, timeout: float = 60.0) -> None:
        """Until the navigator lists every module and knows every certificate."""
        deadline = time.monotonic() + timeout
        wanted_modules = {m[0] for m in self.world.modules}
        while True:
            r = await self.call("catalogue.search", "GET", "/api/navigator/programs", self.parent("load-parent-0"),
                                municipality=MUNICIPALITY, limit="100")
            seen = {h["module_id"] for h in r.json()["items"]} if r is not None and r.status_code == 200 else set()
            known = 0
            for cert, parent in self.world.certificates:
                c = await self.call("cabinet.children", "GET", "/api/navigator/me/children", self.parent(parent))
                if c is not None and c.status_code == 200 and any(x["certificate_id"] == cert for x in c.json()["items"]):
                    known += 1
            if wanted_modules <= seen and known == len(self.world.certificates):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"navigator did not catch up: modules {len(seen & wanted_modules)}/"
                                     f"{len(wanted_modules)}, certificates {known}/{len(self.world.certificates)}")
            await asyncio.sleep(0.5)

    # ---- the stream -----------------------------------------------------------------------
    async def run(self, *, seconds: float, applications: int) -> LoadStats:
        """Steady traffic for at most ``seconds`` and at most ``applications`` enrolment requests."""
        began = time.monotonic()
        deadline = began + seconds
        budget = {"applications": applications}

        async def worker(n: int) -> None:
            while time.monotonic() < deadline:
                roll = self.rng.random()
                if roll < 0.45 and budget["applications"] > 0:
                    budget["applications"] -= 1
                    await self.apply()
                elif roll < 0.60:
                    await self.confirm_some()
                elif roll < 0.70:
                    await self.accept_offers()
                elif roll < 0.75:
                    await self.cancel_one()
                else:
                    await self.attendance()
                await asyncio.sleep(0.05)

        await asyncio.gather(*(worker(n) for n in range(self.config.concurrency)))
        self.stats.seconds += time.monotonic() - began
        return self.stats

    async def apply(self) -> None:
        cert, parent = self.rng.choice(self.world.certificates)
        module_id = self.rng.choice(self.world.modules)[0]
        body = {"certificate_id": cert, "module_id": module_id, "start_date": today().isoformat(),
                "payment_mode": self.rng.choice(["monthly", "attendance"])}
        r = await self.call("enrolment.apply", "POST", "/api/navigator/enrolments", self.parent(parent), body)
        if r is not None and r.status_code == 201:
            self.stats.enrolments.add(r.json()["enrolment_id"])

    async def confirm_some(self) -> None:
        pid, sub = self.rng.choice(self.world.providers)
        r = await self.call("enrolment.list", "GET", "/api/navigator/enrolments", self.provider(pid, sub),
                            state="reserved", limit="20")
        if r is None or r.status_code != 200:
            return
        for e in r.json()["items"][:5]:
            await self.call("enrolment.confirm", "POST", f"/api/navigator/enrolments/{e['enrolment_id']}/confirm",
                            self.provider(pid, sub))

    async def accept_offers(self) -> None:
        """A parent accepts the offers (договор-оферта) the providers' confirmations issued."""
        cert, parent = self.rng.choice(self.world.certificates)
        r = await self.call("cabinet.enrolments", "GET", "/api/navigator/me/enrolments", self.parent(parent))
        if r is None or r.status_code != 200:
            return
        for e in [e for e in r.json()["items"] if e["state"] == "offered"][:5]:
            await self.call("enrolment.accept", "POST", f"/api/navigator/enrolments/{e['enrolment_id']}/accept",
                            self.parent(parent))

    async def cancel_one(self) -> None:
        cert, parent = self.rng.choice(self.world.certificates)
        r = await self.call("cabinet.enrolments", "GET", "/api/navigator/me/enrolments", self.parent(parent))
        if r is None or r.status_code != 200:
            return
        live = [e for e in r.json()["items"] if e["state"] in ("requested", "reserved", "offered")]
        if live:
            e = self.rng.choice(live)
            await self.call("enrolment.cancel", "POST", f"/api/navigator/enrolments/{e['enrolment_id']}/cancel",
                            self.parent(parent))

    async def attendance(self) -> None:
        pid, sub = self.rng.choice(self.world.providers)
        r = await self.call("enrolment.list", "GET", "/api/navigator/enrolments", self.provider(pid, sub),
                            state="confirmed", limit="200")
        if r is None or r.status_code != 200 or not r.json()["items"]:
            return
        day = today()
        marks = [{"enrolment_id": e["enrolment_id"], "module_id": e["module_id"], "lesson_date": day.isoformat(),
                  "status": self.rng.choice(["present", "present", "absent", "excused"])}
                 for e in r.json()["items"] if dt.date.fromisoformat(e["starts_on"]) <= day]
        if not marks:
            return
        r = await self.call("attendance.post", "POST", "/api/navigator/attendance", self.provider(pid, sub),
                            {"marks": marks})
        if r is not None and r.status_code == 200:
            self.stats.marks += r.json()["accepted"]

    # ---- month end ------------------------------------------------------------------------
    async def close_month(self, month: dt.date) -> dict[str, Any]:
        key = f"{month:%Y-%m}"
        await self.must("month.advance", "POST", f"/api/billing/months/{key}/advance", self.ro())
        # the month-close protocol: the navigator freezes the journal, billing closes once it has
        # applied every attendance event of the month (409 journal_not_frozen/_drained until then)
        await self.must("month.freeze", "POST", f"/api/navigator/attendance/months/{key}/freeze", self.ro())
        deadline = time.monotonic() + 120
        while True:
            r = await self.must("month.close", "POST", f"/api/billing/months/{key}/close", self.ro(), ok=(200, 409),
                                timeout=120)
            if r.status_code == 200:
                return r.json()
            if r.json().get("code") not in ("journal_not_frozen", "journal_not_drained") or time.monotonic() > deadline:
                raise AssertionError(f"month.close answered 409: {r.text[:500]}")
            await asyncio.sleep(0.5)
