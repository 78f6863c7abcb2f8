"""The npm part of the workspace (``web/``): the documentation assets the services serve
(swagger-ui-dist, redoc) and the TypeScript toolchain (openapi-typescript, typescript), at the
exact versions of ``web/package-lock.json``.

    python -m pfdo_devstack.web      # npm ci when node_modules does not match the lock (bootstrap)

Node.js 20+ with npm must be on the machine (the packages' engines; the newest majors of some
want Node 22, so the lock pins versions that run on 20).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .config import repo_root
from .proc import StackError, say

NODE_MAJOR = 20
INSTALL_HINT = (
    f"install Node.js {NODE_MAJOR}+ with npm (Debian 13: apt-get install nodejs npm; Debian 12: the Node.js "
    f"{NODE_MAJOR}.x packages of the NodeSource repository or the official binaries), then run make bootstrap"
)


def web_dir() -> Path:
    return repo_root() / "web"


def node_modules() -> Path:
    return web_dir() / "node_modules"


def _stamp() -> Path:
    return node_modules() / ".pfdo-lock-sha256"


def _lock_digest() -> str:
    return hashlib.sha256((web_dir() / "package-lock.json").read_bytes()).hexdigest()


def node_version() -> int | None:
    node = shutil.which("node")
    if not node:
        return None
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def check_node() -> str:
    """The node executable; raises with what to install when Node.js 20+ or npm is missing."""
    major = node_version()
    if major is None or shutil.which("npm") is None:
        raise StackError(f"Node.js or npm not found: {INSTALL_HINT}")
    if major < NODE_MAJOR:
        raise StackError(f"Node.js {major} is too old: {INSTALL_HINT}")
    return str(shutil.which("node"))


def installed() -> bool:
    """node_modules was installed by ``npm ci`` from the current lock file."""
    return _stamp().is_file() and _stamp().read_text().strip() == _lock_digest()


def ensure() -> None:
    """``npm ci`` in web/ unless node_modules already matches the lock (a few milliseconds then)."""
    check_node()
    if installed():
        return
    say("npm ci in web/ (documentation assets and the TypeScript toolchain)")
    proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], cwd=web_dir(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise StackError(f"npm ci in {web_dir()} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    _stamp().write_text(_lock_digest() + "\n")


def tool(name: str) -> list[str]:
    """The command line that runs an npm package's executable from web/node_modules/.bin."""
    check_node()
    path = node_modules() / ".bin" / name
    if not path.exists():
        raise StackError(f"{path} is missing: run make bootstrap (npm ci in web/)")
    return [str(path)]


if __name__ == "__main__":
    try:
        ensure()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"web packages ready in {node_modules()}")
