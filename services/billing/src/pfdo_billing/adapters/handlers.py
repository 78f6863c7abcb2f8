"""Event subscriptions of billing: each event type goes to its use case, inside the
consumer's transaction (after inbox deduplication)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import registry as g
from pfdo_contracts.events import treasury as t

from pfdo_billing.service import attendance, catalogue, parties, reservations, treasury
from pfdo_billing.service.context import Billing

_SINGLE: dict[type, Callable[..., Awaitable[Any]]] = {
    g.CertificateIssued: catalogue.certificate_issued,
    g.CertificateSuspended: catalogue.certificate_suspended,
    g.CertificateReinstated: catalogue.certificate_reinstated,
    g.CertificateExpired: catalogue.certificate_expired,
    g.CertificateClosed: catalogue.certificate_closed,
    g.ProgramCertified: catalogue.program_snapshot,
    g.ProgramChanged: catalogue.program_snapshot,
    g.ProgramArchived: catalogue.program_archived,
    n.EnrolmentRequested: reservations.enrolment_requested,
    n.EnrolmentConfirmed: reservations.enrolment_confirmed,
    n.EnrolmentDeclined: reservations.enrolment_declined,
    n.EnrolmentCancelled: reservations.enrolment_cancelled,
    n.EnrolmentExpired: reservations.enrolment_expired,
    n.EnrolmentTerminated: reservations.enrolment_terminated,
    n.EnrolmentEnded: reservations.enrolment_ended,
    n.DisputeOpened: attendance.dispute_opened,
    n.DisputeResolved: attendance.dispute_resolved,
    n.AttendanceMonthFrozen: attendance.month_frozen,
    g.ProviderRegistered: parties.provider_registered,
    g.ProviderDetailsChanged: parties.provider_details_changed,
    g.PayerDetailsChanged: parties.payer_details_changed,
    t.PaymentStatusReported: treasury.status_reported,
}


_TOGETHER = {n.EnrolmentRequested}
"""A rush of applications reaches billing as runs of requests: each run is reserved in one
transaction (each request in turn, under its own certificate's lock)."""


def register(b: Billing) -> None:
    consumer = b.runtime.consumer
    for model, use_case in _SINGLE.items():

        async def handle(session, event, envelope, _use_case=use_case) -> None:  # noqa: ANN001
            await _use_case(b, session, event, envelope)

        consumer.on(model, together=model in _TOGETHER)(handle)

    @consumer.on_batch(n.AttendanceRecorded)
    async def marks(session, batch) -> None:  # noqa: ANN001
        await attendance.attendance_recorded(b, session, batch)
