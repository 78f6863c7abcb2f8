"""Only a service's ``api`` package speaks HTTP: its use cases (``service``), its rules (``domain``)
and its adapters raise domain errors (``pfdo_plumbing.domain_error``) and never import the web
framework, plumbing's HTTP package or their own ``api``. The answer a domain error gets (status,
Russian and English text) is the error catalogue's, applied by the problem+json handlers of the app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("service", "domain", "adapters")
FORBIDDEN = ("pfdo_plumbing.http", "fastapi", "starlette")
# transport-free modules of plumbing that domain code imports
PLUMBING_DOMAIN = (ROOT / "plumbing" / "src" / "pfdo_plumbing" / "domain_error.py",)


def layer_modules() -> list[Path]:
    files = [
        path
        for package in sorted((ROOT / "services").glob("*/src/*"))
        for layer in LAYERS
        for path in sorted((package / layer).rglob("*.py"))
    ]
    return [*files, *PLUMBING_DOMAIN]


def forbidden_imports(path: Path) -> list[str]:
    """``line: module`` of every import of the web framework, plumbing's HTTP package or the
    service's own ``api`` package (at module level or inside a function)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:  # relative: the service's own packages
            if (node.module or "").split(".")[0] == "api" or any(a.name == "api" for a in node.names if not node.module):
                found.append(f"{node.lineno}: {'.' * node.level}{node.module or 'api'}")
            continue
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        bad = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)
               or (m.startswith("pfdo_") and m.split(".")[1:2] == ["api"])]
        if bad:
            found.append(f"{node.lineno}: {bad[0]}")
    return found


def test_every_service_has_the_layers_checked() -> None:
    files = layer_modules()
    services = {p.relative_to(ROOT).parts[1] for p in files if p.is_relative_to(ROOT / "services")}
    assert services >= {"billing", "navigator", "ratings", "registry"}
    assert len(files) > 50


@pytest.mark.parametrize("path", layer_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_use_cases_rules_and_adapters_do_not_speak_http(path: Path) -> None:
    assert not forbidden_imports(path), (
        "raise a domain error (pfdo_plumbing.domain_error: DomainError, NotFound) and register its code in the "
        "service's api/error_codes.py; map to HTTP only in api/"
    )


def test_the_check_sees_each_kind_of_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "use_case.py"
    module.write_text(
        "import fastapi\n"
        "from starlette.responses import Response\n"
        "from pfdo_plumbing.http.problems import ProblemError\n"
        "from pfdo_plumbing import http\n"
        "from ..api.schemas import Out\n"
        "from pfdo_navigator.api import routes\n"
        "from pfdo_plumbing.domain_error import DomainError\n"
        "from ..domain.errors import DomainError\n"
        "def late():\n"
        "    from fastapi import HTTPException\n",
        encoding="utf-8",
    )
    assert [line.split(":")[0] for line in forbidden_imports(module)] == ["1", "2", "3", "4", "5", "6", "10"]
