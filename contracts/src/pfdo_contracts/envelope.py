"""The one event envelope: CloudEvents 1.0 attributes plus correlation and causation ids.

Every message on the bus is a JSON object in CloudEvents *structured* mode: the envelope
attributes and the event payload under ``data``. The Kafka key is the event's partition key
(see :mod:`pfdo_contracts.topics`); the headers repeat ``ce_type`` and ``ce_id`` so that
consumers can route or skip without parsing the body.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Event(BaseModel):
    """Base of every event payload.

    Subclasses are registered with :func:`pfdo_contracts.registration.event`, which sets the
    class variables below. Readers ignore unknown fields, so a producer on a newer minor
    version never breaks an older consumer.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int]
    topic: ClassVar[str]
    key_field: ClassVar[str]
    key_note: ClassVar[str | None] = None

    @classmethod
    def versioned_type(cls) -> str:
        return f"{cls.event_type}.v{cls.event_version}"

    def partition_key(self) -> str:
        """The Kafka key: the value of the key field, as a string."""
        return str(getattr(self, self.key_field))


class Envelope(BaseModel):
    """CloudEvents attributes (id, source, type, specversion, time, subject) + our extensions."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique per event; the inbox key.")
    source: str = Field(description="Producing service, e.g. 'pfdo/registry'.")
    type: str = Field(description="Versioned event type, e.g. 'pfdo.registry.certificate.issued.v1'.")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = Field(default=None, description="The aggregate the event is about.")
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str = Field(description="Id of the request or job that started the chain.")
    causationid: str | None = Field(default=None, description="Id of the event or request that caused this one.")
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time must carry a time zone (UTC)")
        return value.astimezone(UTC)

    @field_validator("type")
    @classmethod
    def _versioned(cls, value: str) -> str:
        base, _, version = value.rpartition(".v")
        if not base or not version.isdigit():
            raise ValueError("type must end with '.v<version>'")
        return value

    @property
    def base_type(self) -> str:
        return self.type.rpartition(".v")[0]

    @property
    def version(self) -> int:
        return int(self.type.rpartition(".v")[2])


def wrap(
    event: Event,
    *,
    source: str,
    correlation_id: str,
    causation_id: str | None = None,
    event_id: uuid.UUID | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Put an event payload into its envelope."""
    return Envelope(
        id=event_id or uuid.uuid4(),
        source=source,
        type=event.versioned_type(),
        time=time or datetime.now(UTC),
        subject=event.partition_key(),
        correlationid=correlation_id,
        causationid=causation_id,
        data=event.model_dump(mode="json"),
    )
