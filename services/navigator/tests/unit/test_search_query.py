"""The catalogue search query and its keyset cursor."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pfdo_navigator.api.schemas import SearchParams

from pfdo_navigator.domain.errors import DomainError
from pfdo_navigator.domain.search_query import (
    PAGE_SIZE_DEFAULT,
    Cursor,
    Direction,
    FundingKind,
    SearchQuery,
    SortOrder,
    decode_cursor,
    encode_cursor,
)

KEY = b"test-cursor-key"


def codes(exc: pytest.ExceptionInfo[DomainError]) -> set[tuple[str, str]]:
    assert exc.value.code == "invalid_query"
    return {(e["field"], e["code"]) for e in exc.value.details["errors"]}


def test_defaults_and_normalisation() -> None:
    q = SearchQuery(text="  робо   техника ", municipality=" 01 ")
    assert q.text == "робо техника" and q.municipality == "01"
    assert q.page_size == PAGE_SIZE_DEFAULT
    assert q.effective_sort is SortOrder.RELEVANCE
    assert SearchQuery().effective_sort is SortOrder.RATING
    assert SearchQuery(text="   ").text is None


def test_full_query_from_the_query_string() -> None:
    q = SearchParams.model_validate(
        {
            "text": "шахматы",
            "municipality": "01",
            "direction": "social_humanitarian",
            "child_age": "9",
            "age_on": "2025-09-01",
            "funding_kind": "certificate",
            "free_seats_only": "true",
            "weekday": ["1,3"],
            "provider_id": "5f0c7c1e-2d7a-4c55-9b0e-0a4f3c1b2d3e",
            "price_min": "0",
            "price_max": "500000",
            "sort": "price",
            "limit": "50",
        }
    ).to_query()
    assert q.direction is Direction.SOCIAL_HUMANITARIAN and q.funding_kind is FundingKind.CERTIFICATE
    assert q.child_age == 9 and q.age_on == date(2025, 9, 1) and q.free_seats_only
    assert q.weekdays == frozenset({1, 3}) and q.price_max == 500_000 and q.sort is SortOrder.PRICE
    assert q.page_size == 50
    assert SearchParams.model_validate({"page_size": "7"}).to_query().page_size == 7  # the deprecated name


@pytest.mark.parametrize("params", [
    {"child_age": "nine"}, {"colour": "red"}, {"sort": "cheapest"}, {"price_min": str(2**64)},
    {"price_max": "-1"}, {"weekday": ["0"]}, {"weekday": ["1,8"]}, {"limit": "101"}, {"direction": "cooking"},
    {"age_on": "2025-02-30"}, {"provider_id": "p-1"},
])
def test_query_string_out_of_type_or_range_is_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SearchParams.model_validate(params)


def test_all_errors_reported_together() -> None:
    with pytest.raises(DomainError) as exc:
        SearchQuery(
            text="x" * 201,
            direction="cooking",  # type: ignore[arg-type]
            child_age=19,
            weekdays=frozenset({0, 8}),
            price_min=100,
            price_max=50,
            page_size=101,
            funding_kind="cash",  # type: ignore[arg-type]
        )
    assert codes(exc) == {
        ("text", "text_too_long"),
        ("direction", "invalid_direction"),
        ("child_age", "invalid_age"),
        ("weekdays", "invalid_weekday"),
        ("price_max", "invalid_price_range"),
        ("page_size", "invalid_page_size"),
        ("funding_kind", "invalid_funding_kind"),
    }


def test_other_errors() -> None:
    with pytest.raises(DomainError) as exc:
        SearchQuery(sort=SortOrder.RELEVANCE, price_min=-1, page_size=0, age_on=date(2025, 9, 1))
    assert codes(exc) == {
        ("sort", "relevance_requires_text"),
        ("price_min", "invalid_price"),
        ("page_size", "invalid_page_size"),
        ("age_on", "age_on_without_age"),
    }


def test_cursor_round_trip() -> None:
    q = SearchQuery(text="робототехника", direction=Direction.TECHNICAL)
    cursor = Cursor(SortOrder.RELEVANCE, (0.0759, None), "mod-42")
    token = encode_cursor(cursor, q, KEY)
    assert "робот" not in token and "mod-42" not in token  # opaque
    assert decode_cursor(token, q, KEY) == cursor
    # page size may change between pages
    bigger = SearchQuery(text="робототехника", direction=Direction.TECHNICAL, page_size=100)
    assert decode_cursor(token, bigger, KEY) == cursor


def test_cursor_from_another_query_or_key_is_invalid() -> None:
    q = SearchQuery(sort=SortOrder.PRICE)
    token = encode_cursor(Cursor(SortOrder.PRICE, (150_000,), "m1"), q, KEY)
    for other_query, key in (
        (SearchQuery(sort=SortOrder.PRICE, free_seats_only=True), KEY),
        (SearchQuery(sort=SortOrder.NEWEST), KEY),
        (q, b"another-key"),
    ):
        with pytest.raises(DomainError) as exc:
            decode_cursor(token, other_query, key)
        assert exc.value.code == "invalid_cursor"


@pytest.mark.parametrize("token", ["", "!!!", "abc", "a" * 5000, base64.urlsafe_b64encode(b"x" * 40).decode()])
def test_garbage_cursor_is_invalid(token: str) -> None:
    with pytest.raises(DomainError) as exc:
        decode_cursor(token, SearchQuery(), KEY)
    assert exc.value.code == "invalid_cursor"


@given(st.integers(min_value=0), st.integers(min_value=0, max_value=200))
def test_any_tampering_is_detected(seed: int, position: int) -> None:
    q = SearchQuery(sort=SortOrder.PRICE)
    token = encode_cursor(Cursor(SortOrder.PRICE, (seed,), f"m{seed}"), q, KEY)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[position % len(raw)] ^= 1 + seed % 255
    tampered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(DomainError) as exc:
        decode_cursor(tampered, q, KEY)
    assert exc.value.code == "invalid_cursor"


@given(
    st.tuples(st.one_of(st.none(), st.integers(), st.text(max_size=30), st.floats(allow_nan=False, allow_infinity=False))),
    st.text(min_size=1, max_size=40),
)
def test_round_trip_any_values(values: tuple, last_id: str) -> None:  # type: ignore[type-arg]
    q = SearchQuery()
    cursor = Cursor(SortOrder.RATING, values, last_id)
    assert decode_cursor(encode_cursor(cursor, q, KEY), q, KEY) == cursor
