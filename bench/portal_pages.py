"""Benchmark: the portal's navigator page (a visitor searching) and the parent's cabinet page at
50 concurrent users, through the gateway as deployed, beside the same API calls each page makes
sent directly to the gateway by the same 50 users in the same run. The difference is what the
portal costs: its session lookup, its hop to the gateway, its templates.

The API calls are the page's own: the portal, run once in this process against the same gateway
with a recording transport, says which calls a warm page view makes (its labels already kept);
the load generator then sends them one after another on one connection, the page's latency being
from the first call sent to the last answer read (the portal sends some of them at once, a
client calling the API directly here does not: the comparison does not favour the portal).

The users are wrk (C, from Debian) driven by ``views.lua``, one thread and one connection per
user. Printed three times: with each user pausing about a second between pages (people browsing:
the target), back to back (a closed loop at saturation: p95 there is about users / throughput,
so the ratio shows what the portal costs in CPU on this machine's cores), and one user alone (no
queueing: the latency of one view). Each run also says how many CPU milliseconds every part of
the platform (each service, the portal, the gateway's nginx) spent per view, read from /proc.

Target: portal p95 <= 1.3 x the API calls' p95, 50 users browsing.
Run: uv run python -m bench.portal_pages [seconds per paced run]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx

from pfdo_portal.app import create_app
from pfdo_portal.auth import close_auth
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.settings import PortalSettings

from .portal_common import Region, running_region
from .wrk import find_wrk

USERS = 50
THINK_S = 1.0
PACED_S = 25
BACK_TO_BACK_S = 10
ONE_USER_S = 10
TARGET_RATIO = 1.3
LUA = Path(__file__).with_name("views.lua")
MAX_FAILED_SHARE = 0.01
"""Answers other than 200 a run tolerates (a gateway's 502 when a service closes a kept-alive
connection at the moment nginx reuses it, under the shared machine's load), counted on its line."""

SEARCHES: tuple[dict[str, str], ...] = (
    {}, {"q": "робот"}, {"direction": "artistic"}, {"age": "10"}, {"q": "шахматы", "sort": "price"},
    {"municipality": "01", "free": "1"}, {"sort": "rating"}, {"direction": "natural_science", "age": "9"},
)


class Recorder(httpx.AsyncBaseTransport):
    """Passes the portal's calls on to the gateway and keeps their paths (with the query)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.raw_path.decode("ascii"))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def process_tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by a process and every live descendant of it."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)  # fields[1]: the parent's pid
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    total, pending = 0.0, [root]
    while pending:
        pid = pending.pop()
        total += cpu.get(pid, 0.0)
        pending.extend(children.get(pid, ()))
    return total


def cpu_snapshot(region: Region) -> dict[str, float]:
    """CPU seconds so far of each part of the platform: the services, the portal, the gateway."""
    pids = {name: process.pid for name, process in region.platform.processes.items()}
    pids["gateway"] = region.platform.gateway.pid if region.platform.gateway else None
    return {name: process_tree_cpu_s(pid) for name, pid in pids.items() if pid}


async def api_calls_of(region: Region, pages: list[str], cookie: str | None) -> list[list[str]]:
    """The API calls each page makes on a warm view, in the order the portal sends them."""
    recorder = Recorder()
    settings = PortalSettings(database_url=region.platform.databases["portal"], api_url=f"{region.gateway}/api/",
                              log_json=False, log_level="WARNING")
    app = create_app(settings, api=GatewayApi(settings.api_url, transport=recorder))
    views = []
    try:
        headers = {"Cookie": cookie} if cookie else {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=region.gateway,
                                     headers=headers) as browser:
            for page in pages:
                for _ in range(2):  # the first view fills the portal's kept labels
                    recorder.calls.clear()
                    answer = await browser.get(page)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{page}: {answer.status_code} from the portal in this process")
                views.append(list(recorder.calls))
    finally:
        await app.state.api.aclose()
        await close_auth(app)
    return views


@dataclass
class Views:
    """What one wrk run measured: the latency of every whole view, the answers' statuses."""

    latencies_ms: list[float]
    wall_s: float
    statuses: dict[str, int]
    failed: int
    """Answers other than 200 and socket errors (counted in their views' latency)."""
    cpu_ms: dict[str, float] = field(default_factory=dict)
    """CPU milliseconds per view of each part of the platform that worked for it."""

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    def line(self, name: str) -> str:
        return (f"{name:<44} views={len(self.latencies_ms):>5}  p50={self.pct(50):7.1f} ms  "
                f"p95={self.pct(95):7.1f} ms  p99={self.pct(99):7.1f} ms  "
                f"throughput={len(self.latencies_ms) / self.wall_s:5.0f} views/s"
                + (f"  not 200: {self.failed}" if self.failed else ""))

    def cpu_line(self) -> str:
        parts = [f"{name} {ms:.1f}" for name, ms in sorted(self.cpu_ms.items(), key=lambda kv: -kv[1]) if ms >= 0.05]
        return f"CPU per view: {sum(self.cpu_ms.values()):.1f} ms = " + " + ".join(parts) + " (ms)"


async def run_views(url: str, views: list[list[str]], header: str | None, folder: Path, *, seconds: int,
                    think_s: float, users: int = USERS) -> Views:
    listing = folder / f"views-{time.monotonic_ns()}.txt"
    listing.write_text("".join(" ".join(view) + "\n" for view in views))
    cmd = [find_wrk(), "-t", str(users), "-c", str(users), "-d", f"{seconds}s", "--timeout", "30s",
           *(("-H", header) if header else ()), "-s", str(LUA), url, "--", str(listing), str(int(think_s * 1000))]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await proc.communicate()
    text = output.decode(errors="replace")
    result = [line for line in text.splitlines() if line.startswith("VIEWS_RESULT ")]
    latencies = [line for line in text.splitlines() if line.startswith("VIEWS_LATENCIES ")]
    if proc.returncode or not result or not latencies:
        raise RuntimeError(f"wrk failed (exit {proc.returncode}):\n{text[-3000:]}")
    figures = json.loads(result[-1].removeprefix("VIEWS_RESULT "))
    statuses = {str(k): int(v) for k, v in figures["statuses"].items()}
    failed = sum(n for status, n in statuses.items() if status != "200") + sum(figures["errors"].values())
    if failed > MAX_FAILED_SHARE * max(1, figures["requests"]):
        raise RuntimeError(f"too many answers were not 200: {statuses}, socket errors {figures['errors']}:\n"
                           + "\n".join(line for line in text.splitlines() if not line.startswith("VIEWS_LATENCIES")))
    measured = [us / 1000 for us in json.loads(latencies[-1].removeprefix("VIEWS_LATENCIES "))]
    return Views(measured, figures["duration_us"] / 1e6, statuses, failed)


async def measured(region: Region, views: list[list[str]], header: str | None, folder: Path, *, seconds: int,
                   think_s: float, users: int) -> Views:
    """A wrk run, with the CPU each part of the platform spent on it per view."""
    before = cpu_snapshot(region)
    result = await run_views(region.gateway, views, header, folder, seconds=seconds, think_s=think_s, users=users)
    after = cpu_snapshot(region)
    count = max(1, len(result.latencies_ms))
    result.cpu_ms = {name: (after[name] - before.get(name, after[name])) * 1000 / count for name in after}
    return result


async def main(paced_s: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        async with running_region(folder, tag="load") as region:
            searches = [f"/?{urlencode(q)}" if q else "/" for q in SEARCHES]
            cabinet_cookie = region.cookie("parent")
            pages = {
                "navigator (a visitor searching)": (searches, None, None),
                "parent's cabinet": (["/cabinet"], cabinet_cookie, f"Authorization: Bearer {region.tokens['parent']}"),
            }
            plans = {}
            for label, (paths, cookie, api_header) in pages.items():
                calls = await api_calls_of(region, paths, cookie)
                plans[label] = ([[p] for p in paths], f"Cookie: {cookie}" if cookie else None, calls, api_header)
                print(f"{label}: {len(paths)} page(s); a view makes {max(len(c) for c in calls)} API call(s): "
                      f"{sorted({c.split('?')[0] for view in calls for c in view})}", flush=True)
            results: dict[tuple[str, str, str], Views] = {}
            for label, (portal_views, portal_header, api_views, api_header) in plans.items():
                await run_views(region.gateway, portal_views, portal_header, folder, seconds=5, think_s=0)  # warm-up
                await run_views(region.gateway, api_views, api_header, folder, seconds=5, think_s=0)
                for mode, seconds, think, users in runs(paced_s):
                    # the two alternate, so neither gets a quieter moment of the shared machine
                    results[label, mode, "api"] = await measured(region, api_views, api_header, folder,
                                                                 seconds=seconds, think_s=think, users=users)
                    results[label, mode, "portal"] = await measured(region, portal_views, portal_header, folder,
                                                                    seconds=seconds, think_s=think, users=users)
    report(results)


def runs(paced_s: int) -> tuple[tuple[str, int, float, int], ...]:
    """(name, seconds, mean think time, users) of each run."""
    return (("paced", paced_s, THINK_S, USERS), ("back to back", BACK_TO_BACK_S, 0.0, USERS),
            ("one user", ONE_USER_S, 0.0, 1))


HEADINGS = {
    "paced": f"{USERS} users, each pausing about {THINK_S * 1000:.0f} ms between pages (people browsing):",
    "back to back": f"{USERS} users back to back (saturation: p95 is about {USERS} / throughput):",
    "one user": "one user back to back (no queueing: what one view costs):",
}


def report(results: dict[tuple[str, str, str], Views]) -> None:
    print(f"\n{USERS} concurrent users through the gateway, wrk with one thread and connection per user; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    verdicts = []
    for mode in dict.fromkeys(key[1] for key in results):
        print(HEADINGS[mode])
        for label in dict.fromkeys(key[0] for key in results):
            api, portal = results[label, mode, "api"], results[label, mode, "portal"]
            print("  " + api.line(f"{label}: its API calls, directly"))
            print("  " + f"{'':<44} " + api.cpu_line())
            print("  " + portal.line(f"{label}: the portal page"))
            print("  " + f"{'':<44} " + portal.cpu_line())
            ratio = portal.pct(95) / api.pct(95)
            print(f"  {'':<44} p95 ratio portal / API = {ratio:.2f}")
            if mode == "paced":
                verdicts.append(f"target portal p95 <= {TARGET_RATIO} x API p95, {label}: "
                                f"{'MET' if ratio <= TARGET_RATIO else 'NOT MET'} ({ratio:.2f})")
    print("\n".join(verdicts))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else PACED_S))
