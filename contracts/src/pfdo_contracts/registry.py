"""The catalogue of event types: every event model of :mod:`pfdo_contracts.events`, looked up by
type and version (the models register with :func:`pfdo_contracts.registration.event`)."""

from __future__ import annotations

from . import events  # noqa: F401  (importing the events modules registers every model)
from .envelope import Envelope, Event
from .registration import registered


class UnknownEventType(LookupError):
    """The envelope names a type/version no model is registered for."""


def all_events() -> dict[str, type[Event]]:
    """Every registered event model, by versioned type."""
    return dict(sorted(registered().items()))


def model_for(versioned_type: str) -> type[Event]:
    model = registered().get(versioned_type)
    if model is None:
        raise UnknownEventType(versioned_type)
    return model


def latest_versions() -> dict[str, type[Event]]:
    """The newest registered version of every event type, by unversioned type."""
    newest: dict[str, type[Event]] = {}
    for cls in all_events().values():
        if cls.event_type not in newest or cls.event_version > newest[cls.event_type].event_version:
            newest[cls.event_type] = cls
    return newest


def decode(envelope: Envelope) -> Event:
    """Validate an envelope's data against the model of its type and version."""
    return model_for(envelope.type).model_validate(envelope.data)
