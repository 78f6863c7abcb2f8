"""The per-subject rate limit, through the gateway, against a real service: counted after the
signature is verified, so all valid tokens of one account share one budget while forged tokens
naming that account spend nothing of it (the gateway's own per-token limit: test_gateway_hardening)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import jwt
import pytest

from pfdo_plumbing.auth.devkeys import DevKeys
from pfdo_testkit import TestAuth as Auth

from .test_tokens import ROLE, claims, probe_path

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
SERVICE = "ratings"
BURST = 3


@pytest.fixture(scope="module")
async def limited_platform(platform_factory, sec_auth: Auth) -> object:  # noqa: ANN001
    """One service with a tiny per-subject budget (1 + 3 at once, then one per 10 s)."""
    return await platform_factory(auth=sec_auth, db_prefix="rl", services=(SERVICE,), extra_env={
        "PFDO_RATE_PER_SUBJECT": "0.1", "PFDO_BURST_PER_SUBJECT": str(BURST)})


def forged(auth: Auth, sub: str) -> str:
    """A well-formed token naming ``sub``, signed by a key nobody published, under the real kid."""
    kid, _ = auth.keys.current()
    _, key = DevKeys(Path(auth.folder) / f"forger-{uuid.uuid4().hex[:6]}").current()
    return jwt.encode(claims(auth, sub=sub), key, algorithm="RS256", headers={"kid": kid})


def test_all_valid_tokens_of_a_subject_share_one_budget_and_forged_ones_spend_none(
        limited_platform, sec_auth: Auth) -> None:  # noqa: ANN001
    path = probe_path(SERVICE)
    victim, other = f"ro-victim-{uuid.uuid4().hex[:6]}", f"ro-other-{uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=limited_platform.gateway_url, timeout=15) as client:
        def get(authorization: str) -> httpx.Response:
            return client.get(path, headers={"Authorization": authorization})

        # an attacker floods with tokens that name the victim: each is refused, none is counted
        for _ in range(2 * BURST):
            assert get(f"Bearer {forged(sec_auth, victim)}").status_code == 401
        # the victim's budget is whole: 1 + burst requests pass, whichever of their tokens they use
        tokens = [sec_auth.token(ROLE.value, victim) for _ in range(2)]
        spellings = [f"Bearer {tokens[0]}", f"bearer {tokens[1]}", f"Bearer {tokens[1]}", f"BEARER {tokens[0]}"]
        assert [get(a).status_code for a in spellings] == [200] * (BURST + 1)
        # ... and then the subject is out, with any token (a new one too), lower-case scheme included
        for authorization in (f"bearer {tokens[0]}", f"Bearer {sec_auth.token(ROLE.value, victim)}"):
            refused = get(authorization)
            assert refused.status_code == 429, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
        # another subject is not slowed down
        assert get(f"Bearer {sec_auth.token(ROLE.value, other)}").status_code == 200
