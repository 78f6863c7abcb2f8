"""The event loop's lag: a loop kept busy shows up in the histogram, a free one does not."""

import asyncio
import time

from prometheus_client import REGISTRY

from pfdo_plumbing.metrics import watch_loop_lag


def _sample(service: str, suffix: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"pfdo_event_loop_lag_seconds_{suffix}", {"service": service, **labels}) or 0.0


async def test_a_blocked_loop_is_measured_as_late_and_a_free_one_is_not() -> None:
    service = "lag-test"
    watcher = asyncio.create_task(watch_loop_lag(service, 0.01))
    try:
        await asyncio.sleep(0.1)  # free: wake-ups come about on time
        free_count = _sample(service, "count")
        free_late = free_count - _sample(service, "bucket", le="0.25")
        time.sleep(0.3)  # a handler that holds the one thread (CPU work, a blocking call)
        await asyncio.sleep(0.05)
    finally:
        watcher.cancel()
    assert free_count >= 3
    assert free_late == 0
    late = _sample(service, "count") - _sample(service, "bucket", le="0.25")
    assert late == 1  # the one wake-up that came after the block
    assert _sample(service, "sum") >= 0.28
