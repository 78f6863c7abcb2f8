"""Command line: ``python -m pfdo_contracts.schemas export|check [--dir DIR] [--baseline DIR]``.

``export`` writes the JSON Schema files; ``check`` exits 1 naming every file that drifted from
its model or breaks backward compatibility (see :mod:`pfdo_contracts.schema_tools`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import schema_tools


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pfdo_contracts.schemas", description=__doc__)
    parser.add_argument("command", choices=("export", "check"))
    parser.add_argument("--dir", type=Path, default=schema_tools.SCHEMAS_DIR, help="schema directory")
    parser.add_argument(
        "--baseline", type=Path, default=None,
        help="check: a directory of previously published schemas that must stay readable",
    )
    args = parser.parse_args(argv)
    if args.command == "export":
        changed = schema_tools.export(args.dir)
        for path in changed:
            print(f"wrote {path}")
        print(f"{len(schema_tools.expected_files())} schema files, {len(changed)} changed")
        leftovers = schema_tools.check(args.dir)
        for problem in leftovers:
            print(f"error: {problem}", file=sys.stderr)
        return 1 if leftovers else 0
    problems = schema_tools.check(args.dir, args.baseline)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        print(f"schema check failed: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"schema check passed: {len(schema_tools.expected_files())} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
