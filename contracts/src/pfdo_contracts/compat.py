"""Backward compatibility of two JSON Schemas of one event type, defined by us.

BACKWARD means: a reader built on the new schema v(N) can read every message written with the
old schema v(N-1). It is checked on the JSON Schemas themselves (``$ref`` into ``$defs``
resolved), not on Python classes, so a hand edit of a committed schema is caught as well.

The rules, applied to the root object and recursively to nested objects and array items:

1. A field of v(N-1) must still exist in v(N). Removing a field is BREAKING for us, although a
   reader that ignores it could cope: consumers running older code depend on every field they
   were promised, and a removal is how a silent data loss starts. Deprecate, never remove.
2. A field present in both must keep its type: the same JSON type, the same nested structure,
   the same formats and patterns. Retyping breaks. Allowed widenings, which every old value
   still satisfies: an enum (or const) gains values; a union gains variants (``X`` becomes
   ``X | None``); a bound is relaxed (``minimum``/``minLength``/``minItems`` lowered or dropped,
   ``maximum``/``maxLength``/``maxItems`` raised or dropped, a ``pattern`` or ``format`` dropped).
3. A field required in v(N) must have been required in v(N-1) (old data always carries it).
4. A field added in v(N) must be optional and carry an explicit ``default`` in the schema
   (a Pydantic ``default_factory`` does not show in the schema and is therefore refused).
5. Annotations never matter: ``title``, ``description``, ``examples``, ``default`` (except for
   rule 4), ``$comment``, ``deprecated`` and any ``x-`` keyword.

:func:`backward_problems` returns the list of violations (empty = compatible).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_ANNOTATIONS = {"title", "description", "examples", "default", "$comment", "deprecated", "readOnly", "writeOnly"}
_STRUCTURAL = {"properties", "required", "items", "$defs", "definitions", "anyOf", "oneOf", "enum", "const", "$ref"}
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_DROPPABLE = ("pattern", "format")


def backward_problems(old: Schema, new: Schema) -> list[str]:
    """Violations of BACKWARD compatibility when ``new`` replaces ``old`` (empty list = ok)."""
    return _Comparison(old, new).run()


def is_backward_compatible(old: Schema, new: Schema) -> bool:
    return not backward_problems(old, new)


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems: list[str] = []
        self._visiting: set[tuple[str, str]] = set()

    def run(self) -> list[str]:
        self.compare(self.old_root, self.new_root, "$")
        return self.problems

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _resolve(schema: Schema, root: Schema) -> tuple[Schema, str]:
        """Follow ``$ref`` chains; sibling keywords of a ``$ref`` are kept (2020-12 semantics)."""
        ref_name = ""
        seen: set[str] = set()
        while "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/") or ref in seen:
                raise ValueError(f"unsupported or cyclic $ref {ref!r}")
            seen.add(ref)
            ref_name = ref
            target: Any = root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **siblings}
        return schema, ref_name

    @staticmethod
    def _variants(schema: Schema) -> list[Schema]:
        for key in ("anyOf", "oneOf"):
            if key in schema:
                rest = {k: v for k, v in schema.items() if k != key and k not in _ANNOTATIONS}
                return [{**rest, **variant} for variant in schema[key]]
        if isinstance(schema.get("type"), list):
            return [{**schema, "type": t} for t in schema["type"]]
        return [schema]

    @staticmethod
    def _core(schema: Schema) -> Schema:
        return {
            k: v for k, v in schema.items()
            if k not in _ANNOTATIONS and k not in _STRUCTURAL and not k.startswith("x-")
        }

    @staticmethod
    def _describe(schema: Schema) -> str:
        if "enum" in schema or "const" in schema:
            return f"enum {schema.get('enum', [schema.get('const')])}"
        if "type" in schema:
            return str(schema["type"])
        if "anyOf" in schema or "oneOf" in schema:
            return "union"
        return "any"

    def _fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def _quiet(self, old: Schema, new: Schema, path: str) -> bool:
        """Compare without recording problems; True if compatible."""
        saved = self.problems
        self.problems = []
        self.compare(old, new, path)
        ok = not self.problems
        self.problems = saved
        return ok

    # -- comparison ------------------------------------------------------------------------

    def compare(self, old: Schema, new: Schema, path: str) -> None:
        old, old_ref = self._resolve(old, self.old_root)
        new, new_ref = self._resolve(new, self.new_root)
        if old_ref and new_ref:
            pair = (old_ref, new_ref)
            if pair in self._visiting:  # recursive schema: assume compatible (co-inductively)
                return
            self._visiting.add(pair)
            try:
                self._compare_resolved(old, new, path)
            finally:
                self._visiting.discard(pair)
        else:
            self._compare_resolved(old, new, path)

    def _compare_resolved(self, old: Schema, new: Schema, path: str) -> None:
        old_variants, new_variants = self._variants(old), self._variants(new)
        if len(old_variants) > 1 or len(new_variants) > 1:
            for variant in old_variants:
                variant, _ = self._resolve(variant, self.old_root)
                if not any(self._quiet(variant, candidate, path) for candidate in new_variants):
                    self._fail(path, f"type changed: old variant {self._describe(variant)} is no longer accepted")
            return
        if old.get("type") == "object" or new.get("type") == "object" or "properties" in old or "properties" in new:
            self._compare_objects(old, new, path)
        elif old.get("type") == "array" or new.get("type") == "array":
            if old.get("type") != new.get("type"):
                self._fail(path, f"type changed: {self._describe(old)} -> {self._describe(new)}")
                return
            self.compare(old.get("items", {}), new.get("items", {}), f"{path}[]")
        elif any(k in old or k in new for k in ("enum", "const")):
            self._compare_enums(old, new, path)
        elif old.get("type") != new.get("type"):
            self._fail(path, f"type changed: {self._describe(old)} -> {self._describe(new)}")
            return
        self._compare_keywords(old, new, path)

    def _compare_enums(self, old: Schema, new: Schema, path: str) -> None:
        if not any(k in new for k in ("enum", "const")):
            # an open reader type accepts the old values if the base type matches
            if old.get("type") != new.get("type"):
                self._fail(path, f"type changed: {self._describe(old)} -> {self._describe(new)}")
            return
        if not any(k in old for k in ("enum", "const")):
            self._fail(path, f"type narrowed: {self._describe(old)} -> {self._describe(new)}")
            return
        old_values = old["enum"] if "enum" in old else [old["const"]]
        new_values = new["enum"] if "enum" in new else [new["const"]]
        missing = [v for v in old_values if v not in new_values]
        if missing:
            self._fail(path, f"enum values removed: {missing}")

    def _compare_objects(self, old: Schema, new: Schema, path: str) -> None:
        if old.get("type") != new.get("type"):
            self._fail(path, f"type changed: {self._describe(old)} -> {self._describe(new)}")
            return
        old_props: Schema = old.get("properties", {})
        new_props: Schema = new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, old_field in sorted(old_props.items()):
            field_path = f"{path}.{name}"
            if name not in new_props:
                self._fail(field_path, "field removed (removal is breaking: deprecate instead)")
                continue
            self.compare(old_field, new_props[name], field_path)
            if name in new_required and name not in old_required:
                self._fail(field_path, "field became required (old data may lack it)")
        for name, new_field in sorted(new_props.items()):
            if name in old_props:
                continue
            field_path = f"{path}.{name}"
            if name in new_required:
                self._fail(field_path, "new required field (old data lacks it): add it as optional with a default")
            elif "default" not in self._resolve(new_field, self.new_root)[0] and "default" not in new_field:
                self._fail(field_path, "new optional field without an explicit default in the schema")
        for name in sorted(new_required - set(new_props)):
            if name not in old_required:
                self._fail(f"{path}.{name}", "new required field (old data lacks it)")
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if new_extra is False and old_extra is not False:
            self._fail(path, "object closed (additionalProperties: false): old data may carry other fields")
        elif isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.compare(old_extra, new_extra, f"{path}.*")
        elif isinstance(new_extra, dict) and old_extra is not False:
            self._fail(path, "additionalProperties constrained")

    def _compare_keywords(self, old: Schema, new: Schema, path: str) -> None:
        old_core, new_core = self._core(old), self._core(new)
        if old.get("type") == "object":
            old_core.pop("additionalProperties", None)
            new_core.pop("additionalProperties", None)
        for key in sorted(set(old_core) | set(new_core)):
            before, after = old_core.get(key), new_core.get(key)
            if before == after or key == "type":
                continue
            if key in _LOWER_BOUNDS and (after is None or (before is not None and after <= before)):
                continue
            if key in _UPPER_BOUNDS and (after is None or (before is not None and after >= before)):
                continue
            if key in _DROPPABLE and after is None:
                continue
            self._fail(path, f"constraint {key} changed: {before!r} -> {after!r}")
