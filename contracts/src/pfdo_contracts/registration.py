"""How an event model registers: the class decorator that names it ``<event_type>.v<version>``
and the table of every registered model. Looking models up is :mod:`pfdo_contracts.registry`'s
(it imports every events module first, so this module imports none)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from .envelope import Event
from .topics import Topic, by_name

E = TypeVar("E", bound=type[Event])

_EVENTS: dict[str, type[Event]] = {}


def registered() -> Mapping[str, type[Event]]:
    """Every model registered so far, by versioned type (read-only view)."""
    return _EVENTS


def event(
    event_type: str,
    *,
    version: int,
    topic: Topic | str,
    key: str | None = None,
    key_note: str | None = None,
) -> Callable[[E], E]:
    """Class decorator: register an event model under ``<event_type>.v<version>``.

    ``key`` defaults to the topic's key field; an event keyed by another field must say why in
    ``key_note`` (it ends up in the schema and the catalogue). The type must start with
    ``pfdo.<producer of the topic>.``.
    """
    topic_obj = topic if isinstance(topic, Topic) else by_name(topic)
    key = key or topic_obj.key

    def register(cls: E) -> E:
        name = f"{cls.__name__} ({event_type}.v{version})"
        if version < 1:
            raise TypeError(f"{name}: versions start at 1")
        if not event_type.startswith(f"pfdo.{topic_obj.producer}."):
            raise TypeError(f"{name}: type must start with 'pfdo.{topic_obj.producer}.'")
        if key not in cls.model_fields:
            raise TypeError(f"{name}: partition key field {key!r} is not a field")
        if not cls.model_fields[key].is_required():
            raise TypeError(f"{name}: partition key field {key!r} must be required")
        if key != topic_obj.key and not key_note:
            raise TypeError(f"{name}: keyed by {key!r}, not the topic key {topic_obj.key!r}: add key_note")
        cls.event_type = event_type
        cls.event_version = version
        cls.topic = topic_obj.name
        cls.key_field = key
        cls.key_note = key_note
        name = cls.versioned_type()
        if name in _EVENTS and _EVENTS[name] is not cls:
            raise TypeError(f"event type {name} registered twice")
        _EVENTS[name] = cls
        return cls

    return register
