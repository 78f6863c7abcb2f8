"""Export the event models to committed JSON Schema files, and check them.

One file per event type and version, ``schemas/<type>.v<N>.json``, plus ``schemas/envelope.json``.
Output is deterministic: keys sorted, two-space indent, UTF-8, trailing newline.

``check`` reports (never fixes):

* drift: a committed file differs from its model, is missing, or has no model any more;
* a version gap: ``v(N)`` exists without ``v(N-1)``;
* a version ``N > 1`` that is not BACKWARD compatible with ``N-1``
  (rules in :mod:`pfdo_contracts.compat`), compared on the committed files;
* with a baseline directory (e.g. the schemas of the main branch): a baseline file that was
  deleted, or edited in a way that is not backward compatible with itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .compat import backward_problems
from .envelope import Envelope, Event
from .registry import all_events

CONTRACTS_DIR = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = CONTRACTS_DIR / "schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "envelope.json"
_VERSIONED = re.compile(r"^(?P<type>.+)\.v(?P<version>[0-9]+)\.json$")


def event_schema(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema of an event payload, with its registration under ``x-pfdo``."""
    schema = cls.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = schema_file_name(cls)
    meta: dict[str, Any] = {
        "type": cls.event_type,
        "version": cls.event_version,
        "topic": cls.topic,
        "key": cls.key_field,
    }
    if cls.key_note:
        meta["key_note"] = cls.key_note
    schema["x-pfdo"] = meta
    return schema


def envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema(mode="validation")
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["$id"] = ENVELOPE_FILE
    return schema


def schema_file_name(cls: type[Event]) -> str:
    return f"{cls.versioned_type()}.json"


def render(schema: dict[str, Any]) -> str:
    """Deterministic text of a schema."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """File name → content, for every registered event and the envelope."""
    files = {schema_file_name(cls): render(event_schema(cls)) for cls in all_events().values()}
    files[ENVELOPE_FILE] = render(envelope_schema())
    return dict(sorted(files.items()))


def export(directory: Path = SCHEMAS_DIR) -> list[Path]:
    """Write every schema file; returns the files whose content changed.

    Files without a model are left alone (``check`` reports them): deleting a published event
    version is a deliberate act, not a side effect of an export.
    """
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, text in expected_files().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def load_versioned(directory: Path) -> dict[str, dict[int, dict[str, Any]]]:
    """Committed event schemas: type → version → schema."""
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.json")):
        match = _VERSIONED.match(path.name)
        if match:
            schema = json.loads(path.read_text(encoding="utf-8"))
            found.setdefault(match["type"], {})[int(match["version"])] = schema
    return found


def check_drift(directory: Path = SCHEMAS_DIR) -> list[str]:
    problems = []
    expected = expected_files()
    for name, text in expected.items():
        path = directory / name
        if not path.exists():
            problems.append(f"{path}: missing; run the export and commit it")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path}: differs from its model; run the export and commit it")
    for path in sorted(directory.glob("*.json")):
        if path.name not in expected:
            problems.append(f"{path}: no model registered for this schema")
    return problems


def check_versions(directory: Path = SCHEMAS_DIR) -> list[str]:
    """Gaps and BACKWARD compatibility between consecutive committed versions."""
    problems = []
    for event_type, versions in sorted(load_versioned(directory).items()):
        for version in sorted(versions):
            if version == 1:
                continue
            new_file = directory / f"{event_type}.v{version}.json"
            if version - 1 not in versions:
                problems.append(f"{new_file}: version gap, {event_type}.v{version - 1}.json is missing")
                continue
            for problem in backward_problems(versions[version - 1], versions[version]):
                problems.append(f"{new_file}: not backward compatible with v{version - 1}: {problem}")
    return problems


def check_baseline(baseline: Path, directory: Path = SCHEMAS_DIR) -> list[str]:
    """A published schema may only change compatibly and may never disappear."""
    problems = []
    current = load_versioned(directory)
    for event_type, versions in sorted(load_versioned(baseline).items()):
        for version, old in sorted(versions.items()):
            path = directory / f"{event_type}.v{version}.json"
            new = current.get(event_type, {}).get(version)
            if new is None:
                problems.append(f"{path}: published in the baseline but deleted")
                continue
            for problem in backward_problems(old, new):
                problems.append(f"{path}: edited incompatibly since the baseline: {problem}")
    return problems


def check(directory: Path = SCHEMAS_DIR, baseline: Path | None = None) -> list[str]:
    """Every problem found; empty means the committed schemas are good."""
    problems = check_drift(directory) + check_versions(directory)
    if baseline is not None:
        problems += check_baseline(baseline, directory)
    return problems
