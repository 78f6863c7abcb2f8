"""The navigator's documents: the application for enrolment, the offer with its acceptance, the
termination notice; pure builders from the facts in ``facts``."""

from pfdo_navigator.domain.documents.application import application_document
from pfdo_navigator.domain.documents.offer import offer_document
from pfdo_navigator.domain.documents.termination import termination_document, termination_effective_on

__all__ = ["application_document", "offer_document", "termination_document", "termination_effective_on"]
