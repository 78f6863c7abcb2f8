"""Find every error code the source can raise, by reading it (``ast``), so a test can prove the
catalogue complete.

What counts as raising a code:

- ``ProblemError(status, "code", ...)`` (or ``code="..."``) and ``not_found(...)`` (``not_found``);
- a call of a domain error class (``DomainError`` and every class that derives from one, found by
  following class bases across the scanned files) with the code as its first argument;
- a ``code = "..."`` class attribute of such a class (billing's errors name their code so);
- an item ``{"code": "..."}`` in a dict literal (per-field reasons in ``errors`` lists);
- a code a function named ``*_error`` returns (``return "scale_out_of_range"``);
- an f-string code such as ``f"{kind}_format"`` is a *pattern*: at least one catalogue code must
  match it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_ROOT_ERRORS = {"DomainError", "BaseDomainError", "BillingDomainError"}


@dataclass(frozen=True)
class Found:
    code: str  # a literal code, or a regular expression for a pattern
    where: str  # path:line
    pattern: bool = False
    status: int | None = None  # the literal status of a ProblemError(...)


@dataclass
class Scan:
    codes: list[Found] = field(default_factory=list)

    @property
    def literals(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for f in self.codes:
            if not f.pattern:
                out.setdefault(f.code, []).append(f.where)
        return out

    @property
    def patterns(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for f in self.codes:
            if f.pattern:
                out.setdefault(f.code, []).append(f.where)
        return out


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _code_of(node: ast.expr | None) -> tuple[str, bool] | None:
    """A literal code, or a pattern for an f-string; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _CODE.match(node.value):
        return node.value, False
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(re.escape(value.value))
            else:
                parts.append("[a-z0-9_]+")
        regex = "".join(parts)
        if re.fullmatch(r"[a-z0-9_\\\[\]+-]+", regex) and "_" in regex:
            return "^" + regex + "$", True
    return None


def _first_parameter(node: ast.ClassDef) -> str | None:
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__init__":
            params = [a.arg for a in stmt.args.args[1:]]
            return params[0] if params else ""
    return None


def _error_classes(trees: Iterable[ast.Module]) -> tuple[set[str], set[str]]:
    """Names of the domain error classes, and of those whose every definition takes something else
    than the code first (``IllegalTransition(entity, ...)``, billing's ``Error(message, ...)``)."""
    bases: dict[str, set[str]] = {}
    firsts: dict[str, set[str | None]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(n for n in map(_name, node.bases) if n)
                firsts.setdefault(node.name, set()).add(_first_parameter(node))
    errors = set(_ROOT_ERRORS)
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in errors and parents & errors:
                errors.add(name)
                changed = True

    def takes_code(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in seen:
            return True
        if name not in firsts:
            return name in _ROOT_ERRORS and name != "BillingDomainError"
        for first in firsts[name]:
            if first == "code":
                return True
            if first is None and any(takes_code(b, seen | {name}) for b in bases.get(name, ()) if b in errors):
                return True
        return False

    return errors, {name for name in errors if not takes_code(name)}


def scan(files: Iterable[Path], root: Path | None = None) -> Scan:
    parsed: list[tuple[Path, ast.Module]] = []
    for path in sorted(files):
        parsed.append((path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))))
    errors, with_code = _error_classes(tree for _, tree in parsed)
    result = Scan()

    def add(found: tuple[str, bool] | None, path: Path, node: ast.AST, status: int | None = None) -> None:
        if found is not None:
            shown = path.relative_to(root) if root else path
            result.codes.append(Found(found[0], f"{shown}:{getattr(node, 'lineno', 0)}", found[1], status))

    for path, tree in parsed:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _name(node.func)
                keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
                if name == "ProblemError":
                    first = node.args[0] if node.args else None
                    status = first.value if isinstance(first, ast.Constant) and isinstance(first.value, int) else None
                    add(_code_of(keyword or (node.args[1] if len(node.args) > 1 else None)), path, node, status)
                elif name == "not_found":
                    add(("not_found", False), path, node)
                elif name in errors and (keyword is not None or name not in with_code):
                    add(_code_of(keyword or (node.args[0] if node.args else None)), path, node)
            elif isinstance(node, ast.ClassDef) and node.name in errors:
                for stmt in node.body:
                    if isinstance(stmt, ast.Assign) and any(_name(t) == "code" for t in stmt.targets):
                        add(_code_of(stmt.value), path, stmt)
                    elif isinstance(stmt, ast.AnnAssign) and _name(stmt.target) == "code":
                        add(_code_of(stmt.value), path, stmt)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.endswith("_error"):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Return):
                        add(_code_of(inner.value), path, inner)
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "code":
                        add(_code_of(value), path, node)
    return result


def source_files(roots: Iterable[Path]) -> list[Path]:
    """The Python sources under the given ``src`` folders (demo data and tests are not raise sites)."""
    files: list[Path] = []
    for root in roots:
        files.extend(p for p in root.rglob("*.py") if "demo" not in p.parts)
    return files
