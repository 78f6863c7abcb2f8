"""Hardening of the nginx gateway, tried as an attacker would, in front of stand-in upstreams:
nobody spends another's rate limit (forged tokens, the scheme's spelling), no personal data in
the access log, nginx's own errors answered as problem+json, and the development issuer's
administrative endpoints out of reach."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ._gateway_harness import StandIns, gateway
from ._gateway_harness import bearer
from .test_gateway import assert_problem

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]



@pytest.fixture(scope="module")
def default_gateway(work_dir: Path, standins: StandIns) -> Iterator[object]:
    with gateway(work_dir, standins.upstreams) as gw:
        yield gw


def raw_exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (httpx would refuse or fix what an attacker sends) and read the answer."""
    target = httpx.URL(url)
    with socket.create_connection((target.host, target.port), timeout=10) as conn:
        conn.sendall(request)
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if ": " in line)}
    if headers.get("transfer-encoding") == "chunked":
        decoded, rest = b"", body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            decoded, rest = decoded + rest[:n], rest[n + 2:]
        body = decoded
    return int(lines[0].split(" ")[1]), headers, body


# --- 2. a rate limit is never spent by somebody else ------------------------------------------------


def test_a_forged_token_naming_another_subject_does_not_spend_that_subjects_limit(
        work_dir: Path, standins: StandIns) -> None:
    """The gateway cannot verify signatures (njs 0.7 has no synchronous RSA): it keys the per-token
    limit by a hash of the token itself, so a token with a forged signature and the victim's
    ``sub`` only drains its own bucket (the services refuse it), never the victim's."""
    with gateway(work_dir, standins.upstreams, RATE_PER_TOKEN="1r/m", BURST_PER_TOKEN="3") as gw, \
            httpx.Client(base_url=gw.url) as client:
        forged = bearer({"sub": "parent-victim", "iat": 1}, signature="Zm9yZ2Vk")
        codes = [client.get("/api/billing/x", headers=forged).status_code for _ in range(6)]
        assert codes[:4] == [200] * 4 and codes[4:] == [429] * 2, codes
        victim = bearer({"sub": "parent-victim", "iat": 1}, signature="cmVhbC1zaWduYXR1cmU")
        assert [client.get("/api/billing/x", headers=victim).status_code for _ in range(4)] == [200] * 4


def test_the_bearer_scheme_in_any_case_is_limited_per_token(work_dir: Path, standins: StandIns) -> None:
    """RFC 9110: the auth scheme is case-insensitive (the services accept ``bearer``): spelling it
    otherwise neither escapes the per-token limit nor opens a new budget for the same token."""
    with gateway(work_dir, standins.upstreams, RATE_PER_TOKEN="1r/m", BURST_PER_TOKEN="3") as gw, \
            httpx.Client(base_url=gw.url) as client:
        token = bearer({"sub": "parent-lower", "iat": 1})["Authorization"].split(" ", 1)[1]
        spellings = [f"bearer {token}", f"BEARER {token}", f"Bearer {token}", f"bEaReR  {token}", f"bearer {token}"]
        codes = [client.get("/api/billing/x", headers={"Authorization": a}).status_code for a in spellings]
        assert codes == [200, 200, 200, 200, 429], codes


# --- 4. no personal data in the access log ------------------------------------------------------------


def test_access_log_has_the_path_without_the_query_string(work_dir: Path, standins: StandIns) -> None:
    with gateway(work_dir, standins.upstreams) as gw, httpx.Client(base_url=gw.url) as client:
        secret = {"number": "7101000042", "surname": "Секретнова"}
        echoed = client.get("/api/registry/certificates/lookup", params=secret,
                            headers={"X-Request-ID": "lookup-log-0001"})
        assert echoed.status_code == 200 and "number=7101000042" in echoed.json()["query"]  # still passed on
        client.get("/api/navigator/programs", params={"q": "танцы", "child": "Секретнова"},
                   headers={"X-Request-ID": "search-log-0001"})
        deadline = time.monotonic() + 5
        entries: dict[str, dict] = {}
        while time.monotonic() < deadline and len(entries) < 2:
            entries = {e["request_id"]: e for e in (json.loads(line) for line in gw.access_log.read_text().splitlines()
                                                    if line.strip())}
            time.sleep(0.05)
        text = gw.access_log.read_text()
        for value in ("7101000042", "Секретнова", "%D0%A1%D0%B5%D0%BA", "surname", "number="):
            assert value not in text, value
        assert entries["lookup-log-0001"]["uri"] == "/api/registry/certificates/lookup"
        assert entries["search-log-0001"]["uri"] == "/api/navigator/programs"


# --- 6. nginx's own errors as problem+json ----------------------------------------------------------


def _problem(status: int, headers: dict[str, str], body: bytes, code: str) -> None:
    assert headers.get("content-type", "").startswith("application/problem+json"), (status, headers, body[:300])
    problem = json.loads(body)
    assert problem["status"] == status and problem["code"] == code, problem
    assert problem["title"] and problem["detail"] and problem["request_id"] == headers["x-request-id"]
    assert headers["x-content-type-options"] == "nosniff"


def test_nginx_own_errors_are_problem_json(default_gateway) -> None:  # noqa: ANN001
    url = default_gateway.url
    host = httpx.URL(url).host
    cases = {
        # header larger than the header buffers (nginx's 494): a 431 problem
        "header too large": (f"GET /api/registry/x HTTP/1.1\r\nHost: {host}\r\nX-Big: {'a' * 40000}\r\n"
                             "Connection: close\r\n\r\n", 431, "request_header_too_large"),
        "URI too long": (f"GET /api/registry/x?q={'a' * 40000} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
                         414, "uri_too_long"),
        "bad request line": ("GARBAGE\r\n\r\n", 400, "bad_request"),
        "bad request (no Host)": ("GET /api/registry/x HTTP/1.1\r\nConnection: close\r\n\r\n", 400, "bad_request"),
        "bad request (broken header)": (f"GET /api/registry/x HTTP/1.1\r\nHost: {host}\r\nBad Header\r\n"
                                        "Connection: close\r\n\r\n", 400, "bad_request"),
        "TRACE": (f"TRACE /api/registry/x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n", 405,
                  "method_not_allowed"),
        "unknown transfer coding": (f"POST /api/registry/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip\r\n"
                                    "Connection: close\r\n\r\n", 501, "not_implemented"),
    }
    failures = []
    for name, (request, status, code) in cases.items():
        got, headers, body = raw_exchange(url, request.encode())
        try:
            assert got == status, (got, body[:200])
            _problem(status, headers, body, code)
        except (AssertionError, ValueError, KeyError) as exc:
            failures.append(f"{name}: {exc!r}")
    assert not failures, "\n".join(failures)
    # the gateway's other answers are unchanged: a proxied 200, and its own 404 problem
    with httpx.Client(base_url=url) as client:
        assert client.get("/api/registry/x").status_code == 200
        assert_problem(client.get("/api/nowhere"), 404, "not_found")


# --- 7. the development issuer's administrative endpoints ------------------------------------------


def test_dev_issuer_rotation_is_not_reachable_through_the_gateway(default_gateway) -> None:  # noqa: ANN001
    with httpx.Client(base_url=default_gateway.url) as client:
        for path in ("/auth/rotate", "/auth/rotate/", "/auth//rotate", "/auth/./rotate", "/auth/x/../rotate",
                     "/auth/%72otate", "/auth/ROTATE", "/auth/rotate?x=1"):
            for method in ("POST", "GET"):
                response = client.request(method, path)
                assert_problem(response, 404, "not_found")
        # what the local portal flow and the demo need stays: the JWKS and minting a token
        assert client.get("/auth/.well-known/jwks.json").json()["service"] == "auth"
        assert client.post("/auth/token", json={}).json()["path"] == "/auth/token"


def test_only_the_browser_pages_of_the_dev_issuers_oidc_provider_pass_the_gateway(default_gateway) -> None:  # noqa: ANN001
    """Sign-in and sign-out pages are visited by the browser; the token, userinfo, JWKS and
    discovery endpoints are the portal's back channel to the issuer and unknown here."""
    with httpx.Client(base_url=default_gateway.url) as client:
        for path in ("/auth/oidc/authorize", "/auth/oidc/end-session"):
            for method in ("GET", "POST"):
                answer = client.request(method, path).json()
                assert (answer["path"], answer["service"]) == (path, "auth")
        # the portal's own sign-in, callback and sign-out share the /auth/ prefix
        for path in ("/auth/login", "/auth/callback", "/auth/logout"):
            assert client.get(path).json()["service"] == "portal"
        assert client.post("/auth/logout").json()["service"] == "portal"
        for path in ("/auth/oidc/token", "/auth/oidc/userinfo", "/auth/oidc/jwks", "/auth/oidc/",
                     "/auth/oidc/.well-known/openid-configuration", "/auth/oidc/authorize/", "/auth/oidc//token",
                     "/auth/oidc/authorize/../token", "/auth/oidc/%74oken", "/auth/oidc/TOKEN"):
            for method in ("POST", "GET"):
                assert_problem(client.request(method, path), 404, "not_found")


def test_the_gateways_own_answers_are_russian_unless_english_comes_first(default_gateway) -> None:  # noqa: ANN001
    with httpx.Client(base_url=default_gateway.url) as client:
        russian = client.get("/api/nowhere")
        english = client.get("/api/nowhere", headers={"Accept-Language": "en-GB,en;q=0.9,ru;q=0.5"})
        prefers_russian = client.get("/api/nowhere", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"})
    for response in (russian, english, prefers_russian):
        assert_problem(response, 404, "not_found")
    assert (russian.json()["title"], russian.json()["detail"]) == ("Не найдено", "По этому адресу нет API.")
    assert (english.json()["title"], english.json()["detail"]) == ("Not found", "No API at this path.")
    assert prefers_russian.json()["detail"] == russian.json()["detail"]
