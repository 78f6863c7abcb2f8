"""The portal reads the platform only through the gateway's public API: no module of it imports a
service's package, the bus (Kafka clients, plumbing's Kafka, outbox, inbox and service runtime) or
the contracts' event models. Its own database (sessions) is its only storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal" / "src" / "pfdo_portal"
FORBIDDEN = (
    "pfdo_registry", "pfdo_navigator", "pfdo_billing", "pfdo_ratings", "pfdo_contracts.events",
    "aiokafka", "faststream", "pfdo_plumbing.kafka", "pfdo_plumbing.outbox", "pfdo_plumbing.inbox",
    "pfdo_plumbing.runtime",
)


def imported(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append((node.lineno, node.module))
    return found


def test_the_portal_exists() -> None:
    assert (PORTAL / "app.py").is_file() and (PORTAL / "gateway" / "client.py").is_file()


@pytest.mark.parametrize("path", sorted(PORTAL.rglob("*.py")), ids=lambda p: str(p.relative_to(PORTAL)))
def test_no_portal_module_reaches_past_the_gateway(path: Path) -> None:
    wrong = [f"{line}: {module}" for line, module in imported(path)
             if any(module == f or module.startswith(f + ".") for f in FORBIDDEN)]
    assert not wrong, f"{path.relative_to(ROOT)} imports {wrong}: the portal reads the platform through the gateway only"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from pfdo_navigator.adapters import tables\nimport aiokafka\nfrom . import gateway\n")
    assert imported(module) == [(1, "pfdo_navigator.adapters"), (2, "aiokafka")]
