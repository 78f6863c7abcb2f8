"""The portal's labels (served by the registry) name every state the navigator's API shows."""

from pfdo_contracts.labels import LABELS

from pfdo_navigator.domain.attendance import MarkStatus
from pfdo_navigator.domain.disputes import DisputeState
from pfdo_navigator.domain.enrolment import EnrolmentState


def test_every_enrolment_dispute_and_mark_state_has_a_label() -> None:
    assert set(LABELS["enrolment_states"]) == {s.value for s in EnrolmentState}
    assert set(LABELS["dispute_states"]) == {s.value for s in DisputeState}
    assert set(LABELS["mark_statuses"]) == {s.value for s in MarkStatus}
