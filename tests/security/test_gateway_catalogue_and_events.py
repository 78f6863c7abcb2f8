"""The gateway's routes for the public catalogue and the status streams, in front of stand-in
upstreams (see _gateway_harness): anonymous catalogue requests have their own budget per client
address; an event stream passes each event as it comes, outlives the usual read timeout, is not
compressed, and one token may hold only so many streams open."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ._gateway_harness import StandIns, bearer, gateway

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]





def from_address(url: str, address: str) -> httpx.Client:
    """A client whose requests come from another loopback address (another client for the limits)."""
    return httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_anonymous_catalogue_requests_have_their_own_budget_per_client_address(
    work_dir: Path, standins: StandIns
) -> None:
    program = f"/api/navigator/programs/{uuid.uuid4()}"
    with gateway(work_dir, standins.upstreams, RATE_ANONYMOUS="1r/m", BURST_ANONYMOUS="2", RETRY_AFTER="7") as gw, \
            from_address(gw.url, "127.0.0.1") as client, from_address(gw.url, "127.0.0.2") as neighbour:
        codes = [client.get(path).status_code for path in ["/api/navigator/programs"] * 4 + [program]]
        assert codes == [200, 200, 200, 429, 429], codes  # 1 + burst 2, the page shares the budget
        refused = client.get("/api/navigator/programs", params={"text": "танцы"})
        assert (refused.status_code, refused.json()["code"], refused.headers["retry-after"]) == (429, "rate_limited", "7")
        # a signed-in caller is limited per token, not by the anonymous budget of its address
        assert [client.get("/api/navigator/programs", headers=bearer({"sub": f"parent-{i}"})).status_code
                for i in range(3)] == [200, 200, 200]
        # other routes of the same address are not spent by the catalogue's budget
        assert client.get("/api/navigator/enrolments").status_code == 200
        # another client address has a budget of its own
        assert neighbour.get("/api/navigator/programs").status_code == 200


def test_an_event_stream_passes_each_event_as_it_comes_and_outlives_the_read_timeout(
    work_dir: Path, standins: StandIns
) -> None:
    with gateway(work_dir, standins.upstreams, PROXY_READ_TIMEOUT="1s", EVENTS_READ_TIMEOUT="30s") as gw, \
            httpx.Client(base_url=gw.url, timeout=10) as client:
        began = time.monotonic()
        arrivals: list[tuple[float, str]] = []
        with client.stream("GET", "/api/navigator/me/events", params={"n": "3", "gap": "1.5"},
                           headers={**bearer({"sub": "parent-s"}), "Accept-Encoding": "gzip"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in response.headers
            for line in response.iter_lines():
                if line.startswith("id:"):
                    arrivals.append((time.monotonic() - began, line))
        assert [line for _, line in arrivals] == ["id: 1", "id: 2", "id: 3"]  # gaps of 1.5 s > the 1 s read timeout
        # the first event did not wait for the rest. (nginx here passes chunks on even with buffering on,
        # as measured; the location turns buffering off anyway, so a slow reader never makes nginx
        # gather the stream in its buffers or temp files)
        assert arrivals[0][0] < 1.0, arrivals
        assert arrivals[1][0] - arrivals[0][0] > 1.0, arrivals
        # any other route keeps the short read timeout
        assert client.get("/api/navigator/slow", params={"s": "2"}).status_code == 504


def test_one_token_holds_a_limited_number_of_streams(work_dir: Path, standins: StandIns) -> None:
    with gateway(work_dir, standins.upstreams, EVENTS_PER_TOKEN="1") as gw:
        def stream(sub: str, delay: float) -> int:
            time.sleep(delay)
            with httpx.Client(base_url=gw.url, timeout=10) as client, client.stream(
                    "GET", "/api/navigator/me/events", params={"n": "2", "gap": "2"}, headers=bearer({"sub": sub})) as response:
                response.read()
                return response.status_code

        with ThreadPoolExecutor(max_workers=3) as pool:
            first = pool.submit(stream, "parent-one", 0)
            second = pool.submit(stream, "parent-one", 0.5)
            other = pool.submit(stream, "parent-two", 0.5)
            assert (first.result(), second.result(), other.result()) == (200, 429, 200)
