"""`python -m pfdo_navigator.rebuild [--dry-run]`: replay the catalogue topics from offset zero
into fresh tables and make them the live catalogue (settings from the PFDO_ environment)."""

from __future__ import annotations

import argparse
import asyncio
import json

from pfdo_plumbing.db import Database
from pfdo_plumbing.kafka.topics import TopicNames

from .service.rebuild import rebuild_catalogue
from .settings import NavigatorSettings


async def _main(dry_run: bool) -> int:
    settings = NavigatorSettings()
    db = Database(settings.database_url, pool_size=2, max_overflow=0)
    try:
        report = await rebuild_catalogue(db, settings.kafka_bootstrap, TopicNames(settings.kafka_namespace), swap=not dry_run)
    finally:
        await db.dispose()
    print(json.dumps(report.__dict__))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="rebuild into the twin schema only; do not swap")
    args = parser.parse_args()
    return asyncio.run(_main(args.dry_run))


if __name__ == "__main__":
    raise SystemExit(main())
