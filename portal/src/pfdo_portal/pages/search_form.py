"""The navigator's search form: what the page's query string holds, and the API query it makes.

The form is a plain GET form (it works without JavaScript; htmx only refreshes the results in
place). Values are passed to the API as they came: the API checks them and its Russian messages
are shown next to the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from ..gateway.client import Params

SORTS: dict[str, str] = {
    "": "Как предлагает навигатор",
    "rating": "Сначала с высоким рейтингом",
    "price": "Сначала дешевле",
    "newest": "Сначала новые",
    "relevance": "По совпадению с запросом",
}
"""The orders a visitor may pick (the API's ``sort``), with their names on the page."""

WEEKDAYS = range(1, 8)


@dataclass(frozen=True)
class SearchForm:
    text: str = ""
    direction: str = ""
    age: str = ""
    municipality: str = ""
    funding: str = ""
    weekdays: tuple[str, ...] = field(default=())
    free_only: bool = False
    sort: str = ""
    cursor: str = ""
    child: str = ""
    """A signed-in parent's child (certificate id) the results show the family's cost for."""

    @classmethod
    def from_query(cls, query: QueryParams) -> SearchForm:
        def one(name: str) -> str:
            return (query.get(name) or "").strip()[:4096]

        return cls(
            text=one("q")[:200], direction=one("direction"), age=one("age"), municipality=one("municipality"),
            funding=one("funding"), weekdays=tuple(w for w in query.getlist("weekday") if w.strip())[:7],
            free_only=query.get("free") in ("1", "on", "true"), sort=one("sort"), cursor=one("cursor"),
            child=one("child")[:64],
        )

    def api_params(self, page_size: int) -> Params:
        """The query of ``GET /api/navigator/programs`` for this form."""
        params: Params = {"limit": page_size}
        for name, value in (("text", self.text), ("direction", self.direction), ("child_age", self.age),
                            ("municipality", self.municipality), ("funding_kind", self.funding),
                            ("sort", self.sort), ("cursor", self.cursor)):
            if value:
                params[name] = value
        if self.weekdays:
            params["weekday"] = list(self.weekdays)
        if self.free_only:
            params["free_seats_only"] = "true"
        return params

    def query(self, *, cursor: str | None = None) -> str:
        """The page's own query string for this form (another page of results with ``cursor``)."""
        pairs: list[tuple[str, str]] = [
            (name, value) for name, value in (("q", self.text), ("direction", self.direction), ("age", self.age),
                                              ("municipality", self.municipality), ("funding", self.funding))
            if value
        ]
        pairs += [("weekday", w) for w in self.weekdays]
        if self.free_only:
            pairs.append(("free", "1"))
        if self.sort:
            pairs.append(("sort", self.sort))
        if self.child:
            pairs.append(("child", self.child))
        if cursor:
            pairs.append(("cursor", cursor))
        return urlencode(pairs)

    def choose(self, **changes: str) -> SearchForm:
        """This form with other values, from its first page (a facet's link)."""
        return replace(self, cursor="", **changes)

    @property
    def filtered(self) -> bool:
        return any((self.text, self.direction, self.age, self.municipality, self.funding, self.weekdays,
                    self.free_only))
