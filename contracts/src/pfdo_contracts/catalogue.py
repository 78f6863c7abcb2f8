"""The event catalogue, ``CATALOGUE.md``: ``python -m pfdo_contracts.catalogue [--check]``.

Every topic (key, producer, consumers, finance-facing flag) and every event type and version on
it with its partition key and fields. Generated: a test fails when the committed file is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .envelope import Event
from .registry import all_events
from .schema_tools import CONTRACTS_DIR, schema_file_name
from .topics import ALL_TOPICS, consumer_group

CATALOGUE_PATH = CONTRACTS_DIR / "CATALOGUE.md"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _fields(cls: type[Event]) -> str:
    parts = []
    for name, info in cls.model_fields.items():
        mark = "" if info.is_required() else "?"
        parts.append(f"`{name}{mark}`")
    return ", ".join(parts)


def render() -> str:
    events = all_events().values()
    lines = [
        "# Event catalogue",
        "",
        "Generated from the contracts package (`python -m pfdo_contracts.catalogue`); do not edit by hand.",
        "Every message is a CloudEvents envelope (`schemas/envelope.json`) whose `data` is the event;",
        "the Kafka key is the value of the event's key field. `?` marks an optional field.",
        "Finance-facing topics are read by treasury and accounting and carry no personal data.",
        "",
        "## Topics",
        "",
        "| topic | key | producer | consumers (group) | finance-facing | partitions | dead letters |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in ALL_TOPICS:
        consumers = ", ".join(f"{c} (`{consumer_group(c)}`)" for c in t.consumers) or "—"
        if t.external_readers:
            consumers += "; external: " + ", ".join(t.external_readers)
        lines.append(
            f"| `{t.name}` | `{t.key}` | {t.producer} | {consumers} | "
            f"{'yes' if t.finance_facing else 'no'} | {t.partitions} | `{t.dead_letter}` |"
        )
    for t in ALL_TOPICS:
        lines += ["", f"## `{t.name}`", "", _cell(t.description), ""]
        lines += ["| event type | version | key | schema | summary |", "| --- | --- | --- | --- | --- |"]
        on_topic = [cls for cls in events if cls.topic == t.name]
        for cls in on_topic:
            key = f"`{cls.key_field}`" + (f" ({_cell(cls.key_note)})" if cls.key_note else "")
            summary = _cell((cls.__doc__ or "").strip().split("\n\n")[0])
            lines.append(
                f"| `{cls.event_type}` | {cls.event_version} | {key} | `schemas/{schema_file_name(cls)}` | {summary} |"
            )
        lines.append("")
        for cls in on_topic:
            lines.append(f"- `{cls.versioned_type()}`: {_fields(cls)}")
    return "\n".join(lines) + "\n"


def is_stale(path: Path = CATALOGUE_PATH) -> bool:
    return not path.exists() or path.read_text(encoding="utf-8") != render()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pfdo_contracts.catalogue", description=__doc__)
    parser.add_argument("--path", type=Path, default=CATALOGUE_PATH)
    parser.add_argument("--check", action="store_true", help="fail if the committed catalogue is stale")
    args = parser.parse_args(argv)
    if args.check:
        if is_stale(args.path):
            print(f"error: {args.path} is out of date; regenerate it", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(render(), encoding="utf-8")
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
