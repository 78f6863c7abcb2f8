"""Benchmark: Lighthouse (npm, web/package.json) against Debian's Chromium for three pages of the
portal served by the platform's gateway: the navigator (a visitor), the parent's cabinet and the
provider's attendance journal (each signed in: the session cookie is sent with
``--extra-headers``, as a browser would send it). Lighthouse's default run: a phone on a slow 4G
line with a 4x slower CPU, simulated.

Each page is measured RUNS times and the median run reported (Lighthouse's performance score
moves from run to run on a shared machine); for a score under its target, the audits that cost it
points are listed.

Targets: performance >= 90, accessibility >= 95.
Run: uv run python -m bench.portal_lighthouse [runs per page]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pfdo_devstack.config import repo_root
from pfdo_devstack.prereqs import CHROMIUM

from .portal_common import running_region

RUNS = 3
TARGETS = {"performance": 90, "accessibility": 95}
LIGHTHOUSE = repo_root() / "web" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --no-first-run"
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time", "cumulative-layout-shift",
           "speed-index")
HINT_MS = 100


@dataclass
class Run:
    scores: dict[str, int]
    metrics: dict[str, str]
    lost: dict[str, list[str]]
    """category -> the audits that cost it points: title, score and what Lighthouse measured."""
    hints: list[str]
    """Lighthouse's opportunities worth at least HINT_MS on this page (they score nothing themselves)."""


def read_report(report: dict[str, Any]) -> Run:
    audits = report["audits"]
    scores, lost = {}, {}
    for name in TARGETS:
        category = report["categories"][name]
        scores[name] = round((category["score"] or 0) * 100)
        lost[name] = [
            f"{audits[ref['id']]['title']} (score {audits[ref['id']]['score']}"
            + (f", {audits[ref['id']]['displayValue']}" if audits[ref["id"]].get("displayValue") else "") + ")"
            for ref in category["auditRefs"]
            if ref.get("weight", 0) > 0 and audits[ref["id"]].get("score") is not None
            and audits[ref["id"]]["score"] < 1 and audits[ref["id"]].get("scoreDisplayMode") in ("binary", "numeric")
        ]
    metrics = {m: audits[m].get("displayValue", "") for m in METRICS if m in audits}
    hints = [f"{audit['title']} ({audit.get('displayValue') or ''})".replace(" ()", "")
             for audit in audits.values()
             if (audit.get("details") or {}).get("type") == "opportunity"
             and ((audit.get("details") or {}).get("overallSavingsMs") or 0) >= HINT_MS]
    return Run(scores, metrics, lost, hints)


async def lighthouse(url: str, cookie: str | None, folder: Path) -> Run:
    if not LIGHTHOUSE.is_file():
        raise SystemExit("Lighthouse is not installed: make bootstrap (npm ci in web/)")
    out = folder / "report.json"
    cmd = ["node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility", f"--chrome-flags={CHROME_FLAGS}"]
    if cookie:
        cmd.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    proc = await asyncio.create_subprocess_exec(*cmd, env={**os.environ, "CHROME_PATH": CHROMIUM},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await proc.communicate()
    if proc.returncode or not out.is_file():
        raise RuntimeError(f"lighthouse failed on {url} (exit {proc.returncode}):\n{output.decode()[-3000:]}")
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise RuntimeError(f"lighthouse could not load {url}: {report['runtimeError']}")
    final = report.get("finalDisplayedUrl") or report.get("finalUrl", "")
    if not final.startswith(url):  # e.g. sent to sign in: the page measured would not be the one asked
        raise RuntimeError(f"lighthouse ended on {final}, not {url}")
    return read_report(report)


def median_run(runs: list[Run]) -> Run:
    middle = statistics.median_low([r.scores["performance"] for r in runs])
    return next(r for r in runs if r.scores["performance"] == middle)


async def main(runs: int) -> int:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        async with running_region(folder, tag="lh") as region:
            pages = {
                "navigator (a visitor)": (f"{region.gateway}/", None),
                "parent's cabinet": (f"{region.gateway}/cabinet", region.cookie("parent")),
                "provider's journal": (f"{region.gateway}{region.journal_page}", region.cookie("provider")),
            }
            measured = {}
            for label, (url, cookie) in pages.items():
                measured[label] = [await lighthouse(url, cookie, folder) for _ in range(runs)]
    print(f"\nLighthouse (mobile, simulated slow 4G and 4x CPU) against {CHROMIUM}, median of {runs} runs; "
          f"targets: " + ", ".join(f"{k} >= {v}" for k, v in TARGETS.items()))
    missed = 0
    for label, page_runs in measured.items():
        run = median_run(page_runs)
        every = ", ".join(f"{k} " + "/".join(str(r.scores[k]) for r in page_runs) for k in TARGETS)
        verdicts = []
        for name, target in TARGETS.items():
            ok = run.scores[name] >= target
            missed += not ok
            verdicts.append(f"{name} {run.scores[name]:>3} ({'MET' if ok else 'NOT MET'}, target {target})")
        print(f"{label:<24} " + "   ".join(verdicts) + f"   [every run: {every}]")
        print(f"{'':<24} " + ", ".join(f"{k} {v}" for k, v in run.metrics.items()))
        for name, audits in run.lost.items():
            if audits and run.scores[name] < 100:
                print(f"{'':<24} {name} lost points on: " + "; ".join(audits))
        if run.hints:
            print(f"{'':<24} opportunities: " + "; ".join(run.hints))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else RUNS)))
