"""Payment modes of a contract (docs/domain-rules.md, "Contracts and payment modes")."""

from __future__ import annotations

from enum import StrEnum

from pfdo_billing.domain.errors import InvalidPaymentMode


class PaymentMode(StrEnum):
    """How a contract's monthly instalment becomes due, for the certificate and family alike.

    - ``monthly``: the whole instalment is due every month;
    - ``attendance``: instalment × attended lessons / planned lessons of the month (rounded down).
    """

    MONTHLY = "monthly"
    ATTENDANCE = "attendance"


def as_payment_mode(value: PaymentMode | str) -> PaymentMode:
    """``value`` as a ``PaymentMode``; an unknown value raises ``InvalidPaymentMode``."""
    try:
        return PaymentMode(value)
    except ValueError:
        raise InvalidPaymentMode(
            "payment mode must be 'monthly' or 'attendance'", value=str(value)
        ) from None
