"""Unknown query parameters are a 400, in every service.

A misspelt filter (`?localty_code=NP`) silently ignored returns the unfiltered list, which the
caller takes for the filtered one. The route already declares its query parameters (in its own
signature and its dependencies'), so the check compares the request with that declaration;
nothing is listed twice.
"""

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from shared.problems import Problem


class UnknownQueryParameter(Problem):
    status, title, slug = 400, "Unknown query parameter", "unknown-query-parameter"


_DECLARED: dict[int, frozenset[str]] = {}


async def refuse_unknown_query_parameters(request: Request) -> None:
    """An app-wide dependency: 400 naming every query parameter the route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = _DECLARED.get(id(route))
    if declared is None:
        declared = _DECLARED[id(route)] = frozenset(_query_names(route.dependant))
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise UnknownQueryParameter(
            f"Unknown query parameter(s): {', '.join(unknown)} (this operation takes: {known}).",
            errors=[
                {"field": name, "in": "query", "message": "unknown query parameter"}
                for name in unknown
            ],
        )


def _query_names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    for field in dependant.query_params:
        names |= _names_of(field)
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _names_of(field: Any) -> set[str]:
    """A query parameter's name, or the fields of a model declared as query parameters."""
    annotation = getattr(field.field_info, "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {info.alias or name for name, info in annotation.model_fields.items()}
    return {field.alias}
