"""The language of human messages: Russian by default, English when the client prefers it.

:func:`negotiate` reads an ``Accept-Language`` header (RFC 9110 §12.5.4): language ranges with
optional ``q`` weights, ``*`` for any; a range matches a supported language by its primary tag
(``en-GB`` → ``en``). The most preferred supported language wins; on a tie the one listed first;
``q=0`` rules a language out. Without a usable preference the answer is Russian.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

RUSSIAN = "ru"
ENGLISH = "en"
SUPPORTED = (RUSSIAN, ENGLISH)
DEFAULT = RUSSIAN


def _weight(params: list[str]) -> float | None:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return None
            return q if 0.0 <= q <= 1.0 else None
    return 1.0


def negotiate(header: str | None) -> str:
    """The supported language the header prefers most (``ru`` when none)."""
    if not header:
        return DEFAULT
    weights: dict[str, tuple[float, int]] = {}  # language -> (q, position) of its most specific range
    anything: tuple[float, int] | None = None
    for position, item in enumerate(header[:1000].split(",")[:50]):
        tag, *params = item.strip().split(";")
        tag = tag.strip().lower()
        q = _weight(params)
        if not tag or q is None:
            continue
        if tag == "*":
            anything = anything or (q, position)
            continue
        primary = tag.split("-", 1)[0]
        if primary in SUPPORTED:
            known = weights.get(primary)
            if known is None or q > known[0]:
                weights[primary] = (q, position)
    ranked = []
    for language in SUPPORTED:
        q, position = weights.get(language) or anything or (-1.0, 0)
        ranked.append((-q, position, SUPPORTED.index(language), language))
    ranked.sort()
    best_q = -ranked[0][0]
    if best_q > 0:
        return ranked[0][3]
    # nothing supported is acceptable: Russian unless Russian itself was refused
    return ENGLISH if weights.get(RUSSIAN, (1.0, 0))[0] == 0.0 and weights.get(ENGLISH, (1.0, 0))[0] != 0.0 else DEFAULT


def request_language(connection: HTTPConnection) -> str:
    """The language the request's ``Accept-Language`` asks for."""
    return negotiate(connection.headers.get("accept-language"))
