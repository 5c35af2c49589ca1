"""Referrals use cases on a real SQLite file: a settings object, callers, a session factory."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.referrals.config import Settings
from services.referrals.main import SPEC
from services.referrals.models import Referral
from services.referrals.schemas import ReferralCreate, TriageRequest
from services.referrals.service import casework, intake
from shared.auth import Caller
from shared.etag import etag
from tests.usecases import migrated_template, sessions_on_copy

# Monday 1 June 2026, 10:00 in London (BST): a working day, as the integration tier uses.
MONDAY_10AM = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def caller(organisation: str, scopes: str = "referrals:read referrals:write") -> Caller:
    return Caller(
        subject=f"user@{organisation.lower()}",
        organisation=organisation,
        scopes=frozenset(scopes.split()),
    )


def new_referral(**overrides: Any) -> ReferralCreate:
    body: dict[str, Any] = {
        "locality_code": "NO",
        "channel": "phone",
        "category_codes": ["anti_social_behaviour"],
        "summary": "Youths gathering outside the shop",
    }
    return ReferralCreate.model_validate(body | overrides)


@pytest.fixture(scope="session")
async def referrals_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return await migrated_template(tmp_path_factory, "referrals", SPEC.migrations_dir)


@pytest.fixture
async def sessions(
    referrals_template: Path, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async for factory in sessions_on_copy(referrals_template, tmp_path):
        yield factory


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path)


class Desk:
    """One organisation's hands on the use cases, so tests read as the casework does."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.now = MONDAY_10AM

    async def receive(
        self, organisation: str = "NO-HUB", key: str | None = None, **overrides: Any
    ) -> intake.IntakeOutcome:
        async with self.sessions() as session:
            return await intake.create_referral(
                session,
                settings=self.settings,
                caller=caller(organisation),
                request=new_referral(**overrides),
                now=self.now,
                idempotency_key=key,
            )

    async def triage(
        self, referral_id: str, request: TriageRequest, if_match: str | None = None
    ) -> Referral:
        """Triage as the hub, on the referral's current ETag unless one is given."""
        if_match = if_match or await self.etag_of(referral_id)
        async with self.sessions() as session:
            return await casework.triage_referral(
                session,
                settings=self.settings,
                caller=caller("NO-HUB", "referrals:read referrals:triage"),
                referral_id=referral_id,
                if_match=if_match,
                request=request,
                now=self.now,
            )

    async def etag_of(self, referral_id: str) -> str:
        async with self.sessions() as session:
            referral = await session.get(Referral, referral_id)
            assert referral is not None
            return etag(referral.version)


@pytest.fixture
def desk(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Desk:
    return Desk(sessions, settings)
