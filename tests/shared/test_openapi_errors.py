"""Errors in the contract: the Problem schema and the statuses derived per route, on an app the
derivation has never seen, and on every service's real document."""

from datetime import date, datetime
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Header, Query
from pydantic import TypeAdapter, ValidationError

from shared.auth import Caller, require_scope
from shared.etag import ExpectedVersion
from shared.input_rules import IsoDateTime, PlainTextModel
from shared.openapi_errors import PROBLEM, install_error_contract
from shared.problems import PROBLEM_JSON, install_problem_handlers
from tests.service_documents import SERVICES, service_document

pytestmark = pytest.mark.unit

PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM}"}


class Gadget(PlainTextModel):
    name: str
    weight: float
    made_on: date | None = None


def gadget_app() -> FastAPI:
    """Routes nobody told the derivation about: it reads what each one declares."""
    app = FastAPI()
    router = APIRouter(prefix="/api/v1")
    Writer = Annotated[Caller, require_scope("metrics:write")]

    @router.get("/gadgets/{gadget_id}")
    async def read_gadget(gadget_id: str, caller: Writer) -> dict[str, str]:
        return {}

    @router.patch("/gadgets/{gadget_id}", responses={409: {"description": "Gadget is busy"}})
    async def change_gadget(
        gadget_id: str, body: Gadget, caller: Writer, expected: ExpectedVersion
    ) -> dict[str, str]:
        return {}

    @router.post("/gadgets")
    async def make_gadget(
        body: Gadget,
        caller: Writer,
        key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    ) -> dict[str, str]:
        return {}

    @router.get("/public")
    async def public(since: Annotated[IsoDateTime | None, Query()] = None) -> dict[str, str]:
        return {}

    app.include_router(router)
    install_problem_handlers(app)
    install_error_contract(app)
    return app


def statuses(document: dict[str, Any], method: str, path: str) -> set[int]:
    responses = document["paths"][path][method]["responses"]
    return {int(code) for code in responses if int(code) >= 400}


def test_each_route_documents_the_errors_its_declaration_brings() -> None:
    document = gadget_app().openapi()
    assert statuses(document, "get", "/api/v1/gadgets/{gadget_id}") == {400, 401, 403, 404, 422}
    assert statuses(document, "patch", "/api/v1/gadgets/{gadget_id}") == {
        400, 401, 403, 404, 409, 412, 422, 428,
    }  # fmt: skip
    assert statuses(document, "post", "/api/v1/gadgets") == {400, 401, 403, 409, 422}
    assert statuses(document, "get", "/api/v1/public") == {400, 422}


def test_every_error_is_a_problem_and_fastapis_default_shapes_are_gone() -> None:
    document = gadget_app().openapi()
    patch = document["paths"]["/api/v1/gadgets/{gadget_id}"]["patch"]["responses"]
    for code, response in patch.items():
        if int(code) >= 400:
            assert response["content"] == {PROBLEM_JSON: {"schema": PROBLEM_REF}}, code
    assert patch["409"]["description"] == "Gadget is busy"
    schemas = document["components"]["schemas"]
    assert PROBLEM in schemas
    assert "HTTPValidationError" not in schemas
    assert "HTTPValidationError" not in str(document)


@pytest.mark.parametrize("service", SERVICES)
def test_every_api_operation_of_every_service_documents_its_errors_as_problems(
    service: str,
) -> None:
    document = service_document(service)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            errors = {int(code) for code in responses if int(code) >= 400}
            if path.startswith("/api/"):
                assert {400, 401, 403} <= errors, (method, path)
                if "{" in path:
                    assert 404 in errors, (method, path)
            for code in errors:
                content = responses[str(code)]["content"]
                assert content == {PROBLEM_JSON: {"schema": PROBLEM_REF}}, (method, path, code)


async def test_a_405_allows_every_method_of_the_resource_at_that_path() -> None:
    app = gadget_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.delete("/api/v1/gadgets/7")
        assert answer.status_code == 405
        assert answer.headers["allow"] == "GET, PATCH"
        assert answer.headers["content-type"] == PROBLEM_JSON
        # A literal path wins over a template it also matches.
        assert (await client.put("/api/v1/gadgets")).headers["allow"] == "POST"


@pytest.mark.parametrize("value", [0, 0.5, "0", "0.5", "1700000000", True])
def test_a_timestamp_is_iso_text_never_epoch_seconds(value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(IsoDateTime).validate_python(value)


def test_an_iso_timestamp_is_read() -> None:
    moment = TypeAdapter(IsoDateTime).validate_python("2026-11-23T10:00:00Z")
    assert moment == datetime.fromisoformat("2026-11-23T10:00:00+00:00")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a", "weight": False},
        {"name": "a", "weight": 1, "made_on": 0},
        {"name": "a", "weight": 1, "made_on": 1.5},
    ],
)
def test_a_request_field_takes_only_the_json_type_its_schema_names(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Gadget.model_validate(body)


def test_a_request_model_still_reads_what_its_schema_names() -> None:
    gadget = Gadget.model_validate({"name": "a", "weight": 2, "made_on": "2026-01-02"})
    assert gadget.weight == 2.0
    assert gadget.made_on == date(2026, 1, 2)
