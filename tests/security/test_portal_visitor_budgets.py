"""Visitors of the portal each have their own anonymous catalogue budget at the gateway.

The portal calls the API on its visitors' behalf, so without more every anonymous search through
the portal would be counted for the portal's one address and a few busy visitors would exhaust
everybody's budget. The gateway believes the visitor's X-Forwarded-For only from the portal's
address (PORTAL_CLIENT_ADDRESS): visitors are told apart, and a header anyone else sends changes
nothing. Visitors here come from distinct loopback addresses, as distinct machines would.
"""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

BURST = 2
ALLOWED = 1 + BURST
"""Catalogue requests one address may make at once before the gateway refuses (one a minute after)."""
TOO_MANY = "Слишком много запросов"


@pytest.fixture(scope="module")
async def platform(platform_factory):  # noqa: ANN001, ANN201
    return await platform_factory(db_prefix="visitors", portal=True, services=("navigator",),
                                  extra_env={"PFDO_LOG_LEVEL": "WARNING"},
                                  gateway_variables={"RATE_ANONYMOUS": "1r/m", "BURST_ANONYMOUS": str(BURST)})


def visitor(base_url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=15, transport=httpx.HTTPTransport(local_address=address))


def test_each_visitor_of_the_portal_spends_only_their_own_catalogue_budget(platform) -> None:  # noqa: ANN001
    with visitor(platform.gateway_url, "127.0.0.7") as busy, visitor(platform.gateway_url, "127.0.0.8") as other:
        pages = [busy.get("/", params={"q": f"танцы {n}"}) for n in range(ALLOWED + 1)]
        assert [page.status_code for page in pages] == [200] * (ALLOWED + 1)  # the form stays, with the refusal
        refused = [TOO_MANY in page.text for page in pages]
        assert refused == [False] * ALLOWED + [True], refused
        # another visitor's searches through the same portal still pass
        answer = other.get("/", params={"q": "шахматы"})
        assert answer.status_code == 200, answer.text[:300]
        assert TOO_MANY not in answer.text
        assert 'id="search-status"' in answer.text


def test_a_forwarded_address_from_anyone_but_the_portal_is_not_believed(platform) -> None:  # noqa: ANN001
    with visitor(platform.gateway_url, "127.0.0.9") as client:
        answers = [client.get("/api/navigator/programs", params={"limit": 1},
                              headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(ALLOWED + 1)]
    # each request names another address, yet all are counted for the one they came from
    assert answers == [200] * ALLOWED + [429], answers
