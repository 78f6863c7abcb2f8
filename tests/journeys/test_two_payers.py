"""Two municipalities pay one provider, end to end through the gateway only, over real Kafka and
PostgreSQL (issue 26): contracts made by offer and acceptance, payment orders per provider, payer
and month, a month closed for one municipality and then for the other, and the treasury's loop
(accepted → paid; returned → reissued) seen by the provider and by the operators. Every figure is
asserted to the kopeck, worked out by hand from docs/domain-rules.md in the comments.

The calendar: 24 August 2026 (the families apply, the provider confirms, one parent accepts) to
2 October 2026 (September closed and paid); one month of lessons.

The figures (kopecks):
- period 2026-09-01..2027-08-31; nominal 30 000,00 ₽ = 3 000 000 in «01», 8 000,00 ₽ = 800 000 in «02»;
- module "Группа 1": 2026-09-01..2026-11-30 (the whole module: cost = price), Tuesdays and Thursdays,
  price = normative cost = 10 000,00 ₽ = 1 000 000; both children from the module start;
- Анна («01», attendance mode): certificate part min(1 000 000, 1 000 000, 3 000 000) = 1 000 000, no
  family part; three months: 1 000 000 = 3 × 333 333 + 1, so 333 334 in September;
- Борис («02», monthly mode): certificate part min(1 000 000, 1 000 000, 800 000) = 800 000, family
  part 200 000; 800 000 = 3 × 266 666 + 2, so 266 668 in September; 200 000 = 3 × 66 666 + 2, so
  66 668 in September.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from pfdo_devstack import story as st

pytestmark = pytest.mark.integration

D = dt.date
MONTH = "2026-09"
PRICE = 1_000_000
NOMINAL_01, NOMINAL_02 = 3_000_000, 800_000
SEPTEMBER = [1, 3, 8, 10, 15, 17, 22, 24, 29]  # Tuesdays and Thursdays, no day off in September 2026

# Анна, «01», attendance: 8 of 9 lessons. 333 334 × 8 / 9 = 296 296.9 → 296 296 (rounded down),
# 333 334 − 296 296 = 37 038 back to the balance
A_SEPT, A_POSTED, A_RELEASED = 333_334, 296_296, 37_038
A_ADVANCE = 266_667  # 80 % of 333 334 = 266 667.2, rounded down
A_FINAL = A_POSTED - A_ADVANCE  # 29 629
# Борис, «02», monthly: the whole September instalment, and the family's 66 668 invoiced
B_SEPT, B_FAMILY_SEPT = 266_668, 66_668
B_ADVANCE = 213_334  # 80 % of 266 668 = 213 334.4, rounded down
B_FINAL = B_SEPT - B_ADVANCE  # 53 334


def money(b: dict) -> tuple[int, int, int, int]:
    return b["nominal"], b["available"], b["reserved"], b["spent"]


def marks(absent: set[int] = frozenset()) -> list[tuple[dt.date, str]]:
    return [(D(2026, 9, d), "absent" if d in absent else "present") for d in SEPTEMBER]


def summary(orders: list[dict]) -> list[tuple[str, str, int, int, int, str]]:
    """(payer, kind, base, advance paid, amount, status) of each order, in a stable order."""
    return sorted((o["payer_code"], o["kind"], o["base_kopecks"], o["advance_paid_kopecks"], o["amount_kopecks"],
                   o["status"]) for o in orders)


async def test_two_municipalities_pay_one_provider_per_payer(platform_factory, auth, tmp_path) -> None:  # noqa: ANN001
    clock = st.StoryClock(tmp_path)
    clock.set(D(2026, 8, 24))
    platform = await platform_factory(extra_env={"PFDO_CLOCK_OFFSET_FILE": str(clock.file)})
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        tokens = st.TestAuthTokens(auth)
        people = st.cast("two-payers")
        # the second family lives in «02»: its own parent, and «02»'s municipal operator
        people_b = {**people, "parent": st.Person("parent", "parent-two-payers-b"),
                    "operator": st.Person("municipal_operator", "operator-02-two-payers", municipality="02")}
        a = st.Story(gw, tokens, people)
        b = st.Story(gw, tokens, people_b)
        try:
            await two_payers(a, b, clock)
        except BaseException:
            print(platform.logs(40))
            raise


async def two_payers(a: st.Story, b: st.Story, clock: st.StoryClock) -> None:  # noqa: PLR0915
    # --- 24 Aug: two municipalities, each with its payer; a child's certificate in each ----------
    await st.open_region(a)  # «01» with its payer details
    st.expect(await a.put("region", "/api/registry/municipalities/02", {"name": "Елец"}), 200, 201)
    await st.set_payer(a, "02", "Елец")
    await st.apply_for_certificate(a, surname="Орлова", first_name="Анна", birth_date=D(2015, 3, 3))
    cert_a = await st.approve_certificate(a)
    await st.apply_for_certificate(b, surname="Волков", first_name="Борис", birth_date=D(2014, 4, 4),
                                   municipality="02")
    cert_b = await st.approve_certificate(b)  # by «02»'s operator
    assert cert_a["number"].startswith("4801") and cert_b["number"].startswith("4802")

    await st.open_period(a, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=NOMINAL_01,
                         nominals={"01": NOMINAL_01, "02": NOMINAL_02})
    await st.register_provider(a, "ООО «Школа юных инженеров»")
    await st.approve_provider(a)  # the agreement with «01», concluded by the regional operator
    b.ids.update({k: a.ids[k] for k in ("period", "period_starts_on", "provider")})
    agreement_b = await st.conclude_agreement(b, payer="02")  # «02»'s own operator concludes «02»'s
    assert agreement_b["payer_code"] == "02" and agreement_b["status"] == "active"
    agreements = st.expect(await a.get("provider", "/api/billing/agreements"), 200)["items"]
    assert sorted(x["payer_code"] for x in agreements) == ["01", "02"]

    await st.create_program(a, "robots", name="Юный инженер", description="Конструирование", direction="technical",
                            module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2026, 11, 30),
                                                  weekdays=(2, 4), price=PRICE))
    module = a.ids["robots_module"]
    await st.certify_program(a, "robots", {module: PRICE})
    await st.wait_in_catalogue(a, [module])
    b.ids.update({k: a.ids[k] for k in ("robots_program", "robots_module")})

    # --- both families apply; billing reserves each certificate part against its own payer -----
    await st.apply(a, module, D(2026, 9, 1), "attendance")
    await st.apply(b, module, D(2026, 9, 1), "monthly")
    ea = await st.enrolment_when(a, "Анна's part reserved", lambda e: e["state"] == "reserved")
    eb = await st.enrolment_when(b, "Борис's part reserved", lambda e: e["state"] == "reserved")
    assert (ea["total_cost_kopecks"], ea["reserved_kopecks"], ea["family_kopecks"]) == (PRICE, 1_000_000, 0)
    assert (eb["total_cost_kopecks"], eb["reserved_kopecks"], eb["family_kopecks"]) == (PRICE, 800_000, 200_000)
    # the certificates became funding on 24 Aug, before the period: the whole nominal each
    bal_a = await st.balance_when(a, "Анна's reservation", lambda x: x.get("reserved") == 1_000_000)
    assert money(bal_a) == (NOMINAL_01, 2_000_000, 1_000_000, 0)
    bal_b = await st.balance_when(b, "Борис's reservation", lambda x: x.get("reserved") == 800_000)
    assert money(bal_b) == (NOMINAL_02, 0, 800_000, 0)
    used = st.expect(await b.get("operator", f"/api/billing/agreements/{agreement_b['agreement_id']}"), 200)
    assert used["used_kopecks"] == 800_000  # «02»'s agreement carries Борис's part only

    # the provider confirms both: offers; only Анна's parent accepts today
    for s in (a, b):
        offer = await st.confirm(s)
        assert offer["state"] == "offered" and offer["accepted_at"] is None
    accepted = await st.accept_offer(a)
    assert accepted["state"] == "confirmed" and accepted["accepted_by"] == a.people["parent"].sub

    async def orders(who: str = "finance", story: st.Story = a) -> list[dict]:
        return [o for o in await st.payment_orders(story, who) if o["month"] == MONTH]

    async def advance_of(payer: str) -> dict:
        async def probe() -> dict | None:
            await st.issue_advance(a, MONTH)  # idempotent; billing may not have heard of the acceptance yet
            found = [o for o in await orders() if o["payer_code"] == payer and o["kind"] == "advance"]
            return found[0] if found else None

        return await st.eventually(probe, f"the advance of {MONTH} for «{payer}»")

    # --- 1 Sep: the advances. Борис's offer is not accepted yet: no contract, no advance for «02» -
    clock.set(D(2026, 9, 1))
    adv_a = await advance_of("01")
    assert (adv_a["base_kopecks"], adv_a["amount_kopecks"], adv_a["contract_count"]) == (A_SEPT, A_ADVANCE, 1)
    assert [o["payer_code"] for o in await orders()] == ["01"]
    assert (await st.enrolment(b))["state"] == "offered"
    accepted = await st.accept_offer(b)  # now Борис's contract is made
    assert accepted["state"] == "confirmed" and accepted["accepted_by"] == b.people["parent"].sub
    adv_b = await advance_of("02")
    assert (adv_b["base_kopecks"], adv_b["amount_kopecks"], adv_b["contract_count"]) == (B_SEPT, B_ADVANCE, 1)
    assert adv_a["number"] != adv_b["number"]
    assert st.expect(await a.post("region", f"/api/billing/months/{MONTH}/advance"), 200)["orders_issued"] == 0

    # --- 30 Sep: the journal; 1 Oct: frozen ---------------------------------------------------
    clock.set(D(2026, 9, 30))
    for s, absent in ((a, {17}), (b, set())):
        report = await st.post_attendance(s, module, marks(absent))
        assert (report["accepted"], report["rejected"]) == (9, [])
    clock.set(D(2026, 10, 1))
    assert st.expect(await st.freeze_month(a, MONTH), 200)["state"] == "frozen"

    # --- September closed for «01» only -------------------------------------------------------
    other = await a.post("operator", f"/api/billing/months/{MONTH}/close", municipality="02")
    assert other.status_code == 403 and other.json()["code"] == "forbidden"  # «01»'s operator, «02»'s month
    closed = await st.close_month_when_ready(a, MONTH, municipality="01")
    assert (closed["municipality_code"], closed["contracts_closed"], closed["final_orders_issued"]) == ("01", 1, 1)
    assert (closed["posted_kopecks"], closed["released_kopecks"], closed["family_invoiced_kopecks"]) == (
        A_POSTED, A_RELEASED, 0)
    assert summary(await orders()) == [
        ("01", "advance", A_SEPT, 0, A_ADVANCE, "issued"),
        ("01", "final", A_POSTED, A_ADVANCE, A_FINAL, "issued"),  # 296 296 − 266 667
        ("02", "advance", B_SEPT, 0, B_ADVANCE, "issued"),  # no final for «02» yet
    ]
    bal_a = await st.balance_when(a, "Анна's September posted", lambda x: x["spent"] == A_POSTED)
    # available 2 000 000 + 37 038; reserved October and November 2 × 333 333
    assert money(bal_a) == (NOMINAL_01, 2_037_038, 666_666, A_POSTED)
    assert money(await st.balance(b)) == (NOMINAL_02, 0, 800_000, 0)  # «02» untouched
    progress_b = st.expect(await b.get("operator", f"/api/billing/months/{MONTH}/close", municipality="02"), 200)
    assert (progress_b["municipality_code"], progress_b["status"], progress_b["contracts_closed"],
            progress_b["contracts_total"], progress_b["posted_kopecks"]) == ("02", "not_started", 0, 1, 0)
    progress_a = st.expect(await a.get("operator", f"/api/billing/months/{MONTH}/close", municipality="01"), 200)
    assert (progress_a["status"], progress_a["contracts_closed"], progress_a["posted_kopecks"]) == ("done", 1, A_POSTED)

    # --- then «02», by its own operator ---------------------------------------------------------
    closed = st.expect(await b.post("operator", f"/api/billing/months/{MONTH}/close"), 200)
    assert (closed["municipality_code"], closed["contracts_closed"], closed["final_orders_issued"]) == ("02", 1, 1)
    # monthly mode: the whole 266 668 posted, nothing back; the family's 66 668 invoiced
    assert (closed["posted_kopecks"], closed["released_kopecks"], closed["family_invoiced_kopecks"]) == (
        B_SEPT, 0, B_FAMILY_SEPT)
    bal_b = await st.balance_when(b, "Борис's September posted", lambda x: x["spent"] == B_SEPT)
    assert money(bal_b) == (NOMINAL_02, 0, 800_000 - B_SEPT, B_SEPT)  # reserved 533 332
    # the region-wide close after both: nothing left to close, no order again
    region = await st.close_month_when_ready(a, MONTH)
    assert (region["closed_now"], region["final_orders_issued"]) == (0, 0)

    # --- the orders: one advance and one final per payer, each adding up to its payer's postings -
    final = await orders()
    assert summary(final) == [
        ("01", "advance", A_SEPT, 0, A_ADVANCE, "issued"),
        ("01", "final", A_POSTED, A_ADVANCE, A_FINAL, "issued"),
        ("02", "advance", B_SEPT, 0, B_ADVANCE, "issued"),
        ("02", "final", B_SEPT, B_ADVANCE, B_FINAL, "issued"),  # 266 668 − 213 334
    ]
    paid_to = {p: sum(o["amount_kopecks"] for o in final if o["payer_code"] == p) for p in ("01", "02")}
    assert paid_to == {"01": bal_a["spent"], "02": bal_b["spent"]} == {"01": 296_296, "02": 266_668}
    assert len({o["number"] for o in final}) == 4
    by = {(o["payer_code"], o["kind"]): o for o in final}
    lines = st.expect(await a.get("finance", f"/api/billing/payment-orders/{by['02', 'final']['order_id']}"), 200)
    assert [(str(x["certificate_id"]), x["amount_kopecks"]) for x in lines["lines"]] == [(b.ids["certificate"], B_SEPT)]

    # --- the treasury: «01»'s final accepted, then paid; «02»'s advance returned and reissued ----
    clock.set(D(2026, 10, 2))
    paid = by["01", "final"]
    r = await st.report_treasury_status(a, str(paid["order_id"]), "accepted", "2026-10-02", reference="УФК-1")
    assert (r["status"], r["outcome"], r["number"]) == ("accepted", "applied", paid["number"])
    r = await st.report_treasury_status(a, str(paid["order_id"]), "paid", "2026-10-02", reference="УФК-1")
    assert (r["status"], r["outcome"]) == ("paid", "applied")
    returned = by["02", "advance"]
    reason = "Неверный БИК банка получателя"
    r = await st.report_treasury_status(a, str(returned["order_id"]), "returned", "2026-10-02", reason=reason)
    assert (r["status"], r["outcome"]) == ("returned", "applied")
    reissued = await st.reissue_order(a, str(returned["order_id"]))
    assert str(reissued["reissue_of"]) == str(returned["order_id"]) and reissued["status"] == "issued"
    assert reissued["number"] != returned["number"] and reissued["number"] not in {o["number"] for o in final}
    assert (reissued["payer_code"], reissued["kind"], reissued["base_kopecks"], reissued["amount_kopecks"]) == (
        "02", "advance", B_SEPT, B_ADVANCE)
    assert reissued["issued_on"] == "2026-10-02"
    again = await st.reissue_order(a, str(returned["order_id"]))  # idempotent: the same new order
    assert again["order_id"] == reissued["order_id"] and again["number"] == reissued["number"]

    def statuses(items: list[dict]) -> dict[str, tuple]:
        return {o["number"]: (o["payer_code"], o["kind"], o["amount_kopecks"], o["status"], o["status_on"],
                              o["return_reason"], o["reissue_of"] and str(o["reissue_of"]),
                              o["reissued_as"] and str(o["reissued_as"])) for o in items}

    expected = {
        by["01", "advance"]["number"]: ("01", "advance", A_ADVANCE, "issued", None, None, None, None),
        paid["number"]: ("01", "final", A_FINAL, "paid", "2026-10-02", None, None, None),
        returned["number"]: ("02", "advance", B_ADVANCE, "returned", "2026-10-02", reason, None,
                             str(reissued["order_id"])),
        by["02", "final"]["number"]: ("02", "final", B_FINAL, "issued", None, None, None, None),
        reissued["number"]: ("02", "advance", B_ADVANCE, "issued", None, None, str(returned["order_id"]), None),
    }
    # the provider sees all five in its list; the regional operator too
    assert statuses(await orders("provider")) == expected
    assert statuses(await orders("region")) == expected
    # each municipal operator sees the orders its municipality pays, with their statuses
    mine_01 = [o for o in await a.all_items("operator", "/api/billing/payment-orders") if o["month"] == MONTH]
    assert statuses(mine_01) == {k: v for k, v in expected.items() if v[0] == "01"}
    mine_02 = [o for o in await b.all_items("operator", "/api/billing/payment-orders") if o["month"] == MONTH]
    assert statuses(mine_02) == {k: v for k, v in expected.items() if v[0] == "02"}
    # paid after returned is a conflict; the returned order stays as history
    r = await a.post("finance", f"/api/billing/payment-orders/{returned['order_id']}/treasury-status",
                     {"status": "paid", "status_on": "2026-10-02"})
    assert r.status_code == 409 and r.json()["code"] == "treasury_status_conflict", r.text
    # what the payers owe, less the returned order, is still what was posted
    live = [o for o in await orders() if o["status"] != "returned"]
    assert {p: sum(o["amount_kopecks"] for o in live if o["payer_code"] == p) for p in ("01", "02")} == {
        "01": 296_296, "02": 266_668}
    assert (await st.reconciliation(a))["ok"]
