"""The nginx gateway (deploy/gateway/nginx.conf.template) in front of stand-in upstreams:
routing by /api/<service>/, body limits, rate limits with Retry-After, request ids, security
headers, CORS for the one portal origin, and a clean 504 when an upstream hangs."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pfdo_devstack.config import SERVICES
from pfdo_devstack.gateway import DEFAULTS

from ._gateway_harness import StandIns, bearer, free_port, gateway

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PORTAL = DEFAULTS["PORTAL_ORIGIN"]
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}



@pytest.fixture(scope="module")
def default_gateway(work_dir: Path, standins: StandIns) -> Iterator[str]:
    """The gateway with the default (production) variables except generous rate limits."""
    with gateway(work_dir, standins.upstreams) as gw:
        yield gw.url


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["title"] and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_routes_by_service_prefix(default_gateway: str) -> None:
    with httpx.Client(base_url=default_gateway) as client:
        for service in SERVICES:
            response = client.get(f"/api/{service}/things/42", params={"q": "a b"})
            assert response.status_code == 200
            echoed = response.json()
            assert echoed["service"] == service
            assert echoed["path"] == f"/api/{service}/things/42" and echoed["query"] == "q=a+b"
        assert client.get("/auth/.well-known/jwks.json").json()["service"] == "auth"
        # no service behind these API prefixes: the gateway answers itself, never an upstream
        for path in ("/api/unknown/x", "/api/registryx/y", "/api/", "/api/portal/x"):
            assert_problem(client.get(path), 404, "not_found")
        # every other path is a page of the portal (which answers its own 404 pages)
        for path, seen in (("/", "/"), ("/programs/42", "/programs/42"), ("/etc/passwd", "/etc/passwd"),
                           ("/api/../etc/passwd", "/etc/passwd")):
            echoed = client.get(path).json()
            assert (echoed["service"], echoed["path"]) == ("portal", seen), path


def test_service_metrics_are_not_handed_out(default_gateway: str) -> None:
    """Prometheus reads each service straight; through the gateway its metrics are an unknown path,
    however the path is spelled (nginx matches the normalised, decoded path)."""
    with httpx.Client(base_url=default_gateway) as client:
        for service in SERVICES:
            for path in (f"/api/{service}/metrics", f"/api/{service}/metrics/", f"/api/{service}//metrics",
                         f"/api/{service}/x/../metrics", f"/api/{service}/%6Detrics"):
                assert_problem(client.get(path), 404, "not_found")
            assert_problem(client.post(f"/api/{service}/metrics", content=b"{}"), 404, "not_found")
        # a path that merely contains the word is passed on
        echoed = client.get("/api/navigator/programs/metrics").json()
        assert echoed["service"] == "navigator" and echoed["path"] == "/api/navigator/programs/metrics"


def test_raw_non_ascii_in_the_url_is_a_400_problem_and_encoded_is_passed_on(default_gateway: str) -> None:
    """curl sends ``?q=танцы`` as raw UTF-8 and nginx would forward it as it came, for the service's
    HTTP parser to refuse in plain text; the gateway answers with a problem instead."""
    url = httpx.URL(default_gateway)
    with socket.create_connection((url.host, url.port), timeout=10) as conn:
        conn.sendall("GET /api/navigator/programs?q=танцы HTTP/1.1\r\n".encode()
                     + f"Host: {url.host}\r\nConnection: close\r\n\r\n".encode())
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert lines[0].split(" ")[1] == "400", raw
    assert headers["Content-Type"].startswith("application/problem+json")
    problem = json.loads(body)
    assert problem["code"] == "invalid_request_target" and problem["request_id"] == headers["X-Request-ID"]
    with httpx.Client(base_url=default_gateway) as client:  # httpx percent-encodes: passed on as usual
        echoed = client.get("/api/navigator/programs", params={"q": "танцы"}).json()
        assert echoed["service"] == "navigator" and echoed["query"] == "q=%D1%82%D0%B0%D0%BD%D1%86%D1%8B"


def test_request_id_is_passed_upstream_and_returned(default_gateway: str) -> None:
    with httpx.Client(base_url=default_gateway) as client:
        sent = "portal-req-0001"
        response = client.get("/api/ratings/x", headers={"X-Request-ID": sent})
        assert response.headers["x-request-id"] == sent
        assert response.json()["headers"]["x-request-id"] == sent
        # absent or unsafe: the gateway generates one, the same upstream and back to the client
        for headers in ({}, {"X-Request-ID": 'bad"id<script>'}, {"X-Request-ID": "short"}):
            response = client.get("/api/billing/x", headers=headers)
            returned = response.headers["x-request-id"]
            assert re.fullmatch(r"[0-9a-f]{32}", returned), returned
            assert response.json()["headers"]["x-request-id"] == returned
        # the upstream's own X-Request-ID (the stand-in sends "from-upstream") never leaks out
        assert response.headers.get_list("x-request-id") == [returned]
        other = client.get("/api/billing/x").headers["x-request-id"]
        assert other != returned


def test_request_body_limit_answers_413_problem(default_gateway: str) -> None:
    assert DEFAULTS["BODY_LIMIT"] == "1m" and DEFAULTS["ATTENDANCE_BODY_LIMIT"] == "16m"
    with httpx.Client(base_url=default_gateway, timeout=30) as client:
        below = client.post("/api/registry/children", content=b"x" * (1024 * 1024 - 1024))
        assert below.status_code == 200 and below.json()["body_length"] == 1024 * 1024 - 1024
        too_large = client.post("/api/registry/children", content=b"x" * (2 * 1024 * 1024),
                                headers={"X-Request-ID": "too-large-0001"})
        body = assert_problem(too_large, 413, "payload_too_large")
        assert body["request_id"] == "too-large-0001"
        # a month's attendance journal may be larger
        journal = client.post("/api/navigator/enrolments/e-1/attendance", content=b"x" * (2 * 1024 * 1024))
        assert journal.status_code == 200 and journal.json()["body_length"] == 2 * 1024 * 1024
        assert_problem(client.post("/api/navigator/enrolments/e-1/attendance", content=b"x" * (17 * 1024 * 1024)),
                       413, "payload_too_large")


def _burst(client: httpx.Client, n: int, method: str, path: str, **kwargs: object) -> list[httpx.Response]:
    return [client.request(method, path, **kwargs) for _ in range(n)]  # type: ignore[arg-type]


def test_rate_limit_per_client_gives_429_with_retry_after_past_the_limit_and_2xx_below(
    work_dir: Path, standins: StandIns
) -> None:
    with gateway(work_dir, standins.upstreams, RATE_PER_IP="5r/s", BURST_PER_IP="2", RETRY_AFTER="2") as gw, \
            httpx.Client(base_url=gw.url) as client:
        responses = _burst(client, 10, "GET", "/api/navigator/catalogue")
        codes = [r.status_code for r in responses]
        # 1 + burst 2 pass at once; the rest of a 10-request burst (sent in far less than 200 ms) is refused
        assert codes[:3] == [200, 200, 200], codes
        assert codes.count(429) >= 6 and set(codes) <= {200, 429}, codes
        refused = next(r for r in responses if r.status_code == 429)
        assert refused.headers["retry-after"] == "2"
        assert_problem(refused, 429, "rate_limited")
        assert "retry-after" not in responses[0].headers  # only on refusals
        time.sleep(1.2)  # the bucket drains at 5 r/s
        paced = []
        for _ in range(5):  # 4 r/s: below the limit, every request passes
            paced.append(client.get("/api/navigator/catalogue").status_code)
            time.sleep(0.25)
        assert paced == [200] * 5




def test_rate_limit_per_token_counts_every_request_of_the_token(work_dir: Path, standins: StandIns) -> None:
    """Keyed by a hash of the token (the gateway cannot verify signatures, so it trusts no claim):
    one token has one budget; another token, of the same subject or not, has its own (the
    per-subject limit is checked by the services after verification: test_rate_limits.py)."""
    with gateway(work_dir, standins.upstreams, RATE_PER_TOKEN="2r/s", BURST_PER_TOKEN="3") as gw, \
            httpx.Client(base_url=gw.url) as client:
        first, second = bearer({"sub": "parent-7", "iat": 1}), bearer({"sub": "parent-7", "iat": 2, "jti": "x"})
        assert first != second
        codes = [client.get("/api/billing/x", headers=first).status_code for _ in range(8)]
        assert codes[:4] == [200] * 4 and codes[4:] == [429] * 4, codes
        # another token below the limit is not slowed down by the first one's burst
        assert [client.get("/api/billing/x", headers=second).status_code for _ in range(3)] == [200] * 3
        # anonymous calls are limited per client only
        assert [r.status_code for r in _burst(client, 5, "GET", "/api/billing/x")] == [200] * 5
        # any bearer credential, JWT-shaped or not, is limited as a token; other schemes per client only
        for opaque in ({"Authorization": "Bearer opaque-token"}, bearer("not*base64")):
            codes = [r.status_code for r in _burst(client, 5, "GET", "/api/billing/x", headers=opaque)]
            assert codes == [200] * 4 + [429], codes
        basic = {"Authorization": "Basic dXNlcjpwYXNz"}
        assert [r.status_code for r in _burst(client, 5, "GET", "/api/billing/x", headers=basic)] == [200] * 5


def test_enrolment_and_attendance_writes_have_a_stricter_limit(work_dir: Path, standins: StandIns) -> None:
    with gateway(work_dir, standins.upstreams, RATE_ENROL="1r/m", BURST_ENROL="1",
                 RATE_ATTENDANCE="1r/m", BURST_ATTENDANCE="2") as gw, httpx.Client(base_url=gw.url) as client:
        token = bearer({"sub": "parent-1"})
        enrol = [r.status_code for r in _burst(client, 4, "POST", "/api/navigator/enrolments", json={}, headers=token)]
        assert enrol == [200, 200, 429, 429], enrol
        # the same client still reads enrolments and writes elsewhere at the general limit
        assert [r.status_code for r in _burst(client, 4, "GET", "/api/navigator/enrolments", headers=token)] == [200] * 4
        assert [r.status_code for r in _burst(client, 4, "POST", "/api/navigator/disputes", json={}, headers=token)] == [200] * 4
        # another token has a budget of its own (a second parent; or the same parent's new token, which
        # the services' per-subject limit counts together with the first after verifying both)
        assert client.post("/api/navigator/enrolments", json={}, headers=bearer({"sub": "parent-2"})).status_code == 200
        # ... and the same token spelled otherwise is still the same token
        lower = {"Authorization": "bearer " + token["Authorization"].split(" ", 1)[1]}
        assert client.post("/api/navigator/enrolments", json={}, headers=lower).status_code == 429
        path = "/api/navigator/enrolments/e-1/attendance"
        marks = [r.status_code for r in _burst(client, 5, "POST", path, json={}, headers=token)]
        assert marks == [200, 200, 200, 429, 429], marks


def test_security_headers_on_every_answer(work_dir: Path, standins: StandIns) -> None:
    with gateway(work_dir, standins.upstreams, RATE_PER_IP="1r/m", BURST_PER_IP="1") as gw, \
            httpx.Client(base_url=gw.url) as client:
        answers = [client.get("/api/registry/x"), client.get("/api/nowhere"), client.get("/api/registry/x"),
                   client.get("/api/registry/x")]
        assert [r.status_code for r in answers] == [200, 404, 200, 429]
        for response in answers:
            for name, value in SECURITY_HEADERS.items():
                assert response.headers.get(name) == value, (response.status_code, name)
            assert response.headers["server"] == "nginx"  # no version
            assert "access-control-allow-origin" not in response.headers  # no Origin sent


def test_cors_preflight_for_the_portal_origin_only(default_gateway: str) -> None:
    with httpx.Client(base_url=default_gateway) as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
        allowed = client.options("/api/navigator/enrolments", headers={"Origin": PORTAL, **preflight})
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == PORTAL
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert {"authorization", "content-type"} <= {
            h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")
        }
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert allowed.headers["vary"] == "Origin"
        for origin in ("https://evil.example", PORTAL + ".evil.example", "null"):
            refused = client.options("/api/navigator/enrolments", headers={"Origin": origin, **preflight})
            assert refused.status_code != 204 or refused.headers.get("access-control-allow-origin") is None
            assert "access-control-allow-origin" not in refused.headers
            assert "access-control-allow-credentials" not in refused.headers
        # simple requests: the portal origin gets the header (and the exposed request id), others do not
        simple = client.get("/api/ratings/x", headers={"Origin": PORTAL})
        assert simple.headers["access-control-allow-origin"] == PORTAL
        assert "X-Request-ID" in simple.headers["access-control-expose-headers"]
        assert "access-control-allow-origin" not in client.get("/api/ratings/x", headers={"Origin": "https://evil.example"}).headers


def test_hanging_upstream_gets_a_clean_504_within_the_timeout(work_dir: Path, standins: StandIns) -> None:
    with gateway(work_dir, standins.upstreams, PROXY_READ_TIMEOUT="1s") as gw, \
            httpx.Client(base_url=gw.url, timeout=20) as client:
        started = time.monotonic()
        response = client.get("/api/billing/slow", params={"s": "4"}, headers={"X-Request-ID": "slow-call-0001"})
        elapsed = time.monotonic() - started
        body = assert_problem(response, 504, "gateway_timeout")
        assert body["request_id"] == "slow-call-0001"
        assert 0.9 <= elapsed < 4, elapsed
        # a fast call on the same upstream still answers
        assert client.get("/api/billing/slow", params={"s": "0.1"}).status_code == 200


def test_unreachable_upstream_is_a_502_problem(work_dir: Path, standins: StandIns) -> None:
    upstreams = {**standins.upstreams, "ratings": f"127.0.0.1:{free_port()}"}
    with gateway(work_dir, upstreams) as gw, httpx.Client(base_url=gw.url) as client:
        assert_problem(client.get("/api/ratings/x"), 502, "bad_gateway")
        assert client.get("/api/registry/x").status_code == 200


def test_access_log_is_json_with_the_request_id(work_dir: Path, standins: StandIns) -> None:
    with gateway(work_dir, standins.upstreams) as gw, httpx.Client(base_url=gw.url) as client:
        client.get("/api/registry/logged", headers={"X-Request-ID": "logged-req-0001", "Authorization": "Bearer secret-token"})
        deadline = time.monotonic() + 5
        lines: list[dict] = []
        while time.monotonic() < deadline and not lines:
            lines = [json.loads(line) for line in gw.access_log.read_text().splitlines() if line.strip()]
            time.sleep(0.05)
        entry = next(line for line in lines if line["request_id"] == "logged-req-0001")
        assert entry["status"] == 200 and entry["uri"] == "/api/registry/logged"
        assert "secret-token" not in gw.access_log.read_text()  # tokens are never logged
