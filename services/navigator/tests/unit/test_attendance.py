"""The attendance journal (DESIGN §2 "Attendance")."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pfdo_navigator.domain.attendance import (
    ContractPeriod,
    Group,
    Mark,
    MarkKind,
    MarkRejection,
    MarkStatus,
    attended_count,
    counts_as_attended,
    planned_lesson_count,
    planned_lessons,
    validate_marks,
)
from pfdo_navigator.domain.dates import YearMonth

P, A, E = MarkStatus.PRESENT, MarkStatus.ABSENT, MarkStatus.EXCUSED
MON_WED = frozenset({1, 3})
GROUPS = {
    "g1": Group("g1", "prov1", MON_WED),
    "g2": Group("g2", "prov1", frozenset({6})),
    "gx": Group("gx", "prov2", MON_WED),
}
CONTRACTS = {
    "e1": ContractPeriod("e1", "g1", date(2025, 9, 1), date(2026, 5, 31)),
    "e2": ContractPeriod("e2", "g1", date(2025, 9, 15), date(2025, 10, 31)),  # terminated
    "e3": ContractPeriod("e3", "gx", date(2025, 9, 1), date(2026, 5, 31)),
}
TODAY = date(2025, 10, 10)  # a Friday
MON = date(2025, 10, 6)


def run(marks, **kw):  # type: ignore[no-untyped-def]
    args = dict(provider_id="prov1", groups=GROUPS, contracts=CONTRACTS, today=TODAY, closed_months={YearMonth(2025, 8)})
    args.update(kw)
    return validate_marks(marks, **args)


def test_valid_marks_are_recorded() -> None:
    r = run([Mark("e1", "g1", MON, P), Mark("e2", "g1", MON, E), Mark("e1", "g1", date(2025, 10, 8), A)])
    assert r.rejected == []
    assert [a.kind for a in r.accepted] == [MarkKind.RECORDED] * 3
    assert [a.index for a in r.accepted] == [0, 1, 2]


def test_each_rejection_reason() -> None:
    marks = [
        Mark("e3", "gx", MON, P),  # another provider's group
        Mark("e1", "nope", MON, P),  # unknown group
        Mark("e2", "g1", date(2025, 9, 8), P),  # before e2 started
        Mark("e9", "g1", MON, P),  # unknown enrolment
        Mark("e1", "g2", date(2025, 10, 4), P),  # own group, but the child is not in it
        Mark("e1", "g1", date(2025, 10, 13), P),  # future
        Mark("e1", "g1", date(2025, 9, 29), P),  # month closed (see closed_months)
        Mark("e1", "g1", date(2025, 10, 7), P),  # a Tuesday
    ]
    r = run(marks, closed_months={YearMonth(2025, 9)})
    assert r.accepted == []
    assert [x.reason for x in r.rejected] == [
        MarkRejection.FOREIGN_GROUP,
        MarkRejection.FOREIGN_GROUP,
        MarkRejection.NOT_ENROLLED_ON_DATE,
        MarkRejection.NOT_ENROLLED_ON_DATE,
        MarkRejection.NOT_ENROLLED_ON_DATE,
        MarkRejection.FUTURE_DATE,
        MarkRejection.MONTH_CLOSED,
        MarkRejection.NOT_A_LESSON_DAY,
    ]
    assert [x.index for x in r.rejected] == list(range(8))


def test_after_termination_the_child_cannot_be_marked() -> None:
    r = run([Mark("e2", "g1", date(2025, 11, 3), P)], today=date(2025, 11, 5))
    assert r.rejected[0].reason is MarkRejection.NOT_ENROLLED_ON_DATE


def test_today_is_not_future_and_schedule_can_be_relaxed() -> None:
    wed = date(2025, 10, 8)
    assert run([Mark("e1", "g1", wed, P)], today=wed).rejected == []
    tue = date(2025, 10, 7)
    assert run([Mark("e1", "g1", tue, P)], enforce_schedule=False).rejected == []


def test_identical_duplicates_keep_the_first() -> None:
    r = run([Mark("e1", "g1", MON, P), Mark("e2", "g1", MON, A), Mark("e1", "g1", MON, P)])
    assert [a.index for a in r.accepted] == [0, 1]
    assert [(x.index, x.reason) for x in r.rejected] == [(2, MarkRejection.DUPLICATE_MARK)]


def test_conflicting_duplicates_are_all_rejected() -> None:
    r = run([Mark("e1", "g1", MON, P), Mark("e1", "g1", MON, A)])
    assert r.accepted == []
    assert [(x.index, x.reason) for x in r.rejected] == [(0, MarkRejection.DUPLICATE_MARK), (1, MarkRejection.DUPLICATE_MARK)]


def test_corrections_until_month_closed() -> None:
    existing = {("e1", MON): A, ("e1", date(2025, 10, 1)): P}
    r = run([Mark("e1", "g1", MON, P), Mark("e1", "g1", date(2025, 10, 1), P)], existing=existing)
    assert [(a.kind, a.previous) for a in r.accepted] == [(MarkKind.CORRECTED, A), (MarkKind.UNCHANGED, P)]
    assert [a.index for a in r.changed] == [0]
    closed = run([Mark("e1", "g1", MON, P)], existing=existing, closed_months={YearMonth(2025, 10)})
    assert closed.rejected[0].reason is MarkRejection.MONTH_CLOSED


def test_attended_counts_only_present() -> None:
    assert counts_as_attended(P) and not counts_as_attended(E) and not counts_as_attended(A)
    assert attended_count([P, A, E, P]) == 2


def test_planned_lessons_month_and_contract_bounds() -> None:
    oct25 = YearMonth(2025, 10)
    full = planned_lessons(oct25, MON_WED, date(2025, 9, 1), date(2026, 5, 31))
    assert full[0] == date(2025, 10, 1) and full[-1] == date(2025, 10, 29)
    assert len(full) == 9  # Wednesdays 1,8,15,22,29 + Mondays 6,13,20,27
    # started mid-month, terminated at month end of another month
    assert planned_lesson_count(oct25, MON_WED, date(2025, 10, 14), date(2026, 5, 31)) == 5
    assert planned_lesson_count(oct25, MON_WED, date(2025, 9, 1), date(2025, 10, 12)) == 3  # 1, 6, 8
    assert planned_lesson_count(oct25, MON_WED, date(2025, 11, 1), date(2026, 5, 31)) == 0
    assert planned_lesson_count(oct25, MON_WED, date(2025, 9, 1), date(2026, 5, 31), excluded={date(2025, 10, 1)}) == 8


WEEKDAY_SETS = st.frozensets(st.integers(1, 7), min_size=1)


@given(WEEKDAY_SETS, st.integers(2024, 2026), st.integers(1, 12))
def test_planned_lessons_are_schedule_days_in_the_month(days: frozenset[int], year: int, month: int) -> None:
    ym = YearMonth(year, month)
    lessons = planned_lessons(ym, days, date(2000, 1, 1), date(2100, 1, 1))
    assert all(d.isoweekday() in days and YearMonth.of(d) == ym for d in lessons)
    expected = sum(1 for i in range(ym.last_day.day) if (ym.first_day + timedelta(i)).isoweekday() in days)
    assert len(lessons) == expected


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["e1", "e2", "e3", "e9"]),
            st.sampled_from(["g1", "g2", "gx"]),
            st.dates(min_value=date(2025, 8, 20), max_value=date(2025, 10, 20)),
            st.sampled_from(list(MarkStatus)),
        ),
        max_size=60,
    )
)
def test_every_mark_is_accounted_for_once(raw: list) -> None:  # type: ignore[type-arg]
    marks = [Mark(*r) for r in raw]
    result = run(marks)
    indexes = sorted([a.index for a in result.accepted] + [x.index for x in result.rejected])
    assert indexes == list(range(len(marks)))
    keys = [a.mark.key for a in result.accepted]
    assert len(keys) == len(set(keys))
    for a in result.accepted:
        assert GROUPS[a.mark.group_id].provider_id == "prov1"
        assert CONTRACTS[a.mark.enrolment_id].covers(a.mark.lesson_date)
        assert a.mark.lesson_date <= TODAY


def test_thousands_of_marks() -> None:
    contracts = {f"e{i}": ContractPeriod(f"e{i}", "g1", date(2025, 9, 1), date(2026, 5, 31)) for i in range(300)}
    days = planned_lessons(YearMonth(2025, 9), MON_WED, date(2025, 9, 1), date(2025, 9, 30))
    marks = [Mark(e, "g1", d, P) for e in contracts for d in days]
    r = run(marks, contracts=contracts)
    assert len(marks) > 2000 and len(r.accepted) == len(marks) and r.rejected == []
