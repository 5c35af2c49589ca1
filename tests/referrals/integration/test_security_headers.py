"""A domain service's answers carry the security headers too (shared/security_headers.py)."""

import pytest

from services.referrals.config import Settings
from services.referrals.main import create_app
from tests.harness import TokenMinter, running_app

pytestmark = pytest.mark.integration


async def test_personal_data_is_never_cached_and_hsts_is_sent_over_tls(
    referrals_settings: Settings, mint: TokenMinter
) -> None:
    headers = mint.headers("NP-HUB", "referrals:read")
    async with running_app(create_app(referrals_settings), "https://testserver") as client:
        listed = await client.get("/api/v1/referrals?locality_code=NP", headers=headers)
        refused = await client.get("/api/v1/referrals")
    assert (listed.status_code, refused.status_code) == (200, 401)
    for response in (listed, refused):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["strict-transport-security"].startswith("max-age=")
