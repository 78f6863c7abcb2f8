"""Every registered event: round trip, keys, descriptions, and no personal data where forbidden."""

from __future__ import annotations

import re
import uuid
from typing import Any

import jsonschema
import pytest

from pfdo_contracts.envelope import Envelope, Event, wrap
from pfdo_contracts.examples import example
from pfdo_contracts.registry import UnknownEventType, all_events, decode, latest_versions, model_for
from pfdo_contracts.schema_tools import event_schema
from pfdo_contracts.topics import ALL_TOPICS, CERTIFICATES, EXTERNAL_PRODUCERS, PROGRAMS, SERVICES, by_name

EVENTS = list(all_events().values())
IDS = [cls.versioned_type() for cls in EVENTS]


def test_every_service_module_registers_events() -> None:
    producers = {cls.event_type.split(".")[1] for cls in EVENTS}
    assert producers == {*SERVICES, *EXTERNAL_PRODUCERS}
    versions: dict[str, list[int]] = {}
    for cls in EVENTS:
        versions.setdefault(cls.event_type, []).append(cls.event_version)
    for event_type, found in versions.items():
        assert sorted(found) == list(range(1, max(found) + 1)), f"{event_type}: version gap {found}"
    assert set(latest_versions()) == {cls.event_type for cls in EVENTS}


def test_every_topic_carries_events() -> None:
    assert {t.name for t in ALL_TOPICS} == {cls.topic for cls in EVENTS}


@pytest.mark.parametrize("cls", EVENTS, ids=IDS)
def test_round_trip_through_the_envelope(cls: type[Event]) -> None:
    event = example(cls)
    correlation = str(uuid.uuid4())
    envelope = wrap(event, source=f"pfdo/{cls.event_type.split('.')[1]}", correlation_id=correlation)
    wire = envelope.model_dump_json()
    received = Envelope.model_validate_json(wire)
    assert received == envelope
    assert received.type == cls.versioned_type()
    assert received.base_type == cls.event_type and received.version == cls.event_version
    assert received.subject == event.partition_key()
    decoded = decode(received)
    assert type(decoded) is cls
    assert decoded == event


@pytest.mark.parametrize("cls", EVENTS, ids=IDS)
def test_example_payload_validates_against_the_exported_schema(cls: type[Event]) -> None:
    schema = event_schema(cls)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(example(cls).model_dump(mode="json"))


def test_unknown_type_is_refused() -> None:
    with pytest.raises(UnknownEventType):
        model_for("pfdo.registry.certificate.issued.v99")


def test_readers_ignore_unknown_fields() -> None:
    cls = model_for("pfdo.registry.certificate.expired.v1")
    data = example(cls).model_dump(mode="json") | {"added_in_a_later_version": 1}
    assert cls.model_validate(data) == example(cls)


@pytest.mark.parametrize("cls", EVENTS, ids=IDS)
def test_partition_key_is_a_required_field_and_the_topic_key_or_documented(cls: type[Event]) -> None:
    topic = by_name(cls.topic)
    assert cls.key_field in cls.model_fields and cls.model_fields[cls.key_field].is_required()
    assert cls.event_type.startswith(f"pfdo.{topic.producer}.")
    if cls.key_field != topic.key:
        assert cls.key_note, f"{cls.versioned_type()} is keyed by {cls.key_field}: document why"
    schema = event_schema(cls)
    assert cls.key_field in schema["required"]
    assert schema["x-pfdo"]["key"] == cls.key_field


def _walk_properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every (property name, property schema) in the schema, nested definitions included."""
    found = []
    objects = [schema, *schema.get("$defs", {}).values()]
    for obj in objects:
        for name, prop in obj.get("properties", {}).items():
            found.append((name, prop))
    return found


@pytest.mark.parametrize("cls", EVENTS, ids=IDS)
def test_every_field_has_a_description(cls: type[Event]) -> None:
    schema = event_schema(cls)
    assert schema.get("description"), f"{cls.__name__} needs a docstring"
    missing = [name for name, prop in _walk_properties(schema) if not prop.get("description")]
    assert not missing, f"{cls.versioned_type()}: fields without description: {missing}"


# --- personal data ------------------------------------------------------------------------

_NEVER = {"name", "surname", "firstname", "lastname", "patronymic", "fio", "snils", "phone", "email", "passport"}
_BIRTH = {"birth", "birthday", "birthdate", "dob"}
_ADDRESS = {"address"}
_NEVER_INSIDE = ("name", "snils", "patronymic", "phone", "email", "birth")


def personal_fields(schema: dict[str, Any], *, finance_facing: bool, topic: str) -> list[str]:
    """Property names that look like personal data under the rules of the topic.

    Anywhere: no names, no СНИЛС, no contacts. Birth dates only on the certificates topic;
    addresses only on the programs topic (a venue). On finance-facing topics: none of them.
    """
    hits = []
    for name, _ in _walk_properties(schema):
        lowered = name.lower()
        tokens = set(re.split(r"[_\W]+", lowered))
        forbidden = set(_NEVER)
        if finance_facing or topic != CERTIFICATES.name:
            forbidden |= _BIRTH
        if finance_facing or topic != PROGRAMS.name:
            forbidden |= _ADDRESS
        inside = [w for w in _NEVER_INSIDE if w in lowered and (w != "birth" or "birth" in forbidden)]
        if tokens & forbidden or (finance_facing and inside) or any(w in lowered for w in ("snils", "patronymic")):
            hits.append(name)
    return hits


@pytest.mark.parametrize("cls", EVENTS, ids=IDS)
def test_no_personal_data_where_forbidden(cls: type[Event]) -> None:
    topic = by_name(cls.topic)
    hits = personal_fields(event_schema(cls), finance_facing=topic.finance_facing, topic=topic.name)
    assert not hits, f"{cls.versioned_type()} on {topic.name} carries personal-looking fields {hits}"


def test_finance_facing_topics_carry_no_personal_data_at_all() -> None:
    for cls in EVENTS:
        if by_name(cls.topic).finance_facing:
            names = " ".join(name for name, _ in _walk_properties(event_schema(cls))).lower()
            for word in ("name", "birth", "snils", "address", "phone", "email", "parent"):
                assert word not in names, f"{cls.versioned_type()} mentions {word!r}"


def test_the_scanner_catches_planted_personal_fields() -> None:
    planted = {
        "properties": {"amount_kopecks": {}, "child_birth_date": {}},
        "$defs": {"Payer": {"properties": {"parent_surname": {}, "SNILS": {}, "venue_address": {}}}},
    }
    assert personal_fields(planted, finance_facing=True, topic="x") == [
        "child_birth_date", "parent_surname", "SNILS", "venue_address",
    ]
    assert personal_fields(planted, finance_facing=False, topic=PROGRAMS.name) == [
        "child_birth_date", "parent_surname", "SNILS",
    ]
    assert personal_fields(planted, finance_facing=False, topic=CERTIFICATES.name) == [
        "parent_surname", "SNILS", "venue_address",
    ]


def test_birth_date_travels_only_on_certificate_issue() -> None:
    carriers = [
        cls.versioned_type() for cls in EVENTS
        if any("birth" in name for name, _ in _walk_properties(event_schema(cls)))
    ]
    assert carriers == ["pfdo.registry.certificate.issued.v1"]
