"""Operation ids of the OpenAPI documents: every route names its own (``operation_id="searchPrograms"``);
a route that does not gets the lower camel case of its function's name instead of the framework's
default (``search_api_navigator_programs_get``), so a generated client never sees a path in a name."""

from __future__ import annotations

from fastapi.routing import APIRoute


def operation_id_of(route: APIRoute) -> str:
    head, *rest = route.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


__all__ = ["operation_id_of"]
