"""Bearer tokens: signature from the JWKS, issuer, audience, expiry, roles; key rotation."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI

from pfdo_plumbing.auth.devkeys import DevKeys
from pfdo_plumbing.auth.jwks import JWKSCache
from pfdo_plumbing.auth.policy import POLICY, require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.auth.tokens import InvalidToken, TokenVerifier
from pfdo_plumbing.http.problems import install_problem_handlers

ISS, AUD = "test-issuer", "pfdo"


@pytest.fixture
def keys(tmp_path: Path) -> DevKeys:
    keys = DevKeys(tmp_path / "keys")
    keys.ensure()
    keys.write_jwks(tmp_path / "jwks.json")
    return keys


@pytest.fixture
def app(keys: DevKeys, tmp_path: Path) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.verifier = TokenVerifier(JWKSCache(str(tmp_path / "jwks.json"), min_refresh_interval_s=0), issuer=ISS, audience=AUD)

    @app.get("/orders")
    async def orders(who: Principal = Depends(require("billing.order.read"))) -> dict[str, str]:
        return {"sub": who.sub, "role": who.role.value}

    return app


async def call(app: FastAPI, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/orders", headers=headers)


async def test_valid_token_of_an_allowed_role_passes(app: FastAPI, keys: DevKeys) -> None:
    response = await call(app, keys.mint(sub="fin-1", role="finance", issuer=ISS, audience=AUD))
    assert response.status_code == 200
    assert response.json() == {"sub": "fin-1", "role": "finance"}


@pytest.mark.parametrize(
    ("mint", "reason"),
    [
        (lambda k: k.mint(sub="a", role="finance", issuer=ISS, audience="other"), "wrong audience"),
        (lambda k: k.mint(sub="a", role="finance", issuer="evil", audience=AUD), "wrong issuer"),
        (lambda k: k.mint(sub="a", role="finance", issuer=ISS, audience=AUD, ttl_s=10, now=time.time() - 3600), "token expired"),
        (lambda k: DevKeys(k.folder.parent / "forger").mint(sub="a", role="finance", issuer=ISS, audience=AUD), "unknown signing key"),
        (lambda k: k.mint(sub="a", role="finance", issuer=ISS, audience=AUD)[:-4] + "AAAA", "invalid token"),
        (lambda k: "not.a.jwt", "malformed token"),
    ],
)
async def test_bad_tokens_get_the_same_401_and_the_reason_stays_inside(app: FastAPI, keys: DevKeys, mint,  # noqa: ANN001
                                                                        reason: str) -> None:
    token = mint(keys)
    response = await call(app, token)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "unauthenticated"
    assert reason not in body["detail"]
    assert body["detail"] == (await call(app, None)).json()["detail"]  # the same answer as no token at all
    assert response.headers["content-type"] == "application/problem+json"
    with pytest.raises(InvalidToken, match=reason):  # the reason, for the log
        await app.state.verifier.verify(token)


async def test_a_token_living_longer_than_the_maximum_is_refused_before_it_expires(keys: DevKeys, tmp_path: Path) -> None:
    verifier = TokenVerifier(JWKSCache(str(tmp_path / "jwks.json")), issuer=ISS, audience=AUD, max_lifetime_s=3600)
    assert (await verifier.verify(keys.mint(sub="p", role="parent", issuer=ISS, audience=AUD, ttl_s=3600))).sub == "p"
    with pytest.raises(InvalidToken, match="lifetime"):
        await verifier.verify(keys.mint(sub="p", role="parent", issuer=ISS, audience=AUD, ttl_s=3601))
    # issued long ago with a long life: still unexpired, still refused
    with pytest.raises(InvalidToken, match="lifetime"):
        await verifier.verify(keys.mint(sub="p", role="parent", issuer=ISS, audience=AUD, ttl_s=40 * 86400,
                                        now=time.time() - 30 * 86400))


async def test_missing_token_is_401_and_wrong_role_is_403(app: FastAPI, keys: DevKeys) -> None:
    assert (await call(app, None)).status_code == 401
    response = await call(app, keys.mint(sub="p", role="parent", issuer=ISS, audience=AUD))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_a_rotated_key_is_picked_up_without_restart(app: FastAPI, keys: DevKeys, tmp_path: Path) -> None:
    old = keys.mint(sub="f", role="finance", issuer=ISS, audience=AUD)
    assert (await call(app, old)).status_code == 200
    time.sleep(1.1)  # distinct key file mtime
    keys.rotate()
    keys.write_jwks(tmp_path / "jwks.json")
    new = keys.mint(sub="f", role="finance", issuer=ISS, audience=AUD)
    assert (await call(app, new)).status_code == 200
    assert (await call(app, old)).status_code == 200


def test_policy_table_names_only_known_roles() -> None:
    assert all(roles for roles in POLICY.values())
    with pytest.raises(KeyError):
        require("billing.nonexistent")


async def test_a_verified_token_is_remembered_until_it_expires_or_its_key_goes(keys: DevKeys, tmp_path: Path) -> None:
    jwks = JWKSCache(str(tmp_path / "jwks.json"), min_refresh_interval_s=0)
    verifier = TokenVerifier(jwks, issuer=ISS, audience=AUD, leeway_s=0, remember=2)
    signature_checks = 0
    full_check = verifier._verify  # noqa: SLF001

    async def counted(token: str):  # noqa: ANN202
        nonlocal signature_checks
        signature_checks += 1
        return await full_check(token)

    verifier._verify = counted  # type: ignore[method-assign]  # noqa: SLF001
    token = keys.mint(sub="p-1", role="parent", issuer=ISS, audience=AUD)
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first and signature_checks == 1

    # past its expiry a remembered token is refused, as a new one would be
    short = keys.mint(sub="p-2", role="parent", issuer=ISS, audience=AUD, ttl_s=1)
    assert (await verifier.verify(short)).sub == "p-2"
    time.sleep(1.1)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(short)
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(short)

    # a forged copy (another signature) is not the remembered token: checked in full, refused
    with pytest.raises(InvalidToken):
        await verifier.verify(token[:-4] + "AAAA")

    # bounded: remembering more than `remember` tokens forgets the older ones
    others = [keys.mint(sub=f"o-{i}", role="parent", issuer=ISS, audience=AUD) for i in range(3)]
    for other in others:
        await verifier.verify(other)
    assert len(verifier._verified) <= 2  # noqa: SLF001

    # the key that verified it leaves the JWKS: the token is checked again and refused
    signed_by_old_key = keys.mint(sub="p-3", role="parent", issuer=ISS, audience=AUD)
    await verifier.verify(signed_by_old_key)
    checks = signature_checks
    await verifier.verify(signed_by_old_key)
    assert signature_checks == checks
    time.sleep(1.1)  # distinct key file mtime
    keys.rotate()
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys.jwks()["keys"][-1:]}))  # the new key only
    jwks._fetched_at = 0.0  # noqa: SLF001 - its time to live has passed
    jwks.ttl_s = 0
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await verifier.verify(signed_by_old_key)


class NetworkLikeJWKS(JWKSCache):
    """Reads the key file after a pause, as a fetch over the network would: requests interleave."""

    async def _load(self) -> dict:
        await asyncio.sleep(0.01)
        return await super()._load()


async def test_concurrent_requests_of_a_token_whose_key_went_are_all_refused_cleanly(keys: DevKeys, tmp_path: Path) -> None:
    jwks = NetworkLikeJWKS(str(tmp_path / "jwks.json"), min_refresh_interval_s=0)
    verifier = TokenVerifier(jwks, issuer=ISS, audience=AUD)
    token = keys.mint(sub="p-1", role="parent", issuer=ISS, audience=AUD)
    await verifier.verify(token)
    time.sleep(1.1)  # distinct key file mtime
    keys.rotate()
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys.jwks()["keys"][-1:]}))
    jwks.ttl_s = 0  # every lookup fetches the set again (and awaits while doing it)
    results = await asyncio.gather(*(verifier.verify(token) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, InvalidToken) and r.reason == "unknown signing key" for r in results), results


async def test_an_anonymous_read_takes_no_token_but_still_checks_one(keys: DevKeys, tmp_path: Path) -> None:
    from pfdo_plumbing.auth.policy import optional

    app = FastAPI()
    install_problem_handlers(app)
    app.state.verifier = TokenVerifier(JWKSCache(str(tmp_path / "jwks.json"), min_refresh_interval_s=0), issuer=ISS, audience=AUD)

    @app.get("/catalogue")
    async def catalogue(who: Principal | None = Depends(optional("navigator.catalogue.search"))) -> dict[str, str | None]:
        return {"sub": who.sub if who else None}

    async def get(headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get("/catalogue", headers=headers)

    assert (await get({})).json() == {"sub": None}
    parent = keys.mint(sub="p-1", role="parent", issuer=ISS, audience=AUD)
    assert (await get({"Authorization": f"Bearer {parent}"})).json() == {"sub": "p-1"}
    for refused in ("Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer"):
        answer = await get({"Authorization": refused})
        assert (answer.status_code, answer.json()["code"]) == (401, "unauthenticated"), refused
    with pytest.raises(KeyError):
        optional("navigator.enrolment.apply")  # not open to anonymous callers
