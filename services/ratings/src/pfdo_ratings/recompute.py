"""``python -m pfdo_ratings.recompute``: rebuild every aggregate from the ratings table.

Prints the report as JSON. Exit status 0 when the incremental aggregates equal the recomputed
ones, 1 when they differed (with ``--check`` nothing is changed; otherwise the recomputed values
are stored and the changed aggregates are published through the outbox; the running service's
relay sends them).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys

from .main import build_runtime
from .settings import RatingsSettings


async def run(settings: RatingsSettings, *, apply: bool, refresh_prior: bool) -> dict:
    runtime, service = build_runtime(settings, configure_logs=False)
    try:
        report = await service.recompute(None, apply=apply, refresh_prior=refresh_prior)
    finally:
        await runtime.db.dispose()
    return {**dataclasses.asdict(report), "consistent": report.consistent}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pfdo_ratings.recompute", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, change nothing")
    parser.add_argument("--keep-prior", action="store_true", help="do not refresh the regional prior")
    args = parser.parse_args(argv)
    result = asyncio.run(run(RatingsSettings(), apply=not args.check, refresh_prior=not args.keep_prior))
    json.dump(result, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0 if result["consistent"] else 1


if __name__ == "__main__":
    sys.exit(main())
