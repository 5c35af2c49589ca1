"""A test client that speaks the referrals API the way a partner system would."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI

from tests.harness import TokenMinter

ALL = "referrals:read referrals:write referrals:triage"
# A task discloses the referral, so it carries a purpose and lawful basis like a share.
TASK_BASIS = {"purpose": "Visit and report back", "lawful_basis": "public_task"}


def referral_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "locality_code": "NO",
        "channel": "phone",
        "category_codes": ["anti_social_behaviour"],
        "summary": "Noise and youths gathering outside the shop",
    }
    body.update(overrides)
    return body


def place(uprn: str = "100110660543", address: str = "12 Derwent Street") -> dict[str, Any]:
    return {"subject": {"place": {"address": address, "postcode": "TS3 6LA", "uprn": uprn}}}


@dataclass
class Hub:
    app: FastAPI
    client: httpx.AsyncClient
    mint: TokenMinter
    now: datetime

    def as_(self, organisation: str, scopes: str = ALL) -> dict[str, str]:
        return self.mint.headers(organisation, scopes)

    async def create(self, org: str = "NO-HUB", **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/referrals", json=referral_body(**overrides), headers=self.as_(org)
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def read(self, referral_id: str, org: str = "NO-HUB") -> httpx.Response:
        return await self.client.get(f"/api/v1/referrals/{referral_id}", headers=self.as_(org))

    async def etag(self, referral_id: str, org: str = "NO-HUB") -> str:
        response = await self.read(referral_id, org)
        assert response.status_code == 200, response.text
        return response.headers["ETag"]

    async def act(
        self,
        referral_id: str,
        path: str,
        body: dict[str, Any] | None = None,
        org: str = "NO-HUB",
        scopes: str = ALL,
        if_match: str | None = "",
    ) -> httpx.Response:
        """POST to a referral's sub-path with its current ETag (or the one given, or none)."""
        headers = self.as_(org, scopes)
        if if_match == "":
            if_match = await self.etag(referral_id, org)
        if if_match is not None:
            headers["If-Match"] = if_match
        return await self.client.post(
            f"/api/v1/referrals/{referral_id}/{path}", json=body, headers=headers
        )

    async def triage(
        self, referral_id: str, track: str = "see_and_solve", org: str = "NO-HUB", **extra: Any
    ) -> httpx.Response:
        body = {"track": track, "rationale": "Discussed at locality triage", **extra}
        return await self.act(referral_id, "triage", body, org=org)
