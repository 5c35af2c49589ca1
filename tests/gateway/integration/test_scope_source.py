"""Where the gateway's scope check comes from: the service's own document, read at start-up."""

import httpx
import pytest

from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration


async def test_a_scope_the_service_documents_is_enforced_from_the_first_request(
    gateway: httpx.AsyncClient, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    response = await gateway.post(
        "/api/v1/referrals/r1/close", headers=mint.headers("NO-HUB", "referrals:write")
    )
    assert response.status_code == 403
    assert response.json()["required_scope"] == "referrals:triage"
    assert upstreams["referrals"].received == []


async def test_a_route_its_service_does_not_document_is_left_to_the_service(
    gateway: httpx.AsyncClient, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    response = await gateway.delete(
        "/api/v1/referrals", headers=mint.headers("NO-HUB", "metrics:read")
    )
    assert response.status_code == 200  # the stand-in echoes; the real service answers 405
    assert upstreams["referrals"].received[-1]["method"] == "DELETE"
