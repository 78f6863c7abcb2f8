"""Numbers every service must agree on without asking each other.

The contract is made by accepting the offer, so the contract's number is the offer's document
number: the navigator prints it on the offer, billing on the invoices' appendix and the acts.
"""

from __future__ import annotations

import uuid

from pfdo_plumbing.documents.canonical import document_number

OFFER_KIND = "offer"
OFFER_PREFIX = "ДО"


def contract_number(enrolment_id: uuid.UUID | str) -> str:
    """The number of the contract (= of its offer) of an enrolment: ``ДО-3F9A-C21B-77D0``."""
    return document_number(OFFER_PREFIX, OFFER_KIND, (str(enrolment_id),))
