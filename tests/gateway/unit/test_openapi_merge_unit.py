"""Merging the services' OpenAPI documents: routed paths only, clashing schema names prefixed."""

import pytest

from services.gateway.config import DEFAULT_ROUTES
from services.gateway.openapi import merge_documents
from services.gateway.routing import RouteTable

pytestmark = pytest.mark.unit

SHARED_ERROR = {"type": "object", "properties": {"detail": {"type": "string"}}}


def service_document(path: str, schema: dict, tag: str, scope: str) -> dict:
    return {
        "openapi": "3.1.0",
        "paths": {
            path: {
                "get": {
                    "operationId": "list_items",
                    "tags": [tag],
                    "security": [{"OAuth2": [scope]}],
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Item"}
                                }
                            }
                        },
                        "422": {"$ref": "#/components/schemas/HTTPValidationError"},
                    },
                }
            },
            "/livez": {"get": {"operationId": "livez"}},
        },
        "components": {"schemas": {"Item": schema, "HTTPValidationError": SHARED_ERROR}},
    }


def merged() -> dict:
    documents = {
        "referrals": service_document(
            "/api/v1/referrals", {"properties": {"reference": {}}}, "referrals", "referrals:read"
        ),
        "metrics": service_document(
            "/api/v1/indicators", {"properties": {"code": {}}}, "metrics", "metrics:read"
        ),
    }
    gateway = {"openapi": "3.1.0", "info": {"title": "Hub"}, "paths": {"/livez": {"get": {}}}}
    return merge_documents(gateway, documents, RouteTable(DEFAULT_ROUTES))


def test_paths_of_every_service_are_merged_but_their_health_routes_are_not() -> None:
    document = merged()
    assert {"/api/v1/referrals", "/api/v1/indicators", "/livez"} <= set(document["paths"])
    assert document["paths"]["/livez"] == {"get": {}}


def test_a_clashing_schema_name_is_prefixed_by_service_and_refs_follow() -> None:
    document = merged()
    schemas = document["components"]["schemas"]
    assert "Item" not in schemas
    assert schemas["ReferralsItem"] == {"properties": {"reference": {}}}
    assert schemas["MetricsItem"] == {"properties": {"code": {}}}
    response = document["paths"]["/api/v1/indicators"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/MetricsItem")


def test_an_identical_schema_shared_by_services_is_kept_once_under_its_name() -> None:
    document = merged()
    assert document["components"]["schemas"]["HTTPValidationError"] == SHARED_ERROR
    names = [name for name in document["components"]["schemas"] if "HTTPValidation" in name]
    assert names == ["HTTPValidationError"]


def test_duplicate_operation_ids_are_made_unique() -> None:
    document = merged()
    ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if "operationId" in operation
    ]
    assert len(ids) == len(set(ids))


def test_every_operation_keeps_the_scope_its_service_declares_under_one_scheme() -> None:
    document = merged()
    operation = document["paths"]["/api/v1/referrals"]["get"]
    assert operation["security"] == [{"OAuth2": ["referrals:read"]}]
    flows = document["components"]["securitySchemes"]["OAuth2"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/oauth/token"
