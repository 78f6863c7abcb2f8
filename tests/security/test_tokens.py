"""Bearer tokens through the gateway against every running service: forged, expired, wrong
audience or issuer, alg=none and algorithm confusion get 401 problem+json; signing keys rotate
without a restart (the services refetch the JWKS when a token names a key they do not know)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pfdo_plumbing.auth.devkeys import DevKeys
from pfdo_plumbing.auth.principal import Role
from pfdo_testkit import TestAuth as Auth

from ._routes import routes_of
from .conftest import available_services

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
ROLE = Role.REGIONAL_OPERATOR


def probe_path(service: str) -> str:
    """A GET route of the service without path parameters that a regional operator may call."""
    candidates = [r for r in routes_of(service) if r.method == "GET" and not r.path_params and ROLE in r.allowed]
    for route in sorted(candidates, key=lambda r: not r.path.endswith("/audit")):  # audit: no required query
        return route.path
    raise AssertionError(f"{service}: no GET route for {ROLE.value} without path parameters")


def claims(auth: Auth, **override: object) -> dict:
    now = int(time.time())
    base = {"sub": "ro-tokens", "role": ROLE.value, "iss": auth.issuer, "aud": auth.audience,
            "iat": now, "nbf": now, "exp": now + 600, "jti": uuid.uuid4().hex}
    base.update(override)
    return {k: v for k, v in base.items() if v is not None}


def signed(auth: Auth, **override: object) -> str:
    kid, key = auth.keys.current()
    return jwt.encode(claims(auth, **override), key, algorithm="RS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(auth: Auth) -> str:
    kid, _ = auth.keys.current()
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{b64(json.dumps(claims(auth)).encode())}."


def hs256_with_public_key(auth: Auth) -> str:
    """Algorithm confusion: HMAC keyed with the published RSA public key."""
    kid, key = auth.keys.current()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(claims(auth)).encode())
    import hashlib
    import hmac

    signature = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def forged_same_kid(auth: Auth) -> str:
    kid, _ = auth.keys.current()
    other = DevKeys(Path(auth.folder) / f"forger-{uuid.uuid4().hex[:6]}")
    _, forger_key = other.current()
    return jwt.encode(claims(auth), forger_key, algorithm="RS256", headers={"kid": kid})


def forged_own_kid(auth: Auth) -> str:
    other = DevKeys(Path(auth.folder) / f"forger-{uuid.uuid4().hex[:6]}")
    return other.mint(sub="ro", role=ROLE.value, issuer=auth.issuer, audience=auth.audience)


def es256_unknown_key(auth: Auth) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims(auth), key, algorithm="ES256", headers={"kid": "attacker-ec"})


def tampered(auth: Auth) -> str:
    header, body, signature = signed(auth).split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["role"] = Role.REGIONAL_OPERATOR.value
    payload["sub"] = "somebody-else"
    return f"{header}.{b64(json.dumps(payload).encode())}.{signature}"


BAD_TOKENS: dict[str, Callable[[Auth], str]] = {
    "forged: another key under the real kid": forged_same_kid,
    "forged: another key with its own kid": forged_own_kid,
    "forged: ES256 key nobody published": es256_unknown_key,
    "tampered claims": tampered,
    "expired": lambda a: signed(a, iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200, exp=int(time.time()) - 3600),
    "not yet valid": lambda a: signed(a, nbf=int(time.time()) + 3600),
    "wrong audience": lambda a: signed(a, aud="another-system"),
    "wrong issuer": lambda a: signed(a, iss="https://evil.example"),
    "alg=none": unsigned,
    "HS256 keyed with the public key": hs256_with_public_key,
    "no expiry": lambda a: signed(a, exp=None),
    "lifetime past the maximum (13 h)": lambda a: signed(a, exp=int(time.time()) + 13 * 3600),
    "lifetime past the maximum, issued long ago": lambda a: signed(a, iat=int(time.time()) - 30 * 86400,
                                                                   nbf=int(time.time()) - 30 * 86400),
    "no subject": lambda a: signed(a, sub=None),
    "unknown role": lambda a: signed(a, role="superuser"),
    "garbage": lambda a: "not-a-jwt",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_bad_tokens_get_401_problem_on_every_service(sec_platform, sec_auth: Auth, kind: str) -> None:  # noqa: ANN001
    token = BAD_TOKENS[kind](sec_auth)
    with httpx.Client(base_url=sec_platform.gateway_url, timeout=15) as client:
        for service in available_services():
            path = probe_path(service)
            request_id = f"tok-{uuid.uuid4().hex[:12]}"
            response = client.get(path, headers={"Authorization": f"Bearer {token}", "X-Request-ID": request_id})
            assert response.status_code == 401, (service, kind, response.status_code, response.text[:300])
            assert response.headers["content-type"].startswith("application/problem+json")
            body = response.json()
            assert body["code"] == "unauthenticated" and body["status"] == 401
            assert body["request_id"] == request_id == response.headers["x-request-id"]
            assert response.headers["www-authenticate"].startswith("Bearer")
            # the same route with a good token answers: the refusal was about the token
            assert client.get(path, headers=sec_auth.headers(ROLE.value, "ro-ok")).status_code == 200


def test_missing_or_malformed_authorization_header_is_401(sec_platform, sec_auth: Auth) -> None:  # noqa: ANN001
    good = sec_auth.token(ROLE.value, "ro-hdr")
    with httpx.Client(base_url=sec_platform.gateway_url, timeout=15) as client:
        for service in available_services():
            path = probe_path(service)
            for headers in ({}, {"Authorization": good}, {"Authorization": f"Basic {good}"}, {"Authorization": "Bearer"}):
                response = client.get(path, headers=headers)
                assert response.status_code == 401, (service, headers.get("Authorization", "")[:20], response.text)
                assert response.json()["code"] == "unauthenticated"


def test_401_answers_do_not_say_which_check_failed_but_the_log_does(sec_platform, sec_auth: Auth) -> None:  # noqa: ANN001
    """Every refused token, and a missing one, gets the same problem (the same detail): a prober
    learns nothing about which check failed. The service's structured log keeps the reason."""
    service = available_services()[0]
    path = probe_path(service)
    answers: dict[str, tuple] = {}
    with httpx.Client(base_url=sec_platform.gateway_url, timeout=15) as client:
        for kind, make in BAD_TOKENS.items():
            response = client.get(path, headers={"Authorization": f"Bearer {make(sec_auth)}"})
            assert response.status_code == 401, (kind, response.text)
            body = response.json()
            answers[kind] = (body["code"], body["title"], body["detail"], sorted(set(body) - {"request_id"}),
                             response.headers["www-authenticate"])
        missing = client.get(path).json()
        answers["no token"] = (missing["code"], missing["title"], missing["detail"],
                               sorted(set(missing) - {"request_id"}), client.get(path).headers["www-authenticate"])
    distinct = set(map(repr, answers.values()))
    assert len(distinct) == 1, "\n".join(f"{k}: {v}" for k, v in answers.items())
    for reason in ("expired", "lifetime"):
        assert reason not in next(iter(answers.values()))[2]
    log = sec_platform.processes[service].log_file
    deadline = time.monotonic() + 5
    while "token lifetime exceeds the maximum" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    text = log.read_text(errors="replace")
    assert "token lifetime exceeds the maximum" in text and "token expired" in text


def _status_with(client: httpx.Client, path: str, token: str) -> int:
    return client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code


def test_signing_key_rotation_without_restart(sec_platform, sec_auth: Auth) -> None:  # noqa: ANN001
    before = sec_auth.token(ROLE.value, "ro-before")
    old_kid = jwt.get_unverified_header(before)["kid"]
    with httpx.Client(base_url=sec_platform.gateway_url, timeout=15) as client:
        for service in available_services():
            assert _status_with(client, probe_path(service), before) == 200
        new_kid = sec_auth.keys.rotate()
        # signed with the new key but not yet published: refused everywhere
        unpublished = sec_auth.token(ROLE.value, "ro-early")
        assert jwt.get_unverified_header(unpublished)["kid"] == new_kid != old_kid
        for service in available_services():
            assert _status_with(client, probe_path(service), unpublished) == 401
        sec_auth.publish()
        after = sec_auth.token(ROLE.value, "ro-after")
        pending = set(available_services())
        deadline = time.monotonic() + 15  # the JWKS cache refetches an unknown kid at most every 5 s
        while pending and time.monotonic() < deadline:
            for service in sorted(pending):
                if _status_with(client, probe_path(service), after) == 200:
                    pending.discard(service)
            time.sleep(0.5)
        assert not pending, f"services that did not pick up the rotated key: {sorted(pending)}"
        for service in available_services():  # the old key stays published: its tokens still verify
            assert _status_with(client, probe_path(service), before) == 200
        for pid in (p.pid for p in sec_platform.processes.values()):
            assert pid  # no service was restarted: same processes as before
