"""Checks (and on Debian as root, installs) what the local stack needs: Java 17+, Maven,
PostgreSQL server binaries, nginx and its njs module; for the tests also Node.js 20+ with npm
(checked only: the machine brings it), Debian's Chromium (the documentation pages' browser test),
poppler-utils and fonts-dejavu-core (the documents' tests)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

from .proc import StackError, say


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    packages: tuple[str, ...]
    """Debian packages to install, first available wins within each alternative ("a|b")."""


def java_version() -> int | None:
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


CHROMIUM = "/usr/bin/chromium"


def check_all(*, need_maven: bool = True, need_test_tools: bool = False) -> list[Check]:
    from .postgres import find_pg_bindir
    from .gateway import find_nginx, find_njs_module

    checks: list[Check] = []
    jv = java_version()
    checks.append(Check("java", jv is not None and jv >= 17, f"java {jv}" if jv else "not found",
                        ("openjdk-17-jre-headless|default-jre-headless",)))
    if need_maven:
        mvn = shutil.which("mvn")
        checks.append(Check("maven", mvn is not None, mvn or "not found", ("maven",)))
    try:
        checks.append(Check("postgresql", True, str(find_pg_bindir()), ("postgresql",)))
    except StackError:
        checks.append(Check("postgresql", False, "initdb/pg_ctl/postgres not found", ("postgresql",)))
    try:
        checks.append(Check("nginx", True, find_nginx(), ("nginx-light|nginx",)))
    except StackError:
        checks.append(Check("nginx", False, "not found", ("nginx-light|nginx",)))
    try:  # the gateway's per-subject rate limit reads the token's subject with njs
        checks.append(Check("nginx-njs", True, find_njs_module(), ("libnginx-mod-http-js",)))
    except StackError:
        checks.append(Check("nginx-njs", False, "ngx_http_js_module.so not found", ("libnginx-mod-http-js",)))
    if need_test_tools:
        checks.append(Check("chromium", os.access(CHROMIUM, os.X_OK), CHROMIUM if os.access(CHROMIUM, os.X_OK)
                            else "not found", ("chromium",)))
        # the document tests read the PDFs back (pdftotext) and look at their pages (pdftoppm)
        tools = [shutil.which(t) for t in ("pdftotext", "pdftoppm")]
        checks.append(Check("poppler-utils", all(tools), ", ".join(t or "not found" for t in tools),
                            ("poppler-utils",)))
        checks.append(Check("fonts-dejavu-core", _dejavu_installed(), "DejaVu Sans fonts", ("fonts-dejavu-core",)))
    return checks


def _dejavu_installed() -> bool:
    """The fonts documents are printed with (the plumbing's document engine finds them the same way)."""
    from pfdo_plumbing.documents.fonts import FontsMissing, document_fonts

    try:
        document_fonts.cache_clear()
        document_fonts()
    except FontsMissing:
        return False
    return True


def check_node() -> None:
    """Node.js 20+ with npm (the web/ packages); not installed from here: Debian 12's nodejs is 18."""
    from .web import check_node as web_check_node

    web_check_node()


def _is_debian() -> bool:
    return os.path.exists("/etc/debian_version") and shutil.which("apt-get") is not None


def _apt_candidate(pkg: str) -> bool:
    out = subprocess.run(["apt-cache", "policy", pkg], capture_output=True, text=True).stdout
    m = re.search(r"Candidate:\s*(\S+)", out)
    return bool(m and m.group(1) != "(none)")


def _resolve(alternatives: str) -> str:
    options = alternatives.split("|")
    for pkg in options:
        if _apt_candidate(pkg):
            return pkg
    return options[-1]


def _may_install(install: bool) -> bool:
    return install and os.geteuid() == 0 and _is_debian()


def _apt_install(pkgs: list[str]) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update"], check=True, env=env)
    say(f"apt-get install {' '.join(pkgs)}")
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *pkgs], check=True, env=env)


def install_command(missing: list[Check]) -> list[str]:
    pkgs = [p.split("|")[-1] for c in missing for p in c.packages]
    return ["apt-get", "install", "-y", "--no-install-recommends", *pkgs]


def ensure(*, install: bool = True, need_maven: bool = True, need_test_tools: bool = False) -> None:
    """Check the prerequisites; install the missing ones with apt-get when allowed, running as
    root on Debian; otherwise raise with the command to run."""
    if need_test_tools:
        check_node()
    checks = check_all(need_maven=need_maven, need_test_tools=need_test_tools)
    missing = [c for c in checks if not c.ok]
    if not missing:
        return
    names = ", ".join(f"{c.name} ({c.detail})" for c in missing)
    if not _may_install(install):
        cmd = " ".join(install_command(missing))
        sudo = "" if os.geteuid() == 0 else "sudo "
        raise StackError(f"missing prerequisites: {names}\nInstall them with:\n  {sudo}apt-get update && {sudo}{cmd}")
    say(f"missing prerequisites: {names}; installing with apt-get")
    _apt_install([_resolve(p) for c in missing for p in c.packages])
    still = [c for c in check_all(need_maven=need_maven, need_test_tools=need_test_tools) if not c.ok]
    if still:
        raise StackError(f"still missing after apt-get: {', '.join(c.name + ' (' + c.detail + ')' for c in still)}")


def ensure_command(command: str, package: str, *, install: bool = True) -> str:
    """The path of ``command``; installs its Debian ``package`` when missing and allowed (as
    root on Debian), otherwise raises with the line to run. For tools only some targets need
    (the rush benchmark's load generator)."""
    found = shutil.which(command)
    if found:
        return found
    if not _may_install(install):
        sudo = "" if os.geteuid() == 0 else "sudo "
        raise StackError(f"{command} is missing; install it with:\n  {sudo}apt-get update && {sudo}apt-get install -y {package}")
    say(f"{command} is missing; installing with apt-get")
    _apt_install([package])
    found = shutil.which(command)
    if not found:
        raise StackError(f"{command} still missing after apt-get install {package}")
    return found


def report(*, need_test_tools: bool = False) -> int:
    ok = True
    for c in check_all(need_test_tools=need_test_tools):
        ok &= c.ok
        print(f"  {'ok ' if c.ok else 'MISSING'}  {c.name:<11} {c.detail}")
    return 0 if ok else 1


if __name__ == "__main__":  # python -m pfdo_devstack.prereqs [--install] [--with-test-tools]
    try:
        test_tools = "--with-test-tools" in sys.argv
        if "--install" in sys.argv:
            ensure(install=True, need_test_tools=test_tools)
        sys.exit(report(need_test_tools=test_tools))
    except StackError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
