"""The AsyncAPI catalogue: valid AsyncAPI 3.0, complete, and regenerated with every contract."""

import json
import os

import pytest
from jsonschema import Draft7Validator

from deploy import asyncapi
from shared.events import topic_for
from shared.settings import REPO_ROOT

pytestmark = pytest.mark.unit

SCHEMA = REPO_ROOT / ".venv/npm/node_modules/@asyncapi/specs/schemas/3.0.0-without-$id.json"


@pytest.fixture(scope="module")
def document() -> dict:
    return json.loads(asyncapi.DOCUMENT.read_text())


def test_the_committed_catalogue_is_what_the_contracts_generate_now() -> None:
    assert asyncapi.DOCUMENT.read_text() == asyncapi.render(), (
        "a contract or a consumer changed: run `python -m deploy.asyncapi` and commit the result"
    )


def test_the_catalogue_is_valid_asyncapi_3(document: dict) -> None:
    if not SCHEMA.exists():
        if os.environ.get("REQUIRE_ASYNCAPI_SCHEMA") == "1":
            pytest.fail("the AsyncAPI schema is required (REQUIRE_ASYNCAPI_SCHEMA=1) but missing")
        pytest.skip("@asyncapi/specs not installed (deploy/local/ensure-asyncapi-schema.sh)")
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert document["asyncapi"] == "3.0.0"


def test_every_event_type_is_a_message_on_its_topic_with_producer_and_key(document: dict) -> None:
    for producer, module in asyncapi.contract_modules().items():
        for event_type, payload in asyncapi.event_types(module):
            channel = document["channels"][topic_for(event_type)]
            assert event_type in channel["messages"]
            assert channel["x-producer"] == producer
            message = document["components"]["messages"][event_type]
            assert message["headers"]["properties"]["ce_type"]["const"] == event_type
            assert message["bindings"]["kafka"]["key"]["description"] == channel["x-key"]
            schema = document["components"]["schemas"][payload.__name__]
            assert set(schema["properties"]) == set(payload.model_fields)


def test_consumers_are_named_on_the_topics_they_read(document: dict) -> None:
    assert document["channels"]["referrals.referral"]["x-consumers"] == ["metrics"]
    assert document["channels"]["metrics.observation"]["x-consumers"] == ["actionplans"]
    assert "metrics.dead-letter" in document["channels"]
