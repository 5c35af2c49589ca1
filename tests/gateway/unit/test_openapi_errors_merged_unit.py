"""The merged document adds the answers the gateway gives in a service's place, as Problems."""

import pytest

from services.gateway.config import DEFAULT_ROUTES
from services.gateway.oauth import TOKEN_RESPONSES, TOKEN_SCHEMAS
from services.gateway.openapi import merge_documents
from services.gateway.routing import RouteTable
from shared.openapi_errors import PROBLEM_SCHEMAS
from shared.problems import PROBLEM_JSON
from tests.service_documents import SERVICES, service_document

pytestmark = pytest.mark.unit

GATEWAY_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Hub", "version": "1"},
    "paths": {},
    "components": {"schemas": dict(TOKEN_SCHEMAS)},
}


def merged() -> dict:
    documents = {service: service_document(service) for service in SERVICES}
    return merge_documents(GATEWAY_DOCUMENT, documents, RouteTable(DEFAULT_ROUTES))


def test_every_routed_operation_documents_the_gateways_own_answers_as_problems() -> None:
    document = merged()
    routed = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"401", "429", "502", "503", "504"}
            if "requestBody" in operation:
                expected.add("413")
            assert expected <= set(responses), (method, path)
            for code in expected:
                assert PROBLEM_JSON in responses[code]["content"], (method, path, code)
            routed += 1
    assert routed > 40


def test_the_problem_schemas_are_kept_once_under_their_names() -> None:
    schemas = merged()["components"]["schemas"]
    for name, schema in PROBLEM_SCHEMAS.items():
        assert schemas[name] == schema
    assert not [name for name in schemas if name.endswith("Problem") and name != "Problem"]


def test_the_token_endpoint_documents_its_answer_and_its_oauth_errors() -> None:
    def ref(status: int) -> str:
        return TOKEN_RESPONSES[status]["content"]["application/json"]["schema"]["$ref"]

    assert ref(200).endswith("/TokenResponse")
    assert ref(400).endswith("/TokenError") and ref(401).endswith("/TokenError")
    assert PROBLEM_JSON in TOKEN_RESPONSES[429]["content"]
    assert set(TOKEN_SCHEMAS) == {"TokenResponse", "TokenError"}
