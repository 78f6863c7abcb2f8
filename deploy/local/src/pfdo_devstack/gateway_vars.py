"""The gateway template's variables that have a value without a stack (rate limits, body limits,
the portal's origin, ...), and the high limits every test stack uses. Shared by the stack's
configuration (``config``) and the gateway that renders the template (``gateway``)."""

from __future__ import annotations

DEFAULTS: dict[str, str] = {
    "PORTAL_ORIGIN": "http://localhost:3000",
    "BODY_LIMIT": "1m",
    "ATTENDANCE_BODY_LIMIT": "16m",
    "RATE_PER_IP": "50r/s",
    "BURST_PER_IP": "100",
    "RATE_PER_TOKEN": "20r/s",
    "BURST_PER_TOKEN": "40",
    "RATE_ENROL": "30r/m",
    "BURST_ENROL": "5",
    "RATE_ATTENDANCE": "60r/m",
    "BURST_ATTENDANCE": "20",
    "RATE_ANONYMOUS": "10r/s",
    "BURST_ANONYMOUS": "20",
    "EVENTS_READ_TIMEOUT": "1h",
    "EVENTS_PER_TOKEN": "5",
    "RETRY_AFTER": "1",
    "PROXY_READ_TIMEOUT": "30s",
}
"""Template variables that have a default; upstreams, listen address and log come from the stack."""

LOCAL_PORTAL_CLIENT_ADDRESS = "127.0.0.2"
"""The loopback address the local portal calls the gateway from (PORTAL_CLIENT_ADDRESS): not
127.0.0.1, where every local client comes from, so only the portal's X-Forwarded-For is believed."""

HIGH_LIMITS: dict[str, str] = {
    "RATE_PER_IP": "100000r/s",
    "BURST_PER_IP": "100000",
    "RATE_PER_TOKEN": "100000r/s",
    "BURST_PER_TOKEN": "100000",
    "RATE_ENROL": "100000r/s",
    "BURST_ENROL": "100000",
    "RATE_ATTENDANCE": "100000r/s",
    "BURST_ATTENDANCE": "100000",
    "RATE_ANONYMOUS": "100000r/s",
    "BURST_ANONYMOUS": "100000",
}
"""Limits for test stacks: load tests must not be throttled (a test can still set low ones)."""
