"""One OpenAPI document for the whole system, merged from the services' own documents.

Only the paths the gateway routes to a service are taken from that service. Schemas with the
same name and the same definition are kept once; a name two services define differently is
prefixed with the service (`Referrals` + name) and every `$ref` to it is rewritten. Each
operation keeps the security entry its service declares: the scope the gateway requires too.
"""

import asyncio
import copy
import json
import time
from typing import Any

import aiohttp

from services.gateway.contracts import ServiceContracts
from services.gateway.routing import RouteTable
from services.gateway.scopes import HTTP_METHODS
from shared.auth import KNOWN_SCOPES, SECURITY_SCHEME
from shared.openapi_errors import PROBLEM_SCHEMAS, document_operation_errors

SCHEMA_REF = "#/components/schemas/"


def security_schemes(token_url: str = "/oauth/token") -> dict[str, Any]:
    return {
        SECURITY_SCHEME: {
            "type": "oauth2",
            "description": "Client credentials for partner systems; staff sign-in tokens and "
            "development tokens are sent the same way, as `Authorization: Bearer <token>`.",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": token_url,
                    "scopes": {scope: scope.replace(":", " ") for scope in sorted(KNOWN_SCOPES)},
                }
            },
        },
        "ClientBasic": {"type": "http", "scheme": "basic", "description": "client id : secret"},
    }


def merge_documents(
    gateway_document: dict[str, Any],
    service_documents: dict[str, dict[str, Any]],
    routes: RouteTable,
) -> dict[str, Any]:
    """The gateway's own document plus every service's routed paths and their schemas."""
    merged = copy.deepcopy(gateway_document)
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    components["securitySchemes"] = security_schemes()
    tags = {tag["name"]: tag for tag in merged.get("tags", [])}
    owners = _schema_owners(schemas, service_documents)
    operation_ids = {op.get("operationId") for item in paths.values() for op in _operations(item)}
    for service, document in service_documents.items():
        renames = _renames(service, document, owners)
        document = _rewrite_refs(copy.deepcopy(document), renames)
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(renames.get(name, name), schema)
        for path, item in document.get("paths", {}).items():
            if routes.service_for(path) != service:
                continue
            for operation in _operations(item):
                document_operation_errors(operation, gateway_statuses(operation))
                operation.setdefault("tags", [service])
                if operation.get("operationId") in operation_ids:
                    operation["operationId"] = f"{service}_{operation['operationId']}"
                operation_ids.add(operation.get("operationId"))
            paths[path] = item
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
    if tags:
        merged["tags"] = list(tags.values())
    schemas.update(PROBLEM_SCHEMAS)
    return merged


def gateway_statuses(operation: dict[str, Any]) -> set[int]:
    """What the gateway answers before or instead of the service: no valid token (401), the
    client's rate limit (429), a body past its limit (413), a service unreachable (502), paused
    by its circuit breaker (503) or too slow (504)."""
    statuses = {401, 429, 502, 503, 504}
    if "requestBody" in operation:
        statuses.add(413)
    return statuses


def _schema_owners(
    gateway_schemas: dict[str, Any], documents: dict[str, dict[str, Any]]
) -> dict[str, list[tuple[str, str]]]:
    """Schema name -> [(owner, canonical JSON of its definition)], the gateway first."""
    owners: dict[str, list[tuple[str, str]]] = {
        name: [("gateway", _canonical(schema))] for name, schema in gateway_schemas.items()
    }
    for service, document in documents.items():
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            owners.setdefault(name, []).append((service, _canonical(schema)))
    return owners


def _renames(
    service: str, document: dict[str, Any], owners: dict[str, list[tuple[str, str]]]
) -> dict[str, str]:
    """Names this service must prefix: another owner defines the same name differently."""
    renames = {}
    for name in document.get("components", {}).get("schemas", {}):
        definitions = {definition for _, definition in owners.get(name, [])}
        if len(definitions) > 1:
            renames[name] = service.title().replace("-", "") + name
    return renames


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
            name = ref[len(SCHEMA_REF) :]
            node["$ref"] = SCHEMA_REF + renames.get(name, name)
        for value in node.values():
            _rewrite_refs(value, renames)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, renames)
    return node


def _method_operations(item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(m, item[m]) for m in HTTP_METHODS if isinstance(item.get(m), dict)]


def _operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for _, operation in _method_operations(item)]


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


class MergedOpenApi:
    """Merges the services' documents (kept by `ServiceContracts`), cached for `cache_s`.

    A service that cannot be reached keeps its last good document; one never seen is left out
    (and named in `x-unavailable-services`) and asked again on the next request.
    """

    def __init__(self, contracts: ServiceContracts, routes: RouteTable, *, cache_s: float) -> None:
        self._contracts = contracts
        self._routes = routes
        self._cache_s = cache_s
        self._merged: dict[str, Any] | None = None
        self._merged_at = float("-inf")
        self._lock = asyncio.Lock()

    async def document(
        self, session: aiohttp.ClientSession, gateway_document: dict[str, Any]
    ) -> dict[str, Any]:
        async with self._lock:
            fresh = time.monotonic() - self._merged_at < self._cache_s
            if self._merged is not None and fresh:
                return self._merged
            missing = await self._contracts.refresh_all(session)
            merged = merge_documents(gateway_document, self._contracts.documents, self._routes)
            if missing:
                merged["x-unavailable-services"] = missing
            else:
                self._merged, self._merged_at = merged, time.monotonic()
            return merged
