"""PFDO event contracts: the envelope, one model per event type and version, the topics.

Pure data, and in :mod:`pfdo_contracts.rules` the few pure rules every service applies to it the
same way (a child's age on a date). Typical use::

    from pfdo_contracts import Envelope, decode, topics, wrap
    from pfdo_contracts.events.registry import CertificateIssued

    envelope = wrap(CertificateIssued(...), source="pfdo/registry", correlation_id=request_id)
    # Kafka: topic = topics.CERTIFICATES.name, key = event.partition_key(), value = envelope JSON
    event = decode(Envelope.model_validate_json(value))
"""

from .envelope import Envelope, Event, wrap
from .registration import event
from .registry import UnknownEventType, all_events, decode, latest_versions, model_for

__all__ = [
    "Envelope",
    "Event",
    "UnknownEventType",
    "all_events",
    "decode",
    "event",
    "latest_versions",
    "model_for",
    "wrap",
]
