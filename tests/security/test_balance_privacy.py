"""A certificate's balance is for the parent of the child, that municipality's operators (and the
region's), and finance: through the gateway, a provider's quote request learns neither a balance
(``certificate_kopecks`` = min(cost, normative, available) gave it to the kopeck) nor whether a
certificate exists; nor does another parent or another municipality's operator."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from pfdo_plumbing.auth.principal import Role

from ._world import World, _story, build_registry_part, module_dates, new_world, school_year

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
BALANCE_FIELDS = {"certificate_kopecks", "family_kopecks", "available", "balance"}


@pytest.fixture(scope="module")
async def world(sec_platform, sec_auth) -> World:  # noqa: ANN001
    """Two sides with a certificate and a certified module each, in an open period two school
    years ahead (its own: other modules' periods and clock moves do not meet it)."""
    from pfdo_devstack import story as st

    year = school_year() - 2
    start, end = module_dates(year)
    world = new_world(sec_auth, sec_platform.gateway_url)
    build_registry_part(world, module_dates=(start, end))
    region = _story(world, "A")
    try:
        await st.open_period(region, starts_on=start, ends_on=end.replace(month=8, day=31), nominal=2_000_000,
                             municipalities=[s.municipality for s in world.sides.values()])
    finally:
        await region.gw.aclose()
    world.params["start_date"] = {"A": start.isoformat(), "B": start.isoformat()}
    # billing learns certificates and modules from the registry's events: wait for both sides
    with world.client() as c:
        for side in world.sides:
            deadline = time.monotonic() + 60
            while True:
                r = c.get("/api/billing/quote", params=quote_params(world, side, side),
                          headers=world.headers(Role.PARENT, side))
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert r.status_code == 200, (world.steps, r.text)
    return world


def quote_params(world: World, certificate_side: str, module_side: str = "A", certificate: str | None = None) -> dict:
    return {"certificate_id": certificate or world.params["certificate_id"][certificate_side],
            "module_id": world.params["module_id"][module_side], "start_date": world.params["start_date"]["A"]}


def batch_body(world: World, certificate: str) -> dict:
    return {"certificate_id": certificate, "start_date": world.params["start_date"]["A"],
            "module_ids": [world.params["module_id"]["A"], world.params["module_id"]["B"]]}


def shape(response: httpx.Response) -> tuple:
    """What a caller can tell apart: status, code, and the body without ids."""
    body = response.json()
    if not isinstance(body, dict):
        return (response.status_code, type(body).__name__)
    return (response.status_code, body.get("code"), body.get("title"), body.get("detail"),
            tuple(sorted(set(body) - {"request_id"})))


def balance_fields(body: object) -> set[str]:
    found: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key in BALANCE_FIELDS and value is not None:
                found.add(key)
            found |= balance_fields(value)
    elif isinstance(body, list):
        for value in body:
            found |= balance_fields(value)
    return found


def test_the_entitled_see_the_certificate_part_of_a_quote(world: World) -> None:
    with world.client() as c:
        for role, side in ((Role.PARENT, "A"), (Role.MUNICIPAL_OPERATOR, "A"), (Role.REGIONAL_OPERATOR, "A")):
            r = c.get("/api/billing/quote", params=quote_params(world, "A"), headers=world.headers(role, side))
            assert r.status_code == 200, (role, r.text)
            assert r.json()["certificate_kopecks"] is not None
            batch = c.post("/api/billing/quotes:batch", json=batch_body(world, world.params["certificate_id"]["A"]),
                           headers=world.headers(role, side))
            assert batch.status_code == 200 and batch.json()["quotes"][0]["certificate_kopecks"] is not None, batch.text


@pytest.mark.parametrize(("role", "side"), [(Role.PROVIDER, "A"), (Role.PROVIDER, "B"), (Role.PARENT, "B"),
                                            (Role.MUNICIPAL_OPERATOR, "B")])
def test_others_learn_no_balance_and_not_whether_a_certificate_exists(world: World, role: Role, side: str) -> None:
    """Certificate A, quoted by someone not entitled to it (a provider, even of A's municipality and
    the module's own; another parent; another municipality's operator): the same answer as for a
    certificate that does not exist, and no balance field, single or batch."""
    headers = world.headers(role, side)
    ghost = str(uuid.uuid4())
    with world.client() as c:
        real = c.get("/api/billing/quote", params=quote_params(world, "A"), headers=headers)
        unknown = c.get("/api/billing/quote", params=quote_params(world, "A", certificate=ghost), headers=headers)
        real_batch = c.post("/api/billing/quotes:batch", json=batch_body(world, world.params["certificate_id"]["A"]),
                            headers=headers)
        unknown_batch = c.post("/api/billing/quotes:batch", json=batch_body(world, ghost), headers=headers)
    for response in (real, unknown, real_batch, unknown_batch):
        assert not response.is_success, (role.value, response.request.url.path, response.text)
        assert not balance_fields(response.json()), response.text
    assert shape(real) == shape(unknown), (real.text, unknown.text)
    assert shape(real_batch) == shape(unknown_batch), (real_batch.text, unknown_batch.text)
