"""Month close against the domain, drawn by Hypothesis over the real PostgreSQL.

Month close is set-based SQL for speed; the rules it applies have their home in the domain:
planned lessons (:func:`pfdo_contracts.rules.lessons.planned_lessons`, production calendar
included), the billable lesson and the amount due per payment mode
(:func:`pfdo_billing.domain.due.close_month`). Each example draws the contract-months of one
month as reservations leave them in the database (contracts of one to three certificates, two
providers and two payers; monthly or attendance mode; weekly timetables with a weekday taken twice;
start and end dates within and across the month; contracts that ended inside the month and
holds never confirmed; certificate and family instalments with 0 and odd kopecks; present, absent
and excused marks, some under dispute, some outside the contract's days or above the plan), runs
the drawn terminations through billing's termination use case (before the start, in the previous
month or in this one), closes the month with the production use case, and checks that:

- every contract-month month close must close stores exactly the domain's planned and attended
  lessons and its posted, released and family-invoiced amounts; the months a termination released
  are voided and not closed (:func:`pfdo_billing.domain.termination.end_early`, the contract's
  state machine); the others are left untouched;
- the journal holds exactly the domain's post, release and family invoice of each contract-month,
  and the provider-side mirror per provider and payer sums the posts;
- each pending reservation of the month is resolved exactly once (posted when something is
  posted, voided otherwise) and no more than it held is moved out of it;
- the balances follow the journal: per certificate nominal = available + reserved + spent, with
  spent and reserved what the domain says; the provider and family accounts hold the month's sums;
- each provider's final payment order of the month settles what its contract-months posted;
- closing the month again (a resumed close) changes nothing.

The examples share one billing database: each uses fresh identifiers and the month's close is
reopened before it; the contracts of an example are retired after it so a later example of the
next month does not close them. Each example costs a few database round trips, so the test runs
half of the Hypothesis profile's examples: 50 in ``make test``, 1 000 in ``make test-long``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace

import pytest
import pytest_asyncio
from billing_testkit import D, Harness, setup_period
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import navigator as n
from pfdo_contracts.rules import calendar
from pfdo_contracts.rules.lessons import planned_lessons

from pfdo_billing.domain.calendar import month_end
from pfdo_billing.domain.contract import IN_FORCE
from pfdo_billing.domain.due import LessonMark, LessonStatus, MonthAttendance, close_month
from pfdo_billing.domain.quote import Instalment
from pfdo_billing.domain.termination import end_early
from pfdo_billing.service import month_close, reservations
from pfdo_billing.service.context import Billing

pytestmark = pytest.mark.integration

# the period ``setup_period`` opens: September 2026 to August 2027
MONTHS = [D(2026, 9, 1), D(2026, 10, 1), D(2026, 11, 1), D(2026, 12, 1), D(2027, 1, 1), D(2027, 2, 1),
          D(2027, 3, 1), D(2027, 4, 1), D(2027, 5, 1), D(2027, 6, 1), D(2027, 7, 1)]
PAYERS = ("01", "02")
EXAMPLES = max(1, settings.default.max_examples // 2)  # each example is a few database round trips


@dataclass(frozen=True)
class Mark:
    day: dt.date
    status: str
    disputed: bool


@dataclass(frozen=True)
class Contract:
    certificate: int  # index of the example's certificate
    provider: int  # index of the example's provider
    payer: str
    mode: str
    weekdays: tuple[int, ...]
    start: dt.date
    end: dt.date
    status: str
    ci: int  # the month's certificate instalment
    fi: int  # the month's family instalment
    next_ci: int | None  # the next month's certificate instalment, when the contract runs into it
    marks: tuple[Mark, ...]
    terminate_on: dt.date | None  # a termination requested before the close (the use case runs)


@dataclass(frozen=True)
class Case:
    month: dt.date
    certificates: int
    spare: tuple[int, ...]  # what each certificate keeps available beyond its reservations
    contracts: tuple[Contract, ...]
    region_days_off: tuple[dt.date, ...]
    chunk: int


def _next_month(month: dt.date) -> dt.date:
    return month_end(month) + dt.timedelta(days=1)


kopecks = st.one_of(st.just(0), st.sampled_from([1, 99_999, 111_263]), st.integers(1, 400_000))
mark_status = st.sampled_from(["present", "present", "absent", "excused"])
disputed = st.sampled_from([False, False, False, True])


@st.composite
def contracts(draw: st.DrawFn, month: dt.date, certificates: int) -> Contract:
    first, last = month, month_end(month)
    weekdays = tuple(sorted(draw(st.lists(st.integers(1, 7), min_size=1, max_size=4))))
    start = first + dt.timedelta(days=draw(st.integers(-40, (last - first).days)))
    status = draw(st.sampled_from(["active", "active", "terminated", "ended", "reserved"]))
    begins = max(start, first)
    if status in ("terminated", "ended"):  # ended early, or at the module's end, inside the month
        end = begins + dt.timedelta(days=draw(st.integers(0, (last - begins).days)))
    else:
        end = begins + dt.timedelta(days=draw(st.integers(0, 75)))
    terminate_on = None
    if status in ("active", "reserved"):  # sometimes terminated now: before its start, last month or this one
        terminate_on = draw(st.none() | st.dates(min(start, first) - dt.timedelta(days=10), last))
    # marks: one chance per timetable slot on each of its weekdays of the month (also before the
    # start, after the end and on days off), and a few more on other days (a lesson moved to
    # another day: within the contract's days of the month, or anywhere around the month)
    slot_days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    slot_days = [day for day in slot_days for wd in weekdays if day.isoweekday() == wd]
    other_days = st.dates(begins, min(end, last)) | st.dates(first - dt.timedelta(days=3), last + dt.timedelta(days=3))
    if draw(st.booleans()):  # every lesson attended, and one more within the contract's days (above the plan)
        marks = [Mark(day, "present", False) for day in slot_days]
        marks.append(Mark(draw(st.dates(begins, min(end, last))), "present", False))
    else:
        marks = [Mark(day, draw(mark_status), draw(disputed)) for day in slot_days if draw(st.integers(0, 3))]
        marks += draw(st.lists(st.builds(Mark, other_days, mark_status, disputed), max_size=4))
    return Contract(
        certificate=draw(st.integers(0, certificates - 1)), provider=draw(st.integers(0, 1)),
        payer=draw(st.sampled_from(PAYERS)), mode=draw(st.sampled_from(["monthly", "attendance"])),
        weekdays=weekdays, start=start, end=end, status=status, ci=draw(kopecks), fi=draw(kopecks),
        next_ci=draw(kopecks) if end >= _next_month(month) else None, marks=tuple(marks), terminate_on=terminate_on)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    month = draw(st.sampled_from(MONTHS))
    certificates = draw(st.integers(1, 3))
    return Case(
        month=month, certificates=certificates,
        spare=tuple(draw(st.integers(0, 100_000)) for _ in range(certificates)),
        contracts=tuple(draw(st.lists(contracts(month, certificates), min_size=1, max_size=6))),
        region_days_off=tuple(draw(st.lists(st.dates(month, month_end(month)), max_size=2, unique=True))),
        chunk=draw(st.integers(1, 4)),
    )


@pytest_asyncio.fixture(scope="module")
async def period_id(h: Harness) -> uuid.UUID:
    return uuid.UUID(await setup_period(h))


# --- the example's database state, as reservations leave it -------------------------------------

@dataclass
class Seeded:
    enrolments: list[uuid.UUID]
    certificates: list[uuid.UUID]
    providers: list[uuid.UUID]
    nominal: dict[uuid.UUID, int]


def _reserve_id(enrolment_id: uuid.UUID, month: dt.date) -> str:
    return f"reserve:{enrolment_id}:{month:%Y-%m}"


async def _seed(h: Harness, pid: uuid.UUID, case: Case) -> Seeded:
    month = case.month
    seeded = Seeded([uuid.uuid4() for _ in case.contracts], [uuid.uuid4() for _ in range(case.certificates)],
                    [uuid.uuid4(), uuid.uuid4()], {})
    reserves, months, rows, marks = [], [], [], []
    for eid, c in zip(seeded.enrolments, case.contracts, strict=True):
        cid = seeded.certificates[c.certificate]
        lines = _lines(c, month)
        cert_total, family_total = sum(i.certificate for i in lines), sum(i.family for i in lines)
        rows.append({"e": eid, "c": cid, "mod": uuid.uuid4(), "prog": uuid.uuid4(),
                     "prov": seeded.providers[c.provider], "payer": c.payer, "p": pid, "mode": c.mode,
                     "s": c.start, "end": c.end, "wd": list(c.weekdays), "st": c.status,
                     "total": cert_total + family_total, "ck": cert_total, "fk": family_total, "r": uuid.uuid4()})
        for i in lines:
            months.append({"e": eid, "m": i.month, "ci": i.certificate, "fi": i.family,
                           "pl": _planned(c, i.month, case)})
            if i.certificate > 0:
                reserves.append({"id": _reserve_id(eid, i.month), "p": pid, "c": str(cid), "cid": cid,
                                 "a": i.certificate, "e": eid, "m": i.month})
        marks += [{"id": uuid.uuid4(), "e": eid, "d": mk.day, "s": mk.status, "x": mk.disputed} for mk in c.marks]
    for i, cid in enumerate(seeded.certificates):
        seeded.nominal[cid] = sum(r["a"] for r in reserves if r["cid"] == cid) + case.spare[i]
    credits = [{"id": f"credit:{cid}:{pid}", "p": pid, "c": str(cid), "cid": cid, "a": amount}
               for cid, amount in seeded.nominal.items() if amount > 0]
    async with h.db.transaction() as s:
        if credits:
            await s.execute(text(
                "INSERT INTO transfers (transfer_id, kind, period_id, debit_kind, debit_owner, credit_kind, "
                "credit_owner, amount, certificate_id, cause) VALUES (:id, 'credit_nominal', :p, 'budget', '01', "
                "'certificate_available', :c, :a, :cid, 'month_close_property')"), credits)
        await s.execute(text(
            "INSERT INTO contracts (enrolment_id, certificate_id, module_id, program_id, provider_id, "
            "municipality_code, payer_code, direction, funding_kind, period_id, payment_mode, start_date, end_date, "
            "weekdays, status, total_cost_kopecks, certificate_kopecks, family_kopecks, funding_activated, "
            "reservation_id) VALUES "
            "(:e, :c, :mod, :prog, :prov, :payer, :payer, 'technical', 'certificate', :p, :mode, :s, :end, "
            "CAST(:wd AS smallint[]), :st, :total, :ck, :fk, true, :r)"), rows)
        await s.execute(text(
            "INSERT INTO contract_months (enrolment_id, month, certificate_kopecks, family_kopecks, planned_lessons) "
            "VALUES (:e, :m, :ci, :fi, :pl)"), months)
        if reserves:
            await s.execute(text(
                "INSERT INTO transfers (transfer_id, kind, period_id, debit_kind, debit_owner, credit_kind, "
                "credit_owner, amount, pending_state, certificate_id, enrolment_id, month, cause) VALUES "
                "(:id, 'reserve', :p, 'certificate_available', :c, 'certificate_reserved', :c, :a, 'pending', "
                ":cid, :e, :m, 'month_close_property')"), reserves)
        if marks:
            await s.execute(text(
                "INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision, disputed) "
                "VALUES (:id, :e, :d, :s, 1, :x)"), marks)
        # the month's journal is frozen and drained; the close of an earlier example is reopened
        await s.execute(text(
            "INSERT INTO attendance_months (month, published_events, frozen_on, applied_events) "
            "VALUES (:m, 0, :m, 0) ON CONFLICT (month) DO NOTHING"), {"m": month})
        await s.execute(text("DELETE FROM month_closes WHERE month = :m"), {"m": month})
    return seeded


async def _terminate(h: Harness, billing: Billing, seeded: Seeded, case: Case) -> None:
    """The drawn terminations, through billing's use case for the navigator's event."""
    for eid, c in zip(seeded.enrolments, case.contracts, strict=True):
        if c.terminate_on is None:
            continue
        terminated = n.EnrolmentTerminated(
            enrolment_id=eid, certificate_id=seeded.certificates[c.certificate],
            provider_id=seeded.providers[c.provider], terminated_by=n.TerminatedBy.PARENT,
            reason=n.TerminationReason.PARENT_REQUEST, requested_on=c.terminate_on,
            effective_end_date=month_end(c.terminate_on))
        async with h.db.transaction() as s:
            await reservations.enrolment_terminated(
                billing, s, terminated, wrap(terminated, source="pfdo/test", correlation_id=str(uuid.uuid4())))


async def _retire(h: Harness, seeded: Seeded) -> None:
    """The example's contracts leave the billed statuses: a later example never closes them."""
    async with h.db.transaction() as s:
        await s.execute(text("UPDATE contracts SET status = 'cancelled' WHERE enrolment_id = ANY(:e)"),
                        {"e": seeded.enrolments})


# --- what the domain says -------------------------------------------------------------------------

def _lines(c: Contract, month: dt.date) -> list[Instalment]:
    """The contract's schedule as seeded: this month and, when it runs into it, the next."""
    nxt = [Instalment(_next_month(month), c.next_ci, 0)] if c.next_ci is not None else []
    return [Instalment(month, c.ci, c.fi), *nxt]


def _planned(c: Contract, month: dt.date, case: Case) -> int:
    return planned_lessons(month, c.weekdays, c.start, c.end,
                           days_off=calendar.days_off(month.year, case.region_days_off))


def _after_termination(c: Contract, case: Case) -> tuple[Contract, frozenset[dt.date]]:
    """The contract after its drawn termination (status, end date) and the months it released."""
    if c.terminate_on is None:
        return c, frozenset()
    end = end_early(c.status, _lines(c, case.month), c.start, c.end, c.terminate_on)
    if end is None:
        return c, frozenset()
    return replace(c, status=end.status.value, end=end.ends_on), frozenset(i.month for i in end.released)


def _expected_close(c: Contract, case: Case) -> tuple[int, int, int, int, int]:
    """(planned, attended, posted, released, family invoiced) of the contract's month."""
    planned = _planned(c, case.month, case)
    first, last = max(case.month, c.start), min(month_end(case.month), c.end)
    attendance = MonthAttendance.from_marks(
        planned, [LessonMark(LessonStatus(m.status), m.disputed) for m in c.marks if first <= m.day <= last])
    result = close_month(c.ci, c.fi, c.mode, attendance)
    return planned, attendance.attended, result.posted, result.released, result.family_invoiced


@dataclass
class Expected:
    """The journal rows of the example's contracts (kind, enrolment, month, amount, debit, credit,
    pending id, pending state), the posts per provider and payer, and the contract-months closed."""

    journal: Counter = field(default_factory=Counter)
    posted: Counter = field(default_factory=Counter)
    closed: int = 0
    #: per provider and payer: its closed contract-months with a certificate part, and what they posted
    finals: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def reserve(self, eid: uuid.UUID, cid: str, month: dt.date, amount: int, state: str) -> None:
        if amount > 0:
            self.journal[("reserve", eid, month, amount, "certificate_available", cid, "certificate_reserved", cid,
                          None, state)] += 1

    def move(self, kind: str, eid: uuid.UUID, month: dt.date, amount: int, debit: tuple[str, str],
             credit: tuple[str, str], pending: str | None = None) -> None:
        if amount > 0:
            self.journal[(kind, eid, month, amount, *debit, *credit, pending, None)] += 1

    def total(self, kind: str, owner: str, state: str | None = None) -> int:
        return sum(k[3] for k in self.journal.elements() if k[0] == kind and k[5] == owner and k[9] == state)


def _check_contract(expected: Expected, stored: dict, eid: uuid.UUID, c: Contract, cid: str, prov: str,
                    case: Case) -> None:
    """One contract's months as stored, against the domain; adds its journal rows to ``expected``."""
    drawn = c
    c, released_months = _after_termination(c, case)
    _label(drawn, c, released_months, case)
    for line in _lines(c, case.month):
        row = stored[(eid, line.month)]
        have = (row["state"], row["posted_kopecks"], row["released_kopecks"], row["family_invoiced_kopecks"])
        reserve = _reserve_id(eid, line.month)
        if line.month in released_months:  # voided at the termination, not closed
            assert have == ("released", 0, line.certificate, 0), (c, row)
            expected.reserve(eid, cid, line.month, line.certificate, "voided")
            expected.move("release", eid, line.month, line.certificate, ("certificate_reserved", cid),
                          ("certificate_available", cid), reserve)
        elif line.month == case.month and c.status in IN_FORCE:
            planned, attended, posted, released, invoiced = _expected_close(c, case)
            assert (*have, row["planned_lessons"], row["attended_lessons"]) == (
                "closed", posted, released, invoiced, planned, attended), (c, row)
            expected.closed += 1
            expected.reserve(eid, cid, line.month, line.certificate, "posted" if posted else "voided")
            expected.move("post", eid, line.month, posted, ("certificate_reserved", cid),
                          ("certificate_spent", cid), reserve)
            expected.move("release", eid, line.month, released, ("certificate_reserved", cid),
                          ("certificate_available", cid), reserve)
            expected.move("invoice_family", eid, line.month, invoiced, ("family_receivable", str(eid)),
                          ("provider_copayment", prov))
            expected.posted[(prov, c.payer)] += posted
            if line.certificate > 0:
                count, amount = expected.finals.get((prov, c.payer), (0, 0))
                expected.finals[(prov, c.payer)] = (count + 1, amount + posted)
        else:  # a hold never confirmed, or a later month: untouched, its reservation still pending
            assert (*have, row["attended_lessons"]) == ("reserved", 0, 0, 0, None), (c, row)
            expected.reserve(eid, cid, line.month, line.certificate, "pending")


def _label(drawn: Contract, c: Contract, released_months: frozenset[dt.date], case: Case) -> None:
    """What the example covers (``--hypothesis-show-statistics``)."""
    if drawn.terminate_on is not None:
        kept = "released" if case.month in released_months else "kept"
        event(f"terminated now: {drawn.status} -> {c.status}, this month {kept}")
    if len(set(c.weekdays)) < len(c.weekdays):
        event("a weekday twice")
    first, last = max(case.month, c.start), min(month_end(case.month), c.end)
    if any(first <= day <= last for day in calendar.days_off(case.month.year, case.region_days_off)):
        event("a day off within the contract's days")
    if c.mode == "attendance" and c.status in IN_FORCE and case.month not in released_months:
        planned, attended = _expected_close(c, case)[:2]
        event("attendance: nothing planned" if planned == 0 else
              "attendance: more attended than planned" if attended > planned else "attendance: some planned")


# --- the property ---------------------------------------------------------------------------------

async def _journal(h: Harness, seeded: Seeded) -> Counter:
    rows = await h.rows(
        "SELECT kind, enrolment_id, month, amount, debit_kind, debit_owner, credit_kind, credit_owner, pending_id, "
        "pending_state FROM transfers WHERE enrolment_id = ANY(:e)", e=seeded.enrolments)
    return Counter(tuple(r.values()) for r in rows)


async def _check_balances(h: Harness, pid: uuid.UUID, seeded: Seeded, expected: Expected) -> None:
    """Per certificate nominal = available + reserved + spent, spent and reserved as the journal
    says; the provider and family accounts hold the month's posts and invoices."""
    balances = {r["certificate_id"]: r for r in await h.rows(
        "SELECT certificate_id, nominal, available, reserved, spent FROM certificate_balances "
        "WHERE period_id = :p AND certificate_id = ANY(:c)", p=pid, c=seeded.certificates)}
    for cid in seeded.certificates:
        spent, reserved = expected.total("post", str(cid)), expected.total("reserve", str(cid), "pending")
        nominal = seeded.nominal[cid]
        have = balances.get(cid, {"nominal": 0, "available": 0, "reserved": 0, "spent": 0})
        assert (have["nominal"], have["available"], have["reserved"], have["spent"]) == (
            nominal, nominal - reserved - spent, reserved, spent), cid
        assert have["nominal"] == have["available"] + have["reserved"] + have["spent"]
    accounts = {(r["kind"], r["owner"]): r["balance"] for r in await h.rows(
        "SELECT kind, owner, balance FROM accounts WHERE period_id = :p AND owner = ANY(:o)", p=pid,
        o=[str(x) for x in (*seeded.providers, *seeded.enrolments)])}
    want: Counter = Counter()
    for k in expected.journal.elements():
        if k[0] == "invoice_family":
            want[("family_receivable", k[5])] -= k[3]
            want[("provider_copayment", k[7])] += k[3]
    for (prov, _payer), amount in expected.posted.items():
        want[("provider_payable", prov)] += amount
    assert {k: v for k, v in accounts.items() if v} == {k: v for k, v in want.items() if v}


@given(case=cases())
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
async def test_month_close_posts_exactly_what_the_domain_says(h: Harness, period_id: uuid.UUID, case: Case) -> None:
    month = case.month
    # small chunks put chunk boundaries between the example's contracts (settings refuse them in production)
    billing = Billing(h.app.state.runtime, h.settings.model_copy(
        update={"month_close_chunk": case.chunk, "region_days_off": list(case.region_days_off)}))
    seeded = await _seed(h, period_id, case)
    try:
        await _terminate(h, billing, seeded, case)
        result = await month_close.close_month(billing, month)

        stored = {(r["enrolment_id"], r["month"]): r for r in await h.rows(
            "SELECT enrolment_id, month, state, planned_lessons, attended_lessons, posted_kopecks, released_kopecks, "
            "family_invoiced_kopecks FROM contract_months WHERE enrolment_id = ANY(:e)", e=seeded.enrolments)}
        expected = Expected()
        for eid, c in zip(seeded.enrolments, case.contracts, strict=True):
            _check_contract(expected, stored, eid, c, str(seeded.certificates[c.certificate]),
                            str(seeded.providers[c.provider]), case)
        assert (result.status, result.closed_now) == ("done", expected.closed)

        # the journal: exactly the domain's transfers; each pending reservation resolved once (one
        # post and/or one release, together the reserved amount); the mirror sums the posts
        assert await _journal(h, seeded) == expected.journal
        mirrors = await h.rows(
            "SELECT credit_owner AS provider, debit_owner AS payer, sum(amount)::bigint AS amount FROM transfers "
            "WHERE kind = 'post_mirror' AND month = :m AND credit_owner = ANY(:p) GROUP BY 1, 2",
            m=month, p=[str(p) for p in seeded.providers])
        assert {(r["provider"], r["payer"]): r["amount"] for r in mirrors} == {
            k: v for k, v in expected.posted.items() if v}
        await _check_balances(h, period_id, seeded, expected)
        # each provider's final payment order of the month per payer: what its contract-months of
        # that payer posted (no advance was paid, nothing carried in)
        finals = await h.rows(
            "SELECT provider_id, payer_code, contract_count, base_kopecks, amount_kopecks FROM payment_orders "
            "WHERE month = :m AND kind = 'final' AND provider_id = ANY(:p)", m=month, p=seeded.providers)
        have = {(str(r["provider_id"]), r["payer_code"]): (r["contract_count"], r["base_kopecks"], r["amount_kopecks"])
                for r in finals}
        assert have == {prov: (count, amount, amount) for prov, (count, amount) in expected.finals.items()}

        # a resumed close (the month reopened after a crash) finds nothing left to do
        async with h.db.transaction() as s:
            await s.execute(text("UPDATE month_closes SET status = 'running' WHERE month = :m"), {"m": month})
        again = await month_close.close_month(billing, month)
        assert again.closed_now == 0
        assert await _journal(h, seeded) == expected.journal
    finally:
        await _retire(h, seeded)
