"""The certificate state machine: every legal and illegal transition, application rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from pfdo_registry.domain import certificate as cert_sm
from pfdo_registry.domain.certificate import (
    ApplicantRole,
    Certificate,
    CertificateStatus,
    CloseReason,
    DuplicateReason,
    UsageKind,
)
from pfdo_registry.domain.errors import (
    AgeNotAllowed,
    DuplicateCertificate,
    IllegalTransition,
    InvalidCertificateNumber,
    InvalidIdentifier,
    RuleViolation,
)

ON = date(2025, 9, 1)
BORN = date(2015, 3, 10)  # 10 years old on ON
S = CertificateStatus


def application(**overrides) -> Certificate:
    args = dict(
        certificate_id="c-1",
        child_id="child-1",
        snils="112-233-445 95",
        birth_date=BORN,
        municipality_code="01",
        applicant_role=ApplicantRole.PARENT,
        on_date=ON,
    )
    args.update(overrides)
    result = cert_sm.apply(**args)
    assert result.event == "certificate.requested"
    return result.state


def in_status(status: CertificateStatus) -> Certificate:
    return replace(application(), status=status, number="4801000001")


# --- application ------------------------------------------------------------------------------


class TestApply:
    def test_pending_with_normalised_snils(self) -> None:
        cert = application()
        assert cert.status is S.PENDING
        assert cert.snils == "11223344595"
        assert cert.usage is UsageKind.ACCOUNTING
        assert cert.number is None
        assert cert.valid_until == date(2033, 3, 9)

    def test_invalid_snils(self) -> None:
        with pytest.raises(InvalidIdentifier) as info:
            application(snils="112-233-445 96")
        assert info.value.code == "snils_checksum"

    @pytest.mark.parametrize(
        ("born", "code"),
        [(date(2020, 9, 2), "age_too_young"), (date(2007, 9, 1), "age_too_old")],
    )
    def test_age_window(self, born: date, code: str) -> None:
        with pytest.raises(AgeNotAllowed) as info:
            application(birth_date=born)
        assert info.value.code == code

    def test_child_of_14_may_apply_alone(self) -> None:
        cert = application(birth_date=date(2011, 9, 1), applicant_role=ApplicantRole.CHILD)
        assert cert.applicant_role is ApplicantRole.CHILD

    def test_child_of_13_may_not_apply_alone(self) -> None:
        with pytest.raises(AgeNotAllowed) as info:
            application(birth_date=date(2011, 9, 2), applicant_role=ApplicantRole.CHILD)
        assert info.value.code == "applicant_too_young"

    def test_guardian_applies_for_a_young_child(self) -> None:
        cert = application(birth_date=date(2020, 9, 1), applicant_role=ApplicantRole.GUARDIAN)
        assert cert.status is S.PENDING

    @pytest.mark.parametrize(("existing", "reason"), [
        ([S.REFUSED, S.PENDING], DuplicateReason.PENDING_APPLICATION),
        ([S.PENDING, S.ACTIVE], DuplicateReason.CERTIFICATE_EXISTS),
        ([S.SUSPENDED], DuplicateReason.CERTIFICATE_EXISTS),
        ([S.REFUSED, S.EXPIRED, S.CLOSED], None),
        ([], None),
    ])
    def test_an_application_for_a_known_snils_is_flagged_not_refused(self, existing: list[CertificateStatus],
                                                                      reason: DuplicateReason | None) -> None:
        assert application().status is S.PENDING  # apply itself never looks at other applications
        assert cert_sm.duplicate_reason(existing) is reason

    @pytest.mark.parametrize("existing", [S.ACTIVE, S.SUSPENDED])
    def test_a_second_live_certificate_is_never_issued(self, existing: CertificateStatus) -> None:
        with pytest.raises(DuplicateCertificate) as info:
            cert_sm.check_not_duplicate([S.REFUSED, existing])
        assert info.value.code == "certificate_duplicate"

    @pytest.mark.parametrize("existing", [S.PENDING, S.REFUSED, S.EXPIRED, S.CLOSED])
    def test_other_applications_and_final_certificates_do_not_block_issuing(self, existing: CertificateStatus) -> None:
        cert_sm.check_not_duplicate([existing])

    def test_bad_municipality_code(self) -> None:
        with pytest.raises(RuleViolation) as info:
            application(municipality_code="1")
        assert info.value.code == "municipality_code_invalid"


# --- the transition table ---------------------------------------------------------------------

# action -> (statuses it is allowed from, resulting status, event)
TABLE = {
    "issue": ({S.PENDING}, S.ACTIVE, "certificate.issued"),
    "refuse": ({S.PENDING}, S.REFUSED, "certificate.refused"),
    "suspend": ({S.ACTIVE}, S.SUSPENDED, "certificate.suspended"),
    "reinstate": ({S.SUSPENDED}, S.ACTIVE, "certificate.reinstated"),
    "expire": ({S.ACTIVE, S.SUSPENDED}, S.EXPIRED, "certificate.expired"),
    "close": ({S.ACTIVE, S.SUSPENDED}, S.CLOSED, "certificate.closed"),
    "start_funding": ({S.ACTIVE}, S.ACTIVE, "certificate.funding_started"),
}

AT_18 = date(2033, 3, 10)


def run(action: str, cert: Certificate):
    if action == "issue":
        return cert_sm.issue(cert, number="4801000001", on_date=ON)
    if action == "refuse":
        return cert_sm.refuse(cert, reason="documents incomplete")
    if action == "suspend":
        return cert_sm.suspend(cert, reason="checking the address")
    if action == "reinstate":
        return cert_sm.reinstate(cert)
    if action == "expire":
        return cert_sm.expire(cert, on_date=AT_18)
    if action == "close":
        return cert_sm.close(cert, reason=CloseReason.LEFT_REGION, on_date=ON)
    if action == "start_funding":
        return cert_sm.start_funding(cert)
    raise AssertionError(action)


CASES = [(action, status) for action in TABLE for status in CertificateStatus]


@pytest.mark.parametrize(("action", "status"), CASES)
def test_transition_table(action: str, status: CertificateStatus) -> None:
    allowed, target, event = TABLE[action]
    cert = in_status(status)
    if status in allowed:
        result = run(action, cert)
        assert result.state.status is target
        assert result.event == event
        assert cert.status is status  # the input is not modified
    else:
        with pytest.raises(IllegalTransition) as info:
            run(action, cert)
        assert info.value.code == "illegal_transition"
        assert info.value.from_state == status.value
        assert info.value.action == action


# --- details of each move ---------------------------------------------------------------------


class TestMoves:
    def test_issue_assigns_number_and_date(self) -> None:
        result = cert_sm.issue(application(), number="48-01-000042", on_date=ON)
        assert result.state.number == "4801000042"
        assert result.state.issued_on == ON

    def test_issue_number_of_another_municipality(self) -> None:
        with pytest.raises(RuleViolation) as info:
            cert_sm.issue(application(), number="4802000001", on_date=ON)
        assert info.value.code == "certificate_number_mismatch"

    def test_issue_malformed_number(self) -> None:
        with pytest.raises(InvalidCertificateNumber):
            cert_sm.issue(application(), number="48010001", on_date=ON)

    def test_issue_after_the_child_turned_18(self) -> None:
        cert = application(birth_date=date(2007, 9, 2))  # 17 on ON, 18 the next day
        with pytest.raises(AgeNotAllowed) as info:
            cert_sm.issue(cert, number="4801000001", on_date=date(2025, 9, 2))
        assert info.value.code == "age_too_old"

    @pytest.mark.parametrize("reason", ["", "   ", None])
    def test_refuse_and_suspend_need_a_reason(self, reason) -> None:
        with pytest.raises(RuleViolation) as info:
            cert_sm.refuse(application(), reason=reason)
        assert info.value.code == "reason_required"
        with pytest.raises(RuleViolation):
            cert_sm.suspend(in_status(S.ACTIVE), reason=reason)

    def test_suspend_then_reinstate_clears_the_reason(self) -> None:
        suspended = cert_sm.suspend(in_status(S.ACTIVE), reason=" check ").state
        assert suspended.status_reason == "check"
        assert cert_sm.reinstate(suspended).state.status_reason is None

    def test_expire_before_the_18th_birthday(self) -> None:
        with pytest.raises(RuleViolation) as info:
            cert_sm.expire(in_status(S.ACTIVE), on_date=date(2033, 3, 9))
        assert info.value.code == "expiry_not_due"

    def test_expire_on_the_18th_birthday(self) -> None:
        result = cert_sm.expire(in_status(S.SUSPENDED), on_date=AT_18)
        assert result.state.ended_on == AT_18

    def test_due_for_expiry(self) -> None:
        assert not cert_sm.is_due_for_expiry(in_status(S.ACTIVE), date(2033, 3, 9))
        assert cert_sm.is_due_for_expiry(in_status(S.ACTIVE), AT_18)
        assert cert_sm.is_due_for_expiry(in_status(S.SUSPENDED), AT_18)
        assert not cert_sm.is_due_for_expiry(in_status(S.CLOSED), AT_18)
        assert not cert_sm.is_due_for_expiry(in_status(S.PENDING), AT_18)

    @pytest.mark.parametrize(
        "reason", [CloseReason.LEFT_REGION, CloseReason.DUPLICATE, "duplicate"]
    )
    def test_close_reasons(self, reason) -> None:
        result = cert_sm.close(in_status(S.ACTIVE), reason=reason, on_date=ON)
        assert result.state.close_reason is CloseReason(reason)
        assert result.state.ended_on == ON
        assert result.state.is_final

    def test_close_other_needs_a_note(self) -> None:
        with pytest.raises(RuleViolation) as info:
            cert_sm.close(in_status(S.ACTIVE), reason=CloseReason.OTHER, on_date=ON)
        assert info.value.code == "reason_required"
        result = cert_sm.close(
            in_status(S.ACTIVE), reason=CloseReason.OTHER, on_date=ON, note="court decision"
        )
        assert result.state.status_reason == "court decision"

    def test_close_unknown_reason(self) -> None:
        with pytest.raises(ValueError):
            cert_sm.close(in_status(S.ACTIVE), reason="moved", on_date=ON)  # type: ignore[arg-type]

    def test_funding_once(self) -> None:
        funding = cert_sm.start_funding(in_status(S.ACTIVE)).state
        assert funding.usage is UsageKind.FUNDING
        with pytest.raises(RuleViolation) as info:
            cert_sm.start_funding(funding)
        assert info.value.code == "already_funding"

    def test_funding_survives_suspension(self) -> None:
        funding = cert_sm.start_funding(in_status(S.ACTIVE)).state
        back = cert_sm.reinstate(cert_sm.suspend(funding, reason="check").state).state
        assert back.usage is UsageKind.FUNDING

    def test_full_life(self) -> None:
        cert = application()
        cert = cert_sm.issue(cert, number="4801000007", on_date=ON).state
        cert = cert_sm.start_funding(cert).state
        cert = cert_sm.suspend(cert, reason="check").state
        cert = cert_sm.reinstate(cert).state
        cert = cert_sm.expire(cert, on_date=AT_18).state
        assert cert.status is S.EXPIRED
        assert (cert.usage, cert.number) == (UsageKind.FUNDING, "4801000007")
