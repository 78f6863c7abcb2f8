import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.due import (
    LessonMark,
    LessonStatus,
    MonthAttendance,
    close_month,
    due_amount,
)
from pfdo_billing.domain.errors import InvalidAttendance, InvalidPaymentMode
from pfdo_billing.domain.payment_mode import PaymentMode

P, A, E = LessonStatus.PRESENT, LessonStatus.ABSENT, LessonStatus.EXCUSED


def test_worked_example_month_with_six_of_eight_lessons() -> None:
    attendance = MonthAttendance(planned=8, attended=6)
    closed = close_month(111_263, 22_252, "attendance", attendance)
    assert closed.posted == 83_447  # floor(111 263 × 6 / 8)
    assert closed.released == 27_816
    assert closed.family_invoiced == 16_689  # floor(22 252 × 6 / 8)


def test_monthly_mode_bills_the_whole_instalment() -> None:
    closed = close_month(111_263, 22_252, PaymentMode.MONTHLY)
    assert (closed.posted, closed.released, closed.family_invoiced) == (111_263, 0, 22_252)
    assert due_amount(111_263, "monthly", MonthAttendance(planned=8, attended=0)) == 111_263


def test_excused_absent_and_disputed_marks_are_not_attended() -> None:
    marks = [
        LessonMark(P),
        LessonMark(P),
        LessonMark(P, disputed=True),
        LessonMark(E),
        LessonMark(A),
        LessonMark(P),
        LessonMark(E, disputed=True),
        LessonMark(P),
    ]
    attendance = MonthAttendance.from_marks(8, marks)
    assert attendance == MonthAttendance(planned=8, attended=4)
    assert due_amount(111_263, "attendance", attendance) == 55_631  # 55 631.5 down


def test_no_planned_lessons_releases_everything() -> None:
    closed = close_month(111_263, 22_252, "attendance", MonthAttendance(0, 0))
    assert (closed.posted, closed.released, closed.family_invoiced) == (0, 111_263, 0)


def test_attendance_mode_needs_attendance() -> None:
    with pytest.raises(InvalidAttendance):
        due_amount(111_263, "attendance")
    with pytest.raises(InvalidAttendance):
        MonthAttendance(planned=-1, attended=0)
    with pytest.raises(InvalidPaymentMode):
        due_amount(111_263, "sometimes")


@given(
    st.integers(0, 10**8),
    st.integers(0, 10**7),
    st.lists(st.tuples(st.sampled_from(list(LessonStatus)), st.booleans()), max_size=30),
    st.integers(0, 30),
    st.sampled_from(list(PaymentMode)),
)
def test_month_close_splits_the_instalment(
    cert: int,
    family: int,
    raw_marks: list[tuple[LessonStatus, bool]],
    planned: int,
    mode: PaymentMode,
) -> None:
    marks = [LessonMark(status, disputed) for status, disputed in raw_marks]
    closed = close_month(cert, family, mode, MonthAttendance.from_marks(planned, marks))
    assert closed.posted + closed.released == cert
    assert 0 <= closed.posted <= cert
    assert 0 <= closed.family_invoiced <= family
