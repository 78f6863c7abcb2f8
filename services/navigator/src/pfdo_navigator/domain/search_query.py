"""The navigator's catalogue search query and its keyset-pagination cursor.

A :class:`SearchQuery` is always valid once constructed: invalid input raises
``DomainError("invalid_query")`` whose ``details["errors"]`` lists every ``{field, code}``.
The API's ``SearchParams`` parses the query string (types and ranges) into a query.

Filters (all optional): free ``text``; ``municipality``; ``direction`` (one of the six of
docs/domain-rules.md, "Providers and programs"); ``child_age`` on a date ``age_on`` (the module's
age range must contain it; the service fills ``age_on`` with today when omitted); ``funding_kind``
(``certificate`` money or a free ``municipal_task`` place); ``free_seats_only``; ``weekdays`` (ISO
1..7, a module matching any of them); ``provider_id``; ``price_min``/``price_max`` (module price,
integer kopecks, inclusive). Sort: ``relevance`` (needs ``text``; the default when there is text),
``rating`` (the shrunk score, the default without text), ``price`` (ascending), ``newest``. Page
size 1..100, default 20.

The cursor (:func:`encode_cursor` / :func:`decode_cursor`) is opaque URL-safe base64 of
``HMAC tag ‖ JSON``; the JSON holds the sort, the last row's sort-key values and id, and a
fingerprint of the filters. A cursor that was altered, signed with another key, is
malformed, or belongs to a different query (other filters or sort) raises
``DomainError("invalid_cursor")``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pfdo_contracts.common import Direction, FundingKind  # one vocabulary with the events

from .errors import DomainError

__all__ = [
    "Cursor",
    "Direction",
    "FundingKind",
    "SearchQuery",
    "SortOrder",
    "decode_cursor",
    "encode_cursor",
]

TEXT_MAX_LENGTH = 200
PAGE_SIZE_DEFAULT = 20
PAGE_SIZE_MAX = 100
CHILD_AGE_MAX = 18
CURSOR_VERSION = 1
_TAG_BYTES = 16


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    RATING = "rating"
    PRICE = "price"
    NEWEST = "newest"


@dataclass(frozen=True)
class SearchQuery:
    text: str | None = None
    municipality: str | None = None
    direction: Direction | None = None
    child_age: int | None = None
    age_on: date | None = None
    funding_kind: FundingKind | None = None
    free_seats_only: bool = False
    weekdays: frozenset[int] = field(default_factory=frozenset)
    provider_id: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    sort: SortOrder | None = None
    page_size: int = PAGE_SIZE_DEFAULT

    def __post_init__(self) -> None:
        errors: list[dict[str, str]] = []

        def bad(field_name: str, code: str) -> None:
            errors.append({"field": field_name, "code": code})

        text = _normalise_text(self.text)
        if text is not None and len(text) > TEXT_MAX_LENGTH:
            bad("text", "text_too_long")
        object.__setattr__(self, "text", text)
        for name in ("municipality", "provider_id"):
            value = getattr(self, name)
            if value is not None:
                value = value.strip() or None
                object.__setattr__(self, name, value)
        object.__setattr__(self, "direction", _enum_or_error(Direction, self.direction, "direction", bad))
        object.__setattr__(self, "funding_kind", _enum_or_error(FundingKind, self.funding_kind, "funding_kind", bad))
        object.__setattr__(self, "sort", _enum_or_error(SortOrder, self.sort, "sort", bad))
        if self.child_age is not None and (not _is_int(self.child_age) or not 0 <= self.child_age <= CHILD_AGE_MAX):
            bad("child_age", "invalid_age")
        if self.age_on is not None and self.child_age is None:
            bad("age_on", "age_on_without_age")
        weekdays = frozenset(self.weekdays)
        if not all(_is_int(d) and 1 <= d <= 7 for d in weekdays):
            bad("weekdays", "invalid_weekday")
        object.__setattr__(self, "weekdays", weekdays)
        for name in ("price_min", "price_max"):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value < 0):
                bad(name, "invalid_price")
        if (
            _is_int(self.price_min)
            and _is_int(self.price_max)
            and 0 <= self.price_max < self.price_min  # type: ignore[operator]
        ):
            bad("price_max", "invalid_price_range")
        if self.sort is SortOrder.RELEVANCE and text is None:
            bad("sort", "relevance_requires_text")
        if not _is_int(self.page_size) or not 1 <= self.page_size <= PAGE_SIZE_MAX:
            bad("page_size", "invalid_page_size")
        if errors:
            raise DomainError("invalid_query", "the search query is invalid", errors=errors)

    @property
    def effective_sort(self) -> SortOrder:
        """The sort in force: explicit, else relevance with text, rating without."""
        if self.sort is not None:
            return self.sort
        return SortOrder.RELEVANCE if self.text else SortOrder.RATING

    def fingerprint(self) -> str:
        """A digest of the filters and the sort (not the page size): a cursor is only valid
        for the query that produced it."""
        data = asdict(self)
        data.pop("page_size")
        data["sort"] = self.effective_sort.value
        data["weekdays"] = sorted(self.weekdays)
        canonical = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _normalise_text(text: str | None) -> str | None:
    if text is None:
        return None
    collapsed = " ".join(str(text).split())
    return collapsed or None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _enum_or_error(enum: type[StrEnum], value: object, name: str, bad: Any) -> Any:
    if value is None or isinstance(value, enum):
        return value
    try:
        return enum(str(value).strip())
    except ValueError:
        bad(name, f"invalid_{name}")
        return None


# --------------------------------------------------------------------------- keyset cursor
CursorValue = str | int | float | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page ended: the last row's sort-key values and its id.

    The sort keys per order are the adapter's choice, e.g. relevance ``(rank,)``, rating
    ``(shrunk_score,)``, price ``(price_kopecks,)``, newest ``(published_at_iso,)``; the id
    breaks ties so the keyset order is total.
    """

    sort: SortOrder
    values: tuple[CursorValue, ...]
    last_id: str


def _invalid_cursor(why: str) -> DomainError:
    return DomainError("invalid_cursor", f"the page cursor is not valid: {why}")


def _tag(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:_TAG_BYTES]


def encode_cursor(cursor: Cursor, query: SearchQuery, key: bytes) -> str:
    """An opaque, signed token for the page after ``cursor`` of ``query``."""
    if cursor.sort is not query.effective_sort:
        raise ValueError("the cursor's sort differs from the query's")
    for value in cursor.values:
        if not (value is None or isinstance(value, (str, float)) or _is_int(value)):
            raise ValueError(f"unsupported cursor value {value!r}")
    body = {
        "v": CURSOR_VERSION,
        "s": cursor.sort.value,
        "k": list(cursor.values),
        "id": cursor.last_id,
        "q": query.fingerprint(),
    }
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True, allow_nan=False).encode()
    return base64.urlsafe_b64encode(_tag(key, payload) + payload).decode().rstrip("=")


def decode_cursor(token: str, query: SearchQuery, key: bytes) -> Cursor:
    """Verify and decode a token made by :func:`encode_cursor` for the same ``query``.

    Raises ``invalid_cursor`` if the token is malformed, altered, signed with another key, of
    another version, or made for a different query.
    """
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise _invalid_cursor("empty or too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _invalid_cursor("not base64") from None
    tag, payload = raw[:_TAG_BYTES], raw[_TAG_BYTES:]
    if len(tag) != _TAG_BYTES or not hmac.compare_digest(tag, _tag(key, payload)):
        raise _invalid_cursor("signature mismatch")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise _invalid_cursor("not JSON") from None
    if not isinstance(body, dict) or body.get("v") != CURSOR_VERSION:
        raise _invalid_cursor("unknown version")
    if body.get("q") != query.fingerprint() or body.get("s") != query.effective_sort.value:
        raise _invalid_cursor("made for a different query")
    values, last_id = body.get("k"), body.get("id")
    if not isinstance(values, list) or not isinstance(last_id, str):
        raise _invalid_cursor("malformed")
    if not all(v is None or isinstance(v, (str, float)) or _is_int(v) for v in values):
        raise _invalid_cursor("malformed")
    return Cursor(sort=query.effective_sort, values=tuple(values), last_id=last_id)
