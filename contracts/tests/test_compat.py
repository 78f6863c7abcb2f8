"""The backward-compatibility checker, on schemas of v1/v2 models built here (never registered)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel, Field, create_model

from pfdo_contracts import schema_tools
from pfdo_contracts.compat import backward_problems, is_backward_compatible


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class ColourWider(StrEnum):
    RED = "red"
    BLUE = "blue"
    GREEN = "green"


class ColourNarrower(StrEnum):
    RED = "red"


class Line(BaseModel):
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="Month.")
    amount: int = Field(ge=0, description="Kopecks.")


class LineRetyped(BaseModel):
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="Month.")
    amount: str = Field(description="Now a string.")


class LineWithNote(BaseModel):
    month: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}$", description="Month.")
    amount: int = Field(ge=0, description="Kopecks.")
    note: str | None = Field(default=None, description="Optional note.")


class V1(BaseModel):
    thing_id: uuid.UUID = Field(description="Id.")
    amount: int = Field(ge=0, description="Kopecks.")
    on: dt.date = Field(description="Date.")
    colour: Colour = Field(description="Colour.")
    lines: list[Line] = Field(description="Lines.")
    comment: str | None = Field(default=None, description="Optional comment.")


def schema(model: type[BaseModel]) -> dict:
    return model.model_json_schema()


def v2(**changes: object) -> type[BaseModel]:
    """A v2 of V1 with some fields replaced by (annotation, Field(...)); None removes one."""
    fields: dict[str, object] = {name: (info.annotation, info) for name, info in V1.model_fields.items()}
    for name, change in changes.items():
        if change is None:
            fields.pop(name)
        else:
            fields[name] = change
    return create_model("V2", **fields)  # type: ignore[call-overload]


def test_identical_schema_is_compatible() -> None:
    assert backward_problems(schema(V1), schema(V1)) == []


def test_removed_field_is_rejected() -> None:
    problems = backward_problems(schema(V1), schema(v2(on=None)))
    assert problems == ["$.on: field removed (removal is breaking: deprecate instead)"]


def test_removed_optional_field_is_rejected_too() -> None:
    problems = backward_problems(schema(V1), schema(v2(comment=None)))
    assert any("$.comment: field removed" in p for p in problems)


def test_retyped_field_is_rejected() -> None:
    problems = backward_problems(schema(V1), schema(v2(amount=(str, Field(description="Kopecks.")))))
    assert problems and all(p.startswith("$.amount: type changed") for p in problems)


def test_new_required_field_is_rejected() -> None:
    problems = backward_problems(schema(V1), schema(v2(extra=(int, Field(description="New.")))))
    assert any("$.extra: new required field" in p for p in problems)


def test_added_optional_field_with_default_is_accepted() -> None:
    new = v2(extra=(int | None, Field(default=None, description="New, optional.")))
    assert backward_problems(schema(V1), schema(new)) == []


def test_added_optional_field_with_non_null_default_is_accepted() -> None:
    new = v2(flag=(bool, Field(default=False, description="New flag.")))
    assert is_backward_compatible(schema(V1), schema(new))


def test_added_field_with_default_factory_is_rejected() -> None:
    new = v2(tags=(list[str], Field(default_factory=list, description="No default in the schema.")))
    problems = backward_problems(schema(V1), schema(new))
    assert any("$.tags: new optional field without an explicit default" in p for p in problems)


def test_optional_field_becoming_required_is_rejected() -> None:
    new = v2(comment=(str | None, Field(description="Now required.")))
    problems = backward_problems(schema(V1), schema(new))
    assert any("$.comment: field became required" in p for p in problems)


def test_nested_retype_inside_defs_is_rejected() -> None:
    new = v2(lines=(list[LineRetyped], Field(description="Lines.")))
    problems = backward_problems(schema(V1), schema(new))
    assert any(p.startswith("$.lines[].amount: type changed") for p in problems)


def test_nested_added_optional_field_is_accepted() -> None:
    new = v2(lines=(list[LineWithNote], Field(description="Lines.")))
    assert backward_problems(schema(V1), schema(new)) == []


def test_enum_widening_is_accepted_and_narrowing_rejected() -> None:
    wider = v2(colour=(ColourWider, Field(description="Colour.")))
    narrower = v2(colour=(ColourNarrower, Field(description="Colour.")))
    assert backward_problems(schema(V1), schema(wider)) == []
    assert backward_problems(schema(V1), schema(narrower)) == ["$.colour: enum values removed: ['blue']"]


def test_making_a_field_nullable_is_accepted_but_not_the_reverse() -> None:
    nullable = v2(amount=(int | None, Field(ge=0, description="Kopecks or null.")))
    assert backward_problems(schema(V1), schema(nullable)) == []
    assert backward_problems(schema(nullable), schema(V1))  # null written by v1 unreadable by v2


def test_relaxed_bound_is_accepted_tightened_bound_rejected() -> None:
    relaxed = v2(amount=(int, Field(description="Any integer.")))
    tightened = v2(amount=(int, Field(ge=100, description="At least 100.")))
    assert backward_problems(schema(V1), schema(relaxed)) == []
    assert backward_problems(schema(V1), schema(tightened)) == ["$.amount: constraint minimum changed: 0 -> 100"]


def test_annotations_do_not_matter() -> None:
    old = schema(V1)
    new = json.loads(json.dumps(old))
    new["properties"]["amount"]["description"] = "Reworded."
    new["title"] = "Renamed"
    new["x-pfdo"] = {"anything": True}
    assert backward_problems(old, new) == []


def test_hand_edit_of_a_committed_v2_file_is_caught(tmp_path: Path) -> None:
    """check_versions works on the files, so a hand-edited v2 (removing a field) fails."""
    old = schema(V1)
    new = json.loads(json.dumps(old))
    del new["properties"]["on"]
    new["required"].remove("on")
    (tmp_path / "pfdo.test.thing.done.v1.json").write_text(schema_tools.render(old))
    (tmp_path / "pfdo.test.thing.done.v2.json").write_text(schema_tools.render(new))
    problems = schema_tools.check_versions(tmp_path)
    assert len(problems) == 1
    assert "pfdo.test.thing.done.v2.json: not backward compatible with v1: $.on: field removed" in problems[0]


def test_version_gap_is_caught(tmp_path: Path) -> None:
    (tmp_path / "pfdo.test.thing.done.v1.json").write_text(schema_tools.render(schema(V1)))
    (tmp_path / "pfdo.test.thing.done.v3.json").write_text(schema_tools.render(schema(V1)))
    assert schema_tools.check_versions(tmp_path) == [
        f"{tmp_path / 'pfdo.test.thing.done.v3.json'}: version gap, pfdo.test.thing.done.v2.json is missing"
    ]
