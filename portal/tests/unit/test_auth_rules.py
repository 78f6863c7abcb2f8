"""Sign-in rules without I/O: reading who signed in from the claims by configuration, the
checks of a form post's origin and token, and where a sign-in may send the browser back to."""

from __future__ import annotations

import pytest

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.auth.claims import ClaimMapping, PortalUser, UnmappedIdentity, claim_at, map_identity
from pfdo_portal.auth.csrf import source_allowed, token_matches
from pfdo_portal.auth.guards import safe_next

DEV = ClaimMapping()
KEYCLOAK = ClaimMapping(role="realm_access.roles", municipality="attributes.oktmo", provider_id="org.id",
                        name="preferred_username", role_aliases={"pfdo-parent": "parent", "pfdo-mo": "municipal_operator"})


def test_the_development_issuers_claims_map_one_to_one() -> None:
    user = map_identity({"sub": "demo-operator-01", "role": "municipal_operator", "municipality": "01",
                         "name": "Тихоновский район"}, DEV)
    assert user == PortalUser("demo-operator-01", Role.MUNICIPAL_OPERATOR, "Тихоновский район", municipality="01")
    assert PortalUser.from_json(user.as_json()) == user


def test_keycloak_realm_roles_and_nested_attributes_by_configuration() -> None:
    claims = {"sub": "kc-1", "preferred_username": "ivanova",
              "realm_access": {"roles": ["offline_access", "uma_authorization", "pfdo-mo"]},
              "attributes": {"oktmo": ["42"]}}
    user = map_identity(claims, KEYCLOAK)
    assert (user.role, user.municipality, user.name) == (Role.MUNICIPAL_OPERATOR, "42", "ivanova")
    parent = map_identity({"sub": "kc-2", "realm_access": {"roles": ["pfdo-parent"]}}, KEYCLOAK)
    assert (parent.role, parent.name) == (Role.PARENT, "kc-2")  # no name claim: the subject


def test_a_dotted_key_is_found_as_it_is() -> None:
    assert claim_at({"https://region.ru/role": "parent"}, "https://region.ru/role") == "parent"
    assert claim_at({"a": {"b": 1}}, "a.c") is None


@pytest.mark.parametrize("claims", [
    {"sub": "x"},  # no role
    {"sub": "x", "role": "service"},  # service accounts do not sign in
    {"sub": "x", "role": "superuser"},
    {"sub": "x", "role": ["parent", "finance"]},  # two portal roles: whose cabinet?
    {"sub": "x", "role": "municipal_operator"},  # no municipality
    {"sub": "x", "role": "provider"},  # no organisation
    {"role": "parent"},  # no subject
    {"sub": "", "role": "parent"},
])
def test_claims_that_name_no_single_scoped_portal_role_are_refused(claims: dict) -> None:
    with pytest.raises(UnmappedIdentity):
        map_identity(claims, DEV)


ALLOWED = {"https://portal.example"}


@pytest.mark.parametrize(("origin", "referer", "ok"), [
    ("https://portal.example", None, True),
    ("https://PORTAL.example", None, True),
    ("https://evil.example", None, False),
    ("https://evil.example", "https://portal.example/page", False),  # Origin decides when present
    ("https://portal.example.evil.example", None, False),
    (None, "https://portal.example/cabinet?x=1", True),
    (None, "https://evil.example/portal.example", False),
    ("null", "https://evil.example/", False),
    ("null", None, True),  # a no-referrer policy: the token alone decides
    (None, None, True),
    (None, "not a url", False),
])
def test_the_source_of_a_form_post(origin: str | None, referer: str | None, ok: bool) -> None:
    assert source_allowed(origin, referer, ALLOWED) is ok


def test_the_token_of_a_form_post() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abd", "abc")
    assert not token_matches(None, "abc")
    assert not token_matches("", "")  # no session: no token to match
    assert not token_matches("abc", None)


@pytest.mark.parametrize(("raw", "expected"), [
    ("/cabinet?child=1", "/cabinet?child=1"),
    ("/", "/"),
    (None, "/"),
    ("", "/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("/x\\y", "/"),
    ("cabinet", "/"),
])
def test_a_sign_in_returns_only_to_a_page_of_the_portal(raw: str | None, expected: str) -> None:
    assert safe_next(raw) == expected


@pytest.mark.parametrize(("query", "reason"), [
    ({"state": "other", "code": "c"}, "state does not match"),
    ({"code": "c"}, "state does not match"),
    ({"state": "s-1"}, "no code"),
    ({"error": "access_denied", "state": "s-1"}, "provider answered access_denied"),
])
async def test_a_callback_is_checked_against_the_sign_in_under_way_before_any_call(query: dict, reason: str) -> None:
    from pfdo_portal.auth.oidc import OidcClient, SignInFailed
    from pfdo_portal.auth.settings import AuthSettings

    client = OidcClient(AuthSettings(oidc_issuer_url="http://127.0.0.1:9/nowhere"))  # never reached
    with pytest.raises(SignInFailed, match=reason):
        await client.finish(query, {"state": "s-1", "nonce": "n", "code_verifier": "v" * 43})


def test_the_tokens_kept_have_an_expiry_time_and_nothing_else_of_the_answer() -> None:
    from pfdo_portal.auth.oidc import stored_tokens

    kept = stored_tokens({"access_token": "a", "expires_in": 60, "id_token": "i", "refresh_token": "r",
                          "token_type": "Bearer", "scope": "openid"})
    assert set(kept) == {"access_token", "expires_at", "id_token", "refresh_token"}
    assert stored_tokens({"access_token": "a", "expires_at": 123})["expires_at"] == 123


def test_tokens_are_sealed_and_open_only_with_the_same_secret() -> None:
    from pfdo_portal.auth.sealing import TokenSeal

    tokens = {"access_token": "a.b.c", "refresh_token": "r", "id_token": "i.d.t", "expires_at": 1_800_000_000}
    stored = TokenSeal("secret-one-of-the-region").seal(tokens)
    assert set(stored) == {"expires_at", "sealed"} and "a.b.c" not in stored["sealed"]
    assert TokenSeal("secret-one-of-the-region").open(stored) == tokens
    assert TokenSeal("secret-two-of-the-region").open(stored) is None
    assert TokenSeal("secret-one-of-the-region").open({**stored, "sealed": stored["sealed"][:-4] + "AAAA"}) is None
    assert TokenSeal("secret-one-of-the-region").open(None) is None
    # the readable expiry decides the refresh (an operator may shorten it)
    assert TokenSeal("secret-one-of-the-region").open({**stored, "expires_at": 5})["expires_at"] == 5
