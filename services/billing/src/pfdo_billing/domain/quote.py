"""The quote: cost of an enrolment to the certificate and to the family (docs/domain-rules.md,
"Quote and instalments").

- cost of an enrolment from start S to module end E = price × days(S..E) / days(module),
  rounded half up; the normative cost is pro-rated the same way;
- the certificate pays min(cost, pro-rated normative cost, available balance); the family pays
  the rest (co-payment);
- both parts are split into monthly instalments from S's month to E's month (rounded down, the
  remainder on the first month), so each part's instalments add up to it exactly;
- a free municipal-task place costs nothing to the certificate nor to the family;
- the certificate's validity caps the money (see :mod:`pfdo_billing.domain.validity`): the
  enrolment is paid up to its *effective end* = min(module end, last day of the month in which
  the certificate's validity ends); cost and schedule are pro-rated over days(S..effective end)
  and the months S..effective end. A start after the certificate's last valid day is refused
  (``CertificateExpiresBeforeStart``): the certificate cannot pay for a single day of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pfdo_billing.domain.calendar import days_inclusive, months_spanned
from pfdo_billing.domain.errors import (
    CertificateExpiresBeforeStart, InvalidDateRange, StartAfterModuleEnd, StartOutsideModule,
)
from pfdo_billing.domain.money import prorate, require_kopecks, split_instalments
from pfdo_billing.domain.payment_mode import PaymentMode, as_payment_mode
from pfdo_billing.domain.validity import paid_until


@dataclass(frozen=True)
class Instalment:
    """One month of a contract's schedule: the certificate's and the family's instalments."""

    month: date
    certificate: int
    family: int


@dataclass(frozen=True)
class Quote:
    """What an enrolment costs, to whom, and month by month (all amounts in kopecks)."""

    enrol_start: date
    module_start: date
    module_end: date
    payment_mode: PaymentMode
    module_days: int
    enrolled_days: int
    cost: int
    normative_cost: int
    certificate_part: int
    family_part: int
    schedule: tuple[Instalment, ...]
    free_place: bool = False
    valid_until: date | None = None
    enrol_end: date | None = None

    @property
    def ends_on(self) -> date:
        """The last day paid: the module end, or earlier when the certificate's validity ends."""
        return self.enrol_end or self.module_end

    @property
    def ends_early_on(self) -> date | None:
        """The last day paid when the certificate's validity stops the money before the module
        ends (the end of the month in which the validity ends); None when it does not."""
        return self.ends_on if self.ends_on < self.module_end else None

    @property
    def months(self) -> list[date]:
        """The months of the schedule, each as its first day."""
        return [line.month for line in self.schedule]

    @property
    def certificate_instalments(self) -> list[int]:
        """The certificate's monthly instalments, in order."""
        return [line.certificate for line in self.schedule]

    @property
    def family_instalments(self) -> list[int]:
        """The family's monthly instalments, in order."""
        return [line.family for line in self.schedule]


def _check_dates(module_start: date, module_end: date, enrol_start: date) -> None:
    if module_end < module_start:
        raise InvalidDateRange(
            "the module ends before it starts",
            start=module_start.isoformat(),
            end=module_end.isoformat(),
        )
    if enrol_start < module_start:
        raise StartOutsideModule(
            "the enrolment cannot start before the module starts",
            enrol_start=enrol_start.isoformat(),
            module_start=module_start.isoformat(),
        )
    if enrol_start > module_end:
        raise StartAfterModuleEnd(
            "the enrolment cannot start after the module ends",
            enrol_start=enrol_start.isoformat(),
            module_end=module_end.isoformat(),
        )


def effective_end(module_end: date, enrol_start: date, valid_until: date | None) -> date:
    """The last day an enrolment from ``enrol_start`` is paid: min(module end, end of the month in
    which the certificate's validity ends).

    Why the end of the month: certificate expiry ends contracts at the end of the month in which the
    validity ends (docs/domain-rules.md, "Age and validity"), and a quote, a reservation and a
    schedule never run past that day. Validity ends the day before the 18th birthday, so for a
    birthday on the 1st the last paid month is the month before the birthday's month.

    Raises ``CertificateExpiresBeforeStart`` when ``enrol_start`` is after ``valid_until`` (the
    certificate is no longer valid on the first day; this also covers an effective end before
    the start).
    """
    if valid_until is None:
        return module_end
    if enrol_start > valid_until:
        raise CertificateExpiresBeforeStart(
            "the certificate is no longer valid on the start date",
            valid_until=valid_until.strftime("%d.%m.%Y"),
            enrol_start=enrol_start.strftime("%d.%m.%Y"),
        )
    return min(module_end, paid_until(valid_until))


def build_schedule(
    months: Sequence[date], certificate_part: int, family_part: int
) -> tuple[Instalment, ...]:
    """Split both parts over ``months`` (remainder on the first month) into schedule lines."""
    certificate = split_instalments(certificate_part, len(months))
    family = split_instalments(family_part, len(months))
    return tuple(
        Instalment(month, cert, fam)
        for month, cert, fam in zip(months, certificate, family, strict=True)
    )


def quote(
    price: int,
    normative_cost: int,
    module_start: date,
    module_end: date,
    enrol_start: date,
    available: int,
    payment_mode: PaymentMode | str,
    valid_until: date | None = None,
) -> Quote:
    """Quote an enrolment in a certificate-funded module from ``enrol_start`` to its effective end.

    The effective end is the module end, or, for a certificate valid until ``valid_until``, the
    last day of the month in which the validity ends when that comes first (see
    :func:`effective_end`): cost = price × days(S..effective end) / days(module), the same for the
    normative cost, and the schedule covers the months S..effective end only.

    Raises ``StartOutsideModule`` when the start is before the module start,
    ``StartAfterModuleEnd`` when it is after the module end, ``CertificateExpiresBeforeStart``
    when the certificate is no longer valid on the start date, ``InvalidAmount`` for a negative
    or non-integer amount.
    """
    require_kopecks(price, "price")
    require_kopecks(normative_cost, "normative_cost")
    require_kopecks(available, "available")
    mode = as_payment_mode(payment_mode)
    _check_dates(module_start, module_end, enrol_start)
    end = effective_end(module_end, enrol_start, valid_until)

    module_days = days_inclusive(module_start, module_end)
    enrolled_days = days_inclusive(enrol_start, end)
    cost = prorate(price, enrolled_days, module_days)
    normative = prorate(normative_cost, enrolled_days, module_days)
    certificate_part = min(cost, normative, available)
    family_part = cost - certificate_part
    return Quote(
        enrol_start=enrol_start,
        module_start=module_start,
        module_end=module_end,
        payment_mode=mode,
        module_days=module_days,
        enrolled_days=enrolled_days,
        cost=cost,
        normative_cost=normative,
        certificate_part=certificate_part,
        family_part=family_part,
        schedule=build_schedule(months_spanned(enrol_start, end), certificate_part, family_part),
        valid_until=valid_until,
        enrol_end=end,
    )


def free_place(
    module_start: date,
    module_end: date,
    enrol_start: date,
    payment_mode: PaymentMode | str = PaymentMode.MONTHLY,
    valid_until: date | None = None,
) -> Quote:
    """Quote an enrolment on a free municipal-task place: nothing to pay, for anyone.

    The schedule still lists the months (with zero instalments) so that attendance and month
    close handle every contract alike; like a paid place it stops at the effective end
    (:func:`effective_end`).
    """
    mode = as_payment_mode(payment_mode)
    _check_dates(module_start, module_end, enrol_start)
    end = effective_end(module_end, enrol_start, valid_until)
    return Quote(
        enrol_start=enrol_start,
        module_start=module_start,
        module_end=module_end,
        payment_mode=mode,
        module_days=days_inclusive(module_start, module_end),
        enrolled_days=days_inclusive(enrol_start, end),
        cost=0,
        normative_cost=0,
        certificate_part=0,
        family_part=0,
        schedule=build_schedule(months_spanned(enrol_start, end), 0, 0),
        free_place=True,
        valid_until=valid_until,
        enrol_end=end,
    )
