"""The committed OpenAPI documents (contracts/openapi/<service>.json) are what the services serve:
each is compared with the document of the app its composition root builds. When this fails,
run `make openapi` and commit (the TypeScript types are regenerated with them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pfdo_devstack.apidocs import build_service_app, openapi_path, render_json
from pfdo_devstack.config import SERVICES, repo_root


@pytest.mark.parametrize("service", SERVICES)
def test_committed_openapi_document_is_the_services(service: str) -> None:
    committed = openapi_path(service)
    assert committed.is_file(), f"{committed} is missing: run make openapi"
    built = render_json(build_service_app(service).openapi())
    if committed.read_text(encoding="utf-8") != built:
        old, new = json.loads(committed.read_text(encoding="utf-8")), json.loads(built)
        changed = sorted(set(old["paths"]) ^ set(new["paths"])) or [
            p for p in new["paths"] if old["paths"].get(p) != new["paths"][p]] or ["components/info"]
        pytest.fail(f"{committed.relative_to(repo_root())} differs from the {service} service "
                    f"(first differences: {changed[:5]}); run make openapi and commit")


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PFDO_REPO_ROOT=str(root))
    return subprocess.run([sys.executable, "-m", "pfdo_devstack.apidocs", "--check", "openapi"],
                          capture_output=True, text=True, env=env, timeout=300)


def test_check_command_names_a_drifted_document(tmp_path: Path) -> None:
    """The drift check fails on a document one operation off, and on a missing one."""
    directory = tmp_path / "contracts" / "openapi"
    directory.mkdir(parents=True)
    for service in SERVICES:  # what make openapi writes, whatever is committed now
        openapi_path(service, directory).write_text(render_json(build_service_app(service).openapi()), encoding="utf-8")
    drifted = directory / "navigator.json"
    doc = json.loads(drifted.read_text(encoding="utf-8"))
    doc["paths"].pop(next(iter(doc["paths"])))
    drifted.write_text(render_json(doc), encoding="utf-8")
    (directory / "ratings.json").unlink()

    result = _check(tmp_path)
    assert result.returncode == 1, result.stderr
    assert f"{drifted}: differs" in result.stderr
    assert f"{directory / 'ratings.json'}: missing" in result.stderr
    assert "registry.json" not in result.stderr and "billing.json" not in result.stderr
