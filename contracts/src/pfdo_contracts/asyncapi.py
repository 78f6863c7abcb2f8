"""AsyncAPI 3.0 documents, one per service: ``python -m pfdo_contracts.asyncapi [service ...] [--check]``.

Channels are the topics the service sends to or receives from (from :mod:`pfdo_contracts.topics`),
messages are the event types on them (payload: the CloudEvents envelope whose ``data`` is the
event's schema). Written to ``asyncapi/<service>.yaml`` as JSON, which is valid YAML, so the
output is deterministic without a YAML library.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from .envelope import Envelope, Event, wrap
from .examples import example, has_example
from .registry import all_events
from .schema_tools import CONTRACTS_DIR
from .topics import ALL_TOPICS, SERVICES, Topic, consumer_group

ASYNCAPI_DIR = CONTRACTS_DIR / "asyncapi"
KAFKA_BINDING = "0.5.0"
_EXAMPLE_TIME = dt.datetime(2025, 10, 1, 9, 0, tzinfo=dt.UTC)

KAFKA_PROTOCOL_VERSION = "4.1"
SERVERS: dict[str, dict[str, str]] = {
    "local": {
        "host": "127.0.0.1:9092",
        "description": "Kafka локального стенда (make up): один узел KRaft на этой машине.",
    },
    "compose": {
        "host": "kafka:9092",
        "description": "Kafka в docker compose: адрес внутри сети compose; с машины-хоста — localhost:9094.",
    },
    "kubernetes": {
        "host": "pfdo-kafka-kafka-bootstrap:9092",
        "description": "Кластер Kafka в Kubernetes (Strimzi, три брокера): bootstrap-сервис внутри пространства имён pfdo.",
    },
}
"""The Kafka bootstrap of each way of running the platform (deploy/local, docker-compose.yml, deploy/k8s)."""


def servers() -> dict[str, Any]:
    return {
        name: {"host": server["host"], "protocol": "kafka", "protocolVersion": KAFKA_PROTOCOL_VERSION,
               "description": server["description"]}
        for name, server in SERVERS.items()
    }


def _events_on(topic: Topic) -> list[type[Event]]:
    return [cls for cls in all_events().values() if cls.topic == topic.name]


def _message_id(cls: type[Event]) -> str:
    return cls.versioned_type()


def _example_envelope(cls: type[Event], service: str) -> dict[str, Any]:
    envelope = wrap(
        example(cls),
        source=f"pfdo/{service}",
        correlation_id="example-correlation",
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-example-event:{cls.versioned_type()}"),
        time=_EXAMPLE_TIME,
    )
    return envelope.model_dump(mode="json")


def document(service: str) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of one service."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {SERVICES}")
    sends = [t for t in ALL_TOPICS if t.producer == service]
    receives = [t for t in ALL_TOPICS if service in t.consumers]
    topics = [t for t in ALL_TOPICS if t in sends or t in receives]
    models = [cls for t in topics for cls in _events_on(t)]
    refs, defs = models_json_schema(
        [(Envelope, "validation")] + [(cls, "validation") for cls in models],
        ref_template="#/components/schemas/{model}",
    )
    schemas = defs.get("$defs", {})
    envelope_ref = refs[(Envelope, "validation")]["$ref"]

    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for topic in topics:
        channel_messages = {}
        for cls in _events_on(topic):
            mid = _message_id(cls)
            channel_messages[mid] = {"$ref": f"#/components/messages/{mid}"}
            message: dict[str, Any] = {
                "name": mid,
                "title": cls.__name__,
                "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else mid,
                "contentType": "application/cloudevents+json",
                "correlationId": {"location": "$message.payload#/correlationid"},
                "headers": {
                    "type": "object",
                    "properties": {
                        "ce_type": {"type": "string", "const": mid},
                        "ce_id": {"type": "string", "format": "uuid"},
                    },
                },
                "payload": {
                    "allOf": [
                        {"$ref": envelope_ref},
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": mid},
                                "data": refs[(cls, "validation")],
                            },
                        },
                    ]
                },
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": f"The event's {cls.key_field}."},
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            }
            if cls.key_note:
                message["description"] = f"Partition key: {cls.key_field}. {cls.key_note}"
            if has_example(cls):
                message["examples"] = [{"name": "example", "payload": _example_envelope(cls, topic.producer)}]
            messages[mid] = message
        channels[topic.name] = {
            "address": topic.name,
            "description": topic.description,
            "messages": channel_messages,
            "bindings": {
                "kafka": {
                    "topic": topic.name,
                    "partitions": topic.partitions,
                    "replicas": topic.replication_factor,
                    "topicConfiguration": {
                        "retention.ms": topic.retention_ms,
                        "min.insync.replicas": topic.min_insync_replicas,
                    },
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }

    operations: dict[str, Any] = {}
    for action, group in (("send", sends), ("receive", receives)):
        for topic in group:
            operation: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{topic.name}"},
                "messages": [
                    {"$ref": f"#/channels/{topic.name}/messages/{_message_id(cls)}"} for cls in _events_on(topic)
                ],
            }
            if action == "receive":
                operation["bindings"] = {
                    "kafka": {
                        "groupId": {"type": "string", "enum": [consumer_group(service)]},
                        "bindingVersion": KAFKA_BINDING,
                    }
                }
            operations[f"{action}.{topic.name}"] = operation

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"PFDO {service}",
            "version": "1.0.0",
            "description": (
                f"Events the {service} service sends and receives. Generated from the contracts "
                "package; do not edit by hand."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "servers": servers(),
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_for(service: str, directory: Path = ASYNCAPI_DIR) -> Path:
    return directory / f"{service}.yaml"


def stale(services: tuple[str, ...] = SERVICES, directory: Path = ASYNCAPI_DIR) -> list[Path]:
    """Documents that are missing or differ from what the contracts generate."""
    out = []
    for service in services:
        path = path_for(service, directory)
        if not path.exists() or path.read_text(encoding="utf-8") != render(document(service)):
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pfdo_contracts.asyncapi", description=__doc__)
    parser.add_argument("services", nargs="*", metavar="service", help=f"any of {', '.join(SERVICES)}; default: all")
    parser.add_argument("--dir", type=Path, default=ASYNCAPI_DIR)
    parser.add_argument("--check", action="store_true", help="fail if a committed document is out of date")
    args = parser.parse_args(argv)
    unknown = [s for s in args.services if s not in SERVICES]
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    services = tuple(args.services) or SERVICES
    if args.check:
        out_of_date = stale(services, args.dir)
        for path in out_of_date:
            print(f"error: {path} is out of date; regenerate it", file=sys.stderr)
        return 1 if out_of_date else 0
    args.dir.mkdir(parents=True, exist_ok=True)
    for service in services:
        path = path_for(service, args.dir)
        path.write_text(render(document(service)), encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
