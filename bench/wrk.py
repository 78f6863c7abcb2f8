"""wrk, the load generator in C both HTTP benchmarks drive (a Python client on the same two
cores was itself the bottleneck): finding it, and reading the one result line its scripts print."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from pfdo_devstack.prereqs import ensure_command
from pfdo_devstack.proc import StackError

THREADS = 2


@dataclass
class LoadFigures:
    """What wrk measured: latency percentiles of every answered request, and the answers."""

    requests: int
    wall_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    statuses: Counter
    errors: dict[str, int]
    codes: Counter = field(default_factory=Counter)

    def line(self, name: str) -> str:
        return (f"{name:<34} n={self.requests:>5}  p50={self.p50_ms:7.1f} ms  p95={self.p95_ms:7.1f} ms  "
                f"p99={self.p99_ms:7.1f} ms  max={self.max_ms:7.1f} ms  mean={self.mean_ms:7.1f} ms  "
                f"throughput={self.requests / self.wall_s:6.0f}/s")


def find_wrk() -> str:
    """wrk from Debian (installed when running as root; otherwise the error names the command)."""
    try:
        return ensure_command("wrk", "wrk")
    except StackError as exc:
        raise SystemExit(f"the HTTP benchmarks are driven by wrk, a load generator in C (a Python client on "
                         f"the same two cores was the bottleneck): {exc}") from exc


def figures_from(output: str, marker: str, *, exit_code: int, wall_s: float) -> LoadFigures:
    """The figures of the script's last ``<marker> {json}`` line (latencies in microseconds)."""
    found = [line for line in output.splitlines() if line.startswith(marker + " ")]
    if exit_code or not found:
        raise RuntimeError(f"wrk failed (exit {exit_code}):\n{output}")
    r = json.loads(found[-1].removeprefix(marker + " "))
    return LoadFigures(
        requests=r["requests"], wall_s=r["duration_us"] / 1e6 or wall_s, p50_ms=r["p50"] / 1000,
        p95_ms=r["p95"] / 1000, p99_ms=r["p99"] / 1000, max_ms=r["max"] / 1000, mean_ms=r["mean"] / 1000,
        statuses=Counter({int(k): v for k, v in r["statuses"].items()}), errors=r["errors"],
        codes=Counter(r.get("codes", {})))
