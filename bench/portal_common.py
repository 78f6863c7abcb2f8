"""What the portal's benches share: the whole platform with the portal behind its gateway, a small
region built through the public API (a provider with programs in the catalogue, a parent whose
child has a certificate, a balance and a confirmed enrolment), and signed-in sessions of that
parent and that provider, opened in the portal's session store as its sign-in callback opens
them, so a load generator or Lighthouse sends the session cookie a browser would."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from pfdo_devstack import story as st
from pfdo_devstack.config import SERVICES
from pfdo_devstack.demo import TODAY, module_end, school_year
from pfdo_devstack.platform import PlatformUnderTest
from pfdo_portal.auth.claims import PortalUser
from pfdo_portal.auth.sessions import SessionStore
from pfdo_portal.settings import PortalSettings
from pfdo_plumbing.auth.principal import Role
from pfdo_testkit import TestAuth, create_database

from .billing_common import infra

PROGRAMS = (
    ("robotics", "Робототехника", "Конструирование и программирование роботов.", "technical", 1_800_000),
    ("chess", "Шахматы", "Шахматы для начинающих и разрядников.", "physical_sports", 1_200_000),
    ("vocal", "Эстрадный вокал", "Пение, сценическое движение, концерты.", "artistic", 1_500_000),
    ("ecology", "Юный эколог", "Экология родного края: наблюдения и опыты.", "natural_science", 900_000),
    ("hiking", "Туристы-краеведы", "Походы, ориентирование, история края.", "tourism_local_history", 1_000_000),
)
NORMATIVE = 1_350_000
NOMINAL = 3_000_000


@dataclass
class Region:
    """The running platform and who is signed in to its portal."""

    platform: PlatformUnderTest
    auth: TestAuth
    s: st.Story
    cookie_name: str
    sessions: dict[str, str]
    """role ("parent", "provider") -> the value of its session cookie."""
    tokens: dict[str, str]
    """role -> the access token that session holds (the API calls made directly use it too)."""

    @property
    def gateway(self) -> str:
        return self.platform.gateway_url

    @property
    def journal_page(self) -> str:
        return f"/provider/groups/{self.s.ids['robotics_module']}"

    def cookie(self, role: str) -> str:
        return f"{self.cookie_name}={self.sessions[role]}"


async def build_region(s: st.Story) -> None:
    await st.open_region(s)
    await st.register_provider(s, "ООО «Кванториум»")
    await st.approve_provider(s)
    weekdays = sorted({TODAY.isoweekday(), TODAY.isoweekday() % 7 + 1})
    for key, name, description, direction, price in PROGRAMS:
        await st.create_program(s, key, name=name, description=description, direction=direction,
                                module=st.module_body("Группа 1", starts=TODAY, ends=module_end(TODAY),
                                                      weekdays=weekdays, price=price))
        await st.certify_program(s, key, {s.ids[f"{key}_module"]: NORMATIVE})
    await st.wait_in_catalogue(s, [s.ids[f"{key}_module"] for key, *_ in PROGRAMS])
    birth = TODAY.replace(year=TODAY.year - 10, day=min(TODAY.day, 28))
    await st.apply_for_certificate(s, surname="Соколов", first_name="Артём", birth_date=birth)
    await st.approve_certificate(s)
    starts, ends = school_year(TODAY)
    await st.open_period(s, starts_on=starts, ends_on=ends, nominal=NOMINAL)
    await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")
    await st.apply(s, s.ids["robotics_module"], TODAY, "monthly")
    await st.enrolment_when(s, "the enrolment reserved", lambda e: e["state"] == "reserved")
    await st.confirm(s)
    await st.accept_offer(s)


async def open_sessions(database_url: str, auth: TestAuth, people: dict[str, st.Person],
                        roles: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    settings = PortalSettings()
    store = SessionStore.connect(database_url, pool_size=1, max_age_s=settings.session_max_age_s,
                                 idle_s=settings.session_idle_s, secret=settings.session_secret)
    sessions, tokens = {}, {}
    try:
        for role in roles:
            p = people[role]
            token = auth.token(p.role, p.sub, municipality=p.municipality, provider_id=p.provider_id)
            user = PortalUser(sub=p.sub, role=Role(p.role), name=f"Тест ({role})", municipality=p.municipality,
                              provider_id=p.provider_id)
            sessions[role], _ = await store.create(person=user.as_json(), tokens={
                "access_token": token, "expires_at": int(time.time()) + 3600, "token_type": "Bearer"})
            tokens[role] = token
    finally:
        await store.close()
    return sessions, tokens


@asynccontextmanager
async def running_region(folder: Path, *, tag: str) -> AsyncIterator[Region]:
    """The platform with the portal, the region built, the parent and the provider signed in."""
    bench_infra = infra()
    auth = TestAuth(folder / "auth")
    names = (*SERVICES, "portal")
    urls = {name: await create_database(bench_infra, f"bench_{tag}_{name}_{uuid.uuid4().hex[:8]}") for name in names}
    platform = PlatformUnderTest(
        kafka_bootstrap=bench_infra.kafka_bootstrap, database_url=urls.__getitem__, jwks_url=str(auth.jwks_path),
        issuer=auth.issuer, audience=auth.audience, portal=True, work_dir=folder,
        extra_env={"PFDO_LOG_LEVEL": "WARNING"},
    )
    began = time.perf_counter()
    await asyncio.to_thread(platform.start)
    try:
        async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
            s = st.Story(gw, st.TestAuthTokens(auth), st.cast(f"bench{tag}"))
            await build_region(s)
        sessions, tokens = await open_sessions(urls["portal"], auth, s.people, ("parent", "provider"))
        print(f"platform and region ready in {time.perf_counter() - began:.0f} s "
              f"({len(PROGRAMS)} programs, one family with a confirmed enrolment) on {dt.date.today()}", flush=True)
        yield Region(platform, auth, s, PortalSettings().session_cookie_name, sessions, tokens)
    except BaseException:
        for name in ("portal", "navigator", "registry", "billing"):
            print(f"--- {name}\n{platform.log(name, 30)}")
        raise
    finally:
        await asyncio.to_thread(platform.stop)
