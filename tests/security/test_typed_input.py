"""Numbers, dates and months out of range answer 422 with the parameter named, never 500, through
the gateway in front of the real services: a price past 64 bits (it reached the database), a month
0000-01 (it reached the calendar), a limit past its maximum, a page cursor altered by hand."""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

HUGE = str(2**64)


@pytest.fixture(scope="module")
def client(sec_platform) -> httpx.Client:  # noqa: ANN001
    with httpx.Client(base_url=sec_platform.gateway_url, timeout=30) as c:
        yield c


def assert_invalid(response: httpx.Response, parameter: str, code: str = "validation_error") -> None:
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    if code == "validation_error":
        assert parameter in response.text, body


@pytest.mark.parametrize(("params", "parameter"), [
    ({"price_min": HUGE}, "price_min"),
    ({"price_max": "1" + "0" * 40}, "price_max"),
    ({"child_age": "-1"}, "child_age"),
    ({"limit": "101"}, "limit"),
    ({"weekday": "0"}, "weekday"),
    ({"direction": "cooking"}, "direction"),
    ({"age_on": "0000-01-01", "child_age": "9"}, "age_on"),
])
def test_catalogue_search_refuses_values_out_of_type_or_range(client: httpx.Client, sec_auth, params, parameter) -> None:  # noqa: ANN001
    response = client.get("/api/navigator/programs", params=params, headers=sec_auth.headers("parent", "typed-parent"))
    assert_invalid(response, parameter)


@pytest.mark.parametrize("month", ["0000-01", "1999-12", "2101-01", "2027-13", "2027-1"])
def test_months_out_of_range_are_refused(client: httpx.Client, sec_auth, month: str) -> None:  # noqa: ANN001
    finance = sec_auth.headers("finance", "typed-finance")
    operator = sec_auth.headers("regional_operator", "typed-operator")
    assert_invalid(client.get("/api/billing/payment-orders", params={"month": month}, headers=finance), "month")
    assert_invalid(client.get(f"/api/billing/months/{month}/journal", headers=operator), "month")
    assert_invalid(client.get(f"/api/navigator/attendance/months/{month}", headers=operator), "month")
    marks = {"enrolment_id": "e4b2d9a1-6c7f-4e3b-9a58-2d1c0f8e7b36", "month": month}  # checked before any lookup
    assert_invalid(client.get("/api/navigator/attendance", params=marks, headers=operator), "month")


def test_a_list_cursor_altered_by_hand_is_refused(client: httpx.Client, sec_auth) -> None:  # noqa: ANN001
    operator = sec_auth.headers("regional_operator", "typed-operator")
    for path in ("/api/registry/applications", "/api/billing/payment-orders", "/api/navigator/enrolments",
                 "/api/ratings/audit"):
        forged = client.get(path, params={"cursor": "eyJrIjpbMF0sInMiOiJ4IiwidiI6MX0"}, headers=operator)
        assert_invalid(forged, "cursor", code="invalid_cursor")
        assert_invalid(client.get(path, params={"limit": HUGE}, headers=operator), "limit")
