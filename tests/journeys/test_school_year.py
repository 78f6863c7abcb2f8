"""One family and one provider through a school year, end to end, through the gateway only, over
real Kafka and PostgreSQL (issue 9). Every balance, instalment and order is asserted to the
kopeck; the figures are worked out by hand from docs/domain-rules.md in the comments next to them.

The calendar. The story runs from 24 August 2026 to 15 January 2027 in about a minute: the four
service processes' business clock is moved with ``PFDO_CLOCK_OFFSET_FILE`` (see
:mod:`pfdo_plumbing.clock`: only business dates move; tokens, record timestamps, timeouts and the
databases keep real time). The steps are the shared ones of :mod:`pfdo_devstack.story`, which ``make demo`` runs.

The figures (kopecks):
- nominal 30 000,00 ₽ = 3 000 000 for municipality 01, ages 5..17, period 2026-09-01..2027-08-31;
- module "Робототехника": 2026-09-01..2027-05-31 (273 days), Tuesdays and Thursdays, price
  36 000,00 ₽ = 3 600 000, normative cost 27 000,05 ₽ = 2 700 005 (price above the normative:
  a co-payment), enrolment from the module start, payment by attendance;
- the child turns 18 on 15.01.2027: the certificate is valid until 14.01.2027 and pays up to the end
  of that month, 31.01.2027 ("Age and validity"), so the enrolment is paid for 153 of the module's
  273 days: cost 3 600 000 × 153 / 273 = 2 017 582,4 → 2 017 582, normative 2 700 005 × 153 / 273 =
  1 513 189,9 → 1 513 190 (half up);
- certificate part = min(2 017 582, 1 513 190, available 3 000 000) = 1 513 190, family part
  2 017 582 − 1 513 190 = 504 392; five months Sep..Jan: 1 513 190 = 5 × 302 638, so 302 638 each
  month; 504 392 = 5 × 100 878 + 2, so 100 880 in September and 100 878 after.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from pfdo_devstack import story as st

pytestmark = pytest.mark.integration

D = dt.date

NOMINAL = 3_000_000
PRICE, NORMATIVE = 3_600_000, 2_700_005
COST, CERT_PART, FAMILY_PART = 2_017_582, 1_513_190, 504_392  # paid to 31.01.2027 (153 of 273 days)
BIRTH = D(2009, 1, 15)  # 17 on 2026-08-24; 18 on 2027-01-15, so valid until 2027-01-14

TUE, THU = 2, 4
LESSONS = {  # the module's Tuesdays and Thursdays, less the production calendar's days off
    "2026-09": [1, 3, 8, 10, 15, 17, 22, 24, 29],
    "2026-10": [1, 6, 8, 13, 15, 20, 22, 27, 29],
    "2026-11": [3, 5, 10, 12, 17, 19, 24, 26],
    "2026-12": [1, 3, 8, 10, 15, 17, 22, 24, 29],  # Thursday 31 December 2026 is a day off
}


def month_marks(month: str, odd: dict[int, str] | None = None) -> list[tuple[dt.date, str]]:
    y, m = int(month[:4]), int(month[5:])
    odd = odd or {}
    return [(D(y, m, d), odd.get(d, "present")) for d in LESSONS[month]]


async def finance_view(bootstrap: str, namespace: str, *, orders: int, charges: int) -> dict:
    """What a treasury system sees: a plain Kafka consumer on the finance-facing topics, JSON only."""
    topics = [f"{namespace}pfdo.billing.payment-orders.v1", f"{namespace}pfdo.billing.ledger.v1"]
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=f"treasury-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen: dict[str, dict] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    envelope = json.loads(record.value)
                    seen[envelope["id"]] = envelope  # at-least-once: the event id deduplicates
            kinds = [e["type"] for e in seen.values()]
            if (kinds.count("pfdo.billing.payment_order.issued.v1") >= orders
                    and kinds.count("pfdo.billing.charge.posted.v1") >= charges):
                break
    finally:
        await consumer.stop()
    events = list(seen.values())

    def of(kind: str) -> list[dict]:
        return [e["data"] for e in events if e["type"] == kind]

    order_events = of("pfdo.billing.payment_order.issued.v1")
    return {
        "orders": order_events,
        "orders_total": sum(o["amount_kopecks"] for o in order_events),
        "charges_total": sum(c["certificate_kopecks"] for c in of("pfdo.billing.charge.posted.v1")),
        "copayments_total": sum(c["amount_kopecks"] for c in of("pfdo.billing.copayment.invoiced.v1")),
        "credited_total": sum(c["amount_kopecks"] for c in of("pfdo.billing.certificate.credited.v1")),
        "raw": events,
    }


def money(b: dict) -> tuple[int, int, int, int]:
    return b["nominal"], b["available"], b["reserved"], b["spent"]


async def test_a_school_year_of_one_family_and_one_provider(platform_factory, auth, infra, tmp_path) -> None:  # noqa: ANN001, PLR0915
    clock = st.StoryClock(tmp_path)
    clock.set(D(2026, 8, 24))  # Monday, a week before the school year
    platform = await platform_factory(
        extra_env={"PFDO_CLOCK_OFFSET_FILE": str(clock.file)}, service_env={"navigator": {"PFDO_JOBS_INTERVAL_S": "0.5"}},
    )
    people = st.cast("journey")
    async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as gw:
        s = st.Story(gw, st.TestAuthTokens(auth), people)
        try:
            await school_year(s, clock, infra, platform.namespace)
        except BaseException:
            print(platform.logs(40))
            raise


async def school_year(s: st.Story, clock: st.StoryClock, infra, namespace: str) -> None:  # noqa: ANN001, PLR0915
    # --- 24 Aug 2026: the parent applies once; the operator approves -------------------------
    await st.open_region(s)
    application = await st.apply_for_certificate(s, surname="Соколов", first_name="Артём", birth_date=BIRTH)
    assert application["status"] == "pending"
    cert = await st.approve_certificate(s)
    assert cert["status"] == "active" and cert["usage_kind"] == "accounting"
    assert cert["number"].startswith("4801") and len(cert["number"]) == 10
    assert cert["issued_on"] == "2026-08-24"  # the services live on the story's calendar
    assert cert["valid_until"] == "2027-01-14"  # the day before the 18th birthday

    # the operator defines the school year with its nominal and opens it
    period = await st.open_period(s, starts_on=D(2026, 9, 1), ends_on=D(2027, 8, 31), nominal=NOMINAL)
    assert period["status"] == "open"
    # billing knows the certificate (from the registry's event) but an accounting certificate
    # carries no money yet: it is credited when it becomes funding (first paid enrolment)
    b = await st.balance_when(s, "billing knows the certificate", lambda b: b["status"] == "active")
    assert b["usage_kind"] == "accounting"
    assert b.get("available", 0) == 0

    # --- the provider registers, is approved, creates programs, the operator certifies --------
    provider = await st.register_provider(s, "ООО «Кванториум-Липецк»")
    assert provider["status"] == "new"
    assert (await st.approve_provider(s))["status"] == "active"
    # a second program of the provider; its groups are listed first while neither is rated
    # (the navigator breaks ties by module id, descending), so the rating visibly moves ours up.
    # Module ids are random: the chess program gets a few groups, and the robotics program is
    # drafted again until its group sorts below one of them (drafts never reach the catalogue).
    chess_module = st.module_body("Шахматы, группа", starts=D(2026, 9, 1), ends=D(2027, 5, 31), weekdays=(1, 3),
                                  price=2_000_000)
    chess = await st.create_program(s, "chess", name="Шахматы", description="Шахматный клуб",
                                    direction="social_humanitarian", module=chess_module)
    for _ in range(4):
        chess = await st.add_module(s, "chess", chess_module)
    highest_chess = max(str(m["id"]) for m in chess["modules"])
    for _ in range(20):
        robotics = await st.create_program(
            s, "robotics", name="Робототехника", description="Конструирование и программирование роботов",
            direction="technical",
            module=st.module_body("Группа 1", starts=D(2026, 9, 1), ends=D(2027, 5, 31), weekdays=(TUE, THU),
                                  price=PRICE),
        )
        ours = s.ids["robotics_module"]
        if ours < highest_chess:
            break
    assert ours < highest_chess, "twenty drafts, none sorting below the chess groups"
    assert robotics["status"] == "draft"
    certified = await st.certify_program(s, "robotics", {ours: NORMATIVE})
    assert certified["status"] == "certified"
    assert next(m for m in certified["modules"] if str(m["id"]) == ours)["normative_cost_kopecks"] == NORMATIVE
    await st.certify_program(s, "chess", {str(m["id"]): 1_500_000 for m in chess["modules"]})
    hits = await st.wait_in_catalogue(s, [ours, *(str(m["id"]) for m in chess["modules"])])
    assert hits[ours]["title"] == "Робототехника" and hits[ours]["price_kopecks"] == PRICE

    # --- the parent searches and sees the quote -------------------------------------------------
    hit = await st.quote_in_search(s, ours, D(2026, 9, 1))
    # cost = price × 153/273 (the certificate's last paid day is 31.01.2027); the certificate pays
    # min(2 017 582, 1 513 190, 3 000 000)
    assert hit["quote"] == {"total_cost_kopecks": COST, "certificate_kopecks": CERT_PART,
                            "family_kopecks": FAMILY_PART}
    quote = await st.billing_quote(s, ours, D(2026, 9, 1))
    assert (quote["enrolled_days"], quote["module_days"]) == (153, 273)
    assert (quote["certificate_valid_until"], quote["ends_early_on"]) == ("2027-01-14", "2027-01-31")
    assert quote["note"] == "Сертификат действует до 14.01.2027: обучение оплачивается до 31.01.2027."
    assert [(q["month"], q["certificate_kopecks"], q["family_kopecks"], q["planned_lessons"])
            for q in quote["schedule"]] == [
        ("2026-09", 302_638, 100_880, 9), ("2026-10", 302_638, 100_878, 9), ("2026-11", 302_638, 100_878, 8),
        ("2026-12", 302_638, 100_878, 9), ("2027-01", 302_638, 100_878, 6),  # 31 Dec, 5 and 7 Jan are days off
    ]

    # --- she applies (attendance mode); billing reserves; the provider confirms ----------------
    await st.apply(s, ours, D(2026, 9, 1), "attendance")
    e = await st.enrolment_when(s, "billing reserved the certificate part", lambda e: e["state"] == "reserved")
    assert (e["total_cost_kopecks"], e["reserved_kopecks"], e["family_kopecks"]) == (COST, CERT_PART, FAMILY_PART)
    assert sum(i["certificate_kopecks"] for i in e["instalments"]) == CERT_PART
    assert sum(i["family_kopecks"] for i in e["instalments"]) == FAMILY_PART
    b = await st.balance_when(s, "the certificate became funding", lambda b: b["usage_kind"] == "funding")
    # credited on 24 Aug, before the period start: the whole nominal; available 3 000 000 − 1 513 190
    assert money(b) == (NOMINAL, 1_486_810, CERT_PART, 0)
    offer = await st.confirm(s)  # the provider confirms: the platform issues the offer
    assert offer["state"] == "offered" and offer["offer_expires_on"] == "2026-09-03"
    accepted = await st.accept_offer(s)  # the parent accepts it: the contract is made
    assert accepted["state"] == "confirmed" and accepted["accepted_by"] == s.people["parent"].sub
    balances = [("enrolled (24 Aug)", b)]

    async def close(month: str) -> dict:
        # the month-close protocol: the navigator freezes the journal, billing closes once it has
        # applied every attendance event of the month
        frozen = st.expect(await st.freeze_month(s, month), 200)
        assert frozen["state"] == "frozen"
        return await st.close_month_when_ready(s, month)

    async def order(month: str, kind: str) -> dict:
        async def probe() -> dict | None:
            if kind == "advance":  # idempotent; billing may not have heard of the confirmation yet
                await st.issue_advance(s, month)
            found = [o for o in await st.payment_orders(s) if o["month"] == month and o["kind"] == kind]
            return found[0] if found else None

        return await st.eventually(probe, f"{kind} order for {month}")

    # --- September: advance, journal with one absence, month close, final order ----------------
    clock.set(D(2026, 9, 1))
    await st.issue_advance(s, "2026-09")
    adv = await order("2026-09", "advance")
    assert (adv["base_kopecks"], adv["amount_kopecks"]) == (302_638, 242_110)  # 80 % of 302 638, rounded down
    clock.set(D(2026, 9, 30))
    report = await st.post_attendance(s, ours, month_marks("2026-09", {17: "absent"}))
    assert (report["accepted"], report["recorded"], report["rejected"]) == (9, 9, [])
    future = await st.post_attendance(s, ours, [(D(2026, 10, 1), "present")])
    assert [r["reason"] for r in future["rejected"]] == ["future_date"]
    early = await st.close_month(s, "2026-10")
    assert early.status_code == 409 and early.json()["code"] == "month_not_over"
    clock.set(D(2026, 10, 1))
    unfrozen = await st.close_month(s, "2026-09")  # billing waits for the navigator's freeze
    assert unfrozen.status_code == 409 and unfrozen.json()["code"] == "journal_not_frozen"
    closed = await close("2026-09")
    # attended 8 of 9: 302 638 × 8 / 9 = 269 011.6 → 269 011 posted, 33 627 back to available;
    # the family's 100 880 × 8 / 9 = 89 671.1 → 89 671 invoiced
    assert (closed["posted_kopecks"], closed["released_kopecks"], closed["family_invoiced_kopecks"]) == (
        269_011, 33_627, 89_671)
    assert closed["final_orders_issued"] == 1
    fin = await order("2026-09", "final")
    assert (fin["base_kopecks"], fin["advance_paid_kopecks"], fin["amount_kopecks"]) == (269_011, 242_110, 26_901)
    b = await st.balance_when(s, "September posted", lambda b: b["spent"] == 269_011)
    assert money(b) == (NOMINAL, 1_486_810 + 33_627, 4 * 302_638, 269_011)
    balances.append(("September closed", b))
    again = await close("2026-09")  # month close is idempotent
    assert again["closed_now"] == 0 and again["final_orders_issued"] == 0

    # the journal was frozen before the close: a correction of September is refused, atomically
    refused = await st.post_attendance_raw(s, ours, [(D(2026, 9, 29), "absent")])
    assert refused.status_code == 409 and refused.json()["code"] == "journal_frozen"
    assert {m["lesson_date"]: m["status"] for m in await st.marks(s, "2026-09")}["2026-09-29"] == "present"

    # --- October: an absence and an excused absence; the final order goes negative -------------
    await st.issue_advance(s, "2026-10")
    assert (await order("2026-10", "advance"))["amount_kopecks"] == 242_110  # 80 % of 302 638
    clock.set(D(2026, 10, 31))
    await st.post_attendance(s, ours, month_marks("2026-10", {13: "absent", 22: "excused"}))
    clock.set(D(2026, 11, 2))
    closed = await close("2026-10")
    # 7 of 9: 302 638 × 7 / 9 = 235 385.1 → 235 385, 67 253 back; family 100 878 × 7 / 9 = 78 460.7 → 78 460
    assert (closed["posted_kopecks"], closed["released_kopecks"], closed["family_invoiced_kopecks"]) == (
        235_385, 67_253, 78_460)
    fin = await order("2026-10", "final")
    # 235 385 − 242 110 = −6 725: nothing paid, 6 725 carried to November
    assert (fin["amount_kopecks"], fin["offset_carried_kopecks"]) == (0, 6_725)
    b = await st.balance_when(s, "October posted", lambda b: b["spent"] == 504_396)
    assert money(b) == (NOMINAL, 1_520_437 + 67_253, 3 * 302_638, 269_011 + 235_385)
    balances.append(("October closed", b))

    # --- November: the parent disputes a mark, the operator upholds it --------------------------
    await st.issue_advance(s, "2026-11")
    assert (await order("2026-11", "advance"))["amount_kopecks"] == 242_110
    clock.set(D(2026, 11, 20))
    await st.post_attendance(s, ours, [(d, m) for d, m in month_marks("2026-11") if d.day <= 19])
    nov = await st.marks(s, "2026-11")
    assert len(nov) == 6 and {m["status"] for m in nov} == {"present"}
    disputed = next(m for m in nov if m["lesson_date"] == "2026-11-19")
    assert disputed["dispute_deadline"] == "2026-11-27"  # marked on 20 Nov + 7 days
    dispute = await st.open_dispute(s, str(disputed["mark_id"]), "absent", "Артём болел, справка есть")
    assert dispute["state"] == "open"
    resolved = await st.resolve_dispute(s, str(dispute["dispute_id"]), upheld=True, note="Справка подтверждена")
    assert resolved["state"] == "upheld"
    after = {m["lesson_date"]: m["status"] for m in await st.marks(s, "2026-11")}
    assert after["2026-11-19"] == "absent"
    clock.set(D(2026, 11, 30))
    await st.post_attendance(s, ours, [(D(2026, 11, 24), "present"), (D(2026, 11, 26), "present")])
    clock.set(D(2026, 12, 1))
    closed = await close("2026-11")
    # 7 of 8 (the upheld dispute): 302 638 × 7 / 8 = 264 808.3 → 264 808, 37 830 back;
    # family 100 878 × 7 / 8 = 88 268.3 → 88 268
    assert (closed["posted_kopecks"], closed["released_kopecks"], closed["family_invoiced_kopecks"]) == (
        264_808, 37_830, 88_268)
    fin = await order("2026-11", "final")
    # 264 808 − 242 110 − 6 725 carried from October = 15 973
    assert (fin["base_kopecks"], fin["offset_applied_kopecks"], fin["amount_kopecks"]) == (264_808, 6_725, 15_973)
    b = await st.balance_when(s, "November posted", lambda b: b["spent"] == 769_204)
    assert money(b) == (NOMINAL, 1_587_690 + 37_830, 2 * 302_638, 769_204)
    balances.append(("November closed", b))

    # --- December: the parent terminates; the contract runs to the month end, the rest is released
    await st.issue_advance(s, "2026-12")
    assert (await order("2026-12", "advance"))["amount_kopecks"] == 242_110
    clock.set(D(2026, 12, 10))
    await st.post_attendance(s, ours, [(d, m) for d, m in month_marks("2026-12") if d.day <= 10])
    terminated = await st.terminate(s)
    assert terminated["state"] == "terminated" and terminated["ends_on"] == "2026-12-31"
    # January (302 638, the last paid month) goes back to the balance at once
    # released so far: the unearned parts of September..November (33 627 + 67 253 + 37 830, published at
    # each month close) and now January
    e = await st.enrolment_when(s, "the rest released", lambda e: e["released_kopecks"] == 441_348)
    assert e["reserved_kopecks"] == 302_638
    b = await st.balance_when(s, "the rest released", lambda b: b["reserved"] == 302_638)
    assert money(b) == (NOMINAL, 1_625_520 + 302_638, 302_638, 769_204)
    balances.append(("terminated (10 Dec)", b))
    clock.set(D(2026, 12, 31))
    await st.post_attendance(s, ours, [(d, m) for d, m in month_marks("2026-12", {24: "absent"}) if d.day > 10])

    # --- 1 Jan 2027: the contract has ended; December closes -----------------------------------
    clock.set(D(2027, 1, 1))
    e = await st.enrolment_when(s, "the contract ended", lambda e: e["state"] == "ended")
    assert e["end_outcome"] == "terminated"
    closed = await close("2026-12")
    # 8 of 9: 302 638 × 8 / 9 = 269 011.6 → 269 011, 33 627 back; family 100 878 × 8 / 9 = 89 669.3 → 89 669
    assert (closed["posted_kopecks"], closed["released_kopecks"], closed["family_invoiced_kopecks"]) == (
        269_011, 33_627, 89_669)
    fin = await order("2026-12", "final")
    assert (fin["amount_kopecks"], fin["offset_carried_kopecks"]) == (26_901, 0)  # 269 011 − 242 110
    assert st.expect(await s.post("region", "/api/billing/months/2027-01/advance"), 200)["orders_issued"] == 0
    b = await st.balance_when(s, "December posted", lambda b: b["spent"] == 1_038_215)
    # spent 269 011 + 235 385 + 264 808 + 269 011; nothing reserved; the rest is free
    assert money(b) == (NOMINAL, 1_961_785, 0, 1_038_215)
    balances.append(("December closed", b))

    # --- 2 Jan 2027: a December lesson disputed after the close; the operator rejects it -------
    # billing bills the closed month again: not billed while disputed (7 of 9: 33 626 back to the
    # balance), billed once more when the mark stands
    clock.set(D(2027, 1, 2))
    december = {m["lesson_date"]: m for m in await st.marks(s, "2026-12")}
    late = await st.open_dispute(s, str(december["2026-12-29"]["mark_id"]), "absent", "Не был на занятии")
    # 302 638 × 7 / 9 = 235 385.1 → 235 385: 269 011 − 235 385 = 33 626 back
    b = await st.balance_when(s, "the disputed December lesson refunded", lambda b: b["spent"] == 1_004_589)
    assert money(b) == (NOMINAL, 1_995_411, 0, 1_004_589)
    balances.append(("Dec lesson disputed (2 Jan)", b))
    await st.resolve_dispute(s, str(late["dispute_id"]), upheld=False, note="Журнал и табель совпадают")
    b = await st.balance_when(s, "the December lesson charged again", lambda b: b["spent"] == 1_038_215)
    assert money(b) == (NOMINAL, 1_961_785, 0, 1_038_215)
    balances.append(("dispute rejected", b))
    late_moves = [(h["kind"], h["amount"]) for h in await st.history(s) if h["kind"].startswith("late_")]
    # the family's part moves with it: 100 878 × 7 / 9 = 78 460.7 → 78 460 against 89 669 invoiced
    assert sorted(late_moves) == [("late_charge", 33_626), ("late_credit", 11_209), ("late_invoice", 11_209),
                                  ("late_refund", 33_626)]
    print("\n" + st.balance_table(balances))

    orders = await st.payment_orders(s)
    print(st.orders_table(orders))
    assert [(o["month"], o["kind"], o["amount_kopecks"]) for o in orders] == [
        ("2026-09", "advance", 242_110), ("2026-09", "final", 26_901),
        ("2026-10", "advance", 242_110), ("2026-10", "final", 0),
        ("2026-11", "advance", 242_110), ("2026-11", "final", 15_973),
        ("2026-12", "advance", 242_110), ("2026-12", "final", 26_901),
    ]
    assert sum(o["amount_kopecks"] for o in orders) == 1_038_215  # = everything posted
    recon = await st.reconciliation(s)
    assert recon["ok"], recon

    # --- the finance consumer: a plain Kafka client on the billing topics -----------------------
    seen = await finance_view(infra.kafka_bootstrap, namespace, orders=8, charges=4)
    assert len(seen["orders"]) == 8
    assert seen["orders_total"] == seen["charges_total"] == 1_038_215
    assert seen["copayments_total"] == 89_671 + 78_460 + 88_268 + 89_669  # 346 068
    assert seen["credited_total"] == NOMINAL
    # the journal and the money agree: every month's billed lessons are the journal's present marks
    billed = {e["data"]["month"]: e["data"]["attended_lessons"] for e in seen["raw"]
              if e["type"] == "pfdo.billing.charge.posted.v1"}
    journal = {month: sum(1 for m in await st.marks(s, month) if m["status"] == "present") for month in billed}
    assert billed == journal == {"2026-09": 8, "2026-10": 7, "2026-11": 7, "2026-12": 8}
    finance_text = json.dumps(seen["raw"], ensure_ascii=False)
    assert "Соколов" not in finance_text and "2009-01-15" not in finance_text  # no personal data

    # --- the parent rates the ended enrolment; the navigator's ranking changes ------------------
    before = await st.ranking(s)
    assert str(before[0]["module_id"]) != ours  # unrated: ties broken by module id
    ours_before = next(h for h in before if str(h["module_id"]) == ours)
    assert ours_before["rating_count"] == 0 and ours_before["rating_score"] is None
    scores = {"results": 90, "teachers_and_group": 100, "materials_and_equipment": 80, "overall_satisfaction": 90}
    rating = await st.rate(s, scores, "Сын в восторге, но ушёл ради подготовки к экзаменам")
    assert rating["version"] == 1

    async def reranked() -> list[dict] | None:
        items = await st.ranking(s)
        return items if str(items[0]["module_id"]) == ours else None

    after = (await st.eventually(reranked, "the rated program leads the ranking"))[0]
    # one review of mean 90 shrunk towards the prior 70 with weight 10: (10 × 70 + 90) / 11 = 71.8
    assert after["rating_count"] == 1 and abs(after["rating_score"] - 790 / 11) < 0.05

    # --- 15 Jan 2027: the child turns 18, the certificate expires --------------------------------
    clock.set(D(2027, 1, 14))
    assert await st.run_expiry_job(s) == 0  # still valid on its last day
    clock.set(D(2027, 1, 15))
    assert await st.run_expiry_job(s) == 1
    assert await st.run_expiry_job(s) == 0  # idempotent
    cert = await st.certificate(s)
    assert cert["status"] == "expired"
    b = await st.balance_when(s, "billing saw the expiry", lambda b: b["status"] == "expired")
    assert money(b) == (NOMINAL, 1_961_785, 0, 1_038_215)  # unused money waits for the period close

    async def nav_refuses() -> bool | None:
        r = await s.post("parent", "/api/navigator/enrolments", {
            "certificate_id": s.ids["certificate"], "module_id": ours, "start_date": "2027-01-19"})
        return True if r.status_code == 422 and "certificate_not_active" in r.text else None

    await st.eventually(nav_refuses, "the navigator refuses an expired certificate")
