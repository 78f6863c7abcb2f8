"""`python -m bench [name ...]`: run the benchmarks one after another (each in its own process,
so one's memory and caches do not colour the next) and print where each one's figures are."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"__init__", "__main__", "load"}


def discover() -> list[str]:
    names = []
    for path in sorted(HERE.glob("*.py")):
        name = path.stem
        if name in SKIP or name.endswith("_common") or name.startswith("_"):
            continue
        if "if __name__ == \"__main__\":" in path.read_text():
            names.append(name)
    return names


def main(argv: list[str]) -> int:
    names = argv or discover()
    failed = []
    for index, name in enumerate(names, 1):
        print(f"\n=== [{index}/{len(names)}] bench.{name} ===", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent)
        print(f"=== bench.{name}: exit {code} in {time.monotonic() - started:.0f}s ===", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
