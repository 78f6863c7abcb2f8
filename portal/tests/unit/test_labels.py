"""The names of codes read from the API: kept for their time, and a failed fetch neither breaks
a page nor is retried on every page."""

from __future__ import annotations

from pfdo_portal.gateway import ApiError
from pfdo_portal.labels import Labels

NAMES = {"directions": {"technical": "Техническая"}}


class Api:
    def __init__(self) -> None:
        self.calls = 0
        self.down = False

    async def labels(self) -> dict[str, dict[str, str]]:
        self.calls += 1
        if self.down:
            raise ApiError(503, "api_unreachable", "недоступен")
        return NAMES


async def test_names_are_kept_for_their_time_then_asked_again() -> None:
    now = [0.0]
    api = Api()
    labels = Labels(api.labels, ttl_s=600, clock=lambda: now[0])
    assert (await labels.book())("directions", "technical") == "Техническая"
    now[0] = 599
    await labels.book()
    assert api.calls == 1
    now[0] = 600
    await labels.book()
    assert api.calls == 2


async def test_a_failed_fetch_shows_codes_and_is_retried_after_a_while_not_on_every_page() -> None:
    now = [0.0]
    api = Api()
    api.down = True
    labels = Labels(api.labels, ttl_s=600, retry_s=30, clock=lambda: now[0])
    book = await labels.book()
    assert book("directions", "technical") == "technical" and book("directions", None) == "—"
    now[0] = 29
    await labels.book()
    assert api.calls == 1
    api.down = False
    now[0] = 30
    assert (await labels.book())("directions", "technical") == "Техническая" and api.calls == 2
    # once known, the names stay through a later failure
    api.down = True
    now[0] = 630
    assert (await labels.book())("directions", "technical") == "Техническая" and api.calls == 3


async def test_municipality_names_only_on_a_signed_in_persons_pages() -> None:
    tokens: list[str] = []

    async def names(token: str) -> dict[str, str]:
        tokens.append(token)
        return {"01": "Липецк"}

    labels = Labels(Api().labels, ttl_s=600, municipality_names=names, clock=lambda: 0.0)
    anonymous = await labels.book()
    assert anonymous.municipality("01") == "Код 01" and tokens == []
    signed_in = await labels.book("token-of-a-parent")
    assert signed_in.municipality("01") == "Липецк" and signed_in.municipality("02") == "Код 02"
    assert tokens == ["token-of-a-parent"]
    assert (await labels.book()).municipality("01") == "Код 01"  # still not shown without a token
    await labels.book("another-token")
    assert tokens == ["token-of-a-parent"]  # kept, not asked again
