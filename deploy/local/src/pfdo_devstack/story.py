"""The school-year story, step by step, through the gateway only.

One family and one provider go through a school year: certificate, period and nominal,
provider and program, certification, search with the family's quote, enrolment with a
co-payment, attendance, month close and payment orders, a dispute, termination, the end of the
contract, a rating, and the certificate's expiry at 18. The journey test
(``tests/journeys/test_school_year.py``) runs every step and asserts every figure; ``make demo``
(:mod:`pfdo_devstack.demo`) runs the steps the real calendar allows against ``make up`` and
prints what the services answer. Both call these functions, so they cannot drift apart.

Every call goes to the gateway with a bearer token of the acting person (``Tokens``); the
steps wait (bounded) for what other services learn through Kafka.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

MUNICIPALITY = "01"


class Tokens(Protocol):
    async def headers(self, role: str, sub: str, *, municipality: str | None = None,
                      provider_id: str | None = None) -> dict[str, str]: ...


class TestAuthTokens:
    """``Tokens`` from a test token minter (``pfdo_testkit.TestAuth``). Tokens live in
    real time: only the business calendar of the services moves (``StoryClock``)."""

    __test__ = False  # not a pytest test class

    def __init__(self, auth: Any) -> None:
        self.auth = auth

    async def headers(self, role: str, sub: str, *, municipality: str | None = None,
                      provider_id: str | None = None) -> dict[str, str]:
        return self.auth.headers(role, sub, municipality=municipality, provider_id=provider_id)


class StoryClock:
    """The business calendar of service processes started with ``PFDO_CLOCK_OFFSET_FILE`` pointing
    at ``file`` (see :mod:`pfdo_plumbing.clock`; tests only). No file: real time."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "story-clock"
        self.offset = 0.0

    def set(self, day: dt.date, hour: int = 12) -> None:
        """Noon (by default) of ``day`` in Europe/Moscow is "now" for the services from here on."""
        target = dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo("Europe/Moscow")).timestamp()
        self.offset = target - time.time()
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(f"{self.offset:.3f}")
        tmp.replace(self.file)

    def now(self) -> float:
        return time.time() + self.offset

    def reset(self) -> None:
        """Back to real time."""
        self.offset = 0.0
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text("0")
        tmp.replace(self.file)


class StoryError(AssertionError):
    """A step did not get the answer the story needs (with the service's answer)."""


def expect(response: httpx.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        raise StoryError(f"{response.request.method} {response.request.url.path} answered "
                         f"{response.status_code}: {response.text[:800]}")
    return response.json() if response.content else None


async def eventually(probe: Callable[[], Awaitable[Any]], what: str, *, timeout: float = 30.0,
                     interval: float = 0.2) -> Any:
    """Poll ``probe`` until it returns something other than None (or fail with ``what``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if result is not None:
            return result
        if loop.time() > deadline:
            raise StoryError(f"not reached within {timeout:.0f} s: {what}")
        await asyncio.sleep(interval)


# --- people --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    role: str
    sub: str
    municipality: str | None = None
    provider_id: str | None = None


def cast(tag: str | None = None) -> dict[str, Person]:
    """The people of the story; ``tag`` makes the subjects unique (the demo runs repeatedly)."""
    tag = tag or uuid.uuid4().hex[:6]
    provider_id = str(uuid.uuid4())
    return {
        "parent": Person("parent", f"parent-{tag}"),
        "provider": Person("provider", f"provider-{tag}", provider_id=provider_id),
        "operator": Person("municipal_operator", f"operator-01-{tag}", municipality=MUNICIPALITY),
        "region": Person("regional_operator", f"region-{tag}"),
        "finance": Person("finance", f"treasury-{tag}"),
    }


@dataclass
class Story:
    """The gateway, the people and what the story has created so far."""

    gw: httpx.AsyncClient
    tokens: Tokens
    people: dict[str, Person]
    ids: dict[str, str] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    async def h(self, who: str) -> dict[str, str]:
        p = self.people[who]
        return await self.tokens.headers(p.role, p.sub, municipality=p.municipality, provider_id=p.provider_id)

    async def get(self, who: str, path: str, **params: Any) -> httpx.Response:
        return await self.gw.get(path, params={k: v for k, v in params.items() if v is not None},
                                 headers=await self.h(who))

    async def all_items(self, who: str, path: str, **params: Any) -> list[Any]:
        """Every item of a list, page after page (the API's `limit` + `cursor` convention)."""
        items: list[Any] = []
        cursor = None
        while True:
            page = expect(await self.get(who, path, **params, cursor=cursor), 200)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    async def post(self, who: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return await self.gw.post(path, json=body, params=params or None, headers=await self.h(who))

    async def put(self, who: str, path: str, body: Any) -> httpx.Response:
        return await self.gw.put(path, json=body, headers=await self.h(who))


# --- registry: the family ------------------------------------------------------------------


async def open_region(s: Story) -> None:
    expect(await s.put("region", f"/api/registry/municipalities/{MUNICIPALITY}", {"name": "Липецк"}), 200, 201)
    await set_payer(s, MUNICIPALITY, "Липецк")


def bank_details(rng: random.Random, *, balance: str = "40702", bank: str = "Отделение Липецк") -> dict:
    """A valid set of bank details (the accounts' control keys match the БИК) of a bank in the Lipetsk region."""
    from pfdo_registry.domain.identifiers import correspondent_account_for, generate_bik, generate_settlement_account

    bik = generate_bik(rng, region="42")
    return {"bank_name": bank, "bik": bik,
            "settlement_account": generate_settlement_account(rng, bik=bik, balance=balance),
            "correspondent_account": correspondent_account_for(bik)}


def payer_body(rng: random.Random, name: str) -> dict:
    """The payer details of a municipality: its education department and its budget account."""
    from pfdo_registry.domain.identifiers import generate_kpp, generate_org_inn

    inn = generate_org_inn(rng)
    return {"authority_name": f"Управление образования администрации муниципального образования «{name}»",
            "inn": inn, "kpp": generate_kpp(rng, inn=inn), **bank_details(rng, balance="40204")}


async def set_payer(s: Story, code: str, name: str) -> dict:
    """The regional operator sets who pays for the municipality's certificates (billing learns it from Kafka)."""
    body = payer_body(random.Random(f"payer-{code}"), name)  # its own sequence: the story's stays as it was
    return expect(await s.put("region", f"/api/registry/municipalities/{code}/payer", body), 200)


async def apply_for_certificate(s: Story, *, surname: str, first_name: str, birth_date: dt.date,
                                municipality: str = MUNICIPALITY) -> dict:
    """The parent applies for a certificate of ``municipality`` (its payer: the story's «01» by default)."""
    from pfdo_registry.domain.identifiers import generate_snils

    snils = generate_snils(s.rng)
    body = {"child": {"surname": surname, "first_name": first_name, "birth_date": birth_date.isoformat(),
                      "snils": f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}",
                      "municipality_code": municipality}}
    application = expect(await s.post("parent", "/api/registry/applications", body), 201)
    s.ids["application"] = str(application["id"])
    return application


async def approve_certificate(s: Story) -> dict:
    approved = expect(await s.post("operator", f"/api/registry/applications/{s.ids['application']}/approve"), 200)
    s.ids["certificate"] = str(approved["certificate_id"])
    return expect(await s.get("parent", f"/api/registry/certificates/{s.ids['certificate']}"), 200)


async def certificate(s: Story) -> dict:
    return expect(await s.get("parent", f"/api/registry/certificates/{s.ids['certificate']}"), 200)


async def run_expiry_job(s: Story) -> int:
    return int(expect(await s.post("region", "/api/registry/jobs/expire-certificates"), 200)["expired"])


# --- billing: the period -------------------------------------------------------------------


async def open_period(s: Story, *, starts_on: dt.date, ends_on: dt.date, nominal: int,
                      municipalities: Iterable[str] = (MUNICIPALITY,), nominals: dict[str, int] | None = None) -> dict:
    """Create (or reuse) the period, set the nominal of every age group 5..17 in each of
    ``municipalities`` (or each municipality's own of ``nominals``), open it."""
    periods = await s.all_items("region", "/api/billing/periods")
    period = next((p for p in periods if p["starts_on"] == starts_on.isoformat()), None)
    if period is None:
        period = expect(await s.post("region", "/api/billing/periods",
                                     {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}), 201)
    s.ids["period"] = str(period["period_id"])
    s.ids["period_starts_on"] = str(period["starts_on"])
    await ensure_agreement(s)
    if period["status"] == "draft":
        per_municipality = nominals or dict.fromkeys(municipalities, nominal)
        body = {"nominals": [{"municipality_code": code, "age_min": 5, "age_max": 17, "amount_kopecks": amount}
                             for code, amount in per_municipality.items()]}
        expect(await s.put("region", f"/api/billing/periods/{s.ids['period']}/nominals", body), 204)
        return expect(await s.post("region", f"/api/billing/periods/{s.ids['period']}/open"), 200)
    return period


AGREEMENT_LIMIT = 50_000_000_00
"""The yearly limit of the story's agreements: 50 000 000,00 ₽ (kopecks), a provider's year in a
large municipality, and more than the story ever reserves."""


async def conclude_agreement(s: Story, *, payer: str = MUNICIPALITY, limit_kopecks: int = AGREEMENT_LIMIT,
                             number: str | None = None, who: str = "operator") -> dict:
    """The payer's authorised body (the municipal operator of ``payer``; ``who="region"`` for the
    regional operator) concludes the agreement (соглашение) of the story's provider with ``payer`` for
    the story's period, in force since before the period starts; without it billing refuses every
    paid reservation of the payer's certificates (``no_agreement``)."""
    starts_on = s.ids.get("period_starts_on")
    concluded = dt.date.fromisoformat(starts_on) - dt.timedelta(days=62) if starts_on else None
    body = {"number": number or f"С-{s.ids['provider'][:8]}/{payer}", "provider_id": s.ids["provider"],
            "payer_code": payer, "period_id": s.ids["period"], "limit_kopecks": limit_kopecks,
            "concluded_on": concluded.isoformat() if concluded else None}
    agreement = expect(await s.post(who, "/api/billing/agreements", body), 201)
    s.ids[f"agreement_{payer}"] = str(agreement["agreement_id"])
    return agreement


async def ensure_agreement(s: Story) -> dict | None:
    """The story's provider works with the story's municipality (the operator's) under an agreement:
    once both the period and the provider exist it is concluded, by the regional operator (the
    steps that make the second of them call this). None while one of them is missing."""
    payer = s.people["operator"].municipality or MUNICIPALITY
    if "period" not in s.ids or "provider" not in s.ids or f"agreement_{payer}" in s.ids:
        return None
    return await conclude_agreement(s, payer=payer, who="region")


async def balance(s: Story) -> dict | None:
    """The certificate's balance in the story's period (None while billing does not know it)."""
    r = await s.get("parent", f"/api/billing/certificates/{s.ids['certificate']}/balance")
    if r.status_code == 404:
        return None
    body = expect(r, 200)
    rows = [b for b in body["balances"] if str(b["period_id"]) == s.ids.get("period")]
    return {"status": body["status"], "usage_kind": body["usage_kind"], **(rows[0] if rows else {})}


async def balance_when(s: Story, what: str, test: Callable[[dict], bool]) -> dict:
    async def probe() -> dict | None:
        b = await balance(s)
        return b if b is not None and test(b) else None

    return await eventually(probe, what)


# --- registry: the provider and the program -------------------------------------------------


async def register_provider(s: Story, name: str) -> dict:
    from pfdo_registry.domain.identifiers import generate_kpp, generate_ogrn, generate_org_inn

    inn = generate_org_inn(s.rng)
    body = {"provider_type": "private_org", "name": name, "inn": inn, "ogrn": generate_ogrn(s.rng),
            "kpp": generate_kpp(s.rng, inn=inn), "municipality_code": MUNICIPALITY,
            "address": "Липецк, ул. Гагарина, 10",
            **bank_details(random.Random(s.rng.randrange(10**12)))}  # one draw of the story's sequence, as ever
    provider = expect(await s.post("provider", "/api/registry/providers", body), 201)
    s.ids["provider"] = str(provider["id"])
    return provider


async def approve_provider(s: Story) -> dict:
    approved = expect(await s.post("operator", f"/api/registry/providers/{s.ids['provider']}/approve", {}), 200)
    await ensure_agreement(s)
    return approved


def module_body(name: str, *, starts: dt.date, ends: dt.date, weekdays: Iterable[int], price: int,
                min_age: int = 7, max_age: int = 17, capacity: int = 12, hours: int = 144) -> dict:
    return {"name": name, "min_age": min_age, "max_age": max_age, "municipality_code": MUNICIPALITY,
            "address": "Липецк, ул. Гагарина, 10, каб. 21",
            "schedule": [{"weekday": w, "starts_at": "16:00:00", "ends_at": "17:30:00"} for w in weekdays],
            "hours": hours, "start_date": starts.isoformat(), "end_date": ends.isoformat(), "capacity": capacity,
            "price_kopecks": price, "funding_kind": "certificate"}


async def create_program(s: Story, key: str, *, name: str, description: str, direction: str, module: dict) -> dict:
    program = expect(await s.post("provider", "/api/registry/programs",
                                  {"name": name, "description": description, "direction": direction,
                                   "modules": [module]}), 201)
    s.ids[f"{key}_program"] = str(program["id"])
    s.ids[f"{key}_module"] = str(program["modules"][0]["id"])
    return program


async def add_module(s: Story, key: str, module: dict) -> dict:
    return expect(await s.post("provider", f"/api/registry/programs/{s.ids[f'{key}_program']}/modules", module), 201)


async def certify_program(s: Story, key: str, normative_costs: dict[str, int]) -> dict:
    pid = s.ids[f"{key}_program"]
    expect(await s.post("provider", f"/api/registry/programs/{pid}/submit"), 200)
    for module_id, cost in normative_costs.items():
        expect(await s.put("operator", f"/api/registry/programs/{pid}/modules/{module_id}/normative-cost",
                           {"normative_cost_kopecks": cost}), 200)
    return expect(await s.post("operator", f"/api/registry/programs/{pid}/certify"), 200)


# --- navigator: search, enrolment, attendance, disputes -------------------------------------


async def search(s: Story, who: str = "parent", **params: Any) -> dict:
    return expect(await s.get(who, "/api/navigator/programs", municipality=MUNICIPALITY, **params), 200)


async def wait_in_catalogue(s: Story, module_ids: Iterable[str]) -> dict[str, dict]:
    wanted = set(module_ids)

    async def probe() -> dict[str, dict] | None:
        page = await search(s, provider_id=s.ids["provider"], limit="100")
        hits = {str(h["module_id"]): h for h in page["items"]}
        return hits if wanted <= set(hits) else None

    return await eventually(probe, f"modules {sorted(wanted)} searchable in the navigator")


async def quote_in_search(s: Story, module_id: str, start_date: dt.date) -> dict:
    async def probe() -> dict | None:
        page = await search(s, child=s.ids["certificate"], start_date=start_date.isoformat(),
                            provider_id=s.ids["provider"], limit="100")
        hit = next((h for h in page["items"] if str(h["module_id"]) == module_id), None)
        return hit if hit is not None and hit["quote"] is not None else None

    return await eventually(probe, "the family's quote in the search results")


async def billing_quote(s: Story, module_id: str, start_date: dt.date) -> dict:
    async def probe() -> dict | None:
        r = await s.get("parent", "/api/billing/quote", certificate_id=s.ids["certificate"], module_id=module_id,
                        start_date=start_date.isoformat())
        return r.json() if r.status_code == 200 else None

    return await eventually(probe, "billing's quote")


async def apply(s: Story, module_id: str, start_date: dt.date, payment_mode: str) -> dict:
    body = {"certificate_id": s.ids["certificate"], "module_id": module_id, "start_date": start_date.isoformat(),
            "payment_mode": payment_mode}
    enrolment = expect(await s.post("parent", "/api/navigator/enrolments", body), 201)
    s.ids["enrolment"] = str(enrolment["enrolment_id"])
    return enrolment


async def enrolment(s: Story, who: str = "parent") -> dict:
    return expect(await s.get(who, f"/api/navigator/enrolments/{s.ids['enrolment']}"), 200)


async def enrolment_when(s: Story, what: str, test: Callable[[dict], bool], timeout: float = 30.0) -> dict:
    async def probe() -> dict | None:
        e = await enrolment(s)
        return e if test(e) else None

    return await eventually(probe, what, timeout=timeout)


async def confirm(s: Story) -> dict:
    """The provider confirms the application: the platform issues the offer (state ``offered``)."""
    return expect(await s.post("provider", f"/api/navigator/enrolments/{s.ids['enrolment']}/confirm"), 200)


async def accept_offer(s: Story) -> dict:
    """The parent accepts the offer (договор-оферта): the contract is made (state ``confirmed``)."""
    return expect(await s.post("parent", f"/api/navigator/enrolments/{s.ids['enrolment']}/accept"), 200)


async def terminate(s: Story, who: str = "parent") -> dict:
    return expect(await s.post(who, f"/api/navigator/enrolments/{s.ids['enrolment']}/terminate"), 200)


async def post_attendance_raw(s: Story, module_id: str, marks: Iterable[tuple[dt.date, str]]) -> httpx.Response:
    body = {"marks": [{"enrolment_id": s.ids["enrolment"], "module_id": module_id, "lesson_date": d.isoformat(),
                       "status": status} for d, status in marks]}
    return await s.post("provider", "/api/navigator/attendance", body)


async def post_attendance(s: Story, module_id: str, marks: Iterable[tuple[dt.date, str]]) -> dict:
    return expect(await post_attendance_raw(s, module_id, marks), 200)


async def marks(s: Story, month: str, who: str = "parent") -> list[dict]:
    return await s.all_items(who, "/api/navigator/attendance", enrolment_id=s.ids["enrolment"], month=month)


async def open_dispute(s: Story, mark_id: str, claimed_status: str, comment: str) -> dict:
    return expect(await s.post("parent", "/api/navigator/disputes",
                               {"mark_id": mark_id, "claimed_status": claimed_status, "comment": comment}), 201)


async def resolve_dispute(s: Story, dispute_id: str, *, upheld: bool, note: str) -> dict:
    return expect(await s.post("operator", f"/api/navigator/disputes/{dispute_id}/resolve",
                               {"upheld": upheld, "note": note}), 200)


# --- billing: months and payment orders ----------------------------------------------------


async def issue_advance(s: Story, month: str) -> dict:
    return expect(await s.post("region", f"/api/billing/months/{month}/advance"), 200)


async def close_month(s: Story, month: str, municipality: str | None = None) -> httpx.Response:
    """The regional operator closes the month: region-wide, or for one municipality's certificates."""
    params = {"municipality": municipality} if municipality else {}
    return await s.post("region", f"/api/billing/months/{month}/close", **params)


async def freeze_month(s: Story, month: str) -> httpx.Response:
    """The regional operator freezes the month's attendance journal (the navigator's job does it
    on the configured day): no more marks or corrections; billing may then close the month."""
    return await s.post("region", f"/api/navigator/attendance/months/{month}/freeze")


async def close_month_when_ready(s: Story, month: str, timeout: float = 30.0, municipality: str | None = None) -> dict:
    """Close a frozen month (region-wide, or one municipality's), retrying while billing has not yet
    applied every attendance event of it (409 journal_not_frozen / journal_not_drained: "retry later")."""

    async def probe() -> dict | None:
        r = await close_month(s, month, municipality)
        if r.status_code == 409 and r.json().get("code") in ("journal_not_frozen", "journal_not_drained"):
            return None
        return expect(r, 200)

    return await eventually(probe, f"billing closes {month}", timeout=timeout)


async def payment_orders(s: Story, who: str = "finance") -> list[dict]:
    return await s.all_items(who, "/api/billing/payment-orders", provider_id=s.ids["provider"])


async def report_treasury_status(s: Story, order_id: str, status: str, status_on: str, *,
                                 reason: str | None = None, reference: str | None = None) -> dict:
    """The finance system reports an order accepted, paid or returned (with the reason) through the gateway."""
    return expect(await s.post("finance", f"/api/billing/payment-orders/{order_id}/treasury-status", {
        "status": status, "status_on": status_on, "treasury_reference": reference, "reason": reason}), 200)


async def reissue_order(s: Story, order_id: str) -> dict:
    """The regional operator reissues a returned order (a new number, the same money)."""
    return expect(await s.post("region", f"/api/billing/payment-orders/{order_id}/reissue"), 200)


async def reconciliation(s: Story) -> dict:
    return expect(await s.get("finance", "/api/billing/reconciliation", period_id=s.ids["period"]), 200)


async def history(s: Story) -> list[dict]:
    return await s.all_items("parent", f"/api/billing/certificates/{s.ids['certificate']}/history")


# --- ratings --------------------------------------------------------------------------------


async def rate(s: Story, scores: dict[str, int], comment: str) -> dict:
    async def probe() -> dict | None:
        r = await s.post("parent", "/api/ratings/ratings",
                         {"enrolment_id": s.ids["enrolment"], "scores": scores, "comment": comment})
        if r.status_code == 409 and "not_eligible" in r.text:
            return None  # ratings has not heard of the end yet
        return expect(r, 201)

    return await eventually(probe, "the ended enrolment may be rated")


async def ranking(s: Story) -> list[dict]:
    return (await search(s, sort="rating", limit="100"))["items"]


# --- presentation (the demo prints, the test may print on failure) --------------------------


def rub(kopecks: int | None) -> str:
    if kopecks is None:
        return "—"
    sign = "-" if kopecks < 0 else ""
    rubles, kop = divmod(abs(kopecks), 100)
    return f"{sign}{rubles:,}".replace(",", " ") + f",{kop:02d} ₽"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line]
    for n, r in enumerate(cells):
        out.append("| " + " | ".join(c.rjust(w) if n and c[:1].isdigit() or c.endswith("₽") else c.ljust(w)
                                     for c, w in zip(r, widths, strict=True)) + " |")
        if n == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


def balance_table(rows: list[tuple[str, dict]]) -> str:
    return table(["moment", "nominal", "available", "reserved", "spent"],
                 [[m, rub(b.get("nominal")), rub(b.get("available")), rub(b.get("reserved")), rub(b.get("spent"))]
                  for m, b in rows])


def orders_table(orders: list[dict]) -> str:
    return table(["month", "kind", "base", "advance paid", "offset applied", "amount", "offset carried", "issued"],
                 [[o["month"], o["kind"], rub(o["base_kopecks"]), rub(o["advance_paid_kopecks"]),
                   rub(o["offset_applied_kopecks"]), rub(o["amount_kopecks"]), rub(o["offset_carried_kopecks"]),
                   o["issued_on"]] for o in orders])
