"""Events written by the treasury (the region's finance system, outside the platform).

Billing consumes them: each reports the status of one of billing's payment orders. The same
report may arrive twice, and an older status after a newer one; billing keeps the furthest.
Finance-facing: ids, codes, dates and the treasury's own reference only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import Field, model_validator

from ..envelope import Event
from ..registration import event
from ..topics import TREASURY_STATUSES


class ReportedStatus(StrEnum):
    ACCEPTED = "accepted"  # the treasury took the order
    PAID = "paid"  # the money left the payer's account
    RETURNED = "returned"  # refused, with the reason


@event("pfdo.treasury.payment_order.status_reported", version=1, topic=TREASURY_STATUSES)
class PaymentStatusReported(Event):
    """The treasury's status of a payment order (accepted, paid, or returned with the reason)."""

    order_id: uuid.UUID = Field(description="Billing's payment order id.")
    status: ReportedStatus = Field(description="accepted, paid or returned.")
    status_on: dt.date = Field(description="Date of the status in the treasury.")
    treasury_reference: str | None = Field(default=None, max_length=64,
                                           description="The treasury's reference of the order.")
    reason: str | None = Field(default=None, max_length=500, description="Why the order was returned.")

    @model_validator(mode="after")
    def _reason(self) -> PaymentStatusReported:
        if self.status is ReportedStatus.RETURNED and not (self.reason or "").strip():
            raise ValueError("a returned order carries the reason")
        return self
