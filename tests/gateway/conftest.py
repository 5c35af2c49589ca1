"""Gateway fixtures: stub upstreams on real ports, the gateway in-process on a fresh database."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.gateway.config import Settings
from services.gateway.main import create_app
from tests.gateway.stub_upstream import StubUpstream
from tests.harness import TEST_AUDIENCE, TEST_ISSUER, running_app
from tests.service_documents import SERVICES, service_document


@pytest.fixture
async def upstreams() -> AsyncIterator[dict[str, StubUpstream]]:
    """Stand-ins for the services that serve the services' real OpenAPI documents, from which
    the gateway learns every route's scope."""
    stubs = {
        name: await StubUpstream(name, openapi=service_document(name)).start() for name in SERVICES
    }
    try:
        yield stubs
    finally:
        for stub in stubs.values():
            await stub.stop()


def gateway_settings_values(
    tmp_path: Path, database_url: str, signing_keys: tuple[Path, Path], urls: dict[str, str]
) -> dict[str, object]:
    return {
        "environment": "test",
        "data_dir": tmp_path,
        "database_url": database_url,
        "auth_private_key_file": signing_keys[0],
        "auth_public_key_file": signing_keys[1],
        "auth_issuer": TEST_ISSUER,
        "auth_audience": TEST_AUDIENCE,
        "connect_timeout_s": 0.5,
        "read_timeout_s": 0.5,
        "breaker_failure_threshold": 3,
        "breaker_open_s": 30,
        "client_refresh_s": 0.2,
        **{f"{name}_url": url for name, url in urls.items()},
    }


@pytest.fixture
def gateway_settings(
    tmp_path: Path,
    sqlite_url: str,
    signing_keys: tuple[Path, Path],
    upstreams: dict[str, StubUpstream],
) -> Settings:
    urls = {name: stub.url for name, stub in upstreams.items()}
    return Settings(**gateway_settings_values(tmp_path, sqlite_url, signing_keys, urls))


@pytest.fixture
async def gateway(gateway_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in-process (ASGI client) in front of the stub upstreams."""
    async with running_app(create_app(gateway_settings)) as client:
        yield client
