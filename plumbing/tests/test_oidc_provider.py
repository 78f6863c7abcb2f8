"""The development issuer's OpenID Connect provider: PKCE (RFC 7636), the authorization request's
checks, single-use codes, the token endpoint's refusals, and tokens the services accept."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from pfdo_plumbing.auth.devissuer import create_issuer_app
from pfdo_plumbing.auth.jwks import JWKSCache
from pfdo_plumbing.auth.oidc_accounts import load_accounts
from pfdo_plumbing.auth.oidc_grants import (
    AuthorizeError,
    Grant,
    GrantStore,
    check_authorization_request,
    s256,
    verifier_matches,
)
from pfdo_plumbing.auth.oidc_settings import DevOidcSettings
from pfdo_plumbing.auth.principal import Role
from pfdo_plumbing.auth.tokens import TokenVerifier
from pfdo_plumbing.settings import ServiceSettings

CALLBACK = "https://portal.example/auth/callback"
SIGNED_OUT = "https://portal.example/"
CLIENT = ("pfdo-portal", "portal-secret-1")


def oidc_settings(tmp_path: Path) -> DevOidcSettings:
    accounts = tmp_path / "demo-accounts.json"
    accounts.write_text(json.dumps({
        "municipal_operators": [{"role": "municipal_operator", "sub": "demo-operator-01", "municipality": "01",
                                 "name": "Тихоновский район"}],
        "providers": [{"role": "provider", "sub": "demo-provider-0", "provider_id": "p-0", "name": "ИП Андреев"}],
        "parents": [{"role": "parent", "sub": "parent-uuid-1", "certificates": ["48-01-000001"]}],
    }, ensure_ascii=False))
    return DevOidcSettings(client_id=CLIENT[0], client_secret=CLIENT[1], redirect_uris=[CALLBACK],
                           post_logout_redirect_uris=[SIGNED_OUT], accounts_file=str(accounts),
                           public_url="https://gateway.example/auth/oidc")


@pytest.fixture
def service(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(service_name="auth", dev_issuer_enabled=True, dev_keys_dir=str(tmp_path / "keys"),
                           jwt_issuer="pfdo-dev-issuer", jwt_audience="pfdo")


@pytest.fixture
async def issuer(service: ServiceSettings, tmp_path: Path):  # noqa: ANN201
    app = create_issuer_app(service, oidc_settings(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://issuer.internal") as client:
        yield client


def request_params(challenge: str, **overrides: str) -> dict[str, str]:
    return {"client_id": CLIENT[0], "redirect_uri": CALLBACK, "response_type": "code", "scope": "openid profile",
            "state": "state-1", "nonce": "nonce-1", "code_challenge": challenge, "code_challenge_method": "S256",
            **overrides}


async def sign_in(client: httpx.AsyncClient, account: str = "parent-uuid-1") -> tuple[str, str, dict[str, str]]:
    """Pick ``account`` on the sign-in page: (code, verifier, the authorization request)."""
    verifier = secrets.token_urlsafe(48)
    params = request_params(s256(verifier))
    page = await client.get("/auth/oidc/authorize", params=params)
    assert page.status_code == 200 and 'lang="ru"' in page.text and "Родитель" in page.text
    answer = await client.post("/auth/oidc/authorize", data={**params, "account": account})
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["state-1"]
    return query["code"][0], verifier, params


async def redeem(client: httpx.AsyncClient, code: str, verifier: str, redirect_uri: str = CALLBACK,
                 auth: tuple[str, str] = CLIENT) -> httpx.Response:
    return await client.post("/auth/oidc/token", auth=auth, data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": redirect_uri})


# ---- PKCE and the authorization request, without I/O ---------------------------------------------


def test_s256_matches_the_example_of_rfc_7636() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert verifier_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not verifier_matches(verifier[:-1] + "x", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not verifier_matches(None, s256(verifier))
    short = "a" * 42  # RFC 7636: 43..128 characters
    assert not verifier_matches(short, s256(short))
    odd = "а" * 43  # Cyrillic: not in the verifier's alphabet
    assert not verifier_matches(odd, "x" * 43)


@pytest.mark.parametrize(("override", "error", "redirectable"), [
    ({"client_id": "stranger"}, "unauthorized_client", False),
    ({"redirect_uri": "https://evil.example/cb"}, "invalid_request", False),
    ({"redirect_uri": CALLBACK + "/"}, "invalid_request", False),
    ({"response_type": "token"}, "unsupported_response_type", True),
    ({"scope": "profile"}, "invalid_scope", True),
    ({"code_challenge_method": "plain"}, "invalid_request", True),
    ({"code_challenge": ""}, "invalid_request", True),
    ({"state": ""}, "invalid_request", True),
    ({"nonce": ""}, "invalid_request", True),
])
def test_an_authorization_request_is_refused_when(tmp_path: Path, override: dict[str, str], error: str,
                                                  redirectable: bool) -> None:
    with pytest.raises(AuthorizeError) as refused:
        check_authorization_request(request_params(s256("v" * 43), **override), oidc_settings(tmp_path))
    assert (refused.value.error, refused.value.redirectable) == (error, redirectable)


def test_a_code_is_redeemed_once_and_not_after_it_expires(tmp_path: Path) -> None:
    request = check_authorization_request(request_params(s256("v" * 43)), oidc_settings(tmp_path))
    grant = Grant(request, load_accounts(None)[0], session_id="s1", auth_time=0)
    store = GrantStore(code_ttl_s=60, refresh_ttl_s=600)
    code = store.issue_code(grant, now=1000)
    assert store.redeem_code(code, now=1001) == grant
    assert store.redeem_code(code, now=1002) is None
    late = store.issue_code(grant, now=1000)
    assert store.redeem_code(late, now=1060) is None
    refresh = [store.issue_refresh(grant, now=1000) for _ in range(2)]
    assert store.end_session("s1") == 2
    assert all(store.redeem_refresh(t, now=1001) is None for t in refresh)


def test_the_accounts_file_gives_every_role_and_the_built_in_ones_stay(tmp_path: Path) -> None:
    accounts = load_accounts(oidc_settings(tmp_path).accounts_file)
    assert {a.role for a in accounts} == {Role.PARENT, Role.PROVIDER, Role.MUNICIPAL_OPERATOR,
                                          Role.REGIONAL_OPERATOR, Role.FINANCE}
    operator = next(a for a in accounts if a.role is Role.MUNICIPAL_OPERATOR)
    assert operator.claims() == {"sub": "demo-operator-01", "role": "municipal_operator",
                                 "name": "Тихоновский район", "municipality": "01"}
    assert {a.role for a in load_accounts(tmp_path / "missing.json")} == {Role.REGIONAL_OPERATOR, Role.FINANCE}


# ---- the provider's endpoints -------------------------------------------------------------------


async def test_discovery_sends_the_browser_through_the_gateway_and_the_portal_straight(issuer) -> None:  # noqa: ANN001
    found = (await issuer.get("/auth/oidc/.well-known/openid-configuration")).json()
    assert found["issuer"] == "pfdo-dev-issuer"
    assert found["authorization_endpoint"] == "https://gateway.example/auth/oidc/authorize"
    assert found["end_session_endpoint"] == "https://gateway.example/auth/oidc/end-session"
    assert found["token_endpoint"] == "http://issuer.internal/auth/oidc/token"
    assert found["jwks_uri"] == "http://issuer.internal/auth/oidc/jwks"
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert (await issuer.get("/auth/oidc/jwks")).json() == (await issuer.get("/auth/.well-known/jwks.json")).json()


async def test_the_code_flow_gives_the_token_the_services_accept_and_an_id_token_for_the_portal(
        issuer, service: ServiceSettings, tmp_path: Path) -> None:  # noqa: ANN001
    code, verifier, _ = await sign_in(issuer, "demo-provider-0")
    answer = await redeem(issuer, code, verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    jwks = tmp_path / "jwks.json"
    jwks.write_text((await issuer.get("/auth/oidc/jwks")).text)
    verifier_ = TokenVerifier(JWKSCache(str(jwks)), issuer=service.jwt_issuer, audience=service.jwt_audience)
    principal = await verifier_.verify(body["access_token"])
    assert (principal.sub, principal.role, principal.provider_id) == ("demo-provider-0", Role.PROVIDER, "p-0")
    header = jwt.get_unverified_header(body["id_token"])
    public = jwt.PyJWK(next(k for k in json.loads(jwks.read_text())["keys"] if k["kid"] == header["kid"]))
    id_claims = jwt.decode(body["id_token"], public, algorithms=["RS256"], audience=CLIENT[0],
                           issuer=service.jwt_issuer)
    assert id_claims["nonce"] == "nonce-1" and id_claims["sub"] == "demo-provider-0"
    assert id_claims["role"] == "provider" and id_claims["provider_id"] == "p-0" and id_claims["sid"]
    info = await issuer.get("/auth/oidc/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.json() == {"sub": "demo-provider-0", "role": "provider", "provider_id": "p-0", "name": "ИП Андреев"}
    assert (await issuer.get("/auth/oidc/userinfo", headers={"Authorization": "Bearer x.y.z"})).status_code == 401


async def test_a_wrong_verifier_a_reused_code_a_wrong_redirect_uri_and_a_wrong_secret_are_refused(issuer) -> None:  # noqa: ANN001
    code, verifier, _ = await sign_in(issuer)
    wrong = await redeem(issuer, code, secrets.token_urlsafe(48))
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    # the code was spent by the failed try: the right verifier no longer helps
    assert (await redeem(issuer, code, verifier)).json()["error"] == "invalid_grant"

    code, verifier, _ = await sign_in(issuer)
    assert (await redeem(issuer, code, verifier)).status_code == 200
    reused = await redeem(issuer, code, verifier)
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")

    code, verifier, _ = await sign_in(issuer)
    elsewhere = await redeem(issuer, code, verifier, redirect_uri="https://evil.example/cb")
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (400, "invalid_grant")

    code, verifier, _ = await sign_in(issuer)
    stranger = await redeem(issuer, code, verifier, auth=(CLIENT[0], "guessed-secret"))
    assert (stranger.status_code, stranger.json()["error"]) == (401, "invalid_client")
    by_post = await issuer.post("/auth/oidc/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": CALLBACK,
        "client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert by_post.status_code == 200  # client_secret_post works too (and the failed secret spent nothing)


async def test_refused_requests_never_send_the_browser_to_an_unregistered_address(issuer) -> None:  # noqa: ANN001
    bad_uri = await issuer.get("/auth/oidc/authorize",
                               params=request_params(s256("v" * 43), redirect_uri="https://evil.example/cb"))
    assert bad_uri.status_code == 400 and "location" not in bad_uri.headers and "Вход невозможен" in bad_uri.text
    no_pkce = await issuer.get("/auth/oidc/authorize", params=request_params("", code_challenge_method=""))
    assert no_pkce.status_code == 303
    query = parse_qs(urlsplit(no_pkce.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["state-1"]
    unknown = await issuer.post("/auth/oidc/authorize", data={**request_params(s256("v" * 43)), "account": "nobody"})
    assert unknown.status_code == 400


async def test_another_account_can_be_typed_in(issuer) -> None:  # noqa: ANN001
    verifier = secrets.token_urlsafe(48)
    params = request_params(s256(verifier))
    answer = await issuer.post("/auth/oidc/authorize", data={**params, "account": "", "role": "parent",
                                                              "sub": "new-parent-7"})
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    token = (await redeem(issuer, code, verifier)).json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "new-parent-7"
    refused = await issuer.post("/auth/oidc/authorize", data={**params, "account": "", "role": "service", "sub": "x"})
    assert refused.status_code == 400  # no service accounts from the sign-in page


async def test_end_session_goes_back_only_to_a_registered_address_and_revokes_refresh_tokens(issuer) -> None:  # noqa: ANN001
    code, verifier, _ = await sign_in(issuer)
    body = (await redeem(issuer, code, verifier)).json()
    refreshed = await issuer.post("/auth/oidc/token", auth=CLIENT, data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200
    rotated = refreshed.json()["refresh_token"]
    assert (await issuer.post("/auth/oidc/token", auth=CLIENT, data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"]})).json()["error"] == "invalid_grant"

    evil = await issuer.get("/auth/oidc/end-session", params={
        "id_token_hint": body["id_token"], "post_logout_redirect_uri": "https://evil.example/"})
    assert evil.status_code == 400 and "location" not in evil.headers
    forged = await issuer.get("/auth/oidc/end-session", params={"id_token_hint": body["id_token"][:-4] + "AAAA"})
    assert forged.status_code == 400
    ended = await issuer.get("/auth/oidc/end-session", params={
        "id_token_hint": body["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "s-9"})
    assert ended.status_code == 303 and ended.headers["location"] == SIGNED_OUT + "?state=s-9"
    after = await issuer.post("/auth/oidc/token", auth=CLIENT, data={"grant_type": "refresh_token",
                                                                       "refresh_token": rotated})
    assert after.json()["error"] == "invalid_grant"
    page = await issuer.get("/auth/oidc/end-session")
    assert page.status_code == 200 and "Вы вышли" in page.text


async def test_the_admin_token_endpoint_is_unchanged(issuer) -> None:  # noqa: ANN001
    minted = await issuer.post("/auth/token", json={"sub": "fin-1", "role": "finance", "ttl_s": 60})
    assert minted.status_code == 200 and minted.json()["expires_in"] == 60
