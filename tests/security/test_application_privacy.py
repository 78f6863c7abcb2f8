"""A certificate application through the gateway tells a stranger nothing about a СНИЛС (the
answer is the same whether the child is registered or not), and an unverified application does
not block the real parent's: both are accepted, flagged for the operator as possible duplicates
with the reason, and the operator's approval keeps one certificate per child."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import httpx
import pytest

from pfdo_plumbing.auth.principal import Role

from ._world import World, build_registry_part, new_world

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def world(sec_platform, sec_auth) -> World:  # noqa: ANN001
    world = new_world(sec_auth, sec_platform.gateway_url)
    build_registry_part(world)
    assert "A" in world.params.get("certificate_id", {}), world.steps
    return world


def child(snils: str, surname: str, municipality: str) -> dict:
    birth = dt.date.today().replace(year=dt.date.today().year - 9, day=1)
    return {"child": {"surname": surname, "first_name": "Ия", "birth_date": birth.isoformat(), "snils": snils,
                      "municipality_code": municipality}}


def stranger(world: World) -> dict[str, str]:
    return world.auth.headers(Role.PARENT.value, f"stranger-{uuid.uuid4().hex[:8]}")


def shape(response: httpx.Response) -> tuple:
    body = response.json()
    keys = tuple(sorted(body)) if isinstance(body, dict) else type(body).__name__
    return (response.status_code, keys, body.get("status") if isinstance(body, dict) else None,
            body.get("certificate_id") if isinstance(body, dict) else None)


def operator_view(world: World, application_id: str) -> dict:
    """The application as the municipality's operator finds it in the pending queue."""
    mo = world.headers(Role.MUNICIPAL_OPERATOR, "A")
    cursor = None
    with world.client() as c:
        while True:
            params = {"status": "pending", "limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = c.get("/api/registry/applications", params=params, headers=mo)
            assert page.status_code == 200, page.text
            body = page.json()
            for item in body["items"]:
                if item["id"] == application_id:
                    return item
            cursor = body.get("next_cursor")
            assert cursor, f"application {application_id} is not in the operator's pending queue"


def test_an_application_does_not_tell_a_stranger_whether_a_snils_is_registered(world: World) -> None:
    from pfdo_registry.domain import identifiers as ids

    side = world.sides["A"]
    fresh = ids.generate_snils(random.Random())
    with world.client() as c:
        registered = c.post("/api/registry/applications", headers=stranger(world),
                            json=child(side.snils, "Посторонняя", side.municipality))
        unregistered = c.post("/api/registry/applications", headers=stranger(world),
                              json=child(fresh, "Посторонняя", side.municipality))
    assert registered.status_code == 201, registered.text
    assert shape(registered) == shape(unregistered), (registered.text, unregistered.text)
    assert registered.json()["status"] == "pending"
    for value in (side.surname, side.snils, "certificate_exists", "pending_application"):
        assert value not in registered.text
    assert registered.json()["possible_duplicate"] is None and registered.json()["duplicate_reason"] is None
    # the operator sees the flag and its reason in the queue, and cannot issue a second certificate
    flagged = operator_view(world, registered.json()["id"])
    assert flagged["possible_duplicate"] is True and flagged["duplicate_reason"] == "certificate_exists", flagged
    assert operator_view(world, unregistered.json()["id"])["possible_duplicate"] is False
    with world.client() as c:
        approve = c.post(f"/api/registry/applications/{registered.json()['id']}/approve",
                         headers=world.headers(Role.MUNICIPAL_OPERATOR, "A"))
        assert approve.status_code == 409 and approve.json()["code"] == "certificate_duplicate", approve.text
        refuse = c.post(f"/api/registry/applications/{registered.json()['id']}/refuse",
                        headers=world.headers(Role.MUNICIPAL_OPERATOR, "A"), json={"reason": "Дубликат по СНИЛС"})
        assert refuse.status_code == 200 and refuse.json()["status"] == "refused", refuse.text


def test_an_unverified_application_does_not_block_the_real_parents(world: World) -> None:
    from pfdo_registry.domain import identifiers as ids

    municipality = world.sides["A"].municipality
    snils = ids.generate_snils(random.Random())
    real_parent = world.auth.headers(Role.PARENT.value, f"real-parent-{uuid.uuid4().hex[:8]}")
    mo = world.headers(Role.MUNICIPAL_OPERATOR, "A")
    with world.client() as c:
        first = c.post("/api/registry/applications", headers=stranger(world),
                       json=child(snils, "Самозванова", municipality))
        real = c.post("/api/registry/applications", headers=real_parent, json=child(snils, "Настоящева", municipality))
        assert first.status_code == 201 and real.status_code == 201, (first.text, real.text)
        # the applicant's own view carries no hint either
        own = c.get(f"/api/registry/applications/{real.json()['id']}", headers=real_parent).json()
        assert own.get("possible_duplicate") is None and own.get("duplicate_reason") is None, own
        # both are in the operator's queue, each flagged with the reason
        for application in (first, real):
            seen = operator_view(world, application.json()["id"])
            assert seen["possible_duplicate"] is True and seen["duplicate_reason"] == "pending_application", seen
        # the operator approves the real parent's application; the other can no longer be approved
        approved = c.post(f"/api/registry/applications/{real.json()['id']}/approve", headers=mo)
        assert approved.status_code == 200 and approved.json()["certificate_id"], approved.text
        second = c.post(f"/api/registry/applications/{first.json()['id']}/approve", headers=mo)
        assert second.status_code == 409 and second.json()["code"] == "certificate_duplicate", second.text
        certificate = c.get(f"/api/registry/certificates/{approved.json()['certificate_id']}", headers=real_parent)
        assert certificate.status_code == 200 and certificate.json()["status"] == "active", certificate.text
