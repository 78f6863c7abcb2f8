"""Shared set-up of the billing benchmarks: infrastructure from PFDO_TEST_KAFKA_BOOTSTRAP and
PFDO_TEST_PG_URL when set, otherwise the local test stack (pfdo_devstack.testing)."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass


@dataclass
class BenchInfra:
    kafka_bootstrap: str
    pg_base_url: str

    def pg_url(self, database: str) -> str:
        return f"{self.pg_base_url.rstrip('/')}/{database}"


def infra() -> BenchInfra:
    kafka, pg = os.environ.get("PFDO_TEST_KAFKA_BOOTSTRAP"), os.environ.get("PFDO_TEST_PG_URL")
    if kafka and pg:
        return BenchInfra(kafka, pg)
    from pfdo_devstack.testing import start_test_infra

    local = start_test_infra()
    return BenchInfra(local.kafka_bootstrap, local.pg_admin_dsn("postgres").rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+asyncpg://"))


def current_rss_mb() -> float:
    """Resident set size of this process now, MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    """Peak resident set size of this process, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
