"""CustomResourceDefinitions of the operators the Kubernetes manifests use, for validation.

CloudNativePG publishes its CRDs inside its Go module (``config/crd/bases/*.yaml``): the ``go``
command downloads that module version once from the module proxy into ``<cache>/gomod`` and the
CRD files are copied to ``<cache>/crds/cloudnative-pg-<version>/``; later calls work offline.
Nothing downloaded is committed.

Strimzi publishes no CRD files to a registry this project uses (they are generated in its
build), so its resources are checked against a strict schema of the fields we use instead
(tests/deploy/test_k8s_manifests.py).

    python -m pfdo_devstack.k8s_crds     # fetch (no-op when cached), print the folder
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .config import StackConfig
from .proc import StackError, say

CNPG_MODULE = "github.com/cloudnative-pg/cloudnative-pg"
CNPG_VERSION = "v1.25.1"
CNPG_CRDS = ("postgresql.cnpg.io_clusters.yaml",)


def crds_dir(config: StackConfig | None = None) -> Path:
    config = config or StackConfig.from_env()
    return config.cache_dir / "crds" / f"cloudnative-pg-{CNPG_VERSION}"


def ensure_cnpg_crds(config: StackConfig | None = None) -> Path:
    """The folder holding the CloudNativePG CRD files, downloading the module once."""
    config = config or StackConfig.from_env()
    target = crds_dir(config)
    if all((target / name).exists() for name in CNPG_CRDS):
        return target
    go = shutil.which("go") or next((p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.access(p, os.X_OK)), None)
    if not go:
        raise StackError("the go command is needed once to fetch the CloudNativePG CRDs (apt-get install golang-go)")
    modcache = config.cache_dir / "gomod"
    modcache.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GOMODCACHE": str(modcache),
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GO111MODULE": "on",
    }
    say(f"fetching {CNPG_MODULE}@{CNPG_VERSION} (its CRDs) with go mod download ...")
    proc = subprocess.run(
        [go, "mod", "download", "-json", f"{CNPG_MODULE}@{CNPG_VERSION}"],
        capture_output=True, text=True, env=env, cwd=config.cache_dir, timeout=600,
    )
    if proc.returncode != 0:
        raise StackError(f"go mod download {CNPG_MODULE}@{CNPG_VERSION} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    module_dir = Path(json.loads(proc.stdout)["Dir"])
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in CNPG_CRDS:
        src = module_dir / "config" / "crd" / "bases" / name
        if not src.exists():
            raise StackError(f"{src} is missing in {CNPG_MODULE}@{CNPG_VERSION}")
        shutil.copyfile(src, tmp / name)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


if __name__ == "__main__":
    try:
        print(ensure_cnpg_crds())
    except StackError as exc:
        print(f"k8s_crds: {exc}", file=sys.stderr)
        sys.exit(1)
