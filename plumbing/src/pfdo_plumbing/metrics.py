"""Prometheus metrics shared by every service."""

from __future__ import annotations

import asyncio

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("pfdo_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "pfdo_http_request_seconds", "HTTP request latency", ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_CONSUMED = Counter("pfdo_events_consumed_total", "Events applied", ["service", "event_type"])
EVENTS_DUPLICATE = Counter("pfdo_events_duplicate_total", "Duplicate deliveries skipped by the inbox", ["service"])
EVENTS_DEAD_LETTERED = Counter("pfdo_events_dead_lettered_total", "Events sent to the dead-letter topic", ["service"])
OUTBOX_PENDING = Gauge("pfdo_outbox_pending", "Events waiting in the outbox", ["service"])
CONSUMER_LAG = Gauge("pfdo_consumer_lag", "Messages behind the log end, per topic partition", ["service", "topic", "partition"])
LOOP_LAG = Histogram(
    "pfdo_event_loop_lag_seconds",
    "How late a timer of the event loop fires: time the process's one thread was busy with other work "
    "(or waited for a CPU) while something was ready to run",
    ["service"], buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


async def watch_loop_lag(service: str, interval_s: float) -> None:
    """Sleep ``interval_s`` again and again and record how late each wake-up came. Every request,
    consumed event and database answer of a service waits its turn on one event loop: a lag of
    tens of milliseconds shows that turn, not the work itself, making it slow. A low lag does not
    prove the process has CPU to spare (work waiting in its sockets is not on the loop yet): read
    it beside ``process_cpu_seconds_total``."""
    loop = asyncio.get_running_loop()
    lag = LOOP_LAG.labels(service)
    while True:
        due = loop.time() + interval_s
        await asyncio.sleep(interval_s)
        lag.observe(max(0.0, loop.time() - due))
