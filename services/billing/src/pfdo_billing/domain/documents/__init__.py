"""Billing's documents: the monthly invoice per payer with its appendix, the advance request,
the act; pure builders from the facts in ``facts``."""

from pfdo_billing.domain.documents.act import act_document
from pfdo_billing.domain.documents.advance_request import advance_request_document
from pfdo_billing.domain.documents.invoice import invoice_document

__all__ = ["act_document", "advance_request_document", "invoice_document"]
