"""The one paging convention: signed keyset cursors bound to their list, pages that say whether
more items exist, and 422 invalid_cursor for anything altered or borrowed."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_plumbing.http.paging import PageRequest, decode_cursor, encode_cursor
from pfdo_plumbing.http.problems import ProblemError

KEY = b"test-cursor-key"


def refused(call) -> None:  # noqa: ANN001
    with pytest.raises(ProblemError) as exc:
        call()
    assert (exc.value.status, exc.value.code) == (422, "invalid_cursor")


@given(st.lists(st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=40), st.none()), max_size=4))
def test_round_trip(after: list) -> None:  # type: ignore[type-arg]
    assert decode_cursor(KEY, "orders|x", encode_cursor(KEY, "orders|x", after)) == after


def test_another_key_another_list_or_other_filters_are_refused() -> None:
    token = encode_cursor(KEY, "orders|month=2027-10", ["2027-10-01", "b7e2a9d4"])
    refused(lambda: decode_cursor(b"another-key-0000", "orders|month=2027-10", token))
    refused(lambda: decode_cursor(KEY, "orders|month=2027-11", token))
    refused(lambda: decode_cursor(KEY, "periods", token))
    for garbage in ("", "!!!", "a" * 5000, base64.urlsafe_b64encode(b"x" * 40).decode()):
        refused(lambda garbage=garbage: decode_cursor(KEY, "orders|month=2027-10", garbage))


@given(st.integers(0, 200), st.integers(0, 7))
def test_any_altered_character_is_detected(position: int, delta: int) -> None:
    token = encode_cursor(KEY, "s", ["2027-09-01T09:30:00+00:00", "e4b2d9a1-6c7f-4e3b-9a58-2d1c0f8e7b36"])
    i = position % len(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    changed = token[:i] + alphabet[(alphabet.index(token[i]) + 1 + delta) % len(alphabet)] + token[i + 1:]
    refused(lambda: decode_cursor(KEY, "s", changed))


def test_pages_of_a_short_list_give_every_item_once_then_no_cursor() -> None:
    items = [{"n": f"48010000{i:02d}"} for i in (7, 3, 9, 1, 5)]
    seen, cursor = [], None
    while True:
        page = PageRequest(limit=2, cursor=cursor, key=KEY).page_of_all(items, "certs", lambda c: [c["n"]])
        assert len(page["items"]) <= 2
        seen.extend(c["n"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(c["n"] for c in items)
    exact = PageRequest(limit=5, cursor=None, key=KEY).page_of_all(items, "certs", lambda c: [c["n"]])
    assert len(exact["items"]) == 5 and exact["next_cursor"] is None  # a full last page: no empty page after it


def test_a_position_cursor_is_signed_too() -> None:
    first = PageRequest(limit=20, cursor=None, key=KEY)
    page = first.page_at(list(range(21)), "comments|p", first.offset("comments|p"))
    assert page["items"] == list(range(20)) and page["next_cursor"]
    assert PageRequest(limit=20, cursor=page["next_cursor"], key=KEY).offset("comments|p") == 20
    refused(lambda: PageRequest(limit=20, cursor=encode_cursor(KEY, "comments|p", ["x"]), key=KEY).offset("comments|p"))
    refused(lambda: PageRequest(limit=20, cursor=page["next_cursor"], key=KEY).offset("comments|other"))


def test_the_sort_key_comes_back_parsed_and_a_key_of_another_shape_is_refused() -> None:
    import datetime as dt
    import uuid

    key, when, ident = b"k" * 32, dt.datetime(2027, 1, 15, 9, 30), uuid.uuid4()
    cursor = encode_cursor(key, "list", [when.isoformat(), str(ident)])
    assert PageRequest(limit=10, cursor=cursor, key=key).after_keyset("list", dt.datetime.fromisoformat, uuid.UUID) \
        == (when, ident)
    assert PageRequest(limit=10, cursor=None, key=key).after_keyset("list", int) is None
    for parsers in ((dt.datetime.fromisoformat,), (uuid.UUID, uuid.UUID)):
        with pytest.raises(ProblemError) as refused:
            PageRequest(limit=10, cursor=cursor, key=key).after_keyset("list", *parsers)
        assert refused.value.code == "invalid_cursor"
