"""Requests and answers pass through unchanged, except hop-by-hop headers; trace ids go along."""

import httpx
import pytest

from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration

SCOPES = "referrals:read referrals:write metrics:read"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_request_body_headers_and_query_reach_the_service_unchanged(
    gateway: httpx.AsyncClient, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    body = b'{"summary": "caf\xc3\xa9 \\u00e9", "n": 1}'
    headers = {
        **mint.headers("NO", SCOPES),
        "Content-Type": "application/json",
        "Idempotency-Key": "key-123",
        "If-Match": '"v3"',
        "Accept": "text/csv",
        "Connection": "keep-alive, x-hop",
        "X-Hop": "drop me",
        "Keep-Alive": "timeout=5",
        "X-Request-ID": "req-abc",
        "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
    }
    response = await gateway.post(
        "/api/v1/referrals/r%2F1?cursor=a%2Bb&limit=5", content=body, headers=headers
    )
    assert response.status_code == 201
    received = upstreams["referrals"].received[-1]
    assert received["body"] == body
    assert received["raw_path"] == "/api/v1/referrals/r%2F1?cursor=a%2Bb&limit=5"
    forwarded = {k.lower(): v for k, v in received["headers"].items()}
    assert forwarded["idempotency-key"] == "key-123"
    assert forwarded["if-match"] == '"v3"'
    assert forwarded["content-type"] == "application/json"
    assert forwarded["accept"] == "text/csv"
    assert forwarded["x-request-id"] == "req-abc"
    assert forwarded["traceparent"].startswith(f"00-{TRACE_ID}-")
    assert forwarded["traceparent"] != headers["traceparent"]
    assert forwarded["x-forwarded-for"] == "127.0.0.1"
    assert "x-hop" not in forwarded
    assert "keep-alive" not in forwarded
    assert response.headers["x-request-id"] == "req-abc"
    assert response.headers["etag"] == '"e1"'


async def test_a_request_without_ids_gets_a_new_request_id_and_trace(
    gateway: httpx.AsyncClient, mint: TokenMinter, upstreams: dict[str, StubUpstream]
) -> None:
    response = await gateway.get("/api/v1/referrals", headers=mint.headers("NO", SCOPES))
    forwarded = {k.lower(): v for k, v in upstreams["referrals"].received[-1]["headers"].items()}
    assert forwarded["x-request-id"] == response.headers["x-request-id"]
    assert forwarded["traceparent"].startswith("00-")


async def test_csv_body_etag_and_every_link_header_come_back_unchanged(
    gateway: httpx.AsyncClient, mint: TokenMinter
) -> None:
    response = await gateway.get("/api/v1/derived/export.csv", headers=mint.headers("NO", SCOPES))
    assert response.status_code == 200
    assert response.content == b'week,count\n2026-W01,12\n2026-W02,"1,5"\n'
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["etag"] == '"v7"'
    assert response.headers.get_list("link") == [
        '</api/v1/x?cursor=b>; rel="next"',
        '</api/v1/x>; rel="first"',
    ]
    assert "x-private-hop" not in response.headers


async def test_an_upstream_error_status_and_problem_body_pass_through(
    gateway: httpx.AsyncClient, mint: TokenMinter
) -> None:
    response = await gateway.post(
        "/api/v1/referrals/r1/conflict", json={}, headers=mint.headers("NO", SCOPES)
    )
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json() == {"title": "Conflict"}


async def test_a_body_over_the_limit_is_refused_with_413_before_reaching_the_service(
    gateway_settings,
    mint: TokenMinter,
    upstreams: dict[str, StubUpstream],  # type: ignore[no-untyped-def]
) -> None:
    from services.gateway.main import create_app
    from tests.harness import running_app

    settings = gateway_settings.model_copy(update={"max_body_bytes": 1000})
    async with running_app(create_app(settings)) as gateway:
        response = await gateway.post(
            "/api/v1/referrals", content=b"x" * 1001, headers=mint.headers("NO", SCOPES)
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert upstreams["referrals"].received == []
