#!/usr/bin/env bash
# Make a fresh machine ready to run PFDO locally without Docker:
#   1. uv (pip install uv, when missing)
#   2. the workspace venv (uv sync --frozen, never downloading a Python)
#   3. Java 17+, Maven, PostgreSQL server, nginx and its njs module (apt-get when root on Debian; otherwise the
#      command to run is printed and this script fails)
#   4. the Kafka broker jars from Maven Central into the shared cache (once)
#   5. the npm packages of web/ (npm ci from web/package-lock.json: offline docs assets, TypeScript
#      toolchain; Node.js 20+ with npm must be on the machine) and Debian's Chromium for the docs'
#      browser test (apt-get when root on Debian)
# Idempotent: on a ready machine it takes a few seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export UV_PYTHON_DOWNLOADS=never

log() { printf '[bootstrap] %s\n' "$*" >&2; }

PY="${PYTHON:-python3}"
if ! command -v "$PY" >/dev/null 2>&1; then
  log "python3 (3.11+) is required"; exit 1
fi

if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif "$PY" -m uv --version >/dev/null 2>&1; then
  UV=("$PY" -m uv)
else
  log "installing uv with pip"
  if ! "$PY" -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip
    else
      log "pip is missing: install python3-pip (sudo apt-get install python3-pip) and re-run"; exit 1
    fi
  fi
  # Debian's system Python is "externally managed" (PEP 668): fall back to --break-system-packages
  "$PY" -m pip install --quiet uv 2>/dev/null \
    || "$PY" -m pip install --quiet --user uv 2>/dev/null \
    || "$PY" -m pip install --quiet --break-system-packages uv
  if command -v uv >/dev/null 2>&1; then UV=(uv); else UV=("$PY" -m uv); fi
fi
log "uv: $("${UV[@]}" --version)"

log "uv sync --frozen"
"${UV[@]}" sync --frozen --quiet

log "checking Java 17+, Maven, PostgreSQL, nginx with its njs module (libnginx-mod-http-js), Node.js 20+, Chromium"
"${UV[@]}" run --frozen python -m pfdo_devstack.prereqs --install --with-test-tools

log "Kafka jars"
"${UV[@]}" run --frozen pfdo-stack fetch

log "npm packages of web/"
"${UV[@]}" run --frozen python -m pfdo_devstack.web

log "ready: ${UV[*]} run pfdo-stack up   (or: make test)"
