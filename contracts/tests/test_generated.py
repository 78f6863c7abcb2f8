"""Committed generated files are up to date: schemas (the drift check), catalogue, AsyncAPI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pfdo_contracts import asyncapi, catalogue, schema_tools
from pfdo_contracts.registry import all_events
from pfdo_contracts.topics import ALL_TOPICS, SERVICES


def test_committed_schemas_match_the_models() -> None:
    """The drift check: run the export and commit when this fails."""
    assert schema_tools.check(schema_tools.SCHEMAS_DIR) == []


def test_export_is_deterministic(tmp_path: Path) -> None:
    schema_tools.export(tmp_path)
    assert schema_tools.export(tmp_path) == []
    for path in tmp_path.iterdir():
        text = path.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        assert text == schema_tools.render(json.loads(text))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, check=False)


def test_cli_check_passes_on_the_committed_schemas() -> None:
    result = _run("pfdo_contracts.schemas", "check")
    assert result.returncode == 0, result.stderr


def test_cli_check_fails_naming_the_drifted_file(tmp_path: Path) -> None:
    directory = tmp_path / "schemas"
    shutil.copytree(schema_tools.SCHEMAS_DIR, directory)
    target = directory / "pfdo.billing.charge.posted.v1.json"
    schema = json.loads(target.read_text(encoding="utf-8"))
    schema["properties"]["certificate_kopecks"]["type"] = "number"
    target.write_text(schema_tools.render(schema), encoding="utf-8")
    (directory / "pfdo.registry.certificate.closed.v1.json").unlink()

    result = _run("pfdo_contracts.schemas", "check", "--dir", str(directory))
    assert result.returncode == 1
    assert f"{target}: differs from its model" in result.stderr
    assert "pfdo.registry.certificate.closed.v1.json: missing" in result.stderr


def test_cli_check_against_a_baseline_refuses_in_place_breaking_edits(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline"
    shutil.copytree(schema_tools.SCHEMAS_DIR, baseline)
    target = baseline / "pfdo.navigator.enrolment.ended.v1.json"
    schema = json.loads(target.read_text(encoding="utf-8"))
    schema["properties"]["legacy_field"] = {"type": "string", "description": "Published, then dropped."}
    target.write_text(schema_tools.render(schema), encoding="utf-8")

    result = _run("pfdo_contracts.schemas", "check", "--baseline", str(baseline))
    assert result.returncode == 1
    assert "pfdo.navigator.enrolment.ended.v1.json: edited incompatibly since the baseline" in result.stderr
    assert "$.legacy_field: field removed" in result.stderr


def test_every_event_version_has_a_schema_file() -> None:
    names = {p.name for p in schema_tools.SCHEMAS_DIR.glob("*.json")}
    for cls in all_events().values():
        assert f"{cls.event_type}.v{cls.event_version}.json" in names
    assert schema_tools.ENVELOPE_FILE in names


def test_catalogue_is_up_to_date() -> None:
    assert not catalogue.is_stale(), "regenerate the catalogue: python -m pfdo_contracts.catalogue"


def test_catalogue_lists_every_topic_and_event() -> None:
    text = catalogue.CATALOGUE_PATH.read_text(encoding="utf-8")
    for topic in ALL_TOPICS:
        assert f"`{topic.name}`" in text
    for cls in all_events().values():
        assert f"`{cls.versioned_type()}`" in text


def test_asyncapi_documents_are_up_to_date() -> None:
    assert asyncapi.stale() == [], "regenerate: python -m pfdo_contracts.asyncapi"


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_document_is_consistent(service: str) -> None:
    doc = yaml.safe_load(asyncapi.path_for(service).read_text(encoding="utf-8"))
    assert doc["asyncapi"] == "3.0.0"
    for ref in _refs(doc):
        _resolve(doc, ref)
    sends = {op["channel"]["$ref"].split("/")[-1] for op in doc["operations"].values() if op["action"] == "send"}
    receives = {op["channel"]["$ref"].split("/")[-1] for op in doc["operations"].values() if op["action"] == "receive"}
    assert sends == {t.name for t in ALL_TOPICS if t.producer == service}
    assert receives == {t.name for t in ALL_TOPICS if service in t.consumers}
    for channel in doc["channels"].values():
        for message_ref in channel["messages"].values():
            message = _resolve(doc, message_ref["$ref"])
            assert message["payload"]["allOf"][1]["properties"]["type"]["const"] == message["name"]


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_examples_validate_against_their_payload_schema(service: str) -> None:
    import jsonschema

    doc = yaml.safe_load(asyncapi.path_for(service).read_text(encoding="utf-8"))
    for message_id, message in doc["components"]["messages"].items():
        validator = jsonschema.Draft202012Validator(
            {"$ref": f"#/components/messages/{message_id}/payload", "components": doc["components"]}
        )
        for example in message["examples"]:
            validator.validate(example["payload"])
