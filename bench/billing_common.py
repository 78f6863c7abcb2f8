"""Shared set-up of the billing benchmarks: infrastructure from PFDO_TEST_KAFKA_BOOTSTRAP and
PFDO_TEST_PG_URL when set, otherwise the local test stack (pfdo_devstack.testing)."""

from __future__ import annotations

import resource

from pfdo_devstack.testing import UrlInfra, env_or_local_infra


def infra() -> UrlInfra:
    return env_or_local_infra()


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
