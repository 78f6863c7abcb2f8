"""The story clock of the journey test: moves the calendar the service processes see.

A school year cannot pass in two minutes, and the services take "today" from the wall clock
(enrolments may not start in the past, attendance may not be marked in the future, a contract
ends after its last day, a certificate expires on the 18th birthday). The journey test puts this
folder on the service processes' ``PYTHONPATH`` with ``PFDO_STORY_CLOCK_FILE`` naming a file
that holds an offset in seconds; Python imports ``sitecustomize`` at start-up, before any
service module, and this one makes ``datetime.datetime.now()`` (and ``utcnow``/``today``) answer
the real time plus that offset. Nothing else changes: ``time.time()`` and the monotonic clocks
stay real (Kafka record timestamps, timeouts, retries), the databases keep their own ``now()``,
and the services' code runs as it is. Without the environment variable this module does nothing.
"""

from __future__ import annotations

import datetime as _datetime
import os

_PATH = os.environ.get("PFDO_STORY_CLOCK_FILE")

if _PATH:
    _Real = _datetime.datetime
    _state: dict[str, object] = {"stamp": None, "offset": _datetime.timedelta(0)}

    def _offset() -> _datetime.timedelta:
        try:
            st = os.stat(_PATH)
        except OSError:
            return _datetime.timedelta(0)
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != _state["stamp"]:
            try:
                with open(_PATH, encoding="ascii") as handle:
                    text = handle.read().strip()
                _state["offset"] = _datetime.timedelta(seconds=float(text or 0))
                _state["stamp"] = stamp
            except (OSError, ValueError):
                pass
        return _state["offset"]  # type: ignore[return-value]

    class _Meta(type):
        # real datetime objects (from asyncpg, arithmetic, ...) still count as datetimes
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, _Real)

        def __subclasscheck__(cls, sub: type) -> bool:
            return issubclass(sub, _Real)

    class _StoryDatetime(_Real, metaclass=_Meta):
        __slots__ = ()  # the same object size as datetime (C extensions check it)

        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206
            return _Real.now(tz) + _offset()

        @classmethod
        def utcnow(cls):  # noqa: ANN206
            return _Real.now(_datetime.UTC).replace(tzinfo=None) + _offset()

        @classmethod
        def today(cls):  # noqa: ANN206
            return cls.now()

    _StoryDatetime.__name__ = _StoryDatetime.__qualname__ = "datetime"
    _StoryDatetime.__module__ = "datetime"
    _datetime.datetime = _StoryDatetime  # type: ignore[misc]
