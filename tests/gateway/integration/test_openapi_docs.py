"""One OpenAPI for the whole system, merged from the services' real documents, and Swagger UI
over it rendered by a real headless Chromium."""

import asyncio
import importlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.config import DEFAULT_ROUTES, Settings
from services.gateway.main import create_app
from services.gateway.routing import RouteTable
from tests import harness
from tests.gateway.conftest import SERVICES
from tests.gateway.serving import serving
from tests.gateway.stub_upstream import StubUpstream

pytestmark = pytest.mark.integration

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def real_service_document(name: str, tmp_path: Path, public_key: Path) -> dict[str, Any]:
    """A service's own OpenAPI document, generated from its app (no database needed)."""
    config = importlib.import_module(f"services.{name}.config")
    main = importlib.import_module(f"services.{name}.main")
    values = harness.test_settings_values(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path}/x.db", "x:1", public_key
    )
    return main.create_app(config.Settings(**values)).openapi()


def routed_operations(name: str, document: dict[str, Any]) -> set[tuple[str, str]]:
    routes = RouteTable(DEFAULT_ROUTES)
    return {
        (method, path)
        for path, item in document["paths"].items()
        if routes.service_for(path) == name
        for method in item
        if method in HTTP_METHODS
    }


@pytest.fixture
async def real_documents(
    upstreams: dict[str, StubUpstream], tmp_path: Path, public_key: Path
) -> dict[str, dict[str, Any]]:
    for name, stub in upstreams.items():
        stub.openapi = real_service_document(name, tmp_path, public_key)
    return {name: stub.openapi for name, stub in upstreams.items()}


async def test_the_merged_document_lists_every_service_operation_and_one_security_scheme(
    gateway: httpx.AsyncClient, real_documents: dict[str, dict[str, Any]]
) -> None:
    response = await gateway.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    merged_operations = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    for name in SERVICES:
        assert routed_operations(name, real_documents[name]) <= merged_operations, name
    assert ("post", "/oauth/token") in merged_operations
    assert set(document["components"]["securitySchemes"]) == {"OAuth2", "ClientBasic"}
    referral = document["paths"]["/api/v1/referrals"]["post"]
    assert referral["security"] == [{"OAuth2": ["referrals:write"]}]
    refs = _refs(document)
    assert refs and all(ref.split("/")[-1] in document["components"]["schemas"] for ref in refs)
    assert "x-unavailable-services" not in document


async def test_a_service_that_is_down_is_named_and_the_rest_is_served(
    gateway: httpx.AsyncClient,
    real_documents: dict[str, dict[str, Any]],
    upstreams: dict[str, StubUpstream],
) -> None:
    await upstreams["metrics"].stop()
    document = (await gateway.get("/openapi.json")).json()
    assert document["x-unavailable-services"] == ["metrics"]
    assert "/api/v1/referrals" in document["paths"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


@pytest.fixture
async def gateway_on_a_port(gateway_settings: Settings) -> AsyncIterator[str]:
    """The gateway on a real loopback port: a browser needs real HTTP."""
    async with serving(create_app(gateway_settings)) as url:
        yield url


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("REQUIRE_CHROMIUM") != "1",
    reason="chromium is not installed (deploy/local/ensure-chromium.sh installs it)",
)
async def test_swagger_ui_in_headless_chromium_lists_the_operations_of_every_service(
    gateway_on_a_port: str, real_documents: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    assert CHROMIUM is not None, "REQUIRE_CHROMIUM=1 but chromium is not installed"
    browser = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        gateway_on_a_port + "/docs",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    dom, _ = await asyncio.wait_for(browser.communicate(), timeout=90)
    page = dom.decode()
    assert 'class="swagger-ui' in page
    for name in SERVICES:
        for _method, path in routed_operations(name, real_documents[name]):
            assert f'data-path="{path}"' in page, (name, path)
    assert 'data-path="/oauth/token"' in page
