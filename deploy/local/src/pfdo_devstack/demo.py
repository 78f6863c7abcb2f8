"""``make demo``: the school-year story against a running ``make up``, narrated step by step.

    uv run python -m pfdo_devstack.demo [--gateway http://127.0.0.1:8080]

It uses the steps of :mod:`pfdo_devstack.story` (the journey test runs the same ones), with the
real calendar: the enrolment starts today, today's lesson is marked, disputed and decided, the
month's advance order is issued, then the parent terminates and the rest of the money returns.
Closing a month needs the month to be over, and a contract ends after its last day: those
chapters (three months of journals, final orders, the rating, the expiry at 18) are what the
journey test shows on a moved calendar; the demo says so at the point where it stops.
Tokens come from the development issuer behind the gateway (``POST /auth/token``).
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import datetime as dt
import sys
import time
import uuid
from zoneinfo import ZoneInfo

import httpx

from . import story as st

TODAY = dt.datetime.now(ZoneInfo("Europe/Moscow")).date()
SERVICES = ("registry", "navigator", "billing", "ratings")


class IssuerTokens:
    """Tokens from the development issuer, one per person, reused until near expiry."""

    def __init__(self, gw: httpx.AsyncClient) -> None:
        self.gw = gw
        self.cache: dict[tuple, tuple[float, str]] = {}

    async def headers(self, role: str, sub: str, *, municipality: str | None = None,
                      provider_id: str | None = None) -> dict[str, str]:
        key = (role, sub, municipality, provider_id)
        if key not in self.cache or self.cache[key][0] < time.time() + 60:
            body = {"sub": sub, "role": role, "municipality": municipality, "provider_id": provider_id, "ttl_s": 3600}
            token = st.expect(await self.gw.post("/auth/token", json=body), 200)["access_token"]
            self.cache[key] = (time.time() + 3600, token)
        return {"Authorization": f"Bearer {self.cache[key][1]}"}


class Narrator:
    def __init__(self, total: int) -> None:
        self.n, self.total, self.started = 0, total, time.monotonic()

    def step(self, text: str) -> None:
        self.n += 1
        print(f"\n[{self.n:>2}/{self.total}] {text}", flush=True)

    def say(self, text: str) -> None:
        print(f"        {text}", flush=True)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def module_end(day: dt.date) -> dt.date:
    """The last day of the fourth month after ``day``'s month (a school term)."""
    y, m = divmod(day.year * 12 + day.month - 1 + 4, 12)
    return month_end(dt.date(y, m + 1, 1))


def school_year(day: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(day.year if day.month >= 9 else day.year - 1, 9, 1)
    return start, dt.date(start.year + 1, 8, 31)


async def demo(gateway: str) -> int:  # noqa: PLR0915
    n = Narrator(16)
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as gw:
        try:
            for service in SERVICES:
                st.expect(await gw.get(f"/api/{service}/health"), 200)
        except (httpx.HTTPError, st.StoryError) as exc:
            print(f"The platform does not answer at {gateway} ({exc}). Start it with `make up` first.", file=sys.stderr)
            return 2
        s = st.Story(gw, IssuerTokens(gw), st.cast(uuid.uuid4().hex[:6]))
        print(f"PFDO school-year story on {TODAY:%d.%m.%Y} against {gateway}")

        n.step("The region knows municipality 01 (Липецк)")
        municipalities = await s.all_items("region", "/api/registry/municipalities")
        if not any(m["code"] == st.MUNICIPALITY for m in municipalities):
            await st.open_region(s)
        n.say("ok")

        n.step("A parent applies for a certificate for her son (once: it lasts until he turns 18)")
        birth = TODAY.replace(year=TODAY.year - 10, day=min(TODAY.day, 28))
        application = await st.apply_for_certificate(s, surname="Соколов", first_name="Артём", birth_date=birth)
        n.say(f"application {application['id']}: {application['status']}")

        n.step("The municipal operator approves: the child enters the certificate registry")
        cert = await st.approve_certificate(s)
        n.say(f"certificate № {cert['number']}, {cert['status']}, {cert['usage_kind']}, valid until {cert['valid_until']}")

        starts, ends = school_year(TODAY)
        n.step(f"The regional operator opens the school year {starts:%d.%m.%Y}–{ends:%d.%m.%Y} with a nominal of 30 000,00 ₽")
        period = await st.open_period(s, starts_on=starts, ends_on=ends, nominal=3_000_000)
        n.say(f"period {period['period_id']}: {period['status']}")

        n.step("A provider registers; the operator approves it")
        provider = await st.register_provider(s, f"ООО «Кванториум-Демо {s.people['provider'].sub[-6:]}»")
        await st.approve_provider(s)
        n.say(f"{provider['name']} (ИНН {provider['inn']}): active")

        weekdays = sorted({TODAY.isoweekday(), (TODAY.isoweekday() + 2) % 7 + 1})
        end = module_end(TODAY)
        n.step("It creates «Робототехника» with one group (price above the normative), submits; the operator certifies")
        await st.create_program(s, "robotics", name="Робототехника", description="Конструирование и программирование роботов",
                                direction="technical",
                                module=st.module_body("Группа 1", starts=TODAY, ends=end, weekdays=weekdays,
                                                      price=1_800_000))
        module = s.ids["robotics_module"]
        await st.certify_program(s, "robotics", {module: 1_350_000})
        n.say(f"group {module}: {TODAY}–{end}, weekdays {weekdays}, price 18 000,00 ₽, normative 13 500,00 ₽")

        n.step("The program appears in the navigator; the parent searches with her child and sees the cost to the family")
        await st.wait_in_catalogue(s, [module])
        hit = await st.quote_in_search(s, module, TODAY)
        q = hit["quote"]
        n.say(f"cost {st.rub(q['total_cost_kopecks'])}: certificate {st.rub(q['certificate_kopecks'])}, "
              f"family (co-payment) {st.rub(q['family_kopecks'])}")
        detail = await st.billing_quote(s, module, TODAY)
        print(st.table(["month", "certificate", "family", "lessons"],
                       [[x["month"], st.rub(x["certificate_kopecks"]), st.rub(x["family_kopecks"]), x["planned_lessons"]]
                        for x in detail["schedule"]]))

        n.step("She applies (payment by attendance); billing reserves the certificate part")
        await st.apply(s, module, TODAY, "attendance")
        e = await st.enrolment_when(s, "billing's reservation", lambda e: e["state"] in ("reserved", "rejected"))
        if e["state"] != "reserved":
            n.say(f"billing refused: {e['reason']}")
            return 1
        balances = [("reserved", await st.balance_when(s, "the funding balance", lambda b: "available" in b))]
        print(st.balance_table(balances))

        n.step("The provider confirms: the platform issues the offer (договор-оферта)")
        n.say((await st.confirm(s))["state"])
        n.step("The parent accepts the offer: the contract is concluded")
        n.say((await st.accept_offer(s))["state"])

        n.step("Today's lesson: the provider marks the child present")
        report = await st.post_attendance(s, module, [(TODAY, "present")])
        n.say(f"accepted {report['accepted']}, rejected {report['rejected']}")

        n.step("The parent disputes the mark (he was ill); the operator upholds it")
        mark = (await st.marks(s, f"{TODAY:%Y-%m}"))[0]
        dispute = await st.open_dispute(s, str(mark["mark_id"]), "absent", "Артём болел")
        resolved = await st.resolve_dispute(s, str(dispute["dispute_id"]), upheld=True, note="Справка подтверждена")
        mark = (await st.marks(s, f"{TODAY:%Y-%m}"))[0]
        n.say(f"dispute {resolved['state']}; the mark is now '{mark['status']}'")

        n.step(f"Billing issues the provider's advance payment order for {TODAY:%Y-%m} (80 % of the month's instalments)")

        async def advance() -> list[dict] | None:
            await st.issue_advance(s, f"{TODAY:%Y-%m}")
            orders = await st.payment_orders(s)
            return orders or None

        print(st.orders_table(await st.eventually(advance, "the advance order")))

        n.step(f"Month close for {TODAY:%Y-%m}")
        r = await st.close_month(s, f"{TODAY:%Y-%m}")
        if r.status_code == 200:
            n.say(f"closed: posted {st.rub(r.json()['posted_kopecks'])}, back to the balance "
                  f"{st.rub(r.json()['released_kopecks'])}, family invoiced {st.rub(r.json()['family_invoiced_kopecks'])}")
        else:
            n.say(f"billing answers {r.status_code} {r.json().get('code')}: the month is not over yet "
                  "(the journey test closes September–December on a moved calendar)")

        n.step("The parent terminates the contract: it runs to the month end, the rest is released at once")
        t = await st.terminate(s)
        n.say(f"{t['state']}, last day {t['ends_on']}")
        released = await st.enrolment_when(s, "the release", lambda e: e["released_kopecks"] > 0 or e["reserved_kopecks"] == 0)
        n.say(f"released {st.rub(released['released_kopecks'])}; still reserved {st.rub(released['reserved_kopecks'])}")
        balances.append(("terminated", await st.balance_when(s, "the release", lambda b: b["reserved"] <= released["reserved_kopecks"])))
        print(st.balance_table(balances))

        n.step("Payment orders and the ledger's proof")
        print(st.orders_table(await st.payment_orders(s)))
        recon = await st.reconciliation(s)
        n.say("reconciliation: " + ("every invariant holds" if recon["ok"] else f"FAILED {recon['checks']}"))

        n.step("What the calendar must bring (shown by tests/journeys/test_school_year.py on a moved clock)")
        n.say("journals for three months, month close and final orders (with a negative difference carried),")
        n.say("the end of the contract, the parent's rating moving the program up the navigator's ranking,")
        n.say("and the certificate's expiry on the 18th birthday (POST /api/registry/jobs/expire-certificates).")

    print("\nWhere to look next:")
    print(f"  all docs   {gateway}/docs (every API, the event catalogue, the error catalogue)")
    for service in SERVICES:
        print(f"  {service:<9}  OpenAPI  {gateway}/api/{service}/docs    AsyncAPI  {gateway}/api/{service}/asyncapi.html")
    print(f"  tokens     {gateway}/auth/docs")
    print(f"  the family's money  {gateway}/api/billing/certificates/{s.ids['certificate']}/history")
    print(f"\nDone in {time.monotonic() - n.started:.1f} s.")
    print(f"The regional portal: {gateway}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", default="http://127.0.0.1:8080", help="gateway of a running `make up`")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(demo(args.gateway.rstrip("/")))
    except st.StoryError as exc:
        print(f"\nThe story stopped: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
